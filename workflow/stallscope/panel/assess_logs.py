"""``stallscope assess-logs``: the whole assessment for people who only have a directory of logs.

Runs ingest → parse → metrics → assess → report without Snakemake. Writes under ``out_dir``: ``run/`` (the
ingested run directory with events and metrics; for a multi-client driver's log ``runs/t<k>a<a>/``, one per
attempt), ``claims.json`` and the report (``assessment.pdf``, ``assessment.html``, ``figures/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from stallscope.analysis.metrics import compute_metrics
from stallscope.errors import StallscopeError
from stallscope.logs.ingest import driver_source, ingest
from stallscope.logs.parse import parse_run
from stallscope.panel.assess import assess_runs
from stallscope.render.report import render_report


def assess_logs(src: Path, out_dir: Path, scenario: str | None = None) -> Path:
    """Assess one directory (or file) of logs made elsewhere; return the PDF's path."""
    out = Path(out_dir)
    src = Path(src)
    if not src.exists():
        raise StallscopeError(src, None, "no such file or directory")
    target = out / ("runs" if driver_source(src) is not None else "run")
    run_dirs = ingest(src, target, scenario=scenario)
    for run_dir in run_dirs:
        parse_run(run_dir)
        compute_metrics(run_dir)
    claims = assess_runs(run_dirs, out / "assessment" / "claims.json", extras={})
    pdf = render_report(claims, out)
    print(f"stallscope assess-logs: wrote {pdf}", file=sys.stderr)
    return pdf
