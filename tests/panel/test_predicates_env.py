"""Expert 3 claims: the right experiment, init delay, grep brittleness, stallscope's own verdict."""

from __future__ import annotations

from tests.panel.conftest import judge
from tests.panel.signatures import e2e_10mb, init_delay, slow_producer_10gb, stress_10gb


def test_reproduced_10gib_timeout_supported() -> None:
    v = judge("reproduced_original_failure", e2e_10mb(), stress_10gb(), slow_producer_10gb())
    assert v.verdict == "supported" and v.runs == ("slow_producer_10gb/t1",)


def test_reproduced_only_10mb_refuted_wrong_scenario() -> None:
    v = judge("reproduced_original_failure", e2e_10mb())
    assert v.verdict == "refuted" and v.reason.startswith("wrong scenario")


def test_reproduced_10gib_without_timeout_refuted() -> None:
    v = judge("reproduced_original_failure", stress_10gb())
    assert v.verdict == "refuted" and "without an ACK timeout" in v.reason


def test_init_dominates_e2e_supported() -> None:
    v = judge("init_delay_dominates", e2e_10mb())
    assert v.verdict == "supported" and "70%" in v.reason


def test_init_short_refuted() -> None:
    m, man = e2e_10mb()
    m["init"]["wait_s"] = 0.5
    assert judge("init_delay_dominates", (m, man)).verdict == "refuted"


def test_init_wait_unknown_inconclusive() -> None:
    m, man = init_delay()
    m["init"]["wait_s"] = None
    assert judge("init_delay_dominates", (m, man)).verdict == "inconclusive"


def test_grep_benign_only_publish_ok_supported() -> None:
    assert judge("grep_verdict_brittle", e2e_10mb()).verdict == "supported"


def test_grep_benign_and_publish_failed_refuted() -> None:
    m, man = e2e_10mb()
    m["outcome"].update({"publish_ok": False, "client_exit_code": 1})
    assert judge("grep_verdict_brittle", (m, man)).verdict == "refuted"


def test_grep_no_benign_inconclusive() -> None:
    m, man = e2e_10mb()
    m["client_log_matches"]["benign"] = 0
    assert judge("grep_verdict_brittle", (m, man)).verdict == "inconclusive"


def test_outcome_agrees_supported() -> None:
    assert judge("verdict_reflects_outcome", e2e_10mb(), slow_producer_10gb()).verdict == "supported"


def test_outcome_ok_despite_exit_code_refuted() -> None:
    m, man = e2e_10mb()
    m["outcome"]["client_exit_code"] = 1
    assert judge("verdict_reflects_outcome", (m, man)).verdict == "refuted"


def test_outcome_ok_despite_timeout_refuted() -> None:
    m, man = slow_producer_10gb()
    m["outcome"].update({"publish_ok": True, "client_exit_code": 0})
    v = judge("verdict_reflects_outcome", (m, man))
    assert v.verdict == "refuted" and "timed out" in v.reason


def test_outcome_unknown_inconclusive() -> None:
    m, man = e2e_10mb()
    m["outcome"]["publish_ok"] = None
    assert judge("verdict_reflects_outcome", (m, man)).verdict == "inconclusive"
