"""The placement model, the topology plan and the network block: pure checks that need no root."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import jsonschema
import pytest
import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment import netns
from stallscope.experiment import placement as pl
from stallscope.experiment.commands import REFERENCE_BROKER, broker_net_args, client_net_args, places_itself
from stallscope.experiment.config import load_config, resolve_scenario
from stallscope.render.viewmodel import network_text
from stallscope.shared.manifest import network_summary

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "config.yaml"


def _placement_schema() -> dict:
    return schemas.load_schema("manifest.schema.json")["properties"]["placement"]


def test_loopback_placement_puts_every_role_on_127_0_0_1_and_adds_no_flags() -> None:
    p = pl.loopback(4)
    assert {r.host.address for r in p.roles} == {"127.0.0.1"} and p.kind == "loopback"
    assert p.exec_prefix(p.broker(2)) == [] and p.namespaces() == []
    assert broker_net_args(p, 1) == [] and client_net_args(p) == []
    assert p.link_rate_sum_mbit() is None
    jsonschema.validate(p.to_record(), _placement_schema())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_emulated_placement_gives_each_role_its_own_namespace_address_and_link(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 32)
    rate = round(rng.uniform(1, 10000), 1)
    slow = rng.randrange(n)
    slow_rate = round(rate / rng.uniform(2, 50), 2)
    p = pl.emulated(n, {"link_rate_mbit": rate, "slow_broker": slow, "slow_rate_mbit": slow_rate, "qdisc": "htb"},
                    "123.456")
    addrs = [r.host.address for r in p.roles]
    assert len(set(addrs)) == n + 1
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network(pl.SUBNET) for a in addrs)
    assert "0.0.0.0" not in addrs
    assert len(set(p.namespaces())) == n + 2 and p.namespaces()[-1] == p.switch_netns
    assert all(pl.parse_tag(ns) == (123, 456) for ns in p.namespaces())
    assert [b.host.link.rate_mbit for b in p.brokers] == [slow_rate if i == slow else rate for i in range(n)]
    assert p.link_rate_sum_mbit() == pytest.approx(rate * (n - 1) + slow_rate)
    assert p.client.host.link.rate_mbit is None  # the publisher's own link is not the bottleneck under test
    assert p.exec_prefix(p.broker(0))[:3] == ["ip", "netns", "exec"]
    assert broker_net_args(p, slow) == ["--bind", p.broker(slow).host.address, "--ack-host", pl.PUBLISHER_ADDR]
    assert client_net_args(p) == ["--bind", pl.PUBLISHER_ADDR]
    jsonschema.validate(p.to_record(), _placement_schema())


def test_link_defaults_scale_with_the_rate_and_explicit_values_win() -> None:
    slow, fast = pl.link_for(10, {}, ("b0", "eth0")), pl.link_for(10000, {}, ("b0", "eth0"))
    assert slow.burst_bytes == 32768 and slow.queue_limit_bytes == 65536
    assert fast.burst_bytes == 2_500_000 and fast.queue_limit_bytes == 25_000_000
    given = pl.link_for(100, {"burst_bytes": 20000, "queue_limit_bytes": 90000, "qdisc": "htb"}, ("b0", "eth0"))
    assert (given.burst_bytes, given.queue_limit_bytes, given.qdisc) == (20000, 90000, "htb")


def test_parse_tag_recognises_only_our_names() -> None:
    assert pl.parse_tag("stallscope-42.7-b3") == (42, 7)
    assert pl.parse_tag("stallscope-42.7-sw") == (42, 7)
    for other in ("ns-n1", "stallscope-x-b0", "stallscope-42-b0", "mystallscope-1.2-b0", "stallscope-"):
        assert pl.parse_tag(other) is None


def test_plan_builds_nothing_in_the_host_namespace_and_shapes_both_ends_of_each_link() -> None:
    p = pl.emulated(3, {"link_rate_mbit": 100, "slow_broker": 1, "slow_rate_mbit": 5, "qdisc": "tbf"}, "9.9")
    cmds = netns.plan(p)
    for c in cmds:
        # Every device command names a namespace (ip -n / tc -n), so the host's own links are never touched.
        assert c[:3] == ["ip", "netns", "add"] or c[1] == "-n", c
    tbf = [c for c in cmds if "tbf" in c]
    assert len(tbf) == 6  # three brokers, both directions; the publisher's link is unshaped
    rates = sorted(c[c.index("rate") + 1] for c in tbf)
    assert rates == ["100mbit"] * 4 + ["5mbit"] * 2
    htb = netns.plan(pl.emulated(1, {"link_rate_mbit": 50, "qdisc": "htb"}, "9.9"))
    assert sum("htb" in c for c in htb) == 4 and sum("bfifo" in c for c in htb) == 2


def test_for_scenario_respects_namespaces_off() -> None:
    scn = {"params": {"brokers": 2}, "network": {"link_rate_mbit": 10, "namespaces": False}}
    assert pl.for_scenario(scn, "1.1").kind == "loopback"
    scn["network"]["namespaces"] = True
    assert pl.for_scenario(scn, "1.1").kind == "netns"
    assert pl.for_scenario({"params": {"brokers": 2}, "network": None}, "1.1").kind == "loopback"


def test_reference_broker_template_can_be_placed() -> None:
    assert places_itself(REFERENCE_BROKER)
    assert places_itself(["b", "--listen", "{bind_addr}:{port}"])
    assert not places_itself(["b", "--port", "{port}"])


def test_shipped_network_scenarios_resolve_with_their_cause() -> None:
    cfg = load_config(SHIPPED)
    for name in ("network_limited", "slow_link", "network_control"):
        scn = resolve_scenario(cfg, name)
        assert scn["network"]["namespaces"] is True and scn["network"]["qdisc"] == "tbf"
    # The shaped runs complete: their outcome has no failure to diagnose, their bound is the network.
    for name in ("network_limited", "slow_link"):
        assert (resolve_scenario(cfg, name)["expected_cause"], resolve_scenario(cfg, name)["expected_bound"]) == (
            "none", "network")
    assert resolve_scenario(cfg, "network_control")["expected_cause"] == "none"
    assert resolve_scenario(cfg, "e2e_10mb")["network"] is None


@pytest.mark.parametrize(("network", "needle"), [
    ({"link_rate_mbit": 10, "slow_broker": 4, "slow_rate_mbit": 1}, "network.slow_broker: 4 is not a broker"),
    ({"link_rate_mbit": 10, "slow_broker": 1}, "slow_rate_mbit"),
    ({"link_rate_mbit": 0}, "link_rate_mbit"),
    ({"link_rate_mbit": 10, "qdisc": "netem"}, "qdisc"),
    ({"link_rate_mbit": 10, "delay_ms": 5}, "delay_ms"),
])
def test_bad_network_block_names_the_file_and_key(tmp_path: Path, network: dict, needle: str) -> None:
    cfg = yaml.safe_load(SHIPPED.read_text())
    cfg["scenarios"]["slow_link"]["network"] = network
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(StallscopeError) as exc:
        load_config(path)
    assert str(path) in str(exc.value) and needle in str(exc.value)


def test_network_text_states_addresses_rates_and_a_skip_reason() -> None:
    p = pl.emulated(2, {"link_rate_mbit": 100, "slow_broker": 1, "slow_rate_mbit": 5, "qdisc": "tbf"}, "1.1")
    man = {"placement": p.to_record(), "network": {"status": "shaped", "reason": None, "link_rate_sum_mbit": 105.0}}
    line = network_text(network_summary(man))
    assert line == ("emulated hosts: brokers at 10.231.0.10–11: b0 100 Mbit/s tbf, b1 5 Mbit/s tbf; "
                    "publisher at 10.231.0.2: unshaped; broker links 105 Mbit/s in all")
    p4 = pl.emulated(4, {"link_rate_mbit": 100, "qdisc": "htb"}, "1.1")
    man4 = {"placement": p4.to_record(), "network": {"status": "shaped", "link_rate_sum_mbit": 400.0}}
    assert "brokers at 10.231.0.10–13: b0,b1,b2,b3 100 Mbit/s htb;" in network_text(network_summary(man4))
    nodes = {"network": {"status": "shaped", "link_rate_sum_mbit": None}, "placement": {"roles": [
        {"name": f"broker_{i}", "host": {"address": a, "link": {"rate_mbit": None, "qdisc": None}}}
        for i, a in enumerate(["10.200.0.12", "10.200.0.11"])]}}
    assert "brokers at 10.200.0.12, 10.200.0.11: b0,b1 unshaped" in network_text(network_summary(nodes))
    skipped = {"network": {"status": "skipped", "reason": "network namespaces need root", "link_rate_sum_mbit": None}}
    assert network_text(network_summary(skipped)) == "emulated hosts: skipped (network namespaces need root)"
    assert network_summary({"placement": pl.loopback(2).to_record()}) is None
