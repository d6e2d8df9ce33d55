"""Calibration end to end (a short one, as CI runs it) and the CPU-hog scenario's bound, on real runs."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.calibrate.stage import _sink
from stallscope.diagnose.bound import decide_bound
from stallscope.experiment.config import load_config, resolve_scenario
from stallscope.experiment.run import run_scenario
from stallscope.logs.parse import parse_run
from stallscope.shared.rundir import read_run_dir

ROOT = Path(__file__).resolve().parents[2]
SEED = random.randrange(2**31)


def test_a_short_calibration_writes_a_valid_matrix_of_every_draw(tmp_path: Path, ref_build: Path) -> None:
    """Six draws through the command line, as `make calibrate` runs them (bounded: CI's short calibration)."""
    out = tmp_path / "calibration" / "confusion.json"
    proc = subprocess.run(
        [sys.executable, "-m", "stallscope.cli", "calibrate", "--config", str(ROOT / "config/config.yaml"),
         "--build", str(ref_build), "--seed", str(SEED), "--draws", "6", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    assert proc.returncode == 0, (SEED, proc.stderr[-3000:])
    conf = schemas.read_json(out, "confusion")
    assert conf["seed"] == SEED and conf["draws"] == 6 == len(conf["runs"]) == conf["bound"]["total"]
    assert conf["cause"]["total"] == 6
    for r in conf["runs"]:
        assert r["harness_ok"], (SEED, r)
        assert (out.parent / r["run_dir"] / "metrics.json").is_file()
        assert r["expected_bound"] == r["class"]
    assert (out.parent / conf["draws_config"]).is_file()
    print(f"seed {SEED}: " + "; ".join(f"{r['run']} -> {r['bound']} ({r['bound_confidence']})" for r in conf["runs"]))


def test_the_cpu_hog_scenario_reads_host_cpu_in_every_trial(tmp_path: Path, ref_build: Path) -> None:
    cfg_path = ROOT / "config/config.yaml"
    scn = resolve_scenario(load_config(cfg_path), "cpu_hog")
    build = schemas.read_json(ref_build, "build")
    for trial in (1, 2, 3):
        run_dir = tmp_path / f"t{trial}"
        run_scenario(cfg_path, "cpu_hog", trial, ref_build, run_dir)
        parse_run(run_dir)
        compute_metrics(run_dir)
        bench = _sink(Path(build["bin_dir"]), scn["params"], tmp_path / f"sink{trial}")
        bound = decide_bound(read_run_dir(run_dir), bench)
        assert bound["cause"] == "host_cpu", (trial, bound)
        windows = [ln for ln in (run_dir / "client.log").read_text().splitlines() if "name=cpu_hog" in ln]
        assert [w.split("[FaultWindow] ")[1].split()[0] for w in windows] == ["start", "stop"]


@pytest.mark.parametrize("bad", [["--draws", "0"]])
def test_bad_draws_is_one_line(tmp_path: Path, ref_build: Path, bad: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "stallscope.cli", "calibrate", "--build", str(ref_build), "--seed",
                           "1", *bad, "--out", str(tmp_path / "c.json")], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
