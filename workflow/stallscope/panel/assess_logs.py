"""``stallscope assess-logs``: the whole assessment for people who only have a directory of logs.

Runs ingest → parse → metrics → assess → report without Snakemake. Writes under ``out_dir``: ``run/`` (the
ingested run directory with events and metrics), ``claims.json`` and the report (``assessment.pdf``,
``assessment.html``, ``figures/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from stallscope.analysis.metrics import compute_metrics
from stallscope.logs.ingest import ingest_dir
from stallscope.logs.parse import parse_run
from stallscope.panel.assess import assess_runs
from stallscope.render.report import render_report


def assess_logs(src: Path, out_dir: Path, scenario: str | None = None, stall_timers: str | None = None) -> Path:
    """Assess one directory (or file) of logs made elsewhere; return the PDF's path.

    ``stall_timers`` (yes/no) says whether the broker build has stall timers when its logs cannot show it.
    """
    out = Path(out_dir)
    run_dir = out / "run"
    ingest_dir(Path(src), run_dir, scenario=scenario, stall_timers=stall_timers)
    parse_run(run_dir)
    compute_metrics(run_dir)
    claims = assess_runs([run_dir], out / "assessment" / "claims.json", extras={})
    pdf = render_report(claims, out)
    print(f"stallscope assess-logs: wrote {pdf}", file=sys.stderr)
    return pdf
