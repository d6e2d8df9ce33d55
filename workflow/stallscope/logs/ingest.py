"""Lay out logs from elsewhere as run directories, so that real logs go through the same parse and metrics stages.

Which files make which run is ``logs.discover``'s table (``discover.yaml``): by trial, attempt, client host,
broker and session in the file names, nested folders and ``.gz`` included, and by a driver's lines. One run lands
in ``out`` itself, several in ``out/t<k>[a<a>]/``. Layout rules (documented choices):
- ``broker_<i>.log`` (also ``broker<i>.log``) are copied under their canonical name ``broker_<i>.log``.
- ``client.log`` or ``client_*.log``: one client log becomes ``client.log``. Several (a multi-client run, one log
  per client host) are all analysed: each is copied under its own name (``client_<host>.log``), the first in
  sorted order among those that carry the test banner is the primary ``files.client_log`` and every one is listed
  in ``files.client_logs``; the run's parameters are the clients' banners summed (``params.clients`` says how many).
- ``<client log stem>_timeseries.csv`` next to a client log (the client's 100 ms throughput series) is copied as
  ``<client name>_timeseries.csv`` and listed in ``files.client_timeseries``.
- ``run_contract.csv`` (the driver's record of the broker build) gives ``sut.commit`` and ``sut.is_dirty``.
- A single file given as ``src``, of any name (driver-script lines mixed with glog lines), becomes ``client.log``;
  so does the only log of a directory whose logs follow none of the names above.
- A multi-client driver's own log (a file, or a directory holding one) becomes one run per attempt:
  ``logs.ingest_driver``.
Files are copied byte for byte. The manifest says ``origin: ingested``; what the logs cannot tell is null.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from stallscope.errors import StallscopeError
from stallscope.logs.discover import Found, Plan, RunPlan, discover
from stallscope.logs.driver import read_run_contract
from stallscope.logs.layout import (
    RunFiles,
    client_name,
    order_clients,
    scenario_name,
    sum_params,
    write_run,
)
from stallscope.shared.trialtag import TrialTag

_SUT = re.compile(r"^([0-9a-f]{12}(-dirty-[0-9a-f]{8})?(-patched-[0-9a-f]{8})?|unknown)$")


def driver_source(src: Path) -> Path | None:
    """The multi-client driver log ``src`` is or holds (in the folder or below it), else None."""
    return discover(Path(src)).driver_log


def _check_sut(sut: str | None) -> None:
    if sut is not None and not _SUT.match(sut):
        raise StallscopeError(None, None, f"--sut {sut!r}: expected 12 hex digits (optionally -dirty-<8 hex>)")


def ingest(src: Path, out: Path, scenario: str | None = None, sut: str | None = None,
           attempt: str | None = None, stall_timers: str | None = None) -> list[Path]:
    """Ingest ``src`` (a directory or one log of any name); return the run directories written.

    One run lands in ``out`` itself; several (trials, attempts) land as ``out/t<k>[a<a>]/``, or, with ``attempt``
    (a tag), that run alone in ``out``. A multi-client driver's log is laid out by ``logs.ingest_driver``.
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise StallscopeError(src, None, "no such file or directory")
    _check_sut(sut)
    plan = discover(src)
    if plan.driver_log is not None:
        from stallscope.logs.ingest_driver import ingest_driver

        return ingest_driver(plan.driver_log, out, scenario=scenario, sut=sut, only=attempt,
                             stall_timers=stall_timers, not_understood=plan.not_understood)
    _no_runs(src, plan)
    tags = [r.tag for r in plan.runs]
    if attempt is not None and attempt not in tags:
        raise StallscopeError(src, None, f"--attempt {attempt}: not a multi-client driver's log nor a run "
                              f"here (it has {', '.join(tags)})")
    many = len(plan.runs) > 1
    return [_write(src, plan, r, out if (attempt or not many) else out / r.tag, scenario, sut, stall_timers, many)
            for r in plan.runs if attempt is None or r.tag == attempt]


def run_tags(src: Path) -> list[str]:
    """The run directory names ``ingest`` makes of ``src``: ``t1`` for one run, else one tag per run."""
    if not Path(src).exists():
        return [str(TrialTag(1))]
    plan = discover(Path(src))
    if plan.driver_log is not None:
        from stallscope.logs.ingest_driver import attempt_tags

        return attempt_tags(plan.driver_log)
    return [r.tag for r in plan.runs] if len(plan.runs) > 1 else [str(TrialTag(1))]


def is_multi_run(src: Path) -> bool:
    """Whether ``ingest`` makes several run directories of ``src`` (then under ``out/<tag>/``)."""
    plan = discover(Path(src))
    return plan.driver_log is not None or len(plan.runs) > 1


