"""What a predicate sees: the runs (manifest + metrics), the configured scenarios, and optional extra inputs.

Runs are loaded only through ``stallscope.schemas.read_json``. A run whose manifest or metrics cannot be read,
or whose harness failed, is kept with ``harness_ok`` false and the error text, so claims that need it get
``harness_error`` instead of a verdict about the broker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.panel import kinds

#: A run this large or larger counts as the original failure's size (10 GiB; 90 % to allow rounding).
ORIGINAL_TOTAL_BYTES = int(0.9 * 10 * 1024**3)
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
class Run:
    """One run directory as the panel sees it."""

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
    def kind_params(self) -> dict[str, Any]:
        """The parameters a run is classified by (``panel.kinds``): the manifest's, else what the logs showed."""
        p = dict(dig(self.manifest, "params", {}) or {})
        if not kinds.run_bytes(p) and self.get("acks.expected") and p.get("message_size"):
            p["message_count"] = self.get("acks.expected")
        return p

    @property
    def is_superseded(self) -> bool:
        """An attempt the driver retried: the trial's result is a later attempt, so no claim is judged on it."""
        return dig(self.manifest, "attempt.final") is False

    @property
    def is_large(self) -> bool:
        """At least 1 GiB was to be published (not the 10 MB e2e)."""
        return (self.total_bytes or 0) >= LARGE_RUN_BYTES


@dataclass(frozen=True)
class Context:
    """Everything the predicates read."""

    runs: tuple[Run, ...]
    configured: dict[str, dict[str, Any]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    extra_paths: dict[str, str] = field(default_factory=dict)

    def for_scenarios(self, scenarios: list[str] | tuple[str, ...]) -> list[Run]:
        """Runs whose scenario is named (``*`` matches every run); attempts superseded by a retry never match.

        An ingested run has no scenario of ours: it matches a named scenario when it is of that scenario's kind
        (its bytes, order and ACK level; ``panel.kinds``), so a claim about the 10 MB e2e run is not judged on a
        10 GiB run, nor on a run whose size is unknown.
        """
        live = [r for r in self.runs if not r.is_superseded]
        if "*" in scenarios:
            return live
        return [r for r in live if r.scenario in scenarios or (
            r.origin == "ingested" and kinds.matching_scenarios(r.kind_params, scenarios, self.configured))]

    def extra(self, name: str) -> Any:
        """An optional extra input's parsed JSON, None when absent or unreadable."""
        return self.extras.get(name)


def load_run(run_dir: Path) -> Run:
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
    return Run(run_dir, str(run_id), str(scenario), manifest, metrics, tuple(errors))


def load_config_scenarios(config_path: Path | None) -> dict[str, dict[str, Any]]:
    """The ``scenarios`` map of config/config.yaml (empty without a config)."""
    if config_path is None:
        return {}
    import yaml

    try:
        data = schemas.load_yaml(Path(config_path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StallscopeError(config_path, None, f"cannot read the config: {exc}") from None
    scen = data.get("scenarios") if isinstance(data, dict) else None
    if scen is not None and not isinstance(scen, dict):
        raise StallscopeError(config_path, None, "`scenarios` must be a map of name -> settings")
    return dict(scen or {})


def load_extras(paths: dict[str, Path]) -> dict[str, Any]:
    """Parse each optional extra JSON input that exists; absent or broken files are left out."""
    out: dict[str, Any] = {}
    for name, p in paths.items():
        try:
            out[name] = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out
