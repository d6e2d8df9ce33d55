from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.pipeline import assess_with_diagnosis
from stallscope.shared.excerpt import cap_excerpt

from .conftest import snakemake

pytestmark = pytest.mark.snakemake
REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "workflow" / "stallscope" / "render" / "templates"


def _sut(wd: Path) -> str:
    (d,) = [p.name for p in (wd / "reports").iterdir() if p.is_dir()]
    return d


def _pdf_pages(pdf: Path) -> list[str]:
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True, timeout=60).stdout
        return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
    from pypdf import PdfReader

    return [p.extract_text() for p in PdfReader(pdf).pages]


def test_report_pdf_names_sut_on_every_page_every_run_verdict_and_caption(runs_workdir: Path) -> None:
    sut = _sut(runs_workdir)
    report = runs_workdir / "reports" / sut
    pages = _pdf_pages(report / "assessment.pdf")
    assert pages and all(sut in p for p in pages), [i for i, p in enumerate(pages, 1) if sut not in p]
    text = "\n".join(pages)
    flat = re.sub(r"\s+", " ", text)
    claims = schemas.read_json(report / "claims.json", "claims")
    for run in claims["runs"]:
        assert run["run_id"] in text
    for c in claims["claims"]:
        assert c["verdict"].replace("_", " ") in flat or c["verdict"] in flat
    html = (report / "assessment.html").read_text()
    captions = re.findall(r"<figcaption>(Figure \d+):", html)
    assert captions and all(cap in text for cap in captions)


def test_report_figures_have_data_and_axis_labels(runs_workdir: Path) -> None:
    figs = sorted((runs_workdir / "reports" / _sut(runs_workdir) / "figures").glob("*.svg"))
    assert figs
    for svg in figs:
        body = svg.read_text()
        assert 'id="data-' in body, svg.name
        assert re.search(r"<!-- .*(ms|MB/s|broker|ACKs|seconds|run).* -->", body), svg.name


def test_report_every_evidence_item_resolves_to_its_log_line(runs_workdir: Path) -> None:
    claims = schemas.read_json(runs_workdir / "reports" / _sut(runs_workdir) / "claims.json", "claims")
    dirs = {r["run_id"]: runs_workdir / r["dir"] for r in claims["runs"]}
    items = [e for c in claims["claims"] for e in c["evidence"]]
    items += [e for d in claims["diagnosis"] for e in d["evidence_for"]]
    cited = [e for e in items if e["file"] and e["line"] and e["run_id"]]
    assert cited
    for e in cited:
        lines = (dirs[e["run_id"]] / e["file"]).read_text(errors="replace").splitlines()
        assert cap_excerpt(lines[e["line"] - 1]) == e["excerpt"], e  # the line itself, cut at 300 characters


def test_report_diagnosis_names_each_scenarios_injected_cause(runs_workdir: Path) -> None:
    claims = schemas.read_json(runs_workdir / "reports" / _sut(runs_workdir) / "claims.json", "claims")
    got = {d["scenario"]: (d["bottleneck"], d["expected_cause"]) for d in claims["diagnosis"]}
    assert got and all(b == e for b, e in got.values()), got


def test_report_e2e_alone_matches_the_seed_panel(runs_workdir: Path, tmp_path: Path) -> None:
    sut = _sut(runs_workdir)
    out = assess_with_diagnosis([runs_workdir / "results" / "runs" / sut / "e2e_10mb" / "t1"], tmp_path / "claims.json")
    verdicts = {c["id"]: c["verdict"] for c in json.loads(out.read_text())["claims"]}
    assert verdicts["recv_root_cause_of_ack_timeout"] != "supported"
    assert verdicts["recv_root_cause_of_ack_timeout"] == "overclaim"
    assert verdicts["e2e_long_stalls_after_client_done"] == "supported"
    assert verdicts["grep_verdict_brittle"] == "supported"
    assert verdicts["reproduced_original_failure"] == "refuted"


def test_report_index_lists_the_archived_commit(runs_workdir: Path) -> None:
    index = (runs_workdir / "reports" / "index.html").read_text()
    assert _sut(runs_workdir) in index


def test_report_template_edit_plans_only_report_and_index(runs_workdir: Path) -> None:
    template = TEMPLATES / "assessment.html.j2"
    original, st = template.read_bytes(), template.stat()
    template.write_bytes(original + b"{# an edit #}\n")
    try:
        res = snakemake(runs_workdir, "-n", "report")
    finally:
        template.write_bytes(original)
        os.utime(template, (st.st_atime, st.st_mtime))
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", res.stdout, re.M))
    jobs.pop("total", None)
    assert set(jobs) == {"render_report", "build_index", "report"}, res.stdout[-2000:]
