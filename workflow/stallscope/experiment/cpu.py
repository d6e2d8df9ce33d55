"""Sample the CPU time of a run's processes and threads, and the machine's busy share, while the run goes on.

Why: two brokers, their connections and a publisher may share two cores. A run that delivers less than the raw
sink can then be held by the cores, not by any one role, and only CPU evidence tells the two apart. The sampler is
runner-agnostic: roles are names, PIDs are given (``watch``), so any runner (the reference broker's, a real
broker's) records the same ``cpu.csv`` that ``analysis/cpu.py`` aligns with the phases the logs give.

Every ``interval_s`` (50 ms: a publish of a few tenths of a second still spans several samples, at a few
per cent of one core for the sampling) one row per watched process (its own and its dead threads' CPU, from
``/proc/<pid>/stat``), one per live thread (``/proc/<pid>/task/<tid>/schedstat``: on-CPU and run-queue wait in ns,
the thread's name from ``comm``), and one for the machine (``/proc/stat``: busy and idle time over all cores).
Counters are cumulative; the analysis takes differences, so a late first sample or a missed one costs nothing but
resolution. Children of a watched process are watched too (a wrapper that forks, ``ip netns exec``).

Columns: ``wall_us`` (the local wall clock read as UTC, like the logs' timestamps), ``role``, ``pid``, ``tid``
(0 for a process row), ``thread`` (``comm``; empty for a process row), ``cpu_ns`` (time on CPU), ``wait_ns``
(run-queue wait for a thread; empty for a process). The machine's row has role ``host``, ``cpu_ns`` = busy time and
``wait_ns`` = idle time summed over all cores, ``irq_ns`` = the part of the busy time spent in interrupts
and softirqs (loopback TCP's receive path runs there, charged to no process), ``tid`` = the number of cores.
"""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

COLUMNS = ("wall_us", "role", "pid", "tid", "thread", "cpu_ns", "wait_ns", "irq_ns")
HOST = "host"
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


def wall_us() -> int:
    """Microseconds of the local wall clock read as UTC: the convention of the glog timestamps in the logs."""
    now = time.time_ns()
    return now // 1000 + time.localtime(now // 1_000_000_000).tm_gmtoff * 1_000_000


def host_times() -> tuple[int, int, int]:
    """(busy, idle, irq) ns summed over all cores since boot, from the ``cpu`` line of /proc/stat (idle includes
    iowait; irq is hard and soft interrupts, inside busy)."""
    with open(_PROC / "stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already inside user and nice]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    busy = sum(fields[:8]) - idle
    irq = sum(fields[5:7])
    return busy * _TICK_NS, idle * _TICK_NS, irq * _TICK_NS


def process_cpu_ns(pid: int) -> int | None:
    """CPU time of a process with its dead threads (utime + stime of /proc/<pid>/stat), None once it is gone."""
    try:
        raw = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    rest = raw[raw.rfind(b")") + 2:].split()  # comm may hold spaces and parentheses
    return (int(rest[11]) + int(rest[12])) * _TICK_NS


def thread_rows(pid: int) -> list[tuple[int, str, int, int]]:
    """(tid, name, on-CPU ns, run-queue wait ns) of each live thread of ``pid``."""
    rows = []
    try:
        tids = os.listdir(_PROC / str(pid) / "task")
    except OSError:
        return rows
    for tid in tids:
        base = _PROC / str(pid) / "task" / tid
        try:
            name = (base / "comm").read_text(errors="replace").strip()
            run_ns, wait_ns = (int(x) for x in (base / "schedstat").read_text().split()[:2])
        except (OSError, ValueError):
            continue
        rows.append((int(tid), name, run_ns, wait_ns))
    return rows


def children(pid: int) -> list[int]:
    """Direct children of every thread of ``pid`` (empty where the kernel does not list them)."""
    out: list[int] = []
    try:
        tids = os.listdir(_PROC / str(pid) / "task")
    except OSError:
        return out
    for tid in tids:
        try:
            out += [int(c) for c in (_PROC / str(pid) / "task" / tid / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return out


class CpuSampler:
    """Samples the watched processes into ``path`` from a background thread until ``stop``.

    ``watch(role, pid)`` may be called at any time (the publisher starts after the brokers). ``stop`` returns
    the totals the manifest keeps: per role its CPU seconds at its last sample (children seen included), the
    samples taken, the machine's busy share over the sampled span.
    """

    def __init__(self, path: Path, interval_s: float = 0.05) -> None:
        self.path = Path(path)
        self.interval_s = interval_s
        self._pids: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[str, int] = {}
        self._host: list[tuple[int, int, int]] = []
        self.samples = 0

    def watch(self, role: str, pid: int | None) -> None:
        """Sample ``pid`` (and its children) under ``role`` from the next sample on; None is ignored."""
        if pid is not None:
            with self._lock:
                self._pids[role] = int(pid)

    def start(self) -> CpuSampler:
        """Write the header and start sampling."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by stop()
        self._out = csv.writer(self._fh)
        self._out.writerow(COLUMNS)
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        # Stop signals are the main thread's business (its handlers only take note); never take them here.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        while True:
            self.sample()
            if self._stop.wait(self.interval_s):
                break
        self.sample()

    def sample(self) -> None:
        """Take one sample of the machine and every watched process and thread."""
        t = wall_us()
        busy, idle, irq = host_times()
        rows: list[tuple[Any, ...]] = [(t, HOST, 0, os.cpu_count() or 1, "", busy, idle, irq)]
        self._host.append((t, busy, idle))
        with self._lock:
            watched = dict(self._pids)
        for role, pid in watched.items():
            seen: set[int] = set()
            todo = [pid]
            total: int | None = None
            while todo:
                p = todo.pop()
                if p in seen or len(seen) > 64:
                    continue
                seen.add(p)
                cpu = process_cpu_ns(p)
                if cpu is None:
                    continue
                total = (total or 0) + cpu
                rows.append((t, role, p, 0, "", cpu, "", ""))
                rows += [(t, role, p, tid, name, run, wait, "") for tid, name, run, wait in thread_rows(p)]
                todo += children(p)
            if total is not None:
                self._last[role] = total
        self._out.writerows(rows)
        self._fh.flush()
        self.samples += 1

    def stop(self) -> dict[str, Any]:
        """Stop sampling (bounded wait) and return the totals for the manifest."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._fh.close()
            self._thread = None
        span = (self._host[-1][0] - self._host[0][0]) / 1e6 if len(self._host) > 1 else 0.0
        busy = self._host[-1][1] - self._host[0][1] if len(self._host) > 1 else 0
        idle = self._host[-1][2] - self._host[0][2] if len(self._host) > 1 else 0
        return {
            "file": self.path.name,
            "interval_s": self.interval_s,
            "samples": self.samples,
            "cores": os.cpu_count() or 1,
            "span_s": round(span, 3),
            "host_busy_share": round(busy / (busy + idle), 4) if busy + idle > 0 else None,
            "cpu_s": {r: round(v / 1e9, 3) for r, v in self._last.items()},
        }
