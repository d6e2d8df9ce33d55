"""One run directory as every stage reads it: its manifest and metrics, each validated and read once, its run id
and slug, and (for the report) its events.csv, read on first use and kept.

Why one reader: the stages judge and show the same runs and must see them alike. A file that cannot be read never
raises here: its reason is kept (``manifest_missing``, ``metrics_missing``, ``events_missing``), so the report says
"evidence missing: <reason>", and a run whose manifest or metrics cannot be read, or whose harness failed, is kept
with ``harness_ok`` false and the error text, so what needs it says ``harness_error`` instead of a verdict about
the broker. A stage that cannot go on without the manifest (metrics, parse) asks for it with ``require_manifest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.shared.runevents import Event, RunEvents, read_run_events

#: Runs at least this large are "load" runs; below it (the 10 MB e2e) a run cannot speak for the 10 GiB case.
LARGE_RUN_BYTES = 1024**3
MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.json"


def run_slug(run_id: str) -> str:
    """A run id as a file stem and an HTML anchor: ``<scenario>/t<n>`` -> ``<scenario>__t<n>`` (the report's
    ``metrics/``, ``manifests/`` and ``series_*.svg`` files and its ``#run-`` links all use this one spelling)."""
    return run_id.replace("/", "__")


def dig(data: Any, path: str, default: Any = None) -> Any:
    """Return ``data[a][b]...`` for ``path`` "a.b..."; ``default`` when any step is missing or null."""
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict) and cur.get(part) is not None:
            cur = cur[part]
        else:
            return default
    return cur


@dataclass(frozen=True)
class RunDir:
    """One run directory: its id, scenario, manifest and metrics (None when unreadable, the reason beside each),
    harness errors, and its events as the report's figures read them (``figure_events``)."""

    dir: Path
    run_id: str
    scenario: str
    manifest: dict[str, Any] | None
    metrics: dict[str, Any] | None
    harness_errors: tuple[str, ...] = ()
    manifest_missing: str | None = None
    metrics_missing: str | None = None
    #: events.csv as read: None until ``figure_events`` is first asked for (a test may give it)
    events_read: RunEvents | None = field(default=None, compare=False, repr=False)

    @property
    def slug(self) -> str:
        """The run id as a file stem (``run_slug``)."""
        return run_slug(self.run_id)

    def require_manifest(self) -> dict[str, Any]:
        """The manifest, for a stage that cannot go on without it; else a StallscopeError with the reason."""
        if self.manifest is None:
            raise StallscopeError(None, None, self.manifest_missing or f"{self.dir / MANIFEST_FILE}: not read")
        return self.manifest

    @property
    def client_log(self) -> str | None:
        """The manifest's (primary) client log, whose first line anchors a client time-series CSV."""
        name = dig(self.manifest, "files.client_log")
        return name if isinstance(name, str) else None

    @property
    def figure_events(self) -> RunEvents:
        """events.csv as the report's figures read it (``shared.runevents``): read on first use, then kept."""
        read = self.events_read
        if read is None:
            gone = _dir_missing(self.dir)
            read = RunEvents(missing=gone) if gone else read_run_events(self.dir)
            object.__setattr__(self, "events_read", read)  # a cache, not a change: every other field stays as read
        return read

    @property
    def events(self) -> list[Event]:
        """The rows of events.csv the figures draw (empty when it is unusable)."""
        return self.figure_events.rows

    @property
    def events_missing(self) -> str | None:
        """Why events.csv is unusable, None when it was read."""
        return self.figure_events.missing

    @property
    def first_ts_us(self) -> dict[str, int]:
        """Each log file's first event time (µs), from events.csv."""
        return self.figure_events.firsts

    @property
    def harness_ok(self) -> bool:
        """True when the run worked and its metrics were readable."""
        return not self.harness_errors and self.metrics is not None

    @property
    def metrics_or_empty(self) -> dict[str, Any]:
        """The metrics (empty when unreadable)."""
        return self.metrics or {}

    def get(self, path: str, default: Any = None) -> Any:
        """A metrics figure by dotted path (``acks.completeness``), ``default`` when unknown."""
        return dig(self.metrics, path, default)

    def param(self, name: str) -> Any:
        """A resolved scenario parameter from the manifest, None when unknown."""
        return dig(self.manifest, f"params.{name}")

    def fault(self, name: str) -> Any:
        """A fault knob's value from the manifest, None when not set."""
        return dig(self.manifest, f"faults.{name}")

    @property
    def sut_id(self) -> str:
        """SUT id from the manifest (``unknown`` when absent)."""
        return str(dig(self.manifest, "sut.id", dig(self.metrics, "sut", "unknown")))

    @property
    def origin(self) -> str | None:
        """``run`` (made here) or ``ingested`` (logs from elsewhere)."""
        return dig(self.manifest, "origin", dig(self.metrics, "origin"))

    @property
    def hostname(self) -> str | None:
        """Host name from the manifest."""
        return dig(self.manifest, "host.hostname")

    @property
    def total_bytes(self) -> int | None:
        """Bytes the run was to publish (params), else bytes received."""
        return self.param("total_bytes") or self.get("received.total.bytes")

    @property
    def is_superseded(self) -> bool:
        """An attempt the driver retried: the trial's result is a later attempt, so no claim is judged on it."""
        return dig(self.manifest, "attempt.final") is False

    @property
    def is_large(self) -> bool:
        """At least 1 GiB was to be published (not the 10 MB e2e)."""
        return (self.total_bytes or 0) >= LARGE_RUN_BYTES


def _dir_missing(run_dir: Path) -> str | None:
    return None if run_dir.is_dir() else f"run directory {run_dir} not found"


def _read(path: Path, kind: str) -> tuple[dict[str, Any] | None, str | None]:
    """A validated file and None, or None and the reason it cannot be used."""
    try:
        return schemas.read_json(path, kind), None
    except (StallscopeError, OSError) as exc:
        return None, str(exc)


def read_run_dir(run_dir: Path, read_metrics: bool = True) -> RunDir:
    """Read ``manifest.json`` and ``metrics.json`` of one run directory; failures become harness errors.

    ``read_metrics`` False: the run is not analysed yet (the metrics stage reads it to write metrics.json), so
    metrics.json is not read and its absence is no error."""
    errors: list[str] = []
    gone = _dir_missing(run_dir)
    manifest_missing = metrics_missing = gone
    manifest: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    if gone:
        errors.append(gone)
    else:
        manifest, manifest_missing = _read(run_dir / MANIFEST_FILE, "manifest")
        if read_metrics:
            metrics, metrics_missing = _read(run_dir / METRICS_FILE, "metrics")
        errors.extend(e for e in (manifest_missing, metrics_missing) if e)
    if manifest is not None and not dig(manifest, "harness.ok", True):
        errors.extend(dig(manifest, "harness.errors", []) or ["harness reported a failure"])
    if metrics is not None and metrics.get("harness_ok") is False and not errors:
        errors.append("metrics say the harness failed (harness_ok false)")
    run_id = dig(manifest, "run_id") or dig(metrics, "run_id") or f"{run_dir.parent.name}/{run_dir.name}"
    scenario = dig(manifest, "scenario") or dig(metrics, "scenario") or run_dir.parent.name
    return RunDir(run_dir, str(run_id), str(scenario), manifest, metrics, tuple(errors),
                  manifest_missing, metrics_missing)
