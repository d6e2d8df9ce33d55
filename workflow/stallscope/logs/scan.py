"""Certify ordinary glog lines of a chunk in bulk with numpy, so that Python only looks at the lines that matter.

A line is *certified* when its glog prefix is proven well-formed and its message is proven not to start with a
catalogue key; such a line can only be a plain ``glog`` line. Every other line is a *candidate* and goes through the
exact bytes regex in ``glog.py``: certification may be incomplete (odd shapes stay candidates) but is always sound.

Certification works on 8-byte little-endian words gathered at each line start. A *template* is the prefix of one
line that the exact regex accepted, with each digit turned into a "some digit" lane and every other byte (but the
severity letter, checked apart) kept literal: a line whose words agree lane by lane has the same parse, so it is
well-formed and its message starts at the same offset. A SWAR test checks all lanes of a word at once.
"""

from __future__ import annotations

import re

import numpy as np

from stallscope.logs.chunks import PAD

WORDS = 10  # prefix window (80 bytes); longer prefixes stay candidates
KEY_WORDS = 3  # key window (24 bytes) compared at the message start
assert PAD >= 8 * (WORDS + KEY_WORDS + 2)  # the certifier reads this far past a line start
MAX_TEMPLATES = 64
MAX_LEARN = 16  # new shapes tried per chunk before the rest of the chunk is left to the exact regex
_H = np.uint64(0x8080808080808080)
_L7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_BYTE = np.uint64(0xFF)
_P0, _P1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)
_SEVERITY = np.zeros(256, dtype=bool)
_SEVERITY[list(b"IWEF")] = True


