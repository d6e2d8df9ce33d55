"""Benchmark `stallscope assess-logs` on generated broker logs: report cost against the number of stalls.

Plain script, not collected by pytest:
    python tests/bench/bench_report.py [--size-mb 256] [--stalls 1000,10000,50000,100000] [--tail-mb 1] [--keep DIR]

For each stall count it writes one broker log of --size-mb (an hour of glog lines with rising timestamps, the
stalls spread evenly) and times the whole `stallscope assess-logs` (ingest, parse, metrics, assess, report) as a
subprocess, with its peak RSS (ru_maxrss of that child alone, read through os.wait4). Then one small log with a
single [STALL] line carrying a --tail-mb tail: its time and the size of claims.json and assessment.html.
Goals (issue 11): about 50,000 stalls in 256 MiB within 15 s and 500 MB; the tail case under 30 s with a
claims.json under 5 MB; the time grows less than linearly with the stall count (the ratio is printed).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stallscope.shared.provenance import host_facts

SPAN_S = 3600  # the generated log covers one hour, as a soak run's would
PREFIX = "{sev}20260202 {h:02d}:{m:02d}:{s:02d}.{us:06d} 1161{t:03d} network_manager.cc:"
OTHERS = (
    "941] [PERF] Batch {k}: GetCXLBuffer=3us, Prep=1us, Recv=812us",
    "1053] NetworkManager: batch_complete=1 batch_seq={k} num_msg=1927 total_size=2096576 client_id=115999 "
    "(total_complete={k})",
    "76] SetAcceptedSocketBuffers fd={t} SO_RCVBUF=33554432 SO_SNDBUF=33554432",
    "1046] NetworkManager: batch_complete stores={k} last_batch_seq={k} client_id=115999",
)
STALL = "782] [STALL] recv batch header blocked {ms}ms client_id=115999 bytes_read=128"
CLIENT = "I20260202 13:00:00.000000 1 throughput_test.cc:1] Starting publisher\n"


def _stamp(k: int, lines: int, sev: str) -> str:
    us_total = int(k * SPAN_S * 1e6 / lines)
    s, us = divmod(us_total, 1_000_000)
    return PREFIX.format(sev=sev, h=13 + s // 3600, m=s // 60 % 60, s=s % 60, us=us, t=k % 1000)


def generate(path: Path, size: int, stalls: int) -> int:
    """Write about ``size`` bytes of broker log with ``stalls`` [STALL] lines spread evenly; return the count."""
    lines = size // 140  # the lines below average about 140 bytes
    every = max(1, lines // max(stalls, 1))
    written = n_stalls = 0
    with path.open("w", encoding="ascii") as fh:
        buf: list[str] = []
        for k in range(lines):
            if k % every == every // 2 and n_stalls < stalls:
                n_stalls += 1
                line = _stamp(k, lines, "W") + STALL.format(ms=50 + k % 3000)
            else:
                line = _stamp(k, lines, "I") + OTHERS[k % len(OTHERS)].format(k=k, t=k % 1000)
            buf.append(line)
            written += len(line) + 1
            if len(buf) >= 65536:
                fh.write("\n".join(buf) + "\n")
                buf.clear()
            if written >= size:
                break
        if buf:
            fh.write("\n".join(buf) + "\n")
    return n_stalls


def generate_tail(path: Path, tail_bytes: int) -> None:
    """A short broker log with one [STALL] line that carries ``tail_bytes`` of junk after its text."""
    with path.open("w", encoding="ascii") as fh:
        for k in range(100):
            fh.write(_stamp(k, 100, "I") + OTHERS[k % len(OTHERS)].format(k=k, t=k) + "\n")
        fh.write(_stamp(50, 100, "W") + STALL.format(ms=120) + " " + "x" * tail_bytes + "\n")


def assess(src: Path, out: Path, stallscope: str) -> tuple[float, float]:
    """Run `stallscope assess-logs src -o out`; return (seconds, peak RSS in MB of that process tree's max)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([stallscope, "assess-logs", str(src), "-o", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"assess-logs failed on {src} (exit {proc.returncode}):\n{err}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=256)
    ap.add_argument("--stalls", default="1000,10000,50000,100000", help="comma-separated stall counts")
    ap.add_argument("--tail-mb", type=float, default=1.0, help="tail of the one long [STALL] line (0: skip)")
    ap.add_argument("--keep", type=Path, default=None, help="generate into this directory and keep it")
    a = ap.parse_args()
    root = a.keep or Path(tempfile.mkdtemp(prefix="bench_report."))
    stallscope = shutil.which("stallscope") or str(Path(sys.executable).with_name("stallscope"))
    host = host_facts()
    print(f"machine: nproc={host['cores']} cpu={host['cpu_model']!r} kernel={host['kernel']} "
          f"python={platform.python_version()}")
    rows = []
    for n in [int(x) for x in a.stalls.split(",") if x.strip()]:
        src = root / f"logs_{n}"
        src.mkdir(parents=True, exist_ok=True)
        got = generate(src / "broker_0.log", a.size_mb << 20, n)
        (src / "client.log").write_text(CLIENT)
        size = (src / "broker_0.log").stat().st_size
        secs, rss = assess(src, root / f"out_{n}", stallscope)
        claims = (root / f"out_{n}" / "assessment" / "claims.json").stat().st_size
        rows.append((got, secs))
        print(f"{got:>7} stalls in {size / (1 << 20):.0f} MiB: assess-logs {secs:6.2f} s, peak RSS {rss:6.0f} MB, "
              f"claims.json {claims / 1e6:.2f} MB (goal at ~50,000: <= 15 s, <= 500 MB)")
    if len(rows) >= 2:
        (n0, t0), (n1, t1) = rows[0], rows[-1]
        print(f"time ratio {t1 / t0:.2f} for {n1 / n0:.0f}x the stalls (less than linear when below {n1 / n0:.0f})")
    if a.tail_mb > 0:
        src = root / "logs_tail"
        src.mkdir(parents=True, exist_ok=True)
        generate_tail(src / "broker_0.log", int(a.tail_mb * (1 << 20)))
        (src / "client.log").write_text(CLIENT)
        secs, rss = assess(src, root / "out_tail", stallscope)
        claims = (root / "out_tail" / "assessment" / "claims.json").stat().st_size
        html = (root / "out_tail" / "assessment.html").stat().st_size
        print(f"one [STALL] line with a {a.tail_mb:g} MiB tail: assess-logs {secs:.2f} s, peak RSS {rss:.0f} MB, "
              f"claims.json {claims / 1e6:.3f} MB, assessment.html {html / 1e6:.3f} MB (goal < 30 s, < 5 MB)")
    if a.keep is None:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
