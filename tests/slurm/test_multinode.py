"""Multi-node runs on the three-node namespace cluster (`.ci/slurm3.sh up`; issue 14).

Brokers on n1/n2 and the publisher on n3, each an `srun -w` step of the run's one job, through
`snakemake --workflow-profile workflow/profiles/slurm`: every message acknowledged and the report names the nodes;
n2's link shaped (tbf on its downlink) gives a network bound naming broker_1 on n2 in 3 of 3 trials; broker_1
stopped (SIGSTOP) past its ACK timeout, then continued, is an ACK timeout diagnosed on n2 with no step left;
SIGINT to Snakemake cancels the job and leaves no step within 10 s.

The tests share one working directory (one build) and run in file order; each rewrites the config's scenarios.
The first takes the whole DAG through SLURM; the later ones take their runs (where placement lives) through SLURM
and analyse them locally: each SLURM job costs about 12 s of the executor's status polling (2 s, then 10 s after a
poll that saw no job end), and parse, metrics and assessment as SLURM jobs are covered by the first test and
tests/slurm/test_slurm.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..workflow.conftest import REPO, make_workdir, snakemake, venv_env
from .conftest import slurm_cmd

pytestmark = pytest.mark.slurm

SLURM3 = REPO / ".ci" / "slurm3.sh"
NODES = ["n1", "n2", "n3"]
PLACED = {"brokers": ["n1", "n2"], "publisher": "n3"}


def _out(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout


def _links_file() -> str:
    line = _out(str(SLURM3), "env").strip()
    return line.split("=", 1)[1]


def _skip(reason: str) -> None:
    """Skip, or fail where CI brought the cluster up for these tests (STALLSCOPE_REQUIRE_SLURM3=1)."""
    if os.environ.get("STALLSCOPE_REQUIRE_SLURM3") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster3(request: pytest.FixtureRequest) -> str:
    """The partition of the running three-node cluster (skip unless it is the one answering)."""
    if not request.config.getoption("--run-slurm"):
        pytest.skip("slurm: run with --run-slurm after `.ci/slurm3.sh up`")
    if not shutil.which("sbatch") or os.geteuid() != 0:
        _skip("the three-node cluster needs SLURM and root (it shapes a node's link)")
    try:
        nodes = sorted(_out("sinfo", "-h", "-N", "-o", "%N").split())
    except (OSError, subprocess.TimeoutExpired):
        nodes = []
    if nodes != NODES:
        _skip(f"the three-node cluster is not the one up (sinfo lists {nodes}); `.ci/slurm3.sh up`")
    return _out("sinfo", "-h", "-o", "%P").split()[0].rstrip("*")


@pytest.fixture(scope="module")
def wd(cluster3: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workdir(tmp_path_factory.mktemp("multinode"), lambda cfg: None)


def _configure(wd: Path, scenarios: dict[str, Any]) -> None:
    cfg = yaml.safe_load((wd / "config.yaml").read_text())
    cfg["defaults"] = {"brokers": 2, "threads_per_broker": 1, "message_size": 65536, "ack_timeout_s": 10}
    cfg["scenarios"] = scenarios
    cfg["assessment"] = {"bench": False}
    cfg.pop("bench", None)
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def _env() -> dict[str, str]:
    env = venv_env()
    env["STALLSCOPE_SLURM_LINKS"] = _links_file()
    env.pop("SLURM_CONF", None)
    return env


def _snakemake(wd: Path, partition: str, *args: str, timeout_s: int = 420) -> subprocess.CompletedProcess:
    return subprocess.run(slurm_cmd(wd, partition, *args, timeout_s=timeout_s), capture_output=True, text=True,
                          cwd=wd, env=_env(), timeout=timeout_s + 60)


def _runs_then_report(wd: Path, partition: str, timeout_s: int = 420) -> subprocess.CompletedProcess:
    """The runs through SLURM (brokers and publisher on their nodes), then the report from them, locally."""
    res = _snakemake(wd, partition, "runs", timeout_s=timeout_s)
    if res.returncode != 0:
        return res
    return snakemake(wd, "--cores", "2", "report", timeout=300)


def _active_jobs() -> list[str]:
    return _out("squeue", "-h", "-t", "PD,R,CG,S", "-o", "%i").split()


def _steps() -> list[str]:
    """Every job step listed (numbered: the runner's own and the roles')."""
    return [s for s in _out("squeue", "-h", "-s", "-o", "%i").split() if re.fullmatch(r"\d+\.\d+", s)]


def _role_steps() -> list[str]:
    """The steps the runner started for the roles (named so by stallscope.experiment.cluster)."""
    return [line.split("|")[0] for line in _out("squeue", "-h", "-s", "-o", "%i|%j").splitlines()
            if line.endswith("|stallscope-role")]


def _ours(wd: Path) -> list[int]:
    """PIDs of broker or publisher processes started for this working directory (their argv names it)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith((b"refbroker", b"refpub")) and any(str(wd).encode() in a for a in argv):
            pids.append(int(d.name))
    return pids


