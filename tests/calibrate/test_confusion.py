"""Calibration's draws and confusion matrix: seeded draws repeat, counts add up, intervals hold their estimates."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from stallscope.calibrate.confusion import ALLOWED, matrix, mistakes, wilson
from stallscope.calibrate.draws import CLASSES, class_of, draw_scenarios
from stallscope.experiment.config import validate_config

LABELS = (*CLASSES, "send_buffer", "network", "unknown")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 30))
def test_same_seed_same_draws_and_every_draw_is_a_valid_scenario(seed: int, k: int) -> None:
    drawn = draw_scenarios(seed, k)
    assert drawn == draw_scenarios(seed, k) and len(drawn) == k
    assert list(drawn) == list(draw_scenarios(seed, k + 3))[:k]  # more draws extend, never reshuffle, the first
    cfg = validate_config({"sut": {"kind": "reference", "source": "."}, "scenarios": drawn}, "<draws>")
    counts = {c: sum(class_of(n) == c for n in drawn) for c in CLASSES}
    assert max(counts.values()) - min(counts.values()) <= 1  # shuffled round-robin: classes as even as k allows
    for name, scn in cfg["scenarios"].items():
        assert scn["expected_bound"] == class_of(name)
        assert scn["total_bytes"] % scn["message_size"] == 0 and scn["total_bytes"] <= 1 << 30
        if class_of(name) == "none":
            assert not scn.get("faults")
        if class_of(name) == "host_cpu":
            assert scn["faults"] == {"cpu_hog": True}
        if class_of(name) == "ack_path":
            assert 0 <= scn["faults"]["ack_stall_broker"] < scn["brokers"]


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(0, 60))
def test_confusion_counts_add_up_and_intervals_contain_their_estimates(seed: int, k: int) -> None:
    rng = random.Random(seed)
    records = []
    for name in draw_scenarios(seed, k) if k else {}:
        truth = class_of(name)
        got = truth if rng.random() < 0.7 else rng.choice(LABELS)
        records.append({"run": name, "expected_bound": truth, "bound": got,
                        "bound_confidence": rng.choice(["high", "medium", "low"])})
    m = matrix([(r["expected_bound"], r["bound"]) for r in records], CLASSES)
    assert m["total"] == k == sum(sum(row.values()) for row in m["counts"].values())
    for c, pc in m["per_class"].items():
        assert pc["support"] == sum(m["counts"][c].values())
        assert pc["predicted"] == sum(m["counts"][r][c] for r in m["rows"])
        assert pc["correct"] == m["counts"][c][c] <= min(pc["support"], pc["predicted"])
        for rate in (pc["precision"], pc["recall"]):
            if rate["n"] == 0:
                assert rate["value"] is None and rate["lo"] is None
            else:
                assert 0 <= rate["lo"] <= rate["value"] <= rate["hi"] <= 1
                assert rate["value"] == round(rate["k"] / rate["n"], 4)
    wrong = mistakes(records, "bound")
    assert {w["run"] for w in wrong} == {r["run"] for r in records if r["bound_confidence"] == "high"
                                        and r["bound"] != r["expected_bound"]
                                        and (r["expected_bound"], r["bound"]) not in ALLOWED}


@given(k=st.integers(0, 500), n=st.integers(1, 500))
def test_wilson_interval_brackets_the_proportion(k: int, n: int) -> None:
    k = min(k, n)
    p, lo, hi = wilson(k, n)
    assert p is not None and lo is not None and hi is not None
    assert 0 <= lo <= p <= hi <= 1
    assert wilson(0, 0) == (None, None, None)
