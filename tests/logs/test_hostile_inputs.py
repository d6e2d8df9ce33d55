"""Hypothesis over hostile log inputs: bytes, numbers at the type limits, signs, NaN/inf, impossible and reversed
dates, file names with spaces, newlines and ``<script>``, symlinks in and out of the input, FIFOs, devices.

What must hold on every example: no traceback (only one-line ``StallscopeError``s), nothing takes 30 s, every
line lands in exactly one class, a record of a known form with a number out of type is counted unreadable (never
an event, never a plain record), the three parse engines agree, nothing outside the input is copied, and a run
with nothing readable gets no confident verdict. Shares of the run never exceed 100 %.

Example counts: small by default; ``--run-long`` (CI's long run) runs 7,000 + 3,000 + 40 examples.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.errors import StallscopeError
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner, available_engines
from stallscope.logs.ingest import ingest_dir
from stallscope.logs.parse import parse_run
from stallscope.logs.rows import RowFormat
from stallscope.pipeline import assess_with_diagnosis

HANG_S = 30
INT64_MAX = 2**63 - 1
DUR_MAX = INT64_MAX // 1000
CLASSES = ("event", "glog", "continuation", "script", "unparseable", "unreadable")
SECRET = "SECRET-OUTSIDE-THE-INPUT"

# --------------------------------------------------------------------------------------------------- strategies
EDGE = ["0", "1", "-0", "-1", "-2", "-5", "00", "007", "2147483647", "2147483648", "-2147483649",
        str(DUR_MAX), str(DUR_MAX + 1), str(INT64_MAX), str(INT64_MAX + 1), str(-(2**63)), str(-(2**63) - 1),
        str(2**64), "9" * 30, "1" + "0" * 400, "NaN", "nan", "inf", "-inf", "Infinity", "0x1f", "0X10", "1.5",
        "-1.5", "1e3", "1E-3", "+5", "", "5abc", "1_000", "0b11", "١٢"]
NUMBER = st.one_of(st.sampled_from(EDGE), st.integers(-(2**70), 2**70).map(str))
DATE = st.one_of(st.sampled_from(["20260202", "20261341", "20260230", "00000101", "99991231", "19700101",
                                  "20240229", "20230229"]), st.from_regex(r"\A[0-9]{8}\Z"))


def _int_ok(s: str, lo: int, hi: int, signed: bool) -> bool:
    """The oracle, independent of the parser: an ASCII integer within [lo, hi]."""
    return re.fullmatch(r"-?[0-9]+" if signed else r"[0-9]+", s) is not None and lo <= int(s) <= hi


STALL_FORMS: list[tuple[str, list[tuple[int, int, bool]]]] = [
    ("[STALL] recv batch header blocked {0}ms client_id={1} bytes_read={2}",
     [(0, DUR_MAX, False), (-(2**63), INT64_MAX, True), (-1, INT64_MAX, True)]),
    ("[STALL] recv batch header (partial) blocked {0}ms client_id={1} recv_ret={2}",
     [(0, DUR_MAX, False), (-(2**63), INT64_MAX, True), (-1, INT64_MAX, True)]),
    ("[STALL] recv payload blocked {0}ms batch_seq={1} remaining={2} total_stall_count={3}",
     [(0, DUR_MAX, False), (-(2**63), INT64_MAX, True), (0, INT64_MAX, True), (0, INT64_MAX, False)]),
]


@st.composite
def stall_line(draw: Callable[..., Any]) -> tuple[str, bool]:
    """A broker [STALL] record with drawn numbers, and whether it must be an event (else unreadable)."""
    form, rules = draw(st.sampled_from(STALL_FORMS))
    nums = [draw(NUMBER) for _ in rules]
    ok = all(_int_ok(n, lo, hi, signed) for n, (lo, hi, signed) in zip(nums, rules, strict=True))
    tail = draw(st.sampled_from(["", " (extra words)", " x=1"]))
    return form.format(*nums) + tail, ok


CLIENT_FORMS = [
    "Waiting for acknowledgments, received {0} out of {1} (elapsed: {2}s) [B0={0}]",
    "Bandwidth: {0} MB/s", "Publish test completed in {0} seconds", "Publisher finished sending {0} messages",
    "[TcpInfo] conn=0 broker={0} busy_us={1} rwnd_limited_us={2} sndbuf_limited_us={1}",
    "[SendStats] conn=0 broker={0} bytes={1} send_blocked_us={2} eagain={0}",
    "[Phase] publish_start", "[Phase] send_done", "[Phase] ack_done", "[Publisher ACK Timeout] waited {0}s",
    "[BrokerMetrics] messages={0} batches={1}", "Broker:{0} Acknowledgments {1} (next_to_ack={2}",
]


@st.composite
def glog_line(draw: Callable[..., Any], role: str, other_forms: bool = True) -> tuple[bytes, int]:
    """One log line as bytes, and 1/0/-1: a stall event, an unreadable stall record, anything else (other
    forms of the catalogue only when ``other_forms``: their validity has no oracle here)."""
    date = draw(DATE)
    clock = draw(st.from_regex(r"\A[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{6}\Z"))
    head = f"{draw(st.sampled_from('IWEF'))}{date} {clock} {draw(st.integers(0, 2**40))} x.cc:1] "
    kinds = ["stall", "client", "junk", "text"] if role == "broker" else ["client", "junk", "text", "stall"]
    kind = draw(st.sampled_from(kinds if other_forms else [k for k in kinds if k != "client"]))
    if kind == "stall":
        msg, ok = draw(stall_line())
        return (head + msg).encode(), (1 if ok else -1) if role == "broker" else 0
    if kind == "client":
        form = draw(st.sampled_from(CLIENT_FORMS))
        return (head + form.format(*(draw(NUMBER) for _ in range(3)))).encode(), 0
    if kind == "junk":
        return draw(st.binary(max_size=60)).replace(b"\n", b" "), 0
    return draw(st.text(max_size=40).map(lambda t: t.replace("\n", " "))).encode("utf-8", "surrogatepass"), 0


@st.composite
def log_body(draw: Callable[..., Any], role: str, other_forms: bool = True) -> tuple[bytes, int, int]:
    """A log file's bytes, with the stall events and the unreadable stall records it must give."""
    lines = draw(st.lists(glog_line(role, other_forms), max_size=12))
    crlf = draw(st.booleans())
    end = b"\r\n" if crlf else b"\n"
    body = end.join(b for b, _ in lines) + (end if lines and draw(st.booleans()) else b"")
    return body, sum(1 for _, k in lines if k == 1), sum(1 for _, k in lines if k == -1)


