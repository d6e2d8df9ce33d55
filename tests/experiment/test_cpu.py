"""The CPU sampler and the CPU hog: what a run's CPU evidence rests on."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from stallscope.experiment import cpu, faultlog, hog


def _cpu_by_role(path: Path) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["tid"] == "0":
                out.setdefault(row["role"], []).append(int(row["cpu_ns"]))
    return out


def test_sampler_tells_a_spinning_process_from_a_sleeping_one(tmp_path: Path) -> None:
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    sleep = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        s = cpu.CpuSampler(tmp_path / "cpu.csv", interval_s=0.05).start()
        s.watch("spin", spin.pid)
        s.watch("sleep", sleep.pid)
        s.watch("nothing", None)
        deadline = time.monotonic() + 20  # on a loaded machine the spinner gets a sliver of a core: wait for it
        while time.monotonic() < deadline and (cpu.process_cpu_ns(spin.pid) or 0) < 300_000_000:
            time.sleep(0.05)
        time.sleep(0.2)
        totals = s.stop()
    finally:
        for p in (spin, sleep):
            p.kill()
            p.wait(timeout=5)
    got = _cpu_by_role(tmp_path / "cpu.csv")
    spun = got["spin"][-1] - got["spin"][0]
    slept = got["sleep"][-1] - got["sleep"][0]
    assert spun > 10 * max(slept, 10_000_000)  # ticks are 10 ms: the sleeper's share is within one tick
    assert totals["samples"] >= 3 and totals["cores"] == os.cpu_count()
    assert 0 <= totals["host_busy_share"] <= 1 and set(totals["cpu_s"]) == {"spin", "sleep"}
    host = [r for r in csv.DictReader(open(tmp_path / "cpu.csv")) if r["role"] == cpu.HOST]
    assert len(host) == totals["samples"] and all(int(r["tid"]) == os.cpu_count() for r in host)
    threads = [r for r in csv.DictReader(open(tmp_path / "cpu.csv")) if r["role"] == "spin" and r["tid"] != "0"]
    assert threads and all(r["thread"] and int(r["wait_ns"]) >= 0 for r in threads)


def test_sampler_timestamps_follow_the_logs_clock() -> None:
    """Samples are aligned with glog lines, whose local wall time is read as UTC."""
    line = faultlog.glog_line("x", "hog.py").decode()
    from stallscope.logs.glog import ts_us

    logged = ts_us(line[1:9], line[10:25])
    assert logged is not None and abs(cpu.wall_us() - logged) < 2_000_000


def test_hog_spins_one_process_per_core_and_leaves_none(tmp_path: Path) -> None:
    log = tmp_path / "client.log"
    log.write_bytes(b"")
    h = hog.CpuHog(log).start()
    pids = h.pids
    assert len(pids) == (os.cpu_count() or 1)
    time.sleep(0.3)
    assert all(cpu.process_cpu_ns(p) for p in pids)  # they spin
    h.stop()
    assert all(cpu.process_cpu_ns(p) is None for p in pids)  # reaped: gone from /proc
    lines = log.read_text().splitlines()
    assert [ln.split("] ", 1)[1].split()[:3] for ln in lines] == [
        ["[FaultWindow]", "start", "name=cpu_hog"], ["[FaultWindow]", "stop", "name=cpu_hog"]]
