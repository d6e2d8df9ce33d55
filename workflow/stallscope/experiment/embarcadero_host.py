"""What one run of the real Embarcadero takes from the machine: fixed ports (and the lock that keeps runs of
different invocations apart), a POSIX shm object, ready files in /tmp, memory it uses.

The runner (``embarcadero.py``) asks here; nothing here starts a process.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from stallscope.experiment import interrupts

DATA_PORT_BASE = 1214
GRPC_PORT = 12140
SHM_DIR = Path("/dev/shm")
SHM_PREFIX = "stallscope-emb-"
READY_DIR = Path("/tmp")
#: A machine-wide lock held for a run's whole life: an abstract Unix socket (no file to leave behind, released
#: by the kernel whatever ends the holder). Runs of other Snakemake invocations or worktrees wait for it.
PORTS_LOCK = "\0stallscope-embarcadero-ports"
PORTS_LOCK_WAIT_S = 1800
def ports(brokers: int) -> dict[str, int]:
    """The fixed ports one run binds: each broker's data port and the head's gRPC port."""
    out = {f"broker_{i}": DATA_PORT_BASE + i for i in range(brokers)}
    out["grpc"] = GRPC_PORT
    return out


def port_in_use(port: int) -> str | None:
    """Why ``port`` cannot be bound now (another listener), else None.

    The probe binds 127.0.0.1 only (never listens): Linux refuses it when a listener holds the port on loopback or
    on every address, as embarlet's does. SO_REUSEADDR as the broker sets it: a connection of an earlier run in
    TIME_WAIT does not count."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return None
    except OSError as exc:
        return os.strerror(exc.errno) if exc.errno else str(exc)
    finally:
        s.close()


def check_ports(brokers: int) -> list[str]:
    """One line naming every fixed port that is taken (empty when all are free)."""
    taken = []
    for name, port in ports(brokers).items():
        why = port_in_use(port)
        if why:
            role = "head gRPC" if name == "grpc" else f"{name} data"
            taken.append(f"{port} ({role}: {why})")
    if not taken:
        return []
    return [f"Embarcadero's fixed ports are taken: {', '.join(taken)}; another Embarcadero (or any listener "
            "there) must stop first"]


@contextlib.contextmanager
def ports_lock(wait_s: float) -> Iterator[str | None]:
    """Hold the machine-wide Embarcadero lock, waiting for it at most ``wait_s`` (interruptible).

    Yields None once held, else why not (another run held it all along, or a stop signal came first). The
    Snakemake resource keeps one invocation's runs apart; this keeps apart those of several (two worktrees,
    a test beside a report), which would otherwise meet on the fixed ports."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + wait_s
    said = False
    try:
        while True:
            try:
                s.bind(PORTS_LOCK)
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
            if interrupts.requested():
                yield "interrupted while waiting for another Embarcadero run to end"
                return
            if time.monotonic() >= deadline:
                yield (f"another Embarcadero run held its ports for more than {wait_s:g} s "
                       "(the machine-wide lock stallscope-embarcadero-ports)")
                return
            if not said:
                print("waiting for another Embarcadero run to end (its ports are fixed)", file=sys.stderr, flush=True)
                said = True
            time.sleep(0.2)
        yield None
    finally:
        s.close()


def new_shm_name() -> str:
    """A shm name no other run uses: this runner's pid (for the stale sweep) and random bits."""
    return f"{SHM_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"


def sweep_stale_shm() -> list[str]:
    """Remove shm objects of runners that are gone (killed with SIGKILL before their cleanup ran)."""
    removed = []
    for p in SHM_DIR.glob(f"{SHM_PREFIX}*"):
        m = re.match(rf"^{re.escape(SHM_PREFIX)}(\d+)-[0-9a-f]+$", p.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            p.unlink()
            removed.append(p.name)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ready_file(pid: int | None) -> Path:
    """Where embarlet announces it is ready (fixed by its code: /tmp/embarlet_<pid>_ready)."""
    return READY_DIR / f"embarlet_{pid}_ready"


def peak_rss_kb(pid: int | None) -> int | None:
    """VmHWM (peak resident set, KiB) of a live process, None once it is gone."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
