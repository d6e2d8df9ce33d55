from __future__ import annotations

from pathlib import Path

import pytest

from stallscope import schemas

from .conftest import make_workdir, snakemake

pytestmark = pytest.mark.snakemake


def test_ingest_dag_assesses_logs_from_elsewhere_without_build_or_run(tmp_path: Path, embarcadero: Path) -> None:
    logs = embarcadero / "2026-02-03_order5_ack1_8gb_ack_timeout"

    def ingest_only(cfg: dict) -> None:
        cfg["ingest"] = {"cluster8gb": str(logs)}

    wd = make_workdir(tmp_path, ingest_only)
    target = "reports/ingested-cluster8gb/assessment.pdf"
    res = snakemake(wd, "--cores", "2", target)
    assert res.returncode == 0, res.stderr[-3000:]
    ran = res.stderr + res.stdout
    assert "rule build_broker" not in ran and "rule run_scenario" not in ran
    claims = schemas.read_json(wd / "reports" / "ingested-cluster8gb" / "claims.json", "claims")
    assert [r["origin"] for r in claims["runs"]] == ["ingested"]
    acks = next(c for c in claims["claims"] if c["id"] == "acks_complete")
    assert acks["verdict"] == "not_run" and "8 GiB, order 5, ACK 1" in acks["reason"]  # not a run of its kind
    assert any(e["file"] == "client.log" and "[Publisher ACK Timeout]" in (e["excerpt"] or "")
               for c in claims["claims"] for e in c["evidence"])
