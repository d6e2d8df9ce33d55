"""A bad config stops the dry run with one line (``file: at $.key: ...``), exit 1, and no Snakemake schema dump.

Each value here is one a dry run would otherwise accept and that fails only when the job runs (or never): NaN
and infinite timeouts, integers beyond 64 bits, an external SUT without its client command or with an unknown
placeholder.
The stages read the same checks (``stallscope build/run --config``), so both paths say the same thing.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from stallscope.errors import StallscopeError
from stallscope.experiment.config import validate_config

from .conftest import REPO, SMALL, make_workdir, snakemake

pytestmark = pytest.mark.snakemake

EXTERNAL = yaml.safe_load((REPO / "tests/configs/external/config.yaml").read_text())["sut"]


def _set(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    for k in head:
        cfg = cfg.setdefault(k, {})
    cfg[last] = value


CASES = [
    ("run.ready_timeout_s", float("inf"), "at $.run.ready_timeout_s: must be a finite number"),
    ("run.stop_grace_s", float("nan"), "at $.run.stop_grace_s: must be a finite number"),
    ("scenarios.e2e_10mb.total_bytes", 2**70, "at $.scenarios.e2e_10mb.total_bytes: beyond a 64-bit integer"),
    ("bench.total_bytes", 2**64, "at $.bench.total_bytes: beyond a 64-bit integer"),
    ("defaults.brokers", "four", "at $.defaults.brokers: 'four' is not of type 'integer'"),
    ("sut.client_command", None, "at $.sut: an external broker needs client_command"),
    ("sut.broker_command", ["{bin_dir}/b", "{nope}"], "at $.sut.broker_command: unknown placeholder {nope}"),
    ("sut.client_command", ["x", "{port.__class__}"], "at $.sut.client_command: unknown placeholder"),
    ("sut.build_command", [["make", "{build_dir[0]}"]], "at $.sut.build_command: unknown placeholder"),
]


def _mutate(key: str, value: Any):
    def mutate(cfg: dict[str, Any]) -> None:
        if key.startswith("sut."):
            cfg["sut"] = {**copy.deepcopy(EXTERNAL), "source": cfg["sut"]["source"]}
        if value is None:
            cfg["sut"].pop(key.split(".")[-1])
        else:
            _set(cfg, key, value)
    return mutate


@pytest.mark.parametrize(("key", "value", "message"), CASES, ids=[c[0] + "=" + repr(c[1])[:20] for c in CASES])
def test_the_stage_refuses_it_naming_the_key(key: str, value: Any, message: str) -> None:
    cfg = yaml.safe_load(SMALL.read_text())
    _mutate(key, value)(cfg)
    with pytest.raises(StallscopeError, match=None) as err:
        validate_config(cfg, "config/config.yaml")
    assert str(err.value).startswith("config/config.yaml: " + message), str(err.value)


@pytest.mark.parametrize(("key", "value", "message"), CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_the_dry_run_stops_with_one_line(tmp_path: Path, key: str, value: Any, message: str) -> None:
    wd = make_workdir(tmp_path, _mutate(key, value))
    res = snakemake(wd, "-n", "report", timeout=300)
    assert res.returncode == 1, res.stderr[-2000:]
    # Snakemake's own note on the workflow profile it picked up is not part of our message.
    lines = [ln for ln in res.stderr.splitlines()
             if ln.strip() and not ln.startswith("Using workflow specific profile")]
    assert lines == [lines[0]] and message in lines[0], lines
    assert "config.yaml: " in lines[0] and "Traceback" not in res.stderr and "Failed validating" not in res.stderr


def test_a_good_config_still_plans(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path)
    res = snakemake(wd, "-n", "report", timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "run_scenario" in res.stdout + res.stderr
