"""Write one ingested run directory: copy its logs byte for byte under their run names and write manifest.json.

Shared by ``logs.ingest`` (a directory or one log) and ``logs.ingest_driver`` (one run per driver attempt), so
both lay runs out alike: ``broker_<i>.log``; ``client.log`` for a single client, ``client_<host>.log`` for each of
several (the primary, the first with a test banner, first); ``<client>_timeseries.csv``; extra files (the driver
log) copied for provenance but not parsed. What the logs cannot tell is null in the manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs import transcode, vetting
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner
from stallscope.shared.manifest import new_manifest

TIMESERIES_SUFFIX = "_timeseries.csv"


@dataclass
class RunFiles:
    """What one ingested run is made of: sources and the names they get inside the run directory."""

    brokers: list[tuple[int, Path]] = field(default_factory=list)
    clients: list[tuple[str, Path]] = field(default_factory=list)  # (name in the run, source); primary first
    timeseries: dict[str, Path] = field(default_factory=dict)  # client name in the run -> csv source
    extra: list[tuple[str, Path]] = field(default_factory=list)  # copied for provenance, not parsed
    side: dict[str, tuple[str, Path]] = field(default_factory=dict)  # kind -> (name in the run, source)
    driver_log: tuple[str, Path] | None = None  # a driver's own text log: read for exit statuses and kills
    not_understood: list[dict[str, str]] = field(default_factory=list)  # files of the input no run uses, and why


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


def scenario_name(src: Path, scenario: str | None) -> str:
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
              attempt: dict[str, Any] | None = None, root: Path | None = None,
              stall_timers: str | None = None) -> Path:
    """Copy ``files`` into run directory ``out`` and write its manifest.json; return ``out``.

    Every file is copied through ``vetting.copy_regular``: a regular file, and under ``root`` (default: ``src``
    when it is a directory) so that a link swapped in after listing cannot carry another file into the run."""
    if root is None and src.is_dir():
        root = src
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StallscopeError(out, None, f"cannot create the run directory: {exc.strerror}") from None
    notes = list(notes)

    def copy(p: Path, name: str) -> None:
        part = out / f".{name}.part"
        vetting.copy_regular(p, part, root)
        notes.extend(transcode.readable_copy(part, out / name, p.name))

    broker_names = []
    for idx, p in files.brokers:
        copy(p, f"broker_{idx}.log")
        broker_names.append(f"broker_{idx}.log")
    for n, p in files.clients + files.extra + list(files.side.values()) + (
            [files.driver_log] if files.driver_log else []):
        copy(p, n)
    series = {}
    for n, p in files.timeseries.items():
        series[n] = n[: -len(".log")] + TIMESERIES_SUFFIX
        copy(p, series[n])
    client_names = [n for n, _ in files.clients]
    extra_files: dict[str, Any] = {}
    if files.side:
        extra_files["side_files"] = {k: n for k, (n, _) in files.side.items()}
    if files.driver_log:
        extra_files["driver_log"] = files.driver_log[0]
    if files.not_understood:
        extra_files["not_understood"] = files.not_understood
    manifest = new_manifest(
        run_id, name, trial, "ingested", params=params, sut=_sut(contract, sut, src), notes=notes,
        files={"client_log": client_names[0] if client_names else None, "broker_logs": broker_names,
               "client_logs": client_names, "client_timeseries": series} | extra_files,
        clock_aligned=len(broker_names) + len(client_names) <= 1, rerun_command=rerun,
    )
    if stall_timers in ("yes", "no"):
        manifest["stall_timers"] = stall_timers
    if attempt is not None:
        manifest["attempt"] = attempt
    schemas.write_json(out / "manifest.json", "manifest", manifest)
    return out
