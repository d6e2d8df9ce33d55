"""Stage entry ``stallscope diagnose``: each run's outcome, failure diagnosis and throughput bound.

Reads each run directory (``shared.rundir``) and, optionally, the benchmark of this machine's raw loopback sink
(``--bench`` bench.json: without it a bound of ``none`` cannot be decided); writes ``diagnoses.json``
(``diagnoses/1``) atomically. The panel (``stallscope assess``) copies these entries into ``claims.json`` and
judges claims only; the calibration and ``assess-logs`` call ``diagnose_run`` / ``diagnose_runs`` directly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.diagnose.bound import decide_bound
from stallscope.diagnose.diagnosis import diagnose
from stallscope.shared.rundir import RunDir, read_run_dir
from stallscope.shared.vocabulary import HARNESS_ERROR, UNKNOWN


def read_bench(path: Path | None) -> dict[str, Any] | None:
    """The benchmark's parsed JSON, None when not given, absent or unreadable (the bound then says what is
    missing; the panel reads the same file the same way)."""
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_outcome(run: RunDir) -> str:
    """How the run ended: the metrics' outcome, else ``harness_error`` or ``unknown``."""
    return run.get("outcome.status") or (HARNESS_ERROR if not run.harness_ok else UNKNOWN)


def cap_unknown(diag: dict[str, Any], bound: dict[str, Any], outcome: str,
                run: RunDir) -> tuple[dict[str, Any], dict[str, Any]]:
    """No confident answer about a run whose logs do not say how it ended: with outcome ``unknown`` (or nothing
    readable) the diagnosis and the bound are low confidence at most, and a cause is named as a lead only."""
    nothing = bool(run.get("evidence.judged_on_nothing")) and run.get("outcome.source") != "driver"
    if outcome != UNKNOWN and not nothing:
        return diag, bound
    why = "no line says how the run ended" if outcome == UNKNOWN else "nothing readable"
    if bound["confidence"] != "low":
        bound = bound | {"confidence": "low", "summary": f"{bound['summary']} (low confidence: {why})"}
    if diag["confidence"] != "low":
        diag = diag | {"confidence": "low", "summary": f"{diag['summary']} (low confidence: {why})"}
    return diag, bound


def diagnose_run(run: RunDir, bench: dict[str, Any] | None = None) -> dict[str, Any]:
    """One run's ``diagnoses.json`` entry: its outcome, its diagnosis and its bound (``bench``: the parsed
    bench.json, for the raw sink a ``none`` bound is measured against)."""
    outcome = run_outcome(run)
    diag, bound = cap_unknown(diagnose(run), decide_bound(run, bench), outcome, run)
    return {"run_id": run.run_id, "dir": str(run.dir), "outcome": outcome, "diagnosis": diag, "bound": bound}


def diagnose_runs(runs: list[Path], bench_path: Path | None = None) -> dict[str, Any]:
    """The ``diagnoses/1`` document of the given run directories, in their order."""
    bench = read_bench(bench_path)
    return {"schema": "diagnoses/1", "generated_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "bench": None if bench_path is None else str(bench_path),
            "runs": [diagnose_run(read_run_dir(Path(d)), bench) for d in runs]}


def write_diagnoses(runs: list[Path], out: Path, bench_path: Path | None = None) -> Path:
    """Diagnose every run and write ``out`` (diagnoses.json); return its path."""
    return schemas.write_json(out, "diagnoses", diagnose_runs(runs, bench_path))
