"""A one-node SLURM cluster (started by `.ci/slurm.sh up`) and the small DAG run through it with the slurm profile.

The module fixture runs the DAG twice from one broker source (so both runs build the same SUT): once through
`--executor slurm` with workflow/profiles/slurm, once locally, side by side (the local run is hidden under the
SLURM run's polling). Snakemake runs under coreutils `timeout` (SIGINT first, like ^C, so Snakemake cancels
its SLURM jobs; SIGKILL 30 s later): a stuck status query fails the test instead of hanging CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..workflow.conftest import REPO, make_workdir, snakemake, venv_env

PROFILE = REPO / "workflow" / "profiles" / "slurm"
# Rules the Snakefile declares as localrules; every other rule in the DAG must become a SLURM job.
LOCAL_RULES = {"render_report", "build_index", "report", "all", "runs", "build", "bench"}
# Short polls for a cluster whose jobs take seconds (the profile's values suit real clusters).
FAST_POLL = ("--seconds-between-status-checks", "1", "--slurm-init-seconds-before-status-checks", "1")


def _answers(*cmd: str) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> str:
    """The default partition of the running test cluster (skip when no cluster answers).

    Only with --run-slurm: a cluster left running must not add minutes (and jobs in its queue) to a plain run.
    """
    if not request.config.getoption("--run-slurm"):
        pytest.skip("slurm: run with --run-slurm after `.ci/slurm.sh up`")
    if not shutil.which("sbatch") or not _answers("squeue", "-h"):
        pytest.skip("no SLURM cluster (start one with `.ci/slurm.sh up`)")
    if not (shutil.which("cmake") and shutil.which("c++")):
        pytest.skip("cmake and a C++ compiler are needed")
    out = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, timeout=10).stdout.split()
    default = [p.rstrip("*") for p in out if p.endswith("*")] or [p for p in out]
    assert default, "sinfo lists no partition"
    return default[0]


def squeue(*args: str) -> str:
    return subprocess.run(["squeue", "-h", *args], capture_output=True, text=True, timeout=10, check=True).stdout


def slurm_cmd(workdir: Path, partition: str, *args: str, timeout_s: int | None) -> list[str]:
    """`snakemake` on the project's Snakefile in ``workdir`` through the slurm profile, under `timeout`
    (SIGINT when ``timeout_s`` is up, like ^C, so Snakemake cancels its jobs; SIGKILL 30 s later)."""
    exe = Path(sys.executable).parent / "snakemake"
    bound = ["timeout", "-s", "INT", "-k", "30", str(timeout_s)] if timeout_s else []
    return [*bound, str(exe), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(workdir / "config.yaml"), "--workflow-profile", str(PROFILE),
            # replaces the profile's default-resources: this cluster's partition, no account (none exists here)
            "--default-resources", f"slurm_partition={partition}", "mem_mb=1000", "runtime=10",
            *FAST_POLL, *args]


def slurm_snakemake(workdir: Path, partition: str, *args: str, timeout_s: int = 240) -> subprocess.CompletedProcess:
    # The job environment is this one (the plugin submits with --export=ALL): PATH reaches the venv's bin.
    return subprocess.run(slurm_cmd(workdir, partition, *args, timeout_s=timeout_s), capture_output=True,
                          text=True, cwd=workdir, env=venv_env(), timeout=timeout_s + 60)


def job_stats(output: str) -> dict[str, int]:
    """Snakemake's "Job stats" table (the last one printed) as {rule: count}, without the total."""
    tables = output.split("Job stats:")
    assert len(tables) > 1, output[-2000:]
    stats: dict[str, int] = {}
    for line in tables[-1].splitlines()[3:]:
        m = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if not m:
            break
        stats[m[1]] = int(m[2])
    stats.pop("total", None)
    return stats


def trim(cfg: dict) -> None:
    """Two scenarios keep the SLURM DAG within its time budget; the benchmark is not part of this test."""
    cfg["scenarios"] = dict(list(cfg["scenarios"].items())[:2])
    if "bench" in (cfg.get("assessment") or {}):
        cfg["assessment"]["bench"] = False


@dataclass
class Runs:
    partition: str
    slurm_wd: Path
    local_wd: Path
    slurm: subprocess.CompletedProcess
    local: subprocess.CompletedProcess
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def slurm_log(self) -> str:
        return self.slurm.stdout + self.slurm.stderr


@pytest.fixture(scope="module")
def runs(cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """`report` through SLURM and the same config and SUT locally, run side by side."""
    slurm_wd = make_workdir(tmp_path_factory.mktemp("slurm"), trim)
    src = (slurm_wd.parent / "src" / "broker").as_posix()

    def same_sut(cfg: dict) -> None:
        trim(cfg)
        cfg["sut"]["source"] = src

    local_wd = make_workdir(tmp_path_factory.mktemp("local"), same_sut)
    seconds: dict[str, float] = {}
    local: dict[str, subprocess.CompletedProcess] = {}

    def run_local() -> None:
        t0 = time.monotonic()
        local["res"] = snakemake(local_wd, "--cores", "2", "report", timeout=300)
        seconds["local"] = time.monotonic() - t0

    th = threading.Thread(target=run_local)
    th.start()
    t0 = time.monotonic()
    res = slurm_snakemake(slurm_wd, cluster, "report")
    seconds["slurm"] = time.monotonic() - t0
    th.join(timeout=360)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    assert "res" in local and local["res"].returncode == 0, local.get("res") and local["res"].stderr[-3000:]
    return Runs(cluster, slurm_wd, local_wd, res, local["res"], seconds)
