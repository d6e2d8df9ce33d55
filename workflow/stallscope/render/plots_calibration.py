"""The calibration's confusion matrix as a figure: expected bound (rows) against the bound read (columns).

Why a figure: the report must say how far its diagnoses can be trusted on this SUT and machine; a matrix with the
counts in its cells shows which classes are read right and what the misses are read as, at a glance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from stallscope.render.plots import RC, _save, plt


def plot_confusion(conf: dict[str, Any], path: Path, kind: str = "bound") -> bool:
    """Draw ``conf[kind]`` (counts per expected and diagnosed label) with the draws' seed, count and date."""
    m = conf[kind]
    rows, cols = [r for r in m["rows"] if m["per_class"][r]["support"]], m["columns"]
    cols = [c for c in cols if any(m["counts"][r][c] for r in m["rows"])]
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(7.0, 0.45 * max(len(rows), 3) + 1.6))
        if not rows or not cols:
            ax.text(0.5, 0.5, "no draws", ha="center", va="center", transform=ax.transAxes)
            _save(fig, path)
            return False
        grid = np.array([[m["counts"][r][c] for c in cols] for r in rows], dtype=float)
        share = grid / grid.sum(axis=1, keepdims=True)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ax.grid(False)
        for i in range(len(rows)):
            for j in range(len(cols)):
                if grid[i, j]:
                    ax.text(j, i, f"{int(grid[i, j])}", ha="center", va="center",
                            color="white" if share[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(cols)), [c.replace("_", " ") for c in cols], rotation=30, ha="right")
        recall = [m["per_class"][r]["recall"] for r in rows]
        ax.set_yticks(range(len(rows)), [f"{r.replace('_', ' ')} ({x['k']}/{x['n']})" for r, x in
                                         zip(rows, recall, strict=True)])
        ax.set_xlabel(f"{kind} read by stallscope")
        ax.set_ylabel(f"expected {kind} (right / draws)")
        ax.set_title(f"Calibration: seed {conf['seed']}, {conf['draws']} draws, {conf['finished_utc'][:10]}, "
                     f"{conf['machine'].get('hostname')} ({conf['machine'].get('cores')} cores)")
        _save(fig, path)
    return True
