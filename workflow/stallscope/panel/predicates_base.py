"""Helpers shared by the predicate modules: the runs a claim reads and per-run roll-ups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.verdicts import INCONCLUSIVE, REFUTED, SUPPORTED, Verdict, make, worst_verdict
from stallscope.shared.evidence import Evidence, metric
from stallscope.shared.rundir import RunDir


@dataclass
class Finding:
    """One run's (or one part's) verdict with its reason and evidence, before the roll-up."""

    verdict: str
    reason: str
    run_id: str | None = None
    evidence: list[Evidence] = field(default_factory=list)


def ok_runs(ctx: Context, claim: Claim) -> list[RunDir]:
    """The claim's runs whose harness worked (the others are handled before the predicate runs)."""
    return [r for r in ctx.for_scenarios(claim.scenarios) if r.harness_ok]


def figures(run: RunDir, names: Iterable[str]) -> list[Evidence]:
    """Metric evidence for dotted metric names of one run (null figures are cited as null)."""
    return [metric(run.run_id, n, run.get(n)) for n in names]


def finish(claim: Claim, findings: list[Finding], mode: str = "all", empty_reason: str | None = None) -> Verdict:
    """Roll per-run findings up into the claim's verdict.

    mode "all": the claim must hold in every run (priority table). mode "any": one supporting run is enough,
    unless another run refutes it. The reason joins the findings that decided the verdict.
    """
    if not findings:
        return make(claim.id, INCONCLUSIVE, empty_reason or "no run had the figures this claim needs")
    verdicts = [f.verdict for f in findings]
    if mode == "any" and SUPPORTED in verdicts and REFUTED not in verdicts:
        result = SUPPORTED
    else:
        result = worst_verdict(verdicts)
    deciding = [f for f in findings if f.verdict == result] or findings
    reason = "; ".join(dict.fromkeys(_prefixed(f) for f in deciding))
    runs = [f.run_id for f in findings if f.run_id]
    evidence = [e for f in findings for e in f.evidence]
    return make(claim.id, result, reason, runs, evidence)


def _prefixed(f: Finding) -> str:
    return f"{f.run_id}: {f.reason}" if f.run_id else f.reason


def fmt(value: Any, unit: str = "") -> str:
    """A figure for a reason sentence (``unknown`` for null)."""
    if value is None:
        return "unknown"
    if isinstance(value, float):
        value = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value}{unit}"
