"""Lay out logs from elsewhere as a run directory, so that real logs go through the same parse and metrics stages.

Layout rules (documented choices):
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
from stallscope.logs import vetting
from stallscope.logs.driver import read_run_contract
from stallscope.logs.layout import (
    TIMESERIES_SUFFIX,
    RunFiles,
    client_name,
    order_clients,
    scenario_name,
    sum_params,
    write_run,
)

_SUT = re.compile(r"^([0-9a-f]{12}(-dirty-[0-9a-f]{8})?(-patched-[0-9a-f]{8})?|unknown)$")


def driver_source(src: Path) -> Path | None:
    """The multi-client driver log ``src`` is or holds directly, else None."""
    from stallscope.logs.driver import is_driver_log

    if src.is_file():
        return src if is_driver_log(src) else None
    found = [p for p in sorted(src.glob("*.log")) if p.is_file() and is_driver_log(p)]
    if len(found) > 1:
        raise StallscopeError(src, None, f"{len(found)} driver logs here ({', '.join(p.name for p in found)}); "
                              "ingest one at a time")
    return found[0] if found else None


def ingest(src: Path, out: Path, scenario: str | None = None, sut: str | None = None,
           attempt: str | None = None, stall_timers: str | None = None) -> list[Path]:
    """Ingest ``src`` (a directory or one log of any name); return the run directories written.

    One run lands in ``out`` itself; a driver log with trials and attempts lands as ``out/t<k>a<a>/``, one run
    per attempt (``logs.ingest_driver``), or, with ``attempt`` (``t<k>a<a>``), that attempt alone in ``out``.
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise StallscopeError(src, None, "no such file or directory")
    if sut is not None and not _SUT.match(sut):
        raise StallscopeError(None, None, f"--sut {sut!r}: expected 12 hex digits (optionally -dirty-<8 hex>)")
    driver = driver_source(src)
    if driver is not None:
        from stallscope.logs.ingest_driver import ingest_driver

        return ingest_driver(driver, out, scenario=scenario, sut=sut, only=attempt, stall_timers=stall_timers)
    if attempt is not None:
        raise StallscopeError(src, None, f"--attempt {attempt}: not a multi-client driver's log")
    return [ingest_dir(src, out, scenario=scenario, sut=sut, stall_timers=stall_timers)]


def run_tags(src: Path) -> list[str]:
    """The run directory names ``ingest`` makes of ``src``: ``t1``, or ``t<k>a<a>`` per driver attempt."""
    driver = driver_source(Path(src)) if Path(src).exists() else None
    if driver is None:
        return ["t1"]
    from stallscope.logs.ingest_driver import attempt_tags

    return attempt_tags(driver)


def ingest_dir(src: Path, out: Path, scenario: str | None = None, sut: str | None = None,
               stall_timers: str | None = None) -> Path:
    """Copy logs from ``src`` (a directory or one log file) into run directory ``out``; write manifest.json.

    ``stall_timers`` (``yes``/``no``) declares whether the broker build logs ``[STALL]`` lines; without it,
    broker logs with no such line leave that unknown.
    """
    src, out = Path(src), Path(out)
    if sut is not None and not _SUT.match(sut):
        raise StallscopeError(None, None, f"--sut {sut!r}: expected 12 hex digits (optionally -dirty-<8 hex>)")
    found = vetting.vet_source(src)
    brokers, clients = found.brokers, found.clients
    notes = list(found.notes)
    if not brokers and not clients and src.is_dir():
        clients, why = vetting.only_other_log(src)
        notes += why
    if not brokers and not clients:
        why = f" ({'; '.join(notes)})" if notes else ""
        raise StallscopeError(src, None, "no logs here (expected broker_<i>.log, client.log or client_*.log, "
                              f"or a single log of any name){why}")
    ordered, banners = order_clients(clients)
    files = RunFiles(brokers=brokers)
    single = len(ordered) == 1
    for p in ordered:
        n = "client.log" if single else client_name(p.stem)
        files.clients.append((n, p))
        ts = p.with_name(p.stem + TIMESERIES_SUFFIX)
        if src.is_dir() and vetting.vet_one(ts, src)[0] is not None:
            files.timeseries[n] = ts
    if len(ordered) > 1:
        notes.append(f"{len(ordered)} client logs, all analysed: per-client figures under metrics `clients`, "
                     "the run's figures summed over them")
    contract = read_run_contract(src / "run_contract.csv") if src.is_dir() else {}
    params = sum_params(banners, len(brokers))
    for key in ("order", "ack_level"):
        if params[key] is None and contract.get(key) is not None:
            params[key] = contract[key]
    name = scenario_name(src, scenario)
    return write_run(out, src, files, name=name, run_id=f"{name}/t1", trial=1, params=params, contract=contract,
                     sut=sut, notes=notes, stall_timers=stall_timers,
                     rerun=shlex.join(["stallscope", "ingest", "--out", str(out), "--", str(src)]))
