"""The view model: every string the template prints."""

from __future__ import annotations

import json
from pathlib import Path

from stallscope.render.viewmodel import FigureRef, build_view, evidence_ref, fmt_bytes, params_text

from .conftest import make_claims


def test_evidence_ref_log_line_and_metric_cited() -> None:
    assert evidence_ref({"run_id": "s/t1", "file": "broker_0.log", "line": 3}) == "s/t1 broker_0.log:3"
    assert evidence_ref({"run_id": "s/t1", "file": None, "metric": "ring_full", "value": 4}) == "s/t1 ring_full = 4"


def test_params_text_unknown_params_says_unknown() -> None:
    assert params_text({"brokers": None}, {}) == "unknown (ingested logs)"
    assert params_text({"total_bytes": 10 * 2**30}, {"x": 1}) == "total=10 GiB, x=1"
    assert fmt_bytes(None) == "—"


def test_build_view_figures_numbered_sections_follow_experts(tmp_path: Path) -> None:
    claims = json.loads(make_claims(tmp_path).read_text())
    view = build_view(claims, [FigureRef("figures/a.svg", "A")],
                      [{"run_id": "r/t1", "missing": "", "figures": [FigureRef("figures/b.svg", "B")]}])
    assert view["overview_figures"][0]["caption"] == "Figure 1: A"
    assert view["run_figures"][0]["figures"][0]["caption"] == "Figure 2: B"
    assert [e["section"] for e in view["experts"]] == ["3", "4", "5", "6"]
    assert view["num"]["provenance"] == "11"
    assert [c["count"] for c in view["verdict_counts"]] == ["2", "0", "0", "1", "1", "0"]
    assert view["mixed_note"] == ""


def test_build_view_mixed_runs_noted(tmp_path: Path) -> None:
    claims = json.loads(make_claims(tmp_path).read_text())
    claims.update(is_mixed=True, mixed_note="two hosts")
    view = build_view(claims, [], [])
    assert view["mixed_note"] == "two hosts"
    assert {"label": "mixed runs", "value": "two hosts"} in view["provenance"]


def test_evidence_ref_no_run_id_cites_file_only() -> None:
    assert evidence_ref({"run_id": None, "file": "bench.csv", "line": None}) == "bench.csv"
    assert evidence_ref({"run_id": None, "file": None, "metric": None}) == "—"
