"""One run directory as the stages after analysis read it: its manifest and metrics, each validated and read once.

Why one reader: the diagnosis and the panel judge the same runs and must see them alike. A run whose manifest or
metrics cannot be read, or whose harness failed, is kept with ``harness_ok`` false and the error text, so what
needs it says ``harness_error`` instead of a verdict about the broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError

#: Runs at least this large are "load" runs; below it (the 10 MB e2e) a run cannot speak for the 10 GiB case.
LARGE_RUN_BYTES = 1024**3


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
    """One run directory: its id, scenario, manifest and metrics (None when unreadable) and harness errors."""

    dir: Path
    run_id: str
    scenario: str
    manifest: dict[str, Any] | None
    metrics: dict[str, Any] | None
    harness_errors: tuple[str, ...] = ()

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


def read_run_dir(run_dir: Path) -> RunDir:
    """Read ``manifest.json`` and ``metrics.json`` of one run directory; failures become harness errors."""
    errors: list[str] = []
    manifest: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    try:
        manifest = schemas.read_json(run_dir / "manifest.json", "manifest")
    except (StallscopeError, OSError) as exc:
        errors.append(str(exc))
    try:
        metrics = schemas.read_json(run_dir / "metrics.json", "metrics")
    except (StallscopeError, OSError) as exc:
        errors.append(str(exc))
    if manifest is not None and not dig(manifest, "harness.ok", True):
        errors.extend(dig(manifest, "harness.errors", []) or ["harness reported a failure"])
    if metrics is not None and metrics.get("harness_ok") is False and not errors:
        errors.append("metrics say the harness failed (harness_ok false)")
    run_id = dig(manifest, "run_id") or dig(metrics, "run_id") or f"{run_dir.parent.name}/{run_dir.name}"
    scenario = dig(manifest, "scenario") or dig(metrics, "scenario") or run_dir.parent.name
    return RunDir(run_dir, str(run_id), str(scenario), manifest, metrics, tuple(errors))
