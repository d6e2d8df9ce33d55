"""Metrics of real fixtures and of hand-built runs: phases, stalls, ACKs, checks, refs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from stallscope import schemas
from stallscope.analysis.benign import classify
from stallscope.analysis.metrics import compute_metrics
from stallscope.errors import StallscopeError
from stallscope.logs.ingest import ingest_dir
from stallscope.logs.parse import parse_run
from stallscope.shared.excerpt import cap_excerpt

try:
    from tests.builders.logs import glog, make_run_dir
except ImportError:  # tests/ has no __init__.py: pytest puts tests/ itself on sys.path
    from builders.logs import glog, make_run_dir  # type: ignore[no-redef]


def _metrics(run: Path) -> dict[str, Any]:
    parse_run(run)
    return schemas.read_json(compute_metrics(run), "metrics")


def _real(tmp: Path, fixtures: Path, name: str) -> dict[str, Any]:
    return _metrics(ingest_dir(fixtures / name, tmp / name))


def test_metrics_10gb_fixture_success_figures(tmp_path: Path, embarcadero: Path) -> None:
    m = _real(tmp_path, embarcadero, "2026-02-02_order0_ack1_10gb")
    assert (m["acks"]["received"], m["acks"]["expected"], m["acks"]["is_timeout"]) == (10485760, 10485760, False)
    t = m["throughput"]
    assert (t["delivered_mb_s"], t["publish_bw_mb_s"], t["eagain_count"]) == (1229.66, 1370.41, 0)
    assert 12 <= m["init"]["wait_s"] <= 13.5 and m["init"]["hugepage_short"] is True
    assert m["client_log_matches"]["real"] == 0 and m["outcome"]["publish_ok"] is True
    hp = m["refs"]["hugepages"]["items"][0]["text"]
    assert classify(hp, {}) == "hugepage_fallback"
    assert m["refs"]["banner"]["count"] == 1


def test_metrics_8gb_fixture_ack_timeout_figures(tmp_path: Path, embarcadero: Path) -> None:
    m = _real(tmp_path, embarcadero, "2026-02-03_order5_ack1_8gb_ack_timeout")
    a = m["acks"]
    assert (a["received"], a["expected"], a["is_timeout"], a["timeout_s"]) == (2387553, 8388608, True, 120.0)
    assert a["per_broker"] == {"0": 40467, "1": 1792110, "2": 289050, "3": 265926}
    assert (a["batches_sent"], a["sent_all"]) == (4347, True)
    assert len(a["progress"]) >= 100 and len(a["progress"][0]["per_broker"]) == 32
    assert m["outcome"]["publish_ok"] is False and m["refs"]["real_matches"]["count"] >= 2


def test_metrics_every_fixture_refs_cite_exact_lines(tmp_path: Path, embarcadero: Path) -> None:
    for d in sorted(p for p in embarcadero.iterdir() if p.is_dir()):
        m = _real(tmp_path, embarcadero, d.name)
        run = tmp_path / d.name
        for ref in m["refs"].values():
            for it in ref["items"]:
                lines = (run / it["file"]).read_text(encoding="utf-8").split("\n")
                assert cap_excerpt(lines[it["line"] - 1]) == it["text"]  # the line, cut at 300 characters


STALL_INIT = glog("[STALL] recv batch header blocked 3000ms client_id=1 bytes_read=128", "12:00:02.000000", "W", 7)
CLOSE_STALL = glog("[STALL] recv batch header blocked 500ms client_id=1 bytes_read=128", "12:00:09.000000", "W", 8)
CLOSE = glog("NetworkManager: Connection closed by publisher (client_id=1, topic=T). No batch data received.",
             "12:00:09.000100", "W", 8)
MIDHDR = glog("[STALL] recv batch header (partial) blocked 80ms client_id=1 recv_ret=0", "12:00:09.500000", "W", 9)
CLIENT = [glog("[Phase] init_done", "12:00:00.000000"), glog("[Phase] publish_start", "12:00:01.000000"),
          glog("[Phase] send_done", "12:00:05.000000"), glog("[Phase] ack_done", "12:00:06.000000")]


def test_metrics_stall_begun_in_init_attributed_to_init(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path, client_lines=CLIENT, broker_lines={0: [glog("start", "11:59:58.000000"), STALL_INIT]})
    m = _metrics(run)
    assert m["phases"]["source"] == "markers"
    assert m["stalls"]["total"]["by_phase"]["init"]["header"] == 1
    assert m["stalls"]["per_broker"]["0"]["during_run"] == 1


def test_metrics_stall_followed_by_close_counts_ended_in_close(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path, client_lines=CLIENT, broker_lines={0: [CLOSE_STALL, CLOSE, MIDHDR]})
    m = _metrics(run)
    s = m["stalls"]["total"]
    assert s["ended_in_close"] == 2 and s["after_client_done"] == 2
    assert m["refs"]["stall_closed"]["count"] == 2 and m["ring_full"]["events"] == 0


def _acks(per: str, sent: str, msgs: int, batches: int = 1) -> tuple[list[str], dict[int, list[str]]]:
    client = [glog("[Publisher ACK Timeout]: Waited 5 seconds for ACKs, received 10 out of 20 (timeout=5s)"),
              glog(f"[Publisher Batch Stats]: total_batches_sent={batches} attempted=0 failed=0 (sent_all=yes)"),
              glog(f"[Publisher ACK Per-Broker]: {per}" + sent)]
    return client, {0: [glog(f"[BrokerMetrics] broker=0 batches=1 bytes=100 messages={msgs}")]}


def _check(m: dict[str, Any], name: str) -> str:
    return next(c["status"] for c in m["checks"] if c["name"] == name)


@pytest.mark.parametrize(
    ("per", "msgs", "batches", "expected"),
    [("B0=10(sent=12,short=0)", 12, 1, "pass"), ("B0=9(sent=8,short=0)", 5, 0, "fail")],
)
def test_metrics_checks_hand_built_pass_and_fail(tmp_path: Path, per: str, msgs: int, batches: int,
                                                 expected: str) -> None:
    client, brokers = _acks(per, "", msgs, batches)
    m = _metrics(make_run_dir(tmp_path, client_lines=client, broker_lines=brokers,
                              manifest_overrides={"params": {"message_size": 1024}}))
    for name in ("acked_le_sent", "sent_le_batches_capacity", "per_broker_acks_sum_to_total",
                 "broker_received_vs_acks"):
        assert _check(m, name) == expected, name


def test_metrics_checks_empty_run_all_unknown(tmp_path: Path) -> None:
    m = _metrics(make_run_dir(tmp_path, client_lines=[glog("hello")]))
    assert {c["status"] for c in m["checks"]} == {"unknown"}
    assert m["acks"]["received"] is None and m["stalls"]["total"]["by_kind"]["header"]["max_ms"] is None
    assert m["phases"]["source"] == "none" and m["tcp"] is None


def test_metrics_banner_mismatch_fails_check(tmp_path: Path) -> None:
    client = [glog(""), "", "===== Publish Throughput Test =====", "\t  Message size: 512 bytes",
              "\t  Threads per broker: 1"]
    m = _metrics(make_run_dir(tmp_path, client_lines=client))
    assert _check(m, "banner_matches_manifest") == "fail"


def test_metrics_missing_client_log_listed(tmp_path: Path) -> None:
    m = _metrics(make_run_dir(tmp_path, broker_lines={0: [STALL_INIT]}))
    assert m["missing_files"] == ["client.log"] and m["outcome"]["publish_ok"] is None


def test_metrics_without_events_raises(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path, client_lines=[glog("x")])
    with pytest.raises(StallscopeError):
        compute_metrics(run)


def test_metrics_schema_good_and_bad(tmp_path: Path) -> None:
    m = _metrics(make_run_dir(tmp_path, client_lines=[glog("x")]))
    bad = copy.deepcopy(m)
    bad["stalls"]["total"]["count"] = "many"
    with pytest.raises(StallscopeError, match="count"):
        schemas.validate(bad, schemas.load_schema("metrics.schema.json"), "metrics.json")
