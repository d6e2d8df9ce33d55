"""Figures over time and latency: one "run over time" figure per run, and the ACK latency CCDF.

Every figure draws a bounded number of artists whatever the number of events: binned lines and two heat maps
(raster cells, one per broker and bin) for the time series, one line per broker for the CCDF. The SVG stays a
few hundred kilobytes, so WeasyPrint lays it out in a fraction of a second (one SVG marker per stall would
make a 50,000-stall report take about 50 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter

from stallscope.render.plots import RC, _grid, _save, _save_empty
from stallscope.render.series import RunSeries

FAULT_COLOURS = ("#e8a33d", "#9d7fd1", "#5fb3a1", "#d17f9d", "#a3a3a3")
TOTAL_COLOUR = "#111111"


def _broker_key(b: str) -> tuple[int, str]:
    return (len(b), b)


def _fault_colour(series: RunSeries, name: str) -> str:
    names = list(dict.fromkeys(w.name for w in series.faults))
    return FAULT_COLOURS[names.index(name) % len(FAULT_COLOURS)]


def _fault_legend(fig: Any, series: RunSeries) -> None:
    """Name each fault once, in a legend under the panels (labels on the plot collide with short windows)."""
    seen: dict[str, Patch] = {}
    for w in series.faults:
        text = "fault: " + w.label + (" (still on at the end)" if w.open_at_end else "")
        seen.setdefault(text, Patch(color=_fault_colour(series, w.name), alpha=0.45, label=text))
    if seen:
        fig.legend(handles=list(seen.values()), loc="outside lower center", ncols=min(len(seen), 3), fontsize=6,
                   frameon=False)


def _marks(ax: Axes, series: RunSeries, label: bool) -> None:
    """Shade fault windows and draw phase lines on ``ax``; phase names only on the top panel."""
    for i, w in enumerate(series.faults):
        x1 = w.end_s if w.end_s > w.start_s else w.start_s + series.bin_s * 0.3  # an instant stays visible
        ax.axvspan(w.start_s, x1, color=_fault_colour(series, w.name), alpha=0.3, linewidth=0, gid=f"data-fault-{i}")
    right = float(series.edges[-1] + series.bin_s)
    for i, (x, name) in enumerate(p for p in series.phases if 0.0 <= p[0] <= right):
        ax.axvline(x, color="#444444", linestyle="--", linewidth=0.7)
        if label:
            ann = ax.annotate(name, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -8 - 7 * (i % 2)),
                              textcoords="offset points", fontsize=6, color="#444444")
            ann.set_in_layout(False)


def _heat(ax: Axes, series: RunSeries, values: np.ndarray, what: str, cmap: str) -> None:
    if not series.brokers:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no stalls logged", ha="center", va="center", transform=ax.transAxes, fontsize=7,
                color="#666666")
        return
    nb = len(series.brokers)
    shown = np.ma.masked_equal(values, 0)
    img = ax.imshow(shown, aspect="auto", interpolation="nearest", cmap=cmap, origin="lower", vmin=0.0,
                    extent=(0.0, float(series.edges[-1] + series.bin_s), -0.5, nb - 0.5), gid=f"heat-{what}")
    ax.set_yticks(range(nb), [str(b) for b in series.brokers])
    cb = plt.colorbar(img, ax=ax, pad=0.01, fraction=0.04)
    cb.ax.tick_params(labelsize=6)
    ax.grid(False)


def plot_run_series(series: RunSeries, path: Path) -> bool:
    """Draw one run over time: delivered MB/s, acknowledged per broker, stall count and summed stall duration
    per broker and bin (heat maps), with phase starts (dashed) and fault windows (shaded, labelled)."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(4, 1, sharex=True, figsize=(7.0, 3.3), layout="constrained",
                                 gridspec_kw={"height_ratios": [1.25, 1.0, 0.75, 0.75]})
        fig.suptitle(f"{series.run_id} over time ({series.bin_s:g} s bins)", fontsize=9)
        ax_rate, ax_ack, ax_cnt, ax_sum = axes
        if series.delivered:
            for b in sorted((k for k in series.delivered if k != "total"), key=_broker_key):
                ax_rate.step(series.edges, series.delivered[b], where="post", linewidth=0.9, label=f"broker {b}",
                             gid=f"data-rate-broker-{b}")
            ax_rate.step(series.edges, series.delivered["total"], where="post", linewidth=1.3, color=TOTAL_COLOUR,
                         label="total", gid="data-rate-total")
            ax_rate.legend(fontsize=6, loc="upper right", ncols=5)
        else:
            ax_rate.text(0.5, 0.5, "no ACK samples with a known message size", ha="center", va="center",
                         transform=ax_rate.transAxes, fontsize=7, color="#666666")
        ax_rate.set_ylabel("delivered MB/s", fontsize=7)
        if series.acked:
            for b in sorted(series.acked, key=_broker_key):
                xs, ys = series.acked[b]
                ax_ack.plot(xs, ys, marker="o", markersize=1.5, linewidth=0.9, label=f"broker {b}",
                            gid=f"data-acked-broker-{b}")
        else:
            ax_ack.text(0.5, 0.5, "no ACK progress logged", ha="center", va="center", transform=ax_ack.transAxes,
                        fontsize=7, color="#666666")
        ax_ack.set_ylabel(f"acked ({series.acked_unit})", fontsize=7)
        _heat(ax_cnt, series, series.stall_count, "count", "viridis")
        ax_cnt.set_ylabel("stalls", fontsize=7)
        _heat(ax_sum, series, series.stall_sum_s, "sum", "magma_r")
        ax_sum.set_ylabel("stalled s", fontsize=7)
        ax_sum.set_xlabel("seconds since run start", fontsize=8)
        ax_sum.set_xlim(0.0, float(series.edges[-1] + series.bin_s))
        for i, ax in enumerate(axes):
            ax.tick_params(labelsize=7)
            _marks(ax, series, label=i == 0)
        _fault_legend(fig, series)
        _save(fig, path)
    return True


