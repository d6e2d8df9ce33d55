"""Multi-node runs inside one SLURM job: each broker and the publisher on the node the scenario names.

The job (submitted by Snakemake with ``--nodes``/``--nodelist`` from the scenario's ``slurm_nodes``) holds every
node the run needs; the runner, in the job's batch step, starts each role as an ``srun -w <node>`` step of that
job. Addresses come from SLURM (``scontrol show node``: node names need not resolve), each broker's ready file on
the shared run directory carries the address and port it listens on, the publisher starts last. Whatever
happens, the runner ends every step of its job before it returns (``scancel`` of each step, waits bounded).

Link shaping is the cluster's business, not the runner's: where a test cluster shapes a node's link it says so
in the JSON file named by ``STALLSCOPE_SLURM_LINKS`` ({node: {rate_mbit, qdisc, ...}}), and the manifest records it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from stallscope.experiment import interrupts
from stallscope.experiment import placement as pl

#: Seconds for one SLURM client command (a wedged controller must not hang the run).
CMD_TIMEOUT_S = 10
LINKS_ENV = "STALLSCOPE_SLURM_LINKS"


class ClusterError(Exception):
    """The run cannot be placed on the cluster (not in a job, a node unknown, SLURM not answering)."""


def nodes_of(spec: dict[str, Any]) -> list[str]:
    """Every node a ``slurm_nodes`` block names, each once, brokers' first (the order of --nodelist)."""
    seen: list[str] = []
    for n in [*spec["brokers"], spec["publisher"]]:
        if n not in seen:
            seen.append(n)
    return seen


def _run(argv: list[str]) -> str:
    try:
        with interrupts.shielded():  # a ^C meant for the run must not kill the scheduler query it makes
            res = subprocess.run(argv, capture_output=True, text=True, timeout=CMD_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClusterError(f"{argv[0]}: {exc}") from None
    if res.returncode != 0:
        raise ClusterError(f"{' '.join(argv)}: {(res.stderr or res.stdout).strip()[:300]}")
    return res.stdout


def node_address(node: str) -> str:
    """The node's address as SLURM knows it (NodeAddr)."""
    m = re.search(r"\bNodeAddr=(\S+)", _run(["scontrol", "show", "node", node]))
    if not m:
        raise ClusterError(f"scontrol show node {node}: no NodeAddr")
    return m.group(1)


def job_nodes(job_id: str) -> list[str]:
    """The nodes the job holds (its NodeList, expanded)."""
    m = re.search(r"\bNodeList=(\S+)", _run(["scontrol", "show", "job", job_id]))
    if not m or m.group(1) == "(null)":
        raise ClusterError(f"job {job_id} holds no nodes")
    return _run(["scontrol", "show", "hostnames", m.group(1)]).split()


def shaped_links() -> dict[str, dict[str, Any]]:
    """The test cluster's record of shaped node links ({} when it shapes none)."""
    path = os.environ.get(LINKS_ENV)
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _link(rec: dict[str, Any] | None) -> pl.Link:
    if not rec:
        return pl.Link()
    return pl.Link(rate_mbit=float(rec["rate_mbit"]), qdisc=rec.get("qdisc"), burst_bytes=rec.get("burst_bytes"),
                   queue_limit_bytes=rec.get("queue_limit_bytes"), devices=tuple(rec.get("devices") or ()))


def placement(brokers: int, spec: dict[str, Any], job_id: str | None) -> pl.Placement:
    """Each role on its node, at the node's address, behind the node's link; raises when it cannot be placed."""
    if not job_id:
        raise ClusterError("the scenario places its roles on SLURM nodes, but this is not a SLURM job")
    held = set(job_nodes(job_id))
    wanted = nodes_of(spec)
    missing = [n for n in wanted if n not in held]
    if missing:
        raise ClusterError(f"job {job_id} holds {sorted(held)}, not {missing}")
    links = shaped_links()
    hosts = {n: pl.Host(name=n, kind="slurm_node", address=node_address(n), node=n, job_id=job_id,
                        link=_link(links.get(n))) for n in wanted}
    roles = [pl.Role(f"broker_{i}", "broker", i, hosts[spec["brokers"][i % len(spec["brokers"])]])
             for i in range(brokers)]
    roles.append(pl.Role("client", "client", None, hosts[spec["publisher"]]))
    return pl.Placement("slurm", roles, tag=job_id)


def steps(job_id: str) -> list[str]:
    """The job's steps the runner started (by name: never the batch step nor the one the runner runs in)."""
    try:
        out = _run(["squeue", "-h", "-s", "-j", job_id, "-o", "%i|%j"])
    except ClusterError:
        return []
    pairs = [line.split("|", 1) for line in out.splitlines() if "|" in line]
    return [i for i, name in pairs if name == pl.STEP_NAME and re.fullmatch(rf"{re.escape(job_id)}\.\d+", i)]


def end_steps(job_id: str, timeout_s: float = 15.0) -> list[str]:
    """Cancel every step the runner started in ``job_id`` and wait (bounded) until none is left.

    Returns the steps still listed when the wait ran out (empty on success).
    """
    left = steps(job_id)
    if left:
        with interrupts.shielded():  # a second ^C must not stop the cleanup half done
            subprocess.run(["scancel", "--signal=CONT", *left], capture_output=True, timeout=CMD_TIMEOUT_S,
                           check=False)
            subprocess.run(["scancel", *left], capture_output=True, timeout=CMD_TIMEOUT_S, check=False)
    deadline = time.monotonic() + timeout_s
    while left and time.monotonic() < deadline:
        time.sleep(0.25)
        left = steps(job_id)
    return left


def read_ready(path: Path) -> tuple[str | None, int | None]:
    """(address, port) from a broker's ready file; (None, None) when it carries only "ready"."""
    addr = port = None
    try:
        for line in path.read_text(errors="replace").splitlines()[1:]:
            key, _, val = line.partition(" ")
            if key == "address":
                addr = val.strip()
            elif key == "port" and val.strip().isdigit():
                port = int(val)
    except OSError:
        pass
    return addr, port


def job_nodes_wanted(config: dict[str, Any], scenario: str) -> int:
    """How many nodes the run's job must hold (1 unless the scenario places its roles on SLURM nodes)."""
    spec = (config["scenarios"].get(scenario) or {}).get("slurm_nodes")
    return len(nodes_of(spec)) if spec else 1


def job_extra(config: dict[str, Any], scenario: str) -> str:
    """The run job's extra sbatch flags: the whole node(s), and the named nodes for a multi-node run.

    ``--exclusive`` as for every run (nothing may share its cores or links); ``--nodelist`` so the job holds
    exactly the nodes the steps will be started on.
    """
    spec = (config["scenarios"].get(scenario) or {}).get("slurm_nodes")
    return "--exclusive" + (f" --nodelist={','.join(nodes_of(spec))}" if spec else "")
