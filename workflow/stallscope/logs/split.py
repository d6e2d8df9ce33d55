"""Parse one big log on two cores: a forked child scans the second half while this process scans the first.

The halves meet between two glog records, where the scanner carries no state that matters: the child's first line
is a record (so it never needs the line before it) and a record precedes it (so its prefix-less lines are never
"before the first record"). The child writes its CSV rows with line numbers relative to its half; the parent adds
the first half's line count when it copies them after its own rows, so events.csv keeps file order.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from stallscope.logs.catalogue import Catalogue
from stallscope.logs.glog import _PFX_LINE, EXAMPLES_KEPT, Event, FileScanner, LineStats

SPLIT_MIN_BYTES = 64 << 20  # smaller files are not worth a second process
_WINDOW = 1 << 20  # how far after the middle a meeting point is looked for

Row = Callable[[Event], list[Any]]


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
        if _PFX_LINE.match(data, prev, nxt) and _PFX_LINE.match(data, nxt + 1):
            return start + nxt + 1
        prev = nxt + 1
    return None


def _child(path: Path, role: str, cat: Catalogue, start: int, row: Row, tmp: str) -> dict[str, Any]:
    scanner = FileScanner(path, role, cat, start=start, after_glog=True)
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(row(ev)[1:] for ev in scanner)
    return dict(scanner.stats.__dict__)


def scan_split(
    path: Path, role: str, cat: Catalogue, at: int, row: Row, writer: Any, out: Any, name: str, tmp_dir: Path
) -> LineStats:
    """Write the rows of ``path`` (split at byte ``at``) through ``writer``/``out``; return merged line stats."""
    fd, tmp = tempfile.mkstemp(prefix=".events.part.", suffix=".csv", dir=tmp_dir)
    os.close(fd)
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            fut = pool.submit(_child, path, role, cat, at, row, tmp)
            first = FileScanner(path, role, cat, stop=at)
            writer.writerows(row(ev) for ev in first)
            second = fut.result()
        off = first.stats.total
        head = io.StringIO()
        csv.writer(head, lineterminator="\n").writerow([name, ""])
        prefix = head.getvalue()[:-1]  # "<name>,"
        with open(tmp, "rb") as fh:
            out.writelines(_shifted(fh, prefix, off))
        return merge(first.stats, second, off)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _shifted(lines: Iterable[bytes], prefix: str, off: int) -> Iterable[str]:
    for raw in lines:
        text = raw.decode("utf-8")
        i = text.index(",")
        yield f"{prefix}{int(text[:i]) + off}{text[i:]}"


def merge(a: LineStats, b: dict[str, Any], off: int) -> LineStats:
    """Line stats of the whole file from its two halves (``b``'s line numbers are relative, shifted by ``off``)."""
    out = LineStats(**{k: v for k, v in a.__dict__.items()})
    for k in ("total", "event", "glog", "continuation", "script", "unparseable"):
        setattr(out, k, getattr(a, k) + b[k])
    out.is_truncated = b["is_truncated"]
    shifted = [{**e, "line": e["line"] + off} for e in b["unparseable_examples"]]
    out.unparseable_examples = (a.unparseable_examples + shifted)[:EXAMPLES_KEPT]
    out.last_ts_us = b["last_ts_us"]
    return out
