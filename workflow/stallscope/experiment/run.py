"""Run one scenario trial on loopback and record everything about it in one run directory.

Reads config/config.yaml and build.json; writes ``<out>/broker_<i>.log``, ``client.log`` and
``manifest.json``. Logs and the manifest are written whatever happens (a broker that crashes, a publisher
that hangs, ^C); the processes started are gone when this returns.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.experiment import interrupts, procs
from stallscope.experiment.commands import broker_fault_args, client_fault_args, render, sut_templates
from stallscope.experiment.config import load_config, resolve_scenario
from stallscope.experiment.provenance import host_facts, slurm_facts, stallscope_facts, utc_now, utc_offset_s

PORT_ATTEMPTS = 3


def _client_timeout_s(scn: dict[str, Any], run_cfg: dict[str, Any]) -> float:
    faults = scn["faults"]
    return float(
        scn["params"]["ack_timeout_s"]
        + faults.get("init_delay_sec", 0)
        + faults.get("linger_sec", 0)
        + run_cfg["client_grace_s"]
    )


def _last_progress(log: Path) -> str | None:
    """The publisher's latest ACK progress line, else its latest line (read from the end of its log)."""
    try:
        with open(log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 65536))
            tail = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(tail):
        if "Waiting for acknowledgments" in line:
            return line.strip()
    last = next((ln.strip() for ln in reversed(tail) if ln.strip()), None)
    return last


def _start_brokers(out: Path, scn: dict[str, Any], bin_dir: Path, template: list[str], ready_timeout: float,
                   notes: list[str]) -> tuple[list[procs.Proc], dict[str, int], list[str]]:
    """Start every broker on fresh ports and wait for their ready files; retry if a port was taken."""
    n = scn["params"]["brokers"]
    errors: list[str] = []
    for attempt in range(1, PORT_ATTEMPTS + 1):
        ready_dir = out / ".ready"
        ready_dir.mkdir(parents=True, exist_ok=True)
        ports = procs.free_ports(n)
        brokers = []
        for i, port in enumerate(ports):
            ready = ready_dir / f"broker_{i}"
            ready.unlink(missing_ok=True)
            values = {"bin_dir": bin_dir, "broker_id": i, "port": port, "ready_file": ready,
                      "stall_threshold_ms": scn["params"]["stall_threshold_ms"]}
            argv = render(template, values, {"{broker_fault_args}": broker_fault_args(scn["faults"], i)})
            brokers.append(procs.start(procs.Proc(f"broker_{i}", "broker", i, argv, out / f"broker_{i}.log")))
        errors = [p.start_error for p in brokers if p.start_error]
        if not errors:
            errors = procs.wait_for_files([ready_dir / f"broker_{i}" for i in range(n)], brokers, ready_timeout,
                                          give_up=interrupts.requested)
        if interrupts.requested():
            return brokers, {f"broker_{i}": p for i, p in enumerate(ports)}, []
        if not errors:
            return brokers, {f"broker_{i}": p for i, p in enumerate(ports)}, []
        in_use = any("in use" in (out / f"broker_{i}.log").read_text(errors="replace") for i in range(n))
        procs.stop_all(brokers, 2.0)
        if not in_use or attempt == PORT_ATTEMPTS:
            return brokers, {f"broker_{i}": p for i, p in enumerate(ports)}, errors
        notes.append(f"a port was taken before the brokers bound it; retried with new ports (attempt {attempt + 1})")
        print(notes[-1], file=sys.stderr)
    raise AssertionError("unreachable")


def _supervise_client(client: procs.Proc, brokers: list[procs.Proc], timeout_s: float, interval_s: float) -> list[str]:
    """Wait for the publisher (bounded), relaying its progress; return the timeouts that were hit."""
    assert client.popen is not None
    start = time.monotonic()
    next_report = start + interval_s
    dead_reported: set[str] = set()
    while client.popen.poll() is None and not interrupts.requested():
        now = time.monotonic()
        if now - start > timeout_s:
            client.timed_out = True
            procs.stop(client, 2.0)
            return [f"client: no exit within {timeout_s:g} s"]
        for b in brokers:
            if b.name not in dead_reported and not b.is_running():
                dead_reported.add(b.name)
                print(f"[{now - start:6.1f}s] {b.name} exited early (status {b.popen.returncode})", file=sys.stderr)
        if now >= next_report:
            line = _last_progress(client.log) or "(no progress line yet)"
            print(f"[{now - start:6.1f}s] {line}", file=sys.stderr, flush=True)
            next_report = now + interval_s
        time.sleep(0.1)
    return []


def _process_record(p: procs.Proc) -> dict[str, Any]:
    code, sig = p.exit_facts()
    return {"name": p.name, "role": p.role, "broker": p.broker, "argv": [str(a) for a in p.argv], "pid": p.pid,
            "exit_code": code, "signal": sig, "timed_out": p.timed_out, "log": p.log.name}


@dataclass
class Outcome:
    """What happened to the processes of one run."""

    brokers: list[procs.Proc] = field(default_factory=list)
    client: procs.Proc | None = None
    ports: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    started_utc: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def is_interrupted(self) -> bool:
        return any(e.startswith("interrupted") for e in self.errors)


