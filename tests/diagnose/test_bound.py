"""The throughput bound from shares and ratios: each class from hand-built metrics, and invariance to machine speed."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from stallscope.diagnose.bound import decide_bound
from stallscope.diagnose.thresholds import LIFECYCLE_SHARE, NONE_SHARE_OF_SINK
from tests.builders.panel import panel_manifest, panel_metrics, panel_phases, panel_run, panel_set

SINK_MB_S = 4000.0


def _bench(conns: tuple[int, int] = (4, 1), sink: float = SINK_MB_S) -> dict[str, Any]:
    return {"scenario": {"brokers": conns[0], "threads_per_broker": conns[1]}, "median_mb_s": {"raw_sink": sink}}


def _phase(wall: int, busy: int, rwnd: int = 0, snd: int = 0, retrans: int = 0) -> dict[str, Any]:
    other = max(busy - rwnd - snd, 0)
    return {"connections": 4, "wall_us": wall, "busy_us": busy, "rwnd_limited_us": rwnd, "sndbuf_limited_us": snd,
            "retrans": retrans, "idle_share": 1 - busy / wall, "rwnd_share": rwnd / wall, "sndbuf_share": snd / wall,
            "network_share": other / wall, "rwnd_of_busy": rwnd / busy if busy else None,
            "sndbuf_of_busy": snd / busy if busy else None}


def _run(delivered: float = 500.0, publish: dict[str, Any] | None = None, **paths: Any) -> Any:
    m = panel_metrics("unit")
    m["throughput"]["delivered_mb_s"] = delivered
    m["tcp_phases"] = None if publish is None else {"publish": publish}
    for path, value in paths.items():
        panel_set(m, path.replace("__", "."), value)
    return panel_run(m, panel_manifest("unit"))


@pytest.mark.parametrize(("phase", "cause"), [
    (_phase(4_000_000, 200_000), "client_producer"),
    (_phase(4_000_000, 3_900_000, rwnd=3_500_000), "flow_control"),
    (_phase(4_000_000, 3_900_000, snd=3_000_000), "send_buffer"),
    (_phase(4_000_000, 3_900_000, retrans=40), "network"),
])
def test_sender_shares_name_the_bound(phase: dict[str, Any], cause: str) -> None:
    b = decide_bound(_run(publish=phase), _bench())
    assert b["cause"] == cause, b
    assert b["missing"] == []


def test_network_without_retransmits_is_never_confident() -> None:
    b = decide_bound(_run(publish=_phase(4_000_000, 3_900_000)), _bench())
    assert (b["cause"], b["confidence"]) == ("network", "low")


def test_none_needs_the_sink_for_the_same_connections() -> None:
    run = _run(delivered=NONE_SHARE_OF_SINK * SINK_MB_S * 1.01, publish=_phase(4_000_000, 3_000_000))
    assert decide_bound(run, _bench())["cause"] == "none"
    other = decide_bound(run, _bench(conns=(4, 4)))
    assert other["cause"] != "none" and other["confidence"] != "high"
    assert any("none' cannot be decided" in m and "16 connections" in m for m in other["missing"])
    nobench = decide_bound(run, None)
    assert any("no benchmark" in m for m in nobench["missing"]) and nobench["confidence"] != "high"


def _shape(run: Any, **change: int) -> dict[str, int]:
    keys = ("brokers", "threads_per_broker", "message_size", "batch_bytes", "total_bytes")
    return {k: run.param(k) for k in keys} | change


@pytest.mark.parametrize("seed", range(20))
def test_the_sink_at_the_runs_own_shape_is_preferred(seed: int) -> None:
    """A small publish reads short against the benchmark's big one; against a sink of its own shape it is whole."""
    rng = random.Random(seed)
    own, big = rng.uniform(500, 3000), rng.uniform(3000, 9000)
    delivered = own * rng.uniform(NONE_SHARE_OF_SINK * 1.02, 1.2)
    run = _run(delivered=delivered, publish=_phase(4_000_000, 3_000_000))
    bench = _bench(sink=big) | {"raw_sink_at": [
        {"shape": _shape(run, total_bytes=run.param("total_bytes") * 2), "samples_mb_s": [big], "median_mb_s": big},
        {"shape": _shape(run), "samples_mb_s": [own], "median_mb_s": own}]}
    b = decide_bound(run, bench)
    assert b["cause"] == "none" and "same connections and size" in b["summary"], b
    assert b["shares"]["share_of_sink"] == pytest.approx(delivered / own, abs=1e-4)
    # Any one parameter of the shape differing: not this run's sink, the benchmark's is read instead.
    key = rng.choice(["brokers", "threads_per_broker", "message_size", "batch_bytes", "total_bytes"])
    bench["raw_sink_at"][1]["shape"][key] += 1
    other = decide_bound(run, bench)
    assert other["cause"] != "none" or delivered >= NONE_SHARE_OF_SINK * big, other
    assert other["shares"]["share_of_sink"] == pytest.approx(delivered / big, abs=1e-4)


