"""What happened to the processes of one run: filled in by the run's lifecycle and its SUT adapter, read by the
manifest writer (``run.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stallscope.experiment import cpu, hog, outside, procs
from stallscope.experiment import placement as pl


@dataclass
class Outcome:
    """What happened to the processes of one run."""

    brokers: list[procs.Proc] = field(default_factory=list)
    client: procs.Proc | None = None
    ports: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    started_utc: str = ""
    notes: list[str] = field(default_factory=list)
    #: Where each role ran; loopback unless the scenario asked for emulated hosts.
    placement: pl.Placement | None = None
    #: Why the run was not made (emulated hosts unavailable); nothing was started then.
    skipped: str | None = None
    #: The shaped links' qdiscs with their counters at the end of the run.
    qdiscs: list[dict[str, Any]] = field(default_factory=list)
    #: Multi-node runs: job steps still listed after the runner cancelled them (should stay empty).
    steps_left: list[str] = field(default_factory=list)
    #: Faults applied from outside (experiment/outside.py): the injector while it runs, then its records.
    injector: outside.Injector | None = None
    outside_faults: list[dict[str, Any]] = field(default_factory=list)
    #: What a SUT adapter adds to the manifest under its kind (the Embarcadero runner: env, shm, memory).
    adapter_record: dict[str, Any] | None = None
    #: CPU samples of the run's processes (cpu.csv) while they run; its totals once stopped.
    sampler: cpu.CpuSampler | None = None
    cpu: dict[str, Any] | None = None
    #: The CPU hog of a ``cpu_hog`` scenario, while it spins.
    hog: hog.CpuHog | None = None
    #: Set once every process was stopped (the stop runs once, whichever way the run ends).
    stopped: bool = False

    @property
    def is_interrupted(self) -> bool:
        return any(e.startswith("interrupted") for e in self.errors)
