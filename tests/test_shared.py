"""The facts defined once in ``stallscope.shared`` agree with the schemas that publish them."""

from __future__ import annotations

from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.shared import events
from stallscope.shared.figures import KEY_FIGURES
from stallscope.shared.manifest import manifest_params, new_manifest


def test_key_figures_are_the_claims_schemas() -> None:
    runs = schemas.load_schema("claims.schema.json")["properties"]["runs"]["items"]
    assert list(runs["properties"]["key_figures"]["properties"]) == list(KEY_FIGURES)


def test_events_columns_are_the_readmes() -> None:
    readme = (schemas.SCHEMA_DIR / "README.md").read_text(encoding="utf-8")
    table = readme.split("## `events.csv`")[1].split("\n## ")[0]
    rows = [line.split("|")[1].strip().strip("`") for line in table.splitlines() if line.startswith("| `")]
    assert tuple(rows) == events.COLUMNS


def test_events_reader_names_the_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "events.csv"
    p.write_text("file,line\nx.log,1\n", encoding="utf-8")
    with pytest.raises(StallscopeError, match="missing columns: ts_us"):
        next(events.read_frames(p))
    p.write_bytes(events.header() + b'a.log,1,,I,1,x.cc:1,client,,phase,,"{}",t\n')
    (frame,) = events.read_frames(p)
    assert list(frame.columns) == list(events.COLUMNS) and frame.loc[0, "ts_us"] == ""


def test_a_bare_manifest_is_schema_valid_and_unknown_where_nothing_is_known(tmp_path: Path) -> None:
    m = new_manifest("x/t1", "x", 1, "ingested", params={"brokers": 2, "trials": 5})
    schemas.write_json(tmp_path / "manifest.json", "manifest", m)
    assert m["params"]["brokers"] == 2 and "trials" not in m["params"]
    assert m["params"]["total_bytes"] is None and m["host"]["hostname"] is None and m["processes"] == []
    required = schemas.load_schema("manifest.schema.json")["properties"]["params"]["required"]
    assert list(manifest_params({})) == required


def test_manifest_builder_does_not_share_its_defaults() -> None:
    a = new_manifest("x/t1", "x", 1, "run")
    a["notes"].append("changed")
    a["files"]["broker_logs"].append("broker_0.log")
    b = new_manifest("x/t1", "x", 1, "run")
    assert b["notes"] == [] and b["files"]["broker_logs"] == []
