"""Builders for the logs stage's tests (and every test that parses): glog lines and whole run directories with a
valid manifest."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.shared.manifest import new_manifest


def glog(msg: str, t: str = "12:00:00.000000", sev: str = "I", tid: int = 1000, src: str = "x.cc:1",
         date: str = "20260202") -> str:
    """One glog line (no newline) at ``t`` on ``date``."""
    return f"{sev}{date} {t} {tid:>5} {src}] {msg}"


#: the parameters of a one-broker unit run; the rest of its manifest is unknown
UNIT_PARAMS: dict[str, Any] = {"brokers": 1, "threads_per_broker": 1, "message_size": 1024, "order": 0, "ack_level": 1,
                               "stall_threshold_ms": 50}
BASE_MANIFEST: dict[str, Any] = new_manifest("unit/t1", "unit", 1, "run", params=UNIT_PARAMS,
                                             files={"client_log": "client.log", "broker_logs": []})


def make_run_dir(tmp: Path, client_lines: list[str] | None = None, broker_lines: dict[int, list[str]] | None = None,
                 manifest_overrides: dict[str, Any] | None = None) -> Path:
    """Write a run directory: manifest.json (valid), client.log and broker_<i>.log from the given lines."""
    tmp.mkdir(parents=True, exist_ok=True)
    m = copy.deepcopy(BASE_MANIFEST)
    brokers = broker_lines or {}
    m["files"]["broker_logs"] = [f"broker_{i}.log" for i in sorted(brokers)]
    m["params"]["brokers"] = max(len(brokers), 1)
    for key, value in (manifest_overrides or {}).items():
        if isinstance(value, dict) and isinstance(m.get(key), dict):
            m[key].update(value)
        else:
            m[key] = value
    for i, lines in brokers.items():
        (tmp / f"broker_{i}.log").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    if client_lines is not None:
        (tmp / "client.log").write_text("".join(line + "\n" for line in client_lines), encoding="utf-8")
    else:
        m["files"]["client_log"] = None
    schemas.write_json(tmp / "manifest.json", "manifest", m)
    return tmp
