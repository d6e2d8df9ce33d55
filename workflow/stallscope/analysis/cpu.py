"""CPU shares per phase: the run's samples (``cpu.csv``, ``experiment/cpu.py``) aligned with the logs' phases.

Why: whether the cores or one role held a run is a question of shares (the machine's busy share of all its cores,
one thread's time on CPU over the phase's wall time), which a faster or slower machine answers alike. Counters
are cumulative and interpolated linearly at each phase's start and end, so a phase need not begin on a sample; a
phase shorter than a few sampling intervals is marked ``resolved: false`` (its shares rest on one or two samples,
and the process counters' 10 ms ticks).

Logs from elsewhere have no samples: ``status: not_run`` with the reason, never a guess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stallscope.analysis.phases import PHASES
from stallscope.analysis.thresholds import MIN_INTERVALS

HOST = "host"
#: Roles of the system under test (the rest, a CPU hog for one, are other load on the machine).
SUT_PREFIXES = ("broker", "client")


def _not_run(reason: str) -> dict[str, Any]:
    return {"status": "not_run", "reason": reason, "source": None, "cores": None, "interval_s": None,
            "phases": {}}


def _at(frame: pd.DataFrame, col: str, t: float) -> float:
    """A cumulative counter interpolated at time ``t`` (clamped to the first and last sample)."""
    return float(np.interp(t, frame["wall_us"].to_numpy(float), frame[col].to_numpy(float)))


def _delta(frame: pd.DataFrame, col: str, start: float, end: float) -> float:
    return max(_at(frame, col, end) - _at(frame, col, start), 0.0)


def _phase(df: pd.DataFrame, start: int, end: int, cores: int, interval_s: float) -> dict[str, Any]:
    dur_ns = (end - start) * 1000.0
    host = df[df["role"] == HOST]
    busy, idle = _delta(host, "cpu_ns", start, end), _delta(host, "wait_ns", start, end)
    irq = _delta(host, "irq_ns", start, end) if host["irq_ns"].notna().all() else 0.0
    roles: dict[str, Any] = {}
    threads: dict[str, dict[str, Any]] = {}
    procs = df[(df["role"] != HOST) & (df["tid"] == 0)]
    for role, g in procs.groupby("role"):
        total = g.groupby("wall_us", as_index=False)["cpu_ns"].sum()  # a role's processes (children) summed
        roles[str(role)] = {"cpu_share": round(_delta(total, "cpu_ns", start, end) / dur_ns, 4)}
    for (role, name), g in df[(df["role"] != HOST) & (df["tid"] != 0)].groupby(["role", "thread"]):
        shares, waits = [], []
        for _, t in g.groupby("tid"):
            if t["wall_us"].max() < start or t["wall_us"].min() > end:
                continue
            shares.append(_delta(t, "cpu_ns", start, end) / dur_ns)
            waits.append(_delta(t, "wait_ns", start, end) / dur_ns)
        if shares:
            threads.setdefault(str(role), {})[str(name)] = {
                "count": len(shares), "cpu_share_max": round(max(shares), 4), "cpu_share_sum": round(sum(shares), 4),
                "wait_share_max": round(max(waits), 4)}
    ours = sum(v["cpu_share"] for r, v in roles.items() if r.startswith(SUT_PREFIXES))
    sut = {r: t for r, t in threads.items() if r.startswith(SUT_PREFIXES)}
    per_thread = df[(df["role"] != HOST) & (df["tid"] != 0)].groupby(["role", "tid"])
    waiting = sum(_delta(t, "wait_ns", start, end) for (r, _), t in per_thread if str(r).startswith(SUT_PREFIXES))
    busiest = max(((r, n, v["cpu_share_max"]) for r, names in sut.items() for n, v in names.items()),
                  key=lambda x: x[2], default=None)
    host_share = busy / (busy + idle) if busy + idle > 0 else None
    samples = int(((host["wall_us"] >= start) & (host["wall_us"] <= end)).sum())
    return {
        "start_us": int(start), "end_us": int(end), "samples": samples,
        "resolved": (end - start) / 1e6 >= MIN_INTERVALS * interval_s and len(host) >= 2,
        "host_busy_share": None if host_share is None else round(min(host_share, 1.0), 4),
        "sut_share_of_cores": round(min(ours / cores, 1.0), 4),
        # other processes' CPU: interrupts and softirqs (the network's receive path, ours too) are charged to none
        "other_share_of_cores": None if busy + idle <= 0 else round(
            min(max((busy - irq) / (busy + idle) - ours / cores, 0.0), 1.0), 4),
        "sut_runq_per_core": round(waiting / dur_ns / cores, 4),
        "busiest_thread": None if busiest is None else {"role": busiest[0], "thread": busiest[1],
                                                        "cpu_share": busiest[2]},
        "roles": roles,
        "threads": threads,
    }


def compute_cpu(run_dir: Path, manifest: dict[str, Any], phases: dict[str, Any]) -> dict[str, Any]:
    """The ``cpu`` object of metrics.json: per phase the machine's busy share, each role's and thread's share."""
    rec = manifest.get("cpu")
    if not rec:
        return _not_run("no CPU samples: the run was not made here (logs from elsewhere)")
    if rec.get("status") != "sampled":
        return _not_run(rec.get("reason") or "not sampled")
    path = Path(run_dir) / (rec.get("file") or "cpu.csv")
    if not path.is_file():
        return _not_run(f"{path.name} is missing from the run directory")
    df = pd.read_csv(path, dtype={"role": str, "thread": str}, keep_default_na=False)
    for col in ("wall_us", "pid", "tid", "cpu_ns"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["wait_ns"] = pd.to_numeric(df["wait_ns"], errors="coerce")
    df["irq_ns"] = pd.to_numeric(df["irq_ns"], errors="coerce") if "irq_ns" in df else float("nan")
    df = df.dropna(subset=["wall_us", "tid", "cpu_ns"])
    df["tid"] = df["tid"].astype(int)
    host = df[df["role"] == HOST]
    if len(host) < 2:
        return _not_run(f"{path.name}: fewer than two samples of the machine")
    cores = int(host["tid"].iloc[0]) or 1
    interval_s = float(rec.get("interval_s") or 0.1)
    out: dict[str, Any] = {"status": "measured", "reason": None, "source": path.name, "cores": cores,
                           "interval_s": interval_s, "node": rec.get("node"), "phases": {}}
    for name in PHASES:
        span = phases.get(name)
        if not span or span["end_us"] <= span["start_us"]:
            continue
        out["phases"][name] = _phase(df, span["start_us"], span["end_us"], cores, interval_s)
    return out
