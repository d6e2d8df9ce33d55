"""What a predicate sees: the runs (``shared.rundir.RunDir``), the configured scenarios, and optional extra inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope.panel import kinds
from stallscope.shared.config import load_config
from stallscope.shared.rundir import RunDir


@dataclass(frozen=True)
class Context:
    """Everything the predicates read."""

    runs: tuple[RunDir, ...]
    configured: dict[str, dict[str, Any]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    extra_paths: dict[str, str] = field(default_factory=dict)
    #: Each run's throughput bound as diagnosed (``stallscope diagnose``), by run directory.
    bounds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_scenarios(self, scenarios: list[str] | tuple[str, ...]) -> list[RunDir]:
        """Runs whose scenario is named (``*`` matches every run); attempts superseded by a retry never match.

        An ingested run has no scenario of ours: it matches a named scenario when it is of that scenario's kind
        (its bytes, order and ACK level; ``panel.kinds``), so a claim about the 10 MB e2e run is not judged on a
        10 GiB run, nor on a run whose size is unknown.
        """
        live = [r for r in self.runs if not r.is_superseded]
        if "*" in scenarios:
            return live
        return [r for r in live if r.scenario in scenarios or (
            r.origin == "ingested" and kinds.matching_scenarios(kinds.kind_params(r), scenarios, self.configured))]

    def bound_of(self, run: RunDir) -> dict[str, Any] | None:
        """The run's diagnosed throughput bound, None when it was not diagnosed."""
        return self.bounds.get(str(run.dir))

    def extra(self, name: str) -> Any:
        """An optional extra input's parsed JSON, None when absent or unreadable."""
        return self.extras.get(name)


def load_config_scenarios(config_path: Path | None) -> dict[str, dict[str, Any]]:
    """The ``scenarios`` map of the config the assessment was given (empty without one, e.g. ``assess-logs``),
    read and validated as every stage reads it (``shared.config``); a bad config is a StallscopeError naming it."""
    if config_path is None:
        return {}
    return dict(load_config(config_path)["scenarios"])


def load_extras(paths: dict[str, Path]) -> dict[str, Any]:
    """Parse each optional extra JSON input that exists; absent or broken files are left out."""
    out: dict[str, Any] = {}
    for name, p in paths.items():
        try:
            out[name] = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out
