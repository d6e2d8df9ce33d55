"""Whether a run's logs held anything readable: a verdict or a diagnosis needs at least one record to rest on.

A directory of garbage (random bytes, every number out of type) parses into zero events; the figures computed
from zero events are zeros and nulls, and predicates that read "no stall of 1000 ms" from them would answer
with confidence about logs nobody could read. This guard turns such answers into "nothing readable", with the
line counts that say why; which verdicts a run with *some* evidence deserves is the evidence inventory's job.
"""

from __future__ import annotations

from typing import Any

from stallscope.shared.rundir import RunDir


def readable_events(run: RunDir) -> int | None:
    """Records recognised in all of the run's logs (None when its metrics carry no line accounting)."""
    lines = run.get("lines")
    if not isinstance(lines, dict) or not lines:
        return None
    return sum(int(v.get("event", 0)) for v in lines.values() if isinstance(v, dict))


def unreadable_note(run: RunDir) -> str:
    """Why nothing could be read, from the line counts (unparseable and unreadable lines)."""
    lines: dict[str, Any] = run.get("lines") or {}
    bad = sum(int(v.get("unparseable", 0)) for v in lines.values())
    odd = sum(int(v.get("unreadable", 0)) for v in lines.values())
    total = sum(int(v.get("total", 0)) for v in lines.values())
    return (f"{run.run_id}: nothing readable in its logs ({total} lines: {bad} unparseable, {odd} with values "
            f"out of type, no recognised record)")


def has_nothing_readable(run: RunDir) -> bool:
    """True when the run's metrics say its logs gave no recognised record at all."""
    return readable_events(run) == 0


def input_findings(run: RunDir) -> list[str]:
    """What the report's first page says about the run's input: lines that could not be read, clock anomalies,
    files refused at ingest and gaps in broker numbering (the manifest's notes)."""
    out: list[str] = []
    lines: dict[str, Any] = run.get("lines") or {}
    for name, v in sorted(lines.items()):
        bad, odd = int(v.get("unparseable", 0)), int(v.get("unreadable", 0))
        if bad:
            out.append(f"{name}: {bad} unparseable line(s) (control or undecodable bytes)")
        if odd:
            out.append(f"{name}: {odd} unreadable record(s) with values out of type or range, not counted as events")
    if has_nothing_readable(run):
        out.append(unreadable_note(run))
    clock = run.get("clock") or {}
    for note in clock.get("notes") or []:
        ex = clock.get("examples") or []
        where = f" (first: {ex[0]['file']}" + (f":{ex[0]['line']}" if ex[0].get("line") else "") + ")" if ex else ""
        out.append(f"clock: {note}{where}")
    out.extend(str(n) for n in (run.manifest or {}).get("notes") or [])
    return out
