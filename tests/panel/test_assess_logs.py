from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from stallscope import schemas
from stallscope.excerpt import cap_excerpt
from stallscope.panel.assess_logs import assess_logs


def test_assess_logs_ack_timeout_fixture_cites_the_timeout_line_by_file_and_line(embarcadero: Path,
                                                                                  tmp_path: Path) -> None:
    src = embarcadero / "2026-02-03_order5_ack1_8gb_ack_timeout"
    pdf = assess_logs(src, tmp_path / "out")
    assert pdf.exists() and pdf.suffix == ".pdf"
    claims = schemas.read_json(tmp_path / "out" / "claims.json", "claims")
    acks = next(c for c in claims["claims"] if c["id"] == "acks_complete")
    cited = [e for e in acks["evidence"] if e["excerpt"] and "[Publisher ACK Timeout]" in e["excerpt"]]
    assert cited and cited[0]["file"] == "client.log"
    lines = (src / "client.log").read_text().splitlines()
    assert cap_excerpt(lines[cited[0]["line"] - 1]) == cited[0]["excerpt"]
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert f"client.log:{cited[0]['line']}" in text.replace("\n", "")
