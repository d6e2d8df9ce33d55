"""Make a copied log readable by the parser: gunzip a ``.gz`` log, give a CR-only log line feeds.

Harnesses gzip broker logs (``trial<k>_attempt<a>_broker<b>.log.gz``) and some tools end lines with a bare CR;
the parser splits on LF, so a CR-only log reads as one endless line and nothing in it is recognised. Both are
fixed in the run's copy (the source is never touched), and the manifest notes say which file was changed how.
A gzip stream is cut at ``MAX_GUNZIP_BYTES`` (a small file must not unpack to fill the disk), and the note says so.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from stallscope.errors import StallscopeError

#: a gzipped log is unpacked up to this many bytes (the largest logs read are a few GiB)
MAX_GUNZIP_BYTES = 16 << 30
_BLOCK = 1 << 20


def _gunzip(src: Path, dst: Path) -> str | None:
    """Unpack ``src`` into ``dst``; a note when the stream is damaged or cut at the cap."""
    done = 0
    note = None
    try:
        with gzip.open(src, "rb") as fh, dst.open("wb") as out:
            while block := fh.read(_BLOCK):
                if done + len(block) > MAX_GUNZIP_BYTES:
                    out.write(block[: MAX_GUNZIP_BYTES - done])
                    return f"unpacked only its first {MAX_GUNZIP_BYTES} bytes"
                out.write(block)
                done += len(block)
    except (OSError, EOFError, zlib.error) as exc:
        note = f"gzip stream damaged after {done} bytes ({exc.__class__.__name__}): the rest is not read"
    return note


def _cr_only(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    return b"\r" in head and b"\n" not in head


def _cr_to_lf(path: Path) -> None:
    tmp = path.with_name(path.name + ".lf")
    with path.open("rb") as fh, tmp.open("wb") as out:
        while block := fh.read(_BLOCK):
            out.write(block.replace(b"\r", b"\n"))
    os.replace(tmp, path)


def readable_copy(copied: Path, dst: Path, source_name: str) -> list[str]:
    """Turn ``copied`` (a byte copy of ``source_name``) into ``dst``: unpacked when gzipped, LF line ends when
    CR-only; return the notes saying what was done (empty when nothing was)."""
    notes: list[str] = []
    try:
        if source_name.endswith(".gz"):
            why = _gunzip(copied, dst)
            copied.unlink()
            notes.append(f"{source_name}: gzipped, read unpacked as {dst.name}" + (f" ({why})" if why else ""))
        elif copied != dst:
            os.replace(copied, dst)
        if _cr_only(dst):
            _cr_to_lf(dst)
            notes.append(f"{source_name}: lines end in CR only; read with each CR as a line end")
    except OSError as exc:
        raise StallscopeError(dst, None, f"cannot write: {exc.strerror}") from None
    return notes
