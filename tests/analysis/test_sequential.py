"""More trials until a before/after is decided (shared.sequential), and the hand-written statistics that scipy
lacks (smallest possible p, the smallest detectable change) checked against scipy's own."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from stallscope.shared import compare, sequential


def _drawer(rng: random.Random, base_mean: float, cand_mean: float, sd: float):
    calls: list[str] = []

    def draw(side: str, k: int) -> tuple[float, str]:
        calls.append(side)
        mean = base_mean if side == sequential.BASELINE else cand_mean
        return rng.gauss(mean, sd), f"{side}/t{k}"
    return draw, calls


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), slowdown=st.floats(0.12, 0.3), sd=st.floats(0.005, 0.02))
def test_a_slowdown_beyond_the_noise_is_found_before_the_cap(seed: int, slowdown: float, sd: float) -> None:
    rng = random.Random(seed)
    draw, calls = _drawer(rng, 1000.0, 1000.0 * (1 - slowdown), 1000.0 * sd)
    base = [rng.gauss(1000, 1000 * sd) for _ in range(3)]
    cand = [rng.gauss(1000 * (1 - slowdown), 1000 * sd) for _ in range(3)]
    ext = sequential.extend("delivered_mb_s", base, cand, draw, min_change=0.05, max_trials=12)
    assert ext.stopped == "decided" and ext.decision() == "change"
    assert len(ext.baseline) == len(ext.candidate) >= 4  # 4 a side is the least that can reach p <= 0.05
    row = compare.compare_figure("delivered_mb_s", ext.baseline, ext.candidate, min_change=0.05)
    assert row["status"] == "regressed" and row["ratio"]["hi"] < 1
    assert calls == (["baseline", "candidate", "candidate", "baseline"] * 6)[:len(calls)]  # interleaved, ABBA


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), sd=st.floats(0.002, 0.01))
def test_same_commit_with_little_noise_settles_as_no_change(seed: int, sd: float) -> None:
    rng = random.Random(seed)
    draw, _ = _drawer(rng, 800.0, 800.0, 800.0 * sd)
    base = [rng.gauss(800, 800 * sd) for _ in range(3)]
    cand = [rng.gauss(800, 800 * sd) for _ in range(3)]
    ext = sequential.extend("delivered_mb_s", base, cand, draw, min_change=0.05, max_trials=12)
    assert ext.stopped == "decided" and ext.decision() == "no change"
    assert compare.compare_figure("delivered_mb_s", ext.baseline, ext.candidate)["status"] == "no detectable change"


def test_noise_wider_than_the_change_stops_at_the_cap_and_says_what_it_could_detect() -> None:
    rng = random.Random(5)
    draw, calls = _drawer(rng, 1000.0, 1000.0, 300.0)
    ext = sequential.extend("delivered_mb_s", [1000.0, 700.0, 1300.0], [900.0, 1200.0, 650.0], draw,
                            min_change=0.05, max_trials=7)
    assert ext.stopped == "cap" and len(ext.baseline) == 7 and len(calls) == 8
    got = ext.to_dict()
    assert got["decision"] == "undecided" and got["detectable_relative"] > 0.05 and got["rounds"] == 4


def test_a_side_without_the_figure_is_not_extended() -> None:
    ext = sequential.extend("delivered_mb_s", [], [1.0, 2.0], lambda s, k: (1.0, "x"))
    assert ext.stopped == "not extendable" and ext.rounds == 0
    ext = sequential.extend("delivered_mb_s", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], lambda s, k: (None, f"{s}{k}"))
    assert ext.stopped == "not extendable" and ext.runs == ["baseline4"]


@pytest.mark.parametrize(("n_a", "n_b"), [(3, 3), (4, 4), (5, 3), (6, 7)])
def test_smallest_p_is_scipys_for_complete_separation(n_a: int, n_b: int) -> None:
    a, b = list(range(n_a)), list(range(100, 100 + n_b))
    assert compare.smallest_p(n_a, n_b) == pytest.approx(stats.mannwhitneyu(a, b, method="exact").pvalue)
    assert compare.rank_test(a, b) == pytest.approx(compare.smallest_p(n_a, n_b))


def test_rank_test_with_ties_is_the_permutation_p_value() -> None:
    a, b = [1.0, 1.0, 2.0, 3.0], [2.0, 3.0, 3.0, 4.0]
    want = stats.permutation_test((a, b), lambda x, y: stats.mannwhitneyu(x, y).statistic,
                                  permutation_type="independent", n_resamples=10**5).pvalue
    assert compare.rank_test(a, b) == pytest.approx(want, abs=1e-9)


def test_smallest_detectable_change_has_about_its_stated_power_under_scipys_rank_test() -> None:
    """Shift normal samples by the stated smallest detectable change: scipy's Mann-Whitney finds it about 80 %
    of the time (the formula is the t-test's, widened by the rank test's efficiency)."""
    rng = random.Random(11)
    n, sd = 8, 10.0
    ref_a = [rng.gauss(0, sd) for _ in range(n)]
    ref_b = [rng.gauss(0, sd) for _ in range(n)]
    mde = compare.smallest_detectable(ref_a, ref_b)
    hits = 0
    for _ in range(400):
        a = [rng.gauss(0, sd) for _ in range(n)]
        b = [rng.gauss(mde, sd) for _ in range(n)]
        hits += stats.mannwhitneyu(a, b, method="exact").pvalue <= compare.ALPHA
    assert 0.6 <= hits / 400 <= 0.97
