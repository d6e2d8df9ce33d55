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
import numpy as np

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from stallscope.schemas import write_text_atomic  # noqa: E402
from stallscope.shared.rundir import RunDir  # noqa: E402
from stallscope.shared.runevents import Event  # noqa: E402

STALL_KINDS = ("stall_header", "stall_partial", "stall_payload")
KIND_LABELS = {"stall_header": "header", "stall_partial": "partial", "stall_payload": "payload"}
KIND_COLOURS = {"stall_header": "#1f77b4", "stall_partial": "#ff7f0e", "stall_payload": "#d62728"}
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


def stall_events(run: RunDir) -> list[Event]:
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


def duration_bins(durations_ms: list[int]) -> np.ndarray:
    """Log-spaced bin edges (4 per decade) covering ``durations_ms``: a fixed, small number of bins."""
    lo = math.floor(math.log10(max(min(durations_ms), 1)) * 4) / 4
    hi = math.ceil(math.log10(max(max(durations_ms), 1)) * 4 + 1e-9) / 4
    return np.power(10.0, np.arange(lo, max(hi, lo + 0.25) + 0.125, 0.25))


def plot_durations(runs: list[RunDir], path: Path) -> bool:
    """Stall durations by kind: a log-binned histogram per kind (one panel each), one step line per run.

    Bins, not markers: the drawing costs the same for 10 stalls and for 100,000."""
    per_kind = {k: [(r, [e.duration_ms for e in r.events if e.kind == k and e.duration_ms]) for r in runs]
                for k in STALL_KINDS}
    kinds = [k for k in STALL_KINDS if any(d for _, d in per_kind[k])]
    with plt.rc_context(RC):
        if not kinds:
            return _save_empty(path, "Stall duration by kind", "duration (ms, log scale)", "stalls")
        fig, axes = _grid(len(kinds), "Stall duration by kind, one line per run", "duration (ms, log scale)",
                          "stalls per bin (log)")
        for ax, kind in zip(axes, kinds, strict=True):
            ax.set_title(f"stall kind: {KIND_LABELS[kind]}", fontsize=8)
            every = [d for _, ds in per_kind[kind] for d in ds]
            edges = duration_bins(every)
            for r_idx, (run, durs) in enumerate(per_kind[kind]):
                if not durs:
                    continue
                counts, _ = np.histogram(durs, bins=edges)
                ax.stairs(counts, edges, linewidth=1.1, label=run.run_id, gid=f"data-run-{r_idx}-{KIND_LABELS[kind]}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels on a short log axis collide
            ax.legend(fontsize=5.5, loc="upper right")
        _save(fig, path)
    return True


def ack_points(run: RunDir) -> list[dict[str, Any]]:
    """The client's ACK progress lines of ``run``: metrics.acks.progress, else ``ack_progress`` events."""
    progress = ((run.metrics or {}).get("acks") or {}).get("progress") or []
    if progress:
        return list(progress)
    return [e.fields for e in run.events if e.kind == "ack_progress" and "elapsed_s" in e.fields]


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
