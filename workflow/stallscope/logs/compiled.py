"""Hand the compiled scanner (``_fastscan``) the recognisers it can run itself, so that events cost no Python.

A recogniser is *compilable* when its regex is a plain template: literal characters and integer captures
``(?P<name>\\d+)`` or ``(?P<name>-?\\d+)``, each capture followed by a non-digit literal or by the end, and every
field it outputs an ``int``; no extras, key=value scan or aliases. Such a regex has exactly one way to match, so a
left-to-right walk in C gives the same fields as ``re.match``. Anything else stays with Python: the scanner hands
those lines back as candidates. The extension is optional (built when a C compiler is there); without it the
numpy path in scan.py runs.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from stallscope.logs.catalogue import Recogniser

try:
    from stallscope.logs import _fastscan
except ImportError:  # not built: no compiler at install time
    _fastscan = None  # type: ignore[assignment]

AVAILABLE = _fastscan is not None
_CAPTURE = re.compile(r"\(\?P<([A-Za-z_]\w*)>(-\?)?\\d\+\)")
_SPECIAL = set(".^$*+?{}[]|()\\")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Piece = bytes | bool  # a literal, or an integer capture (True: may be negative)


def template(regex: str) -> tuple[list[Piece], list[str]] | None:
    """Split a plain-template regex into pieces and capture names; None when it is anything more."""
    pieces: list[Piece] = []
    names: list[str] = []
    lit = bytearray()
    i = 0
    while i < len(regex):
        c = regex[i]
        m = _CAPTURE.match(regex, i)
        if m is not None:
            if lit:
                pieces.append(bytes(lit))
                lit.clear()
            elif pieces and not isinstance(pieces[-1], bytes):
                return None  # two captures side by side could split digits either way
            pieces.append(m.group(2) is not None)
            names.append(m.group(1))
            i = m.end()
            continue
        if c == "\\":
            if i + 1 >= len(regex) or regex[i + 1].isalnum() or not regex[i + 1].isascii():
                return None  # \d, \s, \b, ... are classes or anchors, not literals
            c = regex[i + 1]
            i += 2
        elif c in _SPECIAL or not c.isascii() or not c.isprintable():
            return None
        else:
            i += 1
        if not lit and pieces and not isinstance(pieces[-1], bytes) and c.isdigit():
            return None  # a digit after \d+ would let the capture end early
        lit += c.encode()
    if lit:
        pieces.append(bytes(lit))
    return pieces, names


def spec(rec: Recogniser, broker_column: bool) -> tuple[Any, ...]:
    """The scanner's view of one recogniser: (key, None) when Python must run it, else its compiled form.

    ``broker_column``: the row's broker cell comes from the recogniser's ``broker_field`` (client logs); a
    broker log's rows carry the file's broker index instead."""
    key = rec.key.encode()
    if rec.extras or rec.kv or rec.aliases:
        return (key, None)
    tpl = template(rec.regex.pattern)
    if tpl is None:
        return (key, None)
    pieces, names = tpl
    if len(set(names)) != len(names):
        return (key, None)
    outs = []
    for name, kind in rec.fields:
        if name not in names:
            continue  # Python leaves out a field its regex has no group for
        if kind != "int" or not _NAME.fullmatch(name):
            return (key, None)
        outs.append((json.dumps(name).replace('"', '""').encode() + b":", names.index(name)))
    out_names = [n for n, _ in rec.fields if n in names]
    broker = names.index(rec.broker_field) if broker_column and rec.broker_field in out_names else -1
    dur = names.index("duration_ms") if rec.kind.startswith("stall_") and "duration_ms" in out_names else -1
    return (key, rec.kind.encode(), pieces, outs, broker, dur)


def csv_head(name: str) -> bytes:
    """The first cell of every row of one file, with its comma, exactly as csv.writer renders it."""
    s = io.StringIO()
    csv.writer(s, lineterminator="\n").writerow([name, ""])
    return s.getvalue()[:-1].encode("utf-8")


def scanner(recs: tuple[Recogniser, ...], name: str, role: str, file_broker: int | None) -> Any:
    """A ``_fastscan.Scanner`` for one file, or None when the extension is not built."""
    if _fastscan is None:
        return None
    is_broker = role == "broker"
    broker = file_broker if is_broker and file_broker is not None else -1
    return _fastscan.Scanner([spec(r, not is_broker) for r in recs], csv_head(name), role.encode(), broker)


def shift_lines(rows: bytes, head: bytes, offset: int) -> bytes:
    """Add ``offset`` to the line column of rows that all start with ``head``."""
    if _fastscan is not None:
        return _fastscan.shift_lines(rows, len(head), offset)
    out = []
    for raw in rows.splitlines(keepends=True):
        k = raw.index(b",", len(head))
        out.append(b"%s%d%s" % (head, int(raw[len(head) : k]) + offset, raw[k:]))
    return b"".join(out)
