"""The consistency-check registry: one function per check, the same names as the metrics schema."""

from __future__ import annotations

import json

from stallscope.analysis.checks import CHECKS, Counters, compute_checks
from stallscope.schemas import SCHEMA_DIR


def _schema_check_names() -> list[str]:
    schema = json.loads((SCHEMA_DIR / "metrics.schema.json").read_text())
    return schema["properties"]["checks"]["items"]["properties"]["name"]["enum"]


def test_checks_registry_covers_every_schema_name_in_order() -> None:
    assert list(CHECKS) == _schema_check_names()


def test_checks_compute_reports_each_registered_check_once() -> None:
    out = compute_checks({}, {"per_broker": {}}, None, {})
    assert [c["name"] for c in out] == list(CHECKS)


def test_checks_empty_counters_all_unknown() -> None:
    empty = Counters({}, {"per_broker": {}}, None, {})
    assert {name: check(empty)[0] for name, check in CHECKS.items()} == dict.fromkeys(CHECKS, "unknown")


def test_checks_each_check_fails_on_its_contradiction() -> None:
    bad = Counters(
        acks={"received": 10, "sent_per_broker": {0: 4}, "batches_sent": 1, "per_broker": {0: 3},
              "per_broker_source": "client"},
        received={"per_broker": {0: {"messages": 2}}},
        banner={"message_size": 2_000_000, "order_level": 1},
        params={"message_size": 1_000_000, "order": 0},
    )
    assert {name: check(bad)[0] for name, check in CHECKS.items()} == dict.fromkeys(CHECKS, "fail")
