"""The manifest record (``manifest/1``): built in one place by ``run``, ``ingest`` and the tests; read here for the
runs table's network facts.

A field nobody knows is null (or empty), never guessed: an ingested run has no host, no processes and no harness
errors, a run made here fills them. The parameter keys come from the schema, so a key added there is added here.
"""

from __future__ import annotations

import copy
from typing import Any

from stallscope import __version__, schemas

SCHEMA = "manifest/1"

#: every field of a run whose facts are unknown (logs made elsewhere); callers override what they know
_UNKNOWN: dict[str, Any] = {
    "expected_cause": None,
    "faults": {},
    "sut": {"id": "unknown", "source": None, "commit": None, "is_dirty": None, "diff_sha256": None,
            "commit_date": None, "commit_subject": None, "binaries": {}},
    "stallscope": {"version": __version__, "commit": None, "is_dirty": None},
    "host": {"hostname": None, "kernel": None, "cpu_model": None, "cores": None, "memory_bytes": None},
    "slurm": {"job_id": None, "node": None},
    "started_utc": None,
    "ended_utc": None,
    "utc_offset_s": None,
    "processes": [],
    "ports": {},
    "timeouts_hit": [],
    "harness": {"ok": True, "errors": []},
    "notes": [],
    "files": {"client_log": None, "broker_logs": []},
    "clock_aligned": True,
    "rerun_command": None,
}


def _param_keys() -> tuple[list[str], list[str]]:
    """(required, optional) keys of ``params`` in the manifest schema."""
    spec = schemas.load_schema(schemas.KINDS["manifest"][0])["properties"]["params"]
    required = list(spec["required"])
    return required, [k for k in spec["properties"] if k not in required]


def manifest_params(params: dict[str, Any]) -> dict[str, Any]:
    """The schema's parameters out of ``params``: every required key (null when absent), optional keys when
    given, anything else (a scenario's ``trials``, say) left out."""
    required, optional = _param_keys()
    return {k: params.get(k) for k in required} | {k: params[k] for k in optional if k in params}


def new_manifest(run_id: str, scenario: str, trial: int, origin: str, **known: Any) -> dict[str, Any]:
    """A complete manifest record: the run's identity, ``known`` fields as given (``params`` through
    ``manifest_params``), every other field unknown. The caller writes it with ``schemas.write_json``."""
    record: dict[str, Any] = {"schema": SCHEMA, "run_id": run_id, "scenario": scenario, "trial": trial,
                              "origin": origin, "params": manifest_params(known.pop("params", {}))}
    for key, value in _UNKNOWN.items():
        record[key] = known.pop(key) if key in known else copy.deepcopy(value)
    record.update(known)  # optional fields (placement, network, attempt, stall_timers)
    order = list(schemas.load_schema(schemas.KINDS["manifest"][0])["properties"])
    return dict(sorted(record.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def network_summary(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The runs-table facts of a manifest's network: status, each role's address and link; None without one."""
    net = manifest.get("network")
    if not net:
        return None
    roles = (manifest.get("placement") or {}).get("roles") or []
    links = [{"name": r["name"], "address": r["host"]["address"], "rate_mbit": r["host"]["link"]["rate_mbit"],
              "qdisc": r["host"]["link"]["qdisc"]} | ({"node": r["host"]["node"]} if r["host"].get("node") else {})
             for r in roles]
    return {"status": net["status"], "reason": net.get("reason"), "link_rate_sum_mbit": net.get("link_rate_sum_mbit"),
            "links": links}
