from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "configs" / "small" / "config.yaml"


def git(cwd: Path, *args: str) -> str:
    res = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                         capture_output=True, text=True)
    return res.stdout


def venv_env() -> dict[str, str]:
    """The environment with this interpreter's bin folder first, so rules find `stallscope`."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def snakemake(workdir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the project's Snakefile in ``workdir`` with its config.yaml (bounded)."""
    exe = Path(sys.executable).parent / "snakemake"
    cmd = [str(exe), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir,
                          env=venv_env())


def make_workdir(root: Path, mutate=None) -> Path:
    """A working directory whose broker source is a fresh one-commit git repository (a stable, clean SUT)."""
    src = root / "src"
    shutil.copytree(REPO / "workflow" / "broker", src / "broker", ignore=shutil.ignore_patterns("build*"))
    git(src, "init", "-q")
    git(src, "add", "-A")
    git(src, "commit", "-qm", "reference broker under test")
    wd = root / "wd"
    wd.mkdir()
    cfg = yaml.safe_load(SMALL.read_text())
    cfg["sut"]["source"] = str(src / "broker")
    if mutate:
        mutate(cfg)
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return wd


@pytest.fixture(scope="session")
def runs_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory where `snakemake --cores 4 report` has completed on the small config.

    Runs take every core by default (their goodput is compared with the raw sink's); here two threads each let two
    runs overlap, so the tests see that concurrent runs share no port or file (as on a cluster's several nodes).
    """
    if not (shutil.which("cmake") and shutil.which("c++")):
        pytest.skip("cmake and a C++ compiler are needed")
    wd = make_workdir(tmp_path_factory.mktemp("dag"))
    res = snakemake(wd, "--cores", "4", "report", "--set-threads", "run_scenario=2")
    assert res.returncode == 0, res.stderr[-3000:]
    return wd
