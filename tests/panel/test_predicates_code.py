"""Expert 1 claims: recv sites, partial attribution, close mid-header, stall line text, overhead."""

from __future__ import annotations

from tests.builders.panel import panel_ref, panel_set, panel_stalls
from tests.panel.conftest import judge
from tests.panel.signatures import e2e_10mb, keep_open, partial_header


def test_recv_sites_all_sites_stall_supported() -> None:
    v = judge("recv_sites_covered", partial_header(), keep_open())
    assert v.verdict == "supported"
    assert any(e.excerpt and "(partial)" in e.excerpt for e in v.evidence)


def test_recv_sites_payload_pause_without_stall_refuted() -> None:
    m, man = partial_header()
    m["stalls"]["total"] = panel_stalls(header=2, partial=5, payload=0)
    v = judge("recv_sites_covered", (m, man))
    assert v.verdict == "refuted" and "payload" in v.reason


def test_recv_sites_no_partial_scenario_not_run() -> None:
    v = judge("recv_sites_covered", keep_open())
    assert v.verdict == "not_run"
    assert "partial" in v.reason and v.settle


def test_partial_attribution_count_matches_supported() -> None:
    assert judge("partial_not_blamed_on_next_batch", partial_header()).verdict == "supported"


def test_partial_attribution_absorbed_by_header_refuted() -> None:
    m, man = partial_header()
    m["stalls"]["per_broker"]["0"] = panel_stalls(header=4, partial=2, payload=5)
    v = judge("partial_not_blamed_on_next_batch", (m, man))
    assert v.verdict == "refuted" and "absorbed by the next header stall" in v.reason


def test_partial_attribution_more_than_injected_inconclusive() -> None:
    m, man = partial_header()
    m["stalls"]["per_broker"]["0"] = panel_stalls(partial=9)
    assert judge("partial_not_blamed_on_next_batch", (m, man)).verdict == "inconclusive"


def test_partial_attribution_pause_below_threshold_not_run() -> None:
    m, man = partial_header()
    man["faults"]["header_pause_ms"] = 10
    assert judge("partial_not_blamed_on_next_batch", (m, man)).verdict == "not_run"


def test_close_mid_header_logged_supported() -> None:
    m, man = partial_header()
    man["faults"]["close_mid_header"] = True
    m["refs"]["conn_closed"] = panel_ref("conn_closed", [
        "NetworkManager: Connection closed by publisher during partial batch header read."])
    assert judge("close_mid_header_detected", (m, man)).verdict == "supported"


def test_close_mid_header_not_logged_refuted() -> None:
    m, man = partial_header()
    man["faults"]["close_mid_header"] = True
    m["refs"]["conn_closed"] = panel_ref("conn_closed", ["NetworkManager: Connection closed by publisher (x)."])
    v = judge("close_mid_header_detected", (m, man))
    assert v.verdict == "refuted" and "no partial-header close" in v.reason


def test_close_mid_header_lines_truncated_inconclusive() -> None:
    m, man = partial_header()
    man["faults"]["close_mid_header"] = True
    m["refs"]["conn_closed"] = panel_ref("conn_closed", ["closed"] * 5, count=40)
    assert judge("close_mid_header_detected", (m, man)).verdict == "inconclusive"


def test_close_mid_header_no_fault_not_run() -> None:
    assert judge("close_mid_header_detected", partial_header()).verdict == "not_run"


def test_stall_lines_bytes_read_supported() -> None:
    assert judge("stall_lines_state_bytes_read", e2e_10mb()).verdict == "supported"


def test_stall_lines_will_be_partial_refuted() -> None:
    m, man = e2e_10mb()
    m["refs"]["stall_header"] = panel_ref("stall_header", [
        "[STALL] recv batch header blocked 10280ms (batch_header will be partial if bytes_read<sizeof)"])
    v = judge("stall_lines_state_bytes_read", (m, man))
    assert v.verdict == "refuted"
    assert v.evidence[0].excerpt.startswith("[STALL] recv batch header blocked 10280ms")


def test_stall_lines_none_logged_inconclusive() -> None:
    m, man = e2e_10mb()
    panel_set(m, "refs.stall_header", {"count": 0, "items": []})
    assert judge("stall_lines_state_bytes_read", (m, man)).verdict == "inconclusive"


def test_overhead_small_ratio_supported() -> None:
    v = judge("overhead_negligible", extras={"overhead_bench": {"ratio_timers_on_vs_off": 0.99}})
    assert v.verdict == "supported"
    assert v.evidence[0].metric == "bench.ratio_timers_on_vs_off" and v.evidence[0].value == 0.99


def test_overhead_slow_with_timers_refuted() -> None:
    v = judge("overhead_negligible", extras={"overhead_bench": {"ratio_timers_on_vs_off": 0.8}})
    assert v.verdict == "refuted"


def test_overhead_slow_with_every_sample_below_refuted() -> None:
    bench = {"ratio_timers_on_vs_off": 0.9, "samples_mb_s": {"broker": [900, 910, 905], "broker_notimers": [1000, 990]}}
    assert judge("overhead_negligible", extras={"overhead_bench": bench}).verdict == "refuted"


def test_overhead_difference_inside_spread_inconclusive() -> None:
    bench = {"ratio_timers_on_vs_off": 0.957,
             "samples_mb_s": {"broker": [4844.77, 4197.51, 4154.65], "broker_notimers": [4980.7, 4314.86, 4388.3]}}
    v = judge("overhead_negligible", extras={"overhead_bench": bench})
    assert v.verdict == "inconclusive" and "spread" in v.reason


def test_overhead_no_bench_inconclusive_with_settle() -> None:
    v = judge("overhead_negligible")
    assert v.verdict == "inconclusive" and "bench.json" in v.settle


def test_overhead_reports_ratio_interval_and_smallest_detectable_difference() -> None:
    """Random samples: the reason and the evidence carry the ratio's interval (around the ratio) and the smallest
    difference the samples could have shown, which shrinks as the spread does."""
    import random

    from tests.panel.conftest import judge

    rng = random.Random(11)
    found = []
    for spread in (40.0, 5.0):
        on = [rng.gauss(960, spread) for _ in range(5)]
        off = [rng.gauss(1000, spread) for _ in range(5)]
        ratio = sorted(on)[2] / sorted(off)[2]
        v = judge("overhead_negligible", extras={"overhead_bench": {
            "ratio_timers_on_vs_off": ratio, "samples_mb_s": {"broker": on, "broker_notimers": off}}})
        ev = {e.metric: e.value for e in v.evidence}
        lo, hi = (float(x) for x in ev["bench.ratio_interval_95"].split(".."))
        assert lo <= ratio <= hi and "95 % interval" in v.reason and "smallest difference" in v.reason
        found.append(ev["bench.smallest_detectable_relative"])
    assert found[1] < found[0]
