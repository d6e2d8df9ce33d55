"""The runner's own lines in a process's log: a fault window it applied (the CPU hog, a broker stopped or killed
from outside) written as one glog line, so the log's reader shades the window like a broker's own."""

from __future__ import annotations

import os
import time
from pathlib import Path


def glog_line(message: str, source: str) -> bytes:
    """One glog-format info line (local time, as refpub, refbroker and Embarcadero write theirs) from this
    process, attributed to ``source`` (the module that applied the fault)."""
    now = time.time()
    stamp = time.strftime("%Y%m%d %H:%M:%S", time.localtime(now))
    return f"I{stamp}.{int(now % 1 * 1e6):06d} {os.getpid():5d} {source}:0] {message}\n".encode()


def append_line(log: Path, message: str, source: str) -> None:
    """Append one glog line to ``log`` with a single O_APPEND write, never inside another process's line (the
    processes open their logs with O_APPEND too)."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, glog_line(message, source))
    finally:
        os.close(fd)
