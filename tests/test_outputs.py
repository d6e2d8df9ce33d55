"""Every JSON and CSV file the stages write is 0644 (0666 less the umask) and validated by a schema.

The stages run through the CLI on logs made here: ingest, parse, metrics, assess, report, compare. The same check
runs over the end-to-end DAG's results (build.json, bench.json, the runs) in tests/workflow/test_runs.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from stallscope.cli import main
from tests.builders.logs import glog
from tests.outputs import check_outputs


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _logs(d: Path) -> Path:
    d.mkdir(parents=True)
    (d / "client.log").write_text("\n".join([
        glog("Publish test completed in 1.00 seconds", t="12:00:01.000000"),
        glog("Bandwidth: 10.00 MB/s", t="12:00:01.000001"),
    ]) + "\n")
    (d / "broker_0.log").write_text(glog("[STALL] recv batch header blocked 57ms client_id=1 bytes_read=0") + "\n")
    return d


def test_every_json_and_csv_a_stage_writes_is_0644_and_schema_valid(tmp_path: Path, umask_022: None) -> None:
    out = tmp_path / "results"
    run = out / "runs" / "logs" / "t1"
    assert main(["ingest", str(_logs(tmp_path / "logs")), "--out", str(run)]) == 0
    assert main(["parse", str(run)]) == 0
    assert main(["metrics", str(run)]) == 0
    assert main(["assess", str(run), "--out", str(out / "assessment" / "claims.json")]) == 0
    assert main(["report", str(out / "assessment" / "claims.json"), "--out", str(out / "report"),
                 "--formats", "html"]) == 0
    assert main(["compare", str(out / "assessment" / "claims.json"), str(out / "assessment" / "claims.json"),
                 "--out", str(out / "comparison.json")]) == 0
    found = check_outputs(out)
    # the report copies claims.json and each run's manifest and metrics beside itself: two of each
    assert {k: len(v) for k, v in found.items()} == {"manifest": 2, "events": 1, "lines": 1, "metrics": 2,
                                                      "claims": 2, "comparison": 1, "summary": 2}
    assert all((p.stat().st_mode & 0o777) == 0o644 for paths in found.values() for p in paths)


def test_the_check_catches_a_private_file_and_a_file_without_schema(tmp_path: Path, umask_022: None) -> None:
    """The check itself: a 0600 result (what events.csv used to be) and an unknown JSON file both fail."""
    private = tmp_path / "lines.json"
    private.write_text('{"schema": "lines/1", "files": {}}')
    private.chmod(0o600)
    (tmp_path / "extra.json").write_text("{}")
    (tmp_path / "extra.json").chmod(0o644)
    with pytest.raises(AssertionError) as exc:
        check_outputs(tmp_path)
    assert "lines.json: mode 0600" in str(exc.value) and "extra.json: no schema" in str(exc.value)
