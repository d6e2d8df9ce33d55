"""Every contract file reads and writes through stallscope.schemas: good files pass, bad ones name the problem."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.errors import StallscopeError


def _manifest() -> dict:
    return {
        "schema": "manifest/1", "run_id": "e2e_10mb/t1", "scenario": "e2e_10mb", "trial": 1, "origin": "run",
        "expected_cause": "init_lifecycle",
        "params": {k: None for k in ("brokers", "threads_per_broker", "message_size", "total_bytes",
                                     "message_count", "order", "ack_level", "ack_timeout_s", "batch_bytes",
                                     "stall_threshold_ms")},
        "faults": {"linger_sec": 3},
        "sut": {"id": "0123456789ab", "source": None, "commit": None, "is_dirty": False, "diff_sha256": None,
                "commit_date": None, "commit_subject": None, "binaries": {}},
        "stallscope": {"version": "0.1.0", "commit": None, "is_dirty": None},
        "host": {"hostname": "h", "kernel": None, "cpu_model": None, "cores": 2, "memory_bytes": None},
        "slurm": {"job_id": None, "node": None},
        "started_utc": None, "ended_utc": None, "utc_offset_s": 0, "processes": [], "ports": {},
        "timeouts_hit": [], "harness": {"ok": True, "errors": []}, "notes": [],
        "files": {"client_log": "client.log", "broker_logs": []}, "clock_aligned": True, "rerun_command": None,
    }


def test_write_json_manifest_good_example_round_trips(tmp_path: Path) -> None:
    p = schemas.write_json(tmp_path / "manifest.json", "manifest", _manifest())
    assert schemas.read_json(p, "manifest")["run_id"] == "e2e_10mb/t1"
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600: results are shared


def test_write_json_manifest_bad_sut_id_names_the_path(tmp_path: Path) -> None:
    m = _manifest()
    m["sut"]["id"] = "HEAD"
    with pytest.raises(StallscopeError) as exc:
        schemas.write_json(tmp_path / "manifest.json", "manifest", m)
    assert "at $.sut.id" in str(exc.value) and "manifest.json" in str(exc.value)
    assert not (tmp_path / "manifest.json").exists()


def test_read_json_typo_key_is_rejected(tmp_path: Path) -> None:
    m = _manifest()
    m["harnes"] = {}
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(StallscopeError, match="harnes"):
        schemas.read_json(tmp_path / "manifest.json", "manifest")


def test_read_json_other_version_names_both_and_the_command(tmp_path: Path) -> None:
    m = _manifest()
    m["schema"] = "manifest/0"
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(StallscopeError) as exc:
        schemas.read_json(tmp_path / "manifest.json", "manifest")
    assert "manifest/0" in str(exc.value) and "manifest/1" in str(exc.value) and "stallscope run" in str(exc.value)


def test_read_json_truncated_file_names_line(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text('{\n  "schema": "metrics/1",\n  "run_id": ')
    with pytest.raises(StallscopeError) as exc:
        schemas.read_json(tmp_path / "metrics.json", "metrics")
    assert exc.value.line == 3


def test_read_json_build_bad_hash_fails(tmp_path: Path) -> None:
    data = {"schema": "build/1", "sut": {k: v for k, v in _manifest()["sut"].items() if k != "binaries"},
            "kind": "reference", "bin_dir": "/b", "binaries": {"refbroker": "xyz"}, "compiler": None,
            "compiler_version": None, "flags": None, "werror": True, "command": "cmake", "built_utc": "t"}
    with pytest.raises(StallscopeError, match=r"binaries\.refbroker"):
        schemas.write_json(tmp_path / "build.json", "build", data)
    data["binaries"]["refbroker"] = "0" * 64
    schemas.write_json(tmp_path / "build.json", "build", data)
