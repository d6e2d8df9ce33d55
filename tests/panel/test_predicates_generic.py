"""Every claim: missing data is never refuted, a failed harness gives harness_error, no run gives not_run."""

from __future__ import annotations

import copy

import pytest

from stallscope.panel.predicates import PREDICATES
from stallscope.panel.verdicts import HARNESS_ERROR, NOT_RUN, REFUTED, SUPPORTED
from tests.panel.conftest import CLAIMS, judge
from tests.panel.signatures import ALL

WITH_RUNS = [c for c in CLAIMS.values() if c.scenarios]


def _pairs(claim_scenarios: tuple[str, ...]) -> list[tuple]:
    names = list(ALL) if "*" in claim_scenarios else [s for s in claim_scenarios if s in ALL]
    return [ALL[n]() for n in names]


@pytest.mark.parametrize("claim", CLAIMS.values(), ids=lambda c: c.id)
def test_claim_empty_metrics_never_refuted_or_supported(claim) -> None:
    pairs = [({"schema": "metrics/1"}, man) for _, man in _pairs(claim.scenarios)]
    v = judge(claim.id, *pairs)
    assert v.verdict not in (REFUTED, SUPPORTED), (claim.id, v)
    assert v.error is None, v.error


@pytest.mark.parametrize("claim", WITH_RUNS, ids=lambda c: c.id)
def test_claim_harness_failed_harness_error(claim) -> None:
    pairs = []
    for m, man in _pairs(claim.scenarios):
        man = copy.deepcopy(man)
        man["harness"] = {"ok": False, "errors": ["broker 1 never became ready"]}
        pairs.append((m, man))
    v = judge(claim.id, *pairs)
    assert v.verdict == HARNESS_ERROR
    assert "never became ready" in v.reason
    assert v.settle


@pytest.mark.parametrize("claim", WITH_RUNS, ids=lambda c: c.id)
def test_claim_metrics_missing_harness_error(claim) -> None:
    pairs = [(None, man) for _, man in _pairs(claim.scenarios)]
    assert judge(claim.id, *pairs).verdict == HARNESS_ERROR


@pytest.mark.parametrize("claim", [c for c in WITH_RUNS if "*" not in c.scenarios], ids=lambda c: c.id)
def test_claim_no_runs_configured_not_run(claim) -> None:
    v = judge(claim.id, configured={s: {"expected_cause": "none"} for s in claim.scenarios})
    assert v.verdict == NOT_RUN
    assert "configured but not run" in v.reason
    assert v.settle == claim.settle_hint


@pytest.mark.parametrize("claim", WITH_RUNS, ids=lambda c: c.id)
def test_claim_other_scenarios_only_not_run(claim) -> None:
    if "*" in claim.scenarios:
        pytest.skip("matches every run")
    m, man = ALL["stress_10gb"]()
    man["scenario"], man["run_id"] = "unrelated", "unrelated/t1"
    assert judge(claim.id, (m, man)).verdict == NOT_RUN


def test_claim_raising_predicate_inconclusive_with_error(monkeypatch) -> None:
    def boom(ctx, claim):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(PREDICATES, "acks_complete", boom)
    v = judge("acks_complete", ALL["e2e_10mb"]())
    assert v.verdict == "inconclusive" and "ZeroDivisionError" in v.error
