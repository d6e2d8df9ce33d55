"""The schemas' enums of causes, bounds, verdicts and fault knobs equal the vocabulary (``shared/vocabulary.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from stallscope import schemas
from stallscope.shared import vocabulary as v

RUNS = "properties/runs/items/properties"
DIAGNOSIS = "properties/diagnosis/items/properties"


def _at(schema: str, path: str) -> Any:
    node: Any = schemas.load_schema(schema)
    for part in path.split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize(("schema", "path", "names"), [
    ("claims.schema.json", f"{RUNS}/bound/properties/cause/enum", set(v.BOUNDS)),
    ("config.schema.yaml", "$defs/bound_name/enum", set(v.BOUNDS) - {v.UNKNOWN}),
    ("claims.schema.json", f"{DIAGNOSIS}/bottleneck/enum", {*v.CAUSES, v.NONE, v.UNKNOWN}),
    ("claims.schema.json", f"{DIAGNOSIS}/evidence_against/items/properties/cause/enum", {*v.CAUSES, v.NONE}),
    ("claims.schema.json", f"{RUNS}/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("claims.schema.json", f"{DIAGNOSIS}/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("manifest.schema.json", "properties/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("metrics.schema.json", "properties/expected_cause/enum", {*v.EXPECTED_CAUSES, None}),
    ("config.schema.yaml", "properties/scenarios/additionalProperties/properties/expected_cause/enum",
     set(v.EXPECTED_CAUSES)),
    ("claims.schema.json", "properties/claims/items/properties/verdict/enum", set(v.VERDICTS)),
    ("claims.schema.json", "properties/claims/items/properties/trials/items/properties/verdict/enum", set(v.VERDICTS)),
    ("summary.schema.json", "properties/verdicts/items/properties/verdict/enum", set(v.VERDICTS)),
])
def test_a_schema_enum_equals_the_vocabulary(schema: str, path: str, names: set[Any]) -> None:
    enum = _at(schema, path)
    assert len(enum) == len(set(enum)), f"{schema} {path}: a name twice"
    assert set(enum) == names, f"{schema} {path}: {sorted(map(str, set(enum) ^ names))} differ"


def test_the_config_fault_knobs_are_the_vocabulary_s() -> None:
    assert set(_at("config.schema.yaml", "$defs/faults/properties")) == {k.name for k in v.FAULT_KNOBS}


def test_every_enum_naming_a_cause_or_verdict_is_checked() -> None:
    """A new enum of causes or verdicts in any schema names only vocabulary words (and the outcomes' statuses)."""
    words = {*v.BOUNDS, *v.CAUSES, *v.EXPECTED_CAUSES, *v.VERDICTS}
    telling = words - {v.UNKNOWN, v.NONE, v.HARNESS_ERROR, v.NOT_RUN}  # words other enums use as well
    found: list[tuple[str, list[Any]]] = []

    def walk(node: Any, name: str) -> None:
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and telling & {e for e in enum if isinstance(e, str)}:
                found.append((name, enum))
            for x in node.values():
                walk(x, name)
        elif isinstance(node, list):
            for x in node:
                walk(x, name)

    for path in sorted(schemas.SCHEMA_DIR.glob("*.schema.*")):
        walk(schemas.load_schema(path.name), path.name)
    assert len(found) >= 12
    for name, enum in found:
        assert {e for e in enum if e is not None} <= words, (name, enum)


def test_the_tables_agree() -> None:
    assert sorted(v.TIE_ORDER) == sorted(v.CAUSES)
    assert all(k.cause is None or k.cause in v.BOUNDS or k.cause in v.CAUSES for k in v.FAULT_KNOBS)
    assert set(v.SENDER_SHARES.values()) <= set(v.BOUNDS)
    assert set(v.VERDICTS_SHOWN) == set(v.VERDICTS)