def _words(data: bytes) -> np.ndarray:
    return np.frombuffer(data.ljust(-(-len(data) // 8) * 8, b"\0"), dtype="<u8")


class _Template:
    """One prefix shape: per-word xor, add and high-bit masks of the SWAR lane test, and the message offset."""

    def __init__(self, prefix: bytes) -> None:
        x, add, hi = bytearray(len(prefix)), bytearray(len(prefix)), bytearray(len(prefix))
        for i, c in enumerate(prefix[1:], 1):
            is_digit = 0x30 <= c <= 0x39
            x[i], add[i], hi[i] = (0x30, 0x76, 0x80) if is_digit else (c, 0x7F, 0x80)
        self.x, self.add, self.hi = _words(bytes(x)), _words(bytes(add)), _words(bytes(hi))
        self.n = len(self.x)
        self.offset = len(prefix)
        self.spaced = prefix.endswith(b" ")
        self.close = len(prefix) - 1 - self.spaced  # where the prefix's closing bracket sits

    def bad(self, rows: np.ndarray) -> np.ndarray:
        """Per row: nonzero when some lane differs from the template (literal) or is not a digit (digit lane)."""
        y = rows
        y ^= self.x
        t = y & _L7
        t += self.add
        t |= y
        t &= self.hi
        n = t.shape[1]
        while n > 1:  # fold the words pairwise: a reduce over a short axis is slow
            h = n // 2
            t[:, : n - h] |= t[:, h:n] if n % 2 == 0 else np.pad(t[:, h + 1 : n], ((0, 0), (1, 0)))
            n -= h
        return t[:, 0]


class _Keys:
    """Superset test 'the message may start with a key': equal masked first word, then a hash of three words."""

    def __init__(self, keys: list[bytes]) -> None:
        self.leading_space = any(k.startswith(b" ") for k in keys)
        first: dict[int, set[int]] = {}
        groups: dict[tuple[int, int, int], set[int]] = {}
        for k in keys:
            k = k[: 8 * KEY_WORDS]
            lens = tuple(max(0, min(8, len(k) - 8 * j)) for j in range(KEY_WORDS))
            vals = [int.from_bytes(k[8 * j : 8 * j + n], "little") for j, n in enumerate(lens)]
            first.setdefault(lens[0], set()).add(vals[0])
            groups.setdefault(lens, set()).add(self._mix(*(np.uint64(v) for v in vals)).item())  # type: ignore
        self.first = [(np.uint64((1 << 8 * n) - 1), np.array(sorted(v), dtype=np.uint64)) for n, v in first.items()]
        self.groups = [
            (tuple(np.uint64((1 << 8 * n) - 1) for n in lens), np.array(sorted(v), dtype=np.uint64))
            for lens, v in groups.items()
        ]

    @staticmethod
    def _mix(w0: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return (w0 * _P0) ^ (w1 * _P1) ^ w2

    def hits(self, words: np.ndarray) -> np.ndarray:
        """Per row of (n, KEY_WORDS) message words: True when the row may start with a key."""
        w0 = words[:, 0]
        maybe = np.zeros(len(words), dtype=bool)
        for mask, vals in self.first:
            maybe |= _member(w0 & mask, vals)
        idx = np.flatnonzero(maybe)
        if idx.size == 0:
            return maybe
        sub = words[idx]
        hit = np.zeros(idx.size, dtype=bool)
        for (m0, m1, m2), vals in self.groups:
            hit |= _member(self._mix(sub[:, 0] & m0, sub[:, 1] & m1, sub[:, 2] & m2), vals)
        out = np.zeros(len(words), dtype=bool)
        out[idx[hit]] = True
        return out


def _member(x: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``np.isin`` for a small sorted ``vals``, by binary search (isin compares value by value)."""
    idx = np.searchsorted(vals, x)
    np.minimum(idx, len(vals) - 1, out=idx)
    return vals[idx] == x


class ChunkCertifier:
    """Find, per chunk, the line starts and the candidate lines (all lines not certified as plain glog)."""

    def __init__(self, keys: list[bytes], prefix: re.Pattern[bytes]) -> None:
        self.keys = _Keys(keys)
        self.prefix = prefix
        self.templates: list[_Template] = []

    def scan(self, buf: bytearray, cut: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions of the newline before each line, indices of candidate lines) for ``buf[:cut]``.

        ``buf[0]`` is a sentinel newline and ``buf`` holds at least ``PAD`` readable bytes after the data, all
        newlines past the end of the data.
        """
        a = np.frombuffer(buf, dtype=np.uint8)
        nl = np.flatnonzero(a[:cut] == 10)
        starts = nl + 1
        view = np.ndarray(shape=(len(buf) - 8 * WORDS + 1, WORDS), dtype="<u8", buffer=buf, strides=(1, 8))
        todo = _SEVERITY[a[starts]]
        cand = [np.flatnonzero(~todo)]
        for t in self.templates:  # a template only sees the lines with its closing bracket in place
            sel = np.flatnonzero(todo & (a[starts + t.close] == 0x5D))
            if sel.size:
                self._apply(t, view, buf, starts, sel, todo, cand)
        learnt = 0
        rest = np.flatnonzero(todo)
        while rest.size and learnt < MAX_LEARN and len(self.templates) < MAX_TEMPLATES:
            learnt += 1
            t = self._learn(buf, int(starts[rest[0]]))
            if t is None:
                cand.append(rest[:1])
                todo[rest[0]] = False
            else:
                self.templates.append(t)
                self._apply(t, view, buf, starts, rest, todo, cand)
            rest = np.flatnonzero(todo)
        cand.append(rest)
        out = np.concatenate(cand)
        out.sort()
        return nl, out

    def _apply(
        self, t: _Template, view: np.ndarray, buf: bytearray, starts: np.ndarray, sel: np.ndarray,
        todo: np.ndarray, cand: list[np.ndarray],
    ) -> None:
        """Certify the lines ``sel`` that fit ``t``, keeping key hits as candidates; mark them done in ``todo``."""
        mine = sel[t.bad(view[:, : t.n][starts[sel]]) == 0]
        if mine.size:
            todo[mine] = False
            cand.append(mine[self._key_hits(buf, starts[mine], t)])

    def _learn(self, buf: bytearray, start: int) -> _Template | None:
        m = self.prefix.match(buf, start)
        if m is None or m.end() - start + 1 > 8 * WORDS:
            return None
        end = m.end() + (buf[m.end()] == 0x20)
        return _Template(bytes(buf[start:end]))

    def _key_hits(self, buf: bytearray, starts: np.ndarray, t: _Template) -> np.ndarray:
        span = len(buf) - 8 * KEY_WORDS + 1
        view = np.ndarray(shape=(span, KEY_WORDS), dtype="<u8", buffer=buf, strides=(1, 8))
        hit = self.keys.hits(view[starts + t.offset])
        if not t.spaced:
            hit |= self.keys.hits(view[starts + t.offset + 1])
        elif self.keys.leading_space:
            hit |= self.keys.hits(view[starts + t.offset - 1])
        return hit
