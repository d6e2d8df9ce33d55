"""Emulated hosts for real: namespaces, veth links and qdiscs made and removed, runs through them, the
delivered throughput of a shaped topology against its configured rates, and nothing of ours left behind
after an interrupt. Skips with the reason where namespaces cannot be made (no root, no iproute2).

The throughput test measures a rate: run it under the heavy lock (`make test` is).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from stallscope.experiment import netns
from stallscope.experiment import placement as pl
from stallscope.experiment.run import run_scenario

from .procs_helpers import children_of, wait_for

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "config.yaml"
SMALL = REPO / "tests" / "configs" / "small" / "config.yaml"
MIB = 1024 * 1024

pytestmark = pytest.mark.e2e


OUR_DEVICES = re.compile(r"^(b\d+|pub|br0)(@.*)?$")  # the names our devices have inside our namespaces


def _root_links() -> list[str]:
    """Links in the host's namespace that bear one of our device names (there must never be any).

    Only our names: other work on the machine (a SLURM test cluster) may add and remove its own links meanwhile.
    """
    out = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, timeout=10).stdout
    return sorted(n for n in (ln.split()[0] for ln in out.splitlines() if ln.strip()) if OUR_DEVICES.match(n))


def _unavailable(reason: str) -> None:
    # CI (root) sets STALLSCOPE_REQUIRE_NETNS so these tests cannot pass there by skipping.
    if os.environ.get("STALLSCOPE_REQUIRE_NETNS"):
        pytest.fail(f"STALLSCOPE_REQUIRE_NETNS is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def can_netns() -> None:
    """Skip (with the reason) unless a one-broker topology can really be built and removed here."""
    reason = netns.unavailable_reason()
    if reason:
        _unavailable(reason)
    p = pl.emulated(1, {"link_rate_mbit": 10, "qdisc": "tbf"}, netns.own_tag())
    try:
        with netns.topology(p):
            pass
    except netns.NetnsError as exc:
        _unavailable(f"emulated hosts cannot be built here: {exc}")


@pytest.fixture
def nothing_left(can_netns: None) -> Iterator[None]:
    """Around a test: our namespaces and the host's links are as they were."""
    before = netns.ours()
    assert _root_links() == []
    yield
    assert netns.ours() == before
    assert _root_links() == []


def _config(tmp_path: Path, scenarios: dict[str, dict]) -> Path:
    cfg = yaml.safe_load(SMALL.read_text())
    cfg["scenarios"] = scenarios
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def _metrics(run: Path) -> dict:
    for stage in ("parse", "metrics"):
        res = subprocess.run([sys.executable, "-m", "stallscope.cli", stage, str(run)], capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0, res.stderr
    return schemas.read_json(run / "metrics.json", "metrics")


def test_topology_is_built_shaped_and_removed_by_name(nothing_left: None) -> None:
    p = pl.emulated(3, {"link_rate_mbit": 80, "slow_broker": 2, "slow_rate_mbit": 8, "qdisc": "htb"},
                    netns.own_tag())
    with netns.topology(p) as built:
        assert sorted(built.namespaces) == sorted(p.namespaces())
        assert set(p.namespaces()) <= set(netns.list_namespaces())
        for r in p.roles:
            addr = subprocess.run(["ip", "-n", r.host.netns, "-4", "-br", "addr", "show", "eth0"],
                                  capture_output=True, text=True, timeout=10).stdout
            assert r.host.address in addr
        stats = netns.qdisc_stats(p)
        assert {(s["role"], s["direction"]) for s in stats} == {
            (f"broker_{i}", d) for i in range(3) for d in ("to_host", "from_host")}
        assert {s["rate_mbit"] for s in stats if s["role"] == "broker_2"} == {8.0}
        assert all(s["qdisc"] == "htb" and s["sent_bytes"] is not None for s in stats)
    assert not set(p.namespaces()) & set(netns.list_namespaces())


def test_a_failed_build_removes_what_it_made(nothing_left: None, monkeypatch: pytest.MonkeyPatch) -> None:
    p = pl.emulated(2, {"link_rate_mbit": 10, "qdisc": "tbf"}, netns.own_tag())
    real_plan = netns.plan
    # A step that fails after every namespace exists (as a missing qdisc module would).
    monkeypatch.setattr(netns, "plan", lambda q: real_plan(q) + [
        ["tc", "-n", q.switch_netns, "qdisc", "add", "dev", "b0", "root", "nosuchqdisc"]])
    with pytest.raises(netns.NetnsError, match="nosuchqdisc"):
        netns.build(p)


def test_sweep_removes_namespaces_of_dead_runners_only(nothing_left: None) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=10)
    stale = pl.emulated(1, {"link_rate_mbit": 10}, pl.run_tag(dead.pid, 1))
    live = pl.emulated(1, {"link_rate_mbit": 10}, netns.own_tag())
    netns.build(stale)
    try:
        with netns.topology(live):
            swept = netns.sweep_stale()
            assert sorted(swept) == sorted(stale.namespaces())
            assert set(live.namespaces()) <= set(netns.list_namespaces())
    finally:
        netns.teardown(stale.namespaces())


