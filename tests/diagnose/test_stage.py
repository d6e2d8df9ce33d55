"""`stallscope diagnose`: diagnoses.json over run directories, and assess copying it into claims.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.cli import main
from stallscope.errors import StallscopeError
from stallscope.panel.assess import assess_runs
from tests.builders.panel import panel_write_run
from tests.panel.signatures import e2e_10mb


def test_diagnose_writes_a_valid_file_that_assess_copies(tmp_path: Path) -> None:
    run = panel_write_run(tmp_path / "runs", *e2e_10mb())
    diag = tmp_path / "diagnoses.json"
    assert main(["diagnose", "--out", str(diag), str(run)]) == 0
    data = schemas.read_json(diag, "diagnoses")
    [entry] = data["runs"]
    assert entry["run_id"] == "e2e_10mb/t1" and entry["bound"]["cause"] and entry["diagnosis"]["bottleneck"]
    assert main(["assess", "--diagnoses", str(diag), "--out", str(tmp_path / "a.json"), str(run)]) == 0
    assert main(["assess", "--out", str(tmp_path / "b.json"), str(run)]) == 0
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert a["diagnosis"] == b["diagnosis"] == [entry["diagnosis"] | {"outcome": entry["outcome"],
                                                                      "bound": entry["bound"]}]
    assert a["runs"][0]["bound"] == entry["bound"] and a["runs"][0]["outcome"] == entry["outcome"]


def test_assess_refuses_the_diagnoses_of_other_runs(tmp_path: Path) -> None:
    run = panel_write_run(tmp_path / "runs", *e2e_10mb())
    with pytest.raises(StallscopeError, match="diagnoses are of other runs"):
        assess_runs([run], tmp_path / "c.json", {"schema": "diagnoses/1", "runs": []})
