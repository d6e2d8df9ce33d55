"""A CPU hog: processes of ours spinning on the machine's cores, a fault that comes from outside the SUT.

Why: a run held by the cores (not by one role) must read ``host_cpu``; the hog makes that happen on purpose during
an otherwise healthy publish, so the bound has a ground truth. Any runner can use it (the reference broker's, a
real broker's): give it the log its window belongs in. Each spinner is its own process group with
PR_SET_PDEATHSIG, stopped by PID; the window is logged as ``[FaultWindow] start|stop name=cpu_hog`` lines (glog
format, appended with O_APPEND so they interleave whole with the SUT's own lines) like the faults compiled into
the reference broker, so the time series shades it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from stallscope.experiment.faultlog import append_line
from stallscope.shared.procs import set_parent_death_signal
from stallscope.shared.vocabulary import CPU_HOG

_SPIN = "while True:\n    pass\n"


def _spun(pid: int) -> bool:
    """The process has been on a CPU in user mode at least one clock tick (it reached its loop)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True  # gone: nothing to wait for
    return int(raw[raw.rfind(b")") + 2:].split()[11]) > 0


def _child_setup() -> None:
    set_parent_death_signal(signal.SIGKILL)


class CpuHog:
    """``procs`` spinning processes (default: one per core); ``start`` and ``stop`` log the window in ``log``."""

    def __init__(self, log: Path | None, procs: int | None = None) -> None:
        self.log = log
        self.procs = procs or os.cpu_count() or 1
        self.children: list[subprocess.Popen] = []

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self.children]

    def start(self, mark: bool = True, warm_s: float = 2.0) -> CpuHog:
        """Start the spinners and wait (at most ``warm_s``) until each has spun, so the hog is on before what it
        is meant to slow starts; then log the window's start unless ``mark`` is False (``mark_start`` later: a
        runner that starts the hog before the SUT's log exists)."""
        for _ in range(self.procs):
            self.children.append(subprocess.Popen(
                [sys.executable, "-c", _SPIN], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=_child_setup, close_fds=True))
        deadline = time.monotonic() + warm_s
        while time.monotonic() < deadline and not all(_spun(c.pid) for c in self.children):
            time.sleep(0.01)
        if mark:
            self.mark_start()
        return self

    def mark_start(self) -> None:
        """Log the window's start in ``log`` (the spinners already run)."""
        if self.log is not None:
            append_line(self.log, f"[FaultWindow] start name={CPU_HOG} procs={self.procs}", "hog.py")

    def stop(self) -> None:
        """Kill each spinner's process group by its leader's PID (bounded wait), then log the window's end."""
        running = [c for c in self.children if c.poll() is None]
        for c in running:
            try:
                os.killpg(c.pid, signal.SIGKILL)  # the leader is alive and unreaped: the group is ours
            except ProcessLookupError:
                pass
        for c in self.children:
            try:
                c.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - uninterruptible sleep
                pass
        if running and self.log is not None:
            append_line(self.log, f"[FaultWindow] stop name={CPU_HOG} procs={self.procs}", "hog.py")
        self.children = [c for c in self.children if c.poll() is None]

    def __enter__(self) -> CpuHog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
