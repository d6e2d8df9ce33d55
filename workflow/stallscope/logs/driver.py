"""Read a multi-client benchmark driver's own log (Embarcadero's multi-client throughput script).

A driver log holds the whole benchmark: a banner with the parameters, then per trial ``=== Trial k / n ...``, one
or more ``Attempt a / m`` (a retry follows ``WARNING: trial k attempt a incomplete — retrying...``), the client
launches per host, and for an attempt that finished a ``--- Trial k Results ---`` block with one line per client
and a TOTAL line. This module only reads that text into plain data; laying the attempts out as runs is
``logs.ingest_driver``'s job. Figures are the driver's own; nothing here is computed from the client logs.

Sidecar files the driver leaves next to the per-trial logs are read here too: ``attempt_summary.csv`` (trial,
attempt, result, reason) and ``run_contract.csv`` (the broker's ``git_commit`` and ``git_dirty``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError

_TITLE = re.compile(r"^\s*Embarcadero Multi-Client Throughput Benchmark\s*$")
_BANNER_ROW = re.compile(r"^\s{2}([A-Z0-9_ /]+?):\s+(.*?)\s*$")
_TRIAL = re.compile(r"^=== Trial (\d+) / (\d+)\b")
_ATTEMPT = re.compile(r"^\s*Attempt (\d+) / (\d+)\s*$")
_INCOMPLETE = re.compile(r"^WARNING: trial (\d+) attempt (\d+) incomplete\b(.*)$")
# A host names files (trial<k>_<host>.log): log text is untrusted, so no path separators in it.
_HOST = r"([A-Za-z0-9_.-]+)"
_LAUNCH = re.compile(r"^\s*Launching client\[(\d+)\] host=" + _HOST + r"(?:\s|$)")
_RESULTS = re.compile(r"^--- Trial (\d+) Results ---\s*$")
_CLIENT_RESULT = re.compile(
    r"^\s{2}" + _HOST + r"\s+→\s+(\d+(?:\.\d+)?) MB/s\s+\(Send-done (\d+(?:\.\d+)?) MB/s; join=(\d+(?:\.\d+)?)ms "
    r"ack_wait=(\d+(?:\.\d+)?)ms\)")
_TOTAL = re.compile(r"^\s{2}TOTAL\s+→\s+(\d+(?:\.\d+)?) MB/s")
_SENDDONE = re.compile(r"^\s{2}SENDDONE\s+→\s+(\d+(?:\.\d+)?) MB/s")
_OVERLAP = re.compile(r"^\s{2}OVERLAP\s+→\s+(\d+(?:\.\d+)?) GB/s")
_BYTES = re.compile(r"^(\d+) B\b")

#: How many of a file's first lines are searched for the banner title (it is the driver's first output).
HEAD_LINES = 40
#: ... and within this many bytes (a log without line breaks is not read whole).
HEAD_BYTES = 64 << 10


@dataclass
class Attempt:
    """One attempt of one trial as the driver logged it; ``result`` is ``success``, ``incomplete`` or None."""

    trial: int
    number: int
    of: int | None
    first_line: int
    last_line: int
    hosts: list[str] = field(default_factory=list)
    result: str | None = None
    reason: str | None = None
    clients: dict[str, dict[str, float]] = field(default_factory=dict)
    total_mb_s: float | None = None
    senddone_mb_s: float | None = None
    overlap_gb_s: float | None = None
    results_line: int | None = None


@dataclass
class DriverLog:
    """The banner's parameters and every attempt, in log order."""

    path: Path
    banner: dict[str, str]
    attempts: list[Attempt]

    def trials(self) -> dict[int, list[Attempt]]:
        """Attempts grouped by trial number (each list in attempt order)."""
        out: dict[int, list[Attempt]] = {}
        for a in self.attempts:
            out.setdefault(a.trial, []).append(a)
        return {k: sorted(v, key=lambda a: a.number) for k, v in sorted(out.items())}


