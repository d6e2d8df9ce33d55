"""Processes and ports as the interrupt tests see them: children through /proc (no psutil), ports held."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def children_of(ppid: int) -> list[tuple[int, list[str]]]:
    """Live (not zombie) direct children of ``ppid`` with their argv."""
    kids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == ppid and fields[0] != "Z":
                argv = (d / "cmdline").read_bytes().split(b"\0")
                kids.append((int(d.name), [a.decode(errors="replace") for a in argv if a]))
        except (OSError, ValueError):
            continue
    return kids


def wait_for(fn: Callable[[], T | None], timeout_s: float) -> T:
    """Poll ``fn`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise TimeoutError(f"condition not met within {timeout_s} s")


def port_held(port: int) -> bool:
    """Some process still listens on or holds the loopback port (TIME_WAIT left by the kernel does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen(1)
        except OSError:
            return True
    return False
