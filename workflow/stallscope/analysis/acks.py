"""ACK accounting, throughput, client TCP evidence and the publish outcome, from client events and the manifest."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: the last events frame read and its client rows' fields by kind (frames are read-only once loaded)
_by_kind: tuple[weakref.ref[pd.DataFrame] | None, dict[str, list[dict[str, Any]]]] = (None, {})


def _fields(ev: pd.DataFrame, kind: str) -> list[dict[str, Any]]:
    """The client rows of one kind, in log order. The metrics read some sixty kinds from one frame: grouped
    once per frame instead of a boolean mask per read (a sixth of the pipeline on a small run, measured)."""
    global _by_kind
    ref, groups = _by_kind
    if ref is None or ref() is not ev:
        client = ev[ev["role"] == "client"]
        groups = {str(k): list(g) for k, g in client.groupby("kind", sort=False)["fields"]}
        _by_kind = (weakref.ref(ev), groups)
    return list(groups.get(kind, []))


def _last(ev: pd.DataFrame, kind: str, key: str) -> Any:
    vals = [f.get(key) for f in _fields(ev, kind) if f.get(key) is not None]
    return vals[-1] if vals else None


def _sum_by_broker(rows: list[dict[str, Any]], key: str) -> dict[str, int] | None:
    out: dict[str, int] = {}
    for f in rows:
        if isinstance(f.get("broker"), int) and isinstance(f.get(key), (int, float)):
            out[str(f["broker"])] = out.get(str(f["broker"]), 0) + int(f[key])
    return out or None


def expected_messages(ev: pd.DataFrame, params: dict[str, Any]) -> int | None:
    """Messages the client meant to publish: manifest, else banner, else the ACK target logged."""
    if params.get("message_count") is not None:
        return int(params["message_count"])
    size, total = _last(ev, "client_banner", "message_size"), _last(ev, "client_banner", "total_bytes")
    if size and total:
        return int(total) // int(size)
    for kind in ("ack_timeout", "ack_progress"):
        target = _last(ev, kind, "target")
        if target is not None:
            return int(target)
    return None


@dataclass(frozen=True)
class AckedSource:
    """One place a client log states how many messages were acknowledged."""

    kind: str  #: event kind (logs/catalogue.yaml)
    key: str  #: the field holding the count
    serves: str  #: which dialect logs it, and what the figure means there
    is_final_count: bool = True  #: False: it counts sent messages after an ACK timeout, so skip it then
    markers: tuple[str, ...] = ()  #: for ``phase``: the markers that end the ACK wait (the last one's count)


#: Where the acknowledged count is read, in order; the first source that has a value wins.
ACKED_SOURCES = (
    AckedSource("ack_timeout", "received", "the [Publisher ACK Timeout] block: e56e7c0 (`received N`), later "
                "Embarcadero builds (`normalized_received=N`) and refpub; the count when the wait gave up"),
    AckedSource("publish_finished", "messages", "e56e7c0's `Publisher finished sending N messages`, printed once "
                "every ACK arrived (after a timeout it is the sent count, not the acknowledged one)",
                is_final_count=False),
    AckedSource("ack_verify", "normalized_received", "HEAD-era Embarcadero's (cd62a6b) [ACK_VERIFY] final tally"),
    AckedSource("phase", "received", "[Phase] ack_done / ack_timeout markers of a SUT that adds `received=N` to "
                "them (refpub's carry none)", markers=("ack_done", "ack_timeout")),
    AckedSource("ack_progress", "received", "the last 1/s `Waiting for acknowledgments` line (every Embarcadero "
                "build and refpub): a floor when no final count was logged"),
)


def _acked_from(ev: pd.DataFrame, src: AckedSource) -> Any:
    if src.markers:  # the last end-of-wait marker speaks for the run, with its count or without
        ends = [f for f in _fields(ev, src.kind) if f.get("name") in src.markers]
        return ends[-1].get(src.key) if ends else None
    return _last(ev, src.kind, src.key)


def acked_messages(ev: pd.DataFrame, is_timeout: bool) -> int | None:
    """The client's count of acknowledged messages, from the first of ``ACKED_SOURCES`` that logged one."""
    for src in ACKED_SOURCES:
        if is_timeout and not src.is_final_count:
            continue
        value = _acked_from(ev, src)
        if value is not None:
            return value
    return None


