"""Parser: recognisers on real and constructed lines, line accounting, continuation and truncation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner
from stallscope.logs.ingest import ingest, ingest_dir
from stallscope.logs.parse import parse_run

try:
    from tests.builders.logs import glog, make_run_dir
except ImportError:  # tests/ has no __init__.py: pytest puts tests/ itself on sys.path
    from builders.logs import glog, make_run_dir  # type: ignore[no-redef]


def _events(run: Path) -> list[dict]:
    with (run / "events.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["fields"] = json.loads(r["fields"])
    return rows


def _one(msg: str, role: str = "client", tmp: Path | None = None) -> dict:
    p = tmp / "x.log"
    p.write_text(glog(msg) + "\n", encoding="utf-8")
    evs = list(FileScanner(p, role, load_catalogue()))
    assert len(evs) == 1, msg
    return {"kind": evs[0].kind, **evs[0].fields}


def test_ack_timeout_old_wording_parses_received(tmp_path: Path) -> None:
    e = _one("[Publisher ACK Timeout]: Waited 120 seconds for ACKs, received 2387553 out of 8388608 (timeout=120s)",
             tmp=tmp_path)
    assert (e["kind"], e["received"], e["raw_received"], e["target"], e["timeout_s"]) == (
        "ack_timeout", 2387553, None, 8388608, 120.0)


def test_ack_timeout_new_wording_parses_normalized_and_raw(tmp_path: Path) -> None:
    e = _one("[Publisher ACK Timeout]: Waited 300 seconds for ACKs, normalized_received=637846 raw_received=637840 "
             "out of 655360 (timeout=300s)", tmp=tmp_path)
    assert (e["received"], e["raw_received"], e["target"], e["waited_s"]) == (637846, 637840, 655360, 300.0)
    assert "received2" not in e


def test_ack_per_broker_sent_short_form_parses_three_maps(tmp_path: Path) -> None:
    e = _one("[Publisher ACK Per-Broker]: B0=10 B1=0 B2=5(sent=7,short=2)", tmp=tmp_path)
    assert e["per_broker"] == {"0": 10, "1": 0, "2": 5}
    assert e["sent"] == {"2": 7} and e["short"] == {"2": 2}


@pytest.mark.parametrize(
    ("msg", "role", "kind", "key", "value"),
    [
        ("[STALL] recv batch header blocked 57ms client_id=115999 bytes_read=0", "broker", "stall_header",
         "bytes_read", 0),
        ("[STALL] recv batch header (partial) blocked 60ms client_id=1 recv_ret=64", "broker", "stall_partial",
         "recv_ret", 64),
        ("[STALL] recv payload blocked 51ms batch_seq=3 remaining=100 total_stall_count=9", "broker",
         "stall_payload", "remaining", 100),
        ("NetworkManager (blocking): Ring full, waiting for space (client_id=1, wait_iterations=3, total_ring_full=7)",
         "broker", "ring_full", "total_ring_full", 7),
        ("NetworkManager: Connection closed by publisher (client_id=9, topic=T). No batch data received. This may",
         "broker", "conn_closed", "client_id", 9),
        ("[BrokerMetrics] broker=0 stalls_header=1 batches=5 bytes=100 messages=9 acked=9", "broker",
         "broker_metrics", "messages", 9),
        ("[BrokerMetrics] ring_full=0 batches_dropped=2", "broker", "broker_metrics", "batches_dropped", 2),
        ("Bandwidth: 3743.60 MB/s | Send-done: 4229.10 MB/s", "client", "bandwidth", "send_done_mb_s", 4229.10),
        ("[TcpInfo] broker=1 conn=0 busy_us=100 rwnd_limited_us=50 sndbuf_limited_us=0 bytes_acked=9 retrans=0 "
         "snd_cwnd=10 rtt_us=40", "client", "tcp_info", "rwnd_limited_us", 50),
        ("[SendStats] broker=1 conn=0 batches=2 bytes=10 messages=3 send_blocked_us=7 eagain=0", "client",
         "send_stats", "send_blocked_us", 7),
        ("[Phase] publish_start", "client", "phase", "name", "publish_start"),
        ("[Fault] slow_producer cost_ns=500", "client", "fault", "cost_ns", 500),
        ("Hugepages: 6144 free × 2048 kB = 12288 MB free; need 32772 MB. Provision more (e.g. echo)", "client",
         "hugepages", "is_short", True),
        ("[Publisher Batch Stats]: total_batches_sent=4347 attempted=0 failed=0 (sent_all=yes)", "client",
         "batch_stats", "sent_all", True),
    ],
)
def test_recogniser_constructed_line_yields_field(tmp_path: Path, msg: str, role: str, kind: str, key: str,
                                                  value: object) -> None:
    e = _one(msg, role, tmp_path)
    assert e["kind"] == kind and e[key] == value


def test_parse_sigterm_stack_dump_counts_continuation(tmp_path: Path) -> None:
    lines = [glog("Ready"), "*** Aborted at 1770037606 (unix time) try \"date -d @1770037606\" ***",
             "*** SIGTERM (@0x3e8) received by PID 12 (TID 0x7f) from PID 1; stack trace: ***",
             "PC: @ 0x7f00 (unknown)", "    @     0x7f0000001 __poll"]
    run = make_run_dir(tmp_path, client_lines=[glog("x")], broker_lines={0: lines})
    parse_run(run)
    st = schemas.read_json(run / "lines.json", "lines")["files"]["broker_0.log"]
    assert (st["total"], st["glog"], st["continuation"], st["unparseable"]) == (5, 1, 4, 0)


def test_parse_truncated_garbage_flags_and_keeps_examples(tmp_path: Path) -> None:
    (tmp_path / "broker_0.log").write_bytes(b"\x00\xff\xfe\n" + glog("ok").encode() + b"\n\x01bad\nI2026 cut")
    parse_run(tmp_path)
    st = schemas.read_json(tmp_path / "lines.json", "lines")["files"]["broker_0.log"]
    assert st["total"] == 4 and st["is_truncated"] and st["unparseable"] == 2
    assert [e["line"] for e in st["unparseable_examples"]] == [1, 3]
    assert sum(st[k] for k in ("event", "glog", "continuation", "script", "unparseable")) == 4


def test_parse_no_logs_raises_naming_dir(tmp_path: Path) -> None:
    with pytest.raises(StallscopeError, match=str(tmp_path)):
        parse_run(tmp_path)


def test_parse_small_chunks_same_as_large(tmp_path: Path, embarcadero: Path) -> None:
    src = embarcadero / "2026-02-03_order5_ack1_8gb_ack_timeout" / "client.log"
    big = [e for e in FileScanner(src, "client", load_catalogue())]
    small = [e for e in FileScanner(src, "client", load_catalogue(), chunk_bytes=97)]
    assert big == small and len(big) > 100


def test_ingest_every_fixture_parses_with_every_line_accounted(tmp_path: Path, embarcadero: Path) -> None:
    for d in sorted(p for p in embarcadero.iterdir() if p.is_dir()):
        for run in ingest(d, tmp_path / d.name):
            parse_run(run)
            files = schemas.read_json(run / "lines.json", "lines")["files"]
            assert files
            for name, st in files.items():
                raw = (run / name).read_bytes()
                if (d / name).is_file():
                    assert raw == (d / name).read_bytes()
                assert st["total"] == raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
                assert sum(st[k] for k in ("event", "glog", "continuation", "script", "unparseable")) == st["total"]


def test_ingest_n4_analyses_every_client_banner_client_first(tmp_path: Path, embarcadero: Path) -> None:
    src = embarcadero / "2026-07-28_order0_ack1_n4"
    run = ingest_dir(src, tmp_path / "n4", sut="0123456789ab")
    m = schemas.read_json(run / "manifest.json", "manifest")
    assert m["files"]["broker_logs"] == [f"broker_{i}.log" for i in range(4)]
    names = sorted(p.name for p in src.glob("client_*.log"))
    assert sorted(m["files"]["client_logs"]) == names and m["files"]["client_log"] == names[0]
    for n in names:
        assert (run / n).read_bytes() == (src / n).read_bytes()
    assert m["clock_aligned"] is False and m["sut"]["id"] == "0123456789ab"
    assert m["params"]["message_size"] == 4096 and m["params"]["threads_per_broker"] == 6
    assert m["params"]["clients"] == 4 and m["params"]["total_bytes"] == 4 * 2684354560
    parse_run(run)
    assert set(schemas.read_json(run / "lines.json", "lines")["files"]) == set(names) | set(m["files"]["broker_logs"])


def test_ingest_empty_dir_raises(tmp_path: Path) -> None:
    with pytest.raises(StallscopeError, match="no logs"):
        ingest_dir(tmp_path, tmp_path / "out")


def test_parse_10gb_banner_and_three_brokers(tmp_path: Path, embarcadero: Path) -> None:
    run = ingest_dir(embarcadero / "2026-02-02_order0_ack1_10gb" / "client.log", tmp_path / "r", scenario="s")
    parse_run(run)
    ev = _events(run)
    banner = [e for e in ev if e["kind"] == "client_banner"][0]
    assert banner["line"] == "11" and banner["fields"]["threads_per_broker"] == 4
    assert {e["broker"] for e in ev if e["kind"] == "handshake"} == {"1", "2", "3"}


def test_parse_refuses_a_log_name_with_a_line_break(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "broker_a\nb.log").write_text(glog("[STALL] recv batch header blocked 57ms client_id=1 bytes_read=0") + "\n")
    with pytest.raises(StallscopeError, match="line break"):
        parse_run(run)
    assert not (run / "events.csv").exists()
