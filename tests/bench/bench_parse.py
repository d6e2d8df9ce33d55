"""Benchmark `stallscope parse` on a generated broker log (1 line in 50 a [STALL]) against `grep -c '\\[STALL\\]'`.

Plain script, not collected by pytest: python tests/bench/bench_parse.py [--size-mb 1024] [--repeat 5] [--keep DIR]
Runs grep and parse alternately, --repeat times each, on a warm page cache; prints the median MB/s of both (with
the range), the ratio of the medians, peak RSS of the parse subprocesses, the parse engine and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stallscope.shared.provenance import host_facts

P = "I20260202 13:20:{s:02d}.{us:06d} 1161{t:03d} network_manager.cc:"
W = "W" + P[1:]
OTHERS = [
    P + "941] [PERF] Batch {k}: GetCXLBuffer=3us, Prep=1us, Recv=812us",
    P + "1053] NetworkManager: batch_complete=1 batch_seq={k} "
    "num_msg=1927 total_size=2096576 client_id=115999 (total_complete={k})",
    P + "1801] [AckThread B0]: Replication set (factor=0, num_brokers=4):",
    P + "76] SetAcceptedSocketBuffers fd={t} SO_RCVBUF=33554432 SO_SNDBUF=33554432",
    P + "1046] NetworkManager: batch_complete stores={k} last_batch_seq={k} client_id=115999",
]
STALL = W + "782] [STALL] recv batch header blocked {ms}ms client_id=115999 bytes_read=128"


def generate(path: Path, size: int) -> int:
    """Write about ``size`` bytes of broker log: a 1 MiB block of distinct lines repeated; return stall count."""
    block, k = [], 0
    while sum(map(len, block)) < (1 << 20):
        k += 1
        fmt = STALL if k % 50 == 0 else OTHERS[k % len(OTHERS)]
        block.append((fmt.format(s=k % 60, us=k % 1_000_000, t=k % 1000, k=k, ms=50 + k % 300) + "\n").encode())
    data = b"".join(block)
    reps = max(1, size // len(data))
    with path.open("wb") as fh:
        for _ in range(reps):
            fh.write(data)
    return reps * sum(1 for b in block if b"[STALL]" in b)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - t0, out.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each command (median reported)")
    ap.add_argument("--keep", type=Path, default=None, help="generate into this directory and keep it")
    a = ap.parse_args()
    root = a.keep or Path(tempfile.mkdtemp(prefix="bench_parse."))
    run = root / "run"
    run.mkdir(parents=True, exist_ok=True)
    log = run / "broker_0.log"
    stalls = generate(log, a.size_mb << 20)
    size = log.stat().st_size
    stallscope = shutil.which("stallscope") or str(Path(sys.executable).with_name("stallscope"))
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache for both
    env = dict(os.environ, LC_ALL="C")
    greps, parses = [], []
    for _ in range(a.repeat):  # alternate, so that a noisy moment hits both
        t, grep_out = timed(["grep", "-c", r"\[STALL\]", str(log)], env)
        greps.append(t)
        parses.append(timed([stallscope, "parse", str(run)])[0])
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    events = sum(1 for _ in (run / "events.csv").open()) - 1
    engine = subprocess.run([sys.executable, "-c", "from stallscope.logs.glog import available_engines as a; "
                             "print(a()[0])"], check=True, capture_output=True, text=True).stdout.strip()
    mb = size / 1e6
    host = host_facts()
    print(f"machine: nproc={host['cores']} cpu={host['cpu_model']!r} kernel={host['kernel']} "
          f"python={platform.python_version()}")
    print(f"file: {size / (1 << 20):.0f} MiB, {stalls} [STALL] lines; grep counted {grep_out}, "
          f"parse wrote {events} events; parse engine: {engine}; {a.repeat} runs each")
    for name, ts in (("grep -c", greps), ("parse", parses)):
        med = statistics.median(ts)
        print(f"{name:8s}: median {med:6.2f} s  {mb / med:8.1f} MB/s  (range {mb / max(ts):.1f}-{mb / min(ts):.1f})")
    print(f"parse peak RSS {rss_mb:.0f} MB (max over the parse runs and their children; goal < 500 MB)")
    print(f"ratio parse/grep speed (medians): {statistics.median(greps) / statistics.median(parses):.3f} "
          "(goal >= 0.5)")
    if a.keep is None:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