# ------------------------------------------------------------------------------------------------------ helpers
@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail the example (not the whole session) when it runs past ``seconds``: a hang, not slowness."""
    def _raise(*_: Any) -> None:
        raise TimeoutError(f"hung past {seconds} s")
    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _examples(request: pytest.FixtureRequest, default: int, long: int, exhaustive: int) -> int:
    """Examples to draw: a few dozen by default, a few hundred with --run-long (CI), all with --run-exhaustive."""
    if request.config.getoption("--run-exhaustive"):
        return exhaustive
    return long if request.config.getoption("--run-long") else default


def _check_accounting(lines: dict[str, Any]) -> None:
    for name, st_ in lines.items():
        assert sum(st_.get(k, 0) for k in CLASSES) == st_["total"], (name, st_)


_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")


def _check_no_confident_verdict_on_nothing(claims: dict[str, Any], metrics: dict[str, Any]) -> None:
    if sum(v["event"] for v in metrics["lines"].values()) == 0:
        assert all(c["verdict"] not in ("supported", "refuted") for c in claims["claims"]), [
            (c["id"], c["verdict"], c["reason"]) for c in claims["claims"] if c["verdict"] in ("supported", "refuted")]
        assert all(d["confidence"] == "low" for d in claims["diagnosis"]), claims["diagnosis"]
    shares = [float(m.group(1).replace(",", "")) for m in _PERCENT.finditer(json.dumps(claims))]
    assert all(s <= 100 for s in shares), shares


# ------------------------------------------------------------------------------------------- 1. parse engines
def test_parse_counts_every_line_and_every_out_of_type_record(request: pytest.FixtureRequest,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("parse")

    @settings(max_examples=_examples(request, 40, 2000, 7000), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(log=log_body("broker", other_forms=False), role=st.sampled_from(["broker", "client"]))
    def prop(log: tuple[bytes, int, int], role: str) -> None:
        body, events, unreadable = log
        path = Path(tempfile.mkdtemp(dir=base)) / "broker_0.log"
        path.write_bytes(body)
        seen = []
        with deadline(HANG_S):
            for engine in available_engines():
                s = FileScanner(path, role, load_catalogue(), engine=engine, chunk_bytes=97)
                rows = b"".join(s.rows(RowFormat(path.name, role)))
                seen.append((rows, s.stats.to_json()))
        assert all(x == seen[0] for x in seen), "engines disagree"
        rows, stats = seen[0]
        _check_accounting({path.name: stats})
        if role == "broker":
            stall_rows = sum(1 for r in rows.splitlines() if b",stall_" in r)
            assert (stall_rows, stats["unreadable"]) == (events, unreadable), (stats["unreadable_examples"], rows)
    prop()


# ------------------------------------------------------------------------- 2. ingest → parse → metrics → assess
BROKER_NAMES = st.sampled_from(["broker_0.log", "broker_1.log", "broker2.log", "broker_3.log", "broker_17.log",
                                "broker_" + "9" * 30 + ".log", "broker_2147483648.log", "broker_007.log"])
CLIENT_NAMES = st.sampled_from(["client.log", "client_a b.log", "client_<script>alert(1)<%2Fscript>.log",
                                "client_\nx.log", "client_'q\".log", "client_$(touch canary).log"])
SPECIAL = st.sampled_from(["none", "link_inside", "link_out", "dangling", "fifo", "dev_zero", "dir"])


@st.composite
def log_dir(draw: Callable[..., Any]) -> dict[str, Any]:
    brokers = draw(st.dictionaries(BROKER_NAMES, log_body("broker"), max_size=4))
    clients = draw(st.dictionaries(CLIENT_NAMES, log_body("client"), max_size=2))
    specials = draw(st.lists(st.tuples(SPECIAL, BROKER_NAMES | CLIENT_NAMES), max_size=3))
    return {"brokers": brokers, "clients": clients, "specials": specials}


def _materialise(root: Path, d: dict[str, Any]) -> Path:
    src = root / "in <b>x&lt;b> $(y)"
    src.mkdir()
    (root / "secret.txt").write_text(SECRET + "\n")
    (src / "sub").mkdir()
    for name, (body, _, _) in {**d["brokers"], **d["clients"]}.items():
        (src / name).write_bytes(body)
    for kind, name in d["specials"]:
        p = src / name
        if p.is_dir() and not p.is_symlink():
            p.rmdir()
        elif p.exists() or p.is_symlink():
            p.unlink()
        if kind == "link_inside":
            (src / "sub" / "real.log").write_text("plain text\n")
            p.symlink_to("sub/real.log")
        elif kind == "link_out":
            p.symlink_to(root / "secret.txt")
        elif kind == "dangling":
            p.symlink_to(root / "nowhere.log")
        elif kind == "fifo":
            os.mkfifo(p)
        elif kind == "dev_zero":
            p.symlink_to("/dev/zero")
        elif kind == "dir":
            p.mkdir()
    return src


def _run_pipeline(src: Path, out: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """The stages assess-logs runs, minus the PDF; None when ingest refuses the input (one line)."""
    run = out / "run"
    try:
        ingest_dir(src, run)
    except StallscopeError as exc:
        assert "\n" not in str(exc).replace(str(src), ""), str(exc)
        return None
    parse_run(run)
    metrics = schemas.read_json(compute_metrics(run), "metrics")
    claims = schemas.read_json(assess_with_diagnosis([run], out / "claims.json", extras={}), "claims")
    return metrics, claims, schemas.read_json(run / "manifest.json", "manifest")


def test_hostile_directories_assess_without_traceback_or_confidence_on_nothing(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("dirs")

    @settings(max_examples=_examples(request, 25, 800, 3000), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(d=log_dir())
    def prop(d: dict[str, Any]) -> None:
        root = Path(tempfile.mkdtemp(dir=base))
        src = _materialise(root, d)
        with deadline(HANG_S):
            got = _run_pipeline(src, root / "out")
        if got is None:
            return
        metrics, claims, manifest = got
        _check_accounting(metrics["lines"])
        _check_no_confident_verdict_on_nothing(claims, metrics)
        for p in (root / "out").rglob("*"):
            if p.is_file():
                assert SECRET.encode() not in p.read_bytes(), p
        for name in _must_refuse(src):
            assert any(n.startswith(repr(name)) for n in manifest["notes"]), (name, manifest["notes"])
        if not metrics["clock"]["ok"]:
            assert all(metrics["phases"][p] is None for p in ("init", "publish", "drain", "post"))
        shutil.rmtree(root, ignore_errors=True)
    prop()


def _must_refuse(src: Path) -> list[str]:
    """Log-named entries that are not regular files inside ``src`` (found with os calls, not with the vetting
    code under test)."""
    out = []
    inside = os.path.realpath(src) + os.sep
    for name in os.listdir(src):
        if not re.fullmatch(r"broker_?\d+\.log|client(?:[_.-].*)?\.log", name, re.DOTALL):
            continue
        p = os.path.join(src, name)
        real = os.path.realpath(p)
        if not os.path.exists(p) or not real.startswith(inside) or not stat.S_ISREG(os.stat(p).st_mode):
            out.append(name)
    return out


# ---------------------------------------------------------------------- 3. the command line, report included
def test_assess_logs_command_on_hostile_directories(request: pytest.FixtureRequest,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    exe = Path(sys.executable).parent / "stallscope"
    base = tmp_path_factory.mktemp("cli")

    @settings(max_examples=_examples(request, 3, 12, 40), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(d=log_dir())
    def prop(d: dict[str, Any]) -> None:
        root = Path(tempfile.mkdtemp(dir=base))
        src = _materialise(root, d)
        out = root / "out <script>"
        try:
            res = subprocess.run([str(exe), "assess-logs", str(src), "-o", str(out)], capture_output=True,
                                 text=True, timeout=HANG_S, cwd=root)
        except subprocess.TimeoutExpired:
            pytest.fail(f"assess-logs hung past {HANG_S} s on {d!r}")
        assert "Traceback" not in res.stderr, res.stderr
        assert res.returncode in (0, 1), res.stderr
        if res.returncode == 1:
            assert len(res.stderr.strip().splitlines()) == 1 or "\n" in str(src), res.stderr
        else:
            html = (out / "assessment.html").read_text()
            assert "<script>alert(1)" not in html and SECRET not in html
        shutil.rmtree(root, ignore_errors=True)
    prop()
