"""Before/after: compare the trials of a baseline and a candidate SUT, figure by figure and scenario by scenario.

A difference between two medians is only called a change when three things agree: the rank test says so at the
stated level (``ALPHA``; Mann-Whitney U from ``scipy.stats``, exact for small samples, a permutation
distribution when trials tie), the 95 % bootstrap interval of the ratio of medians excludes 1, and the change is
at least the smallest change worth reporting (``MIN_CHANGE``, config ``compare.min_change``). Otherwise the
comparison says "no detectable change" and how large a change these trials could have detected, so a reader
knows whether "no change" means "equal" or "too few trials to tell"; ``needs_more`` says when more trials
(``shared.sequential``) would settle it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from stallscope.shared.trialstats import DIRECTION, FIGURES, median_ci, ratio_ci
from stallscope.shared.trialstats import SCHEMA as SUMMARY_SCHEMA
from stallscope.shared.vocabulary import INCONCLUSIVE, REFUTED, SUPPORTED

SCHEMA = "comparison/1"
#: Two-sided significance level of the rank test.
ALPHA = 0.05
#: Power at which the smallest detectable change is stated.
POWER = 0.8
#: The smallest relative change of a median worth reporting (config ``compare.min_change``).
MIN_CHANGE = 0.05
#: "In most trials" (the baseline fails in most, the candidate still fails in most): more than this share of them.
MOST_TRIALS = 0.5
_PERMUTATIONS = 20000


def in_most(k: int, n: int) -> bool:
    """Whether ``k`` of ``n`` trials are most of them (more than ``MOST_TRIALS``)."""
    return k > MOST_TRIALS * n


def rank_test(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided p-value of the Mann-Whitney U statistic (scipy); None when a side is empty.

    Exact without ties; with ties scipy's exact table does not apply, so the p-value is the permutation
    distribution's (enumerated when there are at most 20,000 splits, else sampled with a fixed seed).
    """
    if not a or not b:
        return None
    if len(set(a) | set(b)) == 1:
        return 1.0
    pooled = list(a) + list(b)
    if len(set(pooled)) == len(pooled):
        method: Any = "exact"
    else:
        method = stats.PermutationMethod(n_resamples=_PERMUTATIONS,
                                         rng=np.random.default_rng(len(a) * 1000003 + len(b)))
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method=method).pvalue)


