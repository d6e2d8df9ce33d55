"""``stallscope compare --extend``: run more trials, interleaved baseline and candidate, until a comparison decides.

The comparison of the configured trials comes first (``analysis.compare_io``). Then, per scenario whose deciding
figure (delivered MB/s) both sides have, ``shared.sequential.extend`` asks for (baseline, candidate) pairs; each
trial is one ``stallscope run`` (the command a rule runs, in its own process, with a timeout), then parse and
metrics in this process. Every figure of the scenario is compared again over all its trials, and the scenario
records how many pairs ran, why it stopped and the change the final trials could detect. It sits above the
stages, like ``pipeline``, because it calls several of them. The extra runs live under ``work_dir`` (one directory
per side, scenario and trial) and are removed first, so a rerun starts from the configured trials again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.errors import StallscopeError
from stallscope.logs.parse import parse_run
from stallscope.shared import compare, sequential, trialstats
from stallscope.shared.trialtag import TrialTag

#: The figure whose ratio-of-medians interval decides when to stop.
FIGURE = "delivered_mb_s"
#: Seconds one extra trial may take before it is stopped (the longest shipped scenario takes about a minute).
RUN_TIMEOUT_S = 900


def run_trial(config: Path, scenario: str, trial: int, build: Path, out: Path) -> dict[str, Any]:
    """Run one trial with ``stallscope run`` in its own process group, parse it and compute its metrics."""
    cmd = [sys.executable, "-m", "stallscope.cli", "run", f"--config={config}", "--scenario", scenario,
           f"--trial={trial}", "--build", str(build), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        raise StallscopeError(out, None, f"extra trial of {scenario} ran past {RUN_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        last = (err or "").strip().splitlines()[-1:] or ["no message"]
        raise StallscopeError(out, None, f"extra trial of {scenario} failed (exit {proc.returncode}): {last[0]}")
    parse_run(out)
    return schemas.read_json(compute_metrics(out), "metrics")


def extend_comparison(result: dict[str, Any], config: Path, builds: dict[str, Path], work_dir: Path,
                      min_change: float = compare.MIN_CHANGE, max_trials: int = sequential.MAX_TRIALS,
                      alpha: float = compare.ALPHA) -> dict[str, Any]:
    """Extend every scenario of ``result`` (a ``comparison/1`` document, changed in place and returned).

    ``builds`` maps ``baseline`` and ``candidate`` to their build.json. Scenarios without the deciding figure on a
    side (runs that time out have no delivered rate) are recorded as not extendable.
    """
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    for scen in result["scenarios"]:
        name = scen["scenario"]
        rows = {r["figure"]: r for r in scen["figures"]}
        extra: dict[str, list[dict[str, Any]]] = {sequential.BASELINE: [], sequential.CANDIDATE: []}

        def draw(side: str, k: int, name: str = name, extra: dict[str, list[dict[str, Any]]] = extra
                 ) -> tuple[float | None, str]:
            out = work_dir / side / name / str(TrialTag(k))
            metrics = run_trial(config, name, k, builds[side], out)
            extra[side].append(trialstats.key_figures(metrics))
            return extra[side][-1][FIGURE], str(out)

        row = rows.get(FIGURE)
        base = row["baseline"]["values"] if row else []
        cand = row["candidate"]["values"] if row else []
        ext = sequential.extend(FIGURE, base, cand, draw, min_change, max_trials)
        if ext.rounds:
            scen["figures"] = [_extended(r, extra, alpha, min_change) for r in scen["figures"]]
        scen["extension"] = ext.to_dict()
    result["min_change"] = min_change
    return result


def _extended(row: dict[str, Any], extra: dict[str, list[dict[str, Any]]], alpha: float,
              min_change: float) -> dict[str, Any]:
    f = row["figure"]
    base = row["baseline"]["values"] + [k[f] for k in extra[sequential.BASELINE] if k.get(f) is not None]
    cand = row["candidate"]["values"] + [k[f] for k in extra[sequential.CANDIDATE] if k.get(f) is not None]
    return compare.compare_figure(f, base, cand, alpha, min_change)
