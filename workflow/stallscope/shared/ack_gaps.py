"""What each broker still owes in ACKs when the wait ends, and whether that is in flight or an ACK path that stopped.

Shared by the diagnosis, the bound and the over-claim predicates; None when the counts are unknown.
"""

from __future__ import annotations

from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import num
from stallscope.shared.wire import batch_bytes, max_messages_per_batch


def in_flight_allowance(run: RunDir) -> int:
    """Messages a broker may legitimately owe when the ACK wait ends: one batch per connection to it.

    A run cut off by its deadline (a slow producer) has just handed its last batches over; their ACKs are in
    flight, not lost. Seen: 1,927 messages (one 2 MiB batch) short on one broker of a slow-producer run.
    Unknown parameters (ingested logs) allow nothing.
    """
    size, conns = num(run.param("message_size")), num(run.param("threads_per_broker"))
    batch = batch_bytes({"batch_bytes": num(run.param("batch_bytes"))})
    if size is None or conns is None or size <= 0:
        return 0
    per_batch = max_messages_per_batch(batch, int(size))
    return int(conns) * per_batch


def flat_through_wait(run: RunDir) -> set[str]:
    """Brokers whose ACK count stood still across the ACK wait's progress samples (two or more): ACKs in flight
    arrive within round trips, so what a broker still owes after a whole flat interval is not in flight."""
    prog = [p for p in run.get("acks.progress") or [] if isinstance(p, dict) and isinstance(p.get("per_broker"), dict)]
    samples = [p["per_broker"] for p in prog]
    final, waited = run.get("acks.per_broker"), num(run.get("acks.waited_s"))
    if prog and isinstance(final, dict) and waited is not None and waited > (num(prog[-1].get("elapsed_s")) or waited):
        samples.append(final)  # the count when the wait ended, later than the last sample
    if len(samples) < 2:
        return set()
    last = samples[-1]
    return {str(b) for b, v in last.items() if all(s.get(b) == v for s in samples)}


def ack_gap_brokers(run: RunDir) -> list[str] | None:
    """Brokers whose ACKs lag what they were sent (or what they received) by more than what can be in flight
    (nothing, for a broker whose count stood still through the ACK wait); None when unknown."""
    allowance = in_flight_allowance(run)
    flat = flat_through_wait(run)
    acked = run.get("acks.per_broker")
    base = run.get("acks.sent_per_broker")
    if not isinstance(base, dict) or not base:
        recv = run.get("received.per_broker")
        base = {b: (v or {}).get("messages") for b, v in recv.items()} if isinstance(recv, dict) else None
    if not isinstance(acked, dict) or not isinstance(base, dict) or not base:
        return None
    gaps = []
    for b, sent in base.items():
        a, s = num(acked.get(b)), num(sent)
        if a is None or s is None:
            return None
        if s - a > (0 if str(b) in flat else allowance):
            gaps.append(str(b))
    return gaps


def ack_gap_on_one_broker(run: RunDir) -> bool | None:
    """Exactly one broker's ACKs lag while the others are complete (an ACK path that stopped advancing)."""
    gaps = ack_gap_brokers(run)
    if gaps is None:
        return None
    n = len(run.get("acks.per_broker") or {})
    return len(gaps) == 1 and n >= 2
