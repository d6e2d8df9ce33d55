"""The archive index: reports/index.html from reports/*/claims.json."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from stallscope.errors import StallscopeError
from stallscope.render.index import build_index, figure_changes, verdict_changes

from .conftest import make_claims

OLD, NEW = "ffffffffffff", "aaaaaaaaaaaa"  # the older commit sorts last by name: order must come from the date


def _archive(reports: Path, tmp: Path, sut_id: str, **kw: object) -> dict:
    claims = make_claims(tmp / sut_id, sut_id=sut_id, **kw)  # type: ignore[arg-type]
    (reports / sut_id).mkdir(parents=True)
    shutil.copy(claims, reports / sut_id / "claims.json")
    return json.loads(claims.read_text())


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    _archive(reports, tmp_path, OLD, commit_date="2026-11-01T09:00:00+00:00", commit_subject="Add diagnostics")
    _archive(reports, tmp_path, NEW, commit_date="2026-11-20T09:00:00+01:00", commit_subject="Fix partial loop",
             verdicts={"root_cause": "supported"}, delivered_mb_s=180.0)
    return reports


def test_index_two_commits_lists_both_with_changed_verdict(reports: Path) -> None:
    html = build_index(reports).read_text()
    assert (reports / "index.html").is_file()
    assert html.index(OLD) < html.index(NEW)  # commit-date order
    for needle in ("Add diagnostics", "Fix partial loop", "2026-11-01T09:00:00+00:00", "baseline, slow_producer",
                   f'href="{NEW}/assessment.html"', "2026-11-26T20:00:00Z"):
        assert needle in html
    changes = html[html.index("What changed"):]
    assert "Conclusion: blocking recv is the problem (root_cause)" in changes
    assert re.search(r"<td>overclaim</td><td><span class=\"badge verdict-supported\">supported</span>", changes)
    assert re.search(r"<td>delivered_mb_s</td><td>95.5</td><td>180.0</td>", changes)
    assert "recv_sites" not in changes  # unchanged verdicts are not listed
    assert "warning" not in html.split("<body>")[1].split("<h2>")[0]


def test_index_broken_claims_skipped_with_warning(reports: Path) -> None:
    (reports / "0000000000ee").mkdir()
    (reports / "0000000000ee" / "claims.json").write_text("{not json")
    (reports / "0000000000ef").mkdir()
    (reports / "0000000000ef" / "claims.json").write_text(json.dumps({"schema": "claims/1"}))
    html = build_index(reports).read_text()
    assert html.count('class="warning"') == 2
    assert "skipped 0000000000ee" in html and "not valid JSON" in html
    assert "skipped 0000000000ef" in html
    assert OLD in html and NEW in html


def test_index_rebuild_replaces_previous_page(reports: Path) -> None:
    (reports / "index.html").write_text("stale")
    out = build_index(reports)
    assert "stale" not in out.read_text()


def test_index_missing_reports_dir_raises(tmp_path: Path) -> None:
    with pytest.raises(StallscopeError, match="reports directory not found"):
        build_index(tmp_path / "nope")


def test_verdict_changes_added_and_removed_claims_listed() -> None:
    old = {"claims": [{"id": "a", "title": "A", "verdict": "supported"}]}
    new = {"claims": [{"id": "b", "title": "B", "verdict": "refuted"}]}
    assert [(c["was"], c["now"]) for c in verdict_changes(old, new)] == [("supported", "absent"), ("absent", "refuted")]


def test_figure_changes_empty_runs_empty() -> None:
    assert figure_changes({"runs": []}, {"runs": []}) == []
