"""Lay out logs from elsewhere as a run directory, so that real logs go through the same parse and metrics stages.

Layout rules (documented choices):
- ``broker_<i>.log`` (also ``broker<i>.log``) are copied under their canonical name ``broker_<i>.log``.
- ``client.log`` or ``client_*.log``: one becomes ``client.log``, the first in sorted order among those that carry
  the test banner (else the first sorted). Further client logs are copied unchanged under their own names, are not
  analysed, and are named in the manifest's ``notes``.
- A single file given as ``src`` (driver-script lines mixed with glog lines) becomes ``client.log``.
Files are copied byte for byte. The manifest says ``origin: ingested``; what the logs cannot tell is null.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from stallscope import __version__, schemas
from stallscope.errors import StallscopeError
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner

_BROKER = re.compile(r"^broker_?(\d+)\.log$")
_CLIENT = re.compile(r"^client(?:[_.-].*)?\.log$")
_SUT = re.compile(r"^([0-9a-f]{12}(-dirty-[0-9a-f]{8})?|unknown)$")


def _banner(path: Path) -> dict[str, Any] | None:
    """Return the client banner's fields, or None when the log has no banner."""
    for ev in FileScanner(path, "client", load_catalogue()):
        if ev.kind == "client_banner":
            return ev.fields
    return None


def _pick_client(clients: list[Path]) -> tuple[Path | None, dict[str, Any] | None, list[Path]]:
    banners = [(p, _banner(p)) for p in clients]
    with_banner = [(p, b) for p, b in banners if b is not None]
    chosen, banner = (with_banner or banners or [(None, None)])[0]
    return chosen, banner, [p for p in clients if p != chosen]


def _params(banner: dict[str, Any] | None, broker_count: int) -> dict[str, Any]:
    b = banner or {}
    size, total = b.get("message_size"), b.get("total_bytes")
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
    }


def _scenario_name(src: Path, scenario: str | None) -> str:
    name = scenario or (src.stem if src.is_file() else src.resolve().name)
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "ingested"
    return clean


def ingest_dir(src: Path, out: Path, scenario: str | None = None, sut: str | None = None,
               stall_timers: str | None = None) -> Path:
    """Copy logs from ``src`` (a directory or one log file) into run directory ``out``; write manifest.json.

    ``stall_timers`` (``yes``/``no``) declares whether the broker build logs ``[STALL]`` lines; without it,
    broker logs with no such line leave that unknown.
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise StallscopeError(src, None, "no such file or directory")
    if sut is not None and not _SUT.match(sut):
        raise StallscopeError(None, None, f"--sut {sut!r}: expected 12 hex digits (optionally -dirty-<8 hex>)")
    brokers: list[tuple[int, Path]] = []
    clients: list[Path] = []
    if src.is_file():
        clients = [src]
    else:
        for p in sorted(src.iterdir()):
            if not p.is_file():
                continue
            bm = _BROKER.match(p.name)
            if bm:
                brokers.append((int(bm.group(1)), p))
            elif _CLIENT.match(p.name):
                clients.append(p)
    if not brokers and not clients:
        raise StallscopeError(src, None, "no logs here (expected broker_<i>.log, client.log or client_*.log)")
    brokers.sort()
    client, banner, extra = _pick_client(clients)
    out.mkdir(parents=True, exist_ok=True)
    broker_names = []
    for idx, p in brokers:
        name = f"broker_{idx}.log"
        shutil.copyfile(p, out / name)
        broker_names.append(name)
    notes = []
    if client is not None:
        shutil.copyfile(client, out / "client.log")
    for p in extra:
        shutil.copyfile(p, out / p.name)
    if extra:
        kept = ", ".join(p.name for p in extra)
        notes.append(f"{len(extra)} further client log(s) copied but not analysed: {kept}")
    name = _scenario_name(src, scenario)
    log_count = len(brokers) + len(clients)
    manifest = {
        "schema": "manifest/1",
        "run_id": f"{name}/t1",
        "scenario": name,
        "trial": 1,
        "origin": "ingested",
        "expected_cause": None,
        "params": _params(banner, len(brokers)),
        "faults": {},
        "sut": {
            "id": sut or "unknown",
            "source": str(src.resolve()),
            "commit": None,
            "is_dirty": None,
            "diff_sha256": None,
            "commit_date": None,
            "commit_subject": None,
            "binaries": {},
        },
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
        "files": {"client_log": "client.log" if client is not None else None, "broker_logs": broker_names},
        "clock_aligned": log_count <= 1,
        "rerun_command": f"stallscope ingest {src} --out {out}",
    }
    if stall_timers in ("yes", "no"):
        manifest["stall_timers"] = stall_timers
    schemas.write_json(out / "manifest.json", "manifest", manifest)
    return out