def ingest_dir(src: Path, out: Path, scenario: str | None = None, sut: str | None = None,
               stall_timers: str | None = None) -> Path:
    """Copy the one run of ``src`` (a directory or one log file) into run directory ``out``; write manifest.json.

    ``stall_timers`` (``yes``/``no``) declares whether the broker build logs ``[STALL]`` lines; without it,
    broker logs with no such line leave that unknown.
    """
    src, out = Path(src), Path(out)
    _check_sut(sut)
    plan = discover(src)
    if plan.driver_log is not None:  # as one run: the driver's log is its only log (`ingest` splits it by attempt)
        plan = Plan(plan.root, runs=[RunPlan(None, None, clients=[Found(plan.driver_log, plan.driver_log.name,
                                                                        "client")])], notes=plan.notes)
    _no_runs(src, plan)
    if len(plan.runs) > 1:
        raise StallscopeError(src, None, f"{len(plan.runs)} runs here ({', '.join(r.tag for r in plan.runs)}): "
                              "use `stallscope ingest`, which writes one directory per run")
    return _write(src, plan, plan.runs[0], out, scenario, sut, stall_timers, False)


def _no_runs(src: Path, plan: Plan) -> None:
    if plan.runs:
        return
    why = [*plan.notes, *(f"{n['file']!r}: {n['why']}" for n in plan.not_understood
                          if not n["why"].startswith("refused"))]
    shown = f" ({'; '.join(why[:6])}{' ...' if len(why) > 6 else ''})" if why else ""
    raise StallscopeError(src, None, "no logs here (expected broker_<i>.log, client.log or client_*.log, "
                          f"trial<k>_* logs, or a single log of any name){shown}")


def _write(src: Path, plan: Plan, run: RunPlan, out: Path, scenario: str | None, sut: str | None,
           stall_timers: str | None, many: bool) -> Path:
    """Write one discovered run into ``out``."""
    notes = list(plan.notes)
    ordered, banners = order_clients([c.path for c in run.clients])
    by_path = {c.path: c for c in run.clients}
    files = RunFiles(brokers=[(b.broker or 0, b.path) for b in run.brokers], not_understood=plan.not_understood)
    single = len(ordered) == 1
    for p in ordered:
        host = by_path[p].host
        n = "client.log" if single else client_name(host if host and not host.startswith("client") else
                                                    p.name[:-3] if p.name.endswith(".gz") else p.stem)
        files.clients.append((n, p))
        ts = run.timeseries.get(by_path[p].host or "")
        if ts is not None:
            files.timeseries[n] = ts.path
    for f in run.side:
        suffix = "".join(Path(f.name).suffixes[-1:]) or ".txt"
        files.side[f.what or "side"] = (f"{f.what or 'side'}{suffix}", f.path)
    if run.driver is not None:
        files.driver_log = ("driver.log", run.driver.path)
    if len(ordered) > 1:
        notes.append(f"{len(ordered)} client logs, all analysed: per-client figures under metrics `clients`, "
                     "the run's figures summed over them")
    contract_src = next((f.path for f in run.side if f.what == "run_contract"), None)
    contract = read_run_contract(contract_src) if contract_src else {}
    params = sum_params(banners, len(run.brokers))
    meta = next((f.path for f in run.side if f.what == "panel_metadata"), None)
    for key, value in (read_metadata(meta) if meta else {}).items():
        if params.get(key) is None:
            params[key] = value
    for key in ("order", "ack_level"):
        if params[key] is None and contract.get(key) is not None:
            params[key] = contract[key]
    if params.get("message_count") is None and params.get("total_bytes") and params.get("message_size"):
        params["message_count"] = params["total_bytes"] // params["message_size"]
    name = scenario_name(src, scenario)
    tag = run.tag if many or run.attempt is not None or run.trial not in (None, 1) else str(TrialTag(1))
    attempt = None
    if run.attempt is not None:
        attempt = {"number": run.attempt, "of": None, "final": run.is_final, "result": None, "reason": None}
        if not run.is_final and not run.clients:
            notes.append(f"retried: trial {run.trial} attempt {run.attempt} was followed by another attempt; its "
                         "client logs are the retry's, so this attempt has broker logs only")
    return write_run(out, src, files, name=name, run_id=f"{name}/{tag}", trial=run.trial or 1, params=params,
                     contract=contract, sut=sut, notes=notes, stall_timers=stall_timers, attempt=attempt,
                     rerun=shlex.join(["stallscope", "ingest", "--out", str(out),
                                       *([f"--attempt={run.tag}"] if many else []), "--", str(src)]))


_META_KEYS = {"total_message_size": "total_bytes", "message_size": "message_size", "num_brokers": "brokers",
              "order": "order", "ack": "ack_level", "threads_per_broker": "threads_per_broker"}


def read_metadata(path: Path) -> dict[str, int]:
    """The run parameters a harness's ``key=value`` metadata file states (``panel_metadata.txt``)."""
    out: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines()[:200]:
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key in _META_KEYS and value.isdigit() and len(value) < 19:
            out[_META_KEYS[key]] = int(value)
    return out
