"""Every client of a multi-client run analysed and summed; broker-side ACK counters; the time-series reader."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.analysis.timeseries import read_timeseries, summarise
from stallscope.errors import StallscopeError
from stallscope.logs.ingest import ingest_dir
from stallscope.logs.parse import parse_run
from tests.builders.logs import glog, make_run_dir

N4 = "2026-07-28_order0_ack1_n4"


def _metrics(run: Path) -> dict[str, Any]:
    parse_run(run)
    return schemas.read_json(compute_metrics(run), "metrics")


def test_n4_four_clients_per_client_and_total(tmp_path: Path, embarcadero: Path) -> None:
    src = embarcadero / N4
    bw = {}
    for p in sorted(src.glob("client_*.log")):
        found = re.findall(r"\] Bandwidth: ([\d.]+) MB/s \| Send-done: ([\d.]+) MB/s", p.read_text(encoding="utf-8"))
        bw[p.name] = (float(found[-1][0]), float(found[-1][1]))
    assert len(bw) == 4
    m = _metrics(ingest_dir(src, tmp_path / "run"))
    got = {c["file"]: (c["throughput"]["delivered_mb_s"], c["throughput"]["send_done_mb_s"]) for c in m["clients"]}
    assert got == bw
    assert {c["host"] for c in m["clients"]} == {"c1", "c3", "c4", "local"}
    total = m["clients_total"]
    assert total["count"] == 4
    assert total["delivered_mb_s"] == pytest.approx(sum(v[0] for v in bw.values()), abs=1e-6)
    assert total["send_done_mb_s"] == pytest.approx(sum(v[1] for v in bw.values()), abs=1e-6)
    assert m["throughput"]["delivered_mb_s"] == total["delivered_mb_s"]
    assert all(c["acks"]["received"] == c["acks"]["expected"] == 655360 for c in m["clients"])
    assert (m["acks"]["received"], m["acks"]["expected"], m["acks"]["completeness"]) == (4 * 655360, 4 * 655360, 1.0)
    assert m["outcome"]["publish_ok"] is True
    banner = next(c for c in m["checks"] if c["name"] == "banner_matches_manifest")
    assert banner["status"] == "pass"


def test_n4_publish_phase_ends_with_the_last_client(tmp_path: Path, embarcadero: Path) -> None:
    """A stall while one client still sends must not read as after the run: the publish ends with the last client."""
    src = embarcadero / N4
    ends = []
    for p in src.glob("client_*.log"):
        for line in p.read_text(encoding="utf-8").splitlines():
            if "Publish test completed in" in line:
                stamp = datetime.strptime(line[1:25], "%Y%m%d %H:%M:%S.%f").replace(tzinfo=UTC)
                ends.append(int(stamp.replace(microsecond=0).timestamp()) * 1_000_000 + stamp.microsecond)
    assert len(ends) == 4 and max(ends) - min(ends) > 100_000
    m = _metrics(ingest_dir(src, tmp_path / "run"))
    assert m["phases"]["publish"]["end_us"] == max(ends)


def test_single_client_run_keeps_its_figures_and_gets_one_client_entry(tmp_path: Path, embarcadero: Path) -> None:
    m = _metrics(ingest_dir(embarcadero / "2026-02-02_order0_ack1_10gb", tmp_path / "r"))
    assert len(m["clients"]) == 1 and m["clients"][0]["host"] is None
    assert m["clients"][0]["throughput"]["delivered_mb_s"] == m["throughput"]["delivered_mb_s"] == 1229.66
    assert m["clients_total"]["delivered_mb_s"] == 1229.66 and m["acks"]["per_broker_source"] is None


def _acks_line(b: int, n: int, t: str, tid: int) -> str:
    return glog(f"Broker:{b} Acknowledgments {n} (next_to_ack={n + 1}, ordered=0, ack_level=1)", t, tid=tid)


CLIENT_DONE = [glog("[ACK_VERIFY] normalized_received=3000 raw_received=3000 target=3000 100%", "12:00:05.000000"),
               glog("Publish test completed in 4.00 seconds", "12:00:05.000100")]


def test_broker_side_acks_fill_per_broker_last_per_thread_summed(tmp_path: Path) -> None:
    brokers = {
        0: [_acks_line(0, 100, "12:00:01.000000", 11), _acks_line(0, 1000, "12:00:04.000000", 11),
            _acks_line(0, 500, "12:00:04.000000", 12), glog("[BrokerMetrics] batches=3 bytes=99 messages=1500")],
        1: [_acks_line(1, 1500, "12:00:04.000000", 21), glog("[BrokerMetrics] batches=3 bytes=99 messages=1500")],
        2: [_acks_line(2, 0, "12:00:04.000000", 31), glog("[BrokerMetrics] batches=0 bytes=0 messages=0")],
    }
    m = _metrics(make_run_dir(tmp_path / "r", CLIENT_DONE, brokers))
    assert m["acks"]["per_broker"] == {"0": 1500, "1": 1500, "2": 0}
    assert m["acks"]["per_broker_source"] == "broker_log"
    checks = {c["name"]: c for c in m["checks"]}
    assert checks["broker_received_vs_acks"]["status"] == "pass"
    assert checks["per_broker_acks_sum_to_total"]["status"] == "pass"


def test_broker_side_acks_above_received_fail_the_check(tmp_path: Path) -> None:
    brokers = {0: [_acks_line(0, 2000, "12:00:04.000000", 11), glog("[BrokerMetrics] batches=1 bytes=9 messages=1500")]}
    m = _metrics(make_run_dir(tmp_path / "r", CLIENT_DONE, brokers))
    checks = {c["name"]: c for c in m["checks"]}
    assert checks["broker_received_vs_acks"]["status"] == "fail" and "B0" in checks["broker_received_vs_acks"]["detail"]


def test_broker_side_acks_that_lag_the_total_are_unknown_not_failed(tmp_path: Path) -> None:
    brokers = {0: [_acks_line(0, 1000, "12:00:02.000000", 11)]}
    m = _metrics(make_run_dir(tmp_path / "r", CLIENT_DONE, brokers))
    check = next(c for c in m["checks"] if c["name"] == "per_broker_acks_sum_to_total")
    assert check["status"] == "unknown" and "may lag" in check["detail"]


def test_client_per_broker_acks_win_over_broker_counters(tmp_path: Path) -> None:
    client = CLIENT_DONE + [glog("[Publisher ACK Per-Broker]: B0=3000", "12:00:05.000200")]
    m = _metrics(make_run_dir(tmp_path / "r", client, {0: [_acks_line(0, 10, "12:00:04.000000", 11)]}))
    assert m["acks"]["per_broker_source"] == "client" and m["acks"]["per_broker"] == {"0": 3000}


def _series(rows: list[tuple[int, float, int, int]]) -> str:
    head = ("Timestamp(ms),Broker_0_sent_GiBps,Broker_0_ack_GiBps,Sent_GiBps,Ack_GiBps,Total_GBps,"
            "Cum_Sent_Bytes,Cum_Ack_Bytes")
    return "\n".join([head] + [f"{t},{s},{s / 2},{s},{s / 2},{s / 2},{cs},{ca}" for t, s, cs, ca in rows]) + "\n"


def test_timeseries_reader_plain_names_and_summary(tmp_path: Path) -> None:
    p = tmp_path / "ts.csv"
    p.write_text(_series([(100, 0, 0, 0), (200, 1.5, 10, 4), (300, 2.5, 20, 15), (400, 0, 20, 20), (500, 0, 20, 20)]))
    df = read_timeseries(p)
    assert {"t_ms", "sent_gib_s", "ack_gib_s", "cum_sent_bytes", "cum_ack_bytes", "b0_sent_gib_s"} <= set(df.columns)
    s = summarise(df, "ts.csv")
    assert (s["active_start_ms"], s["active_end_ms"], s["active_window_ms"]) == (200, 400, 200)
    assert (s["cum_sent_bytes"], s["cum_ack_bytes"], s["peak_sent_gib_s"], s["mean_sent_gib_s"]) == (20, 20, 2.5, 2.0)
    assert s["per_broker"] == {"0": {"peak_sent_gib_s": 2.5, "peak_ack_gib_s": 1.25}} and s["interval_ms"] == 100


@pytest.mark.parametrize("text, line", [("a,b\n1,2\n", 1), (_series([(1, 0, 0, 0)]).replace("\n1,", "\nx,"), 2)])
def test_timeseries_reader_bad_file_names_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    p = tmp_path / "ts.csv"
    p.write_text(text)
    with pytest.raises(StallscopeError, match=rf"ts\.csv:{line}: "):
        read_timeseries(p)


def test_broken_timeseries_is_reported_not_fatal(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path / "r", CLIENT_DONE, {0: []})
    man = schemas.read_json(run / "manifest.json", "manifest")
    man["files"]["client_timeseries"] = {"client.log": "client_timeseries.csv"}
    schemas.write_json(run / "manifest.json", "manifest", man)
    (run / "client_timeseries.csv").write_text("garbage\n\x00\x01\n")
    m = _metrics(run)
    assert m["clients"][0]["timeseries"] is None and "client_timeseries.csv" in m["clients"][0]["timeseries_error"]
