"""Ingested runs count only for the claims of scenarios of their kind; a retried attempt counts for none."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stallscope.panel import kinds
from stallscope.panel.thresholds import SIZE_TOLERANCE
from tests.builders.panel import panel_manifest, panel_metrics
from tests.panel.conftest import judge

REPO = Path(__file__).resolve().parents[2]
GIB = 1024**3


def _ingested(total_bytes: int | None, order: int | None = 0, ack: int | None = 1, message_size: int = 1024):
    m, man = panel_metrics("elsewhere"), panel_manifest("elsewhere", total_bytes=total_bytes or 0)
    man["origin"] = m["origin"] = "ingested"
    man["params"].update({"total_bytes": total_bytes, "order": order, "ack_level": ack, "message_size": message_size,
                          "message_count": total_bytes // message_size if total_bytes else None})
    m["acks"].update({"expected": None, "received": None, "completeness": None})
    return m, man


def test_shipped_table_is_the_shipped_config() -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    d = cfg["defaults"]
    for name, sc in cfg["scenarios"].items():
        want = {"total_bytes": sc["total_bytes"], "order": sc.get("order", d["order"]),
                "ack_level": sc.get("ack_level", d["ack_level"])}
        assert kinds.SHIPPED[name] == want, name
    assert set(kinds.SHIPPED) == set(cfg["scenarios"])


def test_e2e_claim_not_judged_on_a_10gib_run() -> None:
    v = judge("e2e_long_stalls_after_client_done", _ingested(10 * GIB))
    assert v.verdict == "not_run" and "10 GiB, order 0, ACK 1" in v.reason


def test_10gib_claim_judged_on_10gib_run_not_on_10mb_run() -> None:
    assert judge("blocks_during_publish", _ingested(10 * GIB)).verdict != "not_run"
    assert judge("blocks_during_publish", _ingested(10_240_000)).verdict == "not_run"
    assert judge("e2e_long_stalls_after_client_done", _ingested(10_000 * 1024)).verdict != "not_run"


def test_order_and_ack_level_tell_kinds_apart() -> None:
    assert judge("blocks_during_publish", _ingested(10 * GIB, order=5)).verdict == "not_run"
    assert judge("blocks_during_publish", _ingested(10 * GIB, ack=2)).verdict == "not_run"
    assert judge("blocks_during_publish", _ingested(10 * GIB, order=None)).verdict != "not_run"


def test_unknown_size_is_unknown_never_zero() -> None:
    m, man = _ingested(None)
    assert kinds.label(man["params"]) == "unknown size, order 0, ACK 1"
    v = judge("e2e_long_stalls_after_client_done", (m, man))
    assert v.verdict == "not_run" and "unknown size" in v.reason and "0 MB" not in v.reason
    assert judge("broker_blocks_in_recv", (m, man)).verdict != "not_run"  # claims about every run still see it


def test_original_failure_names_unknown_size_not_zero() -> None:
    """A run of unknown size judged by the 10 GiB claim (it ran under that scenario's name) says so."""
    m, man = panel_metrics("stress_10gb"), panel_manifest("stress_10gb")
    man["params"].update({"total_bytes": None, "message_count": None})
    m["received"]["total"]["bytes"] = None
    v = judge("reproduced_original_failure", (m, man))
    assert "unknown size" in v.reason and "0 MB" not in v.reason


def test_configured_scenario_size_wins_over_the_shipped_one() -> None:
    pair = _ingested(200 * 1024**2)
    assert judge("blocks_during_publish", pair).verdict == "not_run"
    configured = {"stress_10gb": {"total_bytes": 200 * 1024**2}}
    assert judge("blocks_during_publish", pair, configured=configured).verdict != "not_run"


@settings(max_examples=200, deadline=None)
@given(scen=st.integers(1024, 64 * GIB), ratio=st.floats(0.0, 3.0), order=st.integers(0, 5),
       ack=st.integers(0, 2))
def test_kind_matches_exactly_within_the_size_tolerance(scen: int, ratio: float, order: int, ack: int) -> None:
    size = max(1, int(scen * ratio))
    got = kinds.is_of_kind({"total_bytes": size, "order": order, "ack_level": ack},
                           {"total_bytes": scen, "order": 0, "ack_level": 1})
    assert got == (abs(size / scen - 1) <= SIZE_TOLERANCE and order == 0 and ack == 1)


def test_superseded_attempt_does_not_read_as_problem_not_fixed() -> None:
    """Attempt 1 timed out, its retry completed: the trial completed, so the claim is not refuted by attempt 1."""
    m1, man1 = panel_metrics("stress_10gb"), panel_manifest("stress_10gb", total_bytes=10 * GIB)
    m1["acks"].update({"is_timeout": True, "completeness": 0.3})
    m2, man2 = copy.deepcopy(panel_metrics("stress_10gb")), panel_manifest("stress_10gb", total_bytes=10 * GIB)
    man1["run_id"], man2["run_id"] = "stress_10gb/t1a1", "stress_10gb/t1a2"
    # Without the attempt facts they read as two trials, one failed: flaky, so not settled either way.
    assert judge("problem_fixed", (m1, man1), (m2, man2)).verdict == "inconclusive"
    man1["attempt"] = {"number": 1, "of": 3, "final": False, "result": "incomplete", "reason": None}
    man2["attempt"] = {"number": 2, "of": 3, "final": True, "result": "success", "reason": None}
    v = judge("problem_fixed", (m1, man1), (m2, man2))
    assert v.verdict != "refuted" and "stress_10gb/t1a1" not in v.runs
