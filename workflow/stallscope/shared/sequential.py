"""More trials until a before/after can say something: interleave baseline and candidate, stop when decided.

Three trials a side can never reach p ≤ 0.05 with a rank test, so a comparison at the shipped defaults could
never detect a change. Here the comparison of one key figure asks for another (baseline, candidate) pair of
trials until the 95 % interval of the ratio of medians excludes 1 ± the smallest change worth reporting (it lies
beyond: a change; within: none worth reporting), or a side reaches the cap. The pairs alternate which side runs
first (ABBA), so a drift of the machine's speed falls on both sides alike. Nothing here touches a file: the caller
passes ``draw(side, index)``, which runs one trial and returns its figure (None when the run shows none).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stallscope.shared.compare import ALPHA, MIN_CHANGE, interval_decides, smallest_detectable, smallest_p
from stallscope.shared.trialstats import ratio_ci

#: Default cap on the trials per side (config ``compare.max_trials``), the configured trials included.
MAX_TRIALS = 12
BASELINE, CANDIDATE = "baseline", "candidate"


@dataclass
class Extension:
    """The trials of one figure on both sides after extending, and why it stopped."""

    figure: str
    baseline: list[float]
    candidate: list[float]
    min_change: float
    max_trials: int
    rounds: int = 0
    stopped: str = "not needed"
    runs: list[str] = field(default_factory=list)

    def decision(self) -> str:
        """"change", "no change" or "undecided", from the ratio interval and whether the rank test can reach α."""
        got = interval_decides(ratio_ci(self.candidate, self.baseline), self.min_change)
        if got is None or smallest_p(len(self.baseline), len(self.candidate)) > ALPHA:
            return "undecided"
        return got

    def to_dict(self) -> dict[str, Any]:
        """The ``extension`` record of ``comparison.schema.json``."""
        mde = smallest_detectable(self.baseline, self.candidate)
        med = statistics.median(self.baseline) if self.baseline else None
        return {"figure": self.figure, "min_change": self.min_change, "max_trials": self.max_trials,
                "rounds": self.rounds, "stopped": self.stopped, "decision": self.decision(),
                "ratio": ratio_ci(self.candidate, self.baseline),
                "detectable_relative": mde / abs(med) if mde is not None and med else None, "runs": list(self.runs)}


def needs_more(baseline: Sequence[float], candidate: Sequence[float], min_change: float = MIN_CHANGE) -> bool:
    """Whether another pair of trials is wanted: the rank test cannot reach α yet, or the ratio interval still
    holds 1 - ``min_change`` or 1 + ``min_change``."""
    if smallest_p(len(baseline), len(candidate)) > ALPHA:
        return True
    return interval_decides(ratio_ci(candidate, baseline), min_change) is None


def extend(figure: str, baseline: Sequence[float], candidate: Sequence[float],
           draw: Callable[[str, int], tuple[float | None, str]], min_change: float = MIN_CHANGE,
           max_trials: int = MAX_TRIALS) -> Extension:
    """Run (baseline, candidate) pairs through ``draw`` until decided or ``max_trials`` per side.

    ``draw(side, k)`` runs the k-th trial of ``side`` (1-based over all its trials) and returns the figure and the
    run's name. A side with a value missing (the run showed none) is not extended: more such runs would not decide.
    """
    ext = Extension(figure, [float(v) for v in baseline], [float(v) for v in candidate], min_change, max_trials)
    if not ext.baseline or not ext.candidate:
        ext.stopped = "not extendable"
        return ext
    while needs_more(ext.baseline, ext.candidate, min_change):
        if max(len(ext.baseline), len(ext.candidate)) >= max_trials:
            ext.stopped = "cap"
            return ext
        order = (BASELINE, CANDIDATE) if ext.rounds % 2 == 0 else (CANDIDATE, BASELINE)
        for side in order:
            values = ext.baseline if side == BASELINE else ext.candidate
            value, name = draw(side, len(values) + 1)
            ext.runs.append(name)
            if value is None:
                ext.stopped = "not extendable"
                return ext
            values.append(float(value))
        ext.rounds += 1
    ext.stopped = "decided" if ext.rounds else "not needed"
    return ext
