"""The view model: every string the template prints."""

from __future__ import annotations

import json
from pathlib import Path

from stallscope.render.viewmodel import (
    FigureRef,
    build_view,
    coverage_notes,
    evidence_ref,
    faults_text,
    fmt_bytes,
    params_text,
    short_commit,
)

from .conftest import make_claims


def test_evidence_ref_log_line_and_metric_cited() -> None:
    assert evidence_ref({"run_id": "s/t1", "file": "broker_0.log", "line": 3}) == "s/t1 broker_0.log:3"
    assert evidence_ref({"run_id": "s/t1", "file": None, "metric": "ring_full", "value": 4}) == "s/t1 ring_full = 4"


def test_params_text_unknown_params_says_unknown() -> None:
    assert params_text({"brokers": None}) == "unknown (ingested logs)"
    assert params_text({"total_bytes": 10 * 2**30}) == "10 GiB"
    assert faults_text({"x": 1, "a": "b"}) == "faults: a=b, x=1"
    assert faults_text({}) == ""
    assert fmt_bytes(None) == "—"


def test_params_text_compact_line() -> None:
    params = {"brokers": 4, "threads_per_broker": 4, "message_size": 1024, "message_count": 10485760,
              "total_bytes": 10 * 2**30, "order": 0, "ack_level": 1, "ack_timeout_s": 120, "stall_threshold_ms": 50}
    assert params_text(params).replace("\u00a0", " ") == (
        "4×4 conn, 1 KiB × 10,485,760 (10 GiB), ORDER 0, ACK 1, timeout 120 s, stall ≥ 50 ms")


def test_short_commit_cuts_hashes_only() -> None:
    assert short_commit("cf14786ba3ba821c8847ef5e1fda5a3de91efbbb") == "cf14786ba3ba"
    assert short_commit("0.1.0") == "0.1.0"
    assert short_commit(None) == "—"


def test_build_view_claim_evidence_capped_logs_first(tmp_path: Path) -> None:
    claims = json.loads(make_claims(tmp_path).read_text())
    metric = {"run_id": "r/t1", "file": None, "line": None, "excerpt": None, "metric": "m", "value": 1}
    logs = [{"run_id": "r/t1", "file": "broker_0.log", "line": i, "excerpt": f"line {i}", "metric": None,
             "value": None} for i in range(10)]
    claims["claims"][0].update(evidence=[metric] * 3 + logs, evidence_count=2000)
    claim = build_view(claims, [])["experts"][0]["claims"][0]
    assert [e["ref"] for e in claim["evidence"]] == [f"r/t1 broker_0.log:{i}" for i in range(8)]
    assert claim["evidence_more"] == "1,992 further items in claims.json"


def test_build_view_figures_numbered_sections_follow_experts(tmp_path: Path) -> None:
    claims = json.loads(make_claims(tmp_path).read_text())
    view = build_view(claims, [FigureRef("figures/a.svg", "A"), FigureRef("figures/b.svg", "B", key="stalls")],
                      {"usable": ["r/t1", "q/t1"], "stalls": ["r/t1"], "acks": ["r/t1", "q/t1"]})
    assert [f["caption"] for f in view["figures"]] == ["Figure 1: A", "Figure 2: B"]
    assert view["figures"][1]["note"] == ("No stalls were logged in q/t1, so their stall rows over time are empty "
                                          "and they have no line in the stall duration figure.")
    assert view["figure_notes"] == []
    assert [e["number"] for e in view["experts"]] == ["1", "2", "3", "4"]
    assert view["num"] == {"answer": "1", "claims": "2", "figures": "3", "next-steps": "4", "provenance": "5"}
    assert [t["href"] for t in view["toc"]][-2:] == ["#scenarios", "#appendix"]
    assert [c["count"] for c in view["verdict_counts"]] == ["2", "0", "0", "1", "1", "0"]
    assert view["mixed_note"] == ""


def test_build_view_mixed_runs_noted(tmp_path: Path) -> None:
    claims = json.loads(make_claims(tmp_path).read_text())
    claims.update(is_mixed=True, mixed_note="two hosts")
    view = build_view(claims, [], {})
    assert view["mixed_note"] == "two hosts"
    assert {"label": "mixed runs", "value": "two hosts"} in view["provenance"]


def test_evidence_ref_no_run_id_cites_file_only() -> None:
    assert evidence_ref({"run_id": None, "file": "bench.csv", "line": None}) == "bench.csv"
    assert evidence_ref({"run_id": None, "file": None, "metric": None}) == "—"


def test_coverage_notes_runs_without_acks_explained() -> None:
    runs = [{"run_id": "ok/t1", "publish_ok": True}, {"run_id": "bad/t1", "publish_ok": False},
            {"run_id": "gone/t1", "publish_ok": True}]
    notes = coverage_notes(runs, {"usable": ["ok/t1", "bad/t1"], "stalls": [], "acks": [], "no_data": ["throughput"],
                                  "missing": [{"run_id": "gone/t1", "missing": "x"}]})
    assert notes["stalls"] == ("No stalls were logged in ok/t1, bad/t1, so there is no stall duration figure and the "
                               "stall rows over time are empty.")
    assert "ok/t1 completed successfully before the client's first once-a-second progress line" in notes["acks"]
    assert "bad/t1 failed without logging one" in notes["acks"]
    assert "gone/t1" not in " ".join(notes.values())
    assert notes["no_data"] == "No figure of throughput: no run had such data."
