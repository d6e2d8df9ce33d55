"""Per-scenario statistics over repeated trials: key figures, medians and bootstrap intervals.

One run is one sample. A verdict or a before/after statement needs to know how much a figure moves from trial to
trial, so every key figure of a scenario is reported as the median of its trials with a 95 % percentile-bootstrap
interval (``scipy.stats.bootstrap``). The bootstrap's random generator is seeded from the values themselves, so the
same trials always give the same interval (reports are reproducible) while different data still get independent
resamples.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

SCHEMA = "scenario_summary/1"
LEVEL = 0.95
N_BOOT = 2000

#: Key figures and whether higher is better (True), worse (False) or neither (None).
DIRECTION: dict[str, bool | None] = {
    "delivered_mb_s": True,
    "ack_completeness": True,
    "stalls_during_run.header": False,
    "stalls_during_run.partial": False,
    "stalls_during_run.payload": False,
    "ack_latency_p50_us": False,
    "ack_latency_p99_us": False,
}
FIGURES: tuple[str, ...] = tuple(DIRECTION)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, Mapping):
            return None
        d = d.get(p)
    return d


def _latency(metrics: Mapping[str, Any], key: str) -> float | None:
    """The worst broker's ACK latency percentile: a run is as late as its slowest acknowledging broker."""
    per = _get(metrics, "acks", "latency", "per_broker")
    if not isinstance(per, Mapping):
        return None
    vals = [_num(_get(b, key)) for b in per.values() if (_num(_get(b, "acked")) or 0) > 0]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def key_figures(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """The key figures of one run's metrics.json (None where the run holds no evidence for one)."""
    out: dict[str, float | None] = {
        "delivered_mb_s": _num(_get(metrics, "throughput", "delivered_mb_s")),
        "ack_completeness": _num(_get(metrics, "acks", "completeness")),
    }
    # A build without [STALL] timers logs no stall: its zero is no measurement (a patched build against the same
    # commit unpatched would otherwise read as stalls appearing).
    timed = _get(metrics, "evidence", "stall_timers", "state") != "no"
    for kind in ("header", "partial", "payload"):
        out[f"stalls_during_run.{kind}"] = (_num(_get(metrics, "stalls", "total", "during_run_by_kind", kind))
                                            if timed else None)
    out["ack_latency_p50_us"] = _latency(metrics, "p50_us")
    out["ack_latency_p99_us"] = _latency(metrics, "p99_us")
    return out


def failed(metrics: Mapping[str, Any]) -> bool | None:
    """Whether the run failed to complete: its ACK timeout when the logs show one either way (the failure the panel
    asks about), else a failed publish; None when neither is known."""
    timeout = _get(metrics, "acks", "is_timeout")
    if isinstance(timeout, bool):
        return timeout
    ok = _get(metrics, "outcome", "publish_ok")
    return (not ok) if isinstance(ok, bool) else None


def _rng(values: Sequence[float]) -> np.random.Generator:
    digest = hashlib.sha256(repr([round(v, 12) for v in values]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _bootstrap(samples: tuple[Sequence[float], ...], statistic: Any, level: float, n_boot: int,
               seed_values: Sequence[float]) -> tuple[float, float]:
    """Percentile-bootstrap interval of ``statistic`` over independent ``samples`` (scipy's, seeded by the data).

    A sample whose values are all equal has a degenerate bootstrap distribution: scipy warns and may return NaN,
    while the honest interval is that value on both ends, so such statistics are computed directly.
    """
    if all(len(set(x)) == 1 for x in samples):
        v = float(statistic(*[np.asarray(x) for x in samples], axis=-1))
        return v, v
    res = stats.bootstrap(tuple(np.asarray(x, dtype=float) for x in samples), statistic, n_resamples=n_boot,
                          confidence_level=level, method="percentile", vectorized=True, paired=False,
                          rng=_rng(seed_values))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _median(x: Any, axis: int = -1) -> Any:
    return np.median(x, axis=axis)


def median_ci(values: Iterable[float | None], level: float = LEVEL, n_boot: int = N_BOOT) -> dict[str, Any]:
    """Median and percentile-bootstrap interval of the non-missing ``values``.

    One sample gives its value and no interval (``lo``/``hi`` None): a single run says nothing about spread.
    """
    xs = [float(v) for v in values if v is not None]
    if not xs:
        return {"n": 0, "median": None, "lo": None, "hi": None, "values": []}
    med = float(np.median(xs))
    if len(xs) < 2:
        return {"n": 1, "median": med, "lo": None, "hi": None, "values": xs}
    lo, hi = _bootstrap((xs,), _median, level, n_boot, xs)
    lo, hi = max(lo, min(xs)), min(hi, max(xs))  # a median of resamples lies within them: undo float rounding
    # ... and the interval holds the median it is stated with (seen: [1, 94101.67, 94101.67] gave an upper bound
    # one ulp below the median)
    lo, hi = min(lo, med), max(hi, med)
    return {"n": len(xs), "median": med, "lo": lo, "hi": hi, "values": xs}


def _ratio_of_medians(a: Any, b: Any, axis: int = -1) -> Any:
    mb = np.median(b, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mb != 0, np.median(a, axis=axis) / np.where(mb != 0, mb, 1.0), np.nan)


def ratio_ci(num: Sequence[float], den: Sequence[float], level: float = LEVEL,
             n_boot: int = N_BOOT) -> dict[str, float | None]:
    """Ratio of medians num/den with a percentile-bootstrap interval (both sides resampled independently).

    No interval when a side has fewer than 2 values, or when resamples of ``den`` can have a zero median (the
    ratio is then unbounded).
    """
    a, b = [float(x) for x in num], [float(x) for x in den]
    if not a or not b or np.median(b) == 0:
        return {"ratio": None, "lo": None, "hi": None}
    ratio = float(np.median(a) / np.median(b))
    if len(a) < 2 or len(b) < 2 or min(b) <= 0 <= max(b):
        return {"ratio": ratio, "lo": None, "hi": None}
    lo, hi = _bootstrap((a, b), _ratio_of_medians, level, n_boot, a + b)
    return {"ratio": ratio, "lo": lo, "hi": hi}


def summarise(scenario: str, sut: str, runs: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The scenario-summary document (``scenario_summary.schema.json``) over ``runs`` = (run_id, metrics)."""
    per_trial = []
    for run_id, m in runs:
        per_trial.append({"run_id": run_id, "failed": failed(m), "figures": key_figures(m)})
    figures = {f: median_ci(t["figures"][f] for t in per_trial) for f in FIGURES}
    fails = [t["failed"] for t in per_trial]
    return {
        "schema": SCHEMA,
        "scenario": scenario,
        "sut": sut,
        "level": LEVEL,
        "trials": len(per_trial),
        "failed_trials": sum(1 for f in fails if f is True),
        "unknown_trials": sum(1 for f in fails if f is None),
        "per_trial": per_trial,
        "figures": figures,
    }
