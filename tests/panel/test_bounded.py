"""What claims.json and the page carry stays bounded: excerpts capped with a marked cut, at most
MAX_EVIDENCE_PER_CLAIM items per claim with the exact count, and a [STALL] line with a 1 MiB tail assessed whole."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from stallscope.panel.assess import verdict_entry
from stallscope.panel.catalogue import load_catalogue
from stallscope.panel.verdicts import MAX_EVIDENCE_PER_CLAIM, make
from stallscope.pipeline import assess_logs
from stallscope.shared.evidence import Evidence
from stallscope.shared.excerpt import EXCERPT_CHARS, cap_excerpt


@given(st.text(max_size=2000))
def test_cap_excerpt_bounded_prefix_kept_idempotent(text: str) -> None:
    capped = cap_excerpt(text)
    assert capped is not None
    assert capped.startswith(text[:EXCERPT_CHARS])
    if len(text) <= EXCERPT_CHARS:
        assert capped == text
    else:
        assert len(capped) < EXCERPT_CHARS + 100
        assert f"[cut: {len(text) - EXCERPT_CHARS:,} more characters" in capped
    assert cap_excerpt(capped) == capped


def test_verdict_entry_caps_items_keeps_exact_count() -> None:
    cat = load_catalogue()
    items = [Evidence(run_id="r/t1", file="broker_0.log", line=i, excerpt="x" * 5000) for i in range(500)]
    v = make(cat.claims[0].id, "supported", "because", ["r/t1"], items)
    entry = verdict_entry(cat, v)
    assert len(entry["evidence"]) == MAX_EVIDENCE_PER_CLAIM
    assert entry["evidence_count"] == 500
    assert all(len(e["excerpt"]) < EXCERPT_CHARS + 100 for e in entry["evidence"])


def test_assess_logs_stall_line_with_a_1mib_tail(tmp_path: Path) -> None:
    src = tmp_path / "logs"
    src.mkdir()
    head = "W20260202 13:20:01.000000 1161 network_manager.cc:782] [STALL] recv batch header blocked 120ms " \
           "client_id=7 bytes_read=128 "
    lines = [f"I20260202 13:20:00.{i:06d} 1161 network_manager.cc:76] SetAcceptedSocketBuffers fd={i}"
             for i in range(20)]
    lines.append(head + "x" * (1 << 20))
    (src / "broker_0.log").write_text("\n".join(lines) + "\n")
    (src / "client.log").write_text("I20260202 13:20:00.000000 1 throughput_test.cc:1] Starting publisher\n")
    out = tmp_path / "out"
    assess_logs(src, out)
    claims_path = out / "assessment" / "claims.json"
    assert claims_path.stat().st_size < 5_000_000
    assert (out / "assessment.html").stat().st_size < 5_000_000
    claims = json.loads(claims_path.read_text())
    cited = [e for c in claims["claims"] for e in c["evidence"] if e["excerpt"] and "[STALL]" in e["excerpt"]]
    assert cited, "the long stall line is cited"
    for e in cited:
        assert e["excerpt"].startswith(head[:EXCERPT_CHARS]) and "[cut: " in e["excerpt"]
        assert len(e["excerpt"]) < EXCERPT_CHARS + 100
        assert (src / e["file"]).read_text().splitlines()[e["line"] - 1].startswith(head)  # the cited line is whole
