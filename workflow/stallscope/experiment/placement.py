"""Placement: which role (broker i, the publisher) runs on which host, at which address, behind which link.

One model for every way a run is spread out, so the runner, the manifest and the report read one structure:

- ``loopback``: every role on one host, 127.0.0.1, no link of its own (the default);
- ``netns``: each role on an emulated host, a network namespace with one veth link, shaped by a qdisc
  (``experiment/netns.py`` builds it);
- ``slurm``: each role on a cluster node; the address comes from the node (its ready file) and the link is the
  node's, shaped only where the test cluster applies one. The multi-node issue fills ``Host(kind="slurm_node")``
  with the node name and job id; nothing else in this module changes.

The model holds facts only (names, addresses, rates, and the argv prefix that starts a process on a host:
``ip netns exec``, ``srun``); creating namespaces or asking SLURM about nodes and steps is done elsewhere
(``netns.py``, ``cluster.py``, which import this module and never the other way round).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

LOOPBACK_ADDR = "127.0.0.1"
#: Emulated hosts live on 10.231.0.0/24 (RFC 1918, unlikely on a lab or CI network). The addresses exist only
#: inside our namespaces: the host's own interfaces and routes never see them.
SUBNET = "10.231.0.0/24"
PUBLISHER_ADDR = "10.231.0.2"
BROKER_ADDR_BASE = 10  # broker i at 10.231.0.(10 + i)
#: Every namespace of ours starts with this; the run's tag (runner PID and its start time) follows.
NS_PREFIX = "stallscope-"
_TAG = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Link:
    """The link between a host and the rest of the run; rate None means unshaped (veth speed, CPU-bound)."""

    rate_mbit: float | None = None
    qdisc: str | None = None  # "tbf" or "htb" when shaped
    burst_bytes: int | None = None
    queue_limit_bytes: int | None = None
    #: Where the shaping sits: device names in the switch namespace (towards the host) and inside the host.
    devices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Host:
    """A place a process runs: the machine itself, a network namespace, or a cluster node."""

    name: str
    kind: str  # "loopback" | "netns" | "slurm_node"
    address: str
    netns: str | None = None  # the namespace to enter (kind netns)
    node: str | None = None  # the SLURM node name (kind slurm_node)
    job_id: str | None = None  # the SLURM job that holds the node (kind slurm_node)
    link: Link = field(default_factory=Link)


@dataclass(frozen=True)
class Role:
    """One process of a run and the host it runs on."""

    name: str  # "broker_<i>" or "client"
    role: str  # "broker" or "client"
    broker: int | None
    host: Host


@dataclass
class Placement:
    """Every role of one run with its host; ``kind`` says how hosts are made."""

    kind: str  # "loopback" | "netns" | "slurm"
    roles: list[Role]
    subnet: str | None = None
    tag: str | None = None  # what names this run's namespaces (netns) or job (slurm)
    switch_netns: str | None = None  # the namespace holding the bridge (netns)

    def broker(self, i: int) -> Role:
        return next(r for r in self.roles if r.role == "broker" and r.broker == i)

    @property
    def client(self) -> Role:
        return next(r for r in self.roles if r.role == "client")

    @property
    def brokers(self) -> list[Role]:
        return sorted((r for r in self.roles if r.role == "broker"), key=lambda r: r.broker or 0)

    def namespaces(self) -> list[str]:
        """Every namespace of this placement, the switch last (it holds the far ends of the links)."""
        names = [r.host.netns for r in self.roles if r.host.netns]
        return names + ([self.switch_netns] if self.switch_netns else [])

    def exec_prefix(self, role: Role) -> list[str]:
        """The argv prefix that starts a process on ``role``'s host (empty on loopback)."""
        if role.host.kind == "netns" and role.host.netns:
            return ["ip", "netns", "exec", role.host.netns]
        if role.host.kind == "slurm_node":
            return step_prefix(role.host)
        return []

    def link_rate_sum_mbit(self) -> float | None:
        """Sum of the brokers' link rates: the most this topology can carry from publisher to brokers."""
        rates = [r.host.link.rate_mbit for r in self.brokers]
        return None if not rates or any(x is None for x in rates) else float(sum(rates))  # type: ignore[arg-type]

    def to_record(self) -> dict[str, Any]:
        """The manifest's ``placement``: every host with its address and link (what the bound needs)."""
        hosts = []
        for r in self.roles:
            h = asdict(r.host)
            h["link"]["devices"] = list(r.host.link.devices)
            hosts.append({"name": r.name, "role": r.role, "broker": r.broker, "host": h})
        return {"kind": self.kind, "subnet": self.subnet, "tag": self.tag, "switch_netns": self.switch_netns,
                "link_rate_sum_mbit": self.link_rate_sum_mbit(), "roles": hosts}


