"""Compute metrics.json for one run from its manifest, events.csv and lines.json: the figures claims are judged on."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from stallscope import schemas
from stallscope.analysis import (
    acks,
    benign,
    checks,
    clients,
    clock,
    cpu,
    evidence,
    latency,
    liveness,
    phases,
    refs,
    stalls,
    summarycsv,
)
from stallscope.analysis.outcome import acks_extras, decide_outcome, driver_block, throughput_extras
from stallscope.errors import StallscopeError
from stallscope.shared import events
from stallscope.shared.rundir import METRICS_FILE, read_run_dir

_LINE_KEYS = ("total", "event", "glog", "continuation", "script", "unparseable", "is_truncated")


def load_events(path: Path) -> pd.DataFrame:
    """Read events.csv with typed columns and decoded fields."""
    if not path.is_file():
        raise StallscopeError(path, None, "missing events.csv; run `stallscope parse` first")
    ev = next(events.read_frames(path))
    for col in events.INT_COLUMNS:
        ev[col] = pd.to_numeric(ev[col], errors="coerce").astype("Int64")
    try:
        ev["fields"] = [json.loads(f) if f else {} for f in ev["fields"]]
    except json.JSONDecodeError as exc:
        raise StallscopeError(path, None, f"bad fields JSON: {exc}") from None
    return ev


def _has_fewer_batches_than_queues(
    params: dict[str, Any], banner: dict[str, Any] | None, acks_m: dict[str, Any]
) -> bool:
    """Whether fewer batches were sent than there were queues (then zero-batch threads are expected)."""
    tpb = params.get("threads_per_broker") or (banner or {}).get("threads_per_broker")
    nb = params.get("brokers") or (len(acks_m["per_broker"]) if acks_m.get("per_broker") else None)
    batches = acks_m.get("batches_sent")
    return bool(tpb and nb and batches is not None and batches < tpb * nb)


def _one_series(run_dir: Path, series: dict[str, str]) -> pd.DataFrame | None:
    """The client's throughput series when the run has exactly one readable one (a single client)."""
    from stallscope.analysis.timeseries import read_timeseries

    if len(series) != 1:
        return None
    path = run_dir / next(iter(series.values()))
    try:
        return read_timeseries(path)
    except StallscopeError:
        pass
    # A client that ended abruptly (Embarcadero's throughput_test aborts at its exit now and then) leaves its last
    # row cut short: the rows before it are whole.
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if len(lines) > 2 and lines[-1].count(",") < lines[0].count(","):
        try:
            return read_timeseries(io.StringIO("\n".join(lines[:-1]) + "\n"))  # type: ignore[arg-type]
        except StallscopeError:
            return None
    return None


