"""Processes a run starts: each in its own process group, ended by PID, never by name.

Every child gets PR_SET_PDEATHSIG, so even a runner killed with SIGKILL takes its brokers with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stallscope.shared.procs import set_parent_death_signal


def log_tail(log: Path, max_bytes: int) -> list[str] | None:
    """The non-blank lines (stripped) of the last ``max_bytes`` of a process's log, None when it cannot be read:
    what a progress line or an error message quotes while the process may still be writing."""
    try:
        with open(log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - max_bytes))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _child_setup() -> None:
    set_parent_death_signal(signal.SIGKILL)


@dataclass
class Proc:
    """One started process and what became of it."""

    name: str
    role: str
    broker: int | None
    argv: list[str]
    log: Path
    popen: subprocess.Popen | None = None
    timed_out: bool = False
    start_error: str | None = None
    stop_signal: str | None = field(default=None)
    #: peak resident memory (KiB) when the runner measured it (the Embarcadero adapter does)
    peak_rss_kb: int | None = None

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    def is_running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_facts(self) -> tuple[int | None, str | None]:
        """(exit code, signal name) once it has ended; (None, None) while running or never started."""
        if self.popen is None or self.popen.returncode is None:
            return None, None
        rc = self.popen.returncode
        if rc < 0:
            return None, signal.Signals(-rc).name
        return rc, None


def start(proc: Proc, env: dict[str, str] | None = None, cwd: Path | None = None) -> Proc:
    """Start ``proc`` with stdout and stderr into its log file, stdin closed, in a new session."""
    proc.log.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: a fault from outside (experiment/hog.py) appends its window's lines whole between the process's own
    fd = os.open(proc.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    with open(fd, "wb") as log:
        try:
            proc.popen = subprocess.Popen(
                proc.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_child_setup,
                env=env,
                cwd=cwd,
                close_fds=True,
            )
        except OSError as exc:
            proc.start_error = f"{proc.name}: cannot start {proc.argv[0]}: {exc.strerror}"
    return proc


def stop(proc: Proc, grace_s: float) -> None:
    """End ``proc`` and its process group: SIGTERM, then SIGKILL after ``grace_s``; waits are bounded."""
    p = proc.popen
    if p is None or p.poll() is not None:
        return
    _signal_group(p, signal.SIGTERM)
    proc.stop_signal = "SIGTERM"
    try:
        p.wait(timeout=grace_s)
        return
    except subprocess.TimeoutExpired:
        pass
    _signal_group(p, signal.SIGKILL)
    proc.stop_signal = "SIGKILL"
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process in uninterruptible sleep
        pass


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    # Only while the leader is alive is the group surely ours (its id cannot have been reused).
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


def stop_all(procs: Sequence[Proc], grace_s: float) -> None:
    """SIGTERM every running process at once, then wait for each (bounded), then SIGKILL stragglers."""
    running = [p for p in procs if p.is_running()]
    for p in running:
        assert p.popen is not None
        _signal_group(p.popen, signal.SIGTERM)
        p.stop_signal = "SIGTERM"
    deadline = time.monotonic() + grace_s
    for p in running:
        assert p.popen is not None
        try:
            p.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in running:
        if p.is_running():
            stop(p, 0.0)


def free_ports(n: int) -> list[int]:
    """Ask the kernel for ``n`` distinct free loopback ports (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_for_files(paths: Sequence[Path], procs: Sequence[Proc], timeout_s: float,
                   give_up: Callable[[], bool] = lambda: False) -> list[str]:
    """Wait until every path exists; return errors for processes that died or files that never came.

    ``give_up`` is polled too: once it returns True the wait ends early with no error (the caller asked).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not give_up():
        dead = [p for p in procs if p.popen is not None and p.popen.poll() is not None]
        if dead:
            return [f"{p.name} exited with status {p.popen.returncode} before it was ready" for p in dead if p.popen]
        if all(path.exists() for path in paths):
            return []
        time.sleep(0.05)
    if give_up():
        return []
    pairs = zip(procs, paths, strict=True)
    return [f"{p.name} not ready after {timeout_s:g} s" for p, path in pairs if not path.exists()]