#: Every step the runner starts on a cluster node is named so; the step the runner itself runs in (Snakemake's) is
#: not (``cluster.steps`` tells them apart by it).
STEP_NAME = "stallscope-role"


def step_prefix(host: Host) -> list[str]:
    """``srun`` that starts one task on ``host``'s node as a step of the job holding it.

    ``--overlap``: the runner's own step holds the node's CPUs; ``--kill-on-bad-exit``: a task that dies ends its
    step; ``--input none``: a step never reads the runner's stdin; the name tells our steps from the runner's.
    """
    return ["srun", "--jobid", str(host.job_id), "-w", str(host.node), "-N1", "-n1", "--overlap",
            "--input", "none", "--kill-on-bad-exit=1", "-J", STEP_NAME]


def loopback(brokers: int) -> Placement:
    """Every role on this machine's loopback."""
    host = Host(name="loopback", kind="loopback", address=LOOPBACK_ADDR)
    roles = [Role(f"broker_{i}", "broker", i, host) for i in range(brokers)]
    roles.append(Role("client", "client", None, host))
    return Placement("loopback", roles)


def run_tag(pid: int, start_ticks: int) -> str:
    """The tag naming one runner's namespaces: its PID and its start time (so a reused PID is not mistaken)."""
    return f"{pid}.{start_ticks}"


def parse_tag(netns_name: str) -> tuple[int, int] | None:
    """(pid, start ticks) of one of our namespace names, else None (not ours)."""
    if not netns_name.startswith(NS_PREFIX):
        return None
    rest = netns_name[len(NS_PREFIX):]
    tag, _, _role = rest.partition("-")
    m = _TAG.match(tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def link_for(rate_mbit: float, network: dict[str, Any], devices: tuple[str, ...]) -> Link:
    """A shaped link: burst at least 32 KiB or 2 ms of the rate, queue 20 ms of the rate unless configured."""
    rate_bytes_s = rate_mbit * 1e6 / 8
    burst = int(network.get("burst_bytes") or max(32768, rate_bytes_s * 0.002))
    limit = int(network.get("queue_limit_bytes") or max(65536, rate_bytes_s * 0.020))
    return Link(rate_mbit=float(rate_mbit), qdisc=network.get("qdisc", "tbf"), burst_bytes=burst,
                queue_limit_bytes=limit, devices=devices)


def emulated(brokers: int, network: dict[str, Any], tag: str) -> Placement:
    """One namespace per broker and one for the publisher, each with its own link, on ``SUBNET``.

    ``network`` is a scenario's validated ``network:`` block: ``link_rate_mbit`` for every broker,
    ``slow_broker``/``slow_rate_mbit`` for one slower broker, ``publisher_rate_mbit`` (unshaped when absent).
    """
    base = f"{NS_PREFIX}{tag}"
    roles = []
    slow = network.get("slow_broker")
    for i in range(brokers):
        rate = network["slow_rate_mbit"] if slow is not None and i == slow else network["link_rate_mbit"]
        link = link_for(rate, network, (f"b{i}", "eth0"))
        host = Host(name=f"b{i}", kind="netns", address=f"10.231.0.{BROKER_ADDR_BASE + i}", netns=f"{base}-b{i}",
                    link=link)
        roles.append(Role(f"broker_{i}", "broker", i, host))
    pub_rate = network.get("publisher_rate_mbit")
    pub_link = link_for(pub_rate, network, ("pub", "eth0")) if pub_rate else Link(devices=("pub", "eth0"))
    roles.append(Role("client", "client", None,
                      Host(name="pub", kind="netns", address=PUBLISHER_ADDR, netns=f"{base}-pub", link=pub_link)))
    return Placement("netns", roles, subnet=SUBNET, tag=tag, switch_netns=f"{base}-sw")


def for_scenario(scn: dict[str, Any], tag: str) -> Placement:
    """The placement a resolved scenario asks for: emulated hosts when its ``network`` block says so."""
    net = scn.get("network")
    n = scn["params"]["brokers"]
    if net and net.get("namespaces", True):
        return emulated(n, net, tag)
    return loopback(n)
