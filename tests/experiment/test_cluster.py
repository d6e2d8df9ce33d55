"""Multi-node placement without a cluster: what the job asks for, ready files, config checks, the slow path."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from stallscope.diagnose.bound_paths import slow_brokers, where
from stallscope.errors import StallscopeError
from stallscope.experiment import cluster
from stallscope.experiment.config import validate_config
from stallscope.shared.rundir import RunDir

SPEC = {"brokers": ["n1", "n2"], "publisher": "n3"}


def test_job_holds_every_named_node_once_brokers_first() -> None:
    cfg = {"scenarios": {"a": {"slurm_nodes": {"brokers": ["x2", "x1", "x2"], "publisher": "x1"}}, "b": {}}}
    assert cluster.nodes_of(cfg["scenarios"]["a"]["slurm_nodes"]) == ["x2", "x1"]
    assert cluster.job_nodes_wanted(cfg, "a") == 2 and cluster.job_nodes_wanted(cfg, "b") == 1
    assert cluster.job_extra(cfg, "a") == "--exclusive --nodelist=x2,x1"
    assert cluster.job_extra(cfg, "b") == "--exclusive"


def test_ready_file_carries_address_and_port(tmp_path: Path) -> None:
    f = tmp_path / "broker_0"
    f.write_text("ready\naddress 10.200.0.12\nport 40123\n")
    assert cluster.read_ready(f) == ("10.200.0.12", 40123)
    f.write_text("ready\n")
    assert cluster.read_ready(f) == (None, None)
    assert cluster.read_ready(tmp_path / "missing") == (None, None)


def test_outside_a_job_the_placement_is_refused() -> None:
    with pytest.raises(cluster.ClusterError, match="not a SLURM job"):
        cluster.placement(2, SPEC, None)


def test_step_prefix_names_job_and_node() -> None:
    from stallscope.experiment import placement as pl

    host = pl.Host(name="n2", kind="slurm_node", address="10.0.0.2", node="n2", job_id="17")
    argv = pl.step_prefix(host)
    assert argv[:5] == ["srun", "--jobid", "17", "-w", "n2"] and "--overlap" in argv


def _cfg(scn: dict) -> dict:
    return {"sut": {"kind": "reference", "source": "workflow/broker"},
            "scenarios": {"s": {"expected_cause": "none", "total_bytes": 1024, **scn}}}


def test_config_takes_slurm_nodes_and_refuses_it_with_a_network_block() -> None:
    validate_config(_cfg({"slurm_nodes": SPEC}), "c.yaml")
    with pytest.raises(StallscopeError, match="exclude each other"):
        validate_config(_cfg({"slurm_nodes": SPEC, "network": {"link_rate_mbit": 100}}), "c.yaml")
    with pytest.raises(StallscopeError):
        validate_config(_cfg({"slurm_nodes": {"brokers": ["n1; rm -rf /"], "publisher": "n3"}}), "c.yaml")


def _run(rates: list[float], nodes: list[str] | None = None, busy: list[int] | None = None,
         retrans: int = 3) -> RunDir:
    """Connections' TCP_INFO only (no per-phase figures): ``rates`` bytes per busy second per broker."""
    busy = busy or [2_000_000] * len(rates)
    conns = [{"broker": b, "conn": 0, "busy_us": u, "bytes_acked": int(r * u / 1e6), "rwnd_limited_us": 0,
              "sndbuf_limited_us": 0, "retrans": retrans} for b, (r, u) in enumerate(zip(rates, busy, strict=True))]
    roles = [{"name": f"broker_{b}", "host": {"kind": "slurm_node", "node": n, "address": "x"}}
             for b, n in enumerate(nodes or [])]
    return RunDir(dir=Path("."), run_id="s/t1", scenario="s", manifest={"placement": {"roles": roles}},
               metrics={"tcp": {"connections": conns}})


@pytest.mark.parametrize("seed", range(20))
def test_slow_path_is_named_by_ratio_whatever_the_rates(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 6)
    base = rng.uniform(1e6, 3e9)  # bytes per busy second: a slow machine to a fast one
    rates = [base * rng.uniform(0.8, 1.25) for _ in range(n)]
    slow = rng.randrange(n)
    nodes = [f"n{i + 1}" for i in range(n)]
    assert slow_brokers(_run(rates, nodes)) is None  # all within 25 %: nothing stands out
    rates[slow] = base * rng.uniform(0.01, 0.35)
    got = slow_brokers(_run(rates, nodes))
    assert got is not None and (got["cause"], got["brokers"]) == ("network", [slow]), got
    assert f"broker_{slow} on node n{slow + 1}" in got["summary"]
    assert got["shares"]["slow_path_ratio"] <= 0.35 / 0.8


def test_a_slow_path_that_finished_first_does_not_hold_the_run() -> None:
    """Fewer bytes per busy second, but busy for less time than another broker: not the path the run waits on."""
    assert slow_brokers(_run([1e8, 1e9, 1e9], busy=[1_000_000, 2_000_000, 2_000_000])) is None


def test_a_slow_path_without_retransmits_is_not_a_network_path() -> None:
    assert slow_brokers(_run([1e8, 1e9, 1e9], retrans=0)) is None


def test_where_without_placement_is_the_broker_name() -> None:
    assert where(RunDir(dir=Path("."), run_id="r", scenario="s", manifest=None, metrics={}), 3) == "broker_3"
