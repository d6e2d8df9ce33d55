"""The host bound and the CPU rule for a confident slow producer, from hand-built CPU shares drawn at random."""

from __future__ import annotations

import random
from typing import Any

import pytest

from stallscope.diagnose.bound import decide_bound
from stallscope.diagnose.diagnosis import diagnose
from stallscope.diagnose.thresholds import ONE_THREAD, RUNQ_PER_CORE, SATURATED
from tests.builders.panel import panel_manifest, panel_metrics, panel_run
from tests.diagnose.test_bound import SINK_MB_S as SINK
from tests.diagnose.test_bound import _bench, _phase
from tests.panel.signatures import ALL

SEED = random.randrange(2**32)


def _cpu(busy: float, runq: float, producer: float, top: float | None = None) -> dict[str, Any]:
    top = max(producer, top or 0.0)
    return {"status": "measured", "reason": None, "source": "cpu.csv", "cores": 2, "interval_s": 0.1, "node": "h",
            "phases": {"publish": {
                "start_us": 0, "end_us": 2_000_000, "samples": 20, "resolved": True, "host_busy_share": busy,
                "sut_share_of_cores": 0.5, "other_share_of_cores": max(busy - 0.6, 0.0), "sut_runq_per_core": runq,
                "busiest_thread": {"role": "client", "thread": "producer", "cpu_share": top},
                "roles": {"client": {"cpu_share": producer}},
                "threads": {"client": {"producer": {"count": 1, "cpu_share_max": producer,
                                                    "cpu_share_sum": producer, "wait_share_max": 0.1}}}}}}


def _run(cpu: dict[str, Any] | None, faults: dict[str, Any] | None = None, delivered: float = 500.0) -> Any:
    m = panel_metrics("unit")
    m["throughput"]["delivered_mb_s"] = delivered
    m["tcp_phases"] = {"publish": _phase(4_000_000, 200_000)}  # senders idle 95 %: client_producer, high
    if cpu is not None:
        m["cpu"] = cpu
    man = panel_manifest("unit")
    man["faults"] = dict(faults or {})
    return panel_run(m, man)


@pytest.mark.parametrize("draw", range(20))
def test_saturated_cores_with_queued_threads_and_no_busy_thread_read_host_cpu(draw: int) -> None:
    rng = random.Random(f"{SEED}-{draw}")
    busy, runq = rng.uniform(SATURATED, 1.0), rng.uniform(RUNQ_PER_CORE, 8.0)
    prod = rng.uniform(0.0, ONE_THREAD - 0.01)
    b = decide_bound(_run(_cpu(busy, runq, prod)), _bench())
    assert b["cause"] == "host_cpu", (SEED, b)
    assert b["shares"]["host_busy_share"] == busy and b["shares"]["sut_runq_per_core"] == runq


@pytest.mark.parametrize("draw", range(20))
def test_host_cpu_needs_every_sign(draw: int) -> None:
    """Idle cores, threads that do not queue (a sleeping producer or receiver), or one thread on CPU nearly all
    the publish: not the host."""
    rng = random.Random(f"{SEED}-{draw}")
    missing = rng.choice(["busy", "runq", "thread"])
    busy = rng.uniform(0.0, SATURATED - 0.01) if missing == "busy" else rng.uniform(SATURATED, 1.0)
    runq = rng.uniform(0.0, RUNQ_PER_CORE - 0.01) if missing == "runq" else rng.uniform(RUNQ_PER_CORE, 8.0)
    prod = rng.uniform(ONE_THREAD, 1.0) if missing == "thread" else rng.uniform(0.0, 0.5)
    b = decide_bound(_run(_cpu(busy, runq, prod)), _bench())
    assert b["cause"] == "client_producer", (SEED, missing, b)
    assert b["confidence"] == ("high" if missing == "thread" else "medium"), (SEED, missing, b)


@pytest.mark.parametrize("draw", range(10))
def test_a_sink_share_of_none_wins_over_the_host_high_only_without_other_load(draw: int) -> None:
    rng = random.Random(f"{SEED}-{draw}")
    cpu = _cpu(1.0, 4.0, 0.2)
    loaded = rng.random() < 0.5
    cpu["phases"]["publish"]["other_share_of_cores"] = rng.uniform(0.5, 1.0) if loaded else rng.uniform(0, 0.49)
    b = decide_bound(_run(cpu, delivered=3900.0), _bench())
    assert b["cause"] == ("host_cpu" if loaded else "none"), (SEED, b)  # the host's signs hold in this cpu
    assert b["confidence"] == "high" and b["shares"]["share_of_sink"] == round(3900 / SINK, 4)
    cpu["phases"]["publish"]["sut_runq_per_core"] = rng.uniform(0.0, RUNQ_PER_CORE - 0.01)  # no queueing
    b = decide_bound(_run(cpu, delivered=3900.0), _bench())
    assert (b["cause"], b["confidence"]) == ("none", "medium" if loaded else "high"), (SEED, b)


