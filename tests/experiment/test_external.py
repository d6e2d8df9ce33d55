from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.experiment.build import build_broker
from stallscope.experiment.run import run_scenario

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = REPO / "tests" / "configs" / "external" / "config.yaml"

pytestmark = pytest.mark.e2e


@pytest.mark.skipif(not shutil.which("cmake"), reason="cmake is needed to build the broker")
def test_external_broker_builds_and_runs_from_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # sut.source is relative to the working directory, as in the workflow
    build = build_broker(EXTERNAL, tmp_path / "build")
    b = schemas.read_json(build, "build")
    assert b["kind"] == "external" and set(b["binaries"]) == {"refbroker", "refpub"}
    assert "external-cmake" in b["command"] and re.fullmatch(r"[0-9a-f]{12}(-dirty-[0-9a-f]{8})?", b["sut"]["id"])

    out = tmp_path / "run"
    run_scenario(EXTERNAL, "partial_header", 1, build, out)
    m = schemas.read_json(out / "manifest.json", "manifest")
    assert m["harness"]["ok"] and [p["exit_code"] for p in m["processes"]] == [0] * 5
    broker_1 = next(p for p in m["processes"] if p["name"] == "broker_1")
    assert broker_1["argv"][0] == str(tmp_path / "build" / "bin" / "refbroker")
    assert "--header-pause-ms" in m["processes"][-1]["argv"]
    stalls = (out / "broker_1.log").read_text()
    assert stalls.count("[STALL] recv batch header (partial)") == 2 and stalls.count("[STALL] recv payload") == 1
