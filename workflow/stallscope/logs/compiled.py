"""Hand the compiled scanner (``_fastscan``) the recognisers it can run itself, so that events cost no Python.

A recogniser is *compilable* when its regex is a plain template: literal characters and integer captures
``(?P<name>\\d+)`` or ``(?P<name>-?\\d+)``, each capture followed by a non-digit literal or by the end, and every
field it outputs an ``int``; no extras, key=value scan or aliases. Such a regex has exactly one way to match, so a
left-to-right walk in C gives the same fields as ``re.match``. Anything else stays with Python: the scanner hands
those lines back as candidates, and so it does a line whose key matched but no template did, or whose number is
outside the catalogue's limits (Python counts those unreadable). The extension is optional (built when a C
compiler is there); without it the numpy path in scan.py runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from stallscope.logs.catalogue import Recogniser
from stallscope.logs.rows import cell, csv_head
from stallscope.logs.values import INT64

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
    if rec.extras or rec.kv or rec.aliases or rec.regex.flags & ~(re.UNICODE | re.ASCII):
        return (key, None)  # (flags such as IGNORECASE change what the literals match; ASCII is what C reads)
    tpl = template(rec.regex.pattern)
    if tpl is None:
        return (key, None)
    pieces, names = tpl
    if len(set(names)) != len(names):
        return (key, None)
    if any(kind != "int" for _, kind in rec.fields):
        return (key, None)  # other kinds convert differently, and broker_counts appear even without a group
    outs = []
    for name, _ in rec.fields:
        if name not in names:
            continue  # Python leaves out an int field its regex has no group for
        if not _NAME.fullmatch(name):
            return (key, None)
        outs.append((json.dumps(name).replace('"', '""').encode() + b":", names.index(name)))
    out_names = [n for n, _ in rec.fields if n in names]
    broker = names.index(rec.broker_field) if broker_column and rec.broker_field in out_names else -1
    dur = names.index("duration_ms") if rec.kind.startswith("stall_") and "duration_ms" in out_names else -1
    bounds = dict((n, (lo, hi)) for n, lo, hi in rec.limits)
    limits = [bounds.get(n, INT64) for n in names]
    return (key, cell(rec.kind), pieces, outs, broker, dur, limits)


def scanner(recs: tuple[Recogniser, ...], name: str, role: str, file_broker: int | None) -> Any:
    """A ``_fastscan.Scanner`` for one file, or None when the extension is not built."""
    if _fastscan is None:
        return None
    is_broker = role == "broker"
    broker = cell(file_broker) if is_broker and file_broker is not None else b""
    return _fastscan.Scanner([spec(r, not is_broker) for r in recs], csv_head(name), cell(role), broker)


def shift_lines(rows: bytes, head: bytes, offset: int) -> bytes:
    """Add ``offset`` to the line column of rows that all start with ``head``."""
    if _fastscan is not None:
        return _fastscan.shift_lines(rows, len(head), offset)
    lines = rows.split(b"\n")  # on \n only: a \r inside a quoted cell is part of its row
    last = lines.pop()  # empty when the rows end with a newline
    out = [_shift_row(raw, head, offset) for raw in lines]
    if last:
        out.append(_shift_row(last, head, offset))
    return b"\n".join(out) + (b"\n" if rows.endswith(b"\n") else b"")


def _shift_row(raw: bytes, head: bytes, offset: int) -> bytes:
    k = raw.index(b",", len(head))
    return b"%s%d%s" % (head, int(raw[len(head) : k]) + offset, raw[k:])