def test_below_the_sink_share_is_not_none() -> None:
    run = _run(delivered=NONE_SHARE_OF_SINK * SINK_MB_S * 0.95, publish=_phase(4_000_000, 3_900_000, rwnd=3_000_000))
    assert decide_bound(run, _bench())["cause"] == "flow_control"


def test_lifecycle_dominant_wall_time_wins_even_at_full_speed() -> None:
    m_phases = panel_phases(init_s=9.0, publish_s=0.5, drain_s=0.1, post_s=0.4)
    run = _run(delivered=SINK_MB_S, publish=_phase(500_000, 400_000), phases=m_phases)
    b = decide_bound(run, _bench())
    assert b["cause"] == "init_lifecycle" and b["shares"]["lifecycle_share"] >= LIFECYCLE_SHARE


def test_ring_and_ack_path_come_before_the_transport_shares() -> None:
    ring = _run(publish=_phase(4_000_000, 3_900_000, rwnd=3_500_000), ring_full__events=40,
                ring_full__per_broker={"0": {"events": 40, "max_total_ring_full": 40}})
    assert decide_bound(ring, _bench())["cause"] == "broker_ring"
    ack = _run(publish=_phase(4_000_000, 200_000), acks__per_broker={"0": 2500, "1": 2500, "2": 10, "3": 2500},
               acks__sent_per_broker={"0": 2500, "1": 2500, "2": 2500, "3": 2500}, acks__is_timeout=True)
    assert decide_bound(ack, _bench())["cause"] == "ack_path"


def test_producer_rule_without_tcp_cites_its_lines() -> None:
    cites = {k: {"file": "client.log", "line": n, "text": t} for k, n, t in
             (("publish_bw", 57, "Publish() bandwidth: 1000.00 MB/s"), ("eagain", 59, "EAGAIN/ENOBUFS count: 0"),
              ("delivered", 50, "Bandwidth: 900.00 MB/s"))}
    prod = {"publish_bw_mb_s": 1000.0, "eagain_count": 0, "send_batches": 5000, "delivered_mb_s": 900.0,
            "cites": cites}
    run = _run(delivered=900.0, tcp=None, producer=prod)
    b = decide_bound(run, None)
    assert b["cause"] == "client_producer"
    assert {(e["file"], e["line"]) for e in b["evidence"]} == {("client.log", 57), ("client.log", 59),
                                                               ("client.log", 50)}
    headroom = _run(delivered=300.0, tcp=None, producer=dict(prod, delivered_mb_s=300.0))
    assert decide_bound(headroom, None)["cause"] == "unknown"


def test_unreadable_run_has_no_bound() -> None:
    run = _run(evidence={"judged_on_nothing": True, "lines_unreadable": 99, "lines_total": 100})
    b = decide_bound(run, _bench())
    assert (b["cause"], b["confidence"]) == ("unknown", "low") and "99 of 100" in b["summary"]


def test_bound_is_the_same_on_a_machine_k_times_faster() -> None:
    """Every time and bandwidth scaled by 1/k (k drawn at random): shares and ratios, hence the bound, stay."""
    rng = random.Random(1234)
    for _ in range(200):
        wall = rng.randint(1_000_000, 50_000_000)
        busy = rng.randint(0, wall)
        rwnd = rng.randint(0, busy)
        snd = rng.randint(0, busy - rwnd)
        delivered = rng.uniform(10, 2 * SINK_MB_S)
        init, pub, post = rng.uniform(0.1, 20), rng.uniform(0.1, 20), rng.uniform(0.0, 5)
        base = _run(delivered=delivered, publish=_phase(wall, busy, rwnd, snd, rng.choice([0, 5])),
                    phases=panel_phases(init_s=init, publish_s=pub, drain_s=0.1, post_s=post))
        k = rng.choice([0.25, 0.5, 2.0, 4.0])
        m = copy.deepcopy(base.metrics)
        m["throughput"]["delivered_mb_s"] = delivered * k
        m["tcp_phases"] = {"publish": _phase(int(wall / k), int(busy / k), int(rwnd / k), int(snd / k),
                                             m["tcp_phases"]["publish"]["retrans"])}
        m["phases"] = panel_phases(init_s=init / k, publish_s=pub / k, drain_s=0.1 / k, post_s=post / k)
        fast = panel_run(m, base.manifest)
        a, b = decide_bound(base, _bench()), decide_bound(fast, _bench(sink=SINK_MB_S * k))
        assert (a["cause"], a["confidence"]) == (b["cause"], b["confidence"]), (a, b)


