"""``stallscope assess-logs``: the whole pipeline for people who only have a directory of logs.

Runs ingest → parse → metrics → diagnose → assess → report without Snakemake. It sits above the stages, next to the CLI,
because it calls all of them; no stage calls another. Writes under ``out_dir``: ``run/`` (the
ingested run directory with events and metrics; for a multi-client driver's log ``runs/t<k>a<a>/``, one per
attempt), ``claims.json`` and the report (``assessment.pdf``, ``assessment.html``, ``figures/``).

The output appears whole or not at all: everything is written into a temporary directory beside ``out_dir`` and
renamed into place at the end, and a lock beside it refuses a second ``assess-logs`` into the same ``-o`` while
the first runs (two writers used to leave a ``broker_0.log`` mixed from both inputs). Run directories are named
relative to the output, so the claims and the report stay valid after the rename.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.diagnose.stage import diagnose_runs
from stallscope.errors import StallscopeError
from stallscope.logs.ingest import ingest, is_multi_run
from stallscope.logs.parse import parse_run
from stallscope.outlock import output_lock
from stallscope.panel.assess import assess_runs
from stallscope.render.report import render_report

#: files that mark a directory as an earlier assess-logs output (which a new run may replace)
_OWN_MARKERS = ("run/manifest.json", "assessment/claims.json")


def _check_target(out: Path) -> None:
    """Refuse an ``-o`` that is a file, or a directory holding something other than an earlier output."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise StallscopeError(out, None, "exists and is not a directory: choose another -o")
    if out.is_dir() and any(out.iterdir()) and not any((out / m).is_file() for m in _OWN_MARKERS):
        raise StallscopeError(out, None, "not empty and not an earlier assess-logs output: choose another -o")


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished output into place; an earlier output is moved aside first and then removed."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.rename(old / out.name)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def assess_with_diagnosis(runs: list[Path], out: Path, config_path: Path | None = None, allow_mixed: bool = False,
                          extras: dict[str, Path] | None = None, catalogue_path: Path | None = None,
                          summary_out: Path | None = None, diagnoses_path: Path | None = None) -> Path:
    """``stallscope assess`` over runs: their diagnoses read from ``diagnoses_path`` (``stallscope diagnose``'s
    diagnoses.json), else made here by the diagnose stage (with the same bench.json, ``extras["overhead_bench"]``),
    then the panel's claims judged; return claims.json's path."""
    if diagnoses_path is not None:
        diagnoses = schemas.read_json(diagnoses_path, "diagnoses")
    else:
        diagnoses = diagnose_runs([Path(r) for r in runs], (extras or {}).get("overhead_bench"))
    return assess_runs(runs, out, diagnoses, config_path=config_path, allow_mixed=allow_mixed, extras=extras,
                       catalogue_path=catalogue_path, summary_out=summary_out)


def assess_logs(src: Path, out_dir: Path, scenario: str | None = None, stall_timers: str | None = None) -> Path:
    """Assess one directory (or file) of logs made elsewhere; return the PDF's path.

    ``stall_timers`` (yes/no) says whether the broker build has stall timers when its logs cannot show it.
    """
    out = Path(out_dir).absolute()
    src = Path(src).absolute()
    if not src.exists():
        raise StallscopeError(src, None, "no such file or directory")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StallscopeError(out.parent, None, f"cannot create: {exc.strerror}") from None
    with output_lock(out):
        _check_target(out)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        except OSError as exc:
            raise StallscopeError(out.parent, None, f"cannot write here: {exc.strerror}") from None
        try:
            with contextlib.chdir(tmp):
                target = Path("runs" if is_multi_run(src) else "run")
                run_dirs = ingest(src, target, scenario=scenario or _default_scenario(src),
                                  stall_timers=stall_timers)
                for run_dir in run_dirs:
                    parse_run(run_dir)
                    compute_metrics(run_dir)
                claims = assess_with_diagnosis(run_dirs, Path("assessment") / "claims.json", extras={})
                pdf = render_report(claims, Path("."))
            _swap_into_place(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    final = out / pdf
    print(f"stallscope assess-logs: wrote {final}", file=sys.stderr)
    return final


def _default_scenario(src: Path) -> str:
    """The scenario name the input would get when ingested where it is (its directory or file name)."""
    return src.stem if src.is_file() else src.resolve().name
