"""Per-scenario medians and bootstrap intervals over trials, and the scenario-summary contract."""

from __future__ import annotations

import random

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stallscope import schemas
from stallscope.shared import trialstats
from tests.builders.panel import panel_metrics


def _trial(delivered: float, timeout: bool, header: int = 0) -> dict:
    m = panel_metrics("ack_path")
    m["throughput"]["delivered_mb_s"] = delivered
    m["acks"]["is_timeout"] = timeout
    m["acks"]["completeness"] = 0.5 if timeout else 1.0
    m["stalls"]["total"]["during_run_by_kind"] = {"header": header, "partial": 0, "payload": 0}
    return m


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.1, 1e5, allow_nan=False), min_size=2, max_size=12))
@example([1.0, 94101.66844111598, 94101.66844111598])  # an upper bound one ulp below the median, before the clamp
def test_interval_holds_the_median_and_lies_within_the_samples(xs: list[float]) -> None:
    ci = trialstats.median_ci(xs)
    assert min(xs) <= ci["lo"] <= ci["median"] <= ci["hi"] <= max(xs)
    assert ci["n"] == len(xs)


def test_interval_is_reproducible_and_narrows_with_more_trials() -> None:
    rng = random.Random(7)
    few = [rng.gauss(1000, 50) for _ in range(5)]
    many = few + [rng.gauss(1000, 50) for _ in range(60)]
    assert trialstats.median_ci(few) == trialstats.median_ci(list(few))
    a, b = trialstats.median_ci(few), trialstats.median_ci(many)
    assert b["hi"] - b["lo"] < a["hi"] - a["lo"]


def test_one_trial_has_no_interval_and_none_has_no_median() -> None:
    assert trialstats.median_ci([3.0]) | {} == {"n": 1, "median": 3.0, "lo": None, "hi": None, "values": [3.0]}
    assert trialstats.median_ci([None, None])["median"] is None


def test_summary_counts_failed_trials_and_validates() -> None:
    runs = [(f"ack_path/t{k}", _trial(900.0 + k, k != 2, header=k)) for k in (1, 2, 3)]
    s = trialstats.summarise("ack_path", "0123456789ab", runs)
    schemas.validate(s, schemas.load_schema("scenario_summary.schema.json"), "summary")
    assert (s["trials"], s["failed_trials"], s["unknown_trials"]) == (3, 2, 0)
    assert s["figures"]["delivered_mb_s"]["median"] == 902.0
    assert s["figures"]["stalls_during_run.header"]["values"] == [1.0, 2.0, 3.0]


def test_latency_is_the_slowest_acknowledging_broker() -> None:
    m = panel_metrics("stress_10gb")
    m["acks"]["latency"] = {"per_broker": {"0": {"acked": 3, "p50_us": 100, "p99_us": 900},
                                           "1": {"acked": 0, "p50_us": 0, "p99_us": 0},
                                           "2": {"acked": 5, "p50_us": 250, "p99_us": 400}}}
    f = trialstats.key_figures(m)
    assert (f["ack_latency_p50_us"], f["ack_latency_p99_us"]) == (250.0, 900.0)


def test_key_figures_no_stall_counts_from_a_build_without_timers() -> None:
    m = {"stalls": {"total": {"during_run_by_kind": {"header": 0, "partial": 0, "payload": 0}}},
         "evidence": {"stall_timers": {"state": "no", "source": "declared"}}}
    assert trialstats.key_figures(m)["stalls_during_run.header"] is None
    m["evidence"]["stall_timers"]["state"] = "yes"
    assert trialstats.key_figures(m)["stalls_during_run.header"] == 0
