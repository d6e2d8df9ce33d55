"""Before/after: compare the trials of a baseline and a candidate SUT, figure by figure and scenario by scenario.

A difference between two medians is only called a change when a rank test says so at the stated level
(``ALPHA``); otherwise the comparison says "no detectable change" and how large a change these trials could
have detected, so a reader knows whether "no change" means "equal" or "too few trials to tell". The rank test is
the Mann-Whitney U statistic with its exact permutation distribution (enumerated for small samples, sampled for
large ones): it needs no scipy and makes no normality assumption about throughput, which is skewed by stalls.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stallscope.shared.trialstats import DIRECTION, FIGURES, median_ci
from stallscope.shared.trialstats import SCHEMA as SUMMARY_SCHEMA

SCHEMA = "comparison/1"
#: Two-sided significance level of the rank test.
ALPHA = 0.05
#: Power at which the smallest detectable change is stated.
POWER = 0.8
_EXACT_LIMIT = 20000
_MC_DRAWS = 20000


def _u(a: Sequence[float], b: Sequence[float]) -> float:
    """Mann-Whitney U of ``a`` against ``b`` (ties count one half)."""
    return sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)


def rank_test(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided permutation p-value of the Mann-Whitney U statistic; None when a side is empty."""
    if not a or not b:
        return None
    pooled = list(a) + list(b)
    n, k = len(pooled), len(a)
    centre = len(a) * len(b) / 2
    obs = abs(_u(a, b) - centre)
    if math.comb(n, k) <= _EXACT_LIMIT:
        splits = (list(c) for c in itertools.combinations(range(n), k))
        total = math.comb(n, k)
    else:
        rng = np.random.default_rng(len(a) * 1000003 + len(b))
        splits = (list(rng.permutation(n)[:k]) for _ in range(_MC_DRAWS))
        total = _MC_DRAWS
    hits = 0
    for idx in splits:
        chosen = set(idx)
        xa = [pooled[i] for i in idx]
        xb = [pooled[i] for i in range(n) if i not in chosen]
        if abs(_u(xa, xb) - centre) >= obs - 1e-12:
            hits += 1
    return hits / total


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


def compare_figure(figure: str, base: Sequence[float], cand: Sequence[float], alpha: float = ALPHA) -> dict[str, Any]:
    """One row of the comparison: both intervals, the relative change, the p-value and the plain statement."""
    b, c = median_ci(base), median_ci(cand)
    rel = None
    if b["median"] not in (None, 0) and c["median"] is not None:
        rel = (c["median"] - b["median"]) / abs(b["median"])
    p = rank_test(b["values"], c["values"])
    mde = smallest_detectable(b["values"], c["values"], alpha)
    mde_rel = mde / abs(b["median"]) if mde is not None and b["median"] not in (None, 0) else None
    if p is None:
        status, note = "evidence missing", "a side has no value for this figure"
    elif p <= alpha and c["median"] != b["median"]:
        status = _direction(figure, c["median"] - b["median"])
        note = f"p = {p:.3g} ≤ {alpha}"
    else:
        status = "no detectable change"
        if mde is None:
            note = (f"{b['n']} vs {c['n']} trials cannot reach p ≤ {alpha} with a rank test "
                    f"(smallest possible p = {smallest_p(b['n'], c['n']):.3g})")
        else:
            note = f"p = {p:.3g}; the smallest change these trials could detect is {mde:.4g}"
            if mde_rel is not None:
                note += f" ({mde_rel:.1%} of the baseline)"
    return {"figure": figure, "baseline": b, "candidate": c, "relative_change": rel, "p_value": p,
            "alpha": alpha, "smallest_detectable": mde, "smallest_detectable_relative": mde_rel,
            "status": status, "note": note}


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
        return "inconclusive", f"outcome unknown ({tally})"
    if cf * 2 > len(ck):
        return "refuted", f"the candidate still fails ({tally})"
    if len(ck) < len(cand_failed) or len(bk) < len(base_failed):
        return "inconclusive", f"some outcomes unknown ({tally})"
    if bf * 2 > len(bk) and cf == 0:
        return "supported", tally
    if cf:
        return "inconclusive", f"flaky candidate ({tally})"
    return "inconclusive", f"the baseline did not fail in most trials ({tally})"


def compare_summaries(base: Mapping[str, Any], cand: Mapping[str, Any], alpha: float = ALPHA) -> dict[str, Any]:
    """Compare two sets of scenario summaries (``{scenario: summary}``, see ``trialstats.summarise``)."""
    scenarios = []
    for name in sorted(base.keys() & cand.keys()):
        b, c = base[name], cand[name]
        rows = []
        for f in FIGURES:
            bv, cv = b["figures"][f]["values"], c["figures"][f]["values"]
            if bv or cv:
                rows.append(compare_figure(f, bv, cv, alpha))
        verdict, reason = problem_fixed([t["failed"] for t in b["per_trial"]], [t["failed"] for t in c["per_trial"]])
        scenarios.append({"scenario": name, "problem_fixed": {"verdict": verdict, "reason": reason},
                          "figures": rows})
    return {"schema": SCHEMA, "summary_schema": SUMMARY_SCHEMA, "alpha": alpha, "power": POWER,
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
        return "inconclusive", "no scenario was run on both commits"
    got = {s["scenario"]: s["problem_fixed"] for s in rows}
    detail = "; ".join(f"{n}: {v['reason']}" for n, v in got.items())
    if any(v["verdict"] == "refuted" for v in got.values()):
        return "refuted", detail
    if any(v["reason"].startswith(("flaky", "some outcomes", "outcome unknown")) for v in got.values()):
        return "inconclusive", detail
    if any(v["verdict"] == "supported" for v in got.values()):
        return "supported", detail
    return "inconclusive", detail
