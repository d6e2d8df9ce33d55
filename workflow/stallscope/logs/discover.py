"""Map a directory of logs, as any Embarcadero harness left it, to runs: one table of rules, not special cases.

Harnesses name their files by trial, attempt, client host, broker or session, nest them, gzip them, and leave
per-trial CSVs, metadata and a driver's own log next to them. ``discover.yaml`` holds the rules: each file's name
(without ``.gz``) is matched against them in order, and the first match says what the file is (broker log, client
log, time series, side file) and where it belongs (trial, attempt, broker, host). A log no name rule places is
read by its content: a multi-client driver's banner, a driver's lines (``Trial k``, ``exited N``, ``BROKEN RUNS``),
or else the one log of a single run. Runs are the (trial, attempt) pairs found; a trial's client logs belong to
its last attempt (a retry reuses their names).

Every file ends up used by a run or in ``Plan.not_understood`` with why: the report's first page lists them.
The hostile-input rules of ``vetting`` hold here too: only regular files (or links to them) under the input
directory, no FIFO, device or link leaving it; directories are walked without following links.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs import vetting
from stallscope.logs.driver import is_driver_log
from stallscope.shared.driver_lines import driver_line_rules
from stallscope.shared.trialtag import TrialTag

RULES_PATH = Path(__file__).with_name("discover.yaml")
#: directories deeper than this below the input are not walked (a harness nests two or three levels)
MAX_DEPTH = 8
#: more files than this in one input is not a run's folder
MAX_FILES = 20000
#: a log with a glog record among its first lines is a program's log, not a driver's
_GLOG = re.compile(r"^[IWEF]\d{8} \d\d:\d\d:\d\d\.\d{6} ", re.MULTILINE)
_HEAD_BYTES = 64 << 10


@dataclass(frozen=True)
class NameRule:
    """One row of the table: a name pattern and what a file so named is."""

    role: str
    regex: re.Pattern[str]
    what: str | None = None
    is_shared: bool = False


@dataclass(frozen=True)
class Found:
    """One file placed by a rule."""

    path: Path
    name: str  #: the name the rules saw (without .gz)
    role: str
    trial: int | None = None
    attempt: int | None = None
    broker: int | None = None
    host: str | None = None
    what: str | None = None
    is_shared: bool = False


@dataclass
class RunPlan:
    """One run: its trial and attempt, its logs and side files."""

    trial: int | None
    attempt: int | None
    brokers: list[Found] = field(default_factory=list)
    clients: list[Found] = field(default_factory=list)
    timeseries: dict[str, Found] = field(default_factory=dict)  #: host -> its client's series
    side: list[Found] = field(default_factory=list)
    driver: Found | None = None
    is_final: bool = True

    @property
    def tag(self) -> str:
        return str(TrialTag(self.trial or 1, self.attempt))


@dataclass
class Plan:
    """What a directory holds: its runs (or a multi-client driver's log), and every file not understood."""

    root: Path
    runs: list[RunPlan] = field(default_factory=list)
    driver_log: Path | None = None  #: a multi-client driver's log: its attempts are the runs (ingest_driver)
    not_understood: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@functools.cache
def _table() -> tuple[NameRule, ...]:
    data = schemas.load_yaml(RULES_PATH.read_text(encoding="utf-8"))
    return tuple(NameRule(r["role"], re.compile(r["regex"]), r.get("what"), bool(r.get("shared")))
                 for r in data["names"])


def plain_name(path: Path) -> str:
    """The name the rules see: without a trailing ``.gz``."""
    return path.name[:-3] if path.name.endswith(".gz") else path.name


def head_bytes(path: Path, size: int = _HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file, decompressed when it is gzipped (empty when unreadable)."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read(size)
        with path.open("rb") as fh:
            return fh.read(size)
    except (OSError, EOFError, gzip.BadGzipFile):
        return b""


def _text(head: bytes) -> str:
    return head.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def is_driver_text(path: Path) -> bool:
    """A driver's own log: its lines (``Trial k``, ``Attempt a / n``, ``exited N``, ``BROKEN RUNS``) and no glog
    record among its first lines (a client log mixed with script lines has them)."""
    text = _text(head_bytes(path))
    if _GLOG.search(text):
        return False
    pats = driver_line_rules()
    return any(pats[k].search(line) for line in text.splitlines() for k in ("trial", "exited", "broken"))


def classify(path: Path) -> Found | None:
    """Place one file by its name (None when no rule matches)."""
    name = plain_name(path)
    for rule in _table():
        m = rule.regex.fullmatch(name)
        if m is None:
            continue
        g = m.groupdict()
        num = {k: int(g[k]) if g.get(k) is not None and len(g[k]) < 10 else None
               for k in ("trial", "attempt", "broker")}
        return Found(path, name, rule.role, num["trial"], num["attempt"], num["broker"], g.get("host"), rule.what,
                     rule.is_shared)
    return None


def _walk(root: Path, notes: list[str]) -> list[Path]:
    """Every entry under ``root`` (not following directory links), depth- and count-limited."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=None):
        depth = len(Path(dirpath).relative_to(root).parts)
        if depth >= MAX_DEPTH:
            notes.append(f"{Path(dirpath).relative_to(root)}: not walked, deeper than {MAX_DEPTH} folders")
            dirnames[:] = []
        links = [d for d in dirnames if (Path(dirpath) / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if d not in links and not d.startswith("."))
        for d in [d for d in dirnames if d.endswith((".log", ".log.gz"))
                  or ((f := classify(Path(d))) is not None and f.role in ("broker", "client"))]:
            rel = (Path(dirpath) / d).relative_to(root)
            notes.append(f"{str(rel)!r} refused: a directory")  # named like a log: say so, and walk it
        out.extend(Path(dirpath) / n for n in sorted(filenames + links) if not n.startswith("."))
        if len(out) > MAX_FILES:
            raise StallscopeError(root, None, f"more than {MAX_FILES} files: not one benchmark's folder")
    return out


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def discover(src: Path) -> Plan:
    """The runs in ``src`` (a directory, or one log file) and the files not understood, with why."""
    src = Path(src)
    try:
        mode = src.stat().st_mode
    except OSError as exc:
        raise StallscopeError(src, None, f"cannot read: {exc.strerror}") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise StallscopeError(src, None, f"{vetting.kind_of(mode)}, not a log file or a directory of logs")
    if src.is_file():  # one log of any name: the client's lines (with a driver script's), or a driver's log
        plan = Plan(src.parent)
        if is_driver_log(src):
            plan.driver_log = src
        else:
            plan.runs.append(RunPlan(None, None, clients=[Found(src, plain_name(src), "client")]))
        return plan
    root = src.resolve()
    plan = Plan(src)
    found: list[Found] = []
    for p in _walk(src, plan.notes):
        rel = str(p.relative_to(src))
        path, why = vetting.vet_one(p, root)
        if why is not None:
            plan.not_understood.append({"file": rel, "why": f"refused: {why}"})
            plan.notes.append(f"{rel!r} refused: {why}")
            continue
        f = classify(p)
        if f is None:
            plan.not_understood.append({"file": rel, "why": "no rule for this name (not a log, time series or "
                                        "side file stallscope reads)"})
            continue
        found.append(f)
    drivers = [f for f in found if f.role == "log" and is_driver_log(f.path)]
    if len(drivers) > 1:
        names = ", ".join(str(d.path.relative_to(src)) for d in drivers)
        raise StallscopeError(src, None, f"{len(drivers)} driver logs here ({names}); ingest one at a time")
    if drivers:
        plan.driver_log = drivers[0].path
        _driver_leftovers(plan, src, found, drivers[0])
        return plan
    _plan_runs(plan, src, found)
    return plan


def _rel(f: Found, src: Path) -> str:
    return str(f.path.relative_to(src))


def _driver_leftovers(plan: Plan, src: Path, found: list[Found], driver: Found) -> None:
    """With a multi-client driver's log, what ``ingest_driver`` reads: its trial files and side files; the rest
    is not understood."""
    for f in found:
        if f is driver:
            continue
        if f.role in ("broker", "client", "timeseries") and f.trial is not None:
            continue
        if f.role == "side" and f.what in ("attempt_summary", "run_contract"):
            continue
        why = ("a second log beside the driver's: not part of its trials" if f.role == "log" else
               "not read with a multi-client driver's log (its trials' files are trial<k>_*)")
        plan.not_understood.append({"file": _rel(f, src), "why": why})


def _plan_runs(plan: Plan, src: Path, found: list[Found]) -> None:
    """Group placed files into runs by (trial, attempt); settle logs by content and copies of side files."""
    logs = [f for f in found if f.role == "log"]
    placed = [f for f in found if f.role != "log"]
    drivers = [f for f in logs if is_driver_text(f.path)]
    others = [f for f in logs if f not in drivers]
    has_clients = any(f.role == "client" for f in placed)
    for f in others:
        if has_clients or len(others) > 1:
            why = ("a log named like no rule, beside client logs" if has_clients
                   else f"one of {len(others)} logs named like no rule: which is the client's is not known")
            plan.not_understood.append({"file": _rel(f, src), "why": why})
        else:
            placed.append(Found(f.path, f.name, "client"))
    for f in drivers[1:]:
        plan.not_understood.append({"file": _rel(f, src), "why": "a second driver log: ingest one at a time"})
    trials = sorted({f.trial for f in placed if f.trial is not None and f.role in ("broker", "client")})
    _drop_copies(plan, src, placed, trials)
    attempts: dict[int | None, set[int | None]] = {}
    for f in placed:
        if f.role in ("broker", "client"):
            t = f.trial if trials else None
            attempts.setdefault(t, set()).add(f.attempt)
    runs: dict[tuple[int | None, int | None], RunPlan] = {}
    for t, atts in sorted(attempts.items(), key=lambda kv: kv[0] or 0):
        numbered = sorted(a for a in atts if a is not None)
        for a in numbered or [None]:
            runs[(t, a)] = RunPlan(t, a, is_final=(a == (numbered[-1] if numbered else None)))
    seen: dict[tuple[Any, ...], str] = {}
    for f in placed:
        t = f.trial if trials else None
        if f.role == "side" and (f.is_shared or f.trial is None):
            for r in runs.values():
                r.side.append(f)
            continue
        cands = [r for (rt, _), r in runs.items() if rt == t]
        if f.role == "broker" or f.attempt is not None:
            cands = [r for r in cands if r.attempt == f.attempt] or [r for r in cands if r.attempt is None]
        else:  # a retry reuses the client log names: those on disk are the trial's last attempt's
            cands = [r for r in cands if r.is_final]
        if not cands:
            why = ("no trial in its name while the others have one" if t is None and trials
                   else f"trial {t}: no broker or client log of that trial")
            plan.not_understood.append({"file": _rel(f, src), "why": why})
            continue
        run = cands[0]
        key = (run.tag, f.role, f.broker if f.role == "broker" else (f.host or ""), f.what)
        if f.role == "broker" and (f.broker is None or f.broker > vetting.MAX_BROKER_INDEX):
            plan.not_understood.append({"file": _rel(f, src), "why": "broker index beyond "
                                        f"{vetting.MAX_BROKER_INDEX}"})
            plan.notes.append(f"{_rel(f, src)!r} refused: broker index beyond {vetting.MAX_BROKER_INDEX}")
            continue
        if key in seen:
            why = (f"broker {f.broker} is already {seen[key]!r}" if f.role == "broker"
                   else f"same {f.role} of run {run.tag} as {seen[key]}")
            plan.not_understood.append({"file": _rel(f, src), "why": why})
            plan.notes.append(f"{_rel(f, src)!r} refused: {why}")
            continue
        seen[key] = _rel(f, src)
        if f.role == "broker":
            run.brokers.append(f)
        elif f.role == "client":
            run.clients.append(f)
        elif f.role == "timeseries":
            run.timeseries[f.host or ""] = f
        else:
            run.side.append(f)
    for r in runs.values():
        if drivers:
            r.driver = drivers[0]
        r.brokers.sort(key=lambda f: f.broker or 0)
        gap = vetting.numbering_gap([f.broker or 0 for f in r.brokers])
        if gap:
            plan.notes.append(gap if len(runs) == 1 else f"run {r.tag}: {gap}")
        for host in [h for h in r.timeseries if h not in {c.host or "" for c in r.clients}]:
            ts = r.timeseries.pop(host)
            plan.not_understood.append({"file": _rel(ts, src), "why": f"a time series of client {host!r}, whose log "
                                        "is not here"})
    plan.runs = [r for r in runs.values() if r.brokers or r.clients]
    if not plan.runs and drivers:
        plan.runs = [RunPlan(None, None, driver=drivers[0])]


def _drop_copies(plan: Plan, src: Path, placed: list[Found], trials: list[int]) -> None:
    """A side file without a trial next to the same kind with trials: a byte copy of one of them is noted and
    dropped (the client writes the plain name, the harness copies it per trial); another is not understood."""
    for f in [f for f in placed if f.role == "side" and not f.is_shared and f.trial is None]:
        peers = [p for p in placed if p.role == "side" and p.what == f.what and p.trial is not None]
        if not peers or not trials:
            continue
        placed.remove(f)
        digest = _digest(f.path)
        twin = next((p for p in peers if _digest(p.path) == digest), None)
        why = (f"a byte copy of {_rel(twin, src)} (the un-suffixed file the client writes), not another trial"
               if twin is not None else f"no trial in its name beside {f.what} files of trials "
               f"{', '.join(str(p.trial) for p in peers)}")
        plan.not_understood.append({"file": _rel(f, src), "why": why})
