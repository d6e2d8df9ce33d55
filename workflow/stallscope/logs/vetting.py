"""Decide which files of an input directory are logs stallscope may read, and say why the others are refused.

Logs come from elsewhere and are untrusted. Only regular files are read: opening a FIFO blocks forever, a device
such as ``/dev/zero`` never ends, and a symlink may point anywhere on the machine (``broker_0.log -> /etc/passwd``
must not be copied into a report). So a log is read when it is a regular file inside the input directory, or a
symlink that resolves to one there; everything else named like a log is refused with a note that ends up in the
manifest, never skipped in silence. Gaps in the broker numbering are noted too: ``broker_17.log`` next to 0-3 is
five brokers, not eighteen, and the reader should know which ones are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from stallscope.errors import StallscopeError
from stallscope.logs.values import BROKER_INDEX_MAX

BROKER_NAME = re.compile(r"broker_?(\d+)\.log")
CLIENT_NAME = re.compile(r"client(?:[_.-].*)?\.log", re.DOTALL)
#: broker indices are C ints in the broker and int64 columns downstream; more digits than this is not an index
MAX_BROKER_INDEX = BROKER_INDEX_MAX
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"),
)


@dataclass
class Inputs:
    """The logs to read: (broker index, path) pairs, client log paths, and notes on everything refused."""

    brokers: list[tuple[int, Path]] = field(default_factory=list)
    clients: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def kind_of(mode: int) -> str:
    """Name a file type for a note ("a FIFO", "a character device", ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _readable(path: Path, root: Path) -> tuple[Path | None, str | None]:
    """(the log, None) when it is or links to a regular file under ``root`` (resolved), else (None, why not)."""
    try:
        st = path.lstat()
    except OSError as exc:
        return None, f"cannot stat: {exc.strerror}"
    if stat.S_ISLNK(st.st_mode):
        target = path.resolve()
        if not target.exists():
            return None, f"a dangling symlink (to {os.readlink(path)!r})"
        if not target.is_relative_to(root):
            return None, f"a symlink leaving the input directory (to {str(target)!r})"
        st = target.stat()
    if not stat.S_ISREG(st.st_mode):
        return None, kind_of(st.st_mode)
    return path, None


def vet_one(path: Path, root: Path) -> tuple[Path | None, str | None]:
    """(the file, None) when ``path`` is (or links to) a regular file under ``root``, else (None, why not)."""
    return _readable(Path(path), Path(root).resolve())


def only_other_log(src: Path) -> tuple[list[Path], list[str]]:
    """The single ``*.log`` of a directory whose logs follow none of the usual names (read as its client log),
    with notes on what was refused; nothing when there are none or several."""
    root = Path(src).resolve()
    found, notes = [], []
    for p in sorted(Path(src).glob("*.log")):
        path, why = _readable(p, root)
        if why is not None:
            notes.append(f"{p.name!r} refused: {why}")
        else:
            found.append(path)
    return (found if len(found) == 1 else []), notes


def check_readable(path: Path, root: Path) -> None:
    """Raise a one-line error unless ``path`` is (or links to) a regular file under ``root``: the parse stage
    reads run directories people may have laid out by hand, and a FIFO there would block it forever."""
    _, why = _readable(Path(path), Path(root).resolve())
    if why is not None:
        raise StallscopeError(path, None, f"refused: {why}")


def vet_source(src: Path) -> Inputs:
    """The logs of ``src`` (a directory, or one log file) that may be read, and notes on what was refused."""
    src = Path(src)
    try:
        st = src.stat()
    except FileNotFoundError:
        raise StallscopeError(src, None, "no such file or directory") from None
    except OSError as exc:
        raise StallscopeError(src, None, f"cannot read: {exc.strerror}") from None
    if stat.S_ISREG(st.st_mode):
        return Inputs(clients=[src])
    if not stat.S_ISDIR(st.st_mode):
        raise StallscopeError(src, None, f"{kind_of(st.st_mode)}, not a log file or a directory of logs")
    root = src.resolve()
    found = Inputs()
    seen: dict[int, str] = {}
    try:
        entries = sorted(src.iterdir())
    except OSError as exc:
        raise StallscopeError(src, None, f"cannot list: {exc.strerror}") from None
    for p in entries:
        bm = BROKER_NAME.fullmatch(p.name)
        if bm is None and CLIENT_NAME.fullmatch(p.name) is None:
            continue  # not a log by its name: not an input
        path, why = _readable(p, root)
        if why is not None:
            found.notes.append(f"{p.name!r} refused: {why}")
            continue
        assert path is not None
        if bm is None:
            found.clients.append(path)
            continue
        idx = int(bm.group(1))
        if idx > MAX_BROKER_INDEX:
            found.notes.append(f"{p.name!r} refused: broker index beyond {MAX_BROKER_INDEX}")
        elif idx in seen:
            found.notes.append(f"{p.name!r} refused: broker {idx} is already {seen[idx]!r}")
        else:
            seen[idx] = p.name
            found.brokers.append((idx, path))
    found.brokers.sort()
    gap = numbering_gap([i for i, _ in found.brokers])
    if gap:
        found.notes.append(gap)
    return found


def numbering_gap(indices: list[int]) -> str | None:
    """A note when broker indices are not 0..n-1 (so the reader knows which brokers have no log)."""
    if not indices or indices == list(range(len(indices))):
        return None
    missing = sorted(set(range(max(indices) + 1)) - set(indices))
    shown = ", ".join(str(i) for i in missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return (f"broker numbering has gaps: {len(indices)} broker log(s) with indices "
            f"{', '.join(str(i) for i in indices[:8])}{' ...' if len(indices) > 8 else ''}; no log for {shown}")


def copy_regular(path: Path, dst: Path, root: Path | None = None) -> None:
    """Copy a vetted log; the open descriptor is checked again (a regular file, under ``root`` when given), so
    a file swapped for a FIFO or a link after vetting is refused instead of read."""
    real = Path(path).resolve()
    if root is not None and not real.is_relative_to(Path(root).resolve()):
        raise StallscopeError(path, None, "a symlink leaving the input directory (changed while reading)")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise StallscopeError(path, None, f"cannot read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise StallscopeError(path, None, f"{kind_of(mode)} (changed while reading)")
        try:
            with dst.open("wb") as out:
                shutil.copyfileobj(fh, out, 1 << 20)
        except OSError as exc:
            raise StallscopeError(dst, None, f"cannot write: {exc.strerror}") from None
