"""Figures of the assessment as SVG files (matplotlib, Agg backend), byte-for-byte repeatable.

Text is drawn as paths (``svg.fonttype = "path"``, matplotlib's default): the SVG then needs no font at render
time, so WeasyPrint draws it the same on any host. Each text element keeps its string in an SVG comment
(``<!-- seconds since run start -->``), which the tests read. Every plot function returns ``True`` if it drew
data and ``False`` if it drew the "no data" placeholder.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from stallscope.render.inputs import Event, RunData  # noqa: E402
from stallscope.schemas import write_text_atomic  # noqa: E402

STALL_KINDS = ("stall_header", "stall_partial", "stall_payload")
KIND_LABELS = {"stall_header": "header", "stall_partial": "partial", "stall_payload": "payload"}
KIND_COLOURS = {"stall_header": "#1f77b4", "stall_partial": "#ff7f0e", "stall_payload": "#d62728"}
PHASES = ("init", "publish", "drain", "post")
RC = {
    "svg.hashsalt": "stallscope",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "figure.figsize": (7.0, 2.7),
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def _new(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    fig, ax = plt.subplots()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def _no_data(ax: Axes, why: str = "no data") -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="#666666")


def _save_empty(path: Path, title: str, xlabel: str, ylabel: str) -> bool:
    """Write a labelled figure that says "no data"; return False (nothing was drawn)."""
    fig, ax = _new(title, xlabel, ylabel)
    _no_data(ax)
    _save(fig, path)
    return False


def _save(fig: Figure, path: Path) -> None:
    buf = io.StringIO()
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    write_text_atomic(path, buf.getvalue())


def _run_start_us(run: RunData) -> int | None:
    phases = (run.metrics or {}).get("phases") or {}
    init = phases.get("init")
    if init and init.get("start_us") is not None:
        return int(init["start_us"])
    stamps = [e.ts_us for e in run.events]
    return min(stamps) if stamps else None


def _phase_marks(run: RunData, start_us: int) -> list[tuple[float, str]]:
    """Phase starts in seconds since run start, from metrics.phases, else from ``phase`` events."""
    marks: list[tuple[float, str]] = []
    phases = (run.metrics or {}).get("phases") or {}
    for name in PHASES:
        ph = phases.get(name)
        if ph and ph.get("start_us") is not None:
            marks.append(((int(ph["start_us"]) - start_us) / 1e6, name))
    if not marks:
        for e in run.events:
            if e.kind == "phase" and e.fields.get("name"):
                marks.append(((e.ts_us - start_us) / 1e6, str(e.fields["name"])))
    return marks


def stall_events(run: RunData) -> list[Event]:
    """The run's stalls that name a broker (what the timeline draws)."""
    return [e for e in run.events if e.kind in STALL_KINDS and e.broker is not None]


def _grid(n: int, title: str, xlabel: str, ylabel: str) -> tuple[Figure, list[Axes]]:
    """``n`` small panels, up to three per row, with one title and shared axis labels (text kept for the tests)."""
    cols = 1 if n == 1 else 2 if n in (2, 4) else 3
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.0, 0.4 + 1.75 * rows), squeeze=False, layout="constrained")
    fig.suptitle(title, fontsize=9)
    fig.supxlabel(xlabel, fontsize=8)
    fig.supylabel(ylabel, fontsize=8)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    for ax in flat[:n]:
        ax.tick_params(labelsize=7)
    return fig, flat[:n]


def _timeline_panel(ax: Axes, run: RunData, stalls: list[Event], start_us: int) -> None:
    ax.set_title(run.run_id, fontsize=8)
    for kind in STALL_KINDS:
        sel = [e for e in stalls if e.kind == kind]
        if not sel:
            continue
        xs = [(e.ts_us - (e.duration_ms or 0) * 1000 - start_us) / 1e6 for e in sel]
        ys = [e.broker for e in sel]
        sizes = [6 + 20 * math.log10(max(e.duration_ms or 1, 10) / 10) for e in sel]  # 10 ms -> 6, 10 s -> 66
        ax.scatter(xs, ys, s=sizes, c=KIND_COLOURS[kind], alpha=0.6, label=KIND_LABELS[kind], edgecolors="none",
                   gid=f"data-{run.slug}-{KIND_LABELS[kind]}")
    for i, (x, name) in enumerate(_phase_marks(run, start_us)):  # labels staggered: phases may be close
        ax.axvline(x, color="#444444", linestyle="--", linewidth=0.7)
        ax.annotate(name, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -8 - 7 * (i % 2)),
                    textcoords="offset points", fontsize=6, color="#444444")
    brokers = sorted({e.broker for e in stalls if e.broker is not None})
    ax.set_yticks(brokers)
    ax.set_ylim(min(brokers) - 0.7, max(brokers) + 0.7)


