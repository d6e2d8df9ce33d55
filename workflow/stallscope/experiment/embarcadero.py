"""Run one scenario on the real Embarcadero: four ``embarlet``s and one ``throughput_test`` on loopback.

The adapter for ``sut.kind: embarcadero`` (DESIGN section 11): :data:`ADAPTER` builds (``embarcadero_build``),
starts the brokers, starts the client, stops everything, and names its dialect and the evidence its logs can
give. What the broker needs on a machine without CXL memory or hugepages, measured (``../shared/sut/README.md``):

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
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stallscope.experiment import cpu, hog, interrupts, outside, procs
from stallscope.experiment import embarcadero_host as host
from stallscope.experiment import placement as pl
from stallscope.experiment.run import Outcome
from stallscope.shared.provenance import host_facts, utc_now

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
class EmbarcaderoRun:
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

    def __init__(self, rec: EmbarcaderoRun) -> None:
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


def _start_brokers(res: Outcome, out: Path, scn: Mapping[str, Any], bin_dir: Path, source: Path,
                   env: dict[str, str], run_cfg: Mapping[str, Any], rec: EmbarcaderoRun, mem: _Memory) -> None:
    """Start broker 0 (the head), then each next one once the previous is ready."""
    for i in range(int(scn["params"]["brokers"])):
        p = procs.start(procs.Proc(f"broker_{i}", "broker", i, broker_argv(bin_dir, source, i, rec.settings),
                                   out / f"broker_{i}.log"), env=env, cwd=out)
        res.brokers.append(p)
        if p.start_error:
            res.errors.append(p.start_error)
            return
        rec.ready_files.append(str(host.ready_file(p.pid)))
        err = _wait_ready(p, float(run_cfg["ready_timeout_s"]), mem)
        if err:
            res.errors.append(err)
            if "not ready" in err:
                res.timeouts.append(err)
            return
        if interrupts.requested():
            return


def _supervise_client(res: Outcome, timeout_s: float, interval_s: float, mem: _Memory) -> None:
    """Wait for the client to exit (bounded), sampling memory and relaying its latest line."""
    client = res.client
    assert client is not None and client.popen is not None
    start = time.monotonic()
    next_report = start + interval_s
    dead: set[str] = set()
    while not mem.reap(client) and not interrupts.requested():
        now = time.monotonic()
        if now - start > timeout_s:
            client.timed_out = True
            res.timeouts.append(f"client: no exit within {timeout_s:g} s")
            return
        mem.sample([client, *res.brokers])
        for b in res.brokers:
            if b.name not in dead and not b.is_running():
                dead.add(b.name)
                print(f"[{now - start:6.1f}s] {b.name} exited early (status {b.popen.returncode})",  # type: ignore
                      file=sys.stderr)
        if now >= next_report:
            print(f"[{now - start:6.1f}s] {_last_line(client.log) or '(no client line yet)'}", file=sys.stderr,
                  flush=True)
            next_report = now + interval_s
        time.sleep(0.1)


def _last_line(log: Path) -> str | None:
    try:
        with open(log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 8192))
            lines = [ln.strip() for ln in fh.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return None
    return lines[-1][:300] if lines else None


def _start_cpu_evidence(res: Outcome, out: Path, scn: Mapping[str, Any]) -> None:
    """CPU samples of the brokers (then the client) as for the reference broker (``cpu.csv``), and the CPU hog of
    a ``cpu_hog`` scenario spinning before the client starts, until the run ends: the same evidence and the same
    fault from outside, whatever the SUT."""
    res.sampler = cpu.CpuSampler(out / "cpu.csv").start()
    for b in res.brokers:
        res.sampler.watch(b.name, b.pid)
    if scn["faults"].get("cpu_hog"):
        res.hog = hog.CpuHog(out / "client.log").start(mark=False)
        for k, pid in enumerate(res.hog.pids):
            res.sampler.watch(f"cpu_hog_{k}", pid)


def _cleanup(res: Outcome, rec: EmbarcaderoRun, run_cfg: Mapping[str, Any], mem: _Memory, out: Path) -> None:
    """Stop every process (PID and group, grace then SIGKILL), then remove the shm object and ready files."""
    if res.injector is not None:  # first: a broker it stopped is continued, so SIGTERM reaches it
        res.outside_faults, res.injector = res.injector.stop(), None
    if res.hog is not None:
        res.hog.stop()
    if res.sampler is not None:
        res.cpu = {"status": "sampled", "reason": None} | res.sampler.stop() | {"node": host_facts().get("hostname")}
        res.sampler = None
    everyone = ([res.client] if res.client else []) + res.brokers
    mem.sample(everyone)
    procs.stop_all(everyone, float(run_cfg["stop_grace_s"]))
    shm = host.SHM_DIR / rec.shm_name
    with contextlib.suppress(OSError):
        rec.shm_bytes_at_end = shm.stat().st_blocks * 512
    with contextlib.suppress(FileNotFoundError):
        shm.unlink()
    for f in rec.ready_files:
        Path(f).unlink(missing_ok=True)
    csv = out / SUMMARY_CSV
    rec.summary_csv = SUMMARY_CSV if csv.is_file() else None
    rec.left_behind = left_behind(rec, everyone)


def left_behind(rec: EmbarcaderoRun, ps: list[procs.Proc]) -> list[str]:
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
def _shm_guard(rec: EmbarcaderoRun) -> Iterator[None]:
    """Whatever leaves the block, the shm object goes (idempotent beside ``_cleanup``)."""
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            (host.SHM_DIR / rec.shm_name).unlink()


def execute(out: Path, scn: dict[str, Any], bin_dir: Path, source: Path, run_cfg: dict[str, Any]) -> Outcome:
    """Start the brokers, run the client to its end (bounded), stop everything; never leave a process, shm
    object or ready file. Signals stop the run the same way (``interrupts``); the record is ``res.embarcadero``."""
    procs.set_parent_death_signal(signal.SIGTERM)
    owned = interrupts.install()
    out = Path(out).absolute()  # the processes run inside it: every path they get must not depend on the cwd
    n = int(scn["params"]["brokers"])
    res = Outcome(started_utc=utc_now(), placement=pl.loopback(n))
    rec = EmbarcaderoRun(settings=settings_for(scn), shm_name=host.new_shm_name())
    mem = _Memory(rec)
    res.ports = host.ports(n)
    try:
        with host.ports_lock(host.PORTS_LOCK_WAIT_S) as busy, _shm_guard(rec):
            if busy:
                res.errors.append(busy)
                print(f"stallscope run: {busy}", file=sys.stderr)
                return res
            swept = host.sweep_stale_shm()
            if swept:
                res.notes.append(f"removed shm objects of runners that are gone: {', '.join(swept)}")
            taken = host.check_ports(n)
            if taken:
                res.errors += taken
                for line in taken:
                    print(f"stallscope run: {line}", file=sys.stderr)
                return res
            for d in ("home", "replica0", "replica1"):
                (out / d).mkdir(parents=True, exist_ok=True)
            env, rec.env = environment(out, rec.settings, scn["params"], rec.shm_name)
            try:
                _start_brokers(res, out, scn, bin_dir, source, env, run_cfg, rec, mem)
                if not res.errors and not interrupts.requested():
                    _start_cpu_evidence(res, out, scn)
                    argv = client_argv(bin_dir, source, scn["params"], rec.settings)
                    res.client = procs.start(procs.Proc("client", "client", None, argv, out / "client.log"),
                                             env=env, cwd=out)
                    if res.hog is not None:
                        res.hog.mark_start()  # the client's log exists now
                    if res.client.start_error:
                        res.errors.append(res.client.start_error)
                    else:
                        if res.sampler is not None:
                            res.sampler.watch("client", res.client.pid)
                        faults = outside.planned(scn["faults"])  # from outside: SIGSTOP/SIGKILL of a broker
                        if faults:
                            res.injector = outside.Injector(faults, res.brokers, res.client,
                                                            client_timeout_s(scn, run_cfg)).start()
                        _supervise_client(res, client_timeout_s(scn, run_cfg), run_cfg["progress_interval_s"], mem)
            finally:
                _cleanup(res, rec, run_cfg, mem, out)
    finally:
        if interrupts.requested():
            res.errors.insert(0, interrupts.describe())
        if owned:
            interrupts.restore()
        res.errors += [t for t in res.timeouts if t not in res.errors]
        if rec.left_behind:
            res.errors.append("left behind: " + "; ".join(rec.left_behind))
        _tidy_run_dir(out)
        for p in res.brokers + ([res.client] if res.client else []):
            p.peak_rss_kb = rec.peak_rss_kb.get(p.name)
        res.adapter_record = rec.to_record()
    return res


@dataclass(frozen=True)
class Adapter:
    """The SUT adapter interface (DESIGN section 11), as the real Embarcadero fills it in."""

    kind: str = "embarcadero"
    dialect: str = "embarcadero"
    #: what its logs can give (HEAD): no [STALL] timers, no TCP_INFO; the client's network-path profile when on
    evidence: tuple[str, ...] = ("broker_logs", "client_log", "summary_csv", "per_broker_acks (profile on)")
    binaries: tuple[str, ...] = ("embarlet", "throughput_test")

    def build(self, sut: dict[str, Any], source: Path, out: Path) -> tuple[list[str], dict[str, Any]]:
        from stallscope.experiment import embarcadero_build

        return embarcadero_build.build(sut, source, out)

    def execute(self, out: Path, scn: dict[str, Any], bin_dir: Path, source: Path,
                run_cfg: dict[str, Any]) -> Outcome:
        return execute(out, scn, bin_dir, source, run_cfg)


ADAPTER = Adapter()
