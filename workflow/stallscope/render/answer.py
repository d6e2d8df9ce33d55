"""The report's first page: what ran on what, one row per scenario and one line per claim, with links down.

A reader of the assessment asks "did it hold up, and where do I look?" before anything else, so page 1 carries the
answer and every detail (run parameters, per-run diagnoses, figures per run, evidence) follows in sections that can
be skipped. The numbers come from ``summary.json`` (``shared.summary``), the same file a CI gate reads, so the page
and the data cannot disagree. Anchors: ``#scn-<scenario>`` for a scenario's section in the appendix,
``#run-<scenario>__t<n>`` for a run, ``#claim-<id>`` for a claim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stallscope.shared.rundir import run_slug

#: How each figure on page 1 is printed.
_FORMATS = {"delivered_mb_s": "{:,.0f}", "ack_completeness": "{:.3f}"}
_REASON_CHARS = 150


def anchor(kind: str, name: str) -> str:
    """A fragment id for a scenario (``scn``), run (``run``) or claim (``claim``): names come from configs and
    logs, so anything outside ``[A-Za-z0-9_.-]`` becomes ``-``."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def _words(label: str) -> str:
    return label.replace("_", " ")


def tally(counts: Mapping[str, int]) -> str:
    """"completed 3/3", or "none 3, client producer 2 of 5" when the trials disagree."""
    n = sum(counts.values())
    if not counts:
        return "—"
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    if len(items) == 1:
        return f"{_words(items[0][0])} {n}/{n}"
    return ", ".join(f"{_words(k)} {v}" for k, v in items) + f" of {n}"


def interval_text(ci: Mapping[str, Any], fmt: str) -> str:
    """"4,049 [3,873, 4,210]", "12 (1 trial)" or a dash."""
    if ci.get("median") is None:
        return "—"
    if ci.get("lo") is None:
        return f"{fmt.format(ci['median'])} (1 trial)"
    if ci["lo"] == ci["hi"] == ci["median"]:
        return f"{fmt.format(ci['median'])} (all {ci['n']})"
    return f"{fmt.format(ci['median'])} [{fmt.format(ci['lo'])}, {fmt.format(ci['hi'])}]"


def _agreement(s: Mapping[str, Any]) -> tuple[str, bool]:
    agree = s.get("agreement") or {}
    split = [k for k in ("outcome", "diagnosis", "bound") if agree.get(k) is False]
    if s["trials"] < 2:
        return "one trial", False
    return ("flaky: " + ", ".join(split) + " differ") if split else f"all {s['trials']} agree", bool(split)


def scenario_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario of ``summary.json``: expected cause, outcome, diagnosis and bound over the trials, the
    delivered MB/s and ACK completeness as median [95 % interval], and whether the trials agree."""
    rows = []
    for name, s in summary["scenarios"].items():
        text, flaky = _agreement(s)
        rows.append({
            "scenario": name, "href": "#" + anchor("scn", name),
            "runs": [{"label": t["run_id"].rsplit("/", 1)[-1], "href": "#" + anchor("run", run_slug(t["run_id"]))}
                     for t in s["per_trial"]],
            "expected": _words(s.get("expected_cause") or "—"),
            "outcome": tally(s.get("outcomes") or {}), "diagnosis": tally(s.get("diagnoses") or {}),
            "bound": tally(s.get("bounds") or {}),
            **{k: interval_text(s["figures"][k], fmt) for k, fmt in _FORMATS.items()},
            "agreement": text, "flaky": flaky,
        })
    return rows


def _short(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= _REASON_CHARS else reason[:_REASON_CHARS].rsplit(" ", 1)[0] + " …"


def verdict_rows(claims: Mapping[str, Any], summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One line per claim: its verdict (flaky marked), the scenarios it was judged on and the start of its reason;
    the title links to the claim's section."""
    judged = {v["id"]: v for v in summary["verdicts"]}
    every = set(summary["scenarios"])
    rows = []
    for c in claims["claims"]:
        on = judged.get(c["id"], {}).get("judged_on") or []
        rows.append({"id": c["id"], "href": "#" + anchor("claim", c["id"]), "title": c["title"],
                     "verdict": c["verdict"], "css": f"verdict-{c['verdict']}", "flaky": bool(c.get("flaky")),
                     "judged_on": (f"all {len(on)} scenarios" if len(on) > 3 and set(on) == every else ", ".join(on))
                     if on else "no run (code, benchmark or catalogue)",
                     "reason": _short(c.get("reason") or "")})
    return rows


def _sizes(runs: list[Mapping[str, Any]]) -> list[int]:
    return sorted({int(b) for r in runs if isinstance(b := (r.get("params") or {}).get("total_bytes"), int)})


def facts(claims: Mapping[str, Any], summary: Mapping[str, Any], fmt_bytes: Any) -> list[dict[str, str]]:
    """The page's header facts: SUT and stallscope commits, the machine, and what ran."""
    sut, tool = claims["sut"], claims["stallscope"]
    commit = sut.get("commit") or sut["id"]
    subject = sut.get("commit_subject") or ""
    subject = f" “{subject if len(subject) <= 70 else subject[:70].rsplit(' ', 1)[0] + ' …'}”" if subject else ""
    date = f", {sut['commit_date']}" if sut.get("commit_date") else ""
    dirty = " with uncommitted changes" if sut.get("is_dirty") else ""
    scen = summary["scenarios"]
    trials = sorted({s["trials"] for s in scen.values()})
    per = f"{trials[0]}" if len(trials) == 1 else f"{trials[0]}–{trials[-1]}" if trials else "0"
    sizes = _sizes(claims["runs"])
    size = (fmt_bytes(sizes[0]) if len(sizes) == 1 else f"{fmt_bytes(sizes[0])} to {fmt_bytes(sizes[-1])}") \
        if sizes else "unknown sizes"
    hosts = ", ".join(claims.get("hosts") or []) or "unknown"
    return [
        {"label": "System under test", "value": f"{sut['id']} (commit {commit[:12]}{subject}{date}){dirty}"},
        {"label": "stallscope", "value": f"{tool['version']}, commit {(tool.get('commit') or 'unknown')[:12]}"
                                         + (" with uncommitted changes" if tool.get("is_dirty") else "")},
        {"label": "Machine", "value": hosts},
        {"label": "What ran", "value": f"{len(scen)} scenarios × {per} trials = {len(claims['runs'])} runs, "
                                       f"{size} each; assessed {claims['generated_utc']}"},
    ]
