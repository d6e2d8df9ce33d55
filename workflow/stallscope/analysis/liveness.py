"""Whether each broker stayed alive and kept acknowledging during the publish: the evidence of a broker that was
paused (its ACKs stood still for a while, then resumed) or that failed (its process ended before the run ended).

Why: a broker stopped or killed from outside (``experiment/outside.py``) leaves no line of its own saying so. What
it leaves is read here, from evidence any SUT gives: the broker's cumulative ACK count over time (refpub's
``[AckSeries]``, the client's ``Waiting for acknowledgments`` progress, Embarcadero's broker-side
``Acknowledgments`` lines, or better the client's 100 ms throughput series when it wrote one, whose per-broker
ACK rates are integrated) and the runner's record of each process (``manifest.processes``: how it ended, and
whether the runner had to stop it). The runner's ``[FaultWindow]`` lines are never read here: the diagnosis must
not rest on the label of the fault it is asked to find.

``metrics.json`` keeps ``liveness``:

- ``ended_early``: brokers whose process ended before the runner stopped the run (by a signal or an exit status),
  with how they ended;
- ``standstill``: per broker, its longest stretch after the publish started with the ACK count unchanged while
  the other brokers' counts grew, whether it resumed afterwards, and the share of the others' final ACKs gained
  meanwhile (a pause of the whole machine stops every broker and so shows on none).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import pandas as pd


def ended_early(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Brokers whose process had ended before the runner stopped it, with its exit code or signal.

    A record without ``stopped_by`` (runs made before the runner kept it) says nothing: no broker is listed.
    """
    out = {}
    for p in manifest.get("processes") or []:
        if p.get("role") != "broker" or p.get("broker") is None or "stopped_by" not in p:
            continue
        if p.get("stopped_by") is None and (p.get("signal") or p.get("exit_code") not in (None, 0)):
            out[str(p["broker"])] = {"signal": p.get("signal"), "exit_code": p.get("exit_code")}
    return out


def ack_points(ev: pd.DataFrame, publish_start_us: int | None) -> dict[int, list[tuple[int, int]]]:
    """Cumulative ACKs per broker over time (µs, sorted), from every source that counts them."""
    pts: dict[int, list[tuple[int, int]]] = {}
    sel = ev[ev["kind"].isin(("ack_series", "ack_progress", "broker_acks"))]
    for kind, ts, broker, f in zip(sel["kind"], sel["ts_us"], sel["broker"], sel["fields"], strict=True):
        if kind == "ack_series":
            step_us = int(f.get("step_ms") or 0) * 1000
            b = f.get("broker")
            if publish_start_us is None or step_us <= 0 or not isinstance(b, int):
                continue
            values = [int(v) for v in str(f.get("acked") or "").split(",") if v.isdigit()]
            pts.setdefault(b, []).extend((publish_start_us + (i + 1) * step_us, v) for i, v in enumerate(values))
        elif pd.isna(ts):
            continue
        elif kind == "ack_progress":
            for b, n in (f.get("per_broker") or {}).items():
                if str(b).isdigit() and isinstance(n, int | float):
                    pts.setdefault(int(b), []).append((int(ts), int(n)))
        else:
            b = f.get("ack_broker", None if pd.isna(broker) else int(broker))
            if isinstance(b, int) and isinstance(f.get("acks"), int | float):
                pts.setdefault(b, []).append((int(ts), int(f["acks"])))
    return {b: sorted(p) for b, p in pts.items() if any(n for _, n in p)}


def _count_at(points: list[tuple[int, int]], times: list[int], t: int) -> int:
    i = bisect_right(times, t)
    return points[i - 1][1] if i else 0


def _longest_flat(points: list[tuple[int, int]], since_us: int) -> tuple[int, int, bool] | None:
    """(first, last µs of the longest stretch at one count after ``since_us``, whether the count grew later).

    A stretch the count came back from wins over a longer one it never left (the quiet after the last ACK)."""
    best: tuple[int, int, bool] | None = None
    i = 0
    pts = [p for p in points if p[0] >= since_us]
    while i < len(pts):
        j = i
        while j + 1 < len(pts) and pts[j + 1][1] == pts[i][1]:
            j += 1
        resumed = j + 1 < len(pts) and pts[j + 1][1] > pts[i][1]
        span = pts[j][0] - pts[i][0]
        if pts[i][1] > 0 and (best is None or (resumed and span > 0, span) > (best[2] and best[1] > best[0],
                                                                               best[1] - best[0])):
            best = (pts[i][0], pts[j][0], resumed)
        i = j + 1
    return best


def standstills(points: dict[int, list[tuple[int, int]]], publish_start_us: int | None) -> dict[str, dict[str, Any]]:
    """Per broker: its longest ACK standstill after the publish started (the module doc's ``standstill``)."""
    if publish_start_us is None or len(points) < 2:
        return {}
    times = {b: [t for t, _ in p] for b, p in points.items()}
    finals = {b: p[-1][1] for b, p in points.items()}
    out = {}
    for b, pts in points.items():
        flat = _longest_flat(pts, publish_start_us)
        if flat is None:
            continue
        t0, t1, resumed = flat
        others = [o for o in points if o != b]
        gained = sum(_count_at(points[o], times[o], t1) - _count_at(points[o], times[o], t0) for o in others)
        final = sum(finals[o] for o in others)
        out[str(b)] = {"longest_s": round((t1 - t0) / 1e6, 3), "start_s": round((t0 - publish_start_us) / 1e6, 3),
                       "resumed": resumed, "others_gain_share": round(gained / final, 6) if final else None}
    return out


def series_points(df: pd.DataFrame) -> tuple[dict[int, list[tuple[int, int]]], int | None]:
    """Cumulative ACKed bytes per broker from a client's 100 ms throughput series (``analysis/timeseries.py``:
    per-broker ACK GiB/s per interval, integrated), and the first sample with any ACK as the publish's start
    (the series' clock is the client's own, not the logs')."""
    cols = {int(c[1:].split("_")[0]): c for c in df.columns if c.startswith("b") and c.endswith("_ack_gib_s")}
    if len(cols) < 2 or len(df) < 2:
        return {}, None
    t_us = (df["t_ms"].astype(float) * 1000).round().astype("int64")
    dt_s = df["t_ms"].astype(float).diff().fillna(0) / 1000
    acking = (df[list(cols.values())].astype(float) > 0).any(axis=1)
    start = int(t_us[acking.idxmax()]) if acking.any() else None
    pts = {}
    for b, c in cols.items():
        cum = (df[c].astype(float).clip(lower=0) * dt_s * 2**30).cumsum().round().astype("int64")
        pts[b] = list(zip(t_us.tolist(), cum.tolist(), strict=True))
    return pts, start


def compute_liveness(ev: pd.DataFrame, manifest: dict[str, Any], publish_start_us: int | None,
                     series: pd.DataFrame | None = None) -> dict[str, Any]:
    """The ``liveness`` block of metrics.json (module doc); with the client's throughput series (a sample every
    100 ms) the standstills come from it rather than from ACK lines seconds apart."""
    pts, start = series_points(series) if series is not None else ({}, None)
    if not pts:
        pts, start = ack_points(ev, publish_start_us), publish_start_us
    return {"ended_early": ended_early(manifest), "standstill": standstills(pts, start),
            "source": "client_timeseries" if series is not None and pts and start is not None else "ack_lines"}
