"""Expert 4 claims: "blocking recv is the root cause" and "the problem is fixed"."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.panel import panel_stalls, panel_tcp
from tests.panel.conftest import judge
from tests.panel.signatures import ack_path, e2e_10mb, flow_control, ring_pressure, slow_producer_10gb, stress_10gb

ROOT = "recv_root_cause_of_ack_timeout"


def test_root_cause_e2e_only_overclaim() -> None:
    v = judge(ROOT, e2e_10mb())
    assert v.verdict == "overclaim" and "only the 10 MB run" in v.reason
    assert "slow_producer_10gb" in v.settle


def test_root_cause_app_limited_refuted() -> None:
    v = judge(ROOT, slow_producer_10gb())
    assert v.verdict == "refuted" and "slow producer" in v.reason


def test_root_cause_rwnd_limited_supported() -> None:
    v = judge(ROOT, flow_control())
    assert v.verdict == "supported" and "rwnd-limited" in v.reason


def test_root_cause_no_tcp_evidence_overclaim() -> None:
    m, man = slow_producer_10gb()
    m["tcp"] = None
    v = judge(ROOT, (m, man))
    assert v.verdict == "overclaim" and "no TCP evidence" in v.reason


def test_root_cause_ring_pressure_refuted() -> None:
    m, man = ring_pressure()
    m["acks"]["is_timeout"] = True
    assert judge(ROOT, (m, man)).verdict == "refuted"


def test_root_cause_ack_gap_one_broker_refuted() -> None:
    m, man = ack_path()
    man["params"]["total_bytes"] = 10 * 1024**3
    m["tcp"] = panel_tcp(0.5, 0.0)
    v = judge(ROOT, (m, man))
    assert v.verdict == "refuted" and "ACK path" in v.reason


def test_root_cause_no_timeout_overclaim() -> None:
    assert judge(ROOT, stress_10gb()).verdict == "overclaim"


def test_root_cause_between_limits_inconclusive() -> None:
    m, man = flow_control()
    m["tcp"] = panel_tcp(0.1, 0.2)
    assert judge(ROOT, (m, man)).verdict == "inconclusive"


@settings(max_examples=150, deadline=None)
@given(
    header=st.integers(0, 5000), max_ms=st.integers(50, 60_000), closed=st.integers(0, 16),
    rwnd=st.one_of(st.none(), st.floats(0, 1)), snd=st.one_of(st.none(), st.floats(0, 1)),
    timeout=st.booleans(), received=st.integers(0, 10_000), ring=st.integers(0, 50),
    total_bytes=st.one_of(st.none(), st.integers(1, 10 * 1024**3 + 1)),
)
def test_root_cause_e2e_alone_never_supported(header, max_ms, closed, rwnd, snd, timeout, received, ring,
                                              total_bytes) -> None:
    m, man = e2e_10mb()
    m, man = copy.deepcopy(m), copy.deepcopy(man)
    m["stalls"]["total"] = panel_stalls(header=header, max_ms=max_ms, ended_in_close=closed)
    m["tcp"] = None if rwnd is None or snd is None else panel_tcp(rwnd, snd)
    m["acks"].update({"received": received, "is_timeout": timeout})
    m["ring_full"]["events"] = ring
    man["params"]["total_bytes"] = total_bytes
    assert judge(ROOT, (m, man)).verdict != "supported"


FIXED = "problem_fixed"


def _on(pair, sut: str, date: str):
    m, man = copy.deepcopy(pair[0]), copy.deepcopy(pair[1])
    man["sut"].update({"id": sut, "commit": sut + "0" * 28, "commit_date": date})
    man["run_id"] = f"{man['scenario']}/t{1 if date < '2026-06' else 2}"
    man["trial"] = int(man["run_id"][-1])
    return m, man


def _trial(pair, k: int, timeout: bool):
    m, man = copy.deepcopy(pair[0]), copy.deepcopy(pair[1])
    man["run_id"], man["trial"] = f"{man['scenario']}/t{k}", k
    m["acks"]["is_timeout"] = timeout
    return m, man


def test_fixed_one_commit_is_judged_on_the_stress_run_alone() -> None:
    """Without a baseline the seed's 10 GB stress run decides; the slow producer fails by design and never does."""
    v = judge(FIXED, stress_10gb(), _trial(slow_producer_10gb(), 1, True), _trial(slow_producer_10gb(), 2, True))
    assert v.verdict == "supported" and "judged on stress_10gb only" in v.reason
    assert all(r.startswith("stress_10gb/") for r in v.runs)
    v = judge(FIXED, slow_producer_10gb())
    assert v.verdict == "inconclusive" and "no run of stress_10gb" in v.reason


@pytest.mark.parametrize(("timeouts", "want"), [
    ([False] * 5, "supported"), ([True, True, True, False, False], "refuted"), ([True, False, False], "inconclusive"),
    ([True, True], "refuted"), ([False, True], "inconclusive")])
def test_fixed_one_commit_by_the_stress_trials(timeouts: list[bool], want: str) -> None:
    pairs = [_trial(stress_10gb(), k, t) for k, t in enumerate(timeouts, start=1)]
    v = judge(FIXED, *pairs, _trial(slow_producer_10gb(), 1, True))
    assert v.verdict == want, v.reason


def test_fixed_before_timeout_after_clean_supported() -> None:
    before = _on(slow_producer_10gb(), "aaaaaaaaaaaa", "2026-01-01T00:00:00Z")
    m, man = _on(slow_producer_10gb(), "bbbbbbbbbbbb", "2026-11-01T00:00:00Z")
    m["acks"].update({"is_timeout": False, "received": m["acks"]["expected"]})
    v = judge(FIXED, before, (m, man))
    assert v.verdict == "supported" and "bbbbbbbbbbbb" in v.reason


def test_fixed_after_still_times_out_refuted() -> None:
    before = _on(stress_10gb(), "aaaaaaaaaaaa", "2026-01-01T00:00:00Z")
    after = _on(slow_producer_10gb(), "bbbbbbbbbbbb", "2026-11-01T00:00:00Z")
    assert judge(FIXED, before, after).verdict == "refuted"


def test_fixed_before_never_failed_inconclusive() -> None:
    before = _on(stress_10gb(), "aaaaaaaaaaaa", "2026-01-01T00:00:00Z")
    after = _on(stress_10gb(), "bbbbbbbbbbbb", "2026-11-01T00:00:00Z")
    assert judge(FIXED, before, after).verdict == "inconclusive"
