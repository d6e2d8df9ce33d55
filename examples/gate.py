"""A CI gate on summary.json: fail the build when a scenario's bound changes or its goodput regresses.

    python examples/gate.py reports/<baseline>/summary.json reports/<candidate>/summary.json

Exit 0 when every scenario of the baseline holds, 1 with one line per failure otherwise, 2 on bad usage. A bound
"changes" when the bound most of a scenario's trials gave differs; goodput (delivered MB/s) "regresses" when
``stallscope compare``'s rule says so: a rank test at p <= 0.05, a ratio-of-medians interval below 1 and a drop
of at least the smallest change worth reporting (5 %). Too few trials can never regress: run more first.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from stallscope import schemas
from stallscope.shared.compare import MIN_CHANGE, compare_figure


def _bound(scenario: dict) -> str | None:
    bounds = scenario.get("bounds") or {}
    return max(bounds, key=bounds.get) if bounds else None


def failures(baseline: dict, candidate: dict, min_change: float = MIN_CHANGE) -> list[str]:
    """What fails the gate, one line each (empty: pass)."""
    out = []
    for name, base in baseline["scenarios"].items():
        cand = candidate["scenarios"].get(name)
        if cand is None:
            out.append(f"{name}: not run on the candidate")
            continue
        if _bound(base) != _bound(cand):
            out.append(f"{name}: bound changed from {_bound(base)} to {_bound(cand)}")
        row = compare_figure("delivered_mb_s", base["figures"]["delivered_mb_s"]["values"],
                             cand["figures"]["delivered_mb_s"]["values"], min_change=min_change)
        if row["status"] == "regressed":
            out.append(f"{name}: delivered MB/s regressed {row['relative_change']:+.1%} ({row['note']})")
    return out


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    base, cand = (schemas.read_json(Path(p), "summary") for p in argv)
    found = failures(base, cand)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
