"""Hand-built (metrics, manifest) pairs in the shape of each configured scenario's signature."""

from __future__ import annotations

from typing import Any

from tests.builders.panel import panel_manifest, panel_metrics, panel_phases, panel_ref, panel_stalls, panel_tcp

GIB = 1024**3
MB10 = 10 * 1024**2
Pair = tuple[dict[str, Any], dict[str, Any]]


def _acks(m: dict[str, Any], per_broker: dict[str, int], sent: dict[str, int], expected: int,
          timeout: bool) -> None:
    got = sum(per_broker.values())
    m["acks"].update({"expected": expected, "received": got, "per_broker": per_broker, "sent_per_broker": sent,
                      "completeness": got / expected, "is_timeout": timeout})
    if timeout:
        m["outcome"].update({"client_exit_code": 1, "publish_ok": False})
        m["refs"]["ack_timeout"] = panel_ref("ack_timeout", [
            f"[Publisher ACK Timeout]: Waited 120 seconds for ACKs, received {got} out of {expected} (timeout=120s)"
        ], file="client.log")
        m["refs"]["ack_per_broker"] = panel_ref("ack_per_broker", [
            "[Publisher ACK Per-Broker]: " + " ".join(f"B{b}={n}" for b, n in per_broker.items())], file="client.log")


def e2e_10mb() -> Pair:
    """The seed's e2e: 8 s init with hugepage lines, 4 short in-run stalls, 4 long ones after the client ended."""
    m = panel_metrics("e2e_10mb")
    m["phases"] = panel_phases(init_s=8.0, publish_s=0.1, drain_s=0.1, post_s=3.2)
    m["stalls"]["total"] = panel_stalls(header=8, max_ms=3150, median_ms=1600.0, ended_in_close=4,
                                        phase={"publish": {"header": 4}, "drain": {"header": 4}})
    m["init"] = {"wait_s": 8.0, "hugepage_short": True, "hugetlb_fallback": True}
    m["tcp"] = panel_tcp(0.0, 0.0, 1000)
    m["client_log_matches"] = {"benign": 3, "real": 0, "items": []}
    m["refs"]["stall_header"] = panel_ref("stall_header", [
        "[STALL] recv batch header blocked 55ms client_id=1 bytes_read=128",
        "[STALL] recv batch header blocked 3150ms client_id=1 bytes_read=0"])
    m["refs"]["conn_closed"] = panel_ref("conn_closed", [
        "NetworkManager: Connection closed by publisher (client_id=1, topic=t). No batch data received."])
    return m, panel_manifest("e2e_10mb", total_bytes=MB10, faults={"init_delay_sec": 8, "linger_sec": 3},
                             expected_cause="init_lifecycle")


def stress_10gb() -> Pair:
    """10 GiB, healthy on loopback."""
    m = panel_metrics("stress_10gb")
    m["phases"] = panel_phases(init_s=0.2, publish_s=8.0, drain_s=0.3, post_s=0.1)
    return m, panel_manifest("stress_10gb", total_bytes=10 * GIB, expected_cause="none")


def slow_producer_10gb() -> Pair:
    """The seed's 10 GB run: 704 short header stalls during publish, app-limited senders, ACK timeout."""
    m = panel_metrics("slow_producer_10gb")
    m["phases"] = panel_phases(init_s=0.5, publish_s=60.0, drain_s=120.0, post_s=0.5)
    m["stalls"]["total"] = panel_stalls(header=704, max_ms=270, median_ms=90.0, phase={"publish": {"header": 704}})
    per = {"0": 965_425, "1": 331_444, "2": 973_134, "3": 973_133}
    _acks(m, per, dict(per), 10_485_760, timeout=True)
    m["tcp"] = panel_tcp(0.01, 0.0, 300_000)
    m["throughput"].update({"publish_bw_mb_s": 40.0, "completed_s": 60.0, "send_blocked_s": 0.3})
    m["refs"]["stall_header"] = panel_ref("stall_header", [
        f"[STALL] recv batch header blocked {51 + i}ms client_id=1 bytes_read=128" for i in range(5)], count=704)
    return m, panel_manifest("slow_producer_10gb", total_bytes=10 * GIB, faults={"producer_cost_ns": 2000},
                             expected_cause="client_producer")


