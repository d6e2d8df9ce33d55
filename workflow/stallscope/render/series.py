"""A run's time series in fixed bins: what the per-run "over time" figure draws, at a cost bounded by the bins.

Input (documented in README "What it produces"): a run's events (``events.csv``: stalls, ACK progress, broker ACK
counters, phase and fault-window markers), its ``metrics.json`` (phase boundaries) and, when the run directory
holds one, a client time-series CSV (``timeseries.csv`` or ``*_timeseries.csv``: Embarcadero's
``Timestamp(ms),Broker_<i>_sent_GiBps,Broker_<i>_ack_GiBps,...`` with one row every ~100 ms). Its timestamps count
from the client's start, taken as the client log's first line (the run's other events keep their own clocks).

x is seconds since the run's start (the init phase's start, else the first event). Bins are the narrowest of
10 ms, 20 ms, 50 ms, ..., 1 s, 2 s, 5 s, ..., 1 h that keeps the run within ``MAX_BINS`` bins (1 s bins for a run of
one to two minutes): however many events a run has, the figure draws a fixed number of cells.

- delivered MB/s (MB = 2^20) per broker and in total: the client CSV's ACK rates when there is one, else the
  increase of the acknowledged count between ACK samples (refpub's ``[AckSeries]`` steps from publish start, the
  client's 1/s progress lines, the broker's "Acknowledgments" lines), times the message size. Nothing is
  acknowledged before the publish starts.
- stall count and summed stall duration per broker and bin, a stall counted in the bin where its recv began.
- fault windows from ``[FaultWindow] start|stop`` lines (refpub, refbroker); a window never closed ends at the
  run's last event; overlapping windows of one fault (the same slow recv on every broker) merge into one, labelled
  with every broker it concerns.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stallscope.shared.rundir import RunDir
from stallscope.shared.runevents import Event

MAX_BINS = 100
NICE_BIN_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
STALL_KINDS = ("stall_header", "stall_partial", "stall_payload")
PHASES = ("init", "publish", "drain", "post")
MIB = float(1 << 20)
_CSV_ACK = re.compile(r"^Broker_(\d+)_ack_GiBps$")


@dataclass
class FaultWindow:
    """One injected fault's window in seconds since run start; ``open_at_end``: no stop line was logged."""

    name: str
    start_s: float
    end_s: float
    label: str
    open_at_end: bool = False


@dataclass
class RunSeries:
    """Binned series of one run (arrays indexed [broker row, bin])."""

    run_id: str
    bin_s: float
    edges: np.ndarray                     # left edges of the bins, s
    brokers: list[int]                    # row order of the per-broker arrays
    stall_count: np.ndarray
    stall_sum_s: np.ndarray
    delivered: dict[str, np.ndarray] = field(default_factory=dict)  # broker label (or "total") -> MB/s per bin
    acked: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # broker -> (s, cumulative)
    acked_unit: str = "messages"
    rate_source: str = ""
    phases: list[tuple[float, str]] = field(default_factory=list)
    faults: list[FaultWindow] = field(default_factory=list)
    end_s: float = 0.0

    @property
    def has_data(self) -> bool:
        """Whether there is anything to draw over time."""
        return bool(self.stall_count.sum() or self.delivered or self.acked or self.faults)


def bin_width(span_s: float, max_bins: int = MAX_BINS) -> float:
    """The bin width for a run of ``span_s`` seconds: the narrowest nice width that needs at most ``max_bins``."""
    for w in NICE_BIN_S:
        if span_s / w <= max_bins:
            return float(w)
    return float(np.ceil(span_s / max_bins))


def run_start_us(run: RunDir) -> int | None:
    """The init phase's start (metrics.phases), else the run's first event time."""
    init = ((run.metrics or {}).get("phases") or {}).get("init") or {}
    if init.get("start_us") is not None:
        return int(init["start_us"])
    stamps = [e.ts_us for e in run.events]
    return min(stamps) if stamps else None


def phase_marks(run: RunDir, start_us: int) -> list[tuple[float, str]]:
    """Phase starts in seconds since run start, from metrics.phases, else from ``phase`` events."""
    marks: list[tuple[float, str]] = []
    phases = (run.metrics or {}).get("phases") or {}
    for name in PHASES:
        ph = phases.get(name)
        if ph and ph.get("start_us") is not None:
            marks.append(((int(ph["start_us"]) - start_us) / 1e6, name))
    if not marks:
        marks = [((e.ts_us - start_us) / 1e6, str(e.fields["name"])) for e in run.events
                 if e.kind == "phase" and e.fields.get("name")]
    return marks


