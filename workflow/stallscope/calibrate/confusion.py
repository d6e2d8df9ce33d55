"""The confusion matrix of calibration draws: counts, per-class precision and recall with Wilson intervals.

Why Wilson: a class has a handful of draws; the normal approximation's interval leaves [0, 1] and collapses to a
point at 0 or n successes, Wilson's does neither and always contains the point estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from stallscope.shared.vocabulary import HOST_CPU, NONE

Z95 = 1.959963984540054
#: A fault-free run named host_cpu is no mistake (the machine held it); kept in the matrix, left off the list.
ALLOWED = {(NONE, HOST_CPU)}


def wilson(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None, float | None]:
    """(estimate, low, high) of a proportion k/n with the Wilson score interval; Nones when n is 0."""
    if n <= 0:
        return None, None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 4)  # monotone: lo <= value <= hi still holds


def _rate(k: int, n: int) -> dict[str, Any]:
    est, lo, hi = wilson(k, n)
    return {"value": _r(est), "lo": _r(lo), "hi": _r(hi), "k": k, "n": n}


def matrix(pairs: Iterable[tuple[str, str]], classes: Sequence[str]) -> dict[str, Any]:
    """Counts per (expected, diagnosed) with per-class precision and recall; ``classes`` are the rows always
    shown (an expected class without draws has recall None), diagnosed labels outside them get columns too."""
    pairs = list(pairs)
    rows = list(dict.fromkeys([*classes, *(t for t, _ in pairs)]))
    cols = list(dict.fromkeys([*rows, *(d for _, d in pairs)]))
    counts = {t: dict.fromkeys(cols, 0) for t in rows}
    for t, d in pairs:
        counts[t][d] += 1
    per_class = {}
    for c in rows:
        support = sum(counts[c].values())
        predicted = sum(counts[t][c] for t in rows)
        per_class[c] = {"support": support, "predicted": predicted, "correct": counts[c][c],
                        "precision": _rate(counts[c][c], predicted), "recall": _rate(counts[c][c], support)}
    return {"rows": rows, "columns": cols, "counts": counts, "per_class": per_class, "total": len(pairs)}


def mistakes(records: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Every high-confidence answer of ``kind`` (bound or cause) that is not the expected one, with its run."""
    out = []
    for r in records:
        t, d, conf = r[f"expected_{kind}"], r[f"{kind}"], r[f"{kind}_confidence"]
        if conf == "high" and t != d and (t, d) not in ALLOWED:
            out.append({"run": r["run"], "kind": kind, "expected": t, "diagnosed": d, "confidence": conf,
                        "summary": r.get(f"{kind}_summary") or ""})
    return out