def test_run_through_namespaces_acknowledges_every_message(tmp_path: Path, ref_build: Path,
                                                           nothing_left: None) -> None:
    cfg = _config(tmp_path, {"shaped": {
        "expected_cause": "network", "total_bytes": 24 * MIB, "brokers": 3, "threads_per_broker": 2,
        "message_size": 4096, "ack_timeout_s": 30, "network": {"link_rate_mbit": 300}}})
    out = tmp_path / "run"
    run_scenario(cfg, "shaped", 1, ref_build, out)
    m = schemas.read_json(out / "manifest.json", "manifest")
    assert m["harness"] == {"ok": True, "errors": []}
    assert [p["exit_code"] for p in m["processes"]] == [0, 0, 0, 0]
    assert m["network"]["status"] == "shaped" and m["network"]["link_rate_sum_mbit"] == 900
    assert m["placement"]["kind"] == "netns"
    for p in m["processes"]:
        role = next(r for r in m["placement"]["roles"] if r["name"] == p["name"])
        assert p["argv"][:4] == ["ip", "netns", "exec", role["host"]["netns"]]
        assert p["argv"][p["argv"].index("--bind") + 1] == role["host"]["address"] != "0.0.0.0"
    client = (out / "client.log").read_text()
    assert "Publish test completed" in client
    for i in range(3):
        assert f"ACK connection established to {pl.PUBLISHER_ADDR}:" in (out / f"broker_{i}.log").read_text()
    # The socket evidence the bound reads is there for every connection.
    tcp = re.findall(r"\[TcpInfo\] broker=(\d+) conn=(\d+) busy_us=(\d+)", client)
    assert sorted((int(b), int(c)) for b, c, _ in tcp) == [(b, c) for b in range(3) for c in range(2)]
    assert all(int(busy) > 0 for _, _, busy in tcp)
    met = _metrics(out)
    assert met["acks"]["completeness"] == 1.0
    # Every byte to a broker passed through its shaped link.
    into = {q["role"]: q["sent_bytes"] for q in m["network"]["qdiscs"] if q["direction"] == "to_host"}
    assert sum(into.values()) >= 24 * MIB


#: TCP payload per Ethernet frame at MTU 1500 with TCP timestamps: 1448 of 1514 bytes on the wire.
PAYLOAD_PER_FRAME = 1448 / 1514


@pytest.mark.parametrize("which", ["shipped", "random"])
def test_network_limited_delivers_the_link_rate_sum(tmp_path: Path, ref_build: Path, nothing_left: None,
                                                    which: str) -> None:
    """Delivered payload rate within 10 % of the configured sum of link rates (the topology's physical limit)."""
    cfg = yaml.safe_load(SHIPPED.read_text())
    scn = cfg["scenarios"]["network_limited"]
    if which == "random":
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        scn["network"] = {"link_rate_mbit": round(rng.uniform(40, 250), 1), "qdisc": rng.choice(["tbf", "htb"])}
        brokers = scn["brokers"] = rng.randint(2, 4)
        # About 3 s of transfer at the configured rate, whatever it is.
        scn["total_bytes"] = int(scn["network"]["link_rate_mbit"] * brokers * 1e6 / 8 * 3) // 65536 * 65536
        print(f"seed {seed}: {brokers} brokers at {scn['network']}")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    run_scenario(path, "network_limited", 1, ref_build, out)
    m = schemas.read_json(out / "manifest.json", "manifest")
    assert m["harness"]["ok"], m["harness"]
    met = _metrics(out)
    assert met["acks"]["completeness"] == 1.0
    delivered_mbit = met["throughput"]["delivered_mb_s"] * MIB * 8 / 1e6
    ratio = delivered_mbit / m["network"]["link_rate_sum_mbit"]
    print(f"network_limited ({which}): delivered {delivered_mbit:.1f} Mbit/s of "
          f"{m['network']['link_rate_sum_mbit']:g} configured: ratio {ratio:.3f}")
    # Against the configured rate itself for the shipped scenario (the figure); for drawn rates, against
    # the payload that rate can carry (a full 1514-byte frame carries 1448 bytes of TCP payload with timestamps),
    # so that the header overhead, a larger share of a slower link's fixed costs, is not counted as a shortfall.
    limit = 1.0 if which == "shipped" else PAYLOAD_PER_FRAME
    assert 0.9 * limit <= ratio <= 1.1, (ratio, limit)
    # Shaped, not slowed by anything else: every link held packets back, and the senders did not wait for
    # the receiver's window or their own buffer.
    assert all(q["overlimits"] > 0 for q in m["network"]["qdiscs"] if q["direction"] == "to_host")
    tcp = re.findall(r"busy_us=(\d+) rwnd_limited_us=(\d+) sndbuf_limited_us=(\d+)", (out / "client.log").read_text())
    busy = sum(int(b) for b, _, _ in tcp)
    assert sum(int(r) + int(s) for _, r, s in tcp) < 0.1 * busy


