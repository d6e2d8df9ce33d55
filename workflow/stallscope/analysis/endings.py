"""How a run ended by the lines that say so, beyond the publish test's own verdict: signals, exit statuses, kills.

A client killed by a signal leaves glog's ``*** SIGTERM (@0x...) received by PID ...; stack trace: ***`` at the
end of its log (continuation lines, never events); a crash leaves ``*** SIGSEGV ...`` or ``*** Check failure
stack trace: ***``; a driver reports ``<session> exited 124`` (``timeout``'s status: the session was killed at its
deadline) and the brokers it killed. A failure test kills a broker on purpose (``Triggering broker kill``); which
one shows in the sends that fail right after and the reconnects away from it. A paced producer states its rate
(``target_mbps=``). This module finds those lines, with file and line, for the outcome and the bound.

Only the tail of a client log is read (a stack trace is its last lines) and the run's driver log's lines of that
run (``manifest.attempt.driver_lines``, else the whole driver log of a single-trial folder).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from stallscope.analysis.thresholds import UNITLESS_GAP_MS_ABOVE
from stallscope.shared.driver_lines import driver_line_rules

#: bytes read from the end of each client log for a signal's stack trace
TAIL_BYTES = 256 << 10
#: bytes read from the start of each client log for the producer's pacing
HEAD_BYTES = 256 << 10
_SIGNAL = re.compile(r"^\*\*\* (SIG[A-Z]+) \(.*received by PID")
_CHECK = re.compile(r"^\*\*\* Check failure stack trace: \*\*\*")
_PACING = re.compile(r"(?i)\btarget_mbps\s*[=:]\s*(\d{1,9}(?:\.\d{1,6})?)\b")
#: a send gap the harness injected: ``gap_ms=3000``, ``gap of 3000 ms``, ``gap=3s``, ``3 s gap``
_GAP = re.compile(r"(?i)\bgap(?P<key_ms>_ms)?\w*\D{0,16}?(?P<v1>\d{1,7}(?:\.\d{1,3})?)\s*(?P<u1>ms|s|sec|seconds)?\b"
                  r"|\b(?P<v2>\d{1,7}(?:\.\d{1,3})?)\s*(?P<u2>ms|s|sec|seconds)\s+(?:send\s+)?gap\b")


def _gap_s(m: re.Match[str]) -> float:
    """A gap match in seconds: its unit, else ``gap_ms``'s, else milliseconds above 100 and seconds below."""
    value, unit = (m.group("v1"), m.group("u1")) if m.group("v1") else (m.group("v2"), m.group("u2"))
    ms = unit.lower() == "ms" if unit else (bool(m.group("key_ms")) or float(value) > UNITLESS_GAP_MS_ABOVE)
    return float(value) / 1000 if ms else float(value)
#: a driver's report of a client's ACK timeout (its own words or the client's, relayed)
_ACK_TIMEOUT = re.compile(r"(?i)\bACK(?: wait)? tim(?:ed|e)[ -]?out\b|\[Publisher ACK Timeout\]")
#: an allowed shortfall, however the client words it: the first count after the words
_SHORTFALL = re.compile(r"(?i)\ballowed[ _-]?shortfall\b\D{0,24}?(\d{1,19})\b")
#: signals that end a process from outside (a harness's kill or timeout), not a fault of its own
KILL_SIGNALS = ("SIGTERM", "SIGKILL", "SIGINT", "SIGHUP")
#: exit statuses that mean "killed": timeout(1)'s 124 and 128 + SIGKILL / SIGTERM
KILL_EXIT_CODES = (124, 137, 143)


def _cite(file: str, line: int, text: str) -> dict[str, Any]:
    return {"file": file, "line": line, "text": text[:300]}


def _lines(path: Path, tail: bool, size: int) -> list[tuple[int, str]]:
    """(line number, text) of the first or the last ``size`` bytes of a file (a cut first line left out)."""
    try:
        with path.open("rb") as fh:
            total = fh.seek(0, 2)
            begin = max(0, total - size) if tail else 0
            fh.seek(0)
            first = 1
            while fh.tell() < begin:
                chunk = fh.read(min(1 << 20, begin - fh.tell()))
                if not chunk:
                    break
                first += chunk.count(b"\n")
            data = fh.read(size)
    except OSError:
        return []
    rows = data.decode("utf-8", errors="replace").split("\n")
    out = [(first + i, t.rstrip("\r")) for i, t in enumerate(rows)]
    return out[1:] if begin else out


def client_signals(run_dir: Path, names: list[str]) -> list[dict[str, Any]]:
    """Signals and check failures at the end of each client log: {file, signal, line, text}."""
    out = []
    for name in names:
        for no, text in _lines(run_dir / name, True, TAIL_BYTES):
            m = _SIGNAL.match(text)
            if m or _CHECK.match(text):
                out.append({"file": name, "signal": m.group(1) if m else "check_failure", **_cite(name, no, text)})
                break
    return out


