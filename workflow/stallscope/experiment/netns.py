"""Emulated hosts: network namespaces joined by shaped veth links, built for one run and torn down by name.

Topology: a *switch* namespace holds a Linux bridge; every emulated host (one per broker, one for the
publisher) is a namespace whose ``eth0`` is one end of a veth pair, the other end a port of that bridge.
A bridge inside its own namespace rather than a router namespace or a bridge on the host: one L2 segment
and one subnet need no routes or forwarding sysctls, and since nothing is created in the host's namespace,
the host's ``ip link`` and routing table never see our devices or our 10.231.0.0/24 addresses, two runs at
once cannot collide, and deleting our namespaces removes every device (a veth dies with its namespace).

A link is shaped in both directions with the same qdisc and rate: on the bridge port (traffic towards the
host, the publish data into a broker) and on the host's ``eth0`` (traffic from it, the broker's ACKs).
This kernel has tbf and htb, not netem, fq or fq_codel: rate and queue only, no added delay or loss.

Every command is an argument list with a timeout; nothing goes through a shell.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from stallscope.experiment import interrupts
from stallscope.experiment import placement as pl

CMD_TIMEOUT_S = 10.0
GONE_TIMEOUT_S = 5.0


class NetnsError(Exception):
    """A step of building the topology failed; the message names the command and what it printed."""


@dataclass
class Built:
    """What was created, so teardown removes exactly that (and reports what it could not)."""

    namespaces: list[str]
    commands: list[list[str]]


def _run(argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        with interrupts.shielded():  # a ^C meant for the run must not kill an `ip` half way through setup or teardown
            cp = subprocess.run(list(argv), capture_output=True, text=True, timeout=CMD_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"{' '.join(argv)}: {exc}") from None
    if check and cp.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: {(cp.stderr or cp.stdout).strip() or f'exit {cp.returncode}'}")
    return cp


def unavailable_reason() -> str | None:
    """Why namespaces cannot be used here (a sentence for the report), or None when they can."""
    if os.geteuid() != 0:
        return f"network namespaces need root (running as uid {os.geteuid()})"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` (iproute2) is not installed"
    if not os.path.isdir("/proc/self/ns") or not os.path.exists("/proc/self/ns/net"):
        return "this kernel has no network namespaces (/proc/self/ns/net missing)"
    return None


def process_start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), None if no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def own_tag() -> str:
    """This process's tag: its namespaces are ``stallscope-<pid>.<start>-*``."""
    pid = os.getpid()
    return pl.run_tag(pid, process_start_ticks(pid) or 0)


def list_namespaces() -> list[str]:
    """Names in ``ip netns list`` (the first word of each line)."""
    cp = _run(["ip", "netns", "list"], check=False)
    return [ln.split()[0] for ln in cp.stdout.splitlines() if ln.strip()]


def ours(names: Sequence[str] | None = None) -> list[str]:
    """Our namespaces among ``names`` (default: all present)."""
    return [n for n in (list_namespaces() if names is None else names) if pl.parse_tag(n) is not None]


