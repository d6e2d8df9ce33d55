"""Verdicts over repeated trials: judge a claim on each trial alone, then combine by one stated rule.

The rule (``RULE``): supported only if the claim holds in every trial, refuted only if it holds in none;
otherwise inconclusive and marked flaky, with the per-trial verdicts listed. A harness error or an overclaim in
any trial wins, as in Jepsen's worst-result merge: one broken trial must not be outvoted by good ones. A trial
is the set of runs with the same trial number (``manifest.trial``); claims without scenarios (code reading,
extra inputs) and the before/after claim (``ACROSS_TRIALS``, which weighs all trials itself) are judged once.
"""

from __future__ import annotations

from dataclasses import replace

from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.evaluate import evaluate_claim
from stallscope.panel.verdicts import (
    HARNESS_ERROR,
    INCONCLUSIVE,
    NOT_RUN,
    OVERCLAIM,
    REFUTED,
    SUPPORTED,
    Verdict,
)
from stallscope.shared.rundir import RunDir, dig
from stallscope.shared.trialtag import TrialTag

#: Claims whose predicate already weighs every trial (before/after over trials): judged once on all runs.
ACROSS_TRIALS = frozenset({"problem_fixed"})

RULE = ("supported only if supported in every trial; refuted only if refuted in every trial; a harness error "
        "or overclaim in any trial wins; otherwise inconclusive (flaky when trials disagree)")


def trial_of(run: RunDir) -> int:
    """The run's trial number (1 when the manifest does not say)."""
    t = dig(run.manifest, "trial")
    return t if isinstance(t, int) and not isinstance(t, bool) else 1


def combine(per_trial: list[tuple[int, Verdict]]) -> tuple[str, bool]:
    """(verdict, flaky) of a claim from its per-trial verdicts by ``RULE``."""
    got = [v.verdict for _, v in per_trial]
    for worst in (HARNESS_ERROR, OVERCLAIM):
        if worst in got:
            return worst, False
    if all(g == SUPPORTED for g in got):
        return SUPPORTED, False
    if all(g == REFUTED for g in got):
        return REFUTED, False
    if all(g == NOT_RUN for g in got):
        return NOT_RUN, False
    return INCONCLUSIVE, SUPPORTED in got and REFUTED in got


def _common_trials(ctx: Context, claim: Claim) -> list[int]:
    """Trial numbers every scenario of the claim that was run has: a claim over two scenarios with 5 and 3 trials
    is judged on trials 1-3, never on a trial where one of its scenarios is simply absent."""
    relevant = ctx.runs if "*" in claim.scenarios else ctx.for_scenarios(claim.scenarios)
    per_scen: dict[str, set[int]] = {}
    for r in relevant:
        per_scen.setdefault(r.scenario, set()).add(trial_of(r))
    return sorted(set.intersection(*per_scen.values())) if per_scen else []


def evaluate_over_trials(ctx: Context, claim: Claim) -> Verdict:
    """The claim's verdict over its trials: one trial (or no scenario) → the plain verdict, else ``combine``."""
    if not claim.scenarios or claim.id in ACROSS_TRIALS:
        return evaluate_claim(ctx, claim)
    numbers = _common_trials(ctx, claim)
    if len(numbers) < 2:
        return evaluate_claim(ctx, claim)
    per_trial = [(k, evaluate_claim(replace(ctx, runs=tuple(r for r in ctx.runs if trial_of(r) == k)), claim))
                 for k in numbers]
    verdict, flaky = combine(per_trial)
    listed = ", ".join(f"{TrialTag(k)} {v.verdict}" for k, v in per_trial)
    same = {v.verdict for _, v in per_trial}
    if len(same) == 1:
        first = per_trial[0][1]
        reason = f"{first.reason} (the same in all {len(per_trial)} trials)"
    else:
        reason = f"{'flaky: ' if flaky else ''}trials disagree ({listed}); " + "; ".join(
            f"{TrialTag(k)}: {v.reason}" for k, v in per_trial if v.verdict != verdict)
    relevant = ctx.runs if "*" in claim.scenarios else ctx.for_scenarios(claim.scenarios)
    unjudged = sorted({trial_of(r) for r in relevant} - set(numbers))
    if unjudged:
        reason += f" (trials {', '.join(map(str, unjudged))} not judged: not every scenario of the claim has them)"
    runs = tuple(dict.fromkeys(rid for _, v in per_trial for rid in v.runs))
    evidence = tuple(e for _, v in per_trial for e in v.evidence)
    count = sum(max(v.evidence_count, len(v.evidence)) for _, v in per_trial)
    errors = "; ".join(f"{TrialTag(k)}: {v.error}" for k, v in per_trial if v.error) or None
    settle = next((v.settle for _, v in per_trial if v.settle), None) if verdict != SUPPORTED else None
    return Verdict(claim.id, verdict, reason, runs, evidence, count, settle, errors,
                   trials=tuple((k, v.verdict) for k, v in per_trial), flaky=flaky)
