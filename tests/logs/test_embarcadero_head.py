"""The dialect of Embarcadero as it is today (the bundle's HEAD), read from one real run's logs
(../shared/sut/sample-run-head; skipped when absent): the run reads as completed with its bandwidth and ACK tally,
its benign warnings are events and not failures, the compiled and the Python scanner agree on every line, and the
claims that need [STALL] timers are not_run naming them."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from stallscope.analysis.metrics import compute_metrics
from stallscope.logs import compiled
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner, available_engines
from stallscope.logs.ingest import ingest
from stallscope.logs.parse import parse_run
from stallscope.logs.rows import RowFormat

PREFIX = re.compile(r"^([IWEF])\d{8} ")


def _analysed(src: Path, tmp_path: Path, stall_timers: str | None = None) -> Path:
    run = ingest(src, tmp_path / "run", scenario="e2e_10mb", stall_timers=stall_timers)[0]
    parse_run(run)
    compute_metrics(run)
    return run


def _line(text: str, pattern: str) -> re.Match[str]:
    m = re.search(pattern, text)
    assert m is not None, pattern
    return m


def test_head_sample_reads_as_completed_with_bandwidth_and_ack_tally(head_sample: Path, tmp_path: Path) -> None:
    client = (head_sample / "client.log").read_text()
    mb_s = float(_line(client, r"Publish completed in [\d.]+ seconds, ([\d.]+) MB/s").group(1))
    verify = _line(client, r"\[ACK_VERIFY\] normalized_received=(\d+) raw_received=\d+ target=(\d+)")
    init_s = float(_line(client, r"Initialization completed in ([\d.]+)s").group(1))
    m = json.loads((_analysed(head_sample, tmp_path) / "metrics.json").read_text())
    assert m["outcome"]["status"] == "completed" and m["outcome"]["publish_ok"] is True
    assert m["throughput"]["delivered_mb_s"] == mb_s
    assert m["producer"]["cites"]["delivered"]["text"].startswith("Publish completed in")
    assert m["acks"]["received"] == int(verify.group(1)) and m["acks"]["expected"] == int(verify.group(2))
    assert m["acks"]["completeness"] == 1.0 and m["acks"]["is_timeout"] is False
    # the publish phase is push start to the last ACK, not the subscriber's read after it
    assert 0 < m["phases"]["publish"]["duration_s"] < 0.5
    assert m["init"]["wait_s"] == pytest.approx(init_s, abs=0.01)
    # per broker: what each handed its subscriber (no client line counts ACKs per broker on success at HEAD)
    diag = [(int(b), int(n), int(by)) for b, n, by in re.findall(
        r"send-diag \[B(\d+) conn=\d+ order=\d+\]: batches=(\d+) bytes=(\d+)",
        "".join((head_sample / f"broker_{i}.log").read_text() for i in range(4)))]
    got = m["received"]["per_broker"]
    assert {b: (got[str(b)]["batches"], got[str(b)]["bytes"]) for b, _, _ in diag} == {b: (n, by) for b, n, by in diag}
    assert m["acks"]["per_broker"] is None and m["evidence"]["per_broker_acks"] is False


def test_head_sample_warnings_are_benign_events(head_sample: Path, tmp_path: Path) -> None:
    run = _analysed(head_sample, tmp_path)
    m = json.loads((run / "metrics.json").read_text())
    assert m["client_log_matches"]["real"] == 0 and m["client_log_matches"]["benign"] > 0
    events = {(r["file"], int(r["line"])): r["kind"] for r in csv.DictReader((run / "events.csv").open())}
    for log in sorted(run.glob("*.log")):
        for no, text in enumerate(log.read_text().splitlines(), 1):
            pm = PREFIX.match(text)
            if pm and pm.group(1) in "WEF":
                assert (log.name, no) in events, (log.name, no, text)
    kinds = set(events.values())
    assert {"sockbuf_capped", "hugetlb_fallback", "hugepages", "numa_bind_fallback", "ack_verify",
            "publish_completed", "e2e_completed", "init_completed", "poll_breakdown"} <= kinds
    assert not kinds & {"ack_timeout", "publish_failed", "ack_failure"}


def test_head_sample_same_rows_from_compiled_and_python_scanner(head_sample: Path) -> None:
    engines = available_engines()
    assert "regex" in engines and (compiled.AVAILABLE == ("compiled" in engines))
    cat = load_catalogue()
    for log in sorted(head_sample.glob("*.log")):
        role = "client" if log.name == "client.log" else "broker"
        rows = {}
        for engine in engines:
            s = FileScanner(log, role, cat, engine=engine)
            rows[engine] = (b"".join(s.rows(RowFormat(log.name, role))), s.stats.to_json())
        assert all(r == rows["regex"] for r in rows.values()), (log.name, list(rows))


def test_profile_counters_are_benign() -> None:
    from stallscope.analysis.benign import classify

    line = ("I20261206 02:07:49.000000 1 publisher.cc:307] [NET_PROFILE][CLIENT] ack_values=9 ack_recv_calls=19 "
            "ack_epoll_calls=2904 ack_epoll_wait_ms=6250.64 ack_epoll_timeouts=2890")
    assert classify(line, {}) == "profile_counters"
    assert classify("E20261206 02:07:49.000000 1 publisher.cc:2807] [Publisher ACK Timeout]: Waited 10 seconds", {}) \
        == "real"


def test_head_sample_claims_needing_stall_timers_are_not_run(head_sample: Path, tmp_path: Path) -> None:
    from stallscope.pipeline import assess_with_diagnosis

    run = _analysed(head_sample, tmp_path, stall_timers="no")
    out = assess_with_diagnosis([run], out=tmp_path / "claims.json")
    claims = json.loads(Path(out).read_text())["claims"]
    timer_claims = [c for c in claims if "stall timers" in c["reason"]]
    assert timer_claims and all(c["verdict"] == "not_run" for c in timer_claims)
    assert all(c["verdict"] != "harness_error" for c in claims)


ABORT_AT_EXIT = [
    "*** Aborted at 1796535738 (unix time) try \"date -d @1796535738\" if you are using GNU date ***",
    "PC: @                0x0 (unknown)",
    "*** SIGABRT (@0x64b8) received by PID 25784 (TID 0x7f6a8b846700) from PID 25784; stack trace: ***",
    "    @     0x7f6a8c0a3140 (unknown)",
    "    @     0x7f6a8bd40ce1 gsignal",
]


@pytest.mark.parametrize("completed", [True, False])
def test_a_client_that_aborts_after_its_publish_completed_is_a_completed_run(head_sample: Path, tmp_path: Path,
                                                                             completed: bool) -> None:
    """Embarcadero's throughput_test aborts now and then in its teardown (seen: SIGABRT in ~Publisher after "Publish
    test completed", every message acknowledged): the run did what it was for. Without the completion line the
    same stack trace is a crash."""
    src = tmp_path / "src"
    src.mkdir()
    for f in head_sample.iterdir():
        if f.is_file():
            (src / f.name).write_bytes(f.read_bytes())
    lines = (src / "client.log").read_text().splitlines()
    if not completed:
        lines = [ln for ln in lines if not re.search(r"(Publish|End-to-end)( test)? completed", ln)]
    (src / "client.log").write_text("\n".join(lines + ABORT_AT_EXIT) + "\n")
    m = json.loads((_analysed(src, tmp_path) / "metrics.json").read_text())
    if completed:
        assert m["outcome"]["status"] == "completed", m["outcome"]
        assert "SIGABRT at exit" in m["outcome"]["reason"] and m["outcome"]["signal"] == "SIGABRT"
    else:
        assert m["outcome"]["status"] != "completed", m["outcome"]
