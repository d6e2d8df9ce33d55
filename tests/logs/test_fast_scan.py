"""The fast engines (compiled C, numpy) must write exactly the rows and line stats of the plain regex scan, which
itself must agree with a line-by-line reference."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs import compiled, parse, split
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import PFX_LINE, FileScanner, available_engines
from stallscope.logs.parse import parse_run
from stallscope.logs.rows import RowFormat
from stallscope.logs.split import meeting_point

ROLES = ("broker", "client")
FAST = [e for e in available_engines() if e != "regex"]
MESSAGES = [
    "[STALL] recv batch header blocked 57ms client_id=1 bytes_read=0",
    "[STALL] recv payload blocked 51ms batch_seq=3 remaining=100 total_stall_count=9",
    "[STALL] recv junk",
    "NetworkManager: batch_complete=1 batch_seq=7 num_msg=1927",
    "NetworkManager: batch_data_complete total=1 last_batch_seq=2 client_id=3 total_size=4",
    "Broker:1 Acknowledgments 5 (next_to_ack=6",
    "Broker:",
    "Waiting for acknowledgments, received 1 out of 2 (elapsed: 1s) [B0=1]",
    "[Fault] slow_producer cost_ns=5",
    "Hugepages: 6144 free × 2048 kB = 12288 MB free; need 32772 MB",
    "plain message ünïcödé",
    "",
    " [STALL] recv batch header blocked 57ms client_id=1 bytes_read=0",
    # what the compiled scanner must render exactly as csv/json do, or leave to Python
    "[STALL] recv batch header blocked 0057ms client_id=-0 bytes_read=-12 " + "y" * 600,
    '[STALL] recv payload blocked 51ms batch_seq=3 remaining=100 total_stall_count=9 "quoted", comma',
    "[STALL] recv batch header blocked 57ms client_id=12345678901234567890123 bytes_read=0",
    "[STALL] recv batch header blocked 57ms client_id=1 bytes_read=0\ttab\x7f del",
    "[STALL] recv batch header blocked 57ms client_id=- bytes_read=0",
    "[STALL] recv batch header (partial) blocked 3ms client_id=2 recv_ret=0",
    "NetworkManager (blocking): Ring full, waiting for space (client_id=1, wait_iterations=2, total_ring_full=3)",
    "Connection closed mid-header client_id=4 bytes_read=9",
    "Publisher finished sending 10 messages",
    "AckThread: Received Broker ID 2",
    "PublishThread[3] for BROKER 1: EXITING WITH ZERO BATCHES SENT",
]
ODD = [
    b"", b"  indented continuation", b"\tMessage size: 4096 bytes", b"===== Publish Throughput Test =====",
    b"Running step 1", b"\x00\x00 nul", b"\xff\xfe not utf-8", b"*** Aborted at 1 (unix time)",
    b"I20260202 1x:00:00.000000 1 a.cc:1] bad time", b"I20261399 99:99:99.000000 1 a.cc:1] bad date and time",
    b"I20260202 12:00:00.000000 1 a.cc:1]", b"X20260202 12:00:00.000000 1 a.cc:1] bad severity",
    b"I20260202 12:00:00.000000 1 a b.cc:1] space in file", b"I20260202 12:00:00.00000 1 a.cc:1] short usec",
]


def _prefix(rng: random.Random) -> bytes:
    sev = rng.choice("IWEF")
    tid = rng.choice(["1161001", "  123", "7", "123456789012"])
    src = rng.choice(["network_manager.cc", "a]b.cc", "x2.cc", "p" * rng.choice([5, 60]), "ü.cc"])
    sep = rng.choice([" ", " ", " ", "", "  "])
    t = f"{sev}2026020{rng.randint(1, 9)} 1{rng.randint(0, 9)}:2{rng.randint(0, 9)}:0{rng.randint(0, 9)}."
    return f"{t}{rng.randint(0, 999999):06d} {tid} {src}:{rng.randint(1, 99999)}]{sep}".encode()


def _log(seed: int, huge: float = 0.005) -> bytes:
    rng = random.Random(seed)
    lines = []
    for _ in range(rng.randint(50, 400)):
        r = rng.random()
        if r < 0.7:
            lines.append(_prefix(rng) + rng.choice(MESSAGES).encode())
        elif r < 0.97:
            lines.append(rng.choice(ODD))
        else:
            lines.append(_prefix(rng) + b"x" * (1 << 20 if rng.random() < huge / 0.03 else 5000))
    eol = rng.choice([b"\n", b"\r\n"])
    data = eol.join(lines)
    return data if rng.random() < 0.5 else data + eol


def _scan(path: Path, role: str, **kw: object) -> tuple[list, dict]:
    s = FileScanner(path, role, load_catalogue(), **kw)  # type: ignore[arg-type]
    return list(s), s.stats.to_json()


def _rows(path: Path, role: str, engine: str, name: str = "broker_3.log", **kw: object) -> tuple[bytes, dict]:
    s = FileScanner(path, role, load_catalogue(), engine=engine, **kw)  # type: ignore[arg-type]
    return b"".join(s.rows(RowFormat(name, role))), s.stats.to_json()


def _reference(data: bytes, role: str) -> tuple[int, set[int], int]:
    """Line by line: (total lines, lines of recognised records, prefix-less lines)."""
    recs = load_catalogue().for_role(role)
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    events, nonpfx = set(), 0
    for no, raw in enumerate(lines, 1):
        m = PFX_LINE.match(raw)
        if m is None:
            nonpfx += 1
            continue
        msg = raw[m.end():].decode("utf-8", "replace").rstrip("\r")
        msg = msg[1:] if msg.startswith(" ") else msg
        if any(r.match(msg) is not None for r in recs):
            events.add(no)
    return len(lines), events, nonpfx


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("chunk", [97, 4096, 8 << 20])
def test_fast_path_matches_regex_path_and_reference(tmp_path: Path, seed: int, chunk: int) -> None:
    data = _log(seed)
    path = tmp_path / "x.log"
    path.write_bytes(data)
    for role in ROLES:
        fast, fast_st = _scan(path, role, chunk_bytes=chunk)
        slow, slow_st = _scan(path, role, chunk_bytes=chunk, engine="regex")
        assert fast == slow and fast_st == slow_st
        total, events, nonpfx = _reference(data, role)
        assert fast_st["total"] == total
        assert {e.line for e in fast if e.kind != "client_banner"} == events
        assert fast_st["continuation"] + fast_st["script"] + fast_st["unparseable"] == nonpfx
        assert fast_st["is_truncated"] == (not data.endswith(b"\n"))
        for engine in FAST:
            for name in ("broker_3.log", "client.log", 'odd, "name".log'):
                assert _rows(path, role, engine, name, chunk_bytes=chunk) == _rows(
                    path, role, "regex", name, chunk_bytes=chunk), (engine, name)


def test_fast_path_matches_regex_path_on_fixtures(embarcadero: Path) -> None:
    logs = sorted(p for p in embarcadero.rglob("*.log") if p.is_file())
    assert logs
    for p in logs:
        for role in ROLES:
            assert _scan(p, role) == _scan(p, role, engine="regex"), p
            slow = _rows(p, role, "regex")
            for engine in FAST:
                assert _rows(p, role, engine) == slow, (p, engine)


@pytest.mark.parametrize("seed", range(4))
def test_split_across_two_processes_writes_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      seed: int) -> None:
    real_available = compiled.AVAILABLE
    rng = random.Random(seed)
    good = [_prefix(rng) + b"ordinary" for _ in range(3000)]
    body = b"\n".join(_log(seed * 100 + i, huge=0) for i in range(3))
    data = body + b"\n" + b"\n".join(good) + b"\n" + body
    for name in ("broker_0.log", "client.log"):
        (tmp_path / "run" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "run" / name).write_bytes(data)
    outs = []
    for limit in (1 << 60, 0):
        for engine in FAST:
            monkeypatch.setattr(parse, "SPLIT_MIN_BYTES", limit)
            monkeypatch.setattr(compiled, "AVAILABLE", engine == "compiled" and real_available)
            out = tmp_path / f"out{limit}{engine}"
            parse_run(tmp_path / "run", out)
            outs.append(((out / "events.csv").read_bytes(), schemas.read_json(out / "lines.json", "lines")))
    at = meeting_point(tmp_path / "run" / "client.log", 0, len(data))
    assert at is not None and len(body) < at < len(data) - len(body)  # the split did happen, inside the good part
    assert all(o == outs[0] for o in outs)
    assert outs[0][1]["files"]["broker_0.log"]["unparseable"] > 0
    assert outs[0][1]["files"]["broker_0.log"]["event"] > 0


def _split_run(tmp_path: Path) -> Path:
    rng = random.Random(7)
    run = tmp_path / "run"
    run.mkdir()
    (run / "broker_0.log").write_bytes(b"\n".join(_prefix(rng) + b"ordinary" for _ in range(5000)) + b"\n")
    return run


def _dies(*args: object) -> None:
    os._exit(3)


def _raises(*args: object) -> None:
    conn = args[5]
    conn.send(("error", OSError(5, "Input/output error")))  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]


def test_split_child_that_dies_is_an_error_not_a_short_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(split, "_child", _dies)
    with pytest.raises(StallscopeError, match=r"broker_0.log.*second half.*died \(exit code 3\)"):
        parse_run(_split_run(tmp_path))
    assert not list((tmp_path / "run").glob(".events*")) and not (tmp_path / "run" / "events.csv").exists()


def test_split_child_error_reaches_the_caller_with_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(split, "_child", _raises)
    with pytest.raises(StallscopeError, match="broker_0.log.*Input/output error"):
        parse_run(_split_run(tmp_path))
