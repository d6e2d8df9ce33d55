"""`stallscope run` under signals: any number, any mix, at a random time; never a traceback or a child left."""
from __future__ import annotations

import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from stallscope.experiment import interrupts
from stallscope.experiment.run import run_scenario

from .procs_helpers import children_of, port_held, wait_for
from .test_run import SMALL, _config

SEQUENCES = {
    "double_sigint": [signal.SIGINT, signal.SIGINT],
    "sighup": [signal.SIGHUP],
    "sigterm_then_sighup": [signal.SIGTERM, signal.SIGHUP],
    "sigint_sigterm_sighup": [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
}


def test_handlers_record_and_never_raise() -> None:
    before = signal.getsignal(signal.SIGINT)
    assert interrupts.install()
    try:
        assert not interrupts.install()  # installed already: the first caller restores
        for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
            os.kill(os.getpid(), s)
        time.sleep(0.05)
        assert interrupts.received() == ["SIGHUP", "SIGINT", "SIGTERM"]
        assert interrupts.describe() == "interrupted by SIGHUP (then SIGINT, SIGTERM)"
    finally:
        interrupts.restore()
    assert not interrupts.requested()
    assert signal.getsignal(signal.SIGINT) is before



def test_shielded_children_ignore_stop_signals_and_ours_arrive_after() -> None:
    """Run in a fresh interpreter (tests/experiment/shield_probe.py): the shield acts only in a process of one
    thread, and this one has the threads of the libraries earlier tests loaded (seen: the shield a no-op after the
    SLURM tests, so the held-back ^C arrived at once)."""
    probe = Path(__file__).with_name("shield_probe.py")
    res = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == "shield ok", res.stdout + res.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_run_survives_signal_sequences(tmp_path: Path, ref_build: Path, name: str) -> None:
    rng = random.Random()
    cfg = _config(tmp_path, e2e_10mb={"faults": {"linger_sec": 30}})
    grace = yaml.safe_load(SMALL.read_text())["run"]["stop_grace_s"]
    out = tmp_path / "run"
    runner = subprocess.Popen([sys.executable, "-m", "stallscope.cli", "run", "--config", str(cfg), "--scenario",
                               "e2e_10mb", "--build", str(ref_build), "--out", str(out)],
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(children_of(runner.pid)) >= 1 or None, timeout_s=20)
        delay = rng.uniform(0.0, 2.0)  # brokers starting, the client's init, or its publish
        time.sleep(delay)
        kids = children_of(runner.pid)
        ports = [int(argv[argv.index("--port") + 1]) for _, argv in kids if "--port" in argv]
        for sig in SEQUENCES[name]:
            runner.send_signal(sig)
            time.sleep(rng.uniform(0.010, 0.050))
        t0 = time.monotonic()
        rc = runner.wait(timeout=grace + 10)
        err = runner.stderr.read()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    assert rc == 130, (delay, err)
    assert time.monotonic() - t0 <= grace + 1.0, delay
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("stallscope run: interrupted by SIG")
    for pid, _ in kids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert not any(port_held(p) for p in ports)
    assert not (out / "manifest.json").exists()
    m = schemas.read_json(out / "manifest.interrupted.json", "manifest")
    first = signal.Signals(SEQUENCES[name][0]).name
    assert m["harness"]["errors"][0].startswith(f"interrupted by {first}")


def test_signal_before_any_process_still_writes_the_interrupted_manifest(tmp_path: Path, ref_build: Path) -> None:
    out = tmp_path / "run"
    assert interrupts.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the config is still being read
        time.sleep(0.05)
        with pytest.raises(KeyboardInterrupt):
            run_scenario(SMALL, "keep_open", 1, ref_build, out)
    finally:
        interrupts.restore()
    m = schemas.read_json(out / "manifest.interrupted.json", "manifest")
    assert m["processes"] == [] and m["harness"]["errors"] == ["interrupted by SIGTERM"]
    assert not (out / "manifest.json").exists()


@pytest.mark.e2e
@pytest.mark.parametrize("nth", [1, 2])  # 1: the `git version` GitPython runs on import; 2: a provenance git call
def test_ctrl_c_at_the_terminal_while_the_run_asks_git(tmp_path: Path, ref_build: Path, nth: int) -> None:
    """^C signals the whole process group, git included: a git killed under the run must not end it unrecorded."""
    real = shutil.which("git")
    assert real is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    slow_git = bin_dir / "git"
    slow_git.write_text(f"#!/bin/sh\nsleep 1\nexec {shlex.quote(real)} \"$@\"\n")
    slow_git.chmod(0o755)
    out = tmp_path / "run"
    runner = subprocess.Popen([sys.executable, "-m", "stallscope.cli", "run", "--config", str(SMALL), "--scenario",
                               "e2e_10mb", "--build", str(ref_build), "--out", str(out)],
                              stderr=subprocess.PIPE, text=True, start_new_session=True,
                              env=os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    seen: set[int] = set()

    def nth_git_running() -> bool:
        seen.update(pid for pid, argv in children_of(runner.pid) if str(slow_git) in argv)
        return len(seen) >= nth

    try:
        wait_for(nth_git_running, timeout_s=30)
        os.killpg(runner.pid, signal.SIGINT)
        rc = runner.wait(timeout=60)
        err = runner.stderr.read()
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
    assert rc == 130, err
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("stallscope run: interrupted by SIGINT"), err
    assert not (out / "manifest.json").exists()
    m = schemas.read_json(out / "manifest.interrupted.json", "manifest")
    assert m["harness"]["errors"] == ["interrupted by SIGINT"], m["harness"]
    assert m["stallscope"]["commit"] is not None  # git answered: it was not killed