def execute(out: Path, scn: dict[str, Any], bin_dir: Path, broker_t: list[str], client_t: list[str],
            run_cfg: dict[str, Any]) -> Outcome:
    """Start the brokers, run the publisher to its end (bounded), stop everything; never leave a process.

    Signals (SIGTERM, SIGINT, SIGHUP, any number of them) stop the run the same way and are recorded as an
    interruption: the handlers only take note (see ``interrupts``), every step below polls, and the stop in
    ``finally`` runs to its end whatever arrives meanwhile.
    """
    procs.set_parent_death_signal(signal.SIGTERM)
    owned = interrupts.install()
    res = Outcome(started_utc=utc_now())
    try:
        if not interrupts.requested():
            res.brokers, res.ports, res.errors = _start_brokers(out, scn, bin_dir, broker_t,
                                                                  run_cfg["ready_timeout_s"], res.notes)
        res.timeouts += [e for e in res.errors if "not ready" in e]
        if not res.errors and not interrupts.requested():
            p = scn["params"]
            brokers = ",".join(f"127.0.0.1:{res.ports[f'broker_{i}']}" for i in range(p["brokers"]))
            argv = render(client_t, {**p, "bin_dir": bin_dir, "brokers": brokers},
                          {"{client_fault_args}": client_fault_args(scn["faults"])})
            res.client = procs.start(procs.Proc("client", "client", None, argv, out / "client.log"))
            if res.client.start_error:
                res.errors.append(res.client.start_error)
            else:
                res.timeouts += _supervise_client(res.client, res.brokers, _client_timeout_s(scn, run_cfg),
                                                  run_cfg["progress_interval_s"])
    finally:
        procs.stop_all(([res.client] if res.client else []) + res.brokers, run_cfg["stop_grace_s"])
        if interrupts.requested():
            res.errors.insert(0, interrupts.describe())
        if owned:
            interrupts.restore()
        res.errors += [t for t in res.timeouts if t not in res.errors]
        ready = out / ".ready"
        for f in ready.glob("*"):
            f.unlink(missing_ok=True)
        if ready.exists():
            ready.rmdir()
    return res


def run_scenario(config_path: Path, scenario: str, trial: int, build_json: Path, out_dir: Path) -> Path:
    """Run ``scenario`` trial ``trial`` with the binaries of ``build_json``; write the run directory.

    Reads: the config, build.json. Writes: ``out_dir/{broker_<i>.log, client.log, manifest.json}``.
    Returns the manifest path. A harness failure (a broker never ready, a publisher that had to be killed)
    is recorded in the manifest, not raised: the run directory is the evidence. An interruption writes
    ``manifest.interrupted.json`` instead (so the run counts as not done) and exits with status 130.
    """
    owned = interrupts.install()  # the CLI installs them first; a caller in Python gets them here
    try:
        cfg = load_config(config_path)
        scn = resolve_scenario(cfg, scenario)
        build = schemas.read_json(build_json, "build")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for stale in list(out.glob("broker_*.log")) + [out / n for n in ("client.log", "manifest.json",
                                                                         "manifest.interrupted.json")]:
            stale.unlink(missing_ok=True)
        broker_t, client_t = sut_templates(cfg["sut"])
        res = execute(out, scn, Path(build["bin_dir"]).resolve(), broker_t, client_t, cfg["run"])
        if not (out / "client.log").exists():
            (out / "client.log").write_bytes(b"")
        if interrupts.requested() and not res.is_interrupted:  # arrived after the processes were stopped
            res.errors.insert(0, interrupts.describe())
        manifest = _manifest(scn, trial, build, res, out, config_path, build_json)
        if res.is_interrupted:
            # Keep the evidence, but not under the name that marks the run as done: a scheduler that cancelled
            # this job (and may have exited already) must see the output missing and run it again.
            schemas.write_json(out / "manifest.interrupted.json", "manifest", manifest)
            print(f"stallscope run: {res.errors[0]}; evidence kept in {out / 'manifest.interrupted.json'}",
                  file=sys.stderr)
            raise KeyboardInterrupt
        return schemas.write_json(out / "manifest.json", "manifest", manifest)
    finally:
        if owned:
            interrupts.restore()


def _manifest(scn: dict[str, Any], trial: int, build: dict[str, Any], res: Outcome, out: Path,
              config_path: Path, build_json: Path) -> dict[str, Any]:
    """Every provenance field of DESIGN §3 for one run made here."""
    brokers, client = res.brokers, res.client
    sut = dict(build["sut"])
    sut["binaries"] = dict(build["binaries"])
    client_started = client is not None and client.popen is not None
    rerun = shlex.join(["stallscope", "run", "--config", str(config_path), "--scenario", scn["name"],
                        "--trial", str(trial), "--build", str(build_json), "--out", str(out)])
    return {
        "schema": "manifest/1",
        "run_id": f"{scn['name']}/t{trial}",
        "scenario": scn["name"],
        "trial": trial,
        "origin": "run",
        "expected_cause": scn["expected_cause"],
        "params": {k: scn["params"].get(k) for k in (
            "brokers", "threads_per_broker", "message_size", "total_bytes", "message_count", "order",
            "ack_level", "ack_timeout_s", "batch_bytes", "stall_threshold_ms")},
        "faults": scn["faults"],
        "sut": sut,
        "stallscope": stallscope_facts(),
        "host": host_facts(),
        "slurm": slurm_facts(),
        "started_utc": res.started_utc,
        "ended_utc": utc_now(),
        "utc_offset_s": utc_offset_s(),
        "processes": [_process_record(p) for p in brokers + ([client] if client else [])],
        "ports": res.ports,
        "timeouts_hit": res.timeouts,
        # A broker that crashes mid-run is a finding about the broker (see processes), not a harness error.
        "harness": {"ok": client_started and not res.errors, "errors": res.errors},
        "notes": res.notes,
        "files": {"client_log": "client.log" if client_started else None,
                  "broker_logs": [f"broker_{b.broker}.log" for b in brokers]},
        "clock_aligned": True,
        "rerun_command": rerun,
    }

