"""The compiled scanner's contract: which recognisers it takes, how it fails on bad input, and that CI built it."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stallscope.logs import compiled
from stallscope.logs.catalogue import Recogniser, load_catalogue
from stallscope.logs.glog import FileScanner
from stallscope.logs.rows import RowFormat

needs_ext = pytest.mark.skipif(not compiled.AVAILABLE, reason="the C extension is not built (no compiler)")


def _rec(regex: str, fields: dict[str, str], **kw: object) -> Recogniser:
    base = dict(kind="stall_x", role="broker", key=regex[:3], regex=re.compile(regex), fields=tuple(fields.items()),
                extras=(), aliases=(), kv=False, broker_field=None)
    base.update(kw)
    return Recogniser(**base)  # type: ignore[arg-type]


def test_ci_built_the_extension() -> None:
    """`make test` sets STALLSCOPE_REQUIRE_COMPILED=1: a silent fallback would hide a 3x slower parse."""
    if os.environ.get("STALLSCOPE_REQUIRE_COMPILED") != "1":
        pytest.skip("STALLSCOPE_REQUIRE_COMPILED is not set")
    assert compiled.AVAILABLE


def test_template_splits_literals_and_integer_captures() -> None:
    pieces, names = compiled.template(
        r"\[STALL\] recv payload blocked (?P<duration_ms>\d+)ms batch_seq=(?P<batch_seq>-?\d+) rest")
    assert pieces == [b"[STALL] recv payload blocked ", False, b"ms batch_seq=", True, b" rest"]
    assert names == ["duration_ms", "batch_seq"]


@pytest.mark.parametrize("regex", [
    r"a(?P<x>\d+)(?P<y>\d+)",  # adjacent captures could split the digits either way
    r"a(?P<x>\d+)7b",  # a digit after a capture lets it end early
    r"a.b", r"a\sb", r"a\d+", r"(?:a)?b", r"a|b", r"a[bc]", r"a(?P<x>\d*)", r"a(?P<x>[0-9]+)", "é",
    r"a\Z", r"a(?P<x>\d+(?:\.\d+)?)",
])
def test_template_refuses_anything_more_than_literals_and_integers(regex: str) -> None:
    assert compiled.template(regex) is None


def test_spec_leaves_python_what_it_cannot_render() -> None:
    plain = _rec(r"abc (?P<n>\d+)", {"n": "int"})
    assert compiled.spec(plain, False)[1] == b"stall_x"
    for rec in (
        _rec(r"abc (?P<n>\d+)", {"n": "float"}),
        _rec(r"abc (?P<n>\d+)", {"n": "int"}, kv=True),
        _rec(r"abc (?P<n>\d+)", {"n": "int"}, extras=(re.compile("x"),)),
        _rec(r"abc (?P<n>\d+)", {"n": "int"}, aliases=(("n", "m"),)),
        _rec(r"abc (?P<n>\d+) (?P<n2>\d+)x(?P<s>\S+)", {"n": "int"}),
        _rec(r"abc (?P<n>\d+)", {"n": "int", "per_broker": "broker_counts"}),  # Python adds it even without a group
        dataclasses.replace(plain, regex=re.compile(plain.regex.pattern, re.IGNORECASE)),
    ):
        assert compiled.spec(rec, False)[1:] == (None,)


def test_spec_outputs_declared_fields_in_declared_order_and_broker_only_for_client_rows() -> None:
    rec = _rec(r"abc (?P<a>\d+) (?P<b>\d+) (?P<duration_ms>\d+)ms", {"duration_ms": "int", "b": "int", "zz": "int"},
               broker_field="b")
    key, kind, pieces, outs, broker, dur, limits = compiled.spec(rec, True)
    assert [n for n, _ in outs] == [b'""duration_ms"":', b'""b"":'] and [c for _, c in outs] == [2, 1]
    assert (broker, dur) == (1, 2)
    assert limits == [(-(2**63), 2**63 - 1)] * 3
    assert compiled.spec(rec, False)[4] == -1


def test_shipped_catalogue_compiles_the_high_volume_broker_lines() -> None:
    kinds = {r.kind for r in load_catalogue().for_role("broker") if compiled.spec(r, False)[1] is not None}
    assert {"stall_header", "stall_partial", "stall_payload", "ring_full", "batch_data_complete"} <= kinds


@needs_ext
def test_scan_refuses_a_buffer_without_its_newline() -> None:
    sc = compiled.scanner(load_catalogue().for_role("broker"), "broker_0.log", "broker", 0)
    with pytest.raises(ValueError, match="newline at cut"):
        sc.scan(bytearray(b"\nabc"), 3, 0)
    with pytest.raises(ValueError):
        sc.scan(bytearray(b"\nabc\n"), 99, 0)


@needs_ext
def test_scanner_refuses_a_malformed_spec() -> None:
    with pytest.raises(ValueError):
        compiled._fastscan.Scanner([(b"k", b"kind", [b"k", False], [(b"x", 5)], -1, -1, [(0, 9)])], b"f,", b"broker",
                                   b"0")
    with pytest.raises(ValueError):  # limits for every capture
        compiled._fastscan.Scanner([(b"k", b"kind", [b"k", False], [(b"x", 0)], -1, -1, [])], b"f,", b"broker", b"0")
    with pytest.raises(ValueError):
        compiled._fastscan.Scanner([(b"k",)], b"f,", b"broker", b"0")


@needs_ext
def test_scanner_after_a_failed_reinit_refuses_to_scan() -> None:
    sc = compiled.scanner(load_catalogue().for_role("broker"), "broker_0.log", "broker", 0)
    with pytest.raises(ValueError):
        sc.__init__([(b"k",)], b"f,", b"broker", b"0")
    with pytest.raises(RuntimeError, match="not initialised"):
        sc.scan(bytearray(b"\nI20240101 00:00:00.000000 1 a.cc:1] [STALL] recv batch header blocked 5ms\n"), 76, 0)


@needs_ext
@given(rows=st.lists(st.tuples(st.integers(0, 10**12), st.text(alphabet="ab,\"{}x19 \r", max_size=30)), max_size=20),
       off=st.integers(0, 10**12))
@settings(max_examples=100, deadline=None)
def test_shift_lines_compiled_equals_python(rows: list[tuple[int, str]], off: int) -> None:
    head = b'"odd,name",'
    blob = b"".join(head + b"%d,%s\n" % (n, t.encode()) for n, t in rows)
    c = compiled._fastscan.shift_lines(blob, len(head), off)
    saved, compiled._fastscan = compiled._fastscan, None
    try:
        py = compiled.shift_lines(blob, head, off)
    finally:
        compiled._fastscan = saved
    assert c == py
    assert c.count(b"\n") == len(rows)


@needs_ext
def test_shift_lines_refuses_a_row_without_a_line_number_or_a_bad_offset() -> None:
    with pytest.raises(ValueError, match="line column"):
        compiled._fastscan.shift_lines(b"f,12,x\nf,oops\n", 2, 1)
    for head, off in ((-1, 1), (2, -1), (2, 2**63 - 1)):
        with pytest.raises(ValueError):
            compiled._fastscan.shift_lines(b"f,12,x\n", head, off)


@needs_ext
@pytest.mark.parametrize(("name", "role"), [
    ("broker_99999999999999999999.log", "broker"), ("odd.log", "broker"), ("client.log", 'client,"x"'),
])
def test_compiled_cells_match_csv_for_odd_names_and_roles(tmp_path: Path, name: str, role: str) -> None:
    path = tmp_path / "x.log"
    path.write_text("I20240101 00:00:00.000000 1 a.cc:1] Broker:1 Acknowledgments 5 (next_to_ack=6\n"
                    "I20240101 00:00:00.000000 1 a.cc:1] AckThread: Received Broker ID 2\n")
    out = []
    for engine in ("compiled", "regex"):
        s = FileScanner(path, "broker" if role == "broker" else "client", load_catalogue(), engine=engine)
        out.append(b"".join(s.rows(RowFormat(name, role))))
    assert out[0] == out[1] and out[0]


@needs_ext
@given(body=st.lists(st.one_of(
    st.sampled_from([
        "[STALL] recv batch header blocked 57ms client_id=1 bytes_read=0",
        "[STALL] recv payload blocked 5ms batch_seq=-1 remaining=0 total_stall_count=1",
        "Publisher finished sending 3 messages",
    ]).flatmap(lambda m: st.tuples(st.just(m), st.text(max_size=12))).map(lambda t: t[0] + t[1]),
    st.text(max_size=40),
), max_size=15), tid=st.sampled_from(["7", "00012", " 3", "1" * 25]), role=st.sampled_from(["broker", "client"]),
       stamp=st.from_regex(r"\A[0-9]{8} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\Z"))
@settings(max_examples=150, deadline=None)
def test_compiled_rows_equal_regex_rows_on_random_messages(tmp_path_factory: pytest.TempPathFactory,
                                                           body: list[str], tid: str, role: str, stamp: str) -> None:
    """Random dates (valid or not), times, thread ids and message tails around the compiled forms."""
    path: Path = tmp_path_factory.mktemp("c") / "broker_2.log"
    data = "".join(f"W{stamp} {tid} net,\"w\".cc:{i}] {m}\n" for i, m in enumerate(body))
    path.write_bytes(data.encode("utf-8", "surrogatepass"))
    out = []
    for engine in ("compiled", "regex"):
        s = FileScanner(path, role, load_catalogue(), engine=engine, chunk_bytes=64)
        out.append((b"".join(s.rows(RowFormat(path.name, role))), s.stats.to_json()))
    assert out[0] == out[1]


@needs_ext
def test_compiled_timestamps_follow_python_dates_at_the_edges(tmp_path: Path) -> None:
    dates = ["20000229", "19000229", "20240229", "20230229", "00010101", "00000101", "99991231", "20261301",
             "20260431", "19691231", "20261126"]
    path = tmp_path / "broker_1.log"
    path.write_text("".join(f"W{d} 23:59:59.999999 12 a.cc:1] [STALL] recv batch header blocked 5ms client_id=1 "
                            "bytes_read=0\n" for d in dates))
    out = []
    for engine in ("compiled", "regex"):
        s = FileScanner(path, "broker", load_catalogue(), engine=engine)
        out.append(b"".join(s.rows(RowFormat(path.name, "broker"))))
    assert out[0] == out[1]
    assert out[0].count(b",W,") == len(dates) and out[0].count(b",,W,") == 5  # five impossible dates: no ts_us


@pytest.mark.parametrize("built", [True, False])
def test_parse_says_when_it_runs_without_the_compiled_scanner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str], built: bool) -> None:
    from stallscope.cli import main

    run = tmp_path / "run"
    run.mkdir()
    (run / "broker_0.log").write_text("I20240101 00:00:00.000000 1 a.cc:1] [STALL] recv payload blocked 5ms "
                                      "batch_seq=1 remaining=2 total_stall_count=3\n")
    monkeypatch.setattr(compiled, "AVAILABLE", built and compiled.AVAILABLE)
    assert main(["parse", str(run)]) == 0
    err = capsys.readouterr().err
    assert ("not built" in err) == (not compiled.AVAILABLE)
    assert (run / "events.csv").read_text().count("stall_payload") == 1