def _per_broker(limits: dict[int, dict[str, int]], wall: int) -> dict[str, Any]:
    """A publish phase with one connection per broker, each with its own busy/rwnd/sndbuf/retrans."""
    per = {str(b): _phase(wall, **kw) for b, kw in limits.items()}
    total = {k: sum(v[k] for v in per.values()) for k in ("busy_us", "rwnd_limited_us", "sndbuf_limited_us",
                                                          "retrans")}
    out = _phase(wall * len(per), total["busy_us"], total["rwnd_limited_us"], total["sndbuf_limited_us"],
                 total["retrans"])
    return out | {"per_broker": per}


@pytest.mark.parametrize("seed", range(20))
def test_one_slow_path_among_idle_ones_names_its_limit_and_broker(seed: int) -> None:
    """A slow link (or a slow reader) on one broker idles the senders to the others: averaged over every
    connection that reads as an idle producer; per broker it is that broker's path, whatever the time scale."""
    rng = random.Random(seed)
    n = rng.randint(2, 6)
    slow = rng.randrange(n)
    wall = rng.randint(200_000, 60_000_000)
    kind = rng.choice(["network", "flow_control", "send_buffer"])
    busy = int(wall * rng.uniform(0.6, 0.99))
    lim = int(busy * rng.uniform(0.7, 0.95))
    slow_kw = {"busy": busy, "retrans": rng.randint(1, 500)} | (
        {"rwnd": lim} if kind == "flow_control" else {"snd": lim} if kind == "send_buffer" else {})
    limits = {b: (slow_kw if b == slow else {"busy": int(wall * rng.uniform(0.0, 0.25))}) for b in range(n)}
    b = decide_bound(_run(publish=_per_broker(limits, wall)), _bench())
    assert (b["cause"], b.get("brokers")) == (kind, [slow]), b
    assert f"broker {slow}" in b["summary"]


def _per_broker_walls(figs: dict[int, tuple[int, int, int]]) -> dict[str, Any]:
    """Like _per_broker, each broker with its own W: broker -> (wall, busy, retrans)."""
    per = {str(b): _phase(w, busy, retrans=r) for b, (w, busy, r) in figs.items()}
    tot = {k: sum(v[k] for v in per.values()) for k in ("wall_us", "busy_us", "retrans")}
    return _phase(tot["wall_us"], tot["busy_us"], retrans=tot["retrans"]) | {"per_broker": per}


@pytest.mark.parametrize("seed", range(20))
def test_a_path_busy_only_for_a_sliver_of_the_run_does_not_hold_it(seed: int) -> None:
    """The brokers whose sends were over within a sliver of the run, one of them busy for most of that sliver
    with retransmits, while the run waits on a broker whose sender idles (paused by its producer): no path
    holds the run, the idle senders name the producer (seen in partial_header: 70 % of 45 ms against 0.9 s)."""
    rng = random.Random(seed)
    n, long_b = rng.randint(3, 6), 0
    wall = rng.randint(200_000, 60_000_000)
    figs = {long_b: (wall, int(wall * rng.uniform(0.01, 0.05)), 0)}
    for b in range(1, n):
        sliver = int(wall * rng.uniform(0.02, 0.1))
        figs[b] = (sliver, int(sliver * rng.uniform(0.1, 0.3)), 0)
    busy_one = rng.randrange(1, n)
    w = figs[busy_one][0]
    figs[busy_one] = (w, int(w * rng.uniform(0.6, 0.95)), rng.randint(1, 9))
    b = decide_bound(_run(publish=_per_broker_walls(figs)), _bench())
    assert "brokers" not in b and b["cause"] == "client_producer", b
    # Nor does one whose few busy ticks carried few bytes (a producer pausing mid-batch on it): per busy second
    # it looks slow, but it was busy for a sliver of the run.
    conns = [{"broker": x, "busy_us": figs[x][1], "bytes_acked": 10**7 if x == busy_one else 10**9, "retrans": 0}
             for x in figs]
    b = decide_bound(_run(publish=_per_broker_walls(figs), tcp__connections=conns), _bench())
    assert "brokers" not in b and b["cause"] == "client_producer", b
    # The same brokers over the whole run's window: that one path does hold it.
    figs[busy_one] = (wall, int(wall * rng.uniform(0.6, 0.95)), rng.randint(1, 9))
    held = decide_bound(_run(publish=_per_broker_walls(figs)), _bench())
    assert held.get("brokers") == [busy_one] and held["cause"] == "network", held


