"""Signals only the failure diagnosis reads: the run's symptom (ACKs short), time blocked in send(), a sender's
pauses inside a batch, and stalls after the client finished that end in a close.

Like ``shared/signals.py`` (the signals the panel's predicates read too): None when the figures are unknown.
"""

from __future__ import annotations

from typing import Any

from stallscope.diagnose.thresholds import (
    CONCENTRATED_SHARE,
    MIN_PAYLOAD_PAUSES,
    PAUSE_OVER_THRESHOLD,
    PAUSE_SHARE,
)
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import LONG_STALL_MS, max_stall_ms, num, phase_stalls


def publish_s(run: RunDir) -> float | None:
    """Length of the publish phase (else the publisher's completion time)."""
    return num(run.get("phases.publish.duration_s")) or num(run.get("throughput.completed_s"))


def send_blocked_share(run: RunDir) -> float | None:
    """Time the senders spent blocked in send() over the publish time."""
    blocked = num(run.get("throughput.send_blocked_s"))
    if blocked is None and num(run.get("tcp.send_blocked_us")) is not None:
        blocked = num(run.get("tcp.send_blocked_us")) / 1e6  # type: ignore[operator]
    dur = publish_s(run)
    if blocked is None or not dur:
        return None
    return blocked / dur


def is_ack_short(run: RunDir) -> bool | None:
    """ACKs fell short of the expected count (or the publisher timed out waiting)."""
    if run.get("acks.is_timeout") is True:
        return True
    rec, exp = num(run.get("acks.received")), num(run.get("acks.expected"))
    if rec is None or exp is None:
        return None if run.get("acks.is_timeout") is None else False
    return rec < exp


def has_symptom(run: RunDir) -> bool:
    """The run failed the way the panel chases: ACKs fell short or the publisher timed out.

    A healthy run that saturates loopback on two cores is receiver-bound (its senders look rwnd-limited) and
    logs short stalls spread over every broker from scheduling alone (seen: 177 stalls of 50-180 ms in a
    10 GiB run at 2.5 GB/s with every ACK in), so transport signals and stall counts without a shortfall
    name no bottleneck.
    """
    return is_ack_short(run) is True


def mid_batch_pauses(run: RunDir, queued: bool = False) -> int | None:
    """Stalls inside a batch that look like the sender pausing, not like scheduling noise.

    A partial-header stall means the sender stopped inside a 128-byte header. Payload stalls count only when
    one broker has nearly all of them, there are a few, and they are long or took a fair share of the publish (one
    sender pausing); spread over every broker, one or two, or short and a sliver of the publish, they are
    contention. ``queued``: the CPU samples show the run's threads queued for saturated cores during the publish;
    then a reader or a sender waiting for a core stalls mid-batch too, and only long stalls (``PAUSE_OVER_THRESHOLD``
    thresholds, median) are a sender's own pauses (seen: six 96 ms payload stalls on one broker, 22 % of a
    2.7 s publish, in a healthy 10 GiB run whose threads waited 6 cores' worth of time in the run queue).
    """
    partial = [phase_stalls(run, p, "partial") for p in ("init", "publish", "drain")]
    if all(v is None for v in partial):
        return None
    per = run.get("stalls.per_broker") or {}
    n = sum(v or 0 for v in partial)
    if queued:  # only the partial-header stalls of brokers where they were long
        n = sum(int(num(((v.get("by_phase") or {}).get(p) or {}).get("partial")) or 0)
                for v in per.values() if _long(run, (v.get("by_kind") or {}).get("partial") or {})
                for p in ("init", "publish", "drain"))
    payload = {b: num((v.get("by_kind") or {}).get("payload", {}).get("count")) or 0 for b, v in per.items()}
    total = sum(payload.values())
    # A sender's pauses that shaped the run take a fair share of its publish; the machine pausing (scheduling or
    # reclaim on shared cores) also stalls one broker's payload reads now and then, for a sliver of it.
    if (total >= MIN_PAYLOAD_PAUSES and len(payload) >= 2 and max(payload.values()) >= CONCENTRATED_SHARE * total
            and _paused(run, per[max(payload, key=lambda b: payload[b])].get("by_kind") or {}, queued)):
        n += int(total)
    return n


def _long(run: RunDir, kind: dict[str, Any]) -> bool:
    """One broker's stalls of one kind last ``PAUSE_OVER_THRESHOLD`` stall thresholds or more (median)."""
    median, threshold = num(kind.get("median_ms")), num(run.param("stall_threshold_ms"))
    return median is not None and bool(threshold) and median >= PAUSE_OVER_THRESHOLD * threshold  # type: ignore[operator]


def _paused(run: RunDir, kinds: dict[str, Any], queued: bool = False) -> bool:
    """One broker's payload stalls (``kinds``: its stalls by kind) are long (``PAUSE_OVER_THRESHOLD`` times the stall
    threshold, median) or, unless the run's threads queued for the cores, took ``PAUSE_SHARE`` of the publish
    phase: a sender's pauses, not the machine's."""
    if _long(run, kinds.get("payload") or {}):
        return True
    if queued:
        return False
    publish = num(run.get("phases.publish.duration_s"))
    ms = sum(num((kinds.get(k) or {}).get("total_ms")) or 0 for k in ("payload", "partial"))
    return bool(publish) and ms / 1000 / publish >= PAUSE_SHARE  # type: ignore[operator]


def after_stalls_end_in_close(run: RunDir) -> bool | None:
    """A long stall began after the client finished sending and some stall ended in a peer close."""
    after = num(run.get("stalls.total.after_client_done"))
    if after is None:
        post, drain = phase_stalls(run, "post"), phase_stalls(run, "drain")
        after = None if post is None and drain is None else float((post or 0) + (drain or 0))
    closed, longest = num(run.get("stalls.total.ended_in_close")), max_stall_ms(run)
    if closed is None or longest is None or after is None:
        return None
    return after >= 1 and closed >= 1 and longest >= LONG_STALL_MS
