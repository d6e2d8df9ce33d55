"""Cut a run into init / publish / drain / post so that each stall can be blamed on the phase it began in."""

from __future__ import annotations

from typing import Any

import pandas as pd

PHASES = ("init", "publish", "drain", "post")


def _first(ev: pd.DataFrame, kinds: tuple[str, ...]) -> int | None:
    sel = ev.loc[ev["kind"].isin(kinds), "ts_us"].dropna()
    return None if sel.empty else int(sel.min())


def _last_client(client: pd.DataFrame, kinds: tuple[str, ...]) -> int | None:
    """Each client log's first event of ``kinds``, the latest of them: a multi-client run ends with its last client."""
    per = [_first(g, kinds) for _, g in client.groupby("file")]
    per = [p for p in per if p is not None]
    return max(per) if per else None


def _span(start: int | None, end: int | None) -> dict[str, Any] | None:
    if start is None or end is None or end < start:
        return None
    return {"start_us": int(start), "end_us": int(end), "duration_s": round((end - start) / 1e6, 6)}


def boundaries(ev: pd.DataFrame, lines: dict[str, Any]) -> dict[str, Any]:
    """Find run start/end and the phase boundaries, from [Phase] markers or derived from real-log events."""
    firsts = [v["first_ts_us"] for v in lines.values() if v.get("first_ts_us") is not None]
    lasts = [v["last_ts_us"] for v in lines.values() if v.get("last_ts_us") is not None]
    run_start, run_end = (min(firsts) if firsts else None), (max(lasts) if lasts else None)
    client = ev[ev["role"] == "client"]
    marks = client[client["kind"] == "phase"]
    names = {f["name"]: int(ts) for f, ts in zip(marks["fields"], marks["ts_us"], strict=True)
             if isinstance(f, dict) and pd.notna(ts) and f.get("name") not in (None,)}
    b: dict[str, Any] = {"run_start": run_start, "run_end": run_end}
    if names:
        b["source"] = "markers"
        b["publish_start"] = names.get("publish_start")
        b["send_done"] = names.get("send_done")
        b["drain_end"] = names.get("ack_done", names.get("ack_timeout"))
    else:
        start = _first(client, ("handshake", "cluster_connected"))
        prog = client[client["kind"] == "ack_progress"].dropna(subset=["ts_us"])
        poll_start = None
        if not prog.empty:
            row = prog.iloc[0]
            elapsed = row["fields"].get("elapsed_s") or 0
            poll_start = int(row["ts_us"] - elapsed * 1e6)
        if start is None:
            start = poll_start
        b["source"] = "derived" if start is not None else "none"
        b["publish_start"] = start
        b["send_done"] = poll_start
        ends = ("ack_timeout", "publish_finished", "publish_completed", "publish_failed")
        # In HEAD's end-to-end test [ACK_VERIFY] is the moment the last ACK arrived; the subscriber's read that
        # follows (and ends in `Publish completed`) is after the publish, not part of it.
        verified = _last_client(client, ("ack_verify",)) if (client["kind"] == "e2e_completed").any() else None
        b["drain_end"] = verified if verified is not None else _last_client(client, ends)
    return b


def compute_phases(b: dict[str, Any]) -> dict[str, Any]:
    """Render the phases object of metrics.json from boundaries."""
    if b["source"] == "none":
        return {"init": None, "publish": None, "drain": None, "post": None, "source": "none"}
    ps, sd, de = b["publish_start"], b["send_done"], b["drain_end"]
    pub_end = sd if sd is not None else de
    last = de if de is not None else pub_end
    return {
        "init": _span(b["run_start"], ps),
        "publish": _span(ps, pub_end),
        "drain": _span(sd, de) if sd is not None else None,
        "post": _span(last, b["run_end"]),
        "source": b["source"],
    }


def phase_of(ts: float | None, phases: dict[str, Any]) -> str:
    """Name the phase a time falls in ("unknown" when it falls in none)."""
    if ts is None or pd.isna(ts):
        return "unknown"
    for name in PHASES:
        span = phases.get(name)
        if span and span["start_us"] <= ts < span["end_us"]:
            return name
    post = phases.get("post")
    if post and ts == post["end_us"]:
        return "post"
    init = phases.get("init")
    if init and ts < init["start_us"]:
        return "init"
    return "unknown"


def init_metrics(ev: pd.DataFrame, b: dict[str, Any], lines: dict[str, Any]) -> dict[str, Any]:
    """Client init delay: publish start minus the client's start (banner, else first line), else init_wait lines."""
    client = ev[ev["role"] == "client"]
    wait_s = None
    if b.get("publish_start") is not None:
        start = _first(client, ("client_banner",))
        if start is None:
            start = lines.get("client.log", {}).get("first_ts_us") or b.get("run_start")
        if start is not None:
            wait_s = round((b["publish_start"] - start) / 1e6, 6)
    if wait_s is None:
        waits = [f.get("elapsed_s") for f in client.loc[client["kind"] == "init_wait", "fields"]]
        waits = [w for w in waits if w is not None]
        wait_s = max(waits) if waits else None
    huge = [f.get("is_short") for f in client.loc[client["kind"] == "hugepages", "fields"]]
    return {
        "wait_s": wait_s,
        "hugepage_short": any(bool(h) for h in huge) if huge else None,
        "hugetlb_fallback": bool((client["kind"] == "hugetlb_fallback").any()),
    }
