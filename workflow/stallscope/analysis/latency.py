"""ACK latency per broker from refpub's end-of-run ``[AckLatency]`` and ``[AckLatencyHist]`` lines.

refpub measures, per broker, the time from each batch's intended send (when the producer sealed it) to the ACK
that covers it, in a log-linear histogram (2 significant digits). The percentiles are taken as logged (they are
the histogram's, not recomputed here); the buckets are kept so the report can draw the CCDF. Batches never
acknowledged are counted in ``unacked``, not dropped.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

PERCENTILES = ("p50_us", "p90_us", "p99_us", "p999_us", "max_us")


def parse_buckets(text: str) -> list[list[int]]:
    """``"1003:2,2047:5"`` -> ``[[1003, 2], [2047, 5]]``; malformed items are skipped."""
    out: list[list[int]] = []
    for item in (text or "").split(","):
        ub, _, count = item.partition(":")
        if ub.isdigit() and count.isdigit():
            out.append([int(ub), int(count)])
    return out


def compute_latency(ev: pd.DataFrame) -> dict[str, Any] | None:
    """``{"recording": "on"|"off", "per_broker": {b: {batches, acked, unacked, p50_us, ..., histogram}}}`` or
    None when the client logged no latency line (another publisher, or an old refpub)."""
    if (ev["kind"] == "ack_latency_off").any():
        return {"recording": "off", "per_broker": {}}
    rows = ev[ev["kind"] == "ack_latency"]
    if rows.empty:
        return None
    per: dict[str, dict[str, Any]] = {}
    for f in rows["fields"]:
        if isinstance(f.get("broker"), int):
            per[str(f["broker"])] = {k: f.get(k) for k in ("batches", "acked", "unacked", *PERCENTILES)} | {
                "histogram": []}
    for f in ev.loc[ev["kind"] == "ack_latency_hist", "fields"]:
        b = str(f.get("broker"))
        if b in per:
            per[b]["histogram"] = parse_buckets(str(f.get("buckets_us") or ""))
    return {"recording": "on", "per_broker": per}