def _runner(cfg: Path, scenario: str, build: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stallscope.cli", "run", "--config", str(cfg), "--scenario",
                             scenario, "--build", str(build), "--out", str(out)],
                            stderr=subprocess.DEVNULL)


def _slow_config(tmp_path: Path) -> Path:
    return _config(tmp_path, {"slow": {
        "expected_cause": "network", "total_bytes": 512 * MIB, "brokers": 2, "threads_per_broker": 1,
        "message_size": 65536, "ack_timeout_s": 120, "network": {"link_rate_mbit": 4}}})


def _wait_publishing(runner: subprocess.Popen) -> str:
    """Wait until the runner's publisher runs inside its namespace; return the runner's namespace prefix."""
    prefix = f"{pl.NS_PREFIX}{runner.pid}."
    wait_for(lambda: any("refpub" in " ".join(a) for _, a in children_of(runner.pid)), timeout_s=30)
    assert any(n.startswith(prefix) for n in netns.list_namespaces())
    return prefix


@pytest.mark.parametrize(("sig", "times"), [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 3)])
def test_interrupted_shaped_run_leaves_no_namespace_link_or_process(tmp_path: Path, ref_build: Path,
                                                                    nothing_left: None, sig: int, times: int) -> None:
    out = tmp_path / "run"
    runner = _runner(_slow_config(tmp_path), "slow", ref_build, out)
    try:
        prefix = _wait_publishing(runner)
        kids = [pid for pid, _ in children_of(runner.pid)]
        for _ in range(times):  # an impatient user: ^C again while the first one is being handled
            runner.send_signal(sig)
            time.sleep(0.02)
        assert runner.wait(timeout=30) == 130
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    assert not [n for n in netns.list_namespaces() if n.startswith(prefix)]
    assert all(not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
               for pid in kids)
    m = schemas.read_json(out / "manifest.interrupted.json", "manifest")
    assert m["network"]["status"] == "shaped" and any(e.startswith("interrupted") for e in m["harness"]["errors"])


def test_killed_runner_leftovers_are_swept_by_the_next_start(tmp_path: Path, ref_build: Path,
                                                             nothing_left: None) -> None:
    runner = _runner(_slow_config(tmp_path), "slow", ref_build, tmp_path / "run")
    try:
        prefix = _wait_publishing(runner)
        runner.kill()  # SIGKILL: no handler, no finally; the children die with it (PDEATHSIG)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    left = [n for n in netns.list_namespaces() if n.startswith(prefix)]
    assert left, "a SIGKILLed runner cannot tear down: its namespaces are what the sweep is for"
    assert sorted(set(left) & set(netns.sweep_stale())) == sorted(left)
    assert not [n for n in netns.list_namespaces() if n.startswith(prefix)]


def test_without_namespaces_the_run_is_a_skipped_record_that_reaches_the_report(
        tmp_path: Path, ref_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "network namespaces need root (running as uid 1000)"
    monkeypatch.setattr(netns, "unavailable_reason", lambda: reason)

    def must_not_build(*_args: object) -> None:
        raise AssertionError("a skipped run must not touch namespaces")

    monkeypatch.setattr(netns, "build", must_not_build)
    monkeypatch.setattr(netns, "sweep_stale", must_not_build)
    cfg = _config(tmp_path, {"shaped": {"expected_cause": "network", "total_bytes": MIB, "brokers": 2,
                                        "network": {"link_rate_mbit": 10}}})
    out = tmp_path / "shaped" / "t1"
    run_scenario(cfg, "shaped", 1, ref_build, out)
    m = schemas.read_json(out / "manifest.json", "manifest")
    assert m["processes"] == [] and not m["harness"]["ok"]
    assert m["harness"]["errors"] == [f"skipped: {reason}; not run on loopback, where its links would not be shaped"]
    assert m["network"]["status"] == "skipped" and m["network"]["reason"].startswith(reason)
    assert not (out / "broker_0.log").exists() and (out / "client.log").read_bytes() == b""
    _metrics(out)
    claims = tmp_path / "claims.json"
    for argv in (["assess", str(out), "--out", str(claims)], ["report", str(claims), "--out", str(tmp_path / "r")]):
        res = subprocess.run([sys.executable, "-m", "stallscope.cli", *argv], capture_output=True, text=True,
                             timeout=300)
        assert res.returncode == 0, res.stderr
    c = schemas.read_json(claims, "claims")
    assert c["runs"][0]["network"]["status"] == "skipped"
    assert "harness failed" in c["diagnosis"][0]["summary"] and reason in c["diagnosis"][0]["summary"]
    html = (tmp_path / "r" / "assessment.html").read_text()
    assert f"emulated hosts: skipped ({reason}" in html and "failed: skipped" not in html
