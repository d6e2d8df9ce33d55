"""Stream a glog file in big binary chunks and account for every line, so that huge logs parse in bounded memory.

Three engines find the lines that matter, and must agree byte for byte (tests check): ``compiled`` (the C
scanner in compiled.py renders the rows of plain recognisers itself and hands every other line that may matter
back), ``numpy`` (scan.py certifies ordinary glog lines in bulk) and ``regex`` (one bytes regex over the chunk,
the reference). Python code only sees lines without a glog prefix and records the faster engine could not settle.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from stallscope.logs import compiled
from stallscope.logs.catalogue import Catalogue, Recogniser, convert
from stallscope.logs.chunks import chunks
from stallscope.logs.rows import RowFormat

#: the glog prefix, as bytes, for the chunk scans (same language as GLOG below, one line at a time)
PFX_B = rb"[IWEF]\d{8} \d\d:\d\d:\d\d\.\d{6} +\d+ [^ :\n]+:\d+\]"
GLOG = re.compile(r"^([IWEF])(\d{8}) (\d{2}:\d{2}:\d{2}\.\d{6}) +(\d+) ([^ :]+):(\d+)\] ?(.*)$", re.ASCII | re.DOTALL)
PFX_LINE = re.compile(PFX_B)
_FIRST_PFX = re.compile(rb"\n" + PFX_B)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
CHUNK_BYTES = 2 << 20  # measured: 2 MiB keeps the numpy temporaries in cache
ENGINES = ("compiled", "numpy", "regex")
TEXT_MAX = 500
EXAMPLE_MAX = 200
EXAMPLES_KEPT = 5
_DAYS: dict[str, int | None] = {}


class Event(NamedTuple):
    """One recognised record: where it is, when, who wrote it, what it says."""

    line: int
    ts_us: int | None
    severity: str
    tid: int
    src: str
    kind: str
    fields: dict[str, Any]
    text: str
    broker: int | None


@dataclass
class LineStats:
    """Per-file line accounting: every physical line lands in exactly one class."""

    total: int = 0
    event: int = 0
    glog: int = 0
    continuation: int = 0
    script: int = 0
    unparseable: int = 0
    is_truncated: bool = False
    unparseable_examples: list[dict[str, Any]] = field(default_factory=list)
    first_ts_us: int | None = None
    last_ts_us: int | None = None
    unreadable: int = 0
    unreadable_examples: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Render as the per-file object of lines.json."""
        return dict(self.__dict__)


def ts_us(date: str, clock: str) -> int | None:
    """Microseconds since the epoch of a glog date and time read as UTC; None for an impossible date."""
    base = _DAYS.get(date, -1)
    if base == -1:
        try:
            d = dt.date(int(date[:4]), int(date[4:6]), int(date[6:8]))
            base = (d - dt.date(1970, 1, 1)).days * 86_400
        except ValueError:
            base = None
        _DAYS[date] = base
    if base is None:
        return None
    h, m, s = int(clock[0:2]), int(clock[3:5]), int(clock[6:8])
    return (base + h * 3600 + m * 60 + s) * 1_000_000 + int(clock[9:15])


def _combined(recs: tuple[Recogniser, ...]) -> re.Pattern[bytes]:
    keys = sorted({r.key.encode() for r in recs}, key=len, reverse=True)
    alt = b"|".join(re.escape(k) for k in keys) if keys else rb"(?!)"
    # at each newline: a prefix-less line matches empty; a glog line matches only when a key follows the prefix
    return re.compile(rb"\n(?P<p>" + PFX_B + rb")?+(?(p) ?(?:" + alt + rb")|)")


