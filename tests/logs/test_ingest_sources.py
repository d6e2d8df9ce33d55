"""``ingest`` and ``assess-logs`` take a directory or a single log of any name."""

from __future__ import annotations

from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.cli import main
from stallscope.errors import StallscopeError
from stallscope.logs.ingest import ingest
from tests.builders.logs import glog

LINES = [glog("Publish test completed in 1.00 seconds"), glog("Bandwidth: 10.00 MB/s")]


@pytest.mark.parametrize("name", ["throughput_run.out", "weird name.txt", "noext"])
def test_single_log_of_any_name_becomes_client_log(tmp_path: Path, name: str) -> None:
    src = tmp_path / name
    src.write_text("\n".join(LINES) + "\n")
    assert main(["ingest", str(src), "--out", str(tmp_path / "run")]) == 0
    m = schemas.read_json(tmp_path / "run" / "manifest.json", "manifest")
    assert m["files"]["client_log"] == "client.log"
    assert (tmp_path / "run" / "client.log").read_bytes() == src.read_bytes()


def test_directory_with_one_log_of_any_name(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    (d / "run_order0_ack1.log").write_text("\n".join(LINES) + "\n")
    [run] = ingest(d, tmp_path / "run")
    assert (run / "client.log").read_bytes() == (d / "run_order0_ack1.log").read_bytes()


def test_directory_with_several_unnamed_logs_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    for n in ("a.log", "b.log"):
        (d / n).write_text(LINES[0] + "\n")
    with pytest.raises(StallscopeError, match="no logs here"):
        ingest(d, tmp_path / "run")


def test_assess_logs_driver_fixture_end_to_end(tmp_path: Path, embarcadero: Path) -> None:
    src = embarcadero / "2026-07-28_order0_ack1_n4_driver"
    assert main(["assess-logs", str(src), "-o", str(tmp_path / "out")]) == 0
    claims = schemas.read_json(tmp_path / "out" / "claims.json", "claims")
    assert [r["run_id"].split("/")[1] for r in claims["runs"]] == ["t1a1", "t2a1", "t3a1"]
    assert all(r["kind"]["label"] == "10 GiB, order 0, ACK 1" for r in claims["runs"])
    e2e = next(c for c in claims["claims"] if c["id"] == "e2e_long_stalls_after_client_done")
    assert e2e["verdict"] == "not_run"
    assert (tmp_path / "out" / "assessment.pdf").is_file()
