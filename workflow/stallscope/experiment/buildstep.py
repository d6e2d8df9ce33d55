"""One build step of the broker under test, run without a shell, its output echoed into the job log."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from stallscope.errors import StallscopeError

BUILD_TIMEOUT_S = 900


def run_step(argv: list[str], cwd: Path | None = None) -> str:
    """Run a build step, echoing its output into the job log; fail naming the command."""
    print("+ " + shlex.join(argv), file=sys.stderr, flush=True)
    try:
        res = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=BUILD_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise StallscopeError(None, None, f"build tool not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        msg = f"build step timed out after {BUILD_TIMEOUT_S} s: {shlex.join(argv)}"
        raise StallscopeError(None, None, msg) from None
    sys.stderr.write(res.stdout)
    if res.returncode != 0:
        raise StallscopeError(None, None, f"build step failed with status {res.returncode}: {shlex.join(argv)}")
    return res.stdout
