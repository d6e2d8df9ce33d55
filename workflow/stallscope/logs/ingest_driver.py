"""Lay out a multi-client benchmark, as its driver left it, as one run directory per attempt.

The driver writes per trial ``trial<k>_attempt<a>_broker<i>.log`` (one set per attempt) and
``trial<k>_<host>.log`` / ``trial<k>_<host>_timeseries.csv`` per client. A retry reuses the trial's client log
names, so the client logs on disk belong to the trial's last attempt; earlier attempts keep their broker logs and
the driver's own lines. Each attempt becomes ``<out>/t<k>a<a>/`` (run id ``<scenario>/t<k>a<a>``) with the
driver log copied as ``driver.log`` and the attempt described in ``manifest.attempt``: its result (from
``attempt_summary.csv``, else from the driver's text), whether it is the trial's final attempt (the trial's
result) and the driver's own per-client and TOTAL figures, so the stages' figures can be checked against them. The trial
files are placed by the discovery table (``logs.discover``), so gzipped ones are read too.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.logs import vetting
from stallscope.logs.discover import Found, classify
from stallscope.logs.driver import (
    Attempt,
    DriverLog,
    banner_params,
    read_attempt_summary,
    read_driver_log,
    read_run_contract,
)
from stallscope.logs.layout import (
    RunFiles,
    client_name,
    order_clients,
    scenario_name,
    sum_params,
    write_run,
)
from stallscope.shared.trialtag import TrialTag

_TRIAL_FILE = re.compile(r"^trial(\d+)_")
_LOGS_LINE = re.compile(r"^\s*Logs:\s*(\S+?)/?\s*$")


def _logs_dir(driver: DriverLog) -> Path | None:
    """The folder with the per-trial files: the driver's own folder or one folder below it; None when none has any.

    When several folders hold ``trial<k>_*`` files, the one named like the last part of the driver's ``Logs:``
    line is taken; if that does not settle it, the input is ambiguous and refused.
    """
    base = driver.path.parent
    cands = [d for d in [base, *sorted(p for p in base.iterdir() if p.is_dir())]
             if any(_TRIAL_FILE.match(p.name) for p in d.iterdir() if p.is_file())]
    if len(cands) == 1:
        return cands[0]
    if not cands:
        return None
    hint = None
    for line in driver.path.read_text(encoding="utf-8", errors="replace").splitlines():
        if m := _LOGS_LINE.match(line):
            hint = Path(m.group(1)).name
    named = [d for d in cands if d.name == hint]
    if len(named) == 1:
        return named[0]
    raise StallscopeError(base, None, f"trial logs in several folders ({', '.join(str(d) for d in cands)}); "
                          "give the driver log's own folder holding one of them")


def _index(logs: Path) -> list[Found]:
    """The trial files of the logs folder, placed by the discovery table (``.gz`` included); refused ones left
    out (``discover`` lists them as not understood)."""
    root = logs.resolve()
    out = []
    for p in sorted(logs.iterdir()):
        f = classify(p)
        if f is not None and f.trial is not None and vetting.vet_one(p, root)[1] is None:
            out.append(f)
    return out


def _files(logs: Path | None, a: Attempt, final: bool, hosts: list[str]) -> tuple[RunFiles, list[str]]:
    """The attempt's broker logs, and the trial's client logs when this is its final attempt."""
    files = RunFiles()
    if logs is None:
        return files, ["no trial<k>_* logs next to the driver log or one folder below: the driver's lines only"]
    index = [f for f in _index(logs) if f.trial == a.trial]
    files.brokers = sorted((f.broker or 0, f.path) for f in index if f.role == "broker" and f.attempt == a.number)
    notes: list[str] = []
    if not final:
        notes.append(f"retried: trial {a.trial} attempt {a.number} was followed by attempt {a.number + 1}; the "
                     "client logs on disk are the retry's (the driver reuses their names), so this attempt has "
                     "broker logs and the driver's lines only")
        return files, notes
    logs_of = {f.host: f for f in index if f.role == "client" and f.attempt in (None, a.number)}
    series = {f.host: f for f in index if f.role == "timeseries"}
    missing = [h for h in hosts if h not in logs_of]
    if missing:
        notes.append(f"client logs missing for {', '.join(missing)}")
    ordered, _ = order_clients([logs_of[h].path for h in hosts if h in logs_of])
    host_of = {logs_of[h].path: h for h in hosts if h in logs_of}
    for p in ordered:
        n = client_name(host_of[p])
        files.clients.append((n, p))
        if host_of[p] in series:
            files.timeseries[n] = series[host_of[p]].path
    if a.number > 1:
        notes.append(f"retry: attempt {a.number} of trial {a.trial}; the trial's result is this attempt's")
    return files, notes


def _attempt_block(a: Attempt, final: bool, result: str | None, reason: str | None) -> dict[str, Any]:
    return {"number": a.number, "of": a.of, "final": final, "result": result, "reason": reason,
            "driver_log": "driver.log", "driver_lines": [a.first_line, a.last_line],
            "driver_results_line": a.results_line, "driver_clients": a.clients or {},
            "driver_total_mb_s": a.total_mb_s, "driver_senddone_mb_s": a.senddone_mb_s,
            "driver_overlap_gb_s": a.overlap_gb_s}


def attempt_tags(path: Path) -> list[str]:
    """``t<k>a<a>`` of every attempt in a driver log, in order: the run directories ``ingest_driver`` writes."""
    return [str(TrialTag(a.trial, a.number)) for attempts in read_driver_log(path).trials().values() for a in attempts]


def ingest_driver(path: Path, out: Path, scenario: str | None = None, sut: str | None = None,
                  only: str | None = None, stall_timers: str | None = None,
                  not_understood: list[dict[str, str]] | None = None) -> list[Path]:
    """Write one run directory per attempt under ``out``; return them in trial and attempt order.

    With ``only`` (a ``t<k>a<a>`` tag) just that attempt is written, into ``out`` itself: one workflow job per run.
    """
    driver = read_driver_log(path)
    logs = _logs_dir(driver)
    summary = read_attempt_summary(logs / "attempt_summary.csv") if logs else {}
    contract = read_run_contract(logs / "run_contract.csv") if logs else {}
    base = banner_params(driver.banner)
    name = scenario_name(path, scenario)
    runs: list[Path] = []
    tags = [str(TrialTag(a.trial, a.number)) for attempts in driver.trials().values() for a in attempts]
    if only is not None and only not in tags:
        raise StallscopeError(path, None, f"no attempt {only} in this driver log (it has {', '.join(tags)})")
    for trial, attempts in driver.trials().items():
        last = attempts[-1].number
        for a in attempts:
            tag = str(TrialTag(trial, a.number))
            if only is not None and tag != only:
                continue
            final = a.number == last
            result, reason = summary.get((trial, a.number), (a.result, a.reason))
            hosts = a.hosts or sorted(a.clients)
            files, notes = _files(logs, a, final, hosts)
            files.extra.append(("driver.log", path))
            files.not_understood = list(not_understood or [])
            notes.insert(0, f"driver.log lines {a.first_line}-{a.last_line}: trial {trial} attempt {a.number}"
                         f"{' / ' + str(a.of) if a.of else ''}, result {result or 'unknown'}")
            params = _params(base, files, contract)
            runs.append(write_run(out if only else out / tag, path, files, name=name, run_id=f"{name}/{tag}",
                                  trial=trial, params=params, contract=contract, sut=sut, notes=notes,
                                  rerun=shlex.join(["stallscope", "ingest", "--out", str(out),
                                                    *([f"--attempt={tag}"] if only else []), "--", str(path)]),
                                  attempt=_attempt_block(a, final, result, reason), root=path.parent,
                                  stall_timers=stall_timers))
    return runs


def _params(base: dict[str, Any], files: RunFiles, contract: dict[str, Any]) -> dict[str, Any]:
    """The banner's parameters; the client banners' where the driver's banner lacks one; order/ACK from contract."""
    _, banners = order_clients([p for _, p in files.clients])
    params = sum_params(banners, len(files.brokers)) if banners else sum_params([], len(files.brokers))
    for k, v in base.items():
        if v is not None:
            params[k] = v
    for key in ("order", "ack_level"):
        if params.get(key) is None and contract.get(key) is not None:
            params[key] = contract[key]
    return params
