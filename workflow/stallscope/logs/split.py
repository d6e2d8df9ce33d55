"""Parse one big log on two cores: a forked child scans the second half while this process scans the first.

The halves meet between two glog records, where the scanner carries no state that matters: the child's first line
is a record (so it never needs the line before it) and a record precedes it (so its prefix-less lines are never
"before the first record"). The child writes its CSV rows with line numbers relative to its half; the parent adds
the first half's line count when it copies them after its own rows, so events.csv keeps file order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, BinaryIO

from stallscope.errors import StallscopeError
from stallscope.logs import compiled
from stallscope.logs.catalogue import Catalogue
from stallscope.logs.glog import EXAMPLES_KEPT, PFX_LINE, FileScanner, LineStats
from stallscope.logs.rows import RowFormat, csv_head
from stallscope.shared.procs import set_parent_death_signal

SPLIT_MIN_BYTES = 64 << 20  # smaller files are not worth a second process
_WINDOW = 1 << 20  # how far after the middle a meeting point is looked for
CHILD_GRACE_S = 60.0  # the child's deadline after the parent's half: this, or 4x the parent's time if longer


def meeting_point(path: Path, lo: int, hi: int) -> int | None:
    """First line start after the middle of [lo, hi) with a glog prefix on it and on the line before; else None."""
    start = (lo + hi) // 2
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read(min(_WINDOW, hi - start))
    first = data.find(b"\n")
    prev = first + 1
    while first >= 0:
        nxt = data.find(b"\n", prev)
        if nxt < 0:
            return None
        if start + nxt + 1 >= hi:
            return None
        if PFX_LINE.match(data, prev, nxt) and PFX_LINE.match(data, nxt + 1):
            return start + nxt + 1
        prev = nxt + 1
    return None


def _child(
    path: Path, fmt: RowFormat, cat: Catalogue, start: int, tmp: str, conn: Connection, parent: int
) -> None:
    """Scan the second half into ``tmp``; send back ("ok", stats) or ("error", exception)."""
    set_parent_death_signal(signal.SIGKILL)  # a parse killed outright must not leave this half running
    if os.getppid() != parent:
        os._exit(1)
    try:
        scanner = FileScanner(path, fmt.role, cat, start=start, after_glog=True)
        with open(tmp, "wb") as fh:
            fh.writelines(scanner.rows(fmt))
        conn.send(("ok", dict(scanner.stats.__dict__)))
    except BaseException as exc:  # noqa: BLE001 - whatever it was, the parent raises it
        conn.send(("error", exc))
    finally:
        conn.close()


def scan_split(path: Path, fmt: RowFormat, cat: Catalogue, at: int, out: BinaryIO, tmp_dir: Path) -> LineStats:
    """Write the rows of ``path`` (split at byte ``at``) to ``out``; return merged line stats.

    The child is a plain fork: it inherits the compiled catalogue instead of unpickling it (recompiling its
    regexes cost more than a tenth of a second), and only its line stats travel back through a pipe.
    """
    fd, tmp = tempfile.mkstemp(prefix=".events.part.", suffix=".csv", dir=tmp_dir)
    os.close(fd)
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(path, fmt, cat, at, tmp, send, os.getpid()), daemon=True)
    try:
        t0 = time.monotonic()
        child.start()
        send.close()
        first = FileScanner(path, fmt.role, cat, stop=at)
        out.writelines(first.rows(fmt))
        second = _result(path, recv, child, max(CHILD_GRACE_S, 4 * (time.monotonic() - t0)))
        off = first.stats.total
        head = csv_head(fmt.name)
        with open(tmp, "rb") as fh:
            out.writelines(compiled.shift_lines(block, head, off) for block in _line_blocks(fh))
        return join_line_stats(first.stats, second, off)
    finally:
        if child.is_alive():
            child.kill()
        if child.pid is not None:
            child.join(5)
        recv.close()
        Path(tmp).unlink(missing_ok=True)


def _result(path: Path, recv: Connection, child: BaseProcess, timeout: float) -> dict[str, Any]:
    """The child's stats; its exception re-raised; an error when it died silently or outlived ``timeout``."""
    try:
        ready = recv.poll(timeout)
        status, value = recv.recv() if ready else ("timeout", None)
    except EOFError:
        status, value = "died", None
    if status == "ok":
        return value
    if status == "error":
        raise value
    child.join(1)
    what = f"timed out after {timeout:.0f} s" if status == "timeout" else f"died (exit code {child.exitcode})"
    raise StallscopeError(path, None, f"the process parsing the second half of this file {what}")


def _line_blocks(fh: BinaryIO, size: int = 4 << 20) -> Iterator[bytes]:
    """Blocks of whole lines (rows never hold a newline: csv quotes keep text on one line)."""
    rest = b""
    while block := fh.read(size):
        block = rest + block
        cut = block.rfind(b"\n") + 1
        rest = block[cut:]
        if cut:
            yield block[:cut]
    if rest:
        yield rest


def join_line_stats(a: LineStats, b: dict[str, Any], off: int) -> LineStats:
    """Line stats of the whole file from its two halves (``b``'s line numbers are relative, shifted by ``off``)."""
    out = LineStats(**{k: v for k, v in a.__dict__.items()})
    for k in ("total", "event", "glog", "continuation", "script", "unparseable", "unreadable"):
        setattr(out, k, getattr(a, k) + b[k])
    out.is_truncated = b["is_truncated"]
    shifted = [{**e, "line": e["line"] + off} for e in b["unparseable_examples"]]
    out.unparseable_examples = (a.unparseable_examples + shifted)[:EXAMPLES_KEPT]
    shifted = [{**e, "line": e["line"] + off} for e in b["unreadable_examples"]]
    out.unreadable_examples = (a.unreadable_examples + shifted)[:EXAMPLES_KEPT]
    out.last_ts_us = b["last_ts_us"]
    return out
