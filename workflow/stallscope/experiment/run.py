"""Run one scenario trial and record everything about it in one run directory.

The broker under test is found by ``sut.kind`` (``suts.py``: the reference broker, an external one, the real
Embarcadero); its run goes through the lifecycle every SUT shares (``lifecycle.py``: start, supervise, stop,
interrupts), and this module writes what happened: the manifest, whatever happened.

Reads config/config.yaml and build.json; writes ``<out>/broker_<i>.log``, ``client.log`` and
``manifest.json``. Logs and the manifest are written whatever happens (a broker that crashes, a publisher
that hangs, ^C); the processes started are gone when this returns.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.experiment import interrupts, lifecycle, procs, suts
from stallscope.experiment.adapter import SutRun
from stallscope.experiment.config import load_config, resolve_scenario
from stallscope.experiment.outcome import Outcome
from stallscope.shared.manifest import new_manifest
from stallscope.shared.provenance import host_facts, slurm_facts, stallscope_facts, utc_now, utc_offset_s
from stallscope.shared.trialtag import TrialTag


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
        with interrupts.shielded():  # asks git (read once per process): a ^C must not end the run unrecorded
            stallscope_facts()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for stale in list(out.glob("broker_*.log")) + [out / n for n in ("client.log", "manifest.json",
                                                                         "manifest.interrupted.json",
                                                                         "throughput_benchmark_summary.csv",
                                                                         "client_timeseries.csv")]:
            stale.unlink(missing_ok=True)
        run = suts.for_kind(cfg["sut"]["kind"]).new_run(out, scn, cfg["sut"], build, cfg["run"], Path(config_path))
        res = lifecycle.execute(scn, run, cfg["run"])
        return _write_manifest(scn, trial, build, res, out, config_path, build_json, run)
    finally:
        if owned:
            interrupts.restore()


def _write_manifest(scn: dict[str, Any], trial: int, build: dict[str, Any], res: Outcome, out: Path,
                    config_path: Path, build_json: Path, run: SutRun) -> Path:
    """Write the run's manifest; an interrupted run's under another name, then KeyboardInterrupt."""
    if not (out / "client.log").exists():
        (out / "client.log").write_bytes(b"")
    if interrupts.requested() and not res.is_interrupted:  # arrived after the processes were stopped
        res.errors.insert(0, interrupts.describe())
    manifest = _manifest(scn, trial, build, res, out, config_path, build_json, run)
    if res.is_interrupted:
        # Keep the evidence, but not under the name that marks the run as done: a scheduler that cancelled
        # this job (and may have exited already) must see the output missing and run it again.
        schemas.write_json(out / "manifest.interrupted.json", "manifest", manifest)
        print(f"stallscope run: {res.errors[0]}; evidence kept in {out / 'manifest.interrupted.json'}",
              file=sys.stderr)
        raise KeyboardInterrupt
    return schemas.write_json(out / "manifest.json", "manifest", manifest)


def _manifest(scn: dict[str, Any], trial: int, build: dict[str, Any], res: Outcome, out: Path,
              config_path: Path, build_json: Path, run: SutRun) -> dict[str, Any]:
    """The manifest of one run made here: every provenance field of ``manifest.schema.json``."""
    brokers, client = res.brokers, res.client
    sut = dict(build["sut"])
    sut["binaries"] = dict(build["binaries"])
    client_started = client is not None and client.popen is not None
    rerun = shlex.join(["stallscope", "run", "--config", str(config_path), "--scenario", scn["name"],
                        "--trial", str(trial), "--build", str(build_json), "--out", str(out)])
    record = new_manifest(
        f"{scn['name']}/{TrialTag(trial)}", scn["name"], trial, "run",
        expected_cause=scn["expected_cause"],
        params=scn["params"],
        faults=scn["faults"],
        sut=sut,
        stallscope=stallscope_facts(),
        host=host_facts(),
        slurm=_slurm_record(res),
        started_utc=res.started_utc,
        ended_utc=utc_now(),
        utc_offset_s=utc_offset_s(),
        processes=[_process_record(p) for p in brokers + ([client] if client else [])],
        ports=res.ports,
        timeouts_hit=res.timeouts,
        # A broker that crashes mid-run is a finding about the broker (see processes), not a harness error.
        harness={"ok": client_started and not res.errors, "errors": res.errors},
        notes=res.notes,
        files={"client_log": "client.log" if client_started else None,
               "broker_logs": [f"broker_{b.broker}.log" for b in brokers]},
        clock_aligned=True,
        rerun_command=rerun,
    )
    if res.placement is not None:
        record["placement"] = res.placement.to_record()
    if res.outside_faults:
        record["outside_faults"] = res.outside_faults
    run.add_to_manifest(record, res, build, out)
    if build.get("stall_timers") in ("yes", "no"):
        record["stall_timers"] = build["stall_timers"]
    if res.cpu is not None:
        record["cpu"] = res.cpu
    if scn.get("network"):
        record["network"] = _network_record(scn["network"], res)
    elif scn.get("slurm_nodes"):
        record["network"] = _cluster_network_record(scn["slurm_nodes"], res)
    return record


def _slurm_record(res: Outcome) -> dict[str, Any]:
    """The job and node of this runner; on a multi-node run also each role's node and any step left."""
    facts = slurm_facts()
    place = res.placement
    if place is not None and place.kind == "slurm":
        facts["nodes"] = {r.name: str(r.host.node) for r in place.roles}
        facts["steps_left"] = list(res.steps_left)
    return facts


def _cluster_network_record(requested: dict[str, Any], res: Outcome) -> dict[str, Any]:
    """A multi-node run's network: the nodes' links as the cluster recorded them (unshaped unless it says).

    No qdisc counters: the shaping sits outside the job's nodes, where the runner cannot read it; the placement
    holds each node's link as the cluster recorded it."""
    place = res.placement
    status = "skipped" if res.skipped else "cluster"
    rates = [r.host.link.rate_mbit for r in place.brokers] if place is not None and status == "cluster" else []
    return {"requested": dict(requested), "status": status, "reason": res.skipped,
            "link_rate_sum_mbit": None if not rates or None in rates else float(sum(rates)),  # type: ignore[arg-type]
            "qdiscs": []}


def _network_record(requested: dict[str, Any], res: Outcome) -> dict[str, Any]:
    """What the bound needs about the links: requested block, status, link rates, qdiscs with counters."""
    place = res.placement
    if res.skipped:
        status = "skipped"
    elif place is not None and place.kind == "netns":
        status = "shaped"
    else:
        status = "loopback"  # namespaces: false asked for it; nothing was shaped
    return {"requested": dict(requested), "status": status, "reason": res.skipped,
            "link_rate_sum_mbit": place.link_rate_sum_mbit() if place and status == "shaped" else None,
            "qdiscs": res.qdiscs}


def _process_record(p: procs.Proc) -> dict[str, Any]:
    code, sig = p.exit_facts()
    rec = {"name": p.name, "role": p.role, "broker": p.broker, "argv": [str(a) for a in p.argv], "pid": p.pid,
           "exit_code": code, "signal": sig, "timed_out": p.timed_out, "log": p.log.name, "stopped_by": p.stop_signal}
    if p.peak_rss_kb is not None:
        rec["peak_rss_kb"] = p.peak_rss_kb
    return rec