def compute_acks(ev: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Expected vs received ACKs, per broker, timeout facts and the 1/s progress series."""
    expected = expected_messages(ev, params)
    is_timeout = bool(_fields(ev, "ack_timeout")) or any(f.get("name") == "ack_timeout" for f in _fields(ev, "phase"))
    received = acked_messages(ev, is_timeout)
    progress = [
        {"elapsed_s": f.get("elapsed_s"), "received": f.get("received"), "per_broker": f.get("per_broker") or {}}
        for f in _fields(ev, "ack_progress")
    ]
    apb = _fields(ev, "ack_per_broker")
    per = apb[-1].get("per_broker") if apb else (progress[-1]["per_broker"] if progress else None)
    if per is None:  # HEAD's client with its network-path profile on: per broker, the messages acknowledged
        per = {str(k): v for k, v in (_sum_by_broker(_fields(ev, "net_profile_broker"), "acked_messages")
                                      or {}).items()} or None
    nb = params.get("brokers")
    if per is not None:
        per = {b: n for b, n in per.items() if n or (nb is not None and int(b) < nb)}
    sent = apb[-1].get("sent") if apb and apb[-1].get("sent") else _sum_by_broker(_fields(ev, "send_stats"), "messages")
    batches = _last(ev, "batch_stats", "total_batches_sent")
    if batches is None:
        bsum = _sum_by_broker(_fields(ev, "send_stats"), "batches")
        batches = sum(bsum.values()) if bsum else None
    timeout_s = _last(ev, "ack_timeout", "timeout_s") or _last(ev, "ack_progress", "timeout_s")
    if timeout_s is None:
        timeout_s = params.get("ack_timeout_s")
    return {
        "expected": expected,
        "received": received,
        "per_broker": per,
        "sent_per_broker": sent,
        "completeness": round(received / expected, 6) if received is not None and expected else None,
        "is_timeout": is_timeout,
        "timeout_s": timeout_s,
        "waited_s": _last(ev, "ack_timeout", "waited_s"),
        "batches_sent": batches,
        "sent_all": _last(ev, "batch_stats", "sent_all"),
        "progress": progress,
    }


#: Where the delivered MB/s is read, in order: the `Bandwidth:` line (e56e7c0, refpub, HEAD's publish test), else
#: HEAD's end-to-end test's `Publish completed in S seconds, M MB/s` (the same figure: publish to the last ACK).
DELIVERED_SOURCES = ("bandwidth", "publish_completed")


def delivered_mb_s(ev: pd.DataFrame) -> float | None:
    """The client's delivered MB/s (MB = 2^20, ACK wait included) from the first source that logged one."""
    for kind in DELIVERED_SOURCES:
        v = _last(ev, kind, "mb_s")
        if v is not None:
            return v
    return None


def compute_throughput(ev: pd.DataFrame) -> dict[str, Any]:
    """Delivered and producer-side bandwidth, EAGAINs, time blocked in send, bytes sent."""
    ss = _fields(ev, "send_stats")
    blocked = [f["send_blocked_us"] for f in ss if isinstance(f.get("send_blocked_us"), (int, float))]
    sent_bytes = [f["bytes"] for f in ss if isinstance(f.get("bytes"), int)]
    eagain = _last(ev, "pipeline_profile", "eagain_count")
    if eagain is None:
        vals = [f["eagain"] for f in ss if isinstance(f.get("eagain"), int)]
        eagain = sum(vals) if vals else None
    return {
        "delivered_mb_s": delivered_mb_s(ev),
        "publish_bw_mb_s": _last(ev, "pipeline_profile", "publish_bw_mb_s"),
        "eagain_count": eagain,
        "completed_s": _last(ev, "publish_completed", "seconds"),
        "send_blocked_s": round(sum(blocked) / 1e6, 6) if blocked else None,
        "bytes_sent": sum(sent_bytes) if sent_bytes else None,
    }


_TCP_SUMS = ("busy_us", "rwnd_limited_us", "sndbuf_limited_us", "send_blocked_us")


def _fractions(d: dict[str, Any]) -> dict[str, Any]:
    busy = d["busy_us"]
    d["rwnd_fraction"] = round(d["rwnd_limited_us"] / busy, 6) if busy else None
    d["sndbuf_fraction"] = round(d["sndbuf_limited_us"] / busy, 6) if busy else None
    return d


def compute_tcp(ev: pd.DataFrame) -> dict[str, Any] | None:
    """Client tcp_info per connection and summed, with rwnd- and sndbuf-limited fractions of busy time."""
    infos = _fields(ev, "tcp_info")
    if not infos:
        return None
    blocked = {(f.get("broker"), f.get("conn")): f.get("send_blocked_us") for f in _fields(ev, "send_stats")}
    conns = []
    for f in infos:
        c = {k: f.get(k) for k in ("broker", "conn", "busy_us", "rwnd_limited_us", "sndbuf_limited_us",
                                   "bytes_acked", "retrans")}
        c["send_blocked_us"] = blocked.get((f.get("broker"), f.get("conn")))
        conns.append(c)

    def sums(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return _fractions({k: sum(int(r.get(k) or 0) for r in rows) for k in _TCP_SUMS})

    per = {str(b): sums([c for c in conns if c["broker"] == b]) for b in sorted({c["broker"] for c in conns
                                                                                  if isinstance(c["broker"], int)})}
    return {"connections": conns, **sums(conns), "per_broker": per}


def compute_outcome(ev: pd.DataFrame, manifest: dict[str, Any]) -> dict[str, Any]:
    """Client exit code, whether the publish succeeded by its own log, and whether the harness worked."""
    kinds = set(ev.loc[ev["role"] == "client", "kind"])
    names = {f.get("name") for f in _fields(ev, "phase")}
    if kinds & {"ack_timeout", "publish_failed"} or "ack_timeout" in names:
        ok: bool | None = False
    elif kinds & {"publish_completed", "publish_finished"} or "ack_done" in names:
        ok = True
    else:
        ok = None
    codes = [p.get("exit_code") for p in manifest.get("processes", []) if p.get("role") == "client"]
    return {"client_exit_code": codes[0] if codes else None, "publish_ok": ok,
            "harness_ok": manifest["harness"]["ok"]}
