"""Faults applied to a broker from outside: stopped for a while (SIGSTOP, then SIGCONT), or killed mid-publish.

Why: a real broker has none of the reference broker's fault knobs compiled in, yet the experiments the panel asked
for need a broker that stops taking data, or one that dies. Both come from the runner, so they work with any SUT
whose brokers it started: the signal goes to the broker's process group by the leader's PID (only while the leader
is alive and unreaped, so the group is surely ours). The clock starts when the publish starts (the client's
``[Phase] publish_start`` line, or Embarcadero's ``Publisher push start``), since client init can take
seconds. Each window is logged into the broker's own log as ``[FaultWindow] start|stop name=<fault> broker=<b>``
glog lines appended whole (O_APPEND), like the faults compiled into the reference broker, so the time series shades
it. A broker left stopped is always continued before the run stops its processes (``Injector.stop``).

Knobs (``faults``): ``stop_broker``, ``stop_after_s``, ``stop_for_s``; ``kill_broker`` (never the head, broker 0),
``kill_after_s``.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from stallscope.experiment.faultlog import append_line
from stallscope.experiment.procs import Proc
from stallscope.shared.vocabulary import KILL_AFTER_S, KILL_BROKER, STOP_AFTER_S, STOP_BROKER, STOP_FOR_S, knobs_of_role

#: The client's line that says the publish starts (refpub; Embarcadero's throughput_test, every test kind).
PUBLISH_START = re.compile(rb"\[Phase\] publish_start|Publisher push start")
POLL_S = 0.02
#: Window names in the [FaultWindow] lines and the manifest.
STOP, KILL = "broker_stop", "broker_kill"
#: The fault knobs applied from outside (the runner's): any SUT takes them (the others are compiled into the
#: reference broker). ``cpu_hog`` is applied by experiment/hog.py, the others here.
OUTSIDE_KNOBS = knobs_of_role("runner")


@dataclass
class OutsideFault:
    """One fault from outside and what became of it (the manifest's ``outside_faults`` entry)."""

    name: str
    broker: int
    after_s: float
    for_s: float | None = None
    applied: bool = False
    #: Seconds since the publish started when the fault began and ended (None: not applied, or never ended).
    start_s: float | None = None
    end_s: float | None = None
    note: str | None = None

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


def planned(faults: dict[str, Any]) -> list[OutsideFault]:
    """The outside faults a scenario's ``faults`` block asks for, in the order they start."""
    out = []
    if faults.get(STOP_BROKER) is not None:
        out.append(OutsideFault(STOP, int(faults[STOP_BROKER]), float(faults.get(STOP_AFTER_S, 1.0)),
                                float(faults.get(STOP_FOR_S, 2.0))))
    if faults.get(KILL_BROKER) is not None:
        out.append(OutsideFault(KILL, int(faults[KILL_BROKER]), float(faults.get(KILL_AFTER_S, 1.0))))
    return sorted(out, key=lambda f: f.after_s)


def _signal(proc: Proc, sig: int) -> bool:
    """Signal the process group of a broker whose leader is still running; False when it is gone."""
    p = proc.popen
    if p is None or p.poll() is not None:
        return False
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        return False
    return True


class Injector:
    """Applies a run's outside faults from a thread: waits for the publish to start, then for each fault's time."""

    def __init__(self, faults: list[OutsideFault], brokers: list[Proc], client: Proc, deadline_s: float) -> None:
        self.faults = faults
        self.brokers = {p.broker: p for p in brokers}
        self.client = client
        self.deadline_s = deadline_s
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._stopped: OutsideFault | None = None  # a broker currently SIGSTOPped
        self._t0: float | None = None
        self._thread = threading.Thread(target=self._main, name="outside-faults", daemon=True)

    def start(self) -> Injector:
        for f in self.faults:
            if f.broker not in self.brokers:
                f.note = f"no broker {f.broker} in this run"
        self._thread.start()
        return self

    def _publish_started(self) -> float | None:
        """Wait (bounded, polling the client's log from where it left off) for the publish to start."""
        end = time.monotonic() + self.deadline_s
        seen, tail = 0, b""
        while not self._done.is_set() and time.monotonic() < end:
            try:
                with open(self.client.log, "rb") as fh:
                    fh.seek(seen)
                    chunk = fh.read()
            except OSError:
                chunk = b""
            seen += len(chunk)
            if PUBLISH_START.search(tail + chunk):
                return time.monotonic()
            tail = (tail + chunk)[-256:]
            if not self.client.is_running():
                return None
            self._done.wait(POLL_S)
        return None

    def _main(self) -> None:
        self._t0 = self._publish_started()
        if self._t0 is None:
            for f in self.faults:
                f.note = f.note or "the publish never started (or the client ended first): not applied"
            return
        for f in self.faults:
            if f.note:
                continue
            if self._done.wait(max(0.0, self._t0 + f.after_s - time.monotonic())):
                f.note = "the run ended before the fault's time: not applied"
                continue
            if not self.client.is_running():
                f.note = "the publisher had finished before the fault's time: not applied"
                continue
            self._apply(f)

    def _apply(self, f: OutsideFault) -> None:
        proc = self.brokers[f.broker]
        with self._lock:
            sig = signal.SIGSTOP if f.name == STOP else signal.SIGKILL
            if not _signal(proc, sig):
                f.note = f"broker {f.broker} had already ended: not applied"
                return
            f.applied, f.start_s = True, self._since()
            append_line(proc.log, f"[FaultWindow] start name={f.name} broker={f.broker}", "outside.py")
            if f.name == STOP:
                self._stopped = f
        if f.name == STOP and f.for_s is not None:
            self._done.wait(f.for_s)
            self._continue()

    def _continue(self) -> None:
        """SIGCONT the stopped broker (once) and log the window's end."""
        with self._lock:
            f, self._stopped = self._stopped, None
            if f is None:
                return
            proc = self.brokers[f.broker]
            _signal(proc, signal.SIGCONT)
            f.end_s = self._since()
            append_line(proc.log, f"[FaultWindow] stop name={f.name} broker={f.broker}", "outside.py")

    def _since(self) -> float:
        return round(time.monotonic() - (self._t0 or time.monotonic()), 3)

    def stop(self) -> list[dict[str, Any]]:
        """End the injector (bounded): a stopped broker is continued first, so the run can stop it; the records."""
        self._done.set()
        self._thread.join(timeout=5)
        self._continue()
        return [f.to_record() for f in self.faults]
