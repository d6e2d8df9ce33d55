"""The README's CI-gate example (examples/gate.py) on summary.json files: it fails on a changed bound and on a
goodput regression, and passes the same commit's trials."""

from __future__ import annotations

import copy
import importlib.util
import json
import random
from pathlib import Path

import pytest

from stallscope.shared.summary import build_summary
from tests.render.conftest import make_claims

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("gate", REPO / "examples" / "gate.py")
gate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gate)


def _summary(tmp: Path, goodput: list[float], bound: str) -> dict:
    claims = json.loads(make_claims(tmp).read_text())
    run = claims["runs"][0]
    claims["runs"] = []
    for k in range(1, len(goodput) + 1):
        r = copy.deepcopy(run) | {"run_id": f"{run['scenario']}/t{k}", "trial": k}
        r["bound"] = dict(r.get("bound") or {}, cause=bound)
        claims["runs"].append(r)
    claims["diagnosis"] = []
    metrics = {r["run_id"]: {"throughput": {"delivered_mb_s": v}} for r, v in zip(claims["runs"], goodput,
                                                                                  strict=True)}
    return build_summary(claims, metrics)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gate_fails_on_a_regression_or_a_changed_bound_and_passes_the_same(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    base = [rng.gauss(1000, 10) for _ in range(6)]
    same = [rng.gauss(1000, 10) for _ in range(6)]
    slow = [rng.gauss(1000 * rng.uniform(0.7, 0.85), 10) for _ in range(6)]
    b = _summary(tmp_path / "b", base, "none")
    assert gate.failures(b, _summary(tmp_path / "s", same, "none")) == []
    (line,) = gate.failures(b, _summary(tmp_path / "r", slow, "none"))
    assert "regressed" in line
    (line,) = gate.failures(b, _summary(tmp_path / "c", same, "flow_control"))
    assert "bound changed from none to flow_control" in line


def test_gate_cli_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stallscope import schemas

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    schemas.write_json(a, "summary", _summary(tmp_path / "x", [1000.0, 1001, 1002, 999, 998, 1003], "none"))
    schemas.write_json(b, "summary", _summary(tmp_path / "y", [700.0, 701, 702, 699, 698, 703], "none"))
    assert gate.main([str(a), str(a)]) == 0
    assert gate.main([str(a), str(b)]) == 1 and "regressed" in capsys.readouterr().out
    assert gate.main([str(a)]) == 2
