"""assessment.html and index.html in a real browser (headless Chromium): no console errors, every figure loads
with a non-zero size, nothing outside the report folder is referenced, and a screenshot is saved.

Skips when Chromium is not installed (`.ci/run` installs Debian's `chromium`). Set STALLSCOPE_SCREENSHOTS to a
folder to keep the screenshots."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from stallscope.render.index import build_index
from stallscope.render.report import render_report

from .browser import chromium, probe, screenshot
from .conftest import make_claims

pytestmark = pytest.mark.skipif(chromium() is None, reason="chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    reports = tmp / "reports"
    claims = make_claims(tmp / "in")
    render_report(claims, reports / "0123456789ab", formats="html")
    build_index(reports)
    return reports


def _local_refs(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#]+)"', html)


@pytest.mark.parametrize("page", ["0123456789ab/assessment.html", "index.html"])
def test_browser_page_loads_without_errors_figures_sized(archive: Path, page: str, tmp_path: Path) -> None:
    path = archive / page
    html = path.read_text(encoding="utf-8")
    for ref in _local_refs(html):  # self-contained: relative references that stay inside the archive
        assert not re.match(r"^[a-z]+:|^/", ref), ref
        assert (path.parent / ref).resolve().is_relative_to(archive.resolve()), ref
        assert (path.parent / ref).exists(), ref
    got = probe(path, tmp_path / "profile")
    assert got["errors"] == []
    assert len(got["images"]) == html.count("<img ")
    for img in got["images"]:
        assert min(img["natural"]) > 0 and min(img["shown"]) > 0, img
    assert got["dangling"] == []
    if page.endswith("assessment.html"):
        assert len(got["images"]) >= 3
        # Every anchor of the summary tables was followed and its target found and shown (a closed <details>
        # around a run opens on navigation).
        hrefs = re.findall(r'<a href="(#[^"]+)"', html[html.index('id="scenario-table"'):html.index('id="claims"')])
        assert len(got["links"]) == len(hrefs) >= 6
        for link in got["links"]:
            assert link["exists"] and link["shown"] and link["hash"] == link["href"], link
        assert {h.split("-", 1)[0] for h in hrefs} == {"#scn", "#run", "#claim"}
    png = screenshot(path, tmp_path / (Path(page).stem + ".png"), tmp_path / "profile2")
    assert png.stat().st_size > 20_000
    keep = os.environ.get("STALLSCOPE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)


def test_browser_probe_catches_a_broken_figure(archive: Path, tmp_path: Path) -> None:
    """The check can fail: a page whose figure is missing and that logs an error is reported as such."""
    page = archive / "0123456789ab" / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><title>x</title></head><body><img src="figures/nope.svg">'
                    '<script>console.error("boom")</script></body></html>')
    try:
        got = probe(page, tmp_path / "profile")
    finally:
        page.unlink()
    assert any("boom" in e for e in got["errors"]) and any("nope.svg" in e for e in got["errors"])
    assert got["images"][0]["natural"] == [0, 0]
