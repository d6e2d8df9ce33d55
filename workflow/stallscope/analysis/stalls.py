"""Summarise broker-side stalls, ring-full events and received data, per broker and in total."""

from __future__ import annotations

from typing import Any

import pandas as pd

from stallscope.analysis.phases import PHASES, phase_of

KINDS = {"stall_header": "header", "stall_partial": "partial", "stall_payload": "payload"}
_CLOSES = ("conn_closed", "conn_closed_partial_header", "conn_closed_payload")


def _dist(ms: pd.Series) -> dict[str, Any]:
    if ms.empty:
        return {"count": 0, "min_ms": None, "median_ms": None, "p90_ms": None, "max_ms": None, "total_ms": None}
    return {
        "count": int(ms.size),
        "min_ms": int(ms.min()),
        "median_ms": float(ms.median()),
        "p90_ms": float(ms.quantile(0.9)),
        "max_ms": int(ms.max()),
        "total_ms": int(ms.sum()),
    }


def stall_frame(ev: pd.DataFrame, phases: dict[str, Any]) -> pd.DataFrame:
    """One row per stall with its short kind, begin time, phase and whether it ended in a close."""
    brk = ev[ev["role"] == "broker"].copy()
    brk["_next_kind"] = brk.groupby(["file", "tid"], sort=False)["kind"].shift(-1)
    st = brk[brk["kind"].isin(KINDS)].copy()
    if st.empty:
        return pd.DataFrame(columns=["file", "line", "broker", "short", "duration_ms", "begin_us", "phase", "closed",
                                     "end_phase"])
    st["short"] = st["kind"].map(KINDS)
    st["duration_ms"] = pd.to_numeric(st["duration_ms"], errors="coerce").fillna(0).astype("int64")
    st["begin_us"] = st["ts_us"] - st["duration_ms"] * 1000
    st["phase"] = [phase_of(t, phases) for t in st["begin_us"]]
    zero = [
        (k == "stall_header" and f.get("bytes_read") == 0) or (k == "stall_partial" and f.get("recv_ret") == 0)
        for k, f in zip(st["kind"], st["fields"], strict=True)
    ]
    st["closed"] = pd.Series(zero, index=st.index) | st["_next_kind"].isin(_CLOSES)
    st["end_phase"] = [phase_of(t, phases) for t in st["ts_us"]]
    return st


def sending_phases(phases: dict[str, Any]) -> tuple[str, ...]:
    """Phases in which the client was still sending.

    With the publisher's own markers, drain begins at send_done; derived from a real client's log it begins
    where the ACK wait began, while Embarcadero's sender threads may still be sending, so drain counts as
    sending there.
    """
    return ("init", "publish") if phases.get("source") == "markers" else ("init", "publish", "drain")


def _closed_late(st: pd.DataFrame, sending: tuple[str, ...]) -> pd.Series:
    # An idle connection's wait that ends in the close after the client finished belongs with the
    # post-completion stalls (the seed's 10 s blocks), wherever it began.
    return st["closed"].astype(bool) & st["end_phase"].isin(PHASES) & ~st["end_phase"].isin(sending)


def _summary(st: pd.DataFrame, sending: tuple[str, ...]) -> dict[str, Any]:
    closed_late = _closed_late(st, sending)
    began_late = st["phase"].isin(PHASES) & ~st["phase"].isin(sending)
    during = st["phase"].isin(sending) & ~closed_late
    after = began_late | closed_late
    by_phase = {}
    for ph in (*PHASES, "unknown"):
        sub = st[st["phase"] == ph]
        counts = {s: int((sub["short"] == s).sum()) for s in KINDS.values()}
        by_phase[ph] = {**counts, "total": int(len(sub))}
    return {
        "count": int(len(st)),
        "by_kind": {s: _dist(st.loc[st["short"] == s, "duration_ms"]) for s in KINDS.values()},
        "by_phase": by_phase,
        "ended_in_close": int(st["closed"].sum()) if len(st) else 0,
        "during_run": int(during.sum()),
        "during_run_by_kind": {s: int((during & (st["short"] == s)).sum()) for s in KINDS.values()},
        "after_client_done": int(after.sum()),
    }


def _broker_keys(ev: pd.DataFrame, extra: list[int]) -> list[int]:
    seen = {int(b) for b in ev.loc[ev["role"] == "broker", "broker"].dropna()}
    return sorted(seen | set(extra))