class FileScanner:
    """Scan one log file: iterate its events (or take its CSV rows with ``rows``), then read ``stats``."""

    def __init__(
        self, path: Path, role: str, catalogue: Catalogue, chunk_bytes: int = CHUNK_BYTES, *,
        engine: str | None = None, start: int = 0, stop: int | None = None, after_glog: bool = False,
    ) -> None:
        """``engine`` is one of ENGINES, or None for the fastest that can serve the call (``rows`` or events);
        ``start``/``stop`` bound a byte range that starts at a line; ``after_glog`` says a glog record precedes
        it (line numbers stay relative to it)."""
        if engine is not None and engine not in available_engines():
            raise ValueError(f"engine {engine!r} is not available (have: {', '.join(available_engines())})")
        self.path, self.role, self.cat, self.chunk_bytes = path, role, catalogue, chunk_bytes
        self.start, self.stop, self.engine = start, stop, engine
        self.recs = catalogue.for_role(role)
        self.pattern = _combined(self.recs)
        self.certifier: Any = None  # scan.ChunkCertifier for the numpy engine (imported then: numpy is slow to load)
        self.stats = LineStats()
        self._first_glog: int | None = 0 if after_glog else None
        self._prev_nonpfx = -1
        self._header: tuple[int, re.Match[str]] | None = None
        self._banner: dict[str, Any] | None = None
        self._carry = b""
        self._event_line = 0  # last line counted as an event (a banner header may already be one)
        self._c_lines: Any = ()  # line numbers of the compiled scanner's rows in this chunk
        self._c_last = 0  # line of its last row before this chunk
        self._c_n = 0  # lines in this chunk, as the compiled scanner counted them

    def __iter__(self) -> Iterator[Event]:
        """The events, for the numpy and regex engines (the compiled one renders rows: see ``rows``)."""
        if self.engine == "compiled":
            raise TypeError("the compiled engine renders rows, not events: use rows()")
        self.engine = self.engine or "numpy"
        if self.engine == "numpy":
            from stallscope.logs.scan import ChunkCertifier

            self.certifier = ChunkCertifier([r.key.encode() for r in self.recs], PFX_LINE)
        for part in self._drive(None):
            yield from part

    def rows(self, fmt: RowFormat) -> Iterator[bytes]:
        """The file's events.csv rows, in file order, as CSV bytes."""
        self.engine = self.engine or ("compiled" if compiled.AVAILABLE else "numpy")
        if self.engine != "compiled":
            yield from fmt.csv_blocks(self)
            return
        cs = compiled.scanner(self.recs, fmt.name, fmt.role, fmt.broker)
        for part in self._drive(cs):
            if isinstance(part, bytes):
                yield part
            else:
                yield from fmt.csv_blocks(part)

    def _drive(self, cs: Any) -> Iterator[bytes | list[Event] | Iterator[Event]]:
        """Per chunk: the events (Python engines), or rows merged with Python's events (compiled); then stats."""
        base = 0
        with self.path.open("rb") as fh:
            fh.seek(self.start)
            for buf, cut, is_final in chunks(fh, self.chunk_bytes, self.stop):
                if cs is None:
                    n, matches = self._matches(buf, cut, base)
                    yield self._chunk(buf, cut, base, n, matches)
                else:
                    yield from self._compiled_chunk(cs, buf, cut, base)
                base += n if cs is None else self._c_n
                self.stats.is_truncated = self.stats.is_truncated or is_final
                self._carry = bytes(buf[buf.rfind(b"\n", 0, cut) + 1 : cut])
        self.stats.total = base
        if self._banner is not None:
            yield [self._flush_banner()]
        st = self.stats
        st.glog = st.total - st.event - st.continuation - st.script - st.unparseable - st.unreadable

    def _compiled_chunk(self, cs: Any, buf: bytearray, cut: int, base: int) -> Iterator[bytes | list[Event]]:
        n, blob, lines, ends, cidx, cpos = cs.scan(buf, cut, base)
        self._c_n = n
        self._c_lines = memoryview(lines).cast("q")
        ends = memoryview(ends).cast("q")
        self.stats.event += len(self._c_lines)
        cand = zip(memoryview(cidx).cast("q").tolist(), memoryview(cpos).cast("q").tolist(), strict=True)
        py = list(self._chunk(buf, cut, base, n, self._candidate_matches(buf, cut, base, cand)))
        if len(self._c_lines):
            self._c_last = self._c_lines[-1]
        done = 0
        for ev in py:  # non-decreasing lines; a record's row goes before a banner that names it as its header
            k = bisect.bisect_right(self._c_lines, ev.line)
            end = ends[k - 1] if k else 0
            if end > done:
                yield blob[done:end]
                done = end
            yield [ev]
        if done < len(blob):
            yield blob[done:] if done else blob

    def _matches(self, buf: bytearray, cut: int, base: int) -> tuple[int, Iterator[tuple[int, re.Match[bytes]]]]:
        """(lines in the chunk, (line number, match) of each line the combined pattern matches)."""
        if self.certifier is None:
            return buf.count(b"\n", 0, cut), self._regex_matches(buf, cut, base)
        nl, cand = self.certifier.scan(buf, cut)
        return len(nl), self._candidate_matches(buf, cut, base, zip(cand.tolist(), nl[cand].tolist(), strict=True))

    def _regex_matches(self, buf: bytearray, cut: int, base: int) -> Iterator[tuple[int, re.Match[bytes]]]:
        cnt, prev = 0, 0
        for m in self.pattern.finditer(buf, 0, cut):
            p = m.start()
            cnt += buf.count(b"\n", prev, p + 1)
            prev = p + 1
            yield base + cnt, m

    def _candidate_matches(
        self, buf: bytearray, cut: int, base: int, cand: Iterable[tuple[int, int]]
    ) -> Iterator[tuple[int, re.Match[bytes]]]:
        """(line number, match) of candidate lines given as (index in chunk, position of the newline before)."""
        match = self.pattern.match
        for i, p in cand:
            m = match(buf, p, cut)
            if m is not None:
                yield base + i + 1, m

    def _chunk(
        self, buf: bytearray, cut: int, base: int, nlines: int, matches: Iterable[tuple[int, re.Match[bytes]]]
    ) -> Iterator[Event]:
        if self._first_glog is None:
            m = _FIRST_PFX.search(buf, 0, cut)
            if m is not None:
                self._first_glog = base + buf.count(b"\n", 0, m.start() + 1)
                hm = self._parse_line(buf[m.start() + 1 : self._line_end(buf, m.start() + 1, cut)])
                if hm is not None:
                    self.stats.first_ts_us = ts_us(hm.group(2), hm.group(3))
        nonpfx = 0
        for line_no, m in matches:
            p = m.start()
            raw = buf[p + 1 : self._line_end(buf, p + 1, cut)]
            if self._banner is not None and (m.group(1) is not None or line_no != self._banner["last"] + 1):
                yield self._flush_banner()
            if m.group(1) is None:
                nonpfx += 1
                ev = self._nonpfx(line_no, raw, buf, p)
                if ev is not None:
                    yield ev
            else:
                ev = self._record(line_no, raw)
                if ev is not None:
                    yield ev
        if nlines > nonpfx:
            self._update_last_ts(buf, cut)
        if self._banner is not None and self._banner["last"] < base + nlines:
            yield self._flush_banner()  # it cannot go on in the next chunk: keep events in file order

    @staticmethod
    def _line_end(buf: bytes, start: int, cut: int) -> int:
        e = buf.find(b"\n", start, cut)
        return cut if e < 0 else e

    @staticmethod
    def _parse_line(raw: bytes) -> re.Match[str] | None:
        return GLOG.match(raw.decode("utf-8", "replace").rstrip("\r"))

    def _update_last_ts(self, buf: bytes, cut: int) -> None:
        e = cut
        while e > 0:
            s = buf.rfind(b"\n", 0, e)
            if PFX_LINE.match(buf, s + 1, e):
                hm = self._parse_line(buf[s + 1 : e])
                if hm is not None:
                    self.stats.last_ts_us = ts_us(hm.group(2), hm.group(3))
                return
            e = s

    def _record(self, line_no: int, raw: bytes) -> Event | None:
        hm = self._parse_line(raw)
        if hm is None:  # cannot happen: the bytes scan already checked the prefix
            return None
        msg = hm.group(7)
        for rec in self.recs:
            fields = rec.match(msg)
            if fields is not None:
                self.stats.event += 1
                self._event_line = line_no
                broker = fields.get(rec.broker_field) if rec.broker_field else None
                return self._event(line_no, hm, rec.kind, fields, broker if isinstance(broker, int) else None)
        for rec in self.recs:  # of a known form but with a number out of type: unreadable, not a plain record
            why = rec.misfit(msg)
            if why is not None:
                st = self.stats
                st.unreadable += 1
                if len(st.unreadable_examples) < EXAMPLES_KEPT:
                    st.unreadable_examples.append({"line": line_no, "kind": rec.kind, "reason": why,
                                                   "text": hm.group(0)[:EXAMPLE_MAX]})
                break
        return None

    @staticmethod
    def _event(line_no: int, hm: re.Match[str], kind: str, fields: dict[str, Any], broker: int | None) -> Event:
        return Event(
            line_no,
            ts_us(hm.group(2), hm.group(3)),
            hm.group(1),
            int(hm.group(4)),
            f"{hm.group(5)}:{hm.group(6)}",
            kind,
            fields,
            hm.group(7)[:TEXT_MAX],
            broker,
        )

    def _classify(self, line_no: int, text: str) -> str:
        if _BAD_CHARS.search(text):
            return "unparseable"
        if self._first_glog is None or line_no < self._first_glog:
            return "script"
        if any(p.search(text) for _, p in self.cat.continuation):
            return "continuation"
        if any(p.search(text) for _, p in self.cat.script):
            return "script"
        return "continuation"

    def _nonpfx(self, line_no: int, raw: bytes, buf: bytes, p: int) -> Event | None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        cls = self._classify(line_no, text)
        st = self.stats
        setattr(st, cls, getattr(st, cls) + 1)
        if cls == "unparseable" and len(st.unparseable_examples) < EXAMPLES_KEPT:
            st.unparseable_examples.append({"line": line_no, "text": text[:EXAMPLE_MAX]})
        if self._prev_nonpfx != line_no - 1:
            prev_raw = buf[buf.rfind(b"\n", 0, p) + 1 : p] if p > 0 else self._carry
            hm = self._parse_line(prev_raw) if self._first_glog is not None and line_no > self._first_glog else None
            self._header = None if hm is None else (line_no - 1, hm)
        self._prev_nonpfx = line_no
        if cls == "continuation" and self._header is not None and self.cat.banner.role in (self.role, "any"):
            self._banner_line(line_no, text)
        return None

    def _banner_line(self, line_no: int, text: str) -> None:
        b = self.cat.banner
        m = b.start.search(text)
        if m is not None and self._header is not None:
            head = self._header[0]
            counted = head == self._event_line or head == self._c_last or self._c_row_at(head)
            self._banner = {
                "header": self._header, "fields": {"title": m.group("title")}, "last": line_no, "counted": counted,
            }
            return
        if self._banner is None:
            return
        fm = b.field.match(text)
        if fm is not None and fm.group("name") in b.names:
            name = b.names[fm.group("name")]
            value = fm.group("value")
            kind = b.types.get(name, "str")
            if kind in ("int", "float"):
                num = re.match(r"-?\d+(?:\.\d+)?", value)
                value = num.group(0) if num else None
            try:
                self._banner["fields"][name] = convert(value, kind)
            except ValueError:
                self._banner["fields"][name] = None
        self._banner["last"] = line_no

    def _flush_banner(self) -> Event:
        assert self._banner is not None
        (line_no, hm), fields = self._banner["header"], self._banner["fields"]
        self.stats.event += not self._banner["counted"]  # a header line is counted once, however many banners
        self._banner = None
        for name in self.cat.banner.types:
            fields.setdefault(name, None)
        self._event_line = line_no
        return self._event(line_no, hm, self.cat.banner.kind, fields, None)

    def _c_row_at(self, line_no: int) -> bool:
        """Whether the compiled scanner wrote a row for that line of this chunk."""
        k = bisect.bisect_left(self._c_lines, line_no)
        return k < len(self._c_lines) and self._c_lines[k] == line_no


def available_engines() -> list[str]:
    """The engines this installation can run (``compiled`` needs the C extension)."""
    return [e for e in ENGINES if e != "compiled" or compiled.AVAILABLE]
