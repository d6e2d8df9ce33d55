"""Claims judged trial by trial and combined by the stated rule, flaky when trials disagree."""

from __future__ import annotations

import copy

from stallscope.panel.context import Context
from stallscope.panel.overtrials import combine, evaluate_over_trials
from stallscope.panel.verdicts import Verdict
from tests.builders.panel import panel_manifest, panel_metrics, panel_run
from tests.panel.conftest import CLAIMS


def _v(verdict: str) -> Verdict:
    return Verdict("x", verdict, "r")


def test_combine_rule() -> None:
    assert combine([(1, _v("supported")), (2, _v("supported"))]) == ("supported", False)
    assert combine([(1, _v("refuted")), (2, _v("refuted"))]) == ("refuted", False)
    assert combine([(1, _v("supported")), (2, _v("refuted"))]) == ("inconclusive", True)
    assert combine([(1, _v("supported")), (2, _v("inconclusive"))]) == ("inconclusive", False)
    assert combine([(1, _v("supported")), (2, _v("harness_error"))]) == ("harness_error", False)


def _ctx(completeness: list[float]) -> Context:
    runs = []
    for k, c in enumerate(completeness, start=1):
        m = copy.deepcopy(panel_metrics("stress_10gb"))
        m["acks"].update({"completeness": c, "received": int(m["acks"]["expected"] * c), "is_timeout": c < 1})
        runs.append(panel_run(m, panel_manifest("stress_10gb", trial=k, total_bytes=10 * 1024**3)))
    return Context(tuple(runs), {}, {})


def test_one_trial_is_the_plain_verdict() -> None:
    v = evaluate_over_trials(_ctx([1.0]), CLAIMS["acks_complete"])
    assert v.verdict == "supported" and v.trials == () and not v.flaky


def test_agreeing_trials_keep_their_verdict() -> None:
    ok = evaluate_over_trials(_ctx([1.0, 1.0, 1.0]), CLAIMS["acks_complete"])
    bad = evaluate_over_trials(_ctx([0.5, 0.4, 0.5]), CLAIMS["acks_complete"])
    assert (ok.verdict, bad.verdict) == ("supported", "refuted")
    assert [t for _, t in ok.trials] == ["supported"] * 3 and "all 3 trials" in ok.reason


def test_disagreeing_trials_are_flaky_with_each_listed() -> None:
    v = evaluate_over_trials(_ctx([1.0, 0.5, 1.0]), CLAIMS["acks_complete"])
    assert v.verdict == "inconclusive" and v.flaky
    assert list(v.trials) == [(1, "supported"), (2, "refuted"), (3, "supported")]
    assert "t2 refuted" in v.reason and set(v.runs) == {"stress_10gb/t1", "stress_10gb/t2", "stress_10gb/t3"}


def test_a_claim_over_scenarios_with_different_trial_counts_is_judged_on_the_common_trials() -> None:
    ctx = _ctx([1.0, 1.0, 1.0])
    m = copy.deepcopy(panel_metrics("e2e_10mb"))
    runs = ctx.runs + (panel_run(m, panel_manifest("e2e_10mb", trial=1)),
                       panel_run(copy.deepcopy(m), panel_manifest("e2e_10mb", trial=2)))
    v = evaluate_over_trials(Context(runs, {}, {}), CLAIMS["acks_complete"])
    assert [k for k, _ in v.trials] == [1, 2] and "trials 3 not judged" in v.reason
    assert v.verdict != "not_run"
