"""Whether a number in a log record is one its field can hold, so out-of-type values are counted, not misread.

A broker prints ASCII integers within 64 bits (and often within tighter limits: a recv return is -1 or more, a
duration is not negative). Text such as ``-5``, ``NaN``, ``0x10``, ``1.5``, ``+5``, ``1_000`` or 2^70 in such a
field is not a value the program could have printed: the record is *unreadable* (counted in lines.json), never
an event with a made-up number. Python's ``int()`` would accept several of these (``+5``, ``1_000``, Unicode
digits) and a float of 400 digits is infinite, hence these checks on the raw text.
"""

from __future__ import annotations

import math
import re

INT64 = (-(2**63), 2**63 - 1)
#: broker indices are C ints in the broker
BROKER_INDEX_MAX = 2**31 - 1
_SYNTAX = {"int": re.compile(r"-?[0-9]+"), "float": re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")}
_BROKER_COUNT = re.compile(r"\bB([0-9]+)=([^\s,()\[\]]*)")


def problem(name: str, raw: str, kind: str, lo: int = INT64[0], hi: int = INT64[1]) -> str | None:
    """Why ``raw`` cannot be the value of field ``name`` of type ``kind`` (int or float), or None when it can."""
    shown = f"{name}={raw[:40]}"
    if kind not in _SYNTAX:
        return None
    if not _SYNTAX[kind].fullmatch(raw):
        return f"{shown} is not a valid {kind}"
    if kind == "float":
        return None if math.isfinite(float(raw)) else f"{shown} out of range"
    if len(raw.lstrip("-")) > 19 or not lo <= int(raw) <= hi:  # int() of 5000 digits raises
        return f"{shown} out of range"
    return None


def broker_counts_problem(name: str, text: str) -> str | None:
    """A ``B<i>=<n>`` list whose index is no broker index or whose count is no count."""
    for b, n in _BROKER_COUNT.findall(text):
        why = problem(f"{name} broker index B", b, "int", 0, BROKER_INDEX_MAX) or problem(f"{name}.B{b}", n, "int", 0)
        if why is not None:
            return why
    return None