def smallest_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value a rank test of ``n_a`` vs ``n_b`` trials can give (complete separation)."""
    return min(1.0, 2 / math.comb(n_a + n_b, n_a)) if n_a and n_b else 1.0


#: Asymptotic relative efficiency of the rank test against the t-test for normal data (3/π): the rank test
#: needs 1/ARE times the trials, so its detectable change is 1/√ARE times wider.
_ARE = 3 / math.pi


def _spread(xs: Sequence[float]) -> float:
    """The sample standard deviation (0 for one value): outlying trials widen what could be detected."""
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def smallest_detectable(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA,
                        power: float = POWER) -> float | None:
    """Smallest absolute difference of medians these trials could detect at ``alpha`` with ``power``.

    None when the test cannot reach ``alpha`` with so few trials whatever the difference (3 vs 3 trials give at
    best p = 0.1). Otherwise the usual two-sample formula, (z₁₋α/₂ + z_power)·√(s²ₐ/nₐ + s²ᵦ/nᵦ), widened by
    1/√ARE for the rank test.
    """
    if len(a) < 2 or len(b) < 2 or smallest_p(len(a), len(b)) > alpha:
        return None
    z = statistics.NormalDist()
    se = math.sqrt(_spread(a) ** 2 / len(a) + _spread(b) ** 2 / len(b))
    return (z.inv_cdf(1 - alpha / 2) + z.inv_cdf(power)) * se / math.sqrt(_ARE)


def _ratio_text(ratio: Mapping[str, Any]) -> str:
    if ratio["lo"] is None:
        return ""
    return f"; ratio of medians {ratio['ratio']:.3f} [{ratio['lo']:.3f}, {ratio['hi']:.3f}]"


def interval_decides(ratio: Mapping[str, Any], min_change: float = MIN_CHANGE) -> str | None:
    """What the ratio-of-medians interval settles: "change" when it lies beyond 1 ± ``min_change``, "no change"
    when it lies within it, None while it holds 1 - ``min_change`` or 1 + ``min_change`` (or has no interval)."""
    lo, hi = ratio.get("lo"), ratio.get("hi")
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if lo > 1 + min_change or hi < 1 - min_change:
        return "change"
    if lo > 1 - min_change and hi < 1 + min_change:
        return "no change"
    return None


def compare_figure(figure: str, base: Sequence[float], cand: Sequence[float], alpha: float = ALPHA,
                   min_change: float = MIN_CHANGE) -> dict[str, Any]:
    """One row of the comparison: both intervals, the ratio of medians with its interval, the relative change,
    the p-value and the plain statement.

    "improved"/"regressed" need p ≤ ``alpha``, a ratio interval that excludes 1 (when the ratio is defined) and a
    relative change of at least ``min_change``; anything less is "no detectable change" with what could have been
    detected.
    """
    b, c = median_ci(base), median_ci(cand)
    rel = None
    if b["median"] not in (None, 0) and c["median"] is not None:
        rel = (c["median"] - b["median"]) / abs(b["median"])
    ratio = ratio_ci(c["values"], b["values"]) if b["values"] and c["values"] else \
        {"ratio": None, "lo": None, "hi": None}
    p = rank_test(b["values"], c["values"])
    mde = smallest_detectable(b["values"], c["values"], alpha)
    mde_rel = mde / abs(b["median"]) if mde is not None and b["median"] not in (None, 0) else None
    excludes_one = ratio["lo"] is None or not (ratio["lo"] <= 1 <= ratio["hi"])
    if p is None:
        status, note = "evidence missing", "a side has no value for this figure"
    elif p <= alpha and c["median"] != b["median"] and excludes_one and (rel is None or abs(rel) >= min_change):
        status = _direction(figure, c["median"] - b["median"])
        note = f"p = {p:.3g} ≤ {alpha}" + _ratio_text(ratio)
    else:
        status = "no detectable change"
        if mde is None:
            note = (f"{b['n']} vs {c['n']} trials cannot reach p ≤ {alpha} with a rank test "
                    f"(smallest possible p = {smallest_p(b['n'], c['n']):.3g})")
        else:
            note = f"p = {p:.3g}; the smallest change these trials could detect is {mde:.4g}"
            if mde_rel is not None:
                note += f" ({mde_rel:.1%} of the baseline)"
        if p <= alpha and c["median"] != b["median"] and rel is not None and abs(rel) < min_change:
            note += f"; the change ({rel:+.1%}) is below the {min_change:.0%} worth reporting"
        note += _ratio_text(ratio)
    return {"figure": figure, "baseline": b, "candidate": c, "relative_change": rel, "p_value": p,
            "alpha": alpha, "smallest_detectable": mde, "smallest_detectable_relative": mde_rel,
            "ratio": ratio, "min_change": min_change, "status": status, "note": note}


def _direction(figure: str, delta: float) -> str:
    better = DIRECTION.get(figure)
    if better is None:
        return "changed"
    return "improved" if (delta > 0) == better else "regressed"


def problem_fixed(base_failed: Sequence[bool | None], cand_failed: Sequence[bool | None]) -> tuple[str, str]:
    """``problem_fixed`` over trials: (verdict, reason).

    Supported when the baseline fails in most of its trials and the candidate completes in all; refuted when the
    candidate fails in most of its trials (it still fails); inconclusive otherwise (a flaky candidate, a baseline
    that did not fail, or trials whose outcome is unknown).
    """
    bk = [f for f in base_failed if f is not None]
    ck = [f for f in cand_failed if f is not None]
    bf, cf = sum(bk), sum(ck)
    tally = f"baseline failed {bf} of {len(base_failed)} trials, candidate {cf} of {len(cand_failed)}"
    if not bk or not ck:
        return INCONCLUSIVE, f"outcome unknown ({tally})"
    if in_most(cf, len(ck)):
        return REFUTED, f"the candidate still fails ({tally})"
    if len(ck) < len(cand_failed) or len(bk) < len(base_failed):
        return INCONCLUSIVE, f"some outcomes unknown ({tally})"
    if in_most(bf, len(bk)) and cf == 0:
        return SUPPORTED, tally
    if cf:
        return INCONCLUSIVE, f"flaky candidate ({tally})"
    return INCONCLUSIVE, f"the baseline did not fail in most trials ({tally})"


def compare_summaries(base: Mapping[str, Any], cand: Mapping[str, Any], alpha: float = ALPHA,
                      min_change: float = MIN_CHANGE) -> dict[str, Any]:
    """Compare two sets of scenario summaries (``{scenario: summary}``, see ``trialstats.summarise``)."""
    scenarios = []
    for name in sorted(base.keys() & cand.keys()):
        b, c = base[name], cand[name]
        rows = []
        for f in FIGURES:
            bv, cv = b["figures"][f]["values"], c["figures"][f]["values"]
            if bv or cv:
                rows.append(compare_figure(f, bv, cv, alpha, min_change))
        verdict, reason = problem_fixed([t["failed"] for t in b["per_trial"]], [t["failed"] for t in c["per_trial"]])
        scenarios.append({"scenario": name, "problem_fixed": {"verdict": verdict, "reason": reason},
                          "figures": rows})
    return {"schema": SCHEMA, "summary_schema": SUMMARY_SCHEMA, "alpha": alpha, "power": POWER,
            "min_change": min_change,
            "baseline": _sut_of(base), "candidate": _sut_of(cand),
            "only_baseline": sorted(base.keys() - cand.keys()), "only_candidate": sorted(cand.keys() - base.keys()),
            "scenarios": scenarios}


def _sut_of(summaries: Mapping[str, Any]) -> str | None:
    return next((s["sut"] for s in summaries.values()), None)


def problem_fixed_overall(comparison: Mapping[str, Any], scenarios: Sequence[str] | None = None) -> tuple[str, str]:
    """Combine per-scenario ``problem_fixed``: any refuted → refuted; then any flaky candidate → inconclusive;
    then supported when at least one scenario is; scenarios whose baseline did not fail say nothing either way."""
    rows = [s for s in comparison["scenarios"] if scenarios is None or s["scenario"] in scenarios]
    if not rows:
        return INCONCLUSIVE, "no scenario that settles it was run on both commits"
    got = {s["scenario"]: s["problem_fixed"] for s in rows}
    detail = "; ".join(f"{n}: {v['reason']}" for n, v in got.items())
    if any(v["verdict"] == REFUTED for v in got.values()):
        return REFUTED, detail
    if any(v["reason"].startswith(("flaky", "some outcomes", "outcome unknown")) for v in got.values()):
        return INCONCLUSIVE, detail
    if any(v["verdict"] == SUPPORTED for v in got.values()):
        return SUPPORTED, detail
    return INCONCLUSIVE, detail
