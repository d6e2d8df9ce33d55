"""Evaluate one claim: scenario and harness checks first, then the predicate (check-safe), then citations."""

from __future__ import annotations

from dataclasses import replace

from stallscope.panel import kinds
from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.needs import gate
from stallscope.panel.predicates import PREDICATES
from stallscope.panel.verdicts import (
    HARNESS_ERROR,
    INCONCLUSIVE,
    MAX_CITES_PER_KIND,
    NOT_RUN,
    REFUTED,
    SUPPORTED,
    Verdict,
    check_safe,
    cite_refs,
    make,
    with_settle,
)
from stallscope.shared.evidence import Evidence, metric
from stallscope.shared.readable import has_nothing_readable, unreadable_note
from stallscope.shared.rundir import RunDir


def _failed_scenarios(claim: Claim, relevant: list[RunDir]) -> list[RunDir]:
    """Harness-failed runs that leave a needed scenario (or, for "*", every run) without a usable run."""
    if "*" in claim.scenarios:
        return relevant if relevant and not any(r.harness_ok for r in relevant) else []
    failed: list[RunDir] = []
    for scen in claim.scenarios:
        runs = [r for r in relevant if r.scenario == scen]
        if runs and not any(r.harness_ok for r in runs):
            failed.extend(runs)
    return failed


def _not_run(ctx: Context, claim: Claim) -> Verdict:
    configured = [s for s in claim.scenarios if s in ctx.configured]
    names = ", ".join(claim.scenarios)
    ingested = [r for r in ctx.runs if r.origin == "ingested" and not r.is_superseded]
    if ingested:
        shown = "; ".join(f"{r.run_id} is {kinds.label(kinds.kind_params(r))}" for r in ingested[:3])
        more = f" and {len(ingested) - 3} more" if len(ingested) > 3 else ""
        reason = f"no run of the kind it is about ({names}): {shown}{more}"
    elif configured:
        reason = f"its scenarios were configured but not run ({', '.join(configured)})"
    else:
        reason = f"none of the scenarios it needs ({names}) was run"
    return make(claim.id, NOT_RUN, reason, settle=claim.settle_hint)


def _harness_error(claim: Claim, failed: list[RunDir]) -> Verdict:
    errors = "; ".join(dict.fromkeys(e for r in failed for e in r.harness_errors)) or "harness failed"
    ev = [metric(r.run_id, "harness.errors", "; ".join(r.harness_errors)) for r in failed]
    return make(claim.id, HARNESS_ERROR, f"no verdict about the broker: the run itself failed ({errors})",
                [r.run_id for r in failed], ev, settle=f"Fix the harness failure and rerun. {claim.settle_hint}")


def _cap_per_kind(items: list[Evidence]) -> list[Evidence]:
    kept: list[Evidence] = []
    seen: dict[str | None, int] = {}
    for e in items:
        seen[e.metric] = seen.get(e.metric, 0) + 1
        if seen[e.metric] <= MAX_CITES_PER_KIND:
            kept.append(e)
    return kept


def evaluate_claim(ctx: Context, claim: Claim) -> Verdict:
    """Return the claim's verdict, with log citations from its runs' refs and the settle hint when unsettled."""
    relevant = ctx.for_scenarios(claim.scenarios) if claim.scenarios else []
    if claim.scenarios and not relevant:
        # Logs that lack a source the claim needs say so first: that holds whatever kind of run they are.
        ingested = [r for r in ctx.runs if r.origin == "ingested" and not r.is_superseded]
        _, lacking = gate(ctx, claim, ingested)
        if lacking is not None and lacking.verdict == NOT_RUN:
            return with_settle(lacking, claim.settle_hint)
        return _not_run(ctx, claim)
    failed = _failed_scenarios(claim, relevant)
    if failed:
        return _harness_error(claim, failed)
    ctx, lacking = gate(ctx, claim, relevant)
    if lacking is not None:
        return with_settle(lacking, claim.settle_hint)
    relevant = ctx.for_scenarios(claim.scenarios) if claim.scenarios else []
    fn = PREDICATES.get(claim.id)
    if fn is None:
        return Verdict(claim.id, INCONCLUSIVE, "the predicate is not registered", settle=claim.settle_hint,
                       error=f"no predicate registered for claim {claim.id!r}")
    v = check_safe(claim.id, lambda: fn(ctx, claim), claim.settle_hint)
    by_id = {r.run_id: r for r in relevant if r.harness_ok}
    blind = [by_id[rid] for rid in v.runs if rid in by_id and has_nothing_readable(by_id[rid])]
    if v.verdict in (SUPPORTED, REFUTED) and blind and len(blind) == len(v.runs):
        reason = "; ".join(unreadable_note(r) for r in blind)
        return with_settle(replace(v, verdict=INCONCLUSIVE, reason=reason), claim.settle_hint)
    cites: list[Evidence] = []
    cite_count = 0
    for rid in v.runs:
        run = by_id.get(rid)
        if run is None:
            continue
        items, count = cite_refs(rid, run.get("refs"), claim.cites)
        cites.extend(items)
        cite_count += count
    cites = _cap_per_kind(cites)
    v = replace(v, evidence=v.evidence + tuple(cites), evidence_count=v.evidence_count + cite_count)
    return with_settle(v, claim.settle_hint)
