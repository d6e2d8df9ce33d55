from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stallscope.errors import StallscopeError
from stallscope.experiment.config import load_config, resolve_scenario

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_load_config_shipped_config_validates_and_fills_defaults() -> None:
    cfg = load_config(REPO / "config" / "config.yaml")
    assert cfg["run"]["stop_grace_s"] == 3
    assert {"e2e_10mb", "stress_10gb"} <= set(cfg["scenarios"])


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
