from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.panel.catalogue import CATALOGUE_PATH, CATALOGUE_SCHEMA, load_catalogue
from stallscope.panel.predicates import PREDICATES

PANEL_DIR = CATALOGUE_PATH.parent


def test_catalogue_loads_four_experts_and_claims() -> None:
    cat = load_catalogue()
    assert [e.number for e in cat.experts] == [1, 2, 3, 4]
    assert {c.expert for c in cat.claims} == {1, 2, 3, 4}
    assert len(cat.claims) >= 16


def test_catalogue_predicates_registered_and_all_used() -> None:
    used = {c.id for c in load_catalogue().claims}
    assert used - set(PREDICATES) == set(), "catalogue claims without a registered predicate"
    assert set(PREDICATES) - used == set(), "registered predicates no claim uses"


def test_catalogue_predicates_named_for_their_claims() -> None:
    """One name per claim: the registry's key, the function's name and the claim id are the same."""
    assert {k: f.__name__ for k, f in PREDICATES.items() if f.__name__ != k} == {}


def test_catalogue_claim_text_not_in_python() -> None:
    cat = load_catalogue()
    source = "".join(p.read_text(encoding="utf-8") for p in PANEL_DIR.glob("*.py"))
    for c in cat.claims:
        assert c.statement[:40] not in source, c.id


def test_catalogue_schema_good_example_valid() -> None:
    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    schemas.validate(data, schemas.load_schema(CATALOGUE_SCHEMA), CATALOGUE_PATH)


def test_catalogue_schema_bad_example_names_field(tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["claims"][0]["id"] = "Not-Snake"
    bad = tmp_path / "claims.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(StallscopeError, match=re.escape("at $.claims[0].id")):
        load_catalogue(bad)


def test_catalogue_duplicate_ids_rejected(tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["claims"].append(dict(data["claims"][0]))
    bad = tmp_path / "claims.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(StallscopeError, match="duplicate claim ids"):
        load_catalogue(bad)


def test_panel_modules_at_most_300_lines() -> None:
    for p in PANEL_DIR.glob("*.py"):
        assert len(p.read_text(encoding="utf-8").splitlines()) <= 300, p.name
