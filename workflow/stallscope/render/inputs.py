"""Read what the report renders: claims.json (validated) and, per run, metrics.json, events.csv, manifest.json.

Missing or invalid run files never raise: the run gets a ``missing`` reason that the report prints as
"evidence missing: <reason>". Only a claims.json that cannot be validated stops the report.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.shared.events import read_frames


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
class RunData:
    """A run's files as the report sees them; ``*_missing`` holds the reason a file is unusable."""

    run_id: str
    slug: str
    dir: Path
    metrics: dict[str, Any] | None
    metrics_missing: str | None
    events: list[Event] = field(default_factory=list)
    events_missing: str | None = None
    manifest_path: Path | None = None
    params: dict[str, Any] = field(default_factory=dict)  # claims.runs[].params (message size for MB/s)
    first_ts_us: dict[str, int] = field(default_factory=dict)  # log file -> its first event's time
    client_log: str | None = None  # the manifest's client log (its first line anchors a client CSV)


def run_slug(run_id: str) -> str:
    """Turn ``<scenario>/t<n>`` into the file stem ``<scenario>__t<n>``."""
    return run_id.replace("/", "__")


def _schema_path(kind: str) -> Path:
    return schemas.SCHEMA_DIR / schemas.KINDS[kind][0]


def read_validated(path: Path, kind: str) -> dict[str, Any]:
    """Read and validate ``path`` as ``kind``; a missing schema file is a StallscopeError naming both files."""
    try:
        return schemas.read_json(path, kind)
    except FileNotFoundError as exc:  # the schema file itself (a missing data file is a StallscopeError)
        raise StallscopeError(
            path, None, f"cannot validate {kind} file: schema {_schema_path(kind)} is missing ({exc.strerror})"
        ) from None


def read_claims(path: Path) -> dict[str, Any]:
    """Read claims.json through the claims schema; any failure is a StallscopeError naming the file."""
    return read_validated(path, "claims")


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text else None


#: the event kinds the figures draw; every other row of events.csv is skipped while reading
FIGURE_KINDS = frozenset({
    "stall_header", "stall_partial", "stall_payload", "phase", "ack_progress", "broker_acks", "fault",
    "fault_window", "ack_series",
})
_STALL_KINDS = frozenset({"stall_header", "stall_partial", "stall_payload"})
_CHUNK_ROWS = 200_000


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
    import pandas as pd  # only the report's inputs need it; keeps `import stallscope.render` light

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


def load_run_data(run: dict[str, Any], base: Path) -> RunData:
    """Load one run listed in claims.runs; ``dir`` is taken as given, relative paths against ``base`` too."""
    run_id = run["run_id"]
    run_dir = Path(run["dir"])
    if not run_dir.is_absolute() and not run_dir.exists() and (base / run_dir).exists():
        run_dir = base / run_dir
    slug = run_slug(run_id)
    if not run_dir.is_dir():
        reason = f"run directory {run_dir} not found"
        return RunData(run_id, slug, run_dir, None, reason, [], reason, None)
    metrics: dict[str, Any] | None = None
    metrics_missing: str | None = None
    try:
        metrics = read_validated(run_dir / "metrics.json", "metrics")
    except StallscopeError as exc:
        metrics_missing = str(exc)
    events: list[Event] = []
    events_missing: str | None = None
    firsts: dict[str, int] = {}
    try:
        events = read_events(run_dir / "events.csv", firsts=firsts)
    except FileNotFoundError:
        events_missing = f"{run_dir / 'events.csv'}: missing events file"
    except (StallscopeError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        events_missing = str(exc)
    manifest = run_dir / "manifest.json"
    client_log = None
    if manifest.is_file():
        try:
            client_log = (json.loads(manifest.read_text(encoding="utf-8")).get("files") or {}).get("client_log")
        except (ValueError, OSError, AttributeError):
            client_log = None
    return RunData(run_id, slug, run_dir, metrics, metrics_missing, events, events_missing,
                   manifest if manifest.is_file() else None, dict(run.get("params") or {}), firsts,
                   client_log if isinstance(client_log, str) else None)
