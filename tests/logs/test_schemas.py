"""lines.schema.json and catalogue.schema.yaml: one good and one bad example each."""

from __future__ import annotations

import copy

import pytest
import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs.catalogue import CATALOGUE_PATH, build_catalogue

GOOD_LINES = {"schema": "lines/1", "files": {"client.log": {
    "total": 2, "event": 1, "glog": 1, "continuation": 0, "script": 0, "unparseable": 0, "is_truncated": False,
    "unparseable_examples": [], "first_ts_us": 1, "last_ts_us": 2}}}


def test_lines_schema_good_example_validates() -> None:
    schemas.validate(GOOD_LINES, schemas.load_schema("lines.schema.json"), "lines.json")


def test_lines_schema_unknown_key_fails() -> None:
    bad = copy.deepcopy(GOOD_LINES)
    bad["files"]["client.log"]["events"] = 3
    with pytest.raises(StallscopeError):
        schemas.validate(bad, schemas.load_schema("lines.schema.json"), "lines.json")


def test_catalogue_schema_shipped_catalogue_validates() -> None:
    build_catalogue(yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8")), CATALOGUE_PATH)


def test_catalogue_schema_bad_role_fails() -> None:
    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["recognisers"][0]["role"] = "server"
    with pytest.raises(StallscopeError, match="role"):
        build_catalogue(data, CATALOGUE_PATH)
