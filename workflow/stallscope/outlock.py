"""One writer per output directory: an advisory lock file beside it, held for as long as the writer runs.

``flock`` rather than a pid file: the kernel drops the lock when its holder dies, so a crashed or killed writer
never leaves a stale lock behind, and a second writer learns at once (no waiting) that the output is in use.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stallscope.errors import StallscopeError


class OutputBusy(StallscopeError):
    """Another stallscope process is writing the same output (exit status 4)."""


def lock_path(out: Path) -> Path:
    """The lock file of an output directory: a hidden file beside it (the directory itself is replaced)."""
    return out.parent / f".{out.name}.lock"


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the lock of ``out`` for the block, or raise OutputBusy when another process holds it."""
    path = lock_path(Path(out))
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise StallscopeError(path, None, f"cannot create the lock file: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            msg = f"in use by another stallscope process (pid {holder}); try again later"
            raise OutputBusy(out, None, msg) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file was removed by the previous holder after we opened it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        try:
            os.unlink(path)
        finally:
            os.close(fd)
