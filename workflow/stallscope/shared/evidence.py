"""Evidence: a log line (file, line, excerpt) or a figure (metric, value) of one run, as the outputs cite it.

Shared because the diagnosis and the panel's verdicts cite evidence alike (``claims.json``'s evidence items).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stallscope.shared.excerpt import cap_excerpt


@dataclass(frozen=True)
class Evidence:
    """One item of evidence: a log line (file, line, excerpt) or a figure (metric, value), of one run."""

    run_id: str | None
    file: str | None = None
    line: int | None = None
    excerpt: str | None = None
    metric: str | None = None
    value: float | int | str | bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the ``claims.json`` form; the excerpt is capped (``cap_excerpt``): file and line lead to the rest."""
        return {
            "run_id": self.run_id,
            "file": self.file,
            "line": self.line,
            "excerpt": cap_excerpt(self.excerpt),
            "metric": self.metric,
            "value": self.value,
        }


def metric(run_id: str, name: str, value: Any) -> Evidence:
    """Evidence of a figure: ``{metric: "acks.completeness", value: 0.31}``."""
    if isinstance(value, float):
        value = round(value, 4)
    if value is not None and not isinstance(value, (int, float, str, bool)):
        value = str(value)
    return Evidence(run_id=run_id, metric=name, value=value)
