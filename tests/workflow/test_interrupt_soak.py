"""Interrupt soak (issue 15): signals at random times during a run started by Snakemake.

Every round starts `snakemake runs`, waits until `stallscope run` has its signal handlers, sleeps a random time
inside the run, and interrupts it one of four ways: ^C at the terminal (SIGINT to Snakemake's whole process
group), ^C twice 10-50 ms apart, SIGTERM to the runner (a scheduler's kill), SIGHUP to the runner (its terminal
went away). After stop_grace_s + 1 s no broker or publisher may be left and their ports must be free; the run
must have left manifest.interrupted.json and no manifest.json; and a plain `snakemake -n report` must plan that
run, and only that run, again. The next round is that redo. At the end the run completes.

The full soak (20 rounds of a 10 GiB run, random times over the whole run) is marked long; the default suite
runs each kind once against a 1 GiB run whose connections stay open 8 s after the last batch.
"""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from tests.experiment.procs_helpers import port_held

from .conftest import REPO, make_workdir, snakemake, venv_env

pytestmark = pytest.mark.snakemake

KINDS = ("sigint", "double_sigint", "sigterm", "sighup")
DONE = "keep_open"  # completed before the rounds: must never be planned again
SUT_BINARIES = ("refbroker", "refpub")


def _procs() -> dict[int, tuple[int, list[str], str]]:
    """pid -> (ppid, argv, state) of every process."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                argv = [a.decode(errors="replace") for a in (d / "cmdline").read_bytes().split(b"\0") if a]
                out[int(d.name)] = (int(fields[1]), argv, fields[0])
            except (OSError, ValueError):
                continue
    return out


def _descendants(root: int, table: dict[int, tuple[int, list[str], str]]) -> list[int]:
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, (ppid, _, _) in table.items() if ppid == pid]
        found += kids
        frontier += kids
    return found


def _catches_sighup(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    return bool(mask & (1 << (signal.SIGHUP - 1)))


def _runner(sm_pid: int, scenario: str) -> int | None:
    """The `stallscope run` of `scenario` under Snakemake, once it has installed its stop-signal handlers."""
    table = _procs()
    for pid in _descendants(sm_pid, table):
        argv = table[pid][1]
        if "run" in argv and scenario in argv and any(a.endswith("stallscope") for a in argv[:2]):
            return pid if _catches_sighup(pid) else None
    return None


def _sut_processes(wd: Path) -> list[int]:
    """Live brokers and publishers started in this working directory (found by their cwd, orphans included)."""
    alive = []
    for pid, (_, argv, state) in _procs().items():
        if state == "Z" or not argv or not argv[0].endswith(SUT_BINARIES):
            continue
        try:
            if Path(f"/proc/{pid}/cwd").resolve() == wd.resolve():
                alive.append(pid)
        except OSError:
            continue
    return alive


def _planned_runs(wd: Path) -> list[str]:
    res = snakemake(wd, "-n", "report")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    return sorted(set(re.findall(r"output: (results/runs/\S+)/manifest\.json", res.stdout + res.stderr)))


def _start_runs(wd: Path, log: Path) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "snakemake"
    with open(log, "ab") as fh:
        return subprocess.Popen([str(exe), "--snakefile", str(REPO / "Snakefile"), "--directory", str(wd),
                                 "--configfile", str(wd / "config.yaml"), "--cores", "4", "runs"],
                                stdout=fh, stderr=subprocess.STDOUT, cwd=wd, env=venv_env(), start_new_session=True)


def _stop_snakemake(sm: subprocess.Popen) -> None:
    try:
        sm.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(sm.pid, signal.SIGKILL)
        sm.wait(timeout=10)
        raise AssertionError("snakemake did not exit within 90 s of the interrupt") from None


def _round(wd: Path, run: str, scenario: str, kind: str, delay_s: float, grace_s: float, rng: random.Random
           ) -> bool:
    """One interrupted run; False when the run had already finished before the signal (not a round)."""
    sm = _start_runs(wd, wd / "soak.log")
    try:
        deadline = time.monotonic() + 180
        while (runner := _runner(sm.pid, scenario)) is None:
            assert sm.poll() is None, f"snakemake exited ({sm.returncode}) before the run started"
            assert time.monotonic() < deadline, "the run did not start within 180 s"
            time.sleep(0.02)
        time.sleep(delay_s)
        table = _procs()
        ports = [int(a[a.index("--port") + 1]) for p in _descendants(runner, table)
                 for a in [table[p][1]] if "--port" in a]
        try:
            if kind == "sigint":
                os.killpg(sm.pid, signal.SIGINT)
            elif kind == "double_sigint":
                os.killpg(sm.pid, signal.SIGINT)
                time.sleep(rng.uniform(0.010, 0.050))
                os.killpg(sm.pid, signal.SIGINT)
            else:
                os.kill(runner, signal.SIGTERM if kind == "sigterm" else signal.SIGHUP)
        except ProcessLookupError:  # the run, and perhaps Snakemake, had finished already
            pass
        check_at = time.monotonic() + grace_s + 1.0
        time.sleep(max(0.0, check_at - time.monotonic()))
        left = _sut_processes(wd)
        held = [p for p in ports if port_held(p)]
    finally:
        _stop_snakemake(sm)  # after ^C it cancels its jobs; after a signal to the runner it sees the job fail
    out = wd / run
    if (out / "manifest.json").exists() and not (out / "manifest.interrupted.json").exists():
        (out / "manifest.json").unlink()  # finished before the signal: not a round; the next attempt reruns it
        return False
    where = f"{kind} after {delay_s:.2f} s"
    assert left == [], f"{where}: processes left {grace_s + 1:g} s after the signal: {left}"
    assert held == [], f"{where}: ports still held: {held}"
    assert not (out / "manifest.json").exists(), where
    m = schemas.read_json(out / "manifest.interrupted.json", "manifest")
    assert m["harness"]["errors"][0].startswith("interrupted by SIG"), (where, m["harness"])
    log = (wd / "results" / "logs" / "run_scenario" / Path(run).relative_to("results/runs")).with_suffix(".log")
    assert "Traceback" not in log.read_text(errors="replace"), f"{where}: {log.read_text()[-2000:]}"
    assert _planned_runs(wd) == [run], where
    return True


def _soak(tmp_path: Path, scenario: dict, rounds: int, delay_s: tuple[float, float] | None) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    print(f"interrupt soak seed {seed}")

    def mutate(cfg: dict) -> None:
        cfg["scenarios"] = {DONE: cfg["scenarios"][DONE], "soak": scenario}
        cfg["assessment"]["bench"] = False

    wd = make_workdir(tmp_path, mutate)
    grace_s = float(yaml.safe_load((wd / "config.yaml").read_text())["run"]["stop_grace_s"])
    res = snakemake(wd, "--cores", "2", "-n", "runs")
    assert res.returncode == 0, res.stderr[-2000:]
    sut = re.search(r"results/runs/([^/\s]+)/soak/t1/manifest\.json", res.stdout + res.stderr).group(1)
    run = f"results/runs/{sut}/soak/t1"
    res = snakemake(wd, "--cores", "2", f"results/runs/{sut}/{DONE}/t1/manifest.json")
    assert res.returncode == 0, res.stderr[-3000:]
    if delay_s is None:  # the full soak: time one complete run, then interrupt anywhere inside it
        res = snakemake(wd, "--cores", "4", f"{run}/manifest.json", timeout=900)
        assert res.returncode == 0, res.stderr[-3000:]
        m = schemas.read_json(wd / run / "manifest.json", "manifest")
        took = (datetime.fromisoformat(m["ended_utc"]) - datetime.fromisoformat(m["started_utc"])).total_seconds()
        (wd / run / "manifest.json").unlink()
        delay_s = (0.0, 0.9 * took)
        print(f"a complete run took {took:.1f} s; signals fall within the first {0.9 * took:.1f} s")
    kinds = [KINDS[i % len(KINDS)] for i in range(rounds)]
    rng.shuffle(kinds)
    done, attempts = 0, 0
    for kind in kinds:
        while True:
            attempts += 1
            assert attempts <= 2 * rounds, f"too many runs finished before their signal (seed {seed})"
            if _round(wd, run, "soak", kind, rng.uniform(*delay_s), grace_s, rng):
                done += 1
                break
    assert done == rounds
    print(f"{done} interrupted rounds, {attempts - done} runs finished before their signal")
    res = snakemake(wd, "--cores", "4", "runs", timeout=900)  # the redo of the last round, to its end
    assert res.returncode == 0, res.stderr[-3000:]
    assert (wd / run / "manifest.json").exists() and not (wd / run / "manifest.interrupted.json").exists()
    assert _planned_runs(wd) == []


def test_interrupt_soak_short(tmp_path: Path) -> None:
    """Each kind of interrupt once, during a 1 GiB publish or the 8 s its connections stay open."""
    small = {"description": "1 GiB, connections kept open 8 s", "expected_cause": "init_lifecycle",
             "total_bytes": 1 << 30, "faults": {"linger_sec": 8}}
    _soak(tmp_path, small, rounds=len(KINDS), delay_s=(0.0, 3.0))


@pytest.mark.long
def test_interrupt_soak_20_rounds_of_10gib(tmp_path: Path) -> None:
    big = {"description": "the seed's 10 GiB run", "expected_cause": "none", "total_bytes": 10 << 30,
           "threads_per_broker": 4, "ack_timeout_s": 120}
    _soak(tmp_path, big, rounds=20, delay_s=None)
