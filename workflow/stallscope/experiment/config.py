"""Load and resolve config/config.yaml: validated against the schema before any value is read.

The reading and the schema are ``shared.config`` (the panel reads the same file through it); this module adds what
only running a broker needs: an external SUT's command templates, the real Embarcadero's limits, a slow broker that
is one of the scenario's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.experiment.outside import OUTSIDE_KNOBS
from stallscope.shared.config import check_config, read_config_yaml


def validate_config(data: Any, path: str | Path) -> dict[str, Any]:
    """Validate a config mapping (filling defaults) or raise naming the file and the bad key."""
    data = check_config(data, path)
    sut = data["sut"]
    if sut["kind"] == "external":
        missing = [k for k in ("build_command", "broker_command", "client_command") if k not in sut]
        if missing:
            raise StallscopeError(path, None, f"at $.sut: an external broker needs {', '.join(missing)}")
        from stallscope.experiment.commands import build_templates, external_templates

        try:
            build_templates(sut)
            external_templates(sut)
        except StallscopeError as exc:
            raise StallscopeError(path, None, f"at $.{exc.msg}") from None
    if sut["kind"] == "embarcadero" and "folly" not in sut:
        raise StallscopeError(path, None, "at $.sut: kind embarcadero needs folly (a folly source directory or "
                                          "release tarball)")
    for name, sc in data["scenarios"].items():
        _check_network(path, name, sc, data["defaults"])
        if sc.get("embarcadero") and sut["kind"] != "embarcadero":
            raise StallscopeError(path, None, f"at $.scenarios.{name}.embarcadero: only for sut.kind embarcadero")
        compiled_in = sorted(set(sc.get("faults") or {}) - set(OUTSIDE_KNOBS))
        if sut["kind"] == "embarcadero" and (sc.get("network") or sc.get("slurm_nodes") or compiled_in):
            raise StallscopeError(path, None, f"at $.scenarios.{name}: the real Embarcadero runs on loopback with "
                                              "its own code (no network, slurm_nodes or faults but those applied "
                                              "from outside: " + ", ".join(OUTSIDE_KNOBS) + ")")
    return data


def _check_network(path: str | Path, name: str, sc: dict[str, Any], defaults: dict[str, Any]) -> None:
    """What the schema cannot say: the slow broker must be one of the scenario's brokers."""
    net = sc.get("network")
    if net and sc.get("slurm_nodes"):
        raise StallscopeError(path, None, f"at $.scenarios.{name}: network and slurm_nodes exclude each other (on a "
                                          "cluster the nodes' links are the network)")
    if not net or "slow_broker" not in net:
        return
    brokers = sc.get("brokers", defaults["brokers"])
    if net["slow_broker"] >= brokers:
        raise StallscopeError(path, None, f"at $.scenarios.{name}.network.slow_broker: {net['slow_broker']} is not "
                                          f"a broker of this scenario (brokers 0..{brokers - 1})")


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a config file."""
    return validate_config(read_config_yaml(path), Path(path))


def resolve_scenario(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """Merge the (validated, so default-filled) config's ``defaults`` and one scenario into the parameters a run
    uses."""
    scenarios = cfg["scenarios"]
    if name not in scenarios:
        raise StallscopeError(None, None, f"unknown scenario {name!r}; configured: {', '.join(sorted(scenarios))}")
    sc = scenarios[name]
    defaults = cfg["defaults"]  # every parameter, filled in by the schema where the config leaves one out
    params: dict[str, Any] = dict(defaults)
    params.update({k: sc[k] for k in defaults if k in sc})
    params["total_bytes"] = sc["total_bytes"]
    params["message_count"] = sc["total_bytes"] // params["message_size"]
    params["stall_threshold_ms"] = cfg["run"]["stall_threshold_ms"]
    return {
        "name": name,
        "description": sc.get("description", ""),
        "expected_cause": sc["expected_cause"],
        "expected_bound": sc.get("expected_bound"),
        "params": params,
        "faults": dict(sc.get("faults") or {}),
        "network": dict(sc["network"]) if sc.get("network") else None,
        "slurm_nodes": dict(sc["slurm_nodes"]) if sc.get("slurm_nodes") else None,
        "embarcadero": {**(cfg["sut"].get("embarcadero") or {}), **(sc.get("embarcadero") or {})},
    }