def fault_windows(events: list[Event], start_us: int, end_s: float) -> list[FaultWindow]:
    """Pair ``fault_window`` start and stop events (by fault name, broker and connection) into windows."""
    open_: dict[tuple[str, Any, Any], list[float]] = {}
    out: list[FaultWindow] = []
    for e in sorted((e for e in events if e.kind == "fault_window"), key=lambda e: e.ts_us):
        name = str(e.fields.get("name") or "fault")
        where = e.broker if e.broker is not None else e.fields.get("broker")
        key = (name, where, e.fields.get("conn"))
        t = (e.ts_us - start_us) / 1e6
        if e.fields.get("edge") == "start":
            open_.setdefault(key, []).append(t)
        elif open_.get(key):
            t0 = open_[key].pop(0)
            out.append(FaultWindow(name, t0, t, _label(name, [where])))
    for (name, where, _), starts in open_.items():
        out.extend(FaultWindow(name, t0, end_s, _label(name, [where]), True) for t0 in starts)
    return _merge(sorted(out, key=lambda w: (w.name, w.start_s)))


def _merge(windows: list[FaultWindow]) -> list[FaultWindow]:
    """Union overlapping windows of the same fault; the label names every broker the merged windows concern."""
    merged: list[tuple[FaultWindow, list[Any]]] = []
    for w in windows:  # sorted by (name, start)
        where = w.label[len(w.name):].strip(" ()").removeprefix("broker ")
        if merged and merged[-1][0].name == w.name and w.start_s <= merged[-1][0].end_s:
            last, brokers = merged[-1]
            last.end_s = max(last.end_s, w.end_s)
            last.open_at_end = last.open_at_end or w.open_at_end
            brokers.append(where or None)
        else:
            merged.append((FaultWindow(w.name, w.start_s, w.end_s, w.label, w.open_at_end), [where or None]))
    for w, brokers in merged:
        w.label = _label(w.name, brokers)
    return sorted((w for w, _ in merged), key=lambda w: (w.start_s, w.name))


def _label(name: str, where: list[Any]) -> str:
    named = sorted({str(b) for b in where if b is not None}, key=lambda b: (len(b), b))
    if not named:
        return name
    return f"{name} (broker{'s' if len(named) > 1 else ''} {', '.join(named)})"


def _publish_start_us(run: RunDir) -> int | None:
    """When refpub logged ``[Phase] publish_start`` (its ACK series' origin), else metrics' publish phase start."""
    for e in run.events:
        if e.kind == "phase" and e.fields.get("name") == "publish_start":
            return e.ts_us
    pub = ((run.metrics or {}).get("phases") or {}).get("publish") or {}
    return int(pub["start_us"]) if pub.get("start_us") is not None else None


def _ack_points(run: RunDir) -> dict[int, list[tuple[int, int]]]:
    """Cumulative acknowledged messages per broker over time (µs): refpub's ACK series, the client's progress
    lines and the broker's counters (all count the same messages, so they merge into one series)."""
    pts: dict[int, list[tuple[int, int]]] = {}
    origin = _publish_start_us(run)
    for e in run.events:
        if e.kind == "ack_series" and origin is not None and isinstance(e.fields.get("broker"), int):
            step_us = int(e.fields.get("step_ms") or 0) * 1000
            values = [int(v) for v in str(e.fields.get("acked") or "").split(",") if v.isdigit()]
            if step_us > 0:
                pts.setdefault(e.fields["broker"], []).extend(
                    (origin + (i + 1) * step_us, v) for i, v in enumerate(values))
            continue
        if e.kind == "ack_progress":
            for b, n in (e.fields.get("per_broker") or {}).items():
                if str(b).lstrip("-").isdigit() and isinstance(n, int | float):
                    pts.setdefault(int(b), []).append((e.ts_us, int(n)))
        elif e.kind == "broker_acks" and isinstance(e.fields.get("acks"), int | float):
            b = e.fields.get("ack_broker", e.broker)
            if isinstance(b, int):
                pts.setdefault(b, []).append((e.ts_us, int(e.fields["acks"])))
    return {b: p for b, p in pts.items() if any(n for _, n in p)}


def find_client_csv(run_dir: Path) -> Path | None:
    """The run's client time-series CSV: ``timeseries.csv``, else the first ``*_timeseries.csv`` in sorted order."""
    direct = run_dir / "timeseries.csv"
    if direct.is_file():
        return direct
    found = sorted(run_dir.glob("*timeseries.csv")) if run_dir.is_dir() else []
    return found[0] if found else None


def read_client_csv(path: Path) -> tuple[np.ndarray, dict[int, np.ndarray]] | None:
    """Read an Embarcadero client time-series CSV: (seconds since the client's start, broker -> ACK MB/s).

    Returns None for a file without ``Timestamp(ms)`` or ``Broker_<i>_ack_GiBps`` columns or without rows;
    unreadable rows are skipped (a partly written last row is common when a client is killed).
    """
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            names = reader.fieldnames or []
            cols = {int(m.group(1)): c for c in names if (m := _CSV_ACK.match(c))}
            if "Timestamp(ms)" not in names or not cols:
                return None
            ts: list[float] = []
            rates: dict[int, list[float]] = {b: [] for b in cols}
            for row in reader:
                try:
                    t = float(row["Timestamp(ms)"]) / 1000.0
                    vals = {b: float(row[c]) * 1024.0 for b, c in cols.items()}  # GiB/s -> MiB/s
                except (TypeError, ValueError):
                    continue
                ts.append(t)
                for b, v in vals.items():
                    rates[b].append(v)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not ts:
        return None
    return np.asarray(ts), {b: np.asarray(v) for b, v in rates.items()}