def _sites(st: pd.DataFrame, sending: tuple[str, ...]) -> list[dict[str, Any]]:
    """Stalls that began while the client was sending, per code site (the glog ``file.cc:line``) and kind: which
    receive blocked, on which brokers, how often (the panel's question about the 10 GB run)."""
    if st.empty or "src" not in st.columns:
        return []
    during = st[st["phase"].isin(sending) & ~_closed_late(st, sending)]  # as ``during_run`` counts them
    out = []
    for (src, short), sub in during.groupby(["src", "short"], sort=False):
        per = sub["broker"].dropna().astype(int).value_counts()
        # recv returned -1: a socket receive timeout (or an error) cut the wait, no byte arrived; the next stall
        # line continues the same wait
        failed = sum(1 for f in sub["fields"] if f.get("bytes_read", f.get("recv_ret")) == -1)
        out.append({"site": str(src), "kind": str(short), "count": int(len(sub)),
                    "max_ms": int(sub["duration_ms"].max()), "returned_minus_one": failed,
                    "per_broker": {str(b): int(n) for b, n in sorted(per.items())}})
    return sorted(out, key=lambda d: (-d["count"], d["site"]))


def compute_stalls(st: pd.DataFrame, brokers: list[int], phases: dict[str, Any]) -> dict[str, Any]:
    """Stall counts and duration statistics by kind and phase, in total and per broker; the sites of those
    that began while the client was sending."""
    sending = sending_phases(phases)
    per = {str(b): _summary(st[st["broker"] == b], sending) for b in brokers}
    return {"total": _summary(st, sending), "per_broker": per, "sites_while_sending": _sites(st, sending)}


def compute_ring_full(ev: pd.DataFrame, brokers: list[int]) -> dict[str, Any]:
    """Count logged ring-full lines and the highest process-wide ring-full counter seen."""
    rf = ev[ev["kind"] == "ring_full"]

    def one(sub: pd.DataFrame) -> dict[str, Any]:
        tot = [f.get("total_ring_full") for f in sub["fields"] if f.get("total_ring_full") is not None]
        return {"events": int(len(sub)), "max_total_ring_full": max(tot) if tot else None}

    per = {str(b): one(rf[rf["broker"] == b]) for b in brokers}
    total = one(rf)
    return {"events": total["events"], "max_total_ring_full": total["max_total_ring_full"], "per_broker": per}


def compute_received(ev: pd.DataFrame, brokers: list[int]) -> dict[str, Any]:
    """Batches, bytes and messages each broker received, from its metrics line or batch_data_complete."""
    per: dict[str, Any] = {}
    for b in brokers:
        sub = ev[ev["broker"] == b]
        bm = sub[sub["kind"] == "broker_metrics"]
        bdc = sub[sub["kind"] == "batch_data_complete"]
        rec: dict[str, Any] = {"batches": None, "bytes": None, "messages": None, "source": None}
        if not bm.empty and any(k in bm.iloc[-1]["fields"] for k in ("batches", "bytes", "messages")):
            f = bm.iloc[-1]["fields"]
            rec = {k: f.get(k) if isinstance(f.get(k), int) else None for k in ("batches", "bytes", "messages")}
            rec["source"] = "broker_metrics"
        elif not bdc.empty:
            totals = [f.get("total") for f in bdc["fields"] if isinstance(f.get("total"), int)]
            rec["batches"] = max(totals) if totals else None
            rec["source"] = "batch_data_complete"
        elif not (sd := sub[sub["kind"] == "subscribe_send_diag"]).empty:
            # HEAD's end-to-end test: what each broker handed its subscriber (headers included), summed per thread
            rows = [f for f in sd["fields"] if isinstance(f, dict)]
            rec["batches"] = sum(int(f.get("batches") or 0) for f in rows)
            rec["bytes"] = sum(int(f.get("bytes") or 0) for f in rows)
            rec["source"] = "subscribe_send_diag"
        per[str(b)] = rec
    total = {}
    for k in ("batches", "bytes", "messages"):
        vals = [r[k] for r in per.values()]
        total[k] = sum(vals) if vals and all(v is not None for v in vals) else None
    return {"per_broker": per, "total": total}
