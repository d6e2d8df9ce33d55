"""The headline figures of a run (``claims.json`` ``runs[].key_figures``): the panel fills them from metrics.json,
the index compares them across commits. One table, so the two cannot name a figure differently."""

from __future__ import annotations

#: figure name -> its dotted path in metrics.json (the claims schema lists the same names)
KEY_FIGURES: dict[str, str] = {
    "stalls_total": "stalls.total.count",
    "stalls_during_run": "stalls.total.during_run",
    "stalls_after_client_done": "stalls.total.after_client_done",
    "acks_received": "acks.received",
    "acks_expected": "acks.expected",
    "ack_completeness": "acks.completeness",
    "delivered_mb_s": "throughput.delivered_mb_s",
    "init_wait_s": "init.wait_s",
    "ring_full_events": "ring_full.events",
}
