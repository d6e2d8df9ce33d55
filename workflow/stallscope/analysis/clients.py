"""Per-client figures of a run, their sums, and the broker-side ACK counters.

A run has one client log per client host (one log for a single client, none when the client's log is missing);
each is analysed on its own events (``events.csv`` rows of that file), once, and the run's ACK, throughput and
outcome figures are those of its clients summed, as the driver's TOTAL line sums each client's MB/s. One client is
the n = 1 case: a sum of one term is that term, unrounded and in its own key order, so a single client's figures
are the run's exactly. When no client logs per-broker ACKs, the brokers' own AckThread counters
(``Broker:<b> Acknowledgments <n>``, about every 3 s per client connection) fill ``acks.per_broker``: the last
count of each AckThread, summed per broker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stallscope.analysis import acks, timeseries
from stallscope.errors import StallscopeError

_HOST = re.compile(r"^client_(.+)\.log$")


def sum_known(vals: list[Any]) -> Any:
    """Sum of figures, null as soon as one is unknown (a partial sum would read as a smaller run).

    Several floats are rounded to 6 places against the noise adding them leaves; a single term is returned as is.
    """
    if not vals or any(v is None for v in vals):
        return None
    if len(vals) == 1:
        return vals[0]
    total = sum(vals)
    return round(total, 6) if isinstance(total, float) else total


def _sum_maps(maps: list[dict[str, int] | None]) -> dict[str, int] | None:
    """Per-broker counts summed, in broker order; null as soon as one client's are unknown; one map as it is."""
    if not maps or any(m is None for m in maps):
        return None
    if len(maps) == 1:
        return dict(maps[0] or {})
    out: dict[str, int] = {}
    for m in maps:
        for k, v in (m or {}).items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def _longest(vals: list[Any]) -> Any:
    """The largest known figure (a time the run lasted as long as its slowest client), or null."""
    return max((v for v in vals if v is not None), default=None)


def alone(vals: list[Any]) -> Any:
    """A figure a client states of itself that is not summed over clients: the run's only when it has one client."""
    return vals[0] if len(vals) == 1 else None


@dataclass(frozen=True)
class ClientLog:
    """One client log's events and the figures read from them alone: computed once, read by the client's entry
    in ``metrics.clients`` and by the run's sums."""

    name: str
    events: pd.DataFrame
    acks: dict[str, Any]
    throughput: dict[str, Any]
    publish_ok: bool | None


def read_clients(ev: pd.DataFrame, names: list[str], params: dict[str, Any]) -> list[ClientLog]:
    """Each client log's figures from its own rows, in manifest order (an empty list when no client log is there)."""
    out = []
    for name in names:
        sub = ev[ev["file"] == name]
        out.append(ClientLog(name, sub, acks.compute_acks(sub, {"brokers": params.get("brokers")}),
                             acks.compute_throughput(sub),
                             acks.compute_outcome(sub, {"processes": [], "harness": {"ok": True}})["publish_ok"]))
    return out


def client_params(params: dict[str, Any], n: int) -> dict[str, Any]:
    """The run's parameters as each of its ``n`` clients states them: its banner's total_bytes is its own share."""
    out = dict(params)
    if n and isinstance(params.get("total_bytes"), int):
        out["total_bytes"] = params["total_bytes"] // n
    return out


def host_of(name: str) -> str | None:
    """The client host a log name stands for (``client_c4.log`` -> ``c4``); None for ``client.log``."""
    m = _HOST.match(name)
    return m.group(1) if m else None


def client_entry(log: ClientLog, run_dir: Path, series: str | None) -> dict[str, Any]:
    """One client's figures from its own log's events (and its time series when the run has one)."""
    sub, a, t = log.events, log.acks, log.throughput
    bw = [f for f in sub.loc[(sub["role"] == "client") & (sub["kind"] == "bandwidth"), "fields"]]
    send_done = bw[-1].get("send_done_mb_s") if bw else None
    entry: dict[str, Any] = {
        "file": log.name, "host": host_of(log.name),
        "acks": {k: a[k] for k in ("expected", "received", "per_broker", "completeness", "is_timeout")},
        "throughput": {"delivered_mb_s": t["delivered_mb_s"], "send_done_mb_s": send_done,
                       "publish_bw_mb_s": t["publish_bw_mb_s"], "completed_s": t["completed_s"],
                       "ack_wait_ms": _poll_ack_wait_ms(sub)},
        "publish_ok": log.publish_ok, "timeseries": None, "timeseries_error": None,
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


def compute_clients(logs: list[ClientLog], run_dir: Path, series: dict[str, str]) -> list[dict[str, Any]]:
    """Per-client entries of every client log, in manifest order."""
    return [client_entry(log, run_dir, series.get(log.name)) for log in logs]


def clients_total(clients: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The clients summed: the driver's TOTAL (MB/s) and SENDDONE, ACKs received and expected."""
    if not clients:
        return None
    return {
        "count": len(clients),
        "delivered_mb_s": sum_known([c["throughput"]["delivered_mb_s"] for c in clients]),
        "send_done_mb_s": sum_known([c["throughput"]["send_done_mb_s"] for c in clients]),
        "acks_received": sum_known([c["acks"]["received"] for c in clients]),
        "acks_expected": sum_known([c["acks"]["expected"] for c in clients]),
    }


def summed_acks(logs: list[ClientLog], params: dict[str, Any]) -> dict[str, Any]:
    """The run's ``acks`` over its clients: counts summed, a timeout anywhere is the run's.

    The manifest's message count and ACK timeout speak for the run when set (the timeout: when no client logs its
    own); the clients' banners and lines otherwise."""
    per = [log.acks for log in logs]
    expected = params.get("message_count")
    expected = int(expected) if expected is not None else sum_known([p["expected"] for p in per])
    received = sum_known([p["received"] for p in per])
    timeout_s = _longest([p["timeout_s"] for p in per])
    flags = [p["sent_all"] for p in per]
    return {
        "expected": expected,
        "received": received,
        "per_broker": _sum_maps([p["per_broker"] for p in per]),
        "sent_per_broker": _sum_maps([p["sent_per_broker"] for p in per]),
        "completeness": round(received / expected, 6) if received is not None and expected else None,
        "is_timeout": any(p["is_timeout"] for p in per),
        "timeout_s": timeout_s if timeout_s is not None else params.get("ack_timeout_s"),
        "waited_s": _longest([p["waited_s"] for p in per]),
        "batches_sent": sum_known([p["batches_sent"] for p in per]),
        "sent_all": False if False in flags else (True if flags and all(flags) else None),
        "progress": per[0]["progress"] if per else [],
    }


def summed_throughput(logs: list[ClientLog]) -> dict[str, Any]:
    """The run's ``throughput`` over its clients: rates and counts summed, the longest completion time."""
    per = [log.throughput for log in logs]
    return {
        "delivered_mb_s": sum_known([p["delivered_mb_s"] for p in per]),
        "publish_bw_mb_s": sum_known([p["publish_bw_mb_s"] for p in per]),
        "eagain_count": sum_known([p["eagain_count"] for p in per]),
        "completed_s": _longest([p["completed_s"] for p in per]),
        "send_blocked_s": sum_known([p["send_blocked_s"] for p in per]),
        "bytes_sent": sum_known([p["bytes_sent"] for p in per]),
    }


def summed_outcome(logs: list[ClientLog], base: dict[str, Any]) -> dict[str, Any]:
    """The run succeeded when every client did; failed when one did; else (or with no client log) unknown."""
    oks = [log.publish_ok for log in logs]
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