def is_driver_log(path: Path) -> bool:
    """Whether ``path`` starts like the multi-client driver's log (its banner title in the first lines)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return False
    lines = head.decode("utf-8", errors="replace").splitlines()[:HEAD_LINES]
    return any(_TITLE.match(line) for line in lines)


def _int(text: str | None) -> int | None:
    m = _BYTES.match(text or "") or re.match(r"^(\d+)\b", text or "")
    return int(m.group(1)) if m else None


def banner_params(banner: dict[str, str]) -> dict[str, Any]:
    """Run parameters from the banner: the whole benchmark's totals (every client's load summed)."""
    order = ack = None
    seq_order = banner.get("SEQUENCER / ORDER", "")
    if "/" in seq_order:
        order = _int(seq_order.split("/")[1].strip())
    ack_rf = banner.get("ACK / REPLICATION_FACTOR", "")
    if "/" in ack_rf:
        ack = _int(ack_rf.split("/")[0].strip())
    size, total = _int(banner.get("MESSAGE_SIZE")), _int(banner.get("TOTAL_MESSAGE_SIZE"))
    return {
        "brokers": _int(banner.get("NUM_BROKERS")),
        "threads_per_broker": _int(banner.get("THREADS_PER_BROKER")),
        "message_size": size,
        "total_bytes": total,
        "message_count": total // size if size and total else None,
        "order": order,
        "ack_level": ack,
        "clients": _int(banner.get("NUM_CLIENTS")),
    }


def read_driver_log(path: Path) -> DriverLog:
    """Parse the driver's log; raise StallscopeError (file, line) when a trial's text is out of order."""
    banner: dict[str, str] = {}
    attempts: list[Attempt] = []
    cur: Attempt | None = None
    trial: int | None = None
    in_results: int | None = None
    in_banner = False
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for no, raw in enumerate(fh, 1):
            line = raw.rstrip("\n")
            if _TITLE.match(line):
                in_banner = True
                continue
            if in_banner:
                row = _BANNER_ROW.match(line)
                if row:
                    banner[row.group(1).strip()] = row.group(2)
                    continue
                if line.startswith("===") and banner:
                    in_banner = False
                continue
            if m := _TRIAL.match(line):
                trial, in_results = int(m.group(1)), None
                continue
            if m := _ATTEMPT.match(line):
                if trial is None:
                    raise StallscopeError(path, no, "an attempt line before any '=== Trial k / n' line")
                if cur is not None:
                    cur.last_line = no - 1
                cur = Attempt(trial, int(m.group(1)), int(m.group(2)), no, no)
                attempts.append(cur)
                in_results = None
                continue
            if cur is None:
                continue
            cur.last_line = no
            if m := _LAUNCH.match(line):
                cur.hosts.append(m.group(2))
            elif m := _INCOMPLETE.match(line):
                if (int(m.group(1)), int(m.group(2))) == (cur.trial, cur.number):
                    cur.result, cur.reason = "incomplete", m.group(3).strip(" —-.") or "incomplete"
            elif m := _RESULTS.match(line):
                in_results = int(m.group(1))
                cur.results_line = no
            elif in_results is not None and (m := _TOTAL.match(line)):
                cur.total_mb_s = float(m.group(1))
            elif in_results is not None and (m := _SENDDONE.match(line)):
                cur.senddone_mb_s = float(m.group(1))
                if cur.result is None:
                    cur.result = "success"
            elif in_results is not None and (m := _OVERLAP.match(line)):
                cur.overlap_gb_s = float(m.group(1))
            elif in_results is not None and (m := _CLIENT_RESULT.match(line)):
                cur.clients[m.group(1)] = {"mb_s": float(m.group(2)), "send_done_mb_s": float(m.group(3)),
                                           "join_ms": float(m.group(4)), "ack_wait_ms": float(m.group(5))}
            elif "Grand Summary" in line:
                cur.last_line = no - 1
                cur = None
    if not attempts:
        raise StallscopeError(path, None, "a driver log without any 'Attempt a / m' line")
    return DriverLog(path, banner, attempts)


def read_attempt_summary(path: Path) -> dict[tuple[int, int], tuple[str, str]]:
    """``attempt_summary.csv`` as (trial, attempt) -> (result, reason); empty when the file is absent."""
    if not path.is_file():
        return {}
    out: dict[tuple[int, int], tuple[str, str]] = {}
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        for no, row in enumerate(csv.DictReader(fh), 2):
            try:
                out[(int(row["trial"]), int(row["attempt"]))] = (row.get("result") or "", row.get("reason") or "")
            except (KeyError, TypeError, ValueError):
                raise StallscopeError(path, no, "expected columns trial,attempt,result,reason") from None
    return out


def read_run_contract(path: Path) -> dict[str, Any]:
    """The broker's commit (``git_commit``, ``git_dirty``) and order/ACK level from ``run_contract.csv``.

    Returns {} when the file is absent; a commit that is not 7-40 hex digits is left out, never guessed.
    """
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return {}
    row = rows[0]
    out: dict[str, Any] = {}
    commit = (row.get("git_commit") or "").strip().lower()
    if re.fullmatch(r"[0-9a-f]{7,40}", commit):
        out["commit"] = commit
    dirty = (row.get("git_dirty") or "").strip().lower()
    if dirty in ("true", "false"):
        out["is_dirty"] = dirty == "true"
    for key in ("order", "ack_level"):
        val = (row.get(key) or "").strip()
        if val.isdigit():
            out[key] = int(val)
    return out
