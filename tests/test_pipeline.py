from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from stallscope import schemas
from stallscope.pipeline import assess_logs
from stallscope.shared.excerpt import cap_excerpt


def test_assess_logs_ack_timeout_fixture_cites_the_timeout_line_by_file_and_line(embarcadero: Path,
                                                                                  tmp_path: Path) -> None:
    src = embarcadero / "2026-02-03_order5_ack1_8gb_ack_timeout"
    pdf = assess_logs(src, tmp_path / "out")
    assert pdf.exists() and pdf.suffix == ".pdf"
    claims = schemas.read_json(tmp_path / "out" / "claims.json", "claims")
    acks = next(c for c in claims["claims"] if c["id"] == "acks_complete")
    # 8 GiB at order 5 is not the kind of run the ACK claim is about (e2e 10 MB, 10 GiB at order 0)
    assert acks["verdict"] == "not_run" and "8 GiB, order 5, ACK 1" in acks["reason"]
    cited = [e for c in claims["claims"] for e in c["evidence"]
             if e["excerpt"] and "[Publisher ACK Timeout]" in e["excerpt"]]
    assert cited and cited[0]["file"] == "client.log"
    lines = (src / "client.log").read_text().splitlines()
    assert cap_excerpt(lines[cited[0]["line"] - 1]) == cited[0]["excerpt"]
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert f"client.log:{cited[0]['line']}" in text.replace("\n", "")


def test_assess_logs_ack_timeout_fixture_keeps_its_diagnosis(embarcadero: Path, tmp_path: Path) -> None:
    assess_logs(embarcadero / "2026-02-03_order5_ack1_8gb_ack_timeout", tmp_path / "out")
    claims = schemas.read_json(tmp_path / "out" / "claims.json", "claims")
    [diag] = claims["diagnosis"]
    assert "ACKs fell short (2387553 of 8388608)" in diag["summary"]
    assert claims["runs"][0]["kind"] == {"label": "8 GiB, order 5, ACK 1", "bytes": 8 * 1024**3, "scenarios": []}
