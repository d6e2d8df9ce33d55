"""The report's words for each run's outcome, throughput bound and evidence inventory, and the first-page notes
on runs that could hardly be read (a run judged on nothing must say so before any verdict is read)."""

from __future__ import annotations

from typing import Any

from stallscope.shared.vocabulary import UNKNOWN

_SOURCES = (("broker_logs", "broker logs"), ("client_logs", "client logs"), ("tcp_info", "TCP_INFO"),
            ("tcp_phases", "TCP_INFO per phase"), ("producer_profile", "producer profile"),
            ("per_broker_sent", "per-broker sent"), ("per_broker_acks", "per-broker ACKs"), ("banner", "banner"))


def _words(name: str | None) -> str:
    return (name or UNKNOWN).replace("_", " ")


def evidence_text(inv: dict[str, Any] | None) -> tuple[str, str]:
    """(held, missing) source lists of one run; the readable share and stall-timer state go with the held ones."""
    if not isinstance(inv, dict):
        return "not recorded (metrics predate the inventory)", ""
    held, missing = [], []
    for key, label in _SOURCES:
        v = inv.get(key)
        if isinstance(v, bool):
            (held if v else missing).append(label)
        else:
            (held if v else missing).append(f"{label} ({v})" if v else label)
    timers = (inv.get("stall_timers") or {}).get("state", "unknown")
    (held if timers == "yes" else missing).append(f"stall timers {'known present' if timers == 'yes' else timers}")
    share = inv.get("readable_share")
    held.append("readable lines " + ("none" if share is None else f"{share:.1%}"))
    return ", ".join(held), ", ".join(missing)


def run_facts(r: dict[str, Any]) -> dict[str, str]:
    """Outcome, bound (with confidence, summary and what was missing) and evidence of one claims.json run."""
    b = r.get("bound") or {}
    held, missing = evidence_text(r.get("evidence"))
    return {
        "outcome": _words(r.get("outcome")),
        "bound": _words(b.get("cause")), "bound_confidence": b.get("confidence") or "",
        "bound_summary": b.get("summary") or "", "bound_missing": "; ".join(b.get("missing") or []),
        "evidence_held": held, "evidence_missing": missing or "—",
    }


def unreadable_notes(runs: list[dict[str, Any]]) -> list[str]:
    """One first-page sentence per run judged on nothing (most lines unreadable or no event recognised)."""
    notes = []
    for r in runs:
        inv = r.get("evidence")
        if isinstance(inv, dict) and inv.get("judged_on_nothing"):
            notes.append(f"Run {r['run_id']}: {inv.get('lines_unreadable')} of {inv.get('lines_total')} lines were "
                         f"unreadable and {inv.get('events')} events recognised: it is judged on nothing, and no "
                         "verdict or bound about it is confident.")
    return notes


def sut_facts(runs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What the SUT adapter measured, for page 1: the build's wall time and, per process, the largest peak
    resident memory over the runs (a real broker's runs record them; other runs add nothing)."""
    builds: set[str] = set()
    peaks: dict[str, int] = {}
    counted = 0
    for r in runs:
        res = r.get("resources")
        if not isinstance(res, dict):
            continue
        counted += 1
        if isinstance(res.get("build_wall_s"), (int, float)):
            jobs = f" with {res['build_jobs']} jobs" if res.get("build_jobs") else ""
            builds.add(f"{res['build_wall_s']:,.0f} s{jobs}")
        for name, kb in (res.get("peak_rss_kb") or {}).items():
            peaks[name] = max(peaks.get(name, 0), int(kb))
    facts = []
    if builds:
        facts.append({"label": "build (measured)", "value": "; ".join(sorted(builds))})
    if peaks:
        facts.append({"label": f"peak memory (largest of {counted} runs)",
                      "value": ", ".join(f"{n} {kb / 1024:,.0f} MB" for n, kb in sorted(peaks.items()))})
    return facts