def test_idle_senders_stay_a_confident_producer_when_injected_or_without_cpu_evidence() -> None:
    assert decide_bound(_run(_cpu(0.5, 0.1, 0.1), {"producer_cost_ns": 1000}), _bench())["confidence"] == "high"
    assert decide_bound(_run(None), _bench())["confidence"] == "high"  # logs from elsewhere: unchanged
    unresolved = _cpu(0.5, 0.1, 0.1)
    unresolved["phases"]["publish"]["resolved"] = False
    b = decide_bound(_run(unresolved, {"producer_cost_ns": 1000}), _bench())
    assert (b["cause"], b["confidence"]) == ("client_producer", "medium") and "too short" in b["summary"]


@pytest.mark.parametrize("draw", range(10))
def test_a_sender_bound_is_high_only_where_the_machine_is_ruled_out(draw: int) -> None:
    """Receive-window limited senders (a slow reader): high on idle cores or with one thread the limit, medium on
    saturated cores with no such thread (a reader waiting for a core reads the same)."""
    rng = random.Random(f"{SEED}-{draw}")
    m = panel_metrics("unit")
    m["throughput"]["delivered_mb_s"] = 500.0
    m["tcp_phases"] = {"publish": _phase(4_000_000, 3_900_000, rwnd=3_500_000)}
    saturated, one = rng.random() < 0.5, rng.random() < 0.5
    m["cpu"] = _cpu(rng.uniform(SATURATED, 1.0) if saturated else rng.uniform(0.1, SATURATED - 0.01),
                    rng.uniform(0.0, RUNQ_PER_CORE - 0.01), 0.1,
                    top=rng.uniform(ONE_THREAD, 1.0) if one else rng.uniform(0.0, ONE_THREAD - 0.01))
    b = decide_bound(panel_run(m, panel_manifest("unit")), _bench())
    assert b["cause"] == "flow_control", (SEED, b)
    assert b["confidence"] == ("medium" if saturated and not one else "high"), (SEED, saturated, one, b)


def test_none_is_medium_and_says_so_when_the_broker_beat_the_sink() -> None:
    bench = _bench() | {"anchor": {"beaten_repeats": [2]}}
    b = decide_bound(_run(None, delivered=3900.0), bench)
    assert (b["cause"], b["confidence"]) == ("none", "medium") and "not an upper bound" in b["summary"]
    assert decide_bound(_run(None, delivered=3900.0), _bench() | {"anchor": {"beaten_repeats": []}})[
        "confidence"] == "high"


@pytest.mark.parametrize("draw", range(10))
def test_queueing_gives_way_to_senders_held_by_the_receive_window(draw: int) -> None:
    rng = random.Random(f"{SEED}-{draw}")
    held = rng.random() < 0.5
    runq = rng.uniform(RUNQ_PER_CORE, 8.0)
    m = panel_metrics("unit")
    m["throughput"]["delivered_mb_s"] = 500.0
    wall = 4_000_000
    rwnd = int(wall * (rng.uniform(0.5, 0.95) if held else rng.uniform(0.0, 0.3)))
    m["tcp_phases"] = {"publish": _phase(wall, min(wall, rwnd + 100_000), rwnd=rwnd)}
    m["cpu"] = _cpu(rng.uniform(SATURATED, 1.0), runq, 0.1)
    b = decide_bound(panel_run(m, panel_manifest("unit")), _bench())
    assert b["cause"] == ("flow_control" if held else "host_cpu"), (SEED, runq, b)
    if held:  # saturated cores, no thread the limit: the machine is not ruled out
        assert b["confidence"] != "high", (SEED, b)


@pytest.mark.parametrize("draw", range(6))
def test_a_slow_producer_diagnosis_is_high_only_with_its_fault_or_its_thread_on_cpu(draw: int) -> None:
    rng = random.Random(f"{SEED}-{draw}")
    m, man = ALL["slow_producer_10gb"]()
    base = diagnose(panel_run(m, man))
    assert (base["bottleneck"], base["confidence"]) == ("client_producer", "high")  # fault set, no CPU evidence
    injected, busy_thread = rng.random() < 0.5, rng.random() < 0.5
    if not injected:
        man["faults"] = {}
    m["cpu"] = _cpu(rng.uniform(0.0, 1.0), rng.uniform(0.0, 4.0),
                    rng.uniform(ONE_THREAD, 1.0) if busy_thread else rng.uniform(0.0, ONE_THREAD - 0.01))
    d = diagnose(panel_run(m, man))
    assert d["bottleneck"] == "client_producer", d["summary"]
    if injected or busy_thread:
        assert d["confidence"] == "high", (SEED, d["summary"])
    else:
        assert d["confidence"] == "medium" and "may have waited for the machine" in d["summary"], (SEED, d)


@pytest.mark.parametrize("knob", ["producer_cost_ns", "header_pause_ms", "recv_delay_us", "consume_delay_ms"])
def test_a_role_slowed_on_purpose_is_the_limit_not_the_busy_machine(knob: str) -> None:
    """A paced producer sleeps and its senders idle, as on a starved machine; with its fault set, the senders name
    it (seen: producer_cost_ns 3,614 read host_cpu high under a load average of 13)."""
    rng = random.Random(f"{SEED}-{knob}")
    b = decide_bound(_run(_cpu(rng.uniform(SATURATED, 1.0), rng.uniform(RUNQ_PER_CORE, 8.0), 0.05),
                          {knob: rng.randint(1, 5000)}), _bench())
    assert b["cause"] == "client_producer" and b["confidence"] == "medium", (SEED, b)  # saturated: not high
