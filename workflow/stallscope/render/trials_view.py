"""The report's trials table: per scenario, medians with 95 % intervals over its trials, and whether the
per-trial diagnosis (outcome) and bound agree, so a reader sees how much one run's figure and cause can be trusted.

Built from claims.json alone (``runs[].key_figures`` and ``diagnosis``), like the rest of the page.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from stallscope.shared.trialstats import median_ci

#: Figures of ``runs[].key_figures`` shown with their interval, and how each is printed.
SHOWN: tuple[tuple[str, str, str], ...] = (
    ("delivered_mb_s", "delivered MB/s", "{:.1f}"),
    ("ack_completeness", "ACK completeness", "{:.3f}"),
    ("stalls_during_run", "stalls during the run", "{:.0f}"),
)


def _interval(values: list[Any], fmt: str) -> str:
    ci = median_ci(v for v in values if isinstance(v, int | float) and not isinstance(v, bool))
    if ci["median"] is None:
        return "—"
    if ci["lo"] is None:
        return f"{fmt.format(ci['median'])} (1 trial)"
    return f"{fmt.format(ci['median'])} [{fmt.format(ci['lo'])}, {fmt.format(ci['hi'])}]"


def _agreement(labels: list[str]) -> str:
    """"client producer in 3 of 3" or "flow control 2, none 1 of 3 (disagree)"."""
    if not labels:
        return "—"
    counts = Counter(labels).most_common()
    n = len(labels)
    if len(counts) == 1:
        return f"{counts[0][0]} in {n} of {n}"
    return ", ".join(f"{k} {v}" for k, v in counts) + f" of {n} (disagree)"


def trial_rows(claims: dict[str, Any]) -> list[dict[str, str]]:
    """One row per scenario: trials, failed trials, each shown figure as median [95 % interval], and the
    agreement of the per-trial outcome, failure diagnosis and throughput bound."""
    by_scen: dict[str, list[dict[str, Any]]] = {}
    for r in claims.get("runs") or []:
        by_scen.setdefault(r["scenario"], []).append(r)
    diag: dict[str, list[dict[str, Any]]] = {}
    for d in claims.get("diagnosis") or []:
        diag.setdefault(d["scenario"], []).append(d)
    rows = []
    for scen in sorted(by_scen):
        runs = by_scen[scen]
        row = {"scenario": scen, "trials": str(len(runs)),
               "failed": str(sum(1 for r in runs if r.get("publish_ok") is False))}
        for key, _, fmt in SHOWN:
            row[key] = _interval([(r.get("key_figures") or {}).get(key) for r in runs], fmt)
        ds = diag.get(scen, [])
        row["outcome"] = _agreement([str(d.get("outcome") or "unknown").replace("_", " ") for d in ds])
        row["diagnosis"] = _agreement([str(d.get("bottleneck")).replace("_", " ") for d in ds])
        row["bound"] = _agreement([str((d.get("bound") or {}).get("cause") or "unknown").replace("_", " ")
                                   for d in ds])
        rows.append(row)
    return rows


HEADERS: tuple[str, ...] = tuple(label for _, label, _ in SHOWN)


def _ci_text(ci: dict[str, Any]) -> str:
    if ci["median"] is None:
        return "—"
    if ci["lo"] is None:
        return f"{ci['median']:.4g} (n={ci['n']})"
    return f"{ci['median']:.4g} [{ci['lo']:.4g}, {ci['hi']:.4g}] (n={ci['n']})"


def _ratio_text(ratio: dict[str, Any] | None) -> str:
    if not ratio or ratio.get("lo") is None:
        return ""
    return f" (ratio {ratio['ratio']:.3f} [{ratio['lo']:.3f}, {ratio['hi']:.3f}])"


def extension_text(ext: dict[str, Any] | None) -> str:
    """One sentence on the extra trials a scenario got (``comparison/1`` ``extension``), or ""."""
    if not ext:
        return ""
    if ext["stopped"] == "not extendable":
        return f"No extra trials: a side has no {ext['figure']} (its runs do not complete)."
    ratio = ext["ratio"]
    interval = (f"{ext['figure']} ratio {ratio['ratio']:.3f} [{ratio['lo']:.3f}, {ratio['hi']:.3f}]"
                if ratio.get("lo") is not None else f"no interval of the {ext['figure']} ratio")
    band = f"1 ± {ext['min_change']:.0%}"
    detect = (f"; these trials could detect a change of {ext['detectable_relative']:.1%}"
              if ext.get("detectable_relative") is not None else "")
    if ext["stopped"] == "not needed":
        return f"The configured trials decide ({interval}, outside {band} or within it){detect}."
    why = {"decided": f"the interval left {band}" if ext["decision"] == "change"
           else f"the interval lies within {band}", "cap": f"the cap of {ext['max_trials']} trials a side"}
    return (f"{ext['rounds']} extra pair{'s' if ext['rounds'] != 1 else ''} of trials, interleaved, until "
            f"{why.get(ext['stopped'], ext['stopped'])}: {interval}{detect}.")


def comparison_view(comp: dict[str, Any] | None) -> dict[str, Any] | None:
    """The before/after section from a ``comparison/1`` document (``stallscope compare``); None without one."""
    if not comp:
        return None
    scenarios = []
    for s in comp["scenarios"]:
        rows = [{"figure": r["figure"], "baseline": _ci_text(r["baseline"]), "candidate": _ci_text(r["candidate"]),
                 "change": ("—" if r["relative_change"] is None else f"{r['relative_change']:+.1%}")
                 + _ratio_text(r.get("ratio")),
                 "p": "—" if r["p_value"] is None else f"{r['p_value']:.3g}", "status": r["status"],
                 "note": r["note"]} for r in s["figures"]]
        scenarios.append({"scenario": s["scenario"], "verdict": s["problem_fixed"]["verdict"],
                          "reason": s["problem_fixed"]["reason"], "rows": rows,
                          "extension": extension_text(s.get("extension"))})
    overall = comp.get("problem_fixed") or {}
    return {"baseline": comp.get("baseline") or "—", "candidate": comp.get("candidate") or "—",
            "alpha": str(comp["alpha"]), "min_change": f"{comp.get('min_change', 0.05):.0%}",
            "verdict": overall.get("verdict", "—"), "reason": overall.get("reason", ""),
            "scenarios": scenarios, "only": comp["only_baseline"] + comp["only_candidate"]}
