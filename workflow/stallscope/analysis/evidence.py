"""What a run holds as evidence, and the per-phase sender shares its throughput bound is read from.

A claim or a bound may only use a source the run has: a client log alone says nothing about broker stalls, and
logs from a broker build without stall timers hold no ``[STALL]`` line whether or not the broker stalled. So every
run lists its sources here (``metrics.evidence``); the panel turns a missing source into ``not_run`` naming it.

The sender shares come from refpub's ``[TcpPhase]`` lines: the kernel's chronographs (busy, rwnd-limited,
sndbuf-limited) differenced at phase boundaries, with the phase's wall time W. Over W a sender is idle (nothing to
send: the producer), receiver-window limited (flow control), send-buffer limited, or busy with neither (network or
congestion window). Shares, not times, so a faster machine gives the same answer (``../shared/reference/tcp-info.md``).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from stallscope.analysis.thresholds import MIN_READABLE_SHARE
from stallscope.shared.vocabulary import ACK_TIMEOUT, COMPLETED, CRASHED, FAILED, HARNESS_ERROR, UNKNOWN

_BATCHES = re.compile(r"SendPayload batches: (\d+)")
_STALL_KINDS = ("stall_header", "stall_partial", "stall_payload")


def _client(ev: pd.DataFrame, kind: str) -> pd.DataFrame:
    return ev.loc[(ev["role"] == "client") & (ev["kind"] == kind)]


def _cite(row: pd.Series) -> dict[str, Any]:
    return {"file": str(row["file"]), "line": int(row["line"]), "text": str(row["text"])[:300]}


def _last_with(ev: pd.DataFrame, kind: str, key: str) -> pd.Series | None:
    rows = _client(ev, kind)
    hits = [r for _, r in rows.iterrows() if isinstance(r["fields"], dict) and r["fields"].get(key) is not None]
    return hits[-1] if hits else None


def stall_timers(ev: pd.DataFrame, manifest: dict[str, Any]) -> dict[str, str]:
    """Whether the broker build logs ``[STALL]`` lines: ``yes``, ``no`` or ``unknown``, with how that is known.

    A ``[STALL]`` line proves the timers; refbroker says ``stall_timers=0|1`` in its metrics line; otherwise the
    run's manifest (config or ``assess-logs --stall-timers``) may say. Silence alone proves nothing.
    """
    broker = ev.loc[ev["role"] == "broker"]
    if broker["kind"].isin(_STALL_KINDS).any():
        return {"state": "yes", "source": "[STALL] lines in the broker logs"}
    for f in broker.loc[broker["kind"] == "broker_metrics", "fields"]:
        v = f.get("stall_timers") if isinstance(f, dict) else None
        if v in (0, 1):
            return {"state": "yes" if v else "no", "source": "the broker's [BrokerMetrics] stall_timers field"}
    declared = manifest.get("stall_timers")
    if declared in ("yes", "no"):
        return {"state": declared, "source": "declared for this run (config or --stall-timers)"}
    return {"state": "unknown", "source": "no [STALL] line and nothing declares whether the build has the timers"}


def readable(lines: dict[str, Any], events: int) -> dict[str, Any]:
    """Line accounting over every file: how many lines could not be read, and whether anything was recognised."""
    total = sum(int(v.get("total") or 0) for v in lines.values())
    bad = sum(int(v.get("unparseable") or 0) for v in lines.values())
    share = round((total - bad) / total, 6) if total else None
    nothing = events == 0 or share is None or share < MIN_READABLE_SHARE
    return {"lines_total": total, "lines_unreadable": bad, "readable_share": share, "events": events,
            "judged_on_nothing": nothing}


def inventory(ev: pd.DataFrame, lines: dict[str, Any], manifest: dict[str, Any], present: dict[str, bool]
              ) -> dict[str, Any]:
    """The run's evidence sources (``metrics.evidence``)."""
    files = manifest["files"]
    brokers = sum(1 for n in files["broker_logs"] if present.get(n))
    names = files.get("client_logs") or ([files["client_log"]] if files["client_log"] else [])
    clients = sum(1 for n in names if present.get(n))
    kinds = set(ev.loc[ev["role"] == "client", "kind"])
    per_sent = bool(kinds & {"send_stats"}) or any(
        isinstance(f, dict) and f.get("sent") for f in _client(ev, "ack_per_broker")["fields"])
    per_ack = bool(kinds & {"ack_per_broker", "ack_progress"}) or bool(
        (ev.loc[ev["role"] == "broker", "kind"] == "broker_acks").any())
    read = readable(lines, len(ev))
    inv = {
        "broker_logs": brokers,
        "client_logs": clients,
        "stall_timers": stall_timers(ev, manifest),
        "tcp_info": "tcp_info" in kinds,
        "tcp_phases": "tcp_phase" in kinds,
        "producer_profile": _last_with(ev, "pipeline_profile", "publish_bw_mb_s") is not None,
        "per_broker_sent": per_sent,
        "per_broker_acks": per_ack,
        "banner": "client_banner" in kinds,
        **read,
    }
    if read["judged_on_nothing"]:
        # Nothing readable is nothing to judge on: no source counts, whatever a stray match found.
        inv.update({k: False for k in ("tcp_info", "tcp_phases", "producer_profile", "per_broker_sent",
                                       "per_broker_acks", "banner")})
        inv["stall_timers"] = {"state": "unknown", "source": "most lines are unreadable"}
    return inv


