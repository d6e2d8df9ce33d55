"""Verdicts and evidence: the records a predicate returns, the roll-up table, and ``check_safe``.

Like Jepsen's checkers: missing data gives ``inconclusive`` plus a reason, never ``refuted``; a predicate
that raises gives ``inconclusive`` with ``error`` set; verdicts merge through one priority table and an
unknown verdict string is rejected.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from stallscope.shared.evidence import Evidence
from stallscope.shared.vocabulary import (  # noqa: F401 - the verdict names, re-exported for the predicates
    HARNESS_ERROR,
    INCONCLUSIVE,
    NOT_RUN,
    OVERCLAIM,
    REFUTED,
    SUPPORTED,
    VERDICTS,
)

#: Roll-up priority, highest first: harness_error > refuted > overclaim > inconclusive > not_run > supported.
PRIORITY: tuple[str, ...] = VERDICTS
VERDICTS: frozenset[str] = frozenset(PRIORITY)

#: At most this many log citations per claim and ref kind (the rest is counted in ``evidence_count``).
MAX_CITES_PER_KIND = 5
#: At most this many evidence items per claim in claims.json, whatever the number of runs (``evidence_count``
#: keeps the exact total), so the file's size does not grow with the runs or the events.
MAX_EVIDENCE_PER_CLAIM = 40


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict with the reason (one sentence from the figures), runs used, evidence and settle hint."""

    claim_id: str
    verdict: str
    reason: str
    runs: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    evidence_count: int = 0
    settle: str | None = None
    error: str | None = None
    #: Per-trial verdicts, (trial, verdict), when the claim was judged trial by trial (``panel.overtrials``).
    trials: tuple[tuple[int, str], ...] = ()
    flaky: bool = False

    def __post_init__(self) -> None:
        check_verdict(self.verdict)


def check_verdict(verdict: str) -> str:
    """Return ``verdict`` if it is one of the six; raise ``ValueError`` otherwise."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}; expected one of {', '.join(PRIORITY)}")
    return verdict


def worst_verdict(verdicts: Iterable[str]) -> str:
    """Roll verdicts up to the highest-priority one (``supported`` for an empty input would claim too much,
    so an empty input gives ``not_run``)."""
    best: str | None = None
    for v in verdicts:
        check_verdict(v)
        if best is None or PRIORITY.index(v) < PRIORITY.index(best):
            best = v
    return NOT_RUN if best is None else best


def make(
    claim_id: str,
    verdict: str,
    reason: str,
    runs: Iterable[str] = (),
    evidence: Iterable[Evidence] = (),
    settle: str | None = None,
) -> Verdict:
    """Build a verdict; ``evidence_count`` is the number of evidence items given."""
    ev = tuple(evidence)
    return Verdict(claim_id, verdict, reason, tuple(dict.fromkeys(runs)), ev, len(ev), settle, None)


def cite_refs(run_id: str, refs: dict[str, Any] | None, names: Iterable[str]) -> tuple[list[Evidence], int]:
    """Cite log lines from a run's metrics ``refs``: at most 5 per name; return (items, total count)."""
    items: list[Evidence] = []
    total = 0
    for name in names:
        ref = (refs or {}).get(name)
        if not isinstance(ref, dict):
            continue
        lines = ref.get("items") or []
        total += int(ref.get("count") or len(lines))
        for it in lines[:MAX_CITES_PER_KIND]:
            items.append(
                Evidence(run_id=run_id, file=it.get("file"), line=it.get("line"), excerpt=it.get("text"), metric=name)
            )
    return items, total


def check_safe(claim_id: str, fn: Callable[[], Verdict], settle: str | None = None) -> Verdict:
    """Run a predicate; an exception becomes ``inconclusive`` with ``error`` set (Jepsen's check-safe)."""
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - any predicate bug must not stop the assessment
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        return Verdict(
            claim_id,
            INCONCLUSIVE,
            "the predicate failed, so the data was not judged",
            settle=settle,
            error=f"{type(exc).__name__}: {exc}{where}",
        )
    if not isinstance(result, Verdict):
        return Verdict(claim_id, INCONCLUSIVE, "the predicate returned no verdict", settle=settle,
                       error=f"predicate returned {type(result).__name__}")
    return result


def with_settle(v: Verdict, settle: str | None) -> Verdict:
    """Attach the settle hint when the verdict is not settled (anything but supported/refuted)."""
    if v.verdict in (SUPPORTED, REFUTED):
        return replace(v, settle=None)
    return v if v.settle else replace(v, settle=settle)
