"""Run one scenario on the real Embarcadero: four ``embarlet``s and one ``throughput_test`` on loopback.

The adapter for ``sut.kind: embarcadero`` (DESIGN section 11, ``adapter.py``): :data:`EMBARCADERO` builds
(``embarcadero_build``) and makes each run an :class:`EmbarcaderoRun`, which starts the brokers, starts the client
and stops everything; the lifecycle around them (CPU samples, the CPU hog, faults from outside, supervision,
interrupts) is every SUT's (``lifecycle.py``). What the broker needs on a machine without CXL memory or
hugepages, measured (``../shared/sut/README.md``):

- a POSIX shm object stands in for CXL memory (64 GiB, sparse: never prefaulted or zeroed); its name is unique
  per run and it is removed whatever ends the run;
- ``HOME`` and the replica directories the broker insists on live inside the run directory; every process runs
  there, so the client's summary CSV lands beside the logs;
- brokers start one after the other, each once the previous one wrote ``/tmp/embarlet_<pid>_ready`` (removed
  once seen); the ports are fixed (data 1214 + id, gRPC 12140), so they are checked free first and two runs never
  overlap (the ``embarcadero_ports`` resource of ``run_scenario``);
- every process is stopped by PID and process group, SIGTERM then SIGKILL after ``run.stop_grace_s``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope.experiment import embarcadero_build, interrupts, lifecycle, procs
from stallscope.experiment import embarcadero_host as host
from stallscope.experiment import placement as pl
from stallscope.experiment.adapter import SutAdapter, SutRun
from stallscope.experiment.outcome import Outcome

SUMMARY_CSV = "throughput_benchmark_summary.csv"
#: the client's 100 ms throughput series (per broker sent and ACKed GiB/s), read by analysis/timeseries.py
TIMESERIES_CSV = "client_timeseries.csv"
#: What each scenario gets unless sut.embarcadero or the scenario's embarcadero block says otherwise.
DEFAULTS: dict[str, Any] = {"test": 1, "segment_size_bytes": 1 << 30, "client_buffer_mb": 64,
                            "profile_network_path": True, "client_log_level": 0, "broker_log_level": 1}
#: Client startup allowance on top of the ACK timeout: Init waits up to 60 s for the cluster (publisher.cc).
CLIENT_INIT_ALLOWANCE_S = 60
#: Environment the user's shell may carry that would change what the broker does: never inherited.
_INHERITED_OUT = re.compile(r"^(EMBARCADERO_|EMBAR_)")


@dataclass
class EmbarcaderoRecord:
    """What this adapter adds to one run's record: its environment, shm object, memory and cleanup."""

    settings: dict[str, Any]
    shm_name: str
    env: dict[str, str] = field(default_factory=dict)
    shm_bytes_at_end: int | None = None
    peak_rss_kb: dict[str, int] = field(default_factory=dict)
    ready_files: list[str] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    summary_csv: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {"settings": dict(self.settings), "env": dict(self.env), "shm_name": self.shm_name,
                "shm_bytes_at_end": self.shm_bytes_at_end, "peak_rss_kb": dict(self.peak_rss_kb),
                "left_behind": list(self.left_behind), "summary_csv": self.summary_csv}


