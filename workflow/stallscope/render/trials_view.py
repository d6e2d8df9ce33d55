"""The report's before/after section from ``stallscope compare``'s comparison/1: per scenario and key figure both
intervals, the ratio of medians, the rank test's result, and the extra trials the comparison ran to decide.

(The per-scenario trials table is page 1's, ``render.answer``, from summary.json.)
"""

from __future__ import annotations

from typing import Any


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
        head = next((r for r in rows if r["figure"] == "delivered_mb_s"), None)
        changed = [r["figure"] for r in rows if r["status"] in ("improved", "regressed", "changed")]
        scenarios.append({"scenario": s["scenario"], "verdict": s["problem_fixed"]["verdict"],
                          "reason": s["problem_fixed"]["reason"], "rows": rows, "delivered": head,
                          "changed": ", ".join(changed) if changed else "none",
                          "extension": extension_text(s.get("extension"))})
    overall = comp.get("problem_fixed") or {}
    return {"baseline": comp.get("baseline") or "—", "candidate": comp.get("candidate") or "—",
            "alpha": str(comp["alpha"]), "min_change": f"{comp.get('min_change', 0.05):.0%}",
            "verdict": overall.get("verdict", "—"), "reason": overall.get("reason", ""),
            "scenarios": scenarios, "only": comp["only_baseline"] + comp["only_candidate"]}
