from __future__ import annotations

import pytest

from stallscope.panel.verdicts import (
    HARNESS_ERROR,
    INCONCLUSIVE,
    NOT_RUN,
    OVERCLAIM,
    PRIORITY,
    REFUTED,
    SUPPORTED,
    Verdict,
    check_safe,
    cite_refs,
    make,
    with_settle,
    worst_verdict,
)
from tests.builders.panel import panel_ref


def test_worst_verdict_priority_table_orders_all_six() -> None:
    assert PRIORITY == (HARNESS_ERROR, REFUTED, OVERCLAIM, INCONCLUSIVE, NOT_RUN, SUPPORTED)
    for i, high in enumerate(PRIORITY):
        for low in PRIORITY[i:]:
            assert worst_verdict([low, high]) == high
            assert worst_verdict([high, low]) == high


def test_worst_verdict_all_supported_supported() -> None:
    assert worst_verdict([SUPPORTED, SUPPORTED]) == SUPPORTED


def test_worst_verdict_empty_not_run() -> None:
    assert worst_verdict([]) == NOT_RUN


def test_worst_verdict_unknown_verdict_raises() -> None:
    with pytest.raises(ValueError, match="unknown verdict 'maybe'"):
        worst_verdict([SUPPORTED, "maybe"])


def test_verdict_unknown_string_raises() -> None:
    with pytest.raises(ValueError):
        Verdict("x", "valid", "r")


def test_check_safe_raising_predicate_inconclusive_with_error() -> None:
    def boom() -> Verdict:
        raise KeyError("acks")

    v = check_safe("c", boom, settle="run it")
    assert v.verdict == INCONCLUSIVE
    assert v.error is not None and "KeyError" in v.error
    assert v.settle == "run it"


def test_check_safe_passes_result_through() -> None:
    v = check_safe("c", lambda: make("c", SUPPORTED, "fine"))
    assert v.verdict == SUPPORTED and v.error is None


def test_cite_refs_many_lines_caps_at_five_counts_all() -> None:
    refs = {"stall_header": panel_ref("stall_header", [f"line {i}" for i in range(9)]),
            "ring_full": panel_ref("ring_full", ["ring"])}
    items, total = cite_refs("r/t1", refs, ["stall_header", "ring_full", "absent"])
    assert total == 10
    assert [e.excerpt for e in items if e.metric == "stall_header"] == [f"line {i}" for i in range(5)]
    assert items[0].file == "broker_0.log" and items[0].line == 10


def test_with_settle_settled_drops_hint() -> None:
    assert with_settle(make("c", SUPPORTED, "r", settle="x"), "hint").settle is None
    assert with_settle(make("c", INCONCLUSIVE, "r"), "hint").settle == "hint"