def outcome_status(outcome: dict[str, Any], acks_m: dict[str, Any]) -> str:
    """How the run ended, in one word: completed, ack_timeout, failed, crashed, harness_error or unknown."""
    if not outcome.get("harness_ok"):
        return HARNESS_ERROR
    if acks_m.get("is_timeout"):
        return ACK_TIMEOUT
    if outcome.get("publish_ok") is True:
        return COMPLETED
    if outcome.get("publish_ok") is False:
        return FAILED
    code = outcome.get("client_exit_code")
    return CRASHED if isinstance(code, int) and code != 0 else UNKNOWN


def _share(num: float, den: float) -> float | None:
    return round(num / den, 6) if den > 0 else None


def _phase_shares(sel: list[dict[str, Any]]) -> dict[str, Any]:
    """The chronographs of ``sel`` (one phase's connection rows) summed, with their shares of wall and busy time."""

    def total(key: str) -> int:
        return sum(int(f.get(key) or 0) for f in sel if isinstance(f.get(key), (int, float)))

    wall, busy = total("wall_us"), total("busy_us")
    rwnd, snd = total("rwnd_limited_us"), total("sndbuf_limited_us")
    busy = min(busy, wall) if wall else busy
    other = max(busy - rwnd - snd, 0)
    return {
        "connections": len(sel), "wall_us": wall, "busy_us": busy, "rwnd_limited_us": rwnd,
        "sndbuf_limited_us": snd, "retrans": total("retrans"),
        "idle_share": None if not wall else round(1 - busy / wall, 6),
        "rwnd_share": _share(rwnd, wall), "sndbuf_share": _share(snd, wall), "network_share": _share(other, wall),
        "rwnd_of_busy": _share(rwnd, busy), "sndbuf_of_busy": _share(snd, busy),
    }


def tcp_phases(ev: pd.DataFrame) -> dict[str, Any] | None:
    """Per phase, the senders' chronographs summed over connections and their shares of wall and busy time; with
    ``per_broker`` the same per broker, so one slow path among fast ones is seen, not averaged away."""
    rows = [f for f in _client(ev, "tcp_phase")["fields"] if isinstance(f, dict)]
    if not rows:
        return None
    out: dict[str, Any] = {}
    for phase in sorted({str(f.get("phase")) for f in rows}):
        sel = [f for f in rows if str(f.get("phase")) == phase]
        out[phase] = _phase_shares(sel)
        brokers = sorted({f["broker"] for f in sel if isinstance(f.get("broker"), int)
                          and not isinstance(f.get("broker"), bool)})
        if len(brokers) > 1:
            out[phase]["per_broker"] = {str(b): _phase_shares([f for f in sel if f.get("broker") == b])
                                        for b in brokers}
    return out


def producer(ev: pd.DataFrame) -> dict[str, Any]:
    """The producer-side figures a bound cites by file and line: Publish() bandwidth, EAGAINs, delivered MB/s."""
    pb = _last_with(ev, "pipeline_profile", "publish_bw_mb_s")
    ea = _last_with(ev, "pipeline_profile", "eagain_count")
    bw = _last_with(ev, "bandwidth", "mb_s")
    if bw is None:
        bw = _last_with(ev, "publish_completed", "mb_s")
    batches = None
    if ea is not None:
        m = _BATCHES.search(str(ea["text"]))
        batches = int(m.group(1)) if m else None
    return {
        "publish_bw_mb_s": None if pb is None else float(pb["fields"]["publish_bw_mb_s"]),
        "eagain_count": None if ea is None else int(ea["fields"]["eagain_count"]),
        "send_batches": batches,
        "delivered_mb_s": None if bw is None else float(bw["fields"]["mb_s"]),
        "cites": {k: _cite(r) for k, r in (("publish_bw", pb), ("eagain", ea), ("delivered", bw)) if r is not None},
    }
