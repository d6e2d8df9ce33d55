"""The real Embarcadero, built offline from ../shared/sut/embarcadero.bundle and run through the stage commands:
its e2e scenario completes with a bandwidth and every ACK, and the run leaves no process, shm object, ready file
or port behind. Marked `embarcadero` (about 6 minutes on 2 cores, the build included): CI runs it once
(`--run-embarcadero`); it skips without ../shared/sut. STALLSCOPE_EMBARCADERO_BUILD_JSON reuses a build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stallscope.experiment import embarcadero as emb

pytestmark = pytest.mark.embarcadero
REPO = Path(__file__).resolve().parents[2]
STAGE_TIMEOUT_S = 1800


def _stallscope(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "stallscope"
    res = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=STAGE_TIMEOUT_S)
    assert res.returncode == 0, f"stallscope {args[0]} failed ({res.returncode}): {res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def real_build(shared_sut: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(config file, build.json) of the bundle's HEAD, built once for the module."""
    work = tmp_path_factory.mktemp("embarcadero-real")
    src = work / "embarcadero-src"
    subprocess.run(["git", "clone", "-q", str(shared_sut / "embarcadero.bundle"), str(src)], check=True,
                   timeout=300)
    cfg = yaml.safe_load((REPO / "config" / "embarcadero.yaml").read_text())
    cfg["sut"]["source"] = str(src)
    cfg["sut"]["folly"] = str(shared_sut / "folly-2024.03.11.00.tar.xz")
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    given = os.environ.get("STALLSCOPE_EMBARCADERO_BUILD_JSON")
    if given:
        return config, Path(given)
    _stallscope("build", f"--config={config}", "--out", str(work / "build"), cwd=work)
    return config, work / "build" / "build.json"


def test_real_build_records_what_it_built(real_build: tuple[Path, Path]) -> None:
    build = json.loads(real_build[1].read_text())
    assert build["kind"] == "embarcadero" and set(build["binaries"]) == {"embarlet", "throughput_test"}
    assert build["stall_timers"] == "no"  # HEAD has no [STALL] timers
    assert build["build_wall_s"] > 0 and build["compiler_version"]
    assert any(f.startswith("-include absl/") for f in build["flags"])


def test_real_e2e_completes_and_leaves_nothing(real_build: tuple[Path, Path], tmp_path: Path) -> None:
    config, build_json = real_build
    out = tmp_path / "run"
    _stallscope("run", f"--config={config}", "--scenario", "e2e_10mb", "--trial=1", "--build", str(build_json),
                "--out", str(out), cwd=tmp_path)
    _stallscope("parse", str(out), cwd=tmp_path)
    _stallscope("metrics", str(out), cwd=tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    m = json.loads((out / "metrics.json").read_text())
    assert manifest["harness"]["ok"], manifest["harness"]["errors"]
    assert m["outcome"]["status"] == "completed"
    assert m["throughput"]["delivered_mb_s"] > 0
    assert m["acks"]["completeness"] == 1.0 and m["acks"]["expected"] == 10485760 // 1024
    assert m["summary_csv"]["publish_goodput_mb_s"] == pytest.approx(m["throughput"]["delivered_mb_s"], abs=0.01)
    rec = manifest["embarcadero"]
    assert rec["left_behind"] == []
    assert all(rec["peak_rss_kb"][p["name"]] > 0 for p in manifest["processes"])
    # nothing of the run is left: shm object, ready files, processes, ports
    assert not (emb.SHM_DIR / rec["shm_name"]).exists()
    for p in manifest["processes"]:
        assert not emb.ready_file(p["pid"]).exists()
        with pytest.raises(ProcessLookupError):
            os.kill(p["pid"], 0)
    assert emb.check_ports(4) == []
