"""The Embarcadero runner without the real broker: its environment and command lines, the fixed-port check, and
that whatever ends a run (a broker that exits at once, one never ready, ^C) leaves no process, shm object or
ready file. Stand-in binaries are small Python scripts that behave like embarlet and throughput_test."""

from __future__ import annotations

import os
import random
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from stallscope.experiment import embarcadero as emb
from stallscope.experiment import embarcadero_host as host
from stallscope.experiment import procs

RUN_CFG = {"ready_timeout_s": 5, "client_grace_s": 5, "stop_grace_s": 1, "progress_interval_s": 5}

# embarlet stand-in: MODE decides what it does (the runner's environment reaches it unchanged).
FAKE_BROKER = """#!{py}
import os, signal, sys, time
mode = os.environ.get("FAKE_BROKER_MODE", "ok")
if mode == "exit":
    sys.exit(3)
# as embarlet: its replica dirs must be writable from where it runs (it aborts otherwise), HOME too
for d in os.environ["EMBARCADERO_REPLICA_DISK_DIRS"].split(",") + [os.environ["HOME"]]:
    if not os.access(d, os.W_OK):
        sys.exit(4)
shm = "/dev/shm" + os.environ["EMBARCADERO_CXL_SHM_NAME"]
if "--head" in sys.argv:
    with open(shm, "wb") as fh:
        fh.truncate(1 << 20)
        fh.write(b"x" * 4096)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("I20261206 00:00:00.000000 1 embarlet.cc:294] Starting Embarlet broker_id: 0", flush=True)
with open("pids", "a") as fh:
    fh.write(f"{{os.getpid()}}\\n")
if mode != "never_ready":
    with open(f"/tmp/embarlet_{{os.getpid()}}_ready", "w") as fh:
        fh.write("ready\\n")
while True:
    time.sleep(0.05)
"""

FAKE_CLIENT = """#!{py}
import os, sys, time
with open("throughput_benchmark_summary.csv", "w") as fh:
    fh.write("message_size_bytes,publish_goodput_mbps\\n1024,100.0\\n")
blob = bytearray(int(os.environ.get("FAKE_CLIENT_BYTES", "0")))
for i in range(0, len(blob), 4096):
    blob[i] = 1
time.sleep(float(os.environ.get("FAKE_CLIENT_SLEEP", "0.2")))
print("I20261206 00:00:01.000000 2 test_utils.cc:1852] Publish completed in 0.08 seconds, 126.69 MB/s", flush=True)
sys.exit(int(os.environ.get("FAKE_CLIENT_EXIT", "0")))
"""


def _scn(brokers: int = 4, **params: Any) -> dict[str, Any]:
    p = {"brokers": brokers, "threads_per_broker": 1, "message_size": 1024, "total_bytes": 10485760, "order": 0,
         "ack_level": 1, "ack_timeout_s": 10}
    p.update(params)
    return {"name": "e2e_10mb", "params": p, "faults": {}, "embarcadero": {}}


@pytest.fixture
def fake_bins(tmp_path: Path) -> Path:
    d = tmp_path / "bin"
    d.mkdir()
    for name, text in (("embarlet", FAKE_BROKER), ("throughput_test", FAKE_CLIENT)):
        p = d / name
        p.write_text(text.format(py=sys.executable))
        p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return d


