"""The SUT adapter interface: what the runner asks of a broker under test, whatever it is (DESIGN section 11).

An adapter (one per ``sut.kind``, found through ``suts.for_kind``) says what it is (its log dialect, the evidence
its run directories can hold), builds its binaries, and makes a :class:`SutRun` for each run. The run's lifecycle
(``lifecycle.execute``) is the same for every SUT and drives the :class:`SutRun` in this order::

    enter -> start_brokers -> [CPU sampler, CPU hog] -> start_client -> [outside faults] -> supervise
          -> [stop injector, hog, sampler] -> stop -> finish

so the evidence taken from outside the SUT (CPU samples, the CPU hog, SIGSTOP/SIGKILL of a broker, interrupts)
is taken the same way for every SUT, and an adapter holds only what differs: how its processes start, what they
need around them (emulated hosts, a port lock, an shm object), how they are stopped and what it records.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from stallscope.experiment import placement as pl
from stallscope.experiment import procs
from stallscope.experiment.outcome import Outcome


class SutRun(ABC):
    """One run of one SUT: its processes and whatever they need around them, started and stopped in order."""

    #: The run directory: every log, ``cpu.csv`` and what the adapter writes go there.
    out: Path
    #: Where each role runs (loopback, emulated hosts, cluster nodes).
    placement: pl.Placement
    #: A client that overran its timeout is stopped at once with this grace (None: with the others, at the end).
    timeout_stop_grace_s: float | None = None

    def enter(self, stack: contextlib.ExitStack, res: Outcome) -> bool:
        """Make what the processes need (on ``stack``, undone on every way out); False when the run cannot be
        made here, with the reason in ``res.errors`` (nothing is started then)."""
        return True

    @abstractmethod
    def start_brokers(self, res: Outcome) -> None:
        """Start every broker and wait until each is ready (bounded, interruptible): ``res.brokers`` and
        ``res.ports``; what went wrong in ``res.errors`` ("... not ready ..." for a readiness timeout)."""

    @abstractmethod
    def start_client(self, res: Outcome) -> None:
        """Start the publisher (``res.client``; a failure to start is its ``start_error``)."""

    @abstractmethod
    def client_timeout_s(self) -> float:
        """How long the publisher may run before the runner stops it."""

    def client_ended(self, client: procs.Proc) -> bool:
        """Whether the publisher has exited (an adapter may reap it itself to read what the kernel says of it)."""
        return client.popen is None or client.popen.poll() is not None

    def sample(self, res: Outcome) -> None:
        """Called about every 0.1 s while the publisher runs (an adapter's own sampling: memory, ...)."""
        return None  # an optional hook: nothing unless the adapter has more to do

    @abstractmethod
    def progress_line(self, client: procs.Proc) -> str:
        """The publisher's latest progress, relayed to the job log every ``run.progress_interval_s``."""

    @abstractmethod
    def stop(self, res: Outcome) -> None:
        """Stop every process of the run (and what the adapter made for them); called once, whatever happened."""

    def finish(self, res: Outcome) -> None:
        """Last: tidy the run directory and record what the adapter adds (errors are final before this)."""
        return None  # an optional hook: nothing unless the adapter has more to do

    def add_to_manifest(self, record: dict[str, Any], res: Outcome, build: dict[str, Any], out: Path) -> None:
        """Add what this SUT records beyond the common manifest (nothing unless the adapter has more)."""
        return None  # an optional hook: nothing unless the adapter has more to do


class SutAdapter(ABC):
    """One kind of broker under test (``sut.kind``): what it is, how it is built, how one run of it is made."""

    #: the ``sut.kind`` it serves
    kind: str
    #: the log dialect its processes write (the parser's catalogue: glog lines, ``logs/catalogue.yaml``)
    dialect: str
    #: what its run directories can hold for the diagnosis
    evidence: tuple[str, ...]
    #: whether ``--werror`` applies to its build (not to upstream sources whose warnings are not ours to fail on)
    honours_werror: bool = True

    @abstractmethod
    def build(self, sut: dict[str, Any], source: Path, out: Path, werror: bool) -> tuple[list[str], dict[str, Any]]:
        """Build into ``out/bin``: (the binaries' names, the build's facts: compiler, compiler_version, flags,
        command, and any of build_wall_s, jobs, cpu_count, stall_timers)."""

    @abstractmethod
    def new_run(self, out: Path, scn: dict[str, Any], sut: dict[str, Any], build: dict[str, Any],
                run_cfg: dict[str, Any], config_path: Path) -> SutRun:
        """One run of the resolved scenario ``scn`` with the binaries of ``build`` (build.json), writing to
        ``out``; raises ``StallscopeError`` when the config cannot describe such a run."""
