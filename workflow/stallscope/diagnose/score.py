"""The points one cause earns in a run's diagnosis: shared by the scorers of every cause (diagnosis.py, liveness.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stallscope.shared.evidence import Evidence, metric
from stallscope.shared.rundir import RunDir


@dataclass
class Score:
    """Points for one cause, with the reasons and figures that earned them."""

    cause: str
    points: float = 0.0
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    #: The brokers the cause concerns, when it is one broker's (a paused or failed broker).
    brokers: list[int] = field(default_factory=list)

    def add(self, run: RunDir, points: float, reason: str, name: str, value: Any) -> None:
        """Add points with a reason and the figure behind it."""
        self.points += points
        self.reasons.append(reason)
        self.evidence.append(metric(run.run_id, name, value))
