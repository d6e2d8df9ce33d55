"""Evidence inventory and the claims' needs, on the real Embarcadero logs and on garbage.

A source a run lacks gives ``not_run`` naming it, an unknown one ``inconclusive``, never ``refuted``; a run that
could hardly be read is judged on nothing and says so on the report's first page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from stallscope import schemas
from stallscope.panel.catalogue import load_catalogue
from stallscope.pipeline import assess_logs
from tests.builders.panel import panel_manifest, panel_metrics, panel_run

CONFIDENT = {"supported", "refuted", "overclaim"}
STALL_CLAIMS = {c.id for c in load_catalogue().claims if "broker_logs" in c.needs or "stall_timers" in c.needs}


def _assess(src: Path, out: Path, **kw: Any) -> dict[str, Any]:
    assess_logs(src, out, **kw)
    return schemas.read_json(out / "claims.json", "claims")


def _line(path: Path, n: int) -> str:
    return path.read_text(errors="replace").splitlines()[n - 1]


def test_10gb_fixture_bound_is_the_producer_citing_publish_bw_delivered_and_eagain(embarcadero: Path,
                                                                                   tmp_path: Path) -> None:
    src = embarcadero / "2026-02-02_order0_ack1_10gb"
    claims = _assess(src, tmp_path / "out")
    (run,) = claims["runs"]
    bound = run["bound"]
    assert run["outcome"] == "completed" and bound["cause"] == "client_producer", bound
    cited = {e["metric"]: e for e in bound["evidence"]}
    assert cited["producer.publish_bw"]["value"] == 1370.41 and cited["producer.delivered"]["value"] == 1229.66
    assert cited["producer.eagain"]["value"] == 0
    for e in cited.values():  # each figure by file and line, the line as it is in the log
        assert e["file"] == "client.log" and e["excerpt"] in _line(src / "client.log", e["line"])
    assert "Publish() bandwidth: 1370.41" in cited["producer.publish_bw"]["excerpt"]
    assert "EAGAIN/ENOBUFS count: 0" in cited["producer.eagain"]["excerpt"]
    assert claims["diagnosis"][0]["bound"] == bound
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "out" / "assessment.pdf").pages)
    assert "client producer" in text and "client.log:57" in text.replace("\n", "")


def test_8gb_timeout_fixture_keeps_its_figures_and_diagnosis(embarcadero: Path, tmp_path: Path) -> None:
    claims = _assess(embarcadero / "2026-02-03_order5_ack1_8gb_ack_timeout", tmp_path / "out")
    (run,), (diag,) = claims["runs"], claims["diagnosis"]
    k = run["key_figures"]
    assert (k["acks_received"], k["acks_expected"]) == (2_387_553, 8_388_608)
    assert run["outcome"] == "ack_timeout"
    assert diag["bottleneck"] == "unknown" and "2387553 of 8388608" in diag["summary"]


def test_client_log_alone_every_stall_claim_is_not_run_no_broker_logs(embarcadero: Path, tmp_path: Path) -> None:
    claims = _assess(embarcadero / "2026-02-03_order5_ack1_8gb_ack_timeout", tmp_path / "out")
    assert STALL_CLAIMS
    stall = [c for c in claims["claims"] if c["id"] in STALL_CLAIMS]
    assert len(stall) == len(STALL_CLAIMS)
    assert all(c["verdict"] == "not_run" and "no broker logs" in c["reason"] for c in stall), stall
    inv = claims["runs"][0]["evidence"]
    assert inv["broker_logs"] == 0 and inv["client_logs"] == 1


def test_broker_logs_without_stall_lines_leave_timers_unknown_unless_declared(embarcadero: Path,
                                                                              tmp_path: Path) -> None:
    src = embarcadero / "2026-07-28_order0_ack1_n4"
    timer_claims = {c.id for c in load_catalogue().claims if "stall_timers" in c.needs}
    unknown = _assess(src, tmp_path / "u")
    assert unknown["runs"][0]["evidence"]["stall_timers"]["state"] == "unknown"
    # Claims about scenarios of another kind (bytes, order, ACK level) are not judged on this run at all.
    judged = [c["id"] for c in unknown["claims"]
              if c["id"] in timer_claims and "no run of the kind" not in c["reason"]]
    assert judged
    got = {c["id"]: c for c in unknown["claims"] if c["id"] in judged}
    assert all(c["verdict"] == "inconclusive" and "stall timers" in c["reason"] for c in got.values()), got
    absent = _assess(src, tmp_path / "n", stall_timers="no")
    got = {c["id"]: c for c in absent["claims"] if c["id"] in timer_claims}
    assert all(c["verdict"] == "not_run" and "no stall timers" in c["reason"] for c in got.values()), got
    present = _assess(src, tmp_path / "y", stall_timers="yes")
    assert present["runs"][0]["evidence"]["stall_timers"]["state"] == "yes"
    assert any(c["verdict"] != "inconclusive" for c in present["claims"] if c["id"] in timer_claims)


def _no_confident_verdict(claims: dict[str, Any]) -> None:
    assert not [c["id"] for c in claims["claims"] if c["verdict"] in CONFIDENT]
    for d in claims["diagnosis"]:
        assert d["confidence"] == "low" and d["bound"]["confidence"] == "low", d


def test_random_bytes_exit_zero_no_confident_verdict_first_page_counts_unreadable(tmp_path: Path) -> None:
    src = tmp_path / "logs"
    src.mkdir()
    rng = __import__("random").Random(7)
    for name in ("broker_0.log", "client.log"):
        (src / name).write_bytes(bytes(rng.getrandbits(8) for _ in range(1 << 20)))
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "stallscope.cli", "assess-logs", str(src), "-o", str(out)],
                         capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert res.returncode == 0 or (res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1), res.stderr
    if res.returncode:
        return
    claims = schemas.read_json(out / "claims.json", "claims")
    _no_confident_verdict(claims)
    inv = claims["runs"][0]["evidence"]
    assert inv["judged_on_nothing"] and inv["lines_unreadable"] > inv["lines_total"] / 2
    first = PdfReader(out / "assessment.pdf").pages[0].extract_text().replace("\n", " ")
    assert f"{inv['lines_unreadable']} of {inv['lines_total']} lines were unreadable" in first
    assert "judged on nothing" in first


@pytest.mark.parametrize("content", [b"", b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n"])
def test_empty_or_foreign_text_is_judged_on_nothing(tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "logs"
    src.mkdir()
    (src / "broker_0.log").write_bytes(content)
    (src / "client.log").write_bytes(content)
    claims = _assess(src, tmp_path / "out")
    _no_confident_verdict(claims)
    assert claims["runs"][0]["evidence"]["judged_on_nothing"]


def test_metrics_without_inventory_are_judged_as_before() -> None:
    from stallscope.panel.needs import missing_for

    m = panel_metrics("unit")
    run = panel_run(m, panel_manifest("unit"))
    assert missing_for(run, ("broker_logs", "stall_timers")) == ([], [])
