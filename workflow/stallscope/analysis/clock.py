"""Check a run's timestamps before any figure is drawn from them: time going backwards, impossible dates.

Phases, the init wait and the phase a stall falls in are differences of glog timestamps. When a log's time runs
backwards (logs concatenated out of order, a clock stepped during the run, edited lines) or its dates are
impossible (``20261341``), those differences are not durations: a reversed client log once gave an init wait of
12,814 % of the run. So a run whose clock is broken gets ``clock.ok: false`` with what was found, and the metrics
that depend on timestamps are left out (null) instead of computed.

Tolerance: glog stamps a record when it is created and writes it when it is complete, so records of concurrent
threads can appear out of order by as long as a thread waits between the two, milliseconds under load. A step
back of a second or more is not that; it is a clock or a file that cannot be read as a timeline.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from stallscope.analysis.thresholds import BACKSTEP_US

EXAMPLES_KEPT = 5


def check_clock(ev: pd.DataFrame, lines: dict[str, Any]) -> dict[str, Any]:
    """The ``clock`` object of metrics.json: ok, counts of backward steps and impossible dates, examples."""
    backwards = 0
    examples: list[dict[str, Any]] = []
    invalid = 0
    for name, grp in ev.groupby("file", sort=True):
        grp = grp.sort_values("line", kind="stable")
        invalid += int(grp["ts_us"].isna().sum())
        ts = grp["ts_us"].dropna().astype("int64")
        if ts.empty:
            continue
        # a step back measured from the latest time seen so far, so one early outlier cannot hide the rest
        latest = ts.cummax().shift(1)
        back = (latest - ts)[(latest - ts) >= BACKSTEP_US]
        backwards += len(back)
        for idx, step in back.head(EXAMPLES_KEPT - len(examples)).items():
            examples.append({"file": str(name), "line": int(grp.at[idx, "line"]), "back_s": round(step / 1e6, 6)})
    for name, v in sorted(lines.items()):
        first, last = v.get("first_ts_us"), v.get("last_ts_us")
        if first is not None and last is not None and first - last >= BACKSTEP_US:
            backwards += 1
            if len(examples) < EXAMPLES_KEPT:
                examples.append({"file": name, "line": None, "back_s": round((first - last) / 1e6, 6)})
        elif first is None and v.get("event", 0) + v.get("glog", 0) + v.get("unreadable", 0) > 0:
            invalid += 1  # the file has glog records, and the first one's date cannot be a date
    notes = []
    if backwards:
        notes.append(f"time goes backwards by a second or more {backwards} time(s); timing figures left out")
    if invalid:
        notes.append(f"{invalid} record(s) with an impossible date; timing figures left out")
    return {"ok": not notes, "backward_steps": backwards, "invalid_dates": invalid, "examples": examples,
            "notes": notes}
