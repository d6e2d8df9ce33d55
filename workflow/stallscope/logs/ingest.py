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
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope import __version__, schemas
from stallscope.errors import StallscopeError
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.driver import read_run_contract
from stallscope.logs.glog import FileScanner

_BROKER = re.compile(r"^broker_?(\d+)\.log$")
_CLIENT = re.compile(r"^client(?:[_.-].*)?\.log$")
_SUT = re.compile(r"^([0-9a-f]{12}(-dirty-[0-9a-f]{8})?|unknown)$")
TIMESERIES_SUFFIX = "_timeseries.csv"


@dataclass
class RunFiles:
    """What one ingested run is made of: sources and the names they get inside the run directory."""

    brokers: list[tuple[int, Path]] = field(default_factory=list)
    clients: list[tuple[str, Path]] = field(default_factory=list)  # (name in the run, source); primary first
    timeseries: dict[str, Path] = field(default_factory=dict)  # client name in the run -> csv source
    extra: list[tuple[str, Path]] = field(default_factory=list)  # copied for provenance, not parsed


def _banner(path: Path) -> dict[str, Any] | None:
    """Return the client banner's fields, or None when the log has no banner."""
    for ev in FileScanner(path, "client", load_catalogue()):
        if ev.kind == "client_banner":
            return ev.fields
    return None


def order_clients(clients: list[Path]) -> tuple[list[Path], list[dict[str, Any] | None]]:
    """Clients with the primary first (the first in sorted order with a banner), and their banners."""
    banners = {p: _banner(p) for p in clients}
    primary = next((p for p in clients if banners[p] is not None), clients[0] if clients else None)
    ordered = ([primary] if primary is not None else []) + [p for p in clients if p != primary]
    return ordered, [banners[p] for p in ordered]


def client_name(stem: str) -> str:
    """Name of a client log inside a multi-client run: ``client_<host>.log`` (kept when already so named)."""
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "x"
    return f"{clean}.log" if clean.startswith("client") else f"client_{clean}.log"


def sum_params(banners: list[dict[str, Any] | None], broker_count: int) -> dict[str, Any]:
    """Run parameters from the client banners: shared settings from the first, bytes summed over clients.

    A run's size is unknown (null) as soon as one client's banner lacks it, never a partial sum.
    """
    b = next((x for x in banners if x), None) or {}
    size = b.get("message_size")
    totals = [(x or {}).get("total_bytes") for x in banners]
    total = sum(totals) if totals and all(isinstance(t, int) for t in totals) else None
    count = total // size if isinstance(size, int) and isinstance(total, int) and size > 0 else None
    return {
        "brokers": broker_count or None,
        "threads_per_broker": b.get("threads_per_broker"),
        "message_size": size,
        "total_bytes": total,
        "message_count": count,
        "order": b.get("order_level"),
        "ack_level": b.get("ack_level"),
        "ack_timeout_s": None,
        "batch_bytes": None,
        "stall_threshold_ms": None,
        "clients": len(banners) or None,
    }


def _scenario_name(src: Path, scenario: str | None) -> str:
    name = scenario or (src.stem if src.is_file() else src.resolve().name)
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "ingested"
    return clean


def _sut(contract: dict[str, Any], sut: str | None, src: Path) -> dict[str, Any]:
    """The manifest's ``sut`` block: ``--sut`` first, else the commit ``run_contract.csv`` names (clean trees only)."""
    commit = contract.get("commit")
    sid = sut
    if sid is None and commit and len(commit) >= 12 and contract.get("is_dirty") is False:
        sid = commit[:12]
    return {"id": sid or "unknown", "source": str(src.resolve()), "commit": commit,
            "is_dirty": contract.get("is_dirty"), "diff_sha256": None, "commit_date": None,
            "commit_subject": None, "binaries": {}}