def compute_metrics(run_dir: Path, out: Path | None = None) -> Path:
    """Read manifest.json, events.csv and lines.json of ``run_dir``; write metrics.json (validated); return its path.

    The manifest comes through the reader every stage uses (``shared.rundir``), before metrics.json exists."""
    run_dir = Path(run_dir)
    manifest = read_run_dir(run_dir, read_metrics=False).require_manifest()
    lines = schemas.read_json(run_dir / "lines.json", "lines")["files"]
    ev = load_events(run_dir / "events.csv")
    params = manifest["params"]
    files = manifest["files"]
    missing = [n for n in files["broker_logs"] if not (run_dir / n).is_file()]
    client_log = files["client_log"]
    if client_log is None or not (run_dir / client_log).is_file():
        missing.append(client_log or "client.log")
    clock_m = clock.check_clock(ev, lines)
    bnd = phases.boundaries(ev, lines)
    if not clock_m["ok"]:  # differences of broken timestamps are not durations: no phases, no init wait
        bnd = {"run_start": None, "run_end": None, "source": "none", "publish_start": None}
    ph = phases.compute_phases(bnd)
    broker_ids = sorted({int(b) for b in ev.loc[ev["role"] == "broker", "broker"].dropna()}
                        | {i for i in range(len(files["broker_logs"]))})
    st = stalls.stall_frame(ev, ph)
    client_names = [n for n in (files.get("client_logs") or ([client_log] if client_log else []))
                    if (run_dir / n).is_file()]
    client_logs = clients.read_clients(ev, client_names, params)  # one client is the n = 1 case of several
    acks_m = clients.summed_acks(client_logs, params)
    acks_m["per_broker_source"] = "client" if acks_m["per_broker"] is not None else None
    if acks_m["per_broker"] is None:
        acks_m["per_broker"] = clients.broker_side_acks(ev)
        acks_m["per_broker_source"] = "broker_log" if acks_m["per_broker"] is not None else None
    acks_extras(acks_m, [c.events for c in client_logs])
    lat = latency.compute_latency(ev)
    if lat is not None:
        acks_m["latency"] = lat
    per_client = clients.compute_clients(client_logs, run_dir, files.get("client_timeseries") or {})
    received = stalls.compute_received(ev, broker_ids)
    banners = [f for f in ev.loc[ev["kind"] == "client_banner", "fields"]]
    banner = banners[0] if banners else None
    cond = {"fewer_batches_than_queues": _has_fewer_batches_than_queues(params, banner, acks_m)}
    driver = driver_block(manifest)
    tp = clients.summed_throughput(client_logs)
    throughput_extras(ev, tp, per_client, driver, run_dir, client_names,
                      files.get("driver_log") or (manifest.get("attempt") or {}).get("driver_log"))
    client_path = run_dir / client_log if client_log else None
    matches, firsts = benign.client_log_matches(client_path, cond)
    data: dict[str, Any] = {
        "schema": "metrics/1",
        "run_id": manifest["run_id"],
        "scenario": manifest["scenario"],
        "sut": manifest["sut"]["id"],
        "origin": manifest["origin"],
        "expected_cause": manifest["expected_cause"],
        "harness_ok": manifest["harness"]["ok"],
        "is_truncated": any(v["is_truncated"] for v in lines.values()),
        "clock_aligned": manifest["clock_aligned"],
        "missing_files": missing,
        "lines": {f: {k: v[k] for k in _LINE_KEYS} | {"unreadable": v.get("unreadable", 0)}
                  for f, v in lines.items()},
        "unrecognised_glog_count": sum(v["glog"] for v in lines.values()),
        "unreadable_count": sum(v.get("unreadable", 0) for v in lines.values()),
        "clock": clock_m,
        "phases": ph,
        "stalls": stalls.compute_stalls(st, broker_ids, ph),
        "ring_full": stalls.compute_ring_full(ev, broker_ids),
        "received": received,
        "acks": acks_m,
        "throughput": tp,
        "driver": driver,
        "init": phases.init_metrics(ev, bnd, lines),
        "tcp": acks.compute_tcp(ev),
        "client_log_matches": matches,
        "checks": checks.compute_checks(acks_m, received, banner, clients.client_params(params, len(client_logs))),
        "outcome": clients.summed_outcome(client_logs, acks.compute_outcome(ev, manifest)),
        "clients": per_client,
        "clients_total": clients.clients_total(per_client),
    }
    data["outcome"]["status"] = evidence.outcome_status(data["outcome"], acks_m)
    decide_outcome(ev, manifest, data["outcome"], acks_m, run_dir, client_names)
    present = {n: (run_dir / n).is_file() for n in [*files["broker_logs"], *client_names, client_log] if n}
    data["evidence"] = evidence.inventory(ev, lines, manifest, present)
    data["tcp_phases"] = evidence.tcp_phases(ev)
    data["producer"] = evidence.producer(ev)
    data["liveness"] = liveness.compute_liveness(ev, manifest, bnd.get("publish_start"),
                                                 _one_series(run_dir, files.get("client_timeseries") or {}))
    summary = summarycsv.read_summary(run_dir)
    if summary is not None:
        data["summary_csv"] = summary
    data["cpu"] = cpu.compute_cpu(run_dir, manifest, ph)
    counts = {"benign_matches": matches["benign"], "real_matches": matches["real"]}
    data["refs"] = refs.collect_refs(ev, st, client_log, firsts, counts, run_dir)
    target = Path(out) if out is not None else run_dir / METRICS_FILE
    schemas.write_json(target, "metrics", data)
    return target
