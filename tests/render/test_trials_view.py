"""The report's trials table: intervals over trials and the agreement of per-trial diagnosis and bound."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from stallscope.render import answer
from stallscope.shared.summary import build_summary

from .conftest import make_claims


def test_first_page_row_intervals_and_agreement(tmp_path: Path) -> None:
    """Page 1's row of a scenario: medians with intervals from summary.json, counts over trials, flaky marked."""
    data = json.loads(make_claims(tmp_path).read_text())
    first = next(r for r in data["runs"] if r["scenario"] == "slow_producer")
    diag = data["diagnosis"][0]
    data["runs"], data["diagnosis"], metrics = [], [], {}
    for k, (mb, bound) in enumerate([(10.0, "client_producer"), (12.0, "client_producer"), (14.0, "flow_control")],
                                    start=1):
        run = copy.deepcopy(first)
        run.update({"run_id": f"slow_producer/t{k}", "trial": k, "outcome": "completed",
                    "bound": dict(first.get("bound") or {}, cause=bound)})
        data["runs"].append(run)
        metrics[run["run_id"]] = {"throughput": {"delivered_mb_s": mb}, "acks": {"completeness": 1.0}}
        data["diagnosis"].append(dict(diag, run_id=run["run_id"], bottleneck="client_producer"))
    (row,) = answer.scenario_rows(build_summary(data, metrics))
    median, interval = row["delivered_mb_s"].split(" ", 1)
    lo, hi = (float(x) for x in interval.strip("[]").split(", "))
    assert median == "12" and 10.0 <= lo <= 12.0 <= hi <= 14.0
    assert row["ack_completeness"] == "1.000 (all 3)"
    assert row["outcome"] == "completed 3/3" and row["diagnosis"] == "client producer 3/3"
    assert row["bound"] == "client producer 2, flow control 1 of 3"
    assert row["flaky"] and row["agreement"] == "flaky: bound differ"
    assert [t["href"] for t in row["runs"]] == [f"#run-slow_producer__t{k}" for k in (1, 2, 3)]


def test_report_shows_the_comparison(tmp_path: Path) -> None:
    from stallscope import schemas
    from stallscope.render.report import render_report
    from stallscope.shared import compare, trialstats
    from tests.builders.panel import panel_metrics

    def side(sut: str, stall: bool) -> dict:
        runs = []
        for k in range(1, 6):
            m = panel_metrics("ack_path")
            m["acks"]["is_timeout"] = stall
            m["throughput"]["delivered_mb_s"] = (100.0 if stall else 900.0) + k
            runs.append((f"ack_path/t{k}", m))
        return {"ack_path": trialstats.summarise("ack_path", sut, runs)}

    comp = compare.compare_summaries(side("aaaaaaaaaaaa", True), side("bbbbbbbbbbbb", False))
    comp["problem_fixed"] = dict(zip(("verdict", "reason"), compare.problem_fixed_overall(comp), strict=True))
    path = schemas.write_json(tmp_path / "comparison.json", "comparison", comp)
    out = render_report(make_claims(tmp_path / "c"), tmp_path / "report", formats="html", comparison=path)
    html = out.read_text()
    assert "Before/after" in html and "The problem is fixed: supported" in html
    assert "improved" in html and "[" in html.split("Before/after", 1)[1]
