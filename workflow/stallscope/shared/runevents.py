"""A run's events.csv as the report's figures read it: the rows of the kinds they draw, each log's first event time,
or the reason the file is unusable.

Kept apart from ``shared.rundir`` (which reads it on first use and keeps it) because only the report needs it and
it is the one costly read of a run directory: a run's events.csv can hold millions of rows, so it is read in
chunks, without the ``text`` column, keeping only the rows the figures use. A missing or malformed file never
raises here: the report prints the reason as "evidence missing: <reason>".
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.shared.events import read_frames

EVENTS_FILE = "events.csv"


@dataclass(frozen=True)
class Event:
    """One row of events.csv, with the columns the figures use."""

    file: str
    line: int
    ts_us: int
    broker: int | None
    kind: str
    duration_ms: int | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class RunEvents:
    """The figures' rows of one run's events.csv, each log file's first event time (over all rows), and the reason
    the file is unusable (None when it was read)."""

    rows: list[Event] = field(default_factory=list)
    firsts: dict[str, int] = field(default_factory=dict)
    missing: str | None = None


#: the event kinds the figures draw; every other row of events.csv is skipped while reading
FIGURE_KINDS = frozenset({
    "stall_header", "stall_partial", "stall_payload", "phase", "ack_progress", "broker_acks", "fault",
    "fault_window", "ack_series",
})
_STALL_KINDS = frozenset({"stall_header", "stall_partial", "stall_payload"})
_CHUNK_ROWS = 200_000


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text else None


def _fields(raw: str, kind: str) -> dict[str, Any]:
    if kind in _STALL_KINDS or not raw:  # the figures read a stall's columns only; skip its JSON
        return {}
    fields = json.loads(raw)
    return fields if isinstance(fields, dict) else {}


def read_events(path: Path, kinds: frozenset[str] | None = FIGURE_KINDS,
                firsts: dict[str, int] | None = None) -> list[Event]:
    """Read the rows of events.csv whose kind is in ``kinds`` (all rows for None), without the ``text`` column;
    fill ``firsts`` (if given) with each log file's first event time, over all rows.

    Read in chunks with pandas, so memory follows the rows kept, not the file (a long line's text is never
    loaded). A malformed row is a StallscopeError naming the file (and the line when it is known).
    """
    import pandas as pd  # only the report's figures need it; keeps `import stallscope.shared` light

    cols = ("file", "line", "ts_us", "broker", "kind", "duration_ms", "fields")
    events: list[Event] = []
    for chunk in read_frames(path, cols, _CHUNK_ROWS):
        if firsts is not None:
            stamps = pd.to_numeric(chunk["ts_us"], errors="coerce")
            for name, ts in stamps.groupby(chunk["file"]).min().dropna().items():
                firsts[str(name)] = min(int(ts), firsts.get(str(name), int(ts)))
        if kinds is not None:
            chunk = chunk[chunk["kind"].isin(kinds)]
        for row in chunk.itertuples(index=False):
            try:
                events.append(Event(
                    file=row.file, line=int(row.line), ts_us=int(row.ts_us), broker=_int_or_none(row.broker),
                    kind=row.kind, duration_ms=_int_or_none(row.duration_ms),
                    fields=_fields(row.fields, row.kind),
                ))
            except (ValueError, TypeError) as exc:
                raise StallscopeError(path, None, f"bad events row (log {row.file}:{row.line}): {exc}") from None
    return events


def read_run_events(run_dir: Path) -> RunEvents:
    """The figures' events of ``run_dir``; a missing, unreadable or malformed events.csv gives its reason."""
    path = run_dir / EVENTS_FILE
    firsts: dict[str, int] = {}
    try:
        rows = read_events(path, firsts=firsts)
    except FileNotFoundError:
        return RunEvents(missing=f"{path}: missing events file")
    except (StallscopeError, UnicodeDecodeError, csv.Error, ValueError) as exc:  # the firsts read before it stay
        return RunEvents(firsts=firsts, missing=str(exc))
    return RunEvents(rows, firsts)
