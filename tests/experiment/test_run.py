from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from stallscope.experiment.run import run_scenario

from .procs_helpers import children_of, wait_for

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "configs" / "small" / "config.yaml"

pytestmark = pytest.mark.e2e


def _config(tmp_path: Path, **scenario_overrides: dict) -> Path:
    cfg = yaml.safe_load(SMALL.read_text())
    for name, over in scenario_overrides.items():
        cfg["scenarios"].setdefault(name, {}).update(over)
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_run_scenario_healthy_writes_logs_and_valid_manifest(tmp_path: Path, ref_build: Path) -> None:
    out = tmp_path / "run"
    run_scenario(SMALL, "keep_open", 1, ref_build, out)
    m = schemas.read_json(out / "manifest.json", "manifest")
    assert m["harness"] == {"ok": True, "errors": []}
    assert sorted(p.name for p in out.glob("broker_*.log")) == [f"broker_{i}.log" for i in range(4)]
    assert (out / "client.log").stat().st_size > 0
    assert [p["exit_code"] for p in m["processes"]] == [0, 0, 0, 0, 0]
    assert m["run_id"] == "keep_open/t1" and m["params"]["message_count"] == 51200
    assert all(_port_is_free(p) for p in m["ports"].values())
    assert m["sut"]["binaries"]["refbroker"] and m["rerun_command"].startswith("stallscope run")


def test_run_scenario_broker_killed_mid_run_records_status_and_keeps_log(tmp_path: Path, ref_build: Path) -> None:
    cfg = _config(tmp_path, e2e_10mb={"faults": {"linger_sec": 8}})
    out = tmp_path / "run"
    runner = subprocess.Popen([sys.executable, "-m", "stallscope.cli", "run", "--config", str(cfg), "--scenario",
                               "e2e_10mb", "--build", str(ref_build), "--out", str(out)],
                              stderr=subprocess.PIPE, text=True)
    try:
        brokers = wait_for(lambda: [p for p in children_of(runner.pid) if "--id" in p[1] and "refbroker" in p[1][0]]
                           if len(children_of(runner.pid)) >= 5 else None, timeout_s=20)
        victim = next(pid for pid, argv in brokers if argv[argv.index("--id") + 1] == "1")
        os.kill(victim, signal.SIGKILL)
        runner.wait(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    m = schemas.read_json(out / "manifest.json", "manifest")
    b1 = next(p for p in m["processes"] if p["name"] == "broker_1")
    assert b1["pid"] == victim and b1["signal"] == "SIGKILL" and b1["exit_code"] is None
    assert (out / "broker_1.log").stat().st_size > 0
    assert children_of(runner.pid) == []


def test_run_scenario_sigterm_to_runner_leaves_no_process(tmp_path: Path, ref_build: Path) -> None:
    cfg = _config(tmp_path, e2e_10mb={"faults": {"linger_sec": 30}})
    out = tmp_path / "run"
    runner = subprocess.Popen([sys.executable, "-m", "stallscope.cli", "run", "--config", str(cfg), "--scenario",
                               "e2e_10mb", "--build", str(ref_build), "--out", str(out)],
                              stderr=subprocess.DEVNULL)
    kids = wait_for(lambda: children_of(runner.pid) if len(children_of(runner.pid)) >= 5 else None, timeout_s=20)
    ports = [int(argv[argv.index("--port") + 1]) for _, argv in kids if "--port" in argv]
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=20) == 130
    for pid, _ in kids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert all(_port_is_free(p) for p in ports)
    assert not (out / "manifest.json").exists()  # not done: a rerun must redo it
    m = schemas.read_json(out / "manifest.interrupted.json", "manifest")
    assert m["harness"]["ok"] is False and any("interrupted" in e for e in m["harness"]["errors"])


def test_run_scenario_broker_never_ready_is_a_harness_error(tmp_path: Path, ref_build: Path) -> None:
    cfg = yaml.safe_load(SMALL.read_text())
    cfg["sut"] = {"kind": "external", "source": str(REPO / "workflow" / "broker"), "build_command": ["true"],
                  "broker_command": ["sleep", "30"], "client_command": ["{bin_dir}/refpub", "-b", "{brokers}"]}
    cfg["run"]["ready_timeout_s"] = 1
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(cfg))
    started = time.monotonic()
    run_scenario(p, "keep_open", 1, ref_build, tmp_path / "run")
    assert time.monotonic() - started < 15
    m = schemas.read_json(tmp_path / "run" / "manifest.json", "manifest")
    assert m["harness"]["ok"] is False and m["timeouts_hit"] and m["files"]["client_log"] is None
    assert all(p["signal"] in ("SIGTERM", "SIGKILL") for p in m["processes"])
