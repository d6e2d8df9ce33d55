"""Consistency checks between counters: a run whose counters disagree is evidence of a bug or a broken run.

One function per check, registered in ``CHECKS`` (name -> function), the only place that names them (like the
panel's ``PREDICATES``); ``metrics.schema.json`` lists the same names and a test keeps the two equal. Each
function returns ``(status, detail)``: ``pass``, ``fail`` or ``unknown`` (the data cannot tell) and the figures
compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stallscope.shared.wire import batch_bytes as run_batch_bytes
from stallscope.shared.wire import max_messages_per_batch


@dataclass(frozen=True)
class Counters:
    """What every check reads: the ACK figures, the brokers' received counts, the client banner, the parameters."""

    acks: dict[str, Any]
    received: dict[str, Any]
    banner: dict[str, Any] | None
    params: dict[str, Any]

    @property
    def acked(self) -> int | None:
        """Messages acknowledged in total (None when not logged)."""
        return self.acks.get("received")

    @property
    def sent(self) -> int | None:
        """Messages sent over all brokers (None when the per-broker sent counts were not logged)."""
        sent_map = self.acks.get("sent_per_broker")
        return sum(sent_map.values()) if sent_map else None


Status = tuple[str, str]


def acked_le_sent(c: Counters) -> Status:
    """No more messages acknowledged than sent."""
    if c.acked is None or c.sent is None:
        return "unknown", "acknowledged or sent count not logged"
    return ("pass" if c.acked <= c.sent else "fail"), f"acknowledged {c.acked}, sent {c.sent}"


def sent_le_batches_capacity(c: Counters) -> Status:
    """No more messages sent (or, without a sent count, acknowledged) than the batches sent can hold."""
    size = c.params.get("message_size") or (c.banner or {}).get("message_size")
    batch_bytes = run_batch_bytes(c.params)
    batches = c.acks.get("batches_sent")
    if not size or batches is None:
        return "unknown", "message size or batch count not logged"
    per_batch = max_messages_per_batch(batch_bytes, size)
    cap = batches * per_batch
    if c.sent is not None:
        return ("pass" if c.sent <= cap else "fail"), f"sent {c.sent}, capacity {batches} x {per_batch}"
    if c.acked is not None and c.acked > cap:
        return "fail", f"acknowledged {c.acked} > capacity {cap}"
    return "unknown", f"sent count not logged; capacity {cap}"


def per_broker_acks_sum_to_total(c: Counters) -> Status:
    """The per-broker ACK counts add up to the total."""
    per = c.acks.get("per_broker")
    if per is None or c.acked is None:
        return "unknown", "per-broker or total ACKs not logged"
    total = sum(per.values())
    detail = f"sum of per-broker {total}, total {c.acked}"
    if c.acks.get("per_broker_source") == "broker_log" and total < c.acked:
        # the brokers log their ACK counters about every 3 s: the last line may predate the last ACKs
        return "unknown", detail + " (broker-side counters, logged every few seconds, may lag)"
    return ("pass" if total == c.acked else "fail"), detail


def broker_received_vs_acks(c: Counters) -> Status:
    """Each broker received at least as many messages as it acknowledged."""
    bad, known = [], 0
    for b, n in (c.acks.get("per_broker") or {}).items():
        msgs = c.received["per_broker"].get(b, {}).get("messages")
        if msgs is None:
            continue
        known += 1
        if msgs < n:
            bad.append(f"B{b}: received {msgs} < acked {n}")
    if not known:
        return "unknown", "no broker-side message counts"
    return ("fail" if bad else "pass"), "; ".join(bad) or f"{known} broker(s) received >= acked"


#: manifest parameter -> the client banner's field for it
_BANNER_FIELDS = {"message_size": "message_size", "total_bytes": "total_bytes",
                  "threads_per_broker": "threads_per_broker", "ack_level": "ack_level", "order": "order_level"}


def banner_matches_manifest(c: Counters) -> Status:
    """The client's banner states the parameters the manifest says the run was started with."""
    if not c.banner:
        return "unknown", "no client banner"
    compared = [(p, c.params.get(p), c.banner.get(f)) for p, f in _BANNER_FIELDS.items()
                if c.params.get(p) is not None and c.banner.get(f) is not None]
    if not compared:
        return "unknown", "manifest has no parameters to compare"
    diff = [f"{p}: manifest {m}, banner {v}" for p, m, v in compared if m != v]
    return ("fail" if diff else "pass"), "; ".join(diff) or f"{len(compared)} parameter(s) agree"


Check = Callable[[Counters], Status]

#: Every check, in the order metrics.json lists them.
CHECKS: dict[str, Check] = {
    "acked_le_sent": acked_le_sent,
    "sent_le_batches_capacity": sent_le_batches_capacity,
    "per_broker_acks_sum_to_total": per_broker_acks_sum_to_total,
    "broker_received_vs_acks": broker_received_vs_acks,
    "banner_matches_manifest": banner_matches_manifest,
}


def compute_checks(acks: dict[str, Any], received: dict[str, Any], banner: dict[str, Any] | None,
                   params: dict[str, Any]) -> list[dict[str, str]]:
    """Run every check of ``CHECKS``; each passes, fails or is unknown (the data cannot tell)."""
    counters = Counters(acks, received, banner, params)
    out = []
    for name, check in CHECKS.items():
        status, detail = check(counters)
        out.append({"name": name, "status": status, "detail": detail})
    return out
