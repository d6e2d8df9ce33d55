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


def test_ingest_dag_driver_log_one_run_per_attempt(tmp_path: Path, embarcadero: Path) -> None:
    """A multi-client driver's folder in `ingest:` is assessed as one run per attempt, one ingest job each."""
    logs = embarcadero / "2026-07-28_order0_ack1_n4_driver"

    def ingest_only(cfg: dict) -> None:
        cfg["ingest"] = {"fig1n4": str(logs)}

    wd = make_workdir(tmp_path, ingest_only)
    res = snakemake(wd, "--cores", "2", "reports/ingested-fig1n4/assessment.pdf")
    assert res.returncode == 0, res.stderr[-3000:]
    claims = schemas.read_json(wd / "reports" / "ingested-fig1n4" / "claims.json", "claims")
    assert [r["run_id"] for r in claims["runs"]] == ["fig1n4/t1a1", "fig1n4/t2a1", "fig1n4/t3a1"]
    assert all(r["attempt"]["final"] and r["kind"]["label"] == "10 GiB, order 0, ACK 1" for r in claims["runs"])
    runs = wd / "results" / "runs" / "ingested-fig1n4" / "fig1n4"
    assert sorted(p.name for p in runs.iterdir()) == ["t1a1", "t2a1", "t3a1"]
    m = schemas.read_json(runs / "t2a1" / "metrics.json", "metrics")
    assert m["clients_total"]["count"] == 4 and m["clients_total"]["delivered_mb_s"] == 17250.29


def test_ingest_dag_per_trial_files_one_run_per_trial(tmp_path: Path) -> None:
    """A folder of per-trial files without a driver log (a failure test's client_failure_trial<k>.log) in
    `ingest:` is assessed as one run per trial, one ingest job each, with the byte copies listed as not used."""
    logs = next((p / "shared" / "fixtures" / "embarcadero-harness" / "fig3_prefix_safe"
                 for p in Path(__file__).resolve().parents[1:5]
                 if (p / "shared" / "fixtures" / "embarcadero-harness").is_dir()), Path("/nonexistent"))
    if not logs.is_dir():
        pytest.skip("harness fixtures absent")

    def ingest_only(cfg: dict) -> None:
        cfg["ingest"] = {"fig3": str(logs)}

    wd = make_workdir(tmp_path, ingest_only)
    res = snakemake(wd, "--cores", "2", "reports/ingested-fig3/assessment.pdf")
    assert res.returncode == 0, res.stderr[-3000:]
    claims = schemas.read_json(wd / "reports" / "ingested-fig3" / "claims.json", "claims")
    assert [r["run_id"] for r in claims["runs"]] == ["fig3/t1", "fig3/t2", "fig3/t3"]
    assert [r["outcome"] for r in claims["runs"]] == ["completed"] * 3
    assert {f["file"] for f in claims["runs"][0]["not_understood"]} == {"failure_events.csv",
                                                                         "real_time_acked_throughput.csv"}
