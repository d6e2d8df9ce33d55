"""What a broker may owe when the ACK wait ends: one batch per connection in flight, unless its count stood still
through the wait (then nothing owed is in flight)."""

from __future__ import annotations

import random

from stallscope.shared.ack_gaps import ack_gap_brokers, in_flight_allowance
from tests.builders.panel import panel_run
from tests.panel.signatures import ack_path


def _run(owed_batches: int, progress: list[dict[str, int]] | None, seed: int):
    """Broker 2 owes ``owed_batches`` batches per connection's allowance; every other broker is complete."""
    m, man = ack_path()
    rng = random.Random(seed)
    man["params"]["threads_per_broker"] = rng.randint(1, 4)
    allowance = in_flight_allowance(panel_run(m, man))
    sent = rng.randint(allowance * 2 + 1, allowance * 10)
    acked = {b: sent for b in "0123"}
    acked["2"] = sent - int(allowance * owed_batches)
    m["acks"]["per_broker"] = acked
    m["acks"]["sent_per_broker"] = {b: sent for b in "0123"}
    m["acks"]["progress"] = None if progress is None else [
        {"elapsed_s": i + 1.0, "received": sum(p.values()), "per_broker": dict(p)}
        for i, p in enumerate(progress)]
    return panel_run(m, man), acked


def test_within_allowance_without_progress_is_in_flight() -> None:
    for seed in range(20):
        run, _ = _run(1, None, seed)
        assert ack_gap_brokers(run) == []


def test_within_allowance_but_flat_through_the_wait_is_a_gap() -> None:
    for seed in range(20):
        _, acked = _run(1, None, seed)
        run, _ = _run(1, [acked, acked], seed)
        assert ack_gap_brokers(run) == ["2"]


def test_within_allowance_and_still_moving_is_in_flight() -> None:
    for seed in range(20):
        run, acked = _run(1, None, seed)
        earlier = dict(acked, **{"2": acked["2"] - 1})
        run, _ = _run(1, [earlier, acked], seed)
        assert ack_gap_brokers(run) == []


def test_one_sample_says_nothing_about_standing_still() -> None:
    _, acked = _run(1, None, 3)
    run, _ = _run(1, [acked], 3)
    run.metrics["acks"]["waited_s"] = 1.0
    assert ack_gap_brokers(run) == []


def test_one_sample_and_a_later_end_of_wait_are_two() -> None:
    _, acked = _run(1, None, 3)
    run, _ = _run(1, [acked], 3)
    run.metrics["acks"]["waited_s"] = 2.0
    assert ack_gap_brokers(run) == ["2"]
    earlier = dict(acked, **{"2": acked["2"] - 5})
    run, _ = _run(1, [earlier], 3)
    run.metrics["acks"]["waited_s"] = 2.0
    assert ack_gap_brokers(run) == []


def test_beyond_allowance_is_a_gap_either_way() -> None:
    for seed in range(20):
        run, _ = _run(3, None, seed)
        assert ack_gap_brokers(run) == ["2"]
