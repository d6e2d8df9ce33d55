"""The adapter for ``sut.kind: external``: a broker the config describes by argv templates (``commands.py``).

Its processes run where the scenario's placement puts them: on loopback, each on an emulated host (a network
namespace behind a shaped link, ``netns.py``) when the scenario has a ``network:`` block, or each on a SLURM node
of the run's job (``cluster.py``). Brokers get fresh ports (retried when one was taken before they bound it) and
tell they are ready by a file; the reference broker (``reference.py``) is run the same way, with templates of
its own.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.experiment import cluster, interrupts, lifecycle, netns, procs
from stallscope.experiment import placement as pl
from stallscope.experiment.adapter import SutAdapter, SutRun
from stallscope.experiment.buildstep import run_step
from stallscope.experiment.commands import (
    broker_fault_args,
    broker_net_args,
    build_templates,
    client_fault_args,
    client_net_args,
    external_templates,
    fill_argv,
    places_itself,
)
from stallscope.experiment.outcome import Outcome
from stallscope.shared.vocabulary import INIT_DELAY_SEC, LINGER_SEC

PORT_ATTEMPTS = 3


class TemplateRun(SutRun):
    """One run of a broker and publisher started from argv templates."""

    #: a publisher past its timeout is stopped at once, before the brokers
    timeout_stop_grace_s = 2.0

    def __init__(self, out: Path, scn: dict[str, Any], bin_dir: Path, broker_t: list[str], client_t: list[str],
                 run_cfg: dict[str, Any], place: pl.Placement | None = None, skip_reason: str | None = None) -> None:
        self.out, self.scn, self.bin_dir, self.run_cfg = Path(out), scn, bin_dir, run_cfg
        self.broker_t, self.client_t = broker_t, client_t
        self.placement = place or pl.loopback(scn["params"]["brokers"])
        self.skip_reason = skip_reason

    def enter(self, stack: contextlib.ExitStack, res: Outcome) -> bool:
        """Build the emulated hosts when the placement has them; refuse a run that cannot be placed here."""
        if self.placement.kind == "netns" and not _enter_hosts(stack, res, self.placement):
            return False
        if self.skip_reason:
            res.skipped = self.skip_reason
            res.errors.append(f"skipped: {self.skip_reason}")
            print(res.errors[-1], file=sys.stderr)
            return False
        return True

    def start_brokers(self, res: Outcome) -> None:
        brokers, res.ports, errors = _start_brokers(self.out, self.scn, self.bin_dir, self.broker_t,
                                                    self.run_cfg["ready_timeout_s"], res.notes, self.placement)
        res.brokers += brokers
        res.errors += errors

    def start_client(self, res: Outcome) -> None:
        p, place = self.scn["params"], self.placement
        brokers = ",".join(f"{place.broker(i).host.address}:{res.ports[f'broker_{i}']}" for i in range(p["brokers"]))
        argv = place.exec_prefix(place.client) + fill_argv(
            self.client_t, {**p, "bin_dir": self.bin_dir, "brokers": brokers, "bind_addr": place.client.host.address},
            {"{client_fault_args}": client_fault_args(self.scn["faults"]),
             "{client_net_args}": client_net_args(place)})
        res.client = procs.start(procs.Proc("client", "client", None, argv, self.out / "client.log"))

    def client_timeout_s(self) -> float:
        faults = self.scn["faults"]
        return float(self.scn["params"]["ack_timeout_s"] + faults.get(INIT_DELAY_SEC, 0)
                     + faults.get(LINGER_SEC, 0) + self.run_cfg["client_grace_s"])

    def progress_line(self, client: procs.Proc) -> str:
        return _last_progress(client.log) or "(no progress line yet)"

    def stop(self, res: Outcome) -> None:
        procs.stop_all(([res.client] if res.client else []) + res.brokers, self.run_cfg["stop_grace_s"])
        place = self.placement
        if place.kind == "slurm" and place.tag:
            # A step whose srun was killed (or whose node stopped answering) may outlive its srun: cancel by id.
            left = cluster.end_steps(place.tag)
            res.steps_left = sorted(set(res.steps_left) | set(left)) if left else res.steps_left
            if left:
                res.errors.append(f"job steps still listed after cancelling them: {', '.join(left)}")

    def finish(self, res: Outcome) -> None:
        ready = self.out / ".ready"
        for f in ready.glob("*"):
            f.unlink(missing_ok=True)
        if ready.exists():
            ready.rmdir()


def execute(out: Path, scn: dict[str, Any], bin_dir: Path, broker_t: list[str], client_t: list[str],
            run_cfg: dict[str, Any], place: pl.Placement | None = None, skip_reason: str | None = None) -> Outcome:
    """Run ``scn`` with these templates (the benchmarks run the reference publisher against other receivers)."""
    return lifecycle.execute(scn, TemplateRun(out, scn, bin_dir, broker_t, client_t, run_cfg, place, skip_reason),
                             run_cfg)


def placement_for(scn: dict[str, Any]) -> tuple[pl.Placement, str | None]:
    """Where the scenario's roles run; with the reason a multi-node scenario cannot be placed here (then
    nothing is started: a run on one host would not be the run the scenario describes)."""
    spec = scn.get("slurm_nodes")
    if not spec:
        return pl.for_scenario(scn, netns.own_tag()), None
    try:
        return cluster.placement(scn["params"]["brokers"], spec, os.environ.get("SLURM_JOB_ID")), None
    except cluster.ClusterError as exc:
        return pl.loopback(scn["params"]["brokers"]), f"cannot place on SLURM nodes: {exc}"


class ExternalAdapter(SutAdapter):
    """A broker built and started by the config's command templates."""

    kind = "external"
    dialect = "glog"
    #: what any broker started by templates gives; the rest depends on what its logs say
    evidence: tuple[str, ...] = ("broker_logs", "client_log", "cpu_samples", "process_exits", "placement")

    def templates(self, sut: dict[str, Any]) -> tuple[list[str], list[str]]:
        """The broker and client argv templates, checked."""
        return external_templates(sut)

    def build(self, sut: dict[str, Any], source: Path, out: Path, werror: bool) -> tuple[list[str], dict[str, Any]]:
        """Run ``sut.build_command`` (one or several) in the source; the binaries named by ``sut.binaries``."""
        bin_dir = out / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        commands = []
        for template in build_templates(sut):
            argv = fill_argv(template, {"build_dir": bin_dir.resolve(), "source": source}, {})
            run_step(argv, cwd=source)
            commands.append(shlex.join(argv))
        names = list(sut.get("binaries") or [])
        for n in names:
            if not (bin_dir / n).is_file():
                raise StallscopeError(bin_dir / n, None, "binary named in sut.binaries was not built")
        return names, {"compiler": None, "compiler_version": None, "flags": None, "command": " && ".join(commands)}

    def new_run(self, out: Path, scn: dict[str, Any], sut: dict[str, Any], build: dict[str, Any],
                run_cfg: dict[str, Any], config_path: Path) -> SutRun:
        broker_t, client_t = self.templates(sut)
        place, skip = placement_for(scn)
        if (place.kind != "loopback" or skip) and not places_itself(broker_t):
            raise StallscopeError(config_path, None, f"scenario {scn['name']!r} places brokers on other hosts, but "
                                  "sut.broker_command has neither {bind_addr} nor {broker_net_args}")
        return TemplateRun(out, scn, Path(build["bin_dir"]).resolve(), broker_t, client_t, run_cfg, place, skip)


def _last_progress(log: Path) -> str | None:
    """The publisher's latest ACK progress line, else its latest line (read from the end of its log)."""
    tail = procs.log_tail(log, 65536)
    if not tail:
        return None
    return next((ln for ln in reversed(tail) if "Waiting for acknowledgments" in ln), tail[-1])


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


EXTERNAL = ExternalAdapter()