def _pace_and_gap(lines: list[tuple[int, str]]) -> tuple[float | None, float | None]:
    pace = gap = None
    for _, text in lines:
        if pace is None and (m := _PACING.search(text)):
            pace = float(m.group(1))
        if g := _GAP.search(text):
            gap = max(gap or 0.0, _gap_s(g))
    return pace, gap


def pacing(run_dir: Path, names: list[str], driver: str | None = None) -> tuple[float | None, float | None]:
    """The producers' configured rate (``target_mbps``, MB/s = 2^20 B/s) summed over clients, and the longest
    send gap stated (seconds); (None, None) unless every client states a pace, or the driver's log states one
    (then per client)."""
    total, gap, paced = 0.0, None, 0
    for name in names:
        pace, g = _pace_and_gap(_lines(run_dir / name, False, HEAD_BYTES))
        total += pace or 0.0
        paced += pace is not None
        gap = max(gap or 0.0, g) if g is not None else gap
    if names and paced == len(names):
        return total, gap
    if driver and names and (run_dir / driver).is_file():
        pace, g = _pace_and_gap(_lines(run_dir / driver, False, HEAD_BYTES))
        if pace is not None:
            return pace * len(names), g if g is not None else gap
    return None, None


def driver_facts(run_dir: Path, driver: str | None, span: list[int] | None, trial: int | None) -> dict[str, Any]:
    """What the run's driver lines say: exit statuses per session, brokers it killed, broken runs."""
    facts: dict[str, Any] = {"exit_codes": {}, "killed_brokers": [], "broken": False, "ack_timeout": False,
                             "cites": []}
    if not driver or not (run_dir / driver).is_file():
        return facts
    pats = driver_line_rules()
    try:
        lines = (run_dir / driver).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return facts
    current: int | None = None
    for no, text in enumerate(lines, 1):
        if span and not span[0] <= no <= span[1]:
            continue
        if (m := pats["trial"].match(text)) and not span:
            current = int(m.group("trial"))
        if not span and trial is not None and current is not None and current != trial:
            continue
        if m := pats["exited"].match(text):
            facts["exit_codes"][m.group("who")] = int(m.group("code"))
            facts["cites"].append(_cite(driver, no, text))
        elif m := pats["killed_broker"].match(text):
            b = int(m.group("broker"))
            if b not in facts["killed_brokers"]:
                facts["killed_brokers"].append(b)
            facts["cites"].append(_cite(driver, no, text))
        elif _ACK_TIMEOUT.search(text):
            facts["ack_timeout"] = True
            facts["cites"].append(_cite(driver, no, text))
        elif pats["broken"].match(text):
            facts["broken"] = True
            facts["cites"].append(_cite(driver, no, text))
    return facts


def killed_by_client(ev: pd.DataFrame) -> tuple[list[int], dict[str, Any] | None, dict[str, Any]]:
    """Brokers a failure test killed on purpose: after ``Triggering broker kill``, the broker whose sends fail
    first (and that clients reconnect away from); with the kill's cite and the recovery's timing."""
    client = ev[ev["role"] == "client"]
    kills = client[client["kind"] == "broker_kill"]
    if kills.empty:
        return [], None, {}
    k = kills.iloc[0]
    t_kill = (k["fields"] or {}).get("t_ms")
    events = [f for f in client.loc[client["kind"] == "failure_event", "fields"] if isinstance(f, dict)]
    after = [f for f in events if isinstance(f.get("t_ms"), int) and t_kill is not None and f["t_ms"] >= t_kill]
    failed = [f["failed_broker"] for f in after if isinstance(f.get("failed_broker"), int)]
    moved = [f["from_broker"] for f in after if isinstance(f.get("from_broker"), int)]
    brokers = sorted({failed[0]} if failed else ({moved[0]} if moved else set()))
    frontier = next((f["t_ms"] for f in after if f.get("frontier")), None)
    timing = {"kill_t_ms": t_kill, "ack_frontier_t_ms": frontier,
              "recovery_s": round((frontier - t_kill) / 1000, 3) if frontier is not None and t_kill is not None
              else None}
    return brokers, _cite(str(k["file"]), int(k["line"]), str(k["text"])), timing


def allowed_shortfall(run_dir: Path, names: list[str]) -> tuple[int | None, dict[str, Any] | None]:
    """Messages a client allowed to be lost (its ``Allowed shortfall`` line near the end), summed over clients."""
    total, cite = 0, None
    for name in names:
        for no, text in reversed(_lines(run_dir / name, True, TAIL_BYTES)):
            if m := _SHORTFALL.search(text):
                total += int(m.group(1))
                cite = cite or _cite(name, no, text)
                break
    return (total, cite) if cite else (None, None)

