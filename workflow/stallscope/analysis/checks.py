"""Consistency checks between counters: a run whose counters disagree is evidence of a bug or a broken run."""

from __future__ import annotations

from typing import Any

from stallscope.shared.wire import batch_bytes as run_batch_bytes
from stallscope.shared.wire import max_messages_per_batch


def _check(name: str, status: str, detail: str) -> dict[str, str]:
    return {"name": name, "status": status, "detail": detail}


def compute_checks(acks: dict[str, Any], received: dict[str, Any], banner: dict[str, Any] | None,
                   params: dict[str, Any]) -> list[dict[str, str]]:
    """Run every check; each passes, fails or is unknown (the data cannot tell)."""
    out = []
    rec = acks.get("received")
    sent_map = acks.get("sent_per_broker")
    sent = sum(sent_map.values()) if sent_map else None
    if rec is None or sent is None:
        out.append(_check("acked_le_sent", "unknown", "acknowledged or sent count not logged"))
    else:
        out.append(_check("acked_le_sent", "pass" if rec <= sent else "fail", f"acknowledged {rec}, sent {sent}"))

    size = params.get("message_size") or (banner or {}).get("message_size")
    batch_bytes = run_batch_bytes(params)
    batches = acks.get("batches_sent")
    if not size or batches is None:
        out.append(_check("sent_le_batches_capacity", "unknown", "message size or batch count not logged"))
    else:
        per_batch = max_messages_per_batch(batch_bytes, size)
        cap = batches * per_batch
        if sent is not None:
            st = "pass" if sent <= cap else "fail"
            out.append(_check("sent_le_batches_capacity", st, f"sent {sent}, capacity {batches} x {per_batch}"))
        elif rec is not None and rec > cap:
            out.append(_check("sent_le_batches_capacity", "fail", f"acknowledged {rec} > capacity {cap}"))
        else:
            out.append(_check("sent_le_batches_capacity", "unknown", f"sent count not logged; capacity {cap}"))

    per = acks.get("per_broker")
    if per is None or rec is None:
        out.append(_check("per_broker_acks_sum_to_total", "unknown", "per-broker or total ACKs not logged"))
    else:
        total = sum(per.values())
        st = "pass" if total == rec else "fail"
        detail = f"sum of per-broker {total}, total {rec}"
        if acks.get("per_broker_source") == "broker_log" and total < rec:
            # the brokers log their ACK counters about every 3 s: the last line may predate the last ACKs
            st, detail = "unknown", detail + " (broker-side counters, logged every few seconds, may lag)"
        out.append(_check("per_broker_acks_sum_to_total", st, detail))

    bad, known = [], 0
    for b, n in (per or {}).items():
        msgs = received["per_broker"].get(b, {}).get("messages")
        if msgs is None:
            continue
        known += 1
        if msgs < n:
            bad.append(f"B{b}: received {msgs} < acked {n}")
    if not known:
        out.append(_check("broker_received_vs_acks", "unknown", "no broker-side message counts"))
    else:
        out.append(_check("broker_received_vs_acks", "fail" if bad else "pass",
                          "; ".join(bad) or f"{known} broker(s) received >= acked"))

    pairs = {"message_size": "message_size", "total_bytes": "total_bytes",
             "threads_per_broker": "threads_per_broker", "ack_level": "ack_level", "order": "order_level"}
    if not banner:
        out.append(_check("banner_matches_manifest", "unknown", "no client banner"))
    else:
        compared = [(p, params.get(p), banner.get(f)) for p, f in pairs.items()
                    if params.get(p) is not None and banner.get(f) is not None]
        diff = [f"{p}: manifest {m}, banner {v}" for p, m, v in compared if m != v]
        if not compared:
            out.append(_check("banner_matches_manifest", "unknown", "manifest has no parameters to compare"))
        else:
            out.append(_check("banner_matches_manifest", "fail" if diff else "pass",
                              "; ".join(diff) or f"{len(compared)} parameter(s) agree"))
    return out
