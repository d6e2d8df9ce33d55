"""Turn a run directory's raw logs into events.csv and lines.json, the inputs of the metrics stage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs import vetting
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner, LineStats
from stallscope.logs.rows import RowFormat, broker_index
from stallscope.logs.split import SPLIT_MIN_BYTES, meeting_point, scan_split
from stallscope.shared.events import header
from stallscope.shared.rundir import MANIFEST_FILE, read_run_dir


def find_logs(run_dir: Path) -> list[tuple[str, str]]:
    """List (file name, role) of the run's logs: from manifest.json when present, else by name."""
    if (run_dir / MANIFEST_FILE).exists():
        files = read_run_dir(run_dir, read_metrics=False).require_manifest()["files"]
        names = [(n, "broker") for n in files["broker_logs"]]
        clients = files.get("client_logs") or ([files["client_log"]] if files["client_log"] else [])
        names.extend((n, "client") for n in clients)
        return [(n, r) for n, r in names if (run_dir / n).is_file()]
    brokers = sorted(
        (p.name for p in run_dir.glob("broker_*.log")), key=lambda n: (broker_index(n) is None, broker_index(n) or 0, n)
    )
    logs = [(n, "broker") for n in brokers]
    if (run_dir / "client.log").is_file():
        logs.append(("client.log", "client"))
    if not logs:
        raise StallscopeError(run_dir, None, "no manifest.json and no broker_*.log or client.log to parse")
    return logs


def _scan(path: Path, fmt: RowFormat, catalogue: Any, fh: Any, tmp_dir: Path) -> LineStats:
    """Write one log's rows; a big log is split across two processes when a second core is there."""
    size = path.stat().st_size
    at = meeting_point(path, 0, size) if size >= SPLIT_MIN_BYTES and (os.cpu_count() or 1) > 1 else None
    if at is not None:
        return scan_split(path, fmt, catalogue, at, fh, tmp_dir)
    scanner = FileScanner(path, fmt.role, catalogue)
    fh.writelines(scanner.rows(fmt))
    return scanner.stats


def parse_run(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Read manifest.json (optional) and the run's logs; write events.csv and lines.json; return events.csv."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise StallscopeError(run_dir, None, "not a run directory")
    out = Path(out_dir) if out_dir is not None else run_dir
    out.mkdir(parents=True, exist_ok=True)
    logs = find_logs(run_dir)
    catalogue = load_catalogue()
    events_path = out / "events.csv"
    per_file: dict[str, Any] = {}
    with schemas.atomic_writer(events_path) as fh:
        fh.write(header())
        for name, role in logs:
            if "\n" in name or "\r" in name:  # rows (and the split's line shifting) keep one row per line
                raise StallscopeError(run_dir / name, None, "a log file name with a line break: rename it")
            vetting.check_readable(run_dir / name, run_dir)
            try:
                per_file[name] = _scan(run_dir / name, RowFormat(name, role), catalogue, fh, out).to_json()
            except OSError as exc:
                raise StallscopeError(run_dir / name, None, f"cannot read: {exc}") from None
    schemas.write_json(out / "lines.json", "lines", {"schema": "lines/1", "files": per_file})
    return events_path
