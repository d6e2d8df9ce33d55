from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from stallscope.errors import StallscopeError
from stallscope.experiment.config import load_config, resolve_scenario
from stallscope.schemas import load_schema

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_load_config_shipped_config_validates() -> None:
    cfg = load_config(REPO / "config" / "config.yaml")
    assert {"e2e_10mb", "stress_10gb"} <= set(cfg["scenarios"])


def _schema_defaults(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v["default"] for k, v in block["properties"].items() if "default" in v}


def test_a_config_without_run_or_defaults_blocks_gets_the_schemas_defaults(tmp_path: Path) -> None:
    """No ``run:`` and no ``defaults:`` block: every value comes from the schema, none from code."""
    schema = load_schema("config.schema.yaml")
    want_run = _schema_defaults(schema["properties"]["run"])
    want_params = _schema_defaults(schema["$defs"]["params"])
    assert {"stop_grace_s", "stall_threshold_ms"} <= set(want_run)
    assert set(want_params) == set(schema["$defs"]["params"]["properties"])  # every parameter has a default
    cfg = load_config(_write(tmp_path, {"sut": {"kind": "reference", "source": "."},
                                        "scenarios": {"s": {"total_bytes": 4096, "expected_cause": "none"}}}))
    assert "run" in cfg and cfg["run"] == want_run
    assert cfg["defaults"] == want_params
    p = resolve_scenario(cfg, "s")["params"]
    assert {k: p[k] for k in want_params} == want_params
    assert p["stall_threshold_ms"] == want_run["stall_threshold_ms"]
    assert p["message_count"] == 4096 // want_params["message_size"]


def test_given_values_win_over_the_schemas_defaults(tmp_path: Path) -> None:
    rng = random.Random()
    grace, brokers, size = rng.randint(1, 600), rng.randint(1, 32), rng.randint(1, 4096)
    cfg = load_config(_write(tmp_path, {"sut": {"kind": "reference", "source": "."}, "run": {"stop_grace_s": grace},
                                        "defaults": {"brokers": brokers},
                                        "scenarios": {"s": {"total_bytes": 8192, "expected_cause": "none",
                                                            "message_size": size}}}))
    assert cfg["run"]["stop_grace_s"] == grace
    p = resolve_scenario(cfg, "s")["params"]
    assert (p["brokers"], p["message_size"], p["message_count"]) == (brokers, size, 8192 // size)


def test_resolve_scenario_e2e_10mb_matches_seed_parameters() -> None:
    cfg = load_config(REPO / "config" / "config.yaml")
    p = resolve_scenario(cfg, "e2e_10mb")["params"]
    assert (p["total_bytes"], p["message_count"], p["brokers"], p["order"], p["ack_level"], p["ack_timeout_s"]) == (
        10_240_000, 10_000, 4, 0, 1, 5)


def test_resolve_scenario_stress_10gb_is_10_gib_of_1_kib() -> None:
    cfg = load_config(REPO / "config" / "config.yaml")
    p = resolve_scenario(cfg, "stress_10gb")["params"]
    assert p["message_count"] == 10_485_760 and p["ack_timeout_s"] == 120


def test_load_config_bad_value_names_file_and_key(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["scenarios"]["e2e_10mb"]["brokers"] = "four"
    with pytest.raises(StallscopeError) as exc:
        load_config(_write(tmp_path, cfg))
    msg = str(exc.value)
    assert "config.yaml" in msg and "$.scenarios.e2e_10mb.brokers" in msg and "'four'" in msg


def test_load_config_typo_in_fault_knob_is_rejected(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["scenarios"]["e2e_10mb"]["faults"]["linger_secs"] = 3
    with pytest.raises(StallscopeError, match="linger_secs"):
        load_config(_write(tmp_path, cfg))


def test_load_config_external_without_commands_is_rejected(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["sut"] = {"kind": "external", "source": "."}
    with pytest.raises(StallscopeError, match="build_command"):
        load_config(_write(tmp_path, cfg))


def test_load_config_broken_yaml_names_line(tmp_path: Path) -> None:
    p = tmp_path / "config.yaml"
    p.write_text("sut:\n  kind: reference\n  source: [unclosed\n")
    with pytest.raises(StallscopeError) as exc:
        load_config(p)
    assert exc.value.line is not None


def test_resolve_scenario_unknown_name_lists_configured() -> None:
    cfg = load_config(REPO / "config" / "config.yaml")
    with pytest.raises(StallscopeError, match="e2e_10mb"):
        resolve_scenario(cfg, "e2e_10MB")
