"""The report stage: one rendered report (module fixture ``rendered``) checked from several sides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.render.report import render_report

from .conftest import EVIL, make_claims

RUN_IDS = ("baseline/t1", "slow_producer/t1")


@pytest.fixture(scope="module")
def pdf_pages(rendered: dict[str, Path]) -> list[str]:
    return [page.extract_text() for page in PdfReader(rendered["pdf"]).pages]


def test_report_outputs_all_files_written(rendered: dict[str, Path]) -> None:
    out = rendered["out"]
    for name in ("assessment.html", "assessment.pdf", "claims.json", "metrics/baseline__t1.json",
                 "metrics/slow_producer__t1.json", "manifests/baseline__t1.json", "manifests/slow_producer__t1.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "claims.json").read_text()) == json.loads(rendered["claims"].read_text())
    assert not list(out.rglob("*.tmp"))


def test_report_pdf_every_page_has_sut_and_page_numbers(pdf_pages: list[str]) -> None:
    assert len(pdf_pages) >= 2
    for n, page in enumerate(pdf_pages, start=1):
        assert "SUT 0123456789ab" in page
        assert "stallscope fedcba987654" in page
        assert "generated 2026-11-26T20:00:00Z" in page
        assert f"page {n} / {len(pdf_pages)}" in page


def test_report_pdf_contains_runs_verdicts_captions(rendered: dict[str, Path], pdf_pages: list[str]) -> None:
    text = "\n".join(pdf_pages)
    flat = " ".join(text.split())
    for run_id in RUN_IDS:
        assert run_id in text
    for claim in json.loads(rendered["claims"].read_text())["claims"]:
        assert f"Verdict: {claim['verdict']}." in text
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", rendered["html"].read_text())
    assert len(captions) == 4  # durations, throughput, one figure over time per run (no ACK latency logged)
    for caption in captions:
        assert " ".join(caption.replace("&#39;", "'").split()) in flat
    for heading in ("1. Answer", "Scenarios", "Claims and their evidence", "Next steps", "Provenance",
                    "Appendix A: scenarios and runs", "Appendix B: every log line cited"):
        assert heading in text


def test_report_attachments_claims_and_manifests_embedded(rendered: dict[str, Path]) -> None:
    attachments = PdfReader(rendered["pdf"]).attachments
    assert set(attachments) == {"claims.json", "summary.json", "manifest_baseline__t1.json",
                                "manifest_slow_producer__t1.json"}
    assert json.loads(attachments["claims.json"][0]) == json.loads(rendered["claims"].read_text())
    assert json.loads(attachments["manifest_baseline__t1.json"][0])["run_id"] == "baseline/t1"


def test_report_hostile_excerpt_escaped_in_html_literal_in_pdf(rendered: dict[str, Path], pdf_pages: list[str]) -> None:
    html = rendered["html"].read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} &amp; co" in html
    assert "<script" not in html
    assert "49" not in re.sub(r"\d{3,}", "", html)  # {{ 7*7 }} was not evaluated
    text = "\n".join(pdf_pages)
    assert "<script>alert(1)</script>" in text
    assert "{{ 7*7 }}" in text
    assert text.count(EVIL.split(" ")[0]) >= 3  # claim evidence twice + appendix once


def test_report_appendix_cites_each_line_once(rendered: dict[str, Path]) -> None:
    html = rendered["html"].read_text()
    appendix = html[html.index('id="appendix"'):]
    refs = re.findall(r'<td class="ref">(.*?)</td>', appendix)
    assert refs == ["baseline/t1 broker_0.log:12", "baseline/t1 broker_0.log:15", "slow_producer/t1 broker_1.log:9"]


def test_report_svgs_have_data_and_axis_labels(rendered: dict[str, Path]) -> None:
    figures = rendered["out"] / "figures"
    labels = {
        "stall_durations.svg": ("stall kind: header", "duration (ms, log scale)", *RUN_IDS),
        "throughput.svg": ("run", "MB/s"),
        "series_baseline__t1.svg": ("seconds since run start", "delivered MB/s", "stalls", "baseline/t1 over time"),
        "series_slow_producer__t1.svg": ("seconds since run start", "acked (messages)", "stalled s"),
    }
    assert {p.name for p in figures.glob("*.svg")} == set(labels)
    for name, texts in labels.items():
        svg = (figures / name).read_text()
        groups = re.findall(r'<g id="data-[^"]*">(.*?)</g>', svg, flags=re.S)  # gids set on data artists
        assert groups and all("<path" in g or "<use" in g for g in groups), name
        for label in texts:
            assert f"<!-- {label}" in svg, (name, label)
        assert "<dc:date>" not in svg
        assert f'src="figures/{name}"' in rendered["html"].read_text()


def test_report_missing_run_dir_says_evidence_missing(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in", missing_runs=("slow_producer/t1",))
    html_path = render_report(claims, tmp_path / "out", formats="html")
    html = html_path.read_text()
    assert "evidence missing:" in html
    assert "not found" in html
    durations = (tmp_path / "out" / "figures" / "stall_durations.svg").read_text()
    assert "<!-- baseline/t1 -->" in durations
    assert "slow_producer/t1" not in durations
    assert (tmp_path / "out" / "figures" / "series_baseline__t1.svg").is_file()
    assert not (tmp_path / "out" / "figures" / "series_slow_producer__t1.svg").exists()
    assert not (tmp_path / "out" / "assessment.pdf").exists()


def test_report_invalid_metrics_says_evidence_missing(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in")
    (tmp_path / "in" / "runs" / "baseline" / "t1" / "metrics.json").write_text('{"schema": "metrics/1"}')
    html = render_report(claims, tmp_path / "out", formats="html").read_text()
    assert "evidence missing:" in html and "metrics.json" in html


@pytest.mark.parametrize("cut", [None, "truncated"])
def test_report_missing_or_truncated_events_says_evidence_missing(tmp_path: Path, cut: str | None) -> None:
    claims = make_claims(tmp_path / "in")
    events = tmp_path / "in" / "runs" / "baseline" / "t1" / "events.csv"
    if cut is None:
        events.unlink()
    else:
        text = events.read_text()
        events.write_text(text[: text.rindex('"{""elapsed_s') + 12])  # cut inside a quoted field
    html = render_report(claims, tmp_path / "out", formats="html").read_text()
    assert "Run <code>baseline/t1</code>: evidence missing:" in html and str(events) in html


def test_report_leaves_out_a_manifest_that_breaks_its_schema(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in")
    (tmp_path / "in" / "runs" / "baseline" / "t1" / "manifest.json").write_text('{"schema": "manifest/0"}')
    render_report(claims, tmp_path / "out", formats="html")
    assert sorted(p.name for p in (tmp_path / "out" / "manifests").iterdir()) == ["slow_producer__t1.json"]
    assert (tmp_path / "out" / "metrics" / "baseline__t1.json").is_file()


def test_report_invalid_claims_raises_naming_file(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in")
    data = json.loads(claims.read_text())
    data["claims"][0]["verdict"] = "maybe"
    claims.write_text(json.dumps(data))
    with pytest.raises(StallscopeError) as exc:
        render_report(claims, tmp_path / "out", formats="html")
    assert str(claims) in str(exc.value)
    assert not (tmp_path / "out" / "assessment.html").exists()


def test_report_claims_schema_missing_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    claims = make_claims(tmp_path / "in")
    monkeypatch.setitem(schemas.KINDS, "claims", ("no-such.schema.json", 1, "stallscope assess"))
    with pytest.raises(StallscopeError, match="no-such.schema.json"):
        render_report(claims, tmp_path / "out", formats="html")


def test_report_bad_formats_raises(tmp_path: Path) -> None:
    with pytest.raises(StallscopeError, match="--formats"):
        render_report(make_claims(tmp_path / "in"), tmp_path / "out", formats="docx")


def test_make_claims_matches_claims_schema(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in")
    schemas.read_json(claims, "claims")  # the real schema when it exists, else the draft from the contract
    for run_id in RUN_IDS:
        schemas.read_json(tmp_path / "in" / "runs" / run_id / "manifest.json", "manifest")


def test_report_same_input_same_html_and_figures(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in")
    first = render_report(claims, tmp_path / "a", formats="html")
    second = render_report(claims, tmp_path / "b", formats="html")
    assert first.read_bytes() == second.read_bytes()
    svgs = sorted(p.name for p in (tmp_path / "a" / "figures").glob("*.svg"))
    assert len(svgs) >= 4, svgs  # durations, throughput and one series per run: nothing to compare is a failure
    assert svgs == sorted(p.name for p in (tmp_path / "b" / "figures").glob("*.svg"))
    for name in svgs:
        assert (tmp_path / "a" / "figures" / name).read_bytes() == (tmp_path / "b" / "figures" / name).read_bytes()


def test_report_cli_bad_claims_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stallscope.cli import main

    bad = tmp_path / "claims.json"
    bad.write_text("{")
    assert main(["report", str(bad), "--out", str(tmp_path / "out")]) == 1
    assert str(bad) in capsys.readouterr().err


def test_report_page_one_answers_from_summary_json(rendered: dict[str, Path], pdf_pages: list[str]) -> None:
    """summary.json validates, and page 1 of the PDF holds every scenario's row with summary.json's medians and
    intervals, and every claim's line with its verdict; the appendix starts on a page of its own (outline)."""
    from stallscope.render.answer import interval_text

    summary = schemas.read_json(rendered["out"] / "summary.json", "summary")
    page1 = " ".join(pdf_pages[0].split())
    assert "1. Answer" in page1 and "Scenarios" in page1 and "Claims" in page1
    for name, s in summary["scenarios"].items():
        assert name in page1
        for fig, fmt in (("delivered_mb_s", "{:,.0f}"), ("ack_completeness", "{:.3f}")):
            assert interval_text(s["figures"][fig], fmt) in page1, (name, fig)
    claims = json.loads(rendered["claims"].read_text())["claims"]
    assert [v["verdict"] for v in summary["verdicts"]] == [c["verdict"] for c in claims]
    for c in claims:
        assert c["title"] in page1
    reader = PdfReader(rendered["pdf"])
    top = {o.title: reader.get_destination_page_number(o) for o in reader.outline if not isinstance(o, list)}
    inner = {o.title: reader.get_destination_page_number(o) for o in reader.outline[1] if not isinstance(o, list)}
    assert top or inner
    marks = top | inner
    assert marks["1. Answer"] == 0 and marks["Appendix A: scenarios and runs"] > marks["5. Provenance"]
def test_report_patched_sut_names_each_patch_and_hash_on_first_page(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in")
    data = json.loads(claims.read_text())
    digest = "ab" * 32
    data["sut"]["patches"] = [{"path": "tests/fixtures/<timers>.patch", "sha256": digest}]
    schemas.write_json(claims, "claims", data)
    html = render_report(claims, tmp_path / "out", formats="html").read_text()
    first = html[:html.index('<section id="claims">')]
    assert "tests/fixtures/&lt;timers&gt;.patch" in first and digest in first
    assert "<timers>" not in html  # autoescaped
    plain = make_claims(tmp_path / "in2")
    assert 'class="patches"' not in render_report(plain, tmp_path / "out2", formats="html").read_text()
