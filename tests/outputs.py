"""Check every JSON and CSV file under a folder of results: written 0644 (0666 less the umask) and valid.

Shared by the stage-chain test (tests/test_outputs.py) and the end-to-end DAG test (tests/workflow/test_runs.py).
"""

from __future__ import annotations

from pathlib import Path

from stallscope import schemas
from stallscope.experiment import cpu
from stallscope.shared import events

#: file name -> the schema kind it is validated as; a JSON file not listed here has no schema (a failure)
KIND_BY_NAME = {
    "manifest.json": "manifest", "manifest.interrupted.json": "manifest", "build.json": "build",
    "lines.json": "lines", "metrics.json": "metrics", "claims.json": "claims", "bench.json": "bench",
    "comparison.json": "comparison", "confusion.json": "confusion", "summary.json": "summary",
    "diagnoses.json": "diagnoses",
}
#: the report's copies of each run's files (``<report>/manifests/<run>.json``): folder -> kind
KIND_BY_FOLDER = {"manifests": "manifest", "metrics": "metrics"}


def check_outputs(root: Path) -> dict[str, list[Path]]:
    """Validate every ``*.json`` and ``*.csv`` under ``root`` (Snakemake's and CMake's own folders aside) and check
    its mode.

    Returns the files by kind, so the caller can assert that the ones it expects were there; raises
    AssertionError listing every file with a wrong mode, no schema, or content its schema refuses.
    """
    want_mode = schemas.result_mode()
    found: dict[str, list[Path]] = {}
    problems = []
    cmake_trees = [p.parent for p in root.rglob("CMakeCache.txt")]  # the compiler's build folders, not results
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".json", ".csv") and p.is_file()):
        if ".snakemake" in path.relative_to(root).parts or any(path.is_relative_to(t) for t in cmake_trees):
            continue
        mode = path.stat().st_mode & 0o777
        if mode != want_mode:
            problems.append(f"{path}: mode {mode:04o}, want {want_mode:04o}")
        if path.name == "events.csv":
            kind = "events"
            frame = next(events.read_frames(path))
            if tuple(frame.columns) != events.COLUMNS:
                problems.append(f"{path}: columns {list(frame.columns)}")
        elif path.name == "cpu.csv":
            kind = "cpu"  # the run's CPU samples: the sampler's columns, read by analysis.cpu
            header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
            if tuple(header) != cpu.COLUMNS:
                problems.append(f"{path}: columns {header}")
        elif path.name.endswith("_timeseries.csv"):
            kind = "timeseries"  # a client's own CSV, copied unchanged by ingest (analysis.timeseries reads it)
        elif path.name in KIND_BY_NAME or (path.suffix == ".json" and path.parent.name in KIND_BY_FOLDER):
            kind = KIND_BY_NAME.get(path.name) or KIND_BY_FOLDER[path.parent.name]
            try:
                schemas.read_json(path, kind)
            except Exception as exc:  # noqa: BLE001 - reported with the file below
                problems.append(f"{path}: {exc}")
        else:
            problems.append(f"{path}: no schema for this file")
            continue
        found.setdefault(kind, []).append(path)
    assert not problems, "\n".join(problems)
    return found
