"""Bad paths on the command line: one line on stderr, exit 1, never a traceback (exit 3 is for bugs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders.logs import glog, make_run_dir

CASES = {
    "parse into an unwritable place": ["parse", "{run}", "--out", "/proc/1/nothere"],
    "metrics of a device": ["metrics", "/dev/null"],
    "ingest a device": ["ingest", "/dev/zero", "--out", "{tmp}/r"],
    "ingest into a file": ["ingest", "{run}", "--out", "{tmp}/afile"],
    "assess-logs into a device": ["assess-logs", "{run}", "-o", "/dev/null"],
    "assess-logs into a file": ["assess-logs", "{run}", "-o", "{tmp}/afile"],
    "report of a device": ["report", "/dev/null", "--out", "{tmp}/rep"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_paths_are_one_line_and_exit_1(tmp_path: Path, case: str) -> None:
    run = make_run_dir(tmp_path / "run", client_lines=[glog("Publisher connected")],
                       broker_lines={0: [glog("[STALL] recv batch header blocked 60ms client_id=1 bytes_read=0")]})
    (tmp_path / "afile").write_text("keep\n")
    argv = [a.format(run=run, tmp=tmp_path) for a in CASES[case]]
    res = subprocess.run([str(Path(sys.executable).parent / "stallscope"), *argv], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr, res.stderr
    assert (tmp_path / "afile").read_text() == "keep\n"
