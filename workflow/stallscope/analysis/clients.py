"""Per-client figures of a run, their sums, and the broker-side ACK counters.

A multi-client run has one client log per host; each is analysed on its own events (``events.csv`` rows of that
file) with the same functions as a single client, and the run's ACK and throughput figures are their sums, as the
driver's TOTAL line sums each client's MB/s. When no client logs per-broker ACKs, the brokers' own AckThread
counters (``Broker:<b> Acknowledgments <n>``, about every 3 s per client connection) fill ``acks.per_broker``:
the last count of each AckThread, summed per broker.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from stallscope.analysis import acks, timeseries
from stallscope.errors import StallscopeError

_HOST = re.compile(r"^client_(.+)\.log$")


def _sum(vals: list[Any]) -> Any:
    """Sum of figures, null as soon as one is unknown (a partial sum would read as a smaller run)."""
    if not vals or any(v is None for v in vals):
        return None
    total = sum(vals)
    return round(total, 6) if isinstance(total, float) else total


def _sum_maps(maps: list[dict[str, int] | None]) -> dict[str, int] | None:
    if not maps or any(m is None for m in maps):
        return None
    out: dict[str, int] = {}
    for m in maps:
        for k, v in (m or {}).items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def host_of(name: str) -> str | None:
    """The client host a log name stands for (``client_c4.log`` -> ``c4``); None for ``client.log``."""
    m = _HOST.match(name)
    return m.group(1) if m else None


def client_entry(ev: pd.DataFrame, name: str, params: dict[str, Any], run_dir: Path,
                 series: str | None) -> dict[str, Any]:
    """One client's figures from its own log's events (and its time series when the run has one)."""
    sub = ev[ev["file"] == name]
    a = acks.compute_acks(sub, {"brokers": params.get("brokers")})
    t = acks.compute_throughput(sub)
    bw = [f for f in sub.loc[(sub["role"] == "client") & (sub["kind"] == "bandwidth"), "fields"]]
    send_done = bw[-1].get("send_done_mb_s") if bw else None
    out = acks.compute_outcome(sub, {"processes": [], "harness": {"ok": True}})
    entry: dict[str, Any] = {
        "file": name, "host": host_of(name),
        "acks": {k: a[k] for k in ("expected", "received", "per_broker", "completeness", "is_timeout")},
        "throughput": {"delivered_mb_s": t["delivered_mb_s"], "send_done_mb_s": send_done,
                       "publish_bw_mb_s": t["publish_bw_mb_s"], "completed_s": t["completed_s"],
                       "ack_wait_ms": _poll_ack_wait_ms(sub)},
        "publish_ok": out["publish_ok"], "timeseries": None, "timeseries_error": None,
        "client_id": _client_id(sub),
    }
    if series:
        try:
            entry["timeseries"] = timeseries.client_series(run_dir, series)
        except StallscopeError as exc:
            entry["timeseries_error"] = str(exc)
    return entry


def _poll_ack_wait_ms(sub: pd.DataFrame) -> float | None:
    """The client's wait for its last ACK after sending, as its ``[POLL_BREAKDOWN]`` states it."""
    vals = [f.get("ack_wait_ms") for f in sub.loc[(sub["role"] == "client") & (sub["kind"] == "poll_breakdown"),
                                                  "fields"] if isinstance(f, dict)]
    vals = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return float(vals[-1]) if vals else None


def _client_id(sub: pd.DataFrame) -> int | None:
    """The client's id as the brokers see it: the most frequent ``client_id`` of its own log's records."""
    ids = [f["client_id"] for f in sub.loc[sub["role"] == "client", "fields"]
           if isinstance(f, dict) and isinstance(f.get("client_id"), int) and not isinstance(f.get("client_id"), bool)]
    return max(set(ids), key=ids.count) if ids else None