@pytest.fixture
def free_fixed_ports(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Point the fixed ports at free ones, so these tests never meet a real Embarcadero (or each other)."""
    return point_fixed_ports(monkeypatch)


def point_fixed_ports(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The fixed ports (and the lock that guards them) pointed at free ones for this test."""
    base = procs.free_ports(1)[0]
    for _ in range(50):
        if base + 4 < 65535 and all(host.port_in_use(base + i) is None for i in range(5)):
            break
        base = procs.free_ports(1)[0]
    monkeypatch.setattr(host, "DATA_PORT_BASE", base)
    monkeypatch.setattr(host, "GRPC_PORT", base + 4)
    monkeypatch.setattr(host, "PORTS_LOCK", f"\0stallscope-test-{os.getpid()}-{base}")
    return host.ports(4)


def _mine() -> list[str]:
    """This test process's shm objects (the runner names them by its pid)."""
    return sorted(p.name for p in host.SHM_DIR.glob(f"{host.SHM_PREFIX}{os.getpid()}-*"))


def _assert_nothing_left(res: Any) -> None:
    rec = res.adapter_record
    assert rec["left_behind"] == []
    assert not (host.SHM_DIR / rec["shm_name"]).exists()
    assert _mine() == []
    for p in res.brokers + ([res.client] if res.client else []):
        assert not p.is_running()
        assert not host.ready_file(p.pid).exists()
        with pytest.raises(ProcessLookupError):
            os.killpg(p.pid, 0)


def test_environment_sets_private_home_shm_and_no_hugepages_for_random_params(tmp_path: Path) -> None:
    rng = random.Random()
    for _ in range(25):
        brokers, timeout = rng.randint(1, 8), rng.randint(1, 600)
        seg, buf = rng.choice([1 << 30, 3 << 30, 1 << 32]), rng.randint(1, 4096)
        settings = {**emb.DEFAULTS, "segment_size_bytes": seg, "client_buffer_mb": buf,
                    "profile_network_path": rng.random() < 0.5}
        name = host.new_shm_name()
        run = tmp_path / f"run{rng.randint(0, 10**6)}"
        base = {"PATH": "/usr/bin", "HOME": "/root", "EMBARCADERO_CXL_MAP_POPULATE": "1", "EMBAR_USE_HUGETLB": "1",
                "EMBARCADERO_ACK_TIMEOUT_SEC": "999"}
        env, mine = emb.environment(run, settings, {"brokers": brokers, "ack_timeout_s": timeout}, name, base=base)
        assert env["PATH"] == "/usr/bin"
        assert env["HOME"] == str(run / "home")
        assert env["EMBARCADERO_CXL_SHM_NAME"] == "/" + name and name.startswith(host.SHM_PREFIX)
        assert env["EMBARCADERO_CXL_MAP_POPULATE"] == "0" and env["EMBARCADERO_CXL_ZERO_MODE"] == "none"
        assert env["EMBAR_USE_HUGETLB"] == "0" and env["EMBARCADERO_CLIENT_USE_HUGEPAGES"] == "0"
        assert env["EMBARCADERO_NUM_BROKERS"] == str(brokers)
        assert env["EMBARCADERO_SEGMENT_SIZE"] == str(seg)
        assert env["EMBARCADERO_ACK_TIMEOUT_SEC"] == str(timeout)
        assert env["EMBARCADERO_CLIENT_PUB_BUFFER_MB"] == str(buf)
        assert all(Path(d).parent == run for d in env["EMBARCADERO_REPLICA_DISK_DIRS"].split(","))
        assert ("EMBAR_PROFILE_NETWORK_PATH" in env) == settings["profile_network_path"]
        # nothing inherited decides what the broker does: what it sees of EMBAR* is what the manifest records
        assert {k: v for k, v in env.items() if k.startswith("EMBAR")} == {
            k: v for k, v in mine.items() if k.startswith("EMBAR")}


def test_shm_names_differ_between_runs() -> None:
    names = {host.new_shm_name() for _ in range(200)}
    assert len(names) == 200


def test_argv_head_first_and_client_carries_the_scenario(tmp_path: Path) -> None:
    rng = random.Random()
    src, bins = tmp_path / "src", tmp_path / "bin"
    heads = [emb.broker_argv(bins, src, i, emb.DEFAULTS) for i in range(4)]
    assert heads[0][:3] == [str(bins / "embarlet"), "--config", str(src / "config" / "embarcadero.yaml")]
    assert "--head" in heads[0] and all("--head" not in a for a in heads[1:])
    for _ in range(20):
        p = {"threads_per_broker": rng.randint(1, 8), "message_size": rng.choice([64, 1024, 4096]),
             "total_bytes": rng.randint(1 << 20, 1 << 34), "order": rng.choice([0, 5]), "ack_level": rng.randint(0, 2)}
        test = rng.choice([1, 5])
        argv = emb.client_argv(bins, src, p, {**emb.DEFAULTS, "test": test})
        opts = dict(zip(argv[1::2], argv[2::2], strict=False))
        assert argv[0] == str(bins / "throughput_test")
        assert opts["--config"] == str(src / "config" / "client.yaml")
        assert (opts["-n"], opts["-m"], opts["-s"]) == tuple(str(p[k]) for k in ("threads_per_broker", "message_size",
                                                                                  "total_bytes"))
        assert (opts["-t"], opts["-o"], opts["-a"]) == (str(test), str(p["order"]), str(p["ack_level"]))


def test_taken_port_is_one_clear_error_and_nothing_starts(tmp_path: Path, fake_bins: Path,
                                                          free_fixed_ports: dict[str, int]) -> None:
    name = random.choice(sorted(free_fixed_ports))
    port = free_fixed_ports[name]
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        t0 = time.monotonic()
        res = emb.execute(tmp_path / "run", _scn(), fake_bins, tmp_path / "src", RUN_CFG)
        assert time.monotonic() - t0 < 5  # an error, not a wait
    finally:
        holder.close()
    assert len(res.errors) == 1 and f"ports are taken: {port} (" in res.errors[0]
    assert res.brokers == [] and res.client is None
    _assert_nothing_left(res)


def test_second_run_waits_for_the_first_then_runs(tmp_path: Path, fake_bins: Path,
                                                  free_fixed_ports: dict[str, int]) -> None:
    import threading

    hold_s = random.uniform(0.5, 1.5)
    held = threading.Event()

    def other_run() -> None:
        with host.ports_lock(5) as busy:
            assert busy is None
            held.set()
            time.sleep(hold_s)

    t = threading.Thread(target=other_run)
    t.start()
    assert held.wait(10)
    t0 = time.monotonic()
    res = emb.execute(tmp_path / "run", _scn(brokers=1), fake_bins, tmp_path / "src", RUN_CFG)
    t.join(10)
    assert res.errors == [] and time.monotonic() - t0 >= hold_s * 0.5
    _assert_nothing_left(res)


def test_lock_held_too_long_is_one_error_and_nothing_starts(tmp_path: Path, fake_bins: Path,
                                                            free_fixed_ports: dict[str, int],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "PORTS_LOCK_WAIT_S", 0.5)
    with host.ports_lock(1) as busy:
        assert busy is None
        res = emb.execute(tmp_path / "run", _scn(), fake_bins, tmp_path / "src", RUN_CFG)
    assert len(res.errors) == 1 and "held its ports for more than 0.5 s" in res.errors[0]
    assert res.brokers == [] and res.client is None
    _assert_nothing_left(res)


def test_port_check_passes_when_free(free_fixed_ports: dict[str, int]) -> None:
    assert host.check_ports(4) == []


def test_clean_run_records_memory_csv_and_leaves_nothing(tmp_path: Path, fake_bins: Path,
                                                          free_fixed_ports: dict[str, int],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    touched_mb = random.randint(20, 60)
    monkeypatch.setenv("FAKE_CLIENT_BYTES", str(touched_mb << 20))
    out = tmp_path / "run"
    res = emb.execute(out, _scn(), fake_bins, tmp_path / "src", RUN_CFG)
    assert res.errors == []
    assert [p.name for p in res.brokers] == [f"broker_{i}" for i in range(4)]
    assert res.client is not None and res.client.popen.returncode == 0
    rec = res.adapter_record
    assert rec["shm_bytes_at_end"] >= 4096  # the head wrote into it; gone now
    assert rec["summary_csv"] == emb.SUMMARY_CSV and (out / emb.SUMMARY_CSV).is_file()
    assert rec["peak_rss_kb"]["client"] >= touched_mb * 1024  # the client's ru_maxrss covers what it touched
    assert all(rec["peak_rss_kb"][f"broker_{i}"] > 0 for i in range(4))
    assert res.client.peak_rss_kb == rec["peak_rss_kb"]["client"]
    assert not (out / "replica0").exists() and not (out / "home").exists()  # empty, tidied
    _assert_nothing_left(res)


def test_cpu_samples_and_the_cpu_hog_come_from_outside_like_the_reference_brokers(
        tmp_path: Path, fake_bins: Path, free_fixed_ports: dict[str, int]) -> None:
    """Every role's CPU is sampled (cpu.csv, the manifest's cpu block); the hog spins while the client runs, its
    window in the client's log, and is gone with the run."""
    out = tmp_path / "run"
    scn = _scn() | {"faults": {"cpu_hog": True}}
    res = emb.execute(out, scn, fake_bins, tmp_path / "src", RUN_CFG)
    assert res.errors == []
    assert res.cpu is not None and res.cpu["status"] == "sampled", res.cpu
    text = (out / "cpu.csv").read_text()
    for role in ("broker_0", "broker_3", "client", "cpu_hog_0"):
        assert role in text, role
    windows = [ln for ln in (out / "client.log").read_text().splitlines() if "[FaultWindow]" in ln]
    assert [w.split("[FaultWindow] ")[1].split()[0] for w in windows] == ["start", "stop"], windows
    assert res.hog is not None and res.hog.children == []
    for pid in res.hog.pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    _assert_nothing_left(res)


def test_relative_run_dir_gives_the_processes_paths_that_work_from_it(tmp_path: Path, fake_bins: Path,
                                                                    free_fixed_ports: dict[str, int],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = emb.execute(Path("results/runs/x/t1"), _scn(), fake_bins, tmp_path / "src", RUN_CFG)
    assert res.errors == []
    assert all(Path(v).is_absolute() for k, v in res.adapter_record["env"].items()
               if k in ("HOME", "EMBARCADERO_THROUGHPUT_TIMESERIES_FILE"))
    assert (tmp_path / "results/runs/x/t1" / emb.SUMMARY_CSV).is_file()
    _assert_nothing_left(res)


def test_broker_that_exits_at_once_ends_the_run_cleanly(tmp_path: Path, fake_bins: Path,
                                                        free_fixed_ports: dict[str, int],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BROKER_MODE", "exit")
    res = emb.execute(tmp_path / "run", _scn(), fake_bins, tmp_path / "src", RUN_CFG)
    assert res.errors == ["broker_0 exited with status 3 before it was ready"]
    assert len(res.brokers) == 1 and res.client is None
    _assert_nothing_left(res)


def test_broker_never_ready_times_out_and_is_killed(tmp_path: Path, fake_bins: Path, free_fixed_ports: dict[str, int],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BROKER_MODE", "never_ready")
    cfg = {**RUN_CFG, "ready_timeout_s": 1}
    res = emb.execute(tmp_path / "run", _scn(), fake_bins, tmp_path / "src", cfg)
    assert any("broker_0 not ready after 1 s" in e for e in res.errors)
    assert res.timeouts and res.client is None
    _assert_nothing_left(res)  # the head created the shm object before it hung: removed


def test_broker_ignoring_sigterm_gets_sigkill(tmp_path: Path, fake_bins: Path, free_fixed_ports: dict[str, int],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BROKER_MODE", "stubborn")
    res = emb.execute(tmp_path / "run", _scn(brokers=2), fake_bins, tmp_path / "src", RUN_CFG)
    assert res.errors == []
    assert {b.stop_signal for b in res.brokers} == {"SIGKILL"}
    _assert_nothing_left(res)


def test_client_that_hangs_is_killed_after_its_timeout(tmp_path: Path, fake_bins: Path,
                                                       free_fixed_ports: dict[str, int],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_CLIENT_SLEEP", "600")
    monkeypatch.setattr(emb, "CLIENT_INIT_ALLOWANCE_S", 0)
    res = emb.execute(tmp_path / "run", _scn(brokers=1, ack_timeout_s=1), fake_bins, tmp_path / "src",
                      {**RUN_CFG, "client_grace_s": 1})
    assert res.client is not None and res.client.timed_out
    assert any("client: no exit within 2 s" in e for e in res.errors)
    _assert_nothing_left(res)


RUNNER = """
import sys
from pathlib import Path
from stallscope.experiment import embarcadero as emb
from stallscope.experiment import embarcadero_host as host
host.DATA_PORT_BASE, host.GRPC_PORT = int(sys.argv[3]), int(sys.argv[3]) + 4
host.PORTS_LOCK = "\\0" + sys.argv[4]
scn = {"name": "x", "faults": {}, "embarcadero": {}, "params": {"brokers": 4, "threads_per_broker": 1,
       "message_size": 1024, "total_bytes": 1 << 20, "order": 0, "ack_level": 1, "ack_timeout_s": 600}}
res = emb.execute(Path(sys.argv[1]), scn, Path(sys.argv[2]), Path(sys.argv[1]),
                  {"ready_timeout_s": 10, "client_grace_s": 5, "stop_grace_s": 1, "progress_interval_s": 5})
print(res.errors[0] if res.errors else "no error", flush=True)
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_to_the_runner_stops_everything(tmp_path: Path, fake_bins: Path, free_fixed_ports: dict[str, int],
                                               sig: str) -> None:
    import signal
    import subprocess

    out = tmp_path / "run"
    out.mkdir()
    env = {**os.environ, "FAKE_CLIENT_SLEEP": "600"}
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(out), str(fake_bins), str(host.DATA_PORT_BASE),
                               host.PORTS_LOCK[1:]],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (out / emb.SUMMARY_CSV).exists():  # the client is running
            time.sleep(0.05)
        assert (out / emb.SUMMARY_CSV).exists()
        shm = list(host.SHM_DIR.glob(f"{host.SHM_PREFIX}{runner.pid}-*"))
        assert len(shm) == 1
        time.sleep(random.uniform(0, 0.3))
        runner.send_signal(getattr(signal, sig))
        said, _ = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    assert said.strip() == f"interrupted by {sig}"
    assert not shm[0].exists()
    for pid in map(int, (out / "pids").read_text().split()):
        assert not host.ready_file(pid).exists()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_stale_shm_of_a_gone_runner_is_swept(tmp_path: Path) -> None:
    gone = procs.start(procs.Proc("x", "client", None, [sys.executable, "-c", "pass"], tmp_path / "x.log"))
    assert gone.popen is not None
    gone.popen.wait(timeout=30)
    stale = host.SHM_DIR / f"{host.SHM_PREFIX}{gone.pid}-abcdef012345"
    alive = host.SHM_DIR / f"{host.SHM_PREFIX}{os.getpid()}-abcdef012345"
    stale.write_bytes(b"")
    alive.write_bytes(b"")
    try:
        assert stale.name in host.sweep_stale_shm()
        assert not stale.exists() and alive.exists()
    finally:
        stale.unlink(missing_ok=True)
        alive.unlink(missing_ok=True)