def settings_for(scn: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario's Embarcadero settings: :data:`DEFAULTS` under sut.embarcadero under the scenario's block."""
    return {**DEFAULTS, **(scn.get("embarcadero") or {})}


def environment(run_dir: Path, settings: Mapping[str, Any], params: Mapping[str, Any], shm_name: str,
                base: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(the full environment every process gets, the part this adapter sets) for one run in ``run_dir``."""
    brokers = int(params["brokers"])
    set_here = {
        "HOME": str(run_dir / "home"),
        "EMBARCADERO_CXL_SHM_NAME": "/" + shm_name,
        "EMBARCADERO_CXL_MAP_POPULATE": "0",
        "EMBARCADERO_CXL_ZERO_MODE": "none",
        "EMBARCADERO_SEGMENT_SIZE": str(int(settings["segment_size_bytes"])),
        "EMBAR_USE_HUGETLB": "0",
        "EMBARCADERO_CLIENT_USE_HUGEPAGES": "0",
        "EMBARCADERO_HEAD_ADDR": "127.0.0.1",
        "EMBARCADERO_NUM_BROKERS": str(brokers),
        "EMBARCADERO_REPLICATION_FACTOR": "0",
        "EMBARCADERO_RUNTIME_MODE": "throughput",
        "EMBARCADERO_REPLICA_DISK_DIRS": f"{run_dir / 'replica0'},{run_dir / 'replica1'}",
        "EMBARCADERO_CLIENT_PUB_BUFFER_MB": str(int(settings["client_buffer_mb"])),
        "EMBARCADERO_CLIENT_SUB_BUFFER_MB": str(int(settings["client_buffer_mb"])),
        "EMBARCADERO_ACK_TIMEOUT_SEC": str(int(params["ack_timeout_s"])),
        "EMBARCADERO_THROUGHPUT_TIMESERIES_FILE": str(run_dir / TIMESERIES_CSV),
    }
    if settings.get("profile_network_path"):
        set_here["EMBAR_PROFILE_NETWORK_PATH"] = "1"
    inherited = {k: v for k, v in (os.environ if base is None else base).items() if not _INHERITED_OUT.match(k)}
    return {**inherited, **set_here}, set_here


def broker_argv(bin_dir: Path, source: Path, broker_id: int, settings: Mapping[str, Any]) -> list[str]:
    """One embarlet: broker 0 is the head (and runs the gRPC service); the others register with it."""
    argv = [str(bin_dir / "embarlet"), "--config", str(source / "config" / "embarcadero.yaml")]
    if broker_id == 0:
        argv += ["--head", "--EMBARCADERO"]
    return argv + ["-l", str(int(settings["broker_log_level"]))]


def client_argv(bin_dir: Path, source: Path, params: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """throughput_test for the scenario: its test number, sizes, order and ACK level (1 KiB messages, ...)."""
    return [
        str(bin_dir / "throughput_test"), "--config", str(source / "config" / "client.yaml"),
        "-n", str(params["threads_per_broker"]), "-m", str(params["message_size"]),
        "-s", str(params["total_bytes"]), "-t", str(int(settings["test"])), "-o", str(params["order"]),
        "-a", str(params["ack_level"]), "--sequencer", "EMBARCADERO", "-l", str(int(settings["client_log_level"])),
        "-r", "0", "--head_addr", "127.0.0.1",
    ]


class _Memory:
    """Peak memory per process: VmHWM sampled while it runs, the kernel's ru_maxrss when we reap it."""

    def __init__(self, rec: EmbarcaderoRecord) -> None:
        self.rec = rec

    def sample(self, ps: list[procs.Proc]) -> None:
        for p in ps:
            kb = host.peak_rss_kb(p.pid) if p.is_running() else None
            if kb is not None:
                self.rec.peak_rss_kb[p.name] = max(kb, self.rec.peak_rss_kb.get(p.name, 0))

    def reap(self, p: procs.Proc) -> bool:
        """Reap ``p`` if it exited (recording its exact peak); True once it has ended."""
        popen = p.popen
        if popen is None or popen.returncode is not None:
            return True
        try:
            pid, status, ru = os.wait4(popen.pid, os.WNOHANG)
        except ChildProcessError:
            return popen.poll() is not None
        if pid == 0:
            return False
        popen.returncode = os.waitstatus_to_exitcode(status)
        self.rec.peak_rss_kb[p.name] = max(int(ru.ru_maxrss), self.rec.peak_rss_kb.get(p.name, 0))
        return True


def _wait_ready(p: procs.Proc, timeout_s: float, mem: _Memory) -> str | None:
    """Wait for ``p``'s ready file (bounded, interruptible); remove it once seen. An error line, else None."""
    path = host.ready_file(p.pid)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not interrupts.requested():
        if path.exists():
            path.unlink(missing_ok=True)
            return None
        if p.popen is not None and p.popen.poll() is not None:
            return f"{p.name} exited with status {p.popen.returncode} before it was ready"
        mem.sample([p])
        time.sleep(0.05)
    if interrupts.requested():
        return None
    return f"{p.name} not ready after {timeout_s:g} s (no {path})"


def _last_line(log: Path) -> str | None:
    lines = procs.log_tail(log, 8192)
    return lines[-1][:300] if lines else None


def left_behind(rec: EmbarcaderoRecord, ps: list[procs.Proc]) -> list[str]:
    """Anything of this run still there: a running process, the shm object, a ready file (should be empty)."""
    out = [f"process {p.name} (pid {p.pid})" for p in ps if p.is_running()]
    if (host.SHM_DIR / rec.shm_name).exists():
        out.append(f"shm object {host.SHM_DIR / rec.shm_name}")
    out += [f"ready file {f}" for f in rec.ready_files if Path(f).exists()]
    return out


def _tidy_run_dir(out: Path) -> None:
    """Drop the private HOME and replica directories when they stayed empty (replication factor 0)."""
    for name in ("replica0", "replica1", "home"):
        d = out / name
        if d.is_dir() and not any(d.rglob("*")):
            shutil.rmtree(d, ignore_errors=True)


def client_timeout_s(scn: Mapping[str, Any], run_cfg: Mapping[str, Any]) -> float:
    """How long the client may run: its ACK timeout, its own init waits, and the harness grace."""
    return float(scn["params"]["ack_timeout_s"] + CLIENT_INIT_ALLOWANCE_S + run_cfg["client_grace_s"])


@contextlib.contextmanager
def _shm_guard(rec: EmbarcaderoRecord) -> Iterator[None]:
    """Whatever leaves the block, the shm object goes (idempotent beside ``EmbarcaderoRun.stop``)."""
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            (host.SHM_DIR / rec.shm_name).unlink()


class EmbarcaderoRun(SutRun):
    """One run of four ``embarlet``s and one ``throughput_test`` on loopback: never leaves a process, shm object
    or ready file; what it adds to the manifest is ``res.adapter_record`` (:class:`EmbarcaderoRecord`)."""

    def __init__(self, out: Path, scn: dict[str, Any], bin_dir: Path, source: Path, run_cfg: dict[str, Any]) -> None:
        self.out = Path(out).absolute()  # the processes run inside it: every path they get must not depend on the cwd
        self.scn, self.bin_dir, self.source, self.run_cfg = scn, bin_dir, source, run_cfg
        self.placement = pl.loopback(int(scn["params"]["brokers"]))
        self.rec = EmbarcaderoRecord(settings=settings_for(scn), shm_name=host.new_shm_name())
        self.mem = _Memory(self.rec)
        self.env: dict[str, str] = {}

    def enter(self, stack: contextlib.ExitStack, res: Outcome) -> bool:
        """Hold the fixed ports' lock and see them free, sweep shm objects of gone runners, make the private
        HOME and replica directories; the shm object goes on every way out."""
        n = int(self.scn["params"]["brokers"])
        res.ports = host.ports(n)
        busy = stack.enter_context(host.ports_lock(host.PORTS_LOCK_WAIT_S))
        stack.enter_context(_shm_guard(self.rec))
        if busy:
            res.errors.append(busy)
            print(f"stallscope run: {busy}", file=sys.stderr)
            return False
        swept = host.sweep_stale_shm()
        if swept:
            res.notes.append(f"removed shm objects of runners that are gone: {', '.join(swept)}")
        taken = host.check_ports(n)
        if taken:
            res.errors += taken
            for line in taken:
                print(f"stallscope run: {line}", file=sys.stderr)
            return False
        for d in ("home", "replica0", "replica1"):
            (self.out / d).mkdir(parents=True, exist_ok=True)
        self.env, self.rec.env = environment(self.out, self.rec.settings, self.scn["params"], self.rec.shm_name)
        return True

    def start_brokers(self, res: Outcome) -> None:
        """Start broker 0 (the head), then each next one once the previous is ready."""
        for i in range(int(self.scn["params"]["brokers"])):
            argv = broker_argv(self.bin_dir, self.source, i, self.rec.settings)
            p = procs.start(procs.Proc(f"broker_{i}", "broker", i, argv, self.out / f"broker_{i}.log"),
                            env=self.env, cwd=self.out)
            res.brokers.append(p)
            if p.start_error:
                res.errors.append(p.start_error)
                return
            self.rec.ready_files.append(str(host.ready_file(p.pid)))
            err = _wait_ready(p, float(self.run_cfg["ready_timeout_s"]), self.mem)
            if err:
                res.errors.append(err)
                return
            if interrupts.requested():
                return

    def start_client(self, res: Outcome) -> None:
        argv = client_argv(self.bin_dir, self.source, self.scn["params"], self.rec.settings)
        res.client = procs.start(procs.Proc("client", "client", None, argv, self.out / "client.log"), env=self.env,
                                 cwd=self.out)

    def client_timeout_s(self) -> float:
        return client_timeout_s(self.scn, self.run_cfg)

    def client_ended(self, client: procs.Proc) -> bool:
        return self.mem.reap(client)  # reaped here, so the kernel's peak memory of the client is recorded

    def sample(self, res: Outcome) -> None:
        self.mem.sample([p for p in [res.client, *res.brokers] if p is not None])

    def progress_line(self, client: procs.Proc) -> str:
        return _last_line(client.log) or "(no client line yet)"

    def stop(self, res: Outcome) -> None:
        """Stop every process (PID and group, grace then SIGKILL), then remove the shm object and ready files."""
        rec = self.rec
        everyone = ([res.client] if res.client else []) + res.brokers
        self.mem.sample(everyone)
        procs.stop_all(everyone, float(self.run_cfg["stop_grace_s"]))
        shm = host.SHM_DIR / rec.shm_name
        with contextlib.suppress(OSError):
            rec.shm_bytes_at_end = shm.stat().st_blocks * 512
        with contextlib.suppress(FileNotFoundError):
            shm.unlink()
        for f in rec.ready_files:
            Path(f).unlink(missing_ok=True)
        rec.summary_csv = SUMMARY_CSV if (self.out / SUMMARY_CSV).is_file() else None
        rec.left_behind = left_behind(rec, everyone)

    def finish(self, res: Outcome) -> None:
        if self.rec.left_behind:
            res.errors.append("left behind: " + "; ".join(self.rec.left_behind))
        _tidy_run_dir(self.out)
        for p in res.brokers + ([res.client] if res.client else []):
            p.peak_rss_kb = self.rec.peak_rss_kb.get(p.name)
        res.adapter_record = self.rec.to_record()

    def add_to_manifest(self, record: dict[str, Any], res: Outcome, build: dict[str, Any], out: Path) -> None:
        """Under ``embarcadero``: the run's environment, shm object, memory and cleanup, and the build's time."""
        if res.adapter_record is None:
            return
        record["embarcadero"] = dict(res.adapter_record)
        record["embarcadero"]["build"] = {"wall_s": build.get("build_wall_s"), "jobs": build.get("jobs")}
        client_started = res.client is not None and res.client.popen is not None
        if (out / TIMESERIES_CSV).is_file() and client_started:
            record["files"]["client_timeseries"] = {"client.log": TIMESERIES_CSV}


def execute(out: Path, scn: dict[str, Any], bin_dir: Path, source: Path, run_cfg: dict[str, Any]) -> Outcome:
    """Start the brokers, run the client to its end (bounded), stop everything (``lifecycle.execute``)."""
    return lifecycle.execute(scn, EmbarcaderoRun(out, scn, bin_dir, source, run_cfg), run_cfg)


class EmbarcaderoAdapter(SutAdapter):
    """The real Embarcadero, built offline from the user's checkout (``embarcadero_build``)."""

    kind = "embarcadero"
    #: the same glog lines as the reference broker (DESIGN section 4), without the reference's extra lines
    dialect = "glog"
    #: what its logs and run directory can give (HEAD): [STALL] timers only in builds that have them (build.json's
    #: stall_timers), no TCP_INFO; the client's network-path profile and per-broker ACKs when profiling is on
    evidence: tuple[str, ...] = ("broker_logs", "client_log", "cpu_samples", "process_exits", "peak_rss",
                                 "summary_csv", "client_timeseries", "per_broker_acks (profile on)")
    honours_werror = False  # upstream's sources: their warnings are not ours to fail on

    def build(self, sut: dict[str, Any], source: Path, out: Path, werror: bool) -> tuple[list[str], dict[str, Any]]:
        return embarcadero_build.build(sut, source, out)

    def new_run(self, out: Path, scn: dict[str, Any], sut: dict[str, Any], build: dict[str, Any],
                run_cfg: dict[str, Any], config_path: Path) -> SutRun:
        return EmbarcaderoRun(out, scn, Path(build["bin_dir"]).resolve(), Path(build["sut"]["source"]), run_cfg)


EMBARCADERO = EmbarcaderoAdapter()