def _shape(ns: str, dev: str, link: pl.Link) -> list[list[str]]:
    """tc commands that cap ``dev`` in ``ns`` at the link's rate with its burst and queue limit."""
    tc = ["tc", "-n", ns]
    rate = f"{link.rate_mbit:g}mbit"
    if link.qdisc == "htb":
        return [
            tc + ["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "1"],
            tc + ["class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", rate, "ceil", rate,
                  "burst", str(link.burst_bytes), "cburst", str(link.burst_bytes)],
            tc + ["qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:", "bfifo", "limit",
                  str(link.queue_limit_bytes)],
        ]
    return [tc + ["qdisc", "add", "dev", dev, "root", "tbf", "rate", rate, "burst", str(link.burst_bytes),
                  "limit", str(link.queue_limit_bytes)]]


def plan(p: pl.Placement) -> list[list[str]]:
    """Every command that builds ``p``'s topology, in order (pure: used by build and by the tests)."""
    assert p.kind == "netns" and p.switch_netns, "only an emulated placement has namespaces"
    sw = p.switch_netns
    cmds = [["ip", "netns", "add", sw],
            ["ip", "-n", sw, "link", "set", "lo", "up"],
            ["ip", "-n", sw, "link", "add", "br0", "type", "bridge"],
            ["ip", "-n", sw, "link", "set", "br0", "up"]]
    prefix = (p.subnet or pl.SUBNET).split("/")[1]
    for r in p.roles:
        h = r.host
        assert h.netns is not None
        port = h.link.devices[0]
        cmds += [["ip", "netns", "add", h.netns],
                 ["ip", "-n", h.netns, "link", "set", "lo", "up"],
                 ["ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h.netns],
                 ["ip", "-n", sw, "link", "set", port, "master", "br0"],
                 ["ip", "-n", sw, "link", "set", port, "up"],
                 ["ip", "-n", h.netns, "addr", "add", f"{h.address}/{prefix}", "dev", "eth0"],
                 ["ip", "-n", h.netns, "link", "set", "eth0", "up"]]
        if h.link.rate_mbit is not None:
            cmds += _shape(sw, port, h.link) + _shape(h.netns, "eth0", h.link)
    return cmds


def _wait_carrier(p: pl.Placement, timeout_s: float) -> None:
    """Wait (bounded) until every host's eth0 is up, so the first connect does not meet a link coming up."""
    deadline = time.monotonic() + timeout_s
    pending = [r.host.netns for r in p.roles if r.host.netns]
    while pending and time.monotonic() < deadline:
        pending = [ns for ns in pending
                   if "LOWER_UP" not in _run(["ip", "-n", ns, "-br", "link", "show", "eth0"], check=False).stdout]
        if pending:
            time.sleep(0.05)
    if pending:
        raise NetnsError(f"link not up after {timeout_s:g} s in {', '.join(pending)}")


def build(p: pl.Placement) -> Built:
    """Create ``p``'s namespaces, links and qdiscs; on any failure remove what was made and raise NetnsError."""
    built = Built(namespaces=[], commands=[])
    try:
        for cmd in plan(p):
            _run(cmd)
            built.commands.append(cmd)
            if cmd[:3] == ["ip", "netns", "add"]:
                built.namespaces.append(cmd[3])
        _wait_carrier(p, GONE_TIMEOUT_S)
    except BaseException:
        teardown(built.namespaces)
        raise
    return built


def _kill_inside(ns: str) -> list[str]:
    """SIGKILL what still runs in one of our namespaces (only processes we started run there)."""
    left = _run(["ip", "netns", "pids", ns], check=False).stdout.split()
    for pid in left:
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError):
            pass
    return left


def teardown(namespaces: Sequence[str]) -> list[str]:
    """Delete the given namespaces of ours (switch last), waiting (bounded) until they are gone.

    Returns problems worth recording (processes that were still inside, a namespace that would not go).
    """
    problems = []
    for ns in namespaces:
        if pl.parse_tag(ns) is None:
            continue  # never touch a namespace that is not ours
        left = _kill_inside(ns)
        if left:
            problems.append(f"{ns}: killed processes still inside ({', '.join(left)})")
        _run(["ip", "netns", "del", ns], check=False)
    deadline = time.monotonic() + GONE_TIMEOUT_S
    remaining = [n for n in namespaces if n in list_namespaces()]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = [n for n in remaining if n in list_namespaces()]
    problems += [f"{ns}: still listed after {GONE_TIMEOUT_S:g} s" for ns in remaining]
    return problems


def sweep_stale() -> list[str]:
    """Remove our namespaces whose runner is gone (its PID dead, or reused by a later process)."""
    stale = []
    for ns in ours():
        tag = pl.parse_tag(ns)
        assert tag is not None
        pid, ticks = tag
        if process_start_ticks(pid) != ticks:
            stale.append(ns)
    stale.sort(key=lambda n: n.endswith("-sw"))
    if stale:
        teardown(stale)
    return stale


HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP for a bounded step: a second ^C waits until the namespaces are gone,
    then is delivered as usual."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def topology(p: pl.Placement) -> Iterator[Built]:
    """Build ``p`` for the duration of a ``with`` block; tear it down on every way out (signals included).

    Building and teardown each finish before a signal is acted on (both are bounded), so an interrupt never
    leaves half a topology behind.
    """
    with signals_held():
        built = build(p)
    try:
        yield built
    finally:
        with signals_held():
            teardown(p.namespaces())


def qdisc_stats(p: pl.Placement) -> list[dict[str, Any]]:
    """The shaping qdisc of every shaped device with its counters (bytes, packets, drops, overlimits).

    Read after the processes stopped and before teardown: overlimits and backlog say the link, not the
    sender, set the pace; drops explain retransmits.
    """
    rows = []
    for r in p.roles:
        h = r.host
        if h.link.rate_mbit is None or h.netns is None or p.switch_netns is None:
            continue
        for ns, dev, direction in ((p.switch_netns, h.link.devices[0], "to_host"),
                                   (h.netns, h.link.devices[1], "from_host")):
            cp = _run(["tc", "-n", ns, "-s", "-j", "qdisc", "show", "dev", dev], check=False)
            try:
                found = [q for q in json.loads(cp.stdout or "[]") if q.get("kind") in ("tbf", "htb", "bfifo")]
            except json.JSONDecodeError:
                found = []
            root = next((q for q in found if q.get("kind") == h.link.qdisc), {})
            leaf = next((q for q in found if q.get("kind") == "bfifo"), root)
            rows.append({"role": r.name, "netns": ns, "device": dev, "direction": direction, "qdisc": h.link.qdisc,
                         "rate_mbit": h.link.rate_mbit, "burst_bytes": h.link.burst_bytes,
                         "queue_limit_bytes": h.link.queue_limit_bytes,
                         "sent_bytes": root.get("bytes"), "sent_packets": root.get("packets"),
                         "drops": leaf.get("drops"), "overlimits": root.get("overlimits"),
                         "requeues": root.get("requeues")})
    return rows
