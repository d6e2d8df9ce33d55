"""Expert 2 claims: where and when brokers block, ring, closes, ACKs."""

from __future__ import annotations

from tests.builders.panel import panel_ref, panel_stalls
from tests.panel.conftest import judge
from tests.panel.signatures import (
    ack_path,
    e2e_10mb,
    flow_control,
    keep_open,
    ring_pressure,
    slow_producer_10gb,
    stress_10gb,
)


def test_blocks_in_recv_stalls_logged_supported() -> None:
    v = judge("broker_blocks_in_recv", slow_producer_10gb())
    assert v.verdict == "supported" and "704" in v.reason
    assert sum(1 for e in v.evidence if e.metric == "stall_header") == 5
    assert v.evidence_count >= 704


def test_blocks_in_recv_no_stalls_inconclusive() -> None:
    m, man = stress_10gb()
    m["stalls"]["total"] = panel_stalls()
    assert judge("broker_blocks_in_recv", (m, man)).verdict == "inconclusive"


def test_during_publish_slow_producer_supported() -> None:
    assert judge("blocks_during_publish", slow_producer_10gb()).verdict == "supported"


def test_during_publish_only_after_client_refuted() -> None:
    m, man = slow_producer_10gb()
    m["stalls"]["total"] = panel_stalls(header=4, max_ms=9000, phase={"post": {"header": 4}})
    v = judge("blocks_during_publish", (m, man))
    assert v.verdict == "refuted" and "only after the client finished" in v.reason


def test_during_publish_no_phases_inconclusive() -> None:
    m, man = slow_producer_10gb()
    m["phases"]["source"] = "none"
    assert judge("blocks_during_publish", (m, man)).verdict == "inconclusive"


def test_e2e_long_stalls_after_client_supported() -> None:
    assert judge("e2e_long_stalls_after_client_done", e2e_10mb()).verdict == "supported"


def test_e2e_long_stalls_during_run_refuted() -> None:
    m, man = e2e_10mb()
    m["stalls"]["total"] = panel_stalls(header=4, max_ms=9000, ended_in_close=0, after_client_done=0)
    assert judge("e2e_long_stalls_after_client_done", (m, man)).verdict == "refuted"


def test_e2e_no_long_stall_refuted() -> None:
    m, man = e2e_10mb()
    m["stalls"]["total"] = panel_stalls(header=4, max_ms=60)
    v = judge("e2e_long_stalls_after_client_done", (m, man))
    assert v.verdict == "refuted" and "no stall of 1000 ms" in v.reason


def test_headers_bursty_many_short_supported() -> None:
    assert judge("headers_late_not_never", slow_producer_10gb()).verdict == "supported"


def test_headers_one_long_per_connection_refuted() -> None:
    m, man = slow_producer_10gb()
    m["stalls"]["total"] = panel_stalls(header=4, max_ms=10_286, median_ms=10_283.0, ended_in_close=4,
                                        phase={"drain": {"header": 4}})
    v = judge("headers_late_not_never", (m, man))
    assert v.verdict == "refuted" and "never came" in v.reason


def test_headers_few_stalls_inconclusive() -> None:
    assert judge("headers_late_not_never", flow_control()).verdict == "inconclusive"


def test_ring_once_per_broker_supported() -> None:
    v = judge("ring_not_repeated_stall", e2e_10mb(), stress_10gb())
    assert v.verdict == "supported" and "B0=1" in v.reason


def test_ring_repeated_refuted() -> None:
    m, _ = ring_pressure()
    _, man = stress_10gb()
    assert judge("ring_not_repeated_stall", (m, man)).verdict == "refuted"


def test_ring_unknown_inconclusive() -> None:
    m, man = stress_10gb()
    m["ring_full"] = {}
    assert judge("ring_not_repeated_stall", (m, man)).verdict == "inconclusive"


def test_long_stalls_close_supported() -> None:
    assert judge("long_stalls_end_in_close", e2e_10mb(), keep_open()).verdict == "supported"


def test_long_stalls_without_close_refuted() -> None:
    m, man = keep_open()
    m["stalls"]["total"]["ended_in_close"] = 0
    assert judge("long_stalls_end_in_close", (m, man)).verdict == "refuted"


def test_long_stalls_none_long_inconclusive() -> None:
    v = judge("long_stalls_end_in_close", stress_10gb())
    assert v.verdict == "inconclusive" and "no stall of 1000 ms" in v.reason


def test_acks_complete_supported() -> None:
    assert judge("acks_complete", e2e_10mb(), stress_10gb()).verdict == "supported"


def test_acks_short_refuted_cites_ack_lines() -> None:
    m, _ = slow_producer_10gb()
    _, man = stress_10gb()
    v = judge("acks_complete", (m, man))
    assert v.verdict == "refuted" and "3,243,136 of 10,485,760" in v.reason
    cited = {e.metric: e for e in v.evidence if e.file}
    assert cited["ack_timeout"].file == "client.log" and cited["ack_timeout"].line == 10
    assert "B1=331444" in cited["ack_per_broker"].excerpt


def test_acks_ack_fault_runs_skipped_not_run() -> None:
    m, man = ack_path()
    man["scenario"], man["run_id"] = "stress_10gb", "stress_10gb/t1"
    assert judge("acks_complete", (m, man)).verdict == "not_run"


def test_acks_counts_unknown_inconclusive() -> None:
    m, man = stress_10gb()
    m["acks"] = {"is_timeout": False}
    assert judge("acks_complete", (m, man)).verdict == "inconclusive"


def test_acks_ack_level_zero_not_run() -> None:
    m, man = stress_10gb()
    man["params"]["ack_level"] = 0
    m["refs"]["ack_timeout"] = panel_ref("ack_timeout", [])
    assert judge("acks_complete", (m, man)).verdict == "not_run"


def test_during_publish_a_run_without_any_stall_does_not_veto_another_runs_stalls() -> None:
    quiet, man = stress_10gb()
    quiet["stalls"]["total"] = panel_stalls()
    v = judge("blocks_during_publish", slow_producer_10gb(), (quiet, man))
    assert v.verdict == "supported" and "stress_10gb" in v.runs[-1]
    alone = judge("blocks_during_publish", (quiet, man))
    assert alone.verdict == "refuted" and "no stall at all" in alone.reason


def test_blocks_during_publish_names_sites_brokers_and_the_bound() -> None:
    m, man = stress_10gb()
    m["stalls"]["total"] = panel_stalls(header=9, payload=3, phase={"publish": {"header": 9, "payload": 3}})
    m["stalls"]["sites_while_sending"] = [
        {"site": "network_manager.cc:1330", "kind": "header", "count": 9, "max_ms": 270, "returned_minus_one": 4,
         "per_broker": {"1": 7, "3": 2}},
        {"site": "network_manager.cc:1629", "kind": "payload", "count": 3, "max_ms": 61, "returned_minus_one": 0,
         "per_broker": {"2": 3}}]
    v = judge("blocks_during_publish", (m, man))
    assert v.verdict == "supported"
    assert "12 stalls began during the publish phase; while the client was sending: 9 at network_manager.cc:1330 " \
           "(header, up to 270 ms, 4 of them recv returning -1 (a receive timeout cut the wait); broker_1 7, " \
           "broker_3 2); 3 at network_manager.cc:1629 (payload, up to 61 ms; broker_2 3)" in v.reason
    assert "the run's bound: " in v.reason