def _argv(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # ended meanwhile
        return b""


def _manifests(wd: Path, scenario: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(wd.glob(f"results/runs/*/{scenario}/t*/manifest.json"))]


def _claims(wd: Path) -> dict[str, Any]:
    (path,) = list(wd.glob("reports/*/claims.json"))
    return json.loads(path.read_text())


def _assert_clean(wd: Path) -> None:
    assert not _active_jobs(), _out("squeue")
    assert not _steps(), _out("squeue", "-s")
    assert not _ours(wd)


def test_brokers_on_n1_n2_publisher_on_n3_all_acknowledged_report_names_nodes(cluster3: str, wd: Path) -> None:
    _configure(wd, {"multinode": {"description": "Brokers on n1 and n2, the publisher on n3.",
                                  "expected_cause": "none", "total_bytes": 64 * 2**20, "slurm_nodes": PLACED}})
    res = _snakemake(wd, cluster3, "report")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    (m,) = _manifests(wd, "multinode")
    assert m["harness"]["ok"], m["harness"]
    assert m["slurm"]["nodes"] == {"broker_0": "n1", "broker_1": "n2", "client": "n3"}
    assert m["slurm"]["steps_left"] == []
    job = m["slurm"]["job_id"]
    roles = {r["name"]: r["host"] for r in m["placement"]["roles"]}
    assert {n: h["address"] for n, h in roles.items()} == {
        "broker_0": "10.200.0.11", "broker_1": "10.200.0.12", "client": "10.200.0.13"}
    assert all(h["job_id"] == job and h["kind"] == "slurm_node" for h in roles.values())
    # the publisher connected to the addresses the brokers announced, from n3
    argv = next(p["argv"] for p in m["processes"] if p["name"] == "client")
    assert argv[:6] == ["srun", "--jobid", job, "-w", "n3", "-N1"]
    assert "10.200.0.11:" in " ".join(argv) and "10.200.0.12:" in " ".join(argv)
    metrics = json.loads(next(wd.glob("results/runs/*/multinode/t1/metrics.json")).read_text())
    assert metrics["acks"]["completeness"] == 1.0, metrics["acks"]
    page = next(wd.glob("reports/*/assessment.html")).read_text()
    for n in ("broker_0 on n1", "broker_1 on n2", "publisher on n3"):
        assert n in page
    assert f"job {job}" in page
    _assert_clean(wd)


def _shape(node: str, mbit: int) -> None:
    subprocess.run([str(SLURM3), "shape", node, str(mbit)], check=True, timeout=20, capture_output=True)


def _unshape(node: str) -> None:
    subprocess.run([str(SLURM3), "unshape", node], check=True, timeout=20, capture_output=True)


def test_shaped_n2_link_bounds_the_run_by_the_network_naming_broker_1_on_n2_3_of_3(cluster3: str, wd: Path) -> None:
    _configure(wd, {"slow_n2": {
        "description": "n2's downlink shaped (tbf): the path to broker_1 carries a fraction of n1's.",
        "expected_cause": "network", "expected_bound": "network", "total_bytes": 32 * 2**20, "trials": 3,
        "ack_timeout_s": 60, "slurm_nodes": PLACED}})
    _shape("n2", 100)
    try:
        res = _runs_then_report(wd, cluster3, timeout_s=600)
    finally:
        _unshape("n2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    ms = _manifests(wd, "slow_n2")
    assert len(ms) == 3
    for m in ms:
        b1 = next(r["host"] for r in m["placement"]["roles"] if r["name"] == "broker_1")
        assert b1["link"]["rate_mbit"] == 100 and b1["link"]["qdisc"] == "tbf", b1
    got = {r["run_id"]: (r["bound"]["cause"], r["bound"]["summary"]) for r in _claims(wd)["runs"]}
    print("bounds:", json.dumps(got, indent=1))
    assert all(c == "network" and "broker_1 on node n2" in s for c, s in got.values()), got
    _assert_clean(wd)


def _publishing(wd: Path, scenario: str) -> bool:
    """The publisher of ``scenario`` has connected to every broker and started to publish (its log says so)."""
    return any(b"[Phase] publish_start" in p.read_bytes()
               for p in wd.glob(f"results/runs/*/{scenario}/t*/client.log"))


def _stop_broker_1_for(wd: Path, scenario: str, seconds: float, done: dict[str, Any]) -> None:
    """As soon as the publisher of ``scenario`` publishes (past its init, which waits for each broker's ACK
    connection), SIGSTOP this working directory's broker_1 for ``seconds``."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        brokers = [p for p in _ours(wd) if b"--id\x001\x00" in _argv(p)]
        if brokers and _publishing(wd, scenario):
            os.kill(brokers[0], signal.SIGSTOP)
            done["stopped"] = time.monotonic()
            time.sleep(seconds)
            try:
                os.kill(brokers[0], signal.SIGCONT)
                done["continued"] = "by the test"
            except ProcessLookupError:  # the runner ended it first (its step cancelled at the ACK timeout)
                done["continued"] = "gone"
            return
        time.sleep(0.02)


def test_broker_stopped_mid_run_is_an_ack_timeout_diagnosed_on_its_node_no_step_left(cluster3: str,
                                                                                       wd: Path) -> None:
    _configure(wd, {"stop_n2": {
        "description": "broker_1 on n2 stopped (SIGSTOP) past the ACK timeout, then continued (SIGCONT).",
        "expected_cause": "ack_path", "total_bytes": 256 * 2**20, "ack_timeout_s": 4,
        "faults": {"linger_sec": 1}, "slurm_nodes": PLACED}})
    done: dict[str, Any] = {}
    th = threading.Thread(target=_stop_broker_1_for, args=(wd, "stop_n2", 8.0, done), daemon=True)
    th.start()
    res = _runs_then_report(wd, cluster3)
    th.join(timeout=30)
    assert "stopped" in done and "continued" in done, "broker_1 never ran"
    print("stop_n2: broker_1 after the stop:", done["continued"])
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    (m,) = _manifests(wd, "stop_n2")
    assert m["slurm"]["steps_left"] == []
    (run,) = _claims(wd)["runs"]
    metrics = json.loads(next(wd.glob("results/runs/*/stop_n2/t1/metrics.json")).read_text())
    bound = run.get("bound") or {}
    print("stop_n2:", metrics["acks"]["completeness"], metrics["acks"]["is_timeout"], bound.get("summary"))
    # Stopped from the publish's start for twice the ACK timeout (which bounds the whole publish): the publisher
    # times out, and the run's verdict on what held it names the stopped broker and its node.
    assert metrics["acks"]["is_timeout"] and metrics["acks"]["completeness"] < 1.0, metrics["acks"]
    assert "broker_1 on node n2" in bound.get("summary", ""), bound
    _assert_clean(wd)


def test_sigint_to_snakemake_cancels_the_multinode_job_and_leaves_no_step_within_10s(cluster3: str,
                                                                                      wd: Path) -> None:
    _configure(wd, {"interrupted": {
        "description": "A run long enough to be interrupted: connections kept open 60 s after the last batch.",
        "expected_cause": "init_lifecycle", "total_bytes": 16 * 2**20, "faults": {"linger_sec": 60},
        "slurm_nodes": PLACED}})
    # No `timeout` around Snakemake here: on a signal coreutils' timeout sends it to its child and then to its whole
    # process group, so Snakemake got SIGINT twice and the second one broke off its scancel (1 run in 4 left the job
    # running). ^C at a terminal is one SIGINT to the foreground process group, as below.
    proc = subprocess.Popen(slurm_cmd(wd, cluster3, "runs", timeout_s=None), cwd=wd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not (len(_role_steps()) == 3 and _ours(wd)):
            assert proc.poll() is None, proc.stdout.read()[-3000:] if proc.stdout else ""
            time.sleep(0.25)
        assert len(_role_steps()) == 3, "the run's three steps never ran"
        os.killpg(proc.pid, signal.SIGINT)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and (_steps() or _active_jobs() or _ours(wd)):
            time.sleep(0.2)
        took = time.monotonic() - t0
        print(f"after SIGINT: no job, step or process of ours after {took:.1f} s")
        assert not _steps() and not _active_jobs() and not _ours(wd), (took, _out("squeue", "-s"))
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert not _manifests(wd, "interrupted"), "an interrupted run must not count as done"