def compute_clients(ev: pd.DataFrame, names: list[str], params: dict[str, Any], run_dir: Path,
                    series: dict[str, str]) -> list[dict[str, Any]]:
    """Per-client entries of every client log, in manifest order."""
    return [client_entry(ev, n, params, run_dir, series.get(n)) for n in names]


def clients_total(clients: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The clients summed: the driver's TOTAL (MB/s) and SENDDONE, ACKs received and expected."""
    if not clients:
        return None
    return {
        "count": len(clients),
        "delivered_mb_s": _sum([c["throughput"]["delivered_mb_s"] for c in clients]),
        "send_done_mb_s": _sum([c["throughput"]["send_done_mb_s"] for c in clients]),
        "acks_received": _sum([c["acks"]["received"] for c in clients]),
        "acks_expected": _sum([c["acks"]["expected"] for c in clients]),
    }


def summed_acks(ev: pd.DataFrame, names: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """The run's ``acks`` over several clients: counts summed, a timeout anywhere is the run's."""
    per = [acks.compute_acks(ev[ev["file"] == n], {"brokers": params.get("brokers")}) for n in names]
    expected = params.get("message_count")
    if expected is None:
        expected = _sum([p["expected"] for p in per])
    received = _sum([p["received"] for p in per])
    flags = [p["sent_all"] for p in per]
    return {
        "expected": expected,
        "received": received,
        "per_broker": _sum_maps([p["per_broker"] for p in per]),
        "sent_per_broker": _sum_maps([p["sent_per_broker"] for p in per]),
        "completeness": round(received / expected, 6) if received is not None and expected else None,
        "is_timeout": any(p["is_timeout"] for p in per),
        "timeout_s": max((p["timeout_s"] for p in per if p["timeout_s"] is not None), default=None),
        "waited_s": max((p["waited_s"] for p in per if p["waited_s"] is not None), default=None),
        "batches_sent": _sum([p["batches_sent"] for p in per]),
        "sent_all": False if False in flags else (True if flags and all(flags) else None),
        "progress": per[0]["progress"] if per else [],
    }


def summed_throughput(ev: pd.DataFrame, names: list[str]) -> dict[str, Any]:
    """The run's ``throughput`` over several clients: rates and counts summed, the longest completion time."""
    per = [acks.compute_throughput(ev[ev["file"] == n]) for n in names]
    return {
        "delivered_mb_s": _sum([p["delivered_mb_s"] for p in per]),
        "publish_bw_mb_s": _sum([p["publish_bw_mb_s"] for p in per]),
        "eagain_count": _sum([p["eagain_count"] for p in per]),
        "completed_s": max((p["completed_s"] for p in per if p["completed_s"] is not None), default=None),
        "send_blocked_s": _sum([p["send_blocked_s"] for p in per]),
        "bytes_sent": _sum([p["bytes_sent"] for p in per]),
    }


def summed_outcome(clients: list[dict[str, Any]], base: dict[str, Any]) -> dict[str, Any]:
    """The run succeeded when every client did; failed when one did; else unknown."""
    oks = [c["publish_ok"] for c in clients]
    ok = False if False in oks else (True if oks and all(o is True for o in oks) else None)
    return {**base, "publish_ok": ok}


def broker_side_acks(ev: pd.DataFrame) -> dict[str, int] | None:
    """Per-broker ACKs from the brokers' AckThread counters: last count per thread, summed per broker."""
    rows = ev[(ev["role"] == "broker") & (ev["kind"] == "broker_acks")]
    if rows.empty:
        return None
    last: dict[tuple[str, int, int], int] = {}
    for f, file, tid in zip(rows["fields"], rows["file"], rows["tid"], strict=True):
        b, n = f.get("ack_broker"), f.get("acks")
        if isinstance(b, int) and isinstance(n, int):
            last[(file, int(tid) if pd.notna(tid) else -1, b)] = n
    out: dict[str, int] = {}
    for (_, _, b), n in last.items():
        out[str(b)] = out.get(str(b), 0) + n
    return dict(sorted(out.items(), key=lambda kv: int(kv[0]))) or None