def _rates_from_counts(points: dict[int, list[tuple[int, int]]], start_us: int, publish_s: float | None,
                       edges: np.ndarray, bin_s: float, msg_mib: float) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    right = np.append(edges, edges[-1] + bin_s)
    for b, p in sorted(points.items()):
        p = sorted(p)
        t = np.asarray([(ts - start_us) / 1e6 for ts, _ in p])
        n = np.maximum.accumulate(np.asarray([c for _, c in p], dtype=float))
        t0 = publish_s if publish_s is not None and publish_s < t[0] else t[0]
        t, n = np.insert(t, 0, t0), np.insert(n, 0, 0.0)
        cum = np.interp(right, t, n, left=0.0, right=n[-1])
        out[str(b)] = np.diff(cum) * msg_mib / bin_s
    return out


def build_series(run: RunDir, client_csv: Path | None = None) -> RunSeries | None:
    """Bin ``run``'s events (and its client CSV, if any) into a RunSeries; None when the run has no events."""
    start_us = run_start_us(run)
    if start_us is None:
        return None
    ends = [e.ts_us for e in run.events]
    ends += [int(p["end_us"]) for p in ((run.metrics or {}).get("phases") or {}).values()
             if isinstance(p, dict) and p.get("end_us") is not None]
    end_s = max((max(ends, default=start_us) - start_us) / 1e6, 1e-3)
    csv_data = read_client_csv(client_csv) if client_csv else None
    if csv_data is not None:
        client_first = run.first_ts_us.get(run.client_log or "client.log")
        shift = (client_first - start_us) / 1e6 if client_first is not None else 0.0
        csv_data = (csv_data[0] + shift, csv_data[1])
        end_s = max(end_s, float(csv_data[0][-1]))
    bin_s = bin_width(end_s)
    nbins = int(np.ceil(end_s / bin_s)) or 1
    edges = np.arange(nbins) * bin_s
    stalls = [e for e in run.events if e.kind in STALL_KINDS and e.broker is not None]
    brokers = sorted({int(e.broker) for e in stalls if e.broker is not None})
    row = {b: i for i, b in enumerate(brokers)}
    count = np.zeros((len(brokers), nbins))
    summed = np.zeros((len(brokers), nbins))
    if stalls:
        dur_s = np.asarray([(e.duration_ms or 0) / 1000.0 for e in stalls])
        began = np.asarray([(e.ts_us - start_us) / 1e6 for e in stalls]) - dur_s
        idx = np.clip((began // bin_s).astype(int), 0, nbins - 1)
        rows = np.asarray([row[int(e.broker)] for e in stalls if e.broker is not None])
        np.add.at(count, (rows, idx), 1)
        np.add.at(summed, (rows, idx), dur_s)
    phases = phase_marks(run, start_us)
    series = RunSeries(run.run_id, bin_s, edges, brokers, count, summed, phases=phases,
                       faults=fault_windows(run.events, start_us, end_s), end_s=end_s)
    msg = run.param("message_size")
    msg_mib = float(msg) / MIB if isinstance(msg, int | float) and msg > 0 else None
    if csv_data is not None:
        ts, rates = csv_data
        idx = np.clip((ts // bin_s).astype(int), 0, nbins - 1)
        for b, r in sorted(rates.items()):
            if not r.any():
                continue
            sums, hits = np.zeros(nbins), np.zeros(nbins)
            np.add.at(sums, idx, r)
            np.add.at(hits, idx, 1)
            # a bin between two samples (bins narrower than the CSV's 100 ms) takes the interpolated rate
            between = np.interp(edges + bin_s / 2, ts, r, left=0.0, right=0.0)
            series.delivered[str(b)] = np.where(hits > 0, sums / np.maximum(hits, 1), between)
            series.acked[str(b)] = (ts, np.cumsum(r * np.diff(ts, prepend=ts[0])))
        series.acked_unit = "MiB"
        series.rate_source = "the client's time-series CSV (its clock starts at the client log's first line)"
    else:
        points = _ack_points(run)
        publish_s = next((x for x, name in phases if name in ("publish", "publish_start")), None)
        for b, p in sorted(points.items()):
            series.acked[str(b)] = (np.asarray([(t - start_us) / 1e6 for t, _ in sorted(p)]),
                                    np.maximum.accumulate(np.asarray([n for _, n in sorted(p)], dtype=float)))
        if points and msg_mib is not None:
            series.delivered = _rates_from_counts(points, start_us, publish_s, edges, bin_s, msg_mib)
            series.rate_source = "ACK samples × message size"
    if series.delivered:
        series.delivered["total"] = np.sum(list(series.delivered.values()), axis=0)
    return series
