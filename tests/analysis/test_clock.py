"""Clock anomalies switch the timing figures off instead of giving shares over 100 %."""

from __future__ import annotations

import json
import re
from pathlib import Path

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.logs.parse import parse_run
from stallscope.pipeline import assess_with_diagnosis
from tests.builders.logs import glog, make_run_dir

CLIENT = [
    glog("===== Publish Throughput Test =====", "12:00:00.000000"),
    glog("[Phase] publish_start", "12:00:10.000000"),
    glog("Waiting for acknowledgments, received 5 out of 10 (elapsed: 1s) [B0=5]", "12:00:11.000000"),
    glog("[Phase] send_done", "12:00:12.000000"),
    glog("[Phase] ack_done", "12:00:13.000000"),
]
BROKER = [glog("[STALL] recv batch header blocked 120ms client_id=1 bytes_read=0", f"12:00:{s:02d}.000000", sev="W")
          for s in (11, 12)]


def _metrics(tmp_path: Path, client: list[str]) -> tuple[dict, dict]:
    run = make_run_dir(tmp_path / "run", client_lines=client, broker_lines={0: BROKER})
    parse_run(run)
    m = schemas.read_json(compute_metrics(run), "metrics")
    claims = schemas.read_json(assess_with_diagnosis([run], tmp_path / "claims.json", extras={}), "claims")
    return m, claims


def _shares(claims: dict) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"(\d[\d,]*(?:\.\d+)?)\s?%", json.dumps(claims))]


def test_an_ordered_log_keeps_its_phases(tmp_path: Path) -> None:
    m, _ = _metrics(tmp_path, CLIENT)
    assert m["clock"] == {"ok": True, "backward_steps": 0, "invalid_dates": 0, "examples": [], "notes": []}
    assert m["phases"]["publish"] is not None and m["init"]["wait_s"] == 10


def test_glog_reordering_under_a_second_is_no_anomaly(tmp_path: Path) -> None:
    jitter = CLIENT[:2] + [glog("[Phase] send_done", "12:00:09.400000")] + CLIENT[2:]
    m, _ = _metrics(tmp_path, jitter)
    assert m["clock"]["ok"]


def test_reversed_timestamps_give_no_phases_and_no_share_over_100(tmp_path: Path) -> None:
    m, claims = _metrics(tmp_path, list(reversed(CLIENT)))
    assert not m["clock"]["ok"] and m["clock"]["backward_steps"] >= 1
    assert m["clock"]["examples"][0]["file"] == "client.log"
    assert all(m["phases"][p] is None for p in ("init", "publish", "drain", "post"))
    assert m["init"]["wait_s"] is None
    assert all(s <= 100 for s in _shares(claims)), _shares(claims)
    assert any(f.startswith("clock: time goes backwards") for f in claims["runs"][0]["input_findings"])


def test_an_impossible_date_is_counted(tmp_path: Path) -> None:
    client = CLIENT[:1] + [glog("[Phase] publish_start", "12:00:10.000000", date="20261341")] + CLIENT[2:]
    m, claims = _metrics(tmp_path, client)
    assert m["clock"]["invalid_dates"] == 1 and not m["clock"]["ok"]
    assert m["init"]["wait_s"] is None
