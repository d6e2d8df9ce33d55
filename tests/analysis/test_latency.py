"""refpub's ACK latency lines: recognised by the catalogue, carried in metrics.acks.latency with the buckets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stallscope.analysis.latency import compute_latency, parse_buckets
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner

LINES = """\
I20261129 14:17:46.127221 31217 latency.cc:98] [AckLatency] broker=0 batches=16 acked=16 unacked=0 p50_us=4047 \
p90_us=7007 p99_us=7576 p999_us=7576 max_us=7576
I20261129 14:17:46.127230 31217 latency.cc:102] [AckLatencyHist] broker=0 buckets_us=1003:2,4047:10,7576:4
I20261129 14:17:46.127231 31217 latency.cc:103] [AckSeries] broker=0 step_ms=100 acked=0,10,10,30
I20261129 14:17:46.127658 31217 latency.cc:98] [AckLatency] broker=2 batches=13 acked=2 unacked=11 p50_us=5119 \
p90_us=9014 p99_us=9014 p999_us=9014 max_us=9014
I20261129 14:17:46.127700 31217 latency.cc:102] [AckLatencyHist] broker=2 buckets_us=5119:1,9014:1
I20261129 14:17:41.138905 31221 fault_window.h:11] [FaultWindow] start name=header_pause broker=1 conn=0
"""


def _events(tmp_path: Path, text: str) -> pd.DataFrame:
    log = tmp_path / "client.log"
    log.write_text(text)
    evs = list(FileScanner(log, "client", load_catalogue()))
    return pd.DataFrame({"kind": [e.kind for e in evs], "fields": [e.fields for e in evs],
                         "broker": [e.broker for e in evs]})


def test_latency_lines_recognised_and_carried(tmp_path: Path) -> None:
    ev = _events(tmp_path, LINES)
    assert list(ev["kind"]) == ["ack_latency", "ack_latency_hist", "ack_series", "ack_latency",
                                "ack_latency_hist", "fault_window"]
    assert list(ev["broker"])[:5] == [0, 0, 0, 2, 2]
    window = ev["fields"].iloc[5]
    assert window["edge"] == "start" and window["name"] == "header_pause" and window["broker"] == 1
    lat = compute_latency(ev)
    assert lat is not None and lat["recording"] == "on"
    b2 = lat["per_broker"]["2"]
    assert (b2["unacked"], b2["acked"], b2["p99_us"], b2["max_us"]) == (11, 2, 9014, 9014)
    assert lat["per_broker"]["0"]["histogram"] == [[1003, 2], [4047, 10], [7576, 4]]


def test_latency_absent_or_off(tmp_path: Path) -> None:
    assert compute_latency(_events(tmp_path, LINES.splitlines()[-1] + "\n")) is None
    off = "I20261129 14:17:46.127221 31217 latency.cc:90] [AckLatency] recording=off\n"
    assert compute_latency(_events(tmp_path, off)) == {"recording": "off", "per_broker": {}}


def test_parse_buckets_skips_malformed() -> None:
    assert parse_buckets("1:2,bad,3:,4:5") == [[1, 2], [4, 5]]
    assert parse_buckets("") == []
