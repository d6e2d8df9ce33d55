"""One run's lifecycle, the same for every SUT: start the brokers, then the publisher, supervise it to its end
(bounded), stop everything; never leave a process.

The adapter's :class:`~stallscope.experiment.adapter.SutRun` starts and stops its own processes; what is taken
from outside the SUT is taken here, alike for all: CPU samples of every role (``cpu.csv``), the CPU hog of a
``cpu_hog`` scenario, faults applied from outside (``outside.py``), the relayed progress, and interrupts. Signals
(SIGTERM, SIGINT, SIGHUP, any number of them) stop the run the same way and are recorded as an interruption: the
handlers only take note (see ``interrupts``), every step polls, and the stop runs to its end whatever arrives
meanwhile.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from typing import Any

from stallscope.experiment import cpu, hog, interrupts, outside, procs
from stallscope.experiment.adapter import SutRun
from stallscope.experiment.outcome import Outcome
from stallscope.shared.provenance import host_facts, utc_now
from stallscope.shared.vocabulary import CPU_HOG


def execute(scn: dict[str, Any], run: SutRun, run_cfg: dict[str, Any]) -> Outcome:
    """Run the resolved scenario ``scn`` as ``run`` makes it, in ``run.out``; return what happened.

    What ``run.enter`` makes (emulated hosts, a port lock, an shm object) is undone last, after the processes
    were stopped; errors are final (interruption first, timeouts last) before ``run.finish``.
    """
    procs.set_parent_death_signal(signal.SIGTERM)
    owned = interrupts.install()
    res = Outcome(started_utc=utc_now(), placement=run.placement)
    try:
        with contextlib.ExitStack() as stack:
            if interrupts.requested() or not run.enter(stack, res):
                return res
            stack.callback(_stop, res, run)  # runs before what enter made is undone
            _run_processes(res, scn, run, run_cfg)
    finally:
        _stop(res, run)
        if interrupts.requested():
            res.errors.insert(0, interrupts.describe())
        if owned:
            interrupts.restore()
        res.errors += [t for t in res.timeouts if t not in res.errors]
        run.finish(res)
    return res


def _run_processes(res: Outcome, scn: dict[str, Any], run: SutRun, run_cfg: dict[str, Any]) -> None:
    """Start the brokers, then the publisher, and supervise it to its end (bounded)."""
    run.start_brokers(res)
    res.timeouts += [e for e in res.errors if "not ready" in e]
    if res.errors or interrupts.requested():
        return
    _start_outside_evidence(res, scn, run)
    run.start_client(res)
    client = res.client
    assert client is not None, "start_client sets res.client"
    if res.hog is not None:
        res.hog.mark_start()  # the publisher's log exists now (its own first line may come after this one)
    if client.start_error:
        res.errors.append(client.start_error)
    else:
        if res.sampler is not None:
            res.sampler.watch("client", client.pid)
        faults = outside.planned(scn["faults"])  # from outside: SIGSTOP/SIGKILL of a broker
        if faults:
            res.injector = outside.Injector(faults, res.brokers, client, run.client_timeout_s()).start()
        _supervise(res, run, run.client_timeout_s(), run_cfg["progress_interval_s"])
    if res.hog is not None:
        res.hog.stop()


def _start_outside_evidence(res: Outcome, scn: dict[str, Any], run: SutRun) -> None:
    """CPU samples of the brokers (then the publisher) in ``cpu.csv``, and the CPU hog of a ``cpu_hog`` scenario
    spinning before the publisher starts, until it ends: the same evidence and the same fault, whatever the SUT."""
    if run.placement.kind == "slurm":
        res.cpu = {"status": "not_run", "reason": "the processes run on other nodes, where this runner cannot "
                   "sample them"}
    else:
        res.sampler = cpu.CpuSampler(run.out / "cpu.csv").start()
        for b in res.brokers:
            res.sampler.watch(b.name, b.pid)
    if scn["faults"].get(CPU_HOG):
        res.hog = hog.CpuHog(run.out / "client.log").start(mark=False)
        if res.sampler is not None:
            for k, pid in enumerate(res.hog.pids):
                res.sampler.watch(f"{CPU_HOG}_{k}", pid)


def _supervise(res: Outcome, run: SutRun, timeout_s: float, interval_s: float) -> None:
    """Wait for the publisher (bounded), relaying its progress and brokers that exit early; a timeout is
    recorded in ``res.timeouts``."""
    client = res.client
    assert client is not None and client.popen is not None
    start = time.monotonic()
    next_report = start + interval_s
    dead_reported: set[str] = set()
    while not run.client_ended(client) and not interrupts.requested():
        now = time.monotonic()
        if now - start > timeout_s:
            client.timed_out = True
            if run.timeout_stop_grace_s is not None:
                procs.stop(client, run.timeout_stop_grace_s)
            res.timeouts.append(f"client: no exit within {timeout_s:g} s")
            return
        run.sample(res)
        for b in res.brokers:
            if b.name not in dead_reported and not b.is_running():
                dead_reported.add(b.name)
                code = b.popen.returncode if b.popen is not None else None
                print(f"[{now - start:6.1f}s] {b.name} exited early (status {code})", file=sys.stderr)
        if now >= next_report:
            print(f"[{now - start:6.1f}s] {run.progress_line(client)}", file=sys.stderr, flush=True)
            next_report = now + interval_s
        time.sleep(0.1)


def _stop(res: Outcome, run: SutRun) -> None:
    """Stop what was taken from outside, then the SUT's processes (once, whichever way the run ends)."""
    if res.stopped:
        return
    res.stopped = True
    if res.injector is not None:  # first: a broker it stopped is continued, so SIGTERM reaches it
        res.outside_faults, res.injector = res.injector.stop(), None
    if res.hog is not None:
        res.hog.stop()
    if res.sampler is not None:
        res.cpu = {"status": "sampled", "reason": None} | res.sampler.stop() | {"node": host_facts().get("hostname")}
        res.sampler = None
    run.stop(res)