def write_run(out: Path, src: Path, files: RunFiles, *, name: str, run_id: str, trial: int, params: dict[str, Any],
              contract: dict[str, Any], sut: str | None, notes: list[str], rerun: str,
              attempt: dict[str, Any] | None = None) -> Path:
    """Copy ``files`` into run directory ``out`` and write its manifest.json; return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    broker_names = []
    for idx, p in files.brokers:
        shutil.copyfile(p, out / f"broker_{idx}.log")
        broker_names.append(f"broker_{idx}.log")
    for n, p in files.clients + files.extra:
        shutil.copyfile(p, out / n)
    series = {}
    for n, p in files.timeseries.items():
        series[n] = n[: -len(".log")] + TIMESERIES_SUFFIX
        shutil.copyfile(p, out / series[n])
    client_names = [n for n, _ in files.clients]
    manifest: dict[str, Any] = {
        "schema": "manifest/1",
        "run_id": run_id,
        "scenario": name,
        "trial": trial,
        "origin": "ingested",
        "expected_cause": None,
        "params": params,
        "faults": {},
        "sut": _sut(contract, sut, src),
        "stallscope": {"version": __version__, "commit": None, "is_dirty": None},
        "host": {"hostname": None, "kernel": None, "cpu_model": None, "cores": None, "memory_bytes": None},
        "slurm": {"job_id": None, "node": None},
        "started_utc": None,
        "ended_utc": None,
        "utc_offset_s": None,
        "processes": [],
        "ports": {},
        "timeouts_hit": [],
        "harness": {"ok": True, "errors": []},
        "notes": notes,
        "files": {"client_log": client_names[0] if client_names else None, "broker_logs": broker_names,
                  "client_logs": client_names, "client_timeseries": series},
        "clock_aligned": len(broker_names) + len(client_names) <= 1,
        "rerun_command": rerun,
    }
    if attempt is not None:
        manifest["attempt"] = attempt
    schemas.write_json(out / "manifest.json", "manifest", manifest)
    return out


def _dir_files(src: Path) -> tuple[list[tuple[int, Path]], list[Path], list[Path]]:
    """Broker logs, client logs and other ``*.log`` files directly inside ``src``."""
    brokers: list[tuple[int, Path]] = []
    clients: list[Path] = []
    others: list[Path] = []
    for p in sorted(src.iterdir()):
        if not p.is_file():
            continue
        if bm := _BROKER.match(p.name):
            brokers.append((int(bm.group(1)), p))
        elif _CLIENT.match(p.name):
            clients.append(p)
        elif p.suffix == ".log":
            others.append(p)
    return sorted(brokers), clients, others


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


def ingest(src: Path, out: Path, scenario: str | None = None, sut: str | None = None) -> list[Path]:
    """Ingest ``src`` (a directory or one log of any name); return the run directories written.

    One run lands in ``out`` itself; a driver log with trials and attempts lands as ``out/t<k>a<a>/``, one run
    per attempt (``logs.ingest_driver``).
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise StallscopeError(src, None, "no such file or directory")
    if sut is not None and not _SUT.match(sut):
        raise StallscopeError(None, None, f"--sut {sut!r}: expected 12 hex digits (optionally -dirty-<8 hex>)")
    driver = driver_source(src)
    if driver is not None:
        from stallscope.logs.ingest_driver import ingest_driver

        return ingest_driver(driver, out, scenario=scenario, sut=sut)
    return [ingest_dir(src, out, scenario=scenario, sut=sut)]


def ingest_dir(src: Path, out: Path, scenario: str | None = None, sut: str | None = None) -> Path:
    """Copy logs from ``src`` (a directory or one log file) into run directory ``out``; write manifest.json."""
    src, out = Path(src), Path(out)
    if not src.exists():
        raise StallscopeError(src, None, "no such file or directory")
    if sut is not None and not _SUT.match(sut):
        raise StallscopeError(None, None, f"--sut {sut!r}: expected 12 hex digits (optionally -dirty-<8 hex>)")
    if src.is_file():
        brokers, clients, others = [], [src], []
    else:
        brokers, clients, others = _dir_files(src)
        if not brokers and not clients and len(others) == 1:
            clients = others
    if not brokers and not clients:
        raise StallscopeError(src, None, "no logs here (expected broker_<i>.log, client.log or client_*.log, "
                              "or a single log of any name)")
    ordered, banners = order_clients(clients)
    files = RunFiles(brokers=brokers)
    single = len(ordered) == 1
    for p in ordered:
        n = "client.log" if single else client_name(p.stem)
        files.clients.append((n, p))
        ts = p.with_name(p.stem + TIMESERIES_SUFFIX)
        if ts.is_file():
            files.timeseries[n] = ts
    notes = []
    if not single:
        notes.append(f"{len(ordered)} client logs, all analysed: per-client figures under metrics `clients`, "
                     "the run's figures summed over them")
    contract = read_run_contract(src / "run_contract.csv") if src.is_dir() else {}
    params = sum_params(banners, len(brokers))
    for key in ("order", "ack_level"):
        if params[key] is None and contract.get(key) is not None:
            params[key] = contract[key]
    name = _scenario_name(src, scenario)
    return write_run(out, src, files, name=name, run_id=f"{name}/t1", trial=1, params=params, contract=contract,
                     sut=sut, notes=notes, rerun=f"stallscope ingest {src} --out {out}")
