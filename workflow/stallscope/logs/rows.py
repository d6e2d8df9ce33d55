"""The events.csv row of an event: one definition, shared by the Python scan and (in C) the compiled scanner."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from stallscope.logs.vetting import MAX_BROKER_INDEX

_BROKER_NAME = re.compile(r"broker_(\d+)\.log")
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # json.dumps builds one per call
_FLUSH = 1 << 20


def broker_index(name: str) -> int | None:
    """Broker index from a ``broker_<i>.log`` name, None for other names and for indices no broker can have
    (beyond a C int: a 30-digit index would not fit the int64 columns downstream)."""
    m = _BROKER_NAME.fullmatch(name)
    if m is None or len(m.group(1)) > 10:
        return None
    idx = int(m.group(1))
    return idx if idx <= MAX_BROKER_INDEX else None


@dataclass(frozen=True)
class RowFormat:
    """Which file the rows are of: its name, its role, and (for a broker log) the broker it belongs to."""

    name: str
    role: str

    @cached_property
    def broker(self) -> int | None:
        """The broker index of a broker log (from its name); client rows take it from the event."""
        return broker_index(self.name)

    def cells(self, ev: Any) -> list[Any]:
        """The row of one ``glog.Event``; compiled.py's C renderer must agree byte for byte."""
        broker = self.broker if self.role == "broker" else ev.broker
        dur = ev.fields.get("duration_ms") if ev.kind.startswith("stall_") else None
        return [
            self.name,
            ev.line,
            "" if ev.ts_us is None else ev.ts_us,
            ev.severity,
            ev.tid,
            ev.src,
            self.role,
            "" if broker is None else broker,
            ev.kind,
            "" if dur is None else dur,
            _JSON(ev.fields),
            ev.text,
        ]

    def csv_blocks(self, events: Iterable[Any]) -> Iterator[bytes]:
        """CSV bytes of the events' rows, in blocks of about a megabyte."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for ev in events:
            writer.writerow(self.cells(ev))
            if out.tell() >= _FLUSH:
                yield out.getvalue().encode("utf-8")
                out.seek(0)
                out.truncate()
        if out.tell():
            yield out.getvalue().encode("utf-8")


def cell(value: object) -> bytes:
    """One value as csv.writer renders it in a row (quoted when it needs to be): for the compiled scanner."""
    s = io.StringIO()
    csv.writer(s, lineterminator="\n").writerow([value, ""])
    return s.getvalue()[:-2].encode("utf-8")


def csv_head(name: str) -> bytes:
    """The first cell of every row of one file, with its comma."""
    return cell(name) + b","