def test_every_path_idle_is_still_the_producer() -> None:
    limits = {b: {"busy": 100_000 + 10_000 * b} for b in range(4)}
    b = decide_bound(_run(publish=_per_broker(limits, 4_000_000)), _bench())
    assert b["cause"] == "client_producer" and "brokers" not in b


def test_half_the_brokers_slow_is_not_one_slow_path() -> None:
    limits = {0: {"busy": 3_900_000, "retrans": 9}, 1: {"busy": 3_900_000, "retrans": 9},
              2: {"busy": 3_000_000, "rwnd": 2_800_000}, 3: {"busy": 200_000}}
    b = decide_bound(_run(publish=_per_broker(limits, 4_000_000)), _bench())
    assert "brokers" not in b


@pytest.mark.parametrize("seed", range(10))
def test_one_path_busy_far_longer_than_the_others_names_its_broker(seed: int) -> None:
    """Each connection busy all its W, but one broker's sends take several times longer (its link is slower):
    the aggregate reads 'network everywhere'; per broker it is that broker's path."""
    rng = random.Random(1000 + seed)
    n, slow = rng.randint(3, 6), None
    slow = rng.randrange(n)
    fast = rng.randint(100_000, 5_000_000)
    per = {}
    for b in range(n):
        wall = int(fast * (rng.uniform(2.5, 20) if b == slow else rng.uniform(0.8, 1.0)))
        per[str(b)] = _phase(wall, int(wall * 0.99), retrans=rng.randint(1, 300) if b == slow else 0)
    total = _phase(sum(v["wall_us"] for v in per.values()), sum(v["busy_us"] for v in per.values()), retrans=1)
    b = decide_bound(_run(publish=total | {"per_broker": per}), _bench())
    assert (b["cause"], b.get("brokers")) == ("network", [slow]), b


def test_paths_within_twice_each_other_name_no_broker() -> None:
    per = {str(b): _phase(1_000_000 + 300_000 * b, 990_000 + 300_000 * b, retrans=5) for b in range(4)}
    total = _phase(sum(v["wall_us"] for v in per.values()), sum(v["busy_us"] for v in per.values()), retrans=20)
    b = decide_bound(_run(publish=total | {"per_broker": per}), _bench())
    assert b["cause"] == "network" and "brokers" not in b


def test_a_late_path_without_retransmits_is_not_named() -> None:
    """A sender pausing mid-batch on one broker keeps data in flight longer, with no retransmit: no slow link."""
    per = {str(b): _phase(w, int(w * 0.99)) for b, w in enumerate((500_000, 520_000, 3_000_000, 480_000))}
    total = _phase(sum(v["wall_us"] for v in per.values()), sum(v["busy_us"] for v in per.values()))
    assert "brokers" not in decide_bound(_run(publish=total | {"per_broker": per}), _bench())


@pytest.mark.parametrize("seed", range(10))
def test_one_path_carrying_a_fraction_per_busy_second_names_its_broker(seed: int) -> None:
    """Every path busy about as long (within twice each other), none idle, but one carried at most a third of
    the others' bytes per busy second: that broker's path, whatever the absolute rates."""
    rng = random.Random(2000 + seed)
    n, base = rng.randint(3, 6), rng.uniform(1e6, 3e9)
    slow = rng.randrange(n)
    wall = rng.randint(500_000, 30_000_000)
    busy = {b: int(wall * (0.95 if b == slow else rng.uniform(0.6, 0.9))) for b in range(n)}
    per = {str(b): _phase(wall, busy[b], retrans=rng.randint(1, 50)) for b in range(n)}
    rates = {b: base * (rng.uniform(0.02, 0.33) if b == slow else rng.uniform(0.8, 1.2)) for b in range(n)}
    conns = [{"broker": b, "conn": 0, "busy_us": busy[b], "bytes_acked": int(rates[b] * busy[b] / 1e6),
              "retrans": 1} for b in range(n)]
    total = _phase(wall * n, sum(busy.values()), retrans=n)
    b = decide_bound(_run(publish=total | {"per_broker": per}, tcp__connections=conns), _bench())
    assert (b["cause"], b.get("brokers")) == ("network", [slow]), b
    assert f"broker_{slow}" in b["summary"] and "bytes per busy second" in b["summary"]
    conns[slow]["bytes_acked"] = int(base * 0.7 * busy[slow] / 1e6)  # within twice the others: no path stands out
    assert "brokers" not in decide_bound(_run(publish=total | {"per_broker": per}, tcp__connections=conns), _bench())
