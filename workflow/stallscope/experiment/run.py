"""Run one scenario trial and record everything about it in one run directory.

Processes run where the scenario's placement puts them: on loopback, or each on an emulated host (a network
namespace behind a shaped link, ``experiment/netns.py``) when the scenario has a ``network:`` block.

Reads config/config.yaml and build.json; writes ``<out>/broker_<i>.log``, ``client.log`` and
``manifest.json``. Logs and the manifest are written whatever happens (a broker that crashes, a publisher
that hangs, ^C); the processes started are gone when this returns.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment import cluster, cpu, hog, interrupts, netns, outside, procs
from stallscope.experiment import placement as pl
from stallscope.experiment.commands import (
    broker_fault_args,
    broker_net_args,
    client_fault_args,
    client_net_args,
    fill_argv,
    places_itself,
    sut_templates,
)
from stallscope.experiment.config import load_config, resolve_scenario
from stallscope.shared.manifest import new_manifest
from stallscope.shared.provenance import host_facts, slurm_facts, stallscope_facts, utc_now, utc_offset_s
from stallscope.shared.trialtag import TrialTag

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
                   notes: list[str], place: pl.Placement) -> tuple[list[procs.Proc], dict[str, int], list[str]]:
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
            role = place.broker(i)
            values = {"bin_dir": bin_dir, "broker_id": i, "port": port, "ready_file": ready,
                      "stall_threshold_ms": scn["params"]["stall_threshold_ms"], "bind_addr": role.host.address,
                      "ack_host": place.client.host.address}
            argv = place.exec_prefix(role) + fill_argv(template, values, {
                "{broker_fault_args}": broker_fault_args(scn["faults"], i),
                "{broker_net_args}": broker_net_args(place, i)})
            brokers.append(procs.start(procs.Proc(f"broker_{i}", "broker", i, argv, out / f"broker_{i}.log")))
        errors = [p.start_error for p in brokers if p.start_error]
        if not errors:
            errors = procs.wait_for_files([ready_dir / f"broker_{i}" for i in range(n)], brokers, ready_timeout,
                                          give_up=interrupts.requested)
        if interrupts.requested():
            return brokers, {f"broker_{i}": p for i, p in enumerate(ports)}, []
        if not errors:
            return brokers, _announced_ports(ready_dir, ports, place), []
        in_use = any("in use" in (out / f"broker_{i}.log").read_text(errors="replace") for i in range(n))
        procs.stop_all(brokers, 2.0)
        if not in_use or attempt == PORT_ATTEMPTS:
            return brokers, {f"broker_{i}": p for i, p in enumerate(ports)}, errors
        notes.append(f"a port was taken before the brokers bound it; retried with new ports (attempt {attempt + 1})")
        print(notes[-1], file=sys.stderr)
    raise AssertionError("unreachable")


def _announced_ports(ready_dir: Path, ports: list[int], place: pl.Placement) -> dict[str, int]:
    """Each broker's port; on a cluster its ready file says where it listens, and the placement takes that
    address (the publisher on another node connects to what the broker announced, not to what was planned)."""
    out = {}
    for i, port in enumerate(ports):
        out[f"broker_{i}"] = port
        if place.kind != "slurm":
            continue
        addr, announced = cluster.read_ready(ready_dir / f"broker_{i}")
        if announced is not None:
            out[f"broker_{i}"] = announced
        role = place.broker(i)
        if addr and addr != role.host.address:
            place.roles[place.roles.index(role)] = pl.Role(role.name, role.role, role.broker,
                                                            replace(role.host, address=addr))
    return out


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
    rec = {"name": p.name, "role": p.role, "broker": p.broker, "argv": [str(a) for a in p.argv], "pid": p.pid,
           "exit_code": code, "signal": sig, "timed_out": p.timed_out, "log": p.log.name, "stopped_by": p.stop_signal}
    if p.peak_rss_kb is not None:
        rec["peak_rss_kb"] = p.peak_rss_kb
    return rec


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
    #: Where each role ran; loopback unless the scenario asked for emulated hosts.
    placement: pl.Placement | None = None
    #: Why the run was not made (emulated hosts unavailable); nothing was started then.
    skipped: str | None = None
    #: The shaped links' qdiscs with their counters at the end of the run.
    qdiscs: list[dict[str, Any]] = field(default_factory=list)
    #: Multi-node runs: job steps still listed after the runner cancelled them (should stay empty).
    steps_left: list[str] = field(default_factory=list)
    #: Faults applied from outside (experiment/outside.py): the injector while it runs, then its records.
    injector: outside.Injector | None = None
    outside_faults: list[dict[str, Any]] = field(default_factory=list)
    #: What a SUT adapter adds to the manifest under its kind (the Embarcadero runner: env, shm, memory).
    adapter_record: dict[str, Any] | None = None
    #: CPU samples of the run's processes (cpu.csv) while they run; its totals once stopped.
    sampler: cpu.CpuSampler | None = None
    cpu: dict[str, Any] | None = None
    #: The CPU hog of a ``cpu_hog`` scenario, while it spins.
    hog: hog.CpuHog | None = None

    @property
    def is_interrupted(self) -> bool:
        return any(e.startswith("interrupted") for e in self.errors)


def _run_processes(res: Outcome, out: Path, scn: dict[str, Any], bin_dir: Path, broker_t: list[str],
                   client_t: list[str], run_cfg: dict[str, Any], place: pl.Placement) -> None:
    """Start the brokers, then the publisher, and supervise it to its end (bounded)."""
    res.brokers, res.ports, res.errors = _start_brokers(out, scn, bin_dir, broker_t, run_cfg["ready_timeout_s"],
                                                          res.notes, place)
    res.timeouts += [e for e in res.errors if "not ready" in e]
    if res.errors or interrupts.requested():
        return
    if place.kind == "slurm":
        res.cpu = {"status": "not_run", "reason": "the processes run on other nodes, where this runner cannot "
                   "sample them"}
    else:
        res.sampler = cpu.CpuSampler(out / "cpu.csv").start()
        for b in res.brokers:
            res.sampler.watch(b.name, b.pid)
    p = scn["params"]
    brokers = ",".join(f"{place.broker(i).host.address}:{res.ports[f'broker_{i}']}" for i in range(p["brokers"]))
    argv = place.exec_prefix(place.client) + fill_argv(
        client_t, {**p, "bin_dir": bin_dir, "brokers": brokers, "bind_addr": place.client.host.address},
        {"{client_fault_args}": client_fault_args(scn["faults"]), "{client_net_args}": client_net_args(place)})
    if scn["faults"].get("cpu_hog"):  # from outside the SUT: spinning before the publisher starts, until it ends
        res.hog = hog.CpuHog(out / "client.log").start(mark=False)
        if res.sampler is not None:
            for k, pid in enumerate(res.hog.pids):
                res.sampler.watch(f"cpu_hog_{k}", pid)
    res.client = procs.start(procs.Proc("client", "client", None, argv, out / "client.log"))
    if res.hog is not None:
        res.hog.mark_start()  # the publisher's log exists now (its own first line may come after this one)
    if res.client.start_error:
        res.errors.append(res.client.start_error)
    else:
        if res.sampler is not None:
            res.sampler.watch("client", res.client.pid)
        faults = outside.planned(scn["faults"])
        if faults:
            res.injector = outside.Injector(faults, res.brokers, res.client, _client_timeout_s(scn, run_cfg)).start()
        res.timeouts += _supervise_client(res.client, res.brokers, _client_timeout_s(scn, run_cfg),
                                          run_cfg["progress_interval_s"])
    if res.hog is not None:
        res.hog.stop()


def _stop_processes(res: Outcome, run_cfg: dict[str, Any]) -> None:
    if res.injector is not None:  # first: a broker it stopped is continued, so SIGTERM reaches it
        res.outside_faults, res.injector = res.injector.stop(), None
    if res.hog is not None:
        res.hog.stop()
    if res.sampler is not None:
        res.cpu = {"status": "sampled", "reason": None} | res.sampler.stop() | {"node": host_facts().get("hostname")}
        res.sampler = None
    procs.stop_all(([res.client] if res.client else []) + res.brokers, run_cfg["stop_grace_s"])
    place = res.placement
    if place is not None and place.kind == "slurm" and place.tag:
        # A step whose srun was killed (or whose node stopped answering) may outlive its srun: cancel by id.
        left = cluster.end_steps(place.tag)
        res.steps_left = sorted(set(res.steps_left) | set(left)) if left else res.steps_left
        if left:
            res.errors.append(f"job steps still listed after cancelling them: {', '.join(left)}")


def _enter_hosts(stack: contextlib.ExitStack, res: Outcome, place: pl.Placement) -> bool:
    """Build the emulated hosts (after sweeping stale ones of ours); False, with the reason, when unavailable.

    The topology is a context on ``stack``: it is torn down by name on every way out of the run.
    """
    reason = netns.unavailable_reason()
    if reason is None:
        swept = netns.sweep_stale()
        if swept:
            res.notes.append(f"removed stale namespaces of runs that are gone: {', '.join(swept)}")
        try:
            stack.enter_context(netns.topology(place))
        except netns.NetnsError as exc:
            reason = f"emulated hosts could not be built: {exc}"
    if reason is not None:
        res.skipped = f"{reason}; not run on loopback, where its links would not be shaped"
        res.errors.append(f"skipped: {res.skipped}")
        print(f"{res.errors[-1]}", file=sys.stderr)
        return False
    stack.callback(lambda: res.qdiscs.extend(netns.qdisc_stats(place)))
    return True


def execute(out: Path, scn: dict[str, Any], bin_dir: Path, broker_t: list[str], client_t: list[str],
            run_cfg: dict[str, Any], place: pl.Placement | None = None, skip_reason: str | None = None) -> Outcome:
    """Start the brokers, run the publisher to its end (bounded), stop everything; never leave a process.

    With an emulated ``place`` the namespaces and links are built first and removed last, processes stopped
    before them. Signals (SIGTERM, SIGINT, SIGHUP, any number of them) stop the run the same way and are recorded
    as an interruption: the handlers only take note (see ``interrupts``), every step below polls, and the stop in
    ``finally`` runs to its end whatever arrives meanwhile.
    """
    procs.set_parent_death_signal(signal.SIGTERM)
    owned = interrupts.install()
    place = place or pl.loopback(scn["params"]["brokers"])
    res = Outcome(started_utc=utc_now(), placement=place)
    try:
        with contextlib.ExitStack() as stack:
            if interrupts.requested() or (place.kind == "netns" and not _enter_hosts(stack, res, place)):
                return res
            if skip_reason:
                res.skipped = skip_reason
                res.errors.append(f"skipped: {skip_reason}")
                print(res.errors[-1], file=sys.stderr)
                return res
            stack.callback(_stop_processes, res, run_cfg)  # runs before the hosts are torn down
            _run_processes(res, out, scn, bin_dir, broker_t, client_t, run_cfg, place)
    finally:
        _stop_processes(res, run_cfg)
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
        with interrupts.shielded():  # asks git (read once per process): a ^C must not end the run unrecorded
            stallscope_facts()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for stale in list(out.glob("broker_*.log")) + [out / n for n in ("client.log", "manifest.json",
                                                                         "manifest.interrupted.json",
                                                                         "throughput_benchmark_summary.csv",
                                                                         "client_timeseries.csv")]:
            stale.unlink(missing_ok=True)
        if cfg["sut"]["kind"] == "embarcadero":
            from stallscope.experiment.embarcadero import ADAPTER

            res = ADAPTER.execute(out, scn, Path(build["bin_dir"]).resolve(), Path(build["sut"]["source"]), cfg["run"])
            return _write_manifest(scn, trial, build, res, out, config_path, build_json)
        broker_t, client_t = sut_templates(cfg["sut"])
        place, skip = _placement(scn)
        if (place.kind != "loopback" or skip) and not places_itself(broker_t):
            raise StallscopeError(config_path, None, f"scenario {scenario!r} places brokers on other hosts, but "
                                  "sut.broker_command has neither {bind_addr} nor {broker_net_args}")
        res = execute(out, scn, Path(build["bin_dir"]).resolve(), broker_t, client_t, cfg["run"], place, skip)
        return _write_manifest(scn, trial, build, res, out, config_path, build_json)
    finally:
        if owned:
            interrupts.restore()


def _write_manifest(scn: dict[str, Any], trial: int, build: dict[str, Any], res: Outcome, out: Path,
                    config_path: Path, build_json: Path) -> Path:
    """Write the run's manifest; an interrupted run's under another name, then KeyboardInterrupt."""
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


def _placement(scn: dict[str, Any]) -> tuple[pl.Placement, str | None]:
    """Where the scenario's roles run; with the reason a multi-node scenario cannot be placed here (then
    nothing is started: a run on one host would not be the run the scenario describes)."""
    spec = scn.get("slurm_nodes")
    if not spec:
        return pl.for_scenario(scn, netns.own_tag()), None
    try:
        return cluster.placement(scn["params"]["brokers"], spec, os.environ.get("SLURM_JOB_ID")), None
    except cluster.ClusterError as exc:
        return pl.loopback(scn["params"]["brokers"]), f"cannot place on SLURM nodes: {exc}"


def _manifest(scn: dict[str, Any], trial: int, build: dict[str, Any], res: Outcome, out: Path,
              config_path: Path, build_json: Path) -> dict[str, Any]:
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
    if res.adapter_record is not None:
        record["embarcadero"] = dict(res.adapter_record)
        record["embarcadero"]["build"] = {"wall_s": build.get("build_wall_s"), "jobs": build.get("jobs")}
        if (out / "client_timeseries.csv").is_file() and client_started:
            record["files"]["client_timeseries"] = {"client.log": "client_timeseries.csv"}
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