def plot_timelines(runs: list[RunData], path: Path) -> bool:
    """One small stall-timeline panel per run that has stalls: a marker where each stall's recv began, sized by
    its duration, coloured by kind; dashed lines mark phase starts. Runs without stalls get no panel."""
    drawn = [(r, stall_events(r), _run_start_us(r)) for r in runs]
    drawn = [(r, s, t) for r, s, t in drawn if s and t is not None]
    with plt.rc_context(RC):
        if not drawn:
            return _save_empty(path, "Stalls over time", "seconds since run start", "broker")
        fig, axes = _grid(len(drawn), "Stalls over time, one panel per run with stalls", "seconds since run start",
                          "broker")
        for ax, (run, stalls, start_us) in zip(axes, drawn, strict=True):
            _timeline_panel(ax, run, stalls, start_us)
        handles = [plt.Line2D([], [], marker="o", linestyle="", color=KIND_COLOURS[k], label=KIND_LABELS[k])
                   for k in STALL_KINDS]
        fig.legend(handles=handles, loc="outside upper right", ncols=3, fontsize=7, title="stall kind",
                   title_fontsize=7, frameon=False)
        _save(fig, path)
    return True


def plot_durations(runs: list[RunData], path: Path) -> bool:
    """Stall durations by kind over all runs: a strip plot on a log scale, one colour per run."""
    with plt.rc_context(RC):
        fig, ax = _new("Stall duration by kind", "stall kind", "duration (ms, log scale)")
        drew = False
        width = max(len(runs), 1)
        for r_idx, run in enumerate(runs):
            xs: list[float] = []
            ys: list[int] = []
            for k_idx, kind in enumerate(STALL_KINDS):
                durs = sorted(e.duration_ms for e in run.events if e.kind == kind and e.duration_ms)
                for i, d in enumerate(durs):
                    offset = (r_idx + 0.5) / width - 0.5  # one lane per run inside the kind's slot
                    jitter = ((i * 0.618) % 1.0 - 0.5) * 0.6 / width  # deterministic spread
                    xs.append(k_idx + 0.8 * (offset + jitter))
                    ys.append(d)
            if xs:
                ax.scatter(xs, ys, s=10, alpha=0.6, label=run.run_id, edgecolors="none", gid=f"data-run-{r_idx}")
                drew = True
        if not drew:
            _no_data(ax)
        else:
            ax.set_yscale("log")
            ax.set_xticks(range(len(STALL_KINDS)), [KIND_LABELS[k] for k in STALL_KINDS])
            ax.set_xlim(-0.6, len(STALL_KINDS) - 0.4)
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _save(fig, path)
    return drew


def ack_points(run: RunData) -> list[dict[str, Any]]:
    """The client's ACK progress lines of ``run``: metrics.acks.progress, else ``ack_progress`` events."""
    progress = ((run.metrics or {}).get("acks") or {}).get("progress") or []
    if progress:
        return list(progress)
    return [e.fields for e in run.events if e.kind == "ack_progress" and "elapsed_s" in e.fields]


def _ack_series(run: RunData) -> dict[str, tuple[list[float], list[float]]]:
    """Per-broker ACK series; brokers that never acknowledged anything are left out (Embarcadero's client
    lists all 32 broker slots, most of them 0)."""
    series: dict[str, tuple[list[float], list[float]]] = {}
    for p in sorted(ack_points(run), key=lambda p: float(p.get("elapsed_s") or 0)):
        for broker, n in (p.get("per_broker") or {}).items():
            xs, ys = series.setdefault(str(broker), ([], []))
            xs.append(float(p["elapsed_s"]))
            ys.append(float(n))
    return {b: s for b, s in series.items() if any(s[1])}


def plot_acks(runs: list[RunData], path: Path) -> bool:
    """ACKs received per broker over time, one small panel per run with ACK progress lines."""
    drawn = [(r, _ack_series(r)) for r in runs]
    drawn = [(r, s) for r, s in drawn if s]
    with plt.rc_context(RC):
        if not drawn:
            return _save_empty(path, "ACK progress per broker", "seconds since publish start (client)",
                               "ACKs received")
        fig, axes = _grid(len(drawn), "ACK progress per broker, one panel per run with progress lines",
                          "seconds since publish start (client)", "ACKs received")
        for ax, (run, series) in zip(axes, drawn, strict=True):
            ax.set_title(run.run_id, fontsize=8)
            for broker in sorted(series, key=lambda b: (len(b), b)):
                xs, ys = series[broker]
                ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.0, label=f"broker {broker}",
                        gid=f"data-{run.slug}-broker-{broker}")
            ax.legend(fontsize=6, loc="best")
        _save(fig, path)
    return True


def plot_throughput(rows: list[tuple[str, float | None, float | None]], path: Path) -> bool:
    """Bars per run: delivered MB/s and producer-side MB/s (rows: run id, delivered, producer)."""
    with plt.rc_context(RC):
        fig, ax = _new("Throughput per run", "run", "MB/s")
        rows = [r for r in rows if r[1] is not None or r[2] is not None]
        if not rows:
            _no_data(ax)
            _save(fig, path)
            return False
        xs = list(range(len(rows)))
        for shift, col, label in ((-0.2, 1, "delivered (to the last ACK)"), (0.2, 2, "producer side")):
            bars = ax.bar([x + shift for x in xs], [r[col] or 0.0 for r in rows], width=0.4, label=label)
            for i, patch in enumerate(bars.patches):  # ids the tests (and readers of the SVG) can find
                patch.set_gid(f"data-{'delivered' if col == 1 else 'producer'}-{i}")
        ax.set_xticks(xs, [r[0] for r in rows], rotation=25, ha="right", fontsize=7)
        ax.legend(fontsize=8)
        _save(fig, path)
    return True