def flow_control() -> Pair:
    """Broker delays before recv: rwnd-limited senders blocked in send, ACK timeout."""
    m = panel_metrics("flow_control")
    m["phases"] = panel_phases(init_s=0.5, publish_s=60.0, drain_s=120.0, post_s=0.5)
    m["stalls"]["total"] = panel_stalls(header=3)
    per = {"0": 600_000, "1": 600_000, "2": 600_000, "3": 600_000}
    _acks(m, per, dict(per), 10_485_760, timeout=True)
    m["tcp"] = panel_tcp(0.65, 0.05, 40_000_000)
    m["throughput"].update({"completed_s": 60.0, "send_blocked_s": 40.0})
    return m, panel_manifest("flow_control", total_bytes=10 * GIB, faults={"recv_delay_us": 500},
                             expected_cause="flow_control")


def ring_pressure() -> Pair:
    """Slow consumer and a small ring: Ring full again and again."""
    m = panel_metrics("ring_pressure")
    m["phases"] = panel_phases(init_s=0.5, publish_s=30.0, drain_s=1.0, post_s=0.5)
    m["ring_full"] = {"events": 48, "max_total_ring_full": 4000,
                      "per_broker": {str(b): {"events": 12, "max_total_ring_full": 1000} for b in range(4)}}
    m["tcp"] = panel_tcp(0.4, 0.05, 8_000_000)
    m["throughput"].update({"completed_s": 30.0, "send_blocked_s": 8.0})
    return m, panel_manifest("ring_pressure", total_bytes=GIB, faults={"consume_delay_ms": 5, "ring_slots": 2},
                             expected_cause="broker_ring")


def ack_path() -> Pair:
    """Broker 2's ACKs stop at 2000 while it received all 25,600 messages (far more than one batch in flight)."""
    m = panel_metrics("ack_path", messages=102_400)
    m["phases"] = panel_phases(init_s=0.5, publish_s=1.0, drain_s=5.0, post_s=0.2)
    m["stalls"]["total"] = panel_stalls(header=4, max_ms=5100, ended_in_close=4, phase={"drain": {"header": 4}})
    _acks(m, {"0": 25_600, "1": 25_600, "2": 2000, "3": 25_600}, {b: 25_600 for b in "0123"}, 102_400,
          timeout=True)
    return m, panel_manifest("ack_path", total_bytes=100 * 1024**2,
                             faults={"ack_stall_after": 2000, "ack_stall_broker": 2}, expected_cause="ack_path")


def init_delay() -> Pair:
    """Long client init with the hugepage warnings."""
    m = panel_metrics("init_delay")
    m["phases"] = panel_phases(init_s=20.0, publish_s=0.5, drain_s=0.2, post_s=0.2)
    m["init"] = {"wait_s": 20.0, "hugepage_short": True, "hugetlb_fallback": True}
    m["client_log_matches"] = {"benign": 4, "real": 0, "items": []}
    return m, panel_manifest("init_delay", total_bytes=MB10, faults={"init_delay_sec": 20},
                             expected_cause="init_lifecycle")


def partial_header() -> Pair:
    """Five 200 ms pauses inside headers and five inside payloads on broker 0."""
    m = panel_metrics("partial_header")
    m["stalls"]["total"] = panel_stalls(header=2, partial=5, payload=5, max_ms=210,
                                        phase={"publish": {"header": 2, "partial": 5, "payload": 5}})
    m["stalls"]["per_broker"]["0"] = panel_stalls(header=1, partial=5, payload=5, max_ms=210)
    m["tcp"] = panel_tcp(0.01, 0.0, 1000)
    m["refs"]["stall_partial"] = panel_ref("stall_partial", [
        "[STALL] recv batch header (partial) blocked 201ms client_id=1 recv_ret=64"] * 5)
    return m, panel_manifest("partial_header", total_bytes=MB10, expected_cause="client_producer", faults={
        "header_pause_ms": 200, "header_pause_count": 5, "payload_pause_ms": 200, "payload_pause_count": 5,
        "fault_broker": 0})


def keep_open() -> Pair:
    """Connections held open 3 s after the last batch: long stalls after the client finished, then a close."""
    m = panel_metrics("keep_open")
    m["phases"] = panel_phases(init_s=0.3, publish_s=0.2, drain_s=0.1, post_s=3.1)
    m["stalls"]["total"] = panel_stalls(header=4, max_ms=3050, median_ms=3000.0, ended_in_close=4,
                                        phase={"drain": {"header": 4}})
    return m, panel_manifest("keep_open", total_bytes=MB10, faults={"linger_sec": 3}, expected_cause="init_lifecycle")


ALL = {f.__name__: f for f in (e2e_10mb, stress_10gb, slow_producer_10gb, flow_control, ring_pressure, ack_path,
                               init_delay, partial_header, keep_open)}