def ccdf_points(hist: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """From ``[[upper bound µs, count], ...]`` return (latency ms, fraction of batches slower than it)."""
    rows = sorted((float(u), float(c)) for u, c in hist if c > 0)
    if not rows:
        return np.asarray([]), np.asarray([])
    ub = np.asarray([u for u, _ in rows]) / 1000.0
    counts = np.asarray([c for _, c in rows])
    above = 1.0 - np.cumsum(counts) / counts.sum()
    return np.insert(ub, 0, ub[0]), np.insert(above, 0, 1.0)


def plot_latency_ccdf(runs: list[tuple[str, dict[str, Any]]], path: Path) -> bool:
    """ACK latency CCDF, one panel per run (``(run id, metrics.acks.latency)``), one line per broker; the
    legend gives each broker's unacknowledged batches."""
    drawn = [(rid, lat) for rid, lat in runs
             if any(v.get("histogram") for v in (lat.get("per_broker") or {}).values())]
    with plt.rc_context(RC):
        if not drawn:
            return _save_empty(path, "ACK latency CCDF", "ACK latency (ms, log)", "fraction of batches slower")
        fig, axes = _grid(len(drawn), "ACK latency per broker (intended send to ACK), one panel per run",
                          "ACK latency (ms, log scale)", "fraction slower (log)")
        for ax, (rid, lat) in zip(axes, drawn, strict=True):
            ax.set_title(rid, fontsize=8)
            counts = [sum(c for _, c in v.get("histogram") or []) for v in lat["per_broker"].values()]
            floor = 0.5 / max(max(counts), 1)  # below one batch in the largest broker: where the curves end
            for b in sorted(lat["per_broker"], key=_broker_key):
                v = lat["per_broker"][b]
                xs, ys = ccdf_points(v.get("histogram") or [])
                if not len(xs):
                    continue
                ax.step(xs, np.maximum(ys, floor), where="post", linewidth=1.0,
                        label=f"B{b} (unacked {v.get('unacked', 0)})", gid=f"data-ccdf-{rid}-{b}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_ylim(floor * 0.8, 1.3)
            ax.legend(fontsize=5.5, loc="lower left")
        _save(fig, path)
    return True
