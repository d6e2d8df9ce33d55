"""Load and resolve config/config.yaml: validated against the schema before any value is read."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment.outside import OUTSIDE_KNOBS
from stallscope.schemas import format_validation_error, load_schema

INT64 = (-(2**63), 2**63 - 1)


def validate_config(data: Any, path: str | Path) -> dict[str, Any]:
    """Validate a config mapping (filling defaults) or raise naming the file and the bad key."""
    if not isinstance(data, dict):
        raise StallscopeError(path, None, "config must be a mapping")
    schema = load_schema("config.schema.yaml")
    errors = sorted(schemas.FillingValidator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise StallscopeError(path, None, format_validation_error(path, errors[0]))
    bad = _first_unbounded(data, "$")
    if bad is not None:
        raise StallscopeError(path, None, bad)
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


def _first_unbounded(value: Any, loc: str) -> str | None:
    """The first number a run cannot use: NaN or infinite (YAML ``.nan``, ``.inf``) or an integer beyond int64.

    The schema's ``minimum`` lets these through (NaN compares false, infinity is above every minimum), and
    they would fail only when the run starts: a timeout of ``.inf`` never fires, 2^70 bytes overflow the
    publisher's counters."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"at {loc}: must be a finite number; got {value}"
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        return f"at {loc}: beyond a 64-bit integer; got {value}"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _first_unbounded(v, f"{loc}[{k}]" if isinstance(k, int) else f"{loc}.{k}")
        if found is not None:
            return found
    return None


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a config file."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            data = schemas.load_yaml(fh)
    except FileNotFoundError:
        raise StallscopeError(p, None, "config file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise StallscopeError(p, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from None
    return validate_config(data, p)


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
