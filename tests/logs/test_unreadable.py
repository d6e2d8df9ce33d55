"""Out-of-type values: a record of a known form whose number the field cannot hold is counted, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.logs.catalogue import load_catalogue, loose_form
from stallscope.logs.glog import FileScanner, available_engines
from stallscope.logs.parse import parse_run
from stallscope.logs.rows import RowFormat, broker_index
from stallscope.pipeline import assess_with_diagnosis
from tests.builders.logs import glog, make_run_dir

HEADER = "[STALL] recv batch header blocked {}ms client_id=1 bytes_read={}"
BAD = {"negative": ("-5", "0"), "nan": ("NaN", "0"), "inf": ("inf", "0"), "hex": ("0x10", "0"),
       "fraction": ("1.5", "0"), "2^70": (str(2**70), "0"), "empty": ("", "0"), "bytes_read=-5": ("5", "-5"),
       "bytes_read fraction": ("5", "1.5"), "bytes_read suffix": ("5", "12abc")}


def _stalls(tmp_path: Path, bad: tuple[str, str]) -> Path:
    lines = [glog(HEADER.format(100 + i, 0), f"12:00:{i:02d}.000000", sev="W") for i in range(15)]
    lines.insert(7, glog(HEADER.format(*bad), "12:00:30.000000", sev="W"))
    return make_run_dir(tmp_path / "run", client_lines=[glog("Publisher connected")], broker_lines={0: lines})


@pytest.mark.parametrize("case", list(BAD))
def test_sixteen_stalls_are_fifteen_events_and_one_unreadable_on_every_engine(tmp_path: Path, case: str) -> None:
    run = _stalls(tmp_path, BAD[case])
    for engine in available_engines():
        s = FileScanner(run / "broker_0.log", "broker", load_catalogue(), engine=engine)
        rows = b"".join(s.rows(RowFormat("broker_0.log", "broker")))
        assert rows.count(b",stall_header,") == 15, engine
        assert s.stats.unreadable == 1 and s.stats.glog == 0, (engine, s.stats)
        ex = s.stats.unreadable_examples[0]
        assert ex["line"] == 8 and ex["kind"] == "stall_header" and ex["reason"], ex
    parse_run(run)
    lines = schemas.read_json(run / "lines.json", "lines")["files"]["broker_0.log"]
    assert lines["unreadable"] == 1
    m = schemas.read_json(compute_metrics(run), "metrics")
    assert m["unreadable_count"] == 1 and m["lines"]["broker_0.log"]["unreadable"] == 1
    assert m["stalls"]["total"]["count"] == 15
    claims = schemas.read_json(assess_with_diagnosis([run], tmp_path / "claims.json", extras={}), "claims")
    assert any("1 unreadable record" in f for f in claims["runs"][0]["input_findings"])


def test_a_record_of_another_wording_is_no_unreadable_line(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path / "run", broker_lines={0: [glog("[STALL] recv batch header blocked for a while")]})
    s = FileScanner(run / "broker_0.log", "broker", load_catalogue())
    list(s.rows(RowFormat("broker_0.log", "broker")))
    assert (s.stats.unreadable, s.stats.glog) == (0, 1)


def test_loose_form_widens_only_numeric_captures() -> None:
    loose = loose_form(r"a (?P<n>-?\d+)ms (?P<s>\w+) (?P<f>\d+(?:\.\d+)?)", {"n", "f"})
    assert loose is not None and "(?P<s>\\w+)" in loose and "\\d" not in loose
    assert loose_form(r"a (?P<s>\w+)", set()) is None


def test_huge_broker_index_in_a_name_is_no_index() -> None:
    assert broker_index("broker_" + "9" * 30 + ".log") is None
    assert broker_index("broker_2147483648.log") is None
    assert broker_index("broker_17.log") == 17
    assert broker_index("broker_1.log\n") is None


@pytest.mark.parametrize(("role", "msg"), [
    ("client", "[TcpInfo] broker=0 conn=0 busy_us=5 rwnd_limited_us=NaN sndbuf_limited_us=0"),
    ("client", "[TcpInfo] broker=0 conn=0 busy_us=5 rwnd_limited_us=-1 sndbuf_limited_us=0"),
    ("client", "[TcpInfo] broker=" + "9" * 30 + " conn=0 busy_us=5 rwnd_limited_us=1 sndbuf_limited_us=0"),
    ("client", "[SendStats] broker=0 conn=0 batches=1 bytes=+5 messages=1 send_blocked_us=0 eagain=0"),
    ("client", "Waiting for acknowledgments, received 1 out of 2 (elapsed: 1s) [B0=0x1]"),
    ("client", "Waiting for acknowledgments, received 1 out of 2 (elapsed: " + "1" * 400 + ".0s) [B0=1]"),
    ("broker", "[BrokerMetrics] broker=0 batches=-3 bytes=0 messages=0"),
])
def test_key_value_and_per_broker_numbers_out_of_type_are_unreadable(tmp_path: Path, role: str, msg: str) -> None:
    path = tmp_path / ("broker_0.log" if role == "broker" else "client.log")
    path.write_text(glog(msg) + "\n")
    s = FileScanner(path, role, load_catalogue())
    rows = b"".join(s.rows(RowFormat(path.name, role)))
    assert rows == b"" and s.stats.unreadable == 1, (rows, s.stats)
