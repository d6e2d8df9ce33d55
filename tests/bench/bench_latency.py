"""Measure what refpub's ACK latency recording costs: goodput of the benchmark's healthy 10 GiB publish with the
recording on and off (``refpub --ack-latency 0``), interleaved.

Plain script, not collected by pytest (run it under the heavy lock, on an otherwise idle machine):
    python tests/bench/bench_latency.py BUILD_JSON [--repeats 5] [--total-bytes 10737418240]
Prints every sample, the medians and ranges, the ratio of the medians, and whether each median lies inside the
other setting's range (the benchmark's spread): the issue asks the recording to cost less than that spread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from stallscope import schemas
from stallscope.experiment.bench import _BANDWIDTH, _HARNESS, bench_scenario
from stallscope.experiment.commands import REFERENCE_BROKER, REFERENCE_CLIENT
from stallscope.experiment.external import execute
from stallscope.shared.provenance import host_facts


def one(bin_dir: Path, scn: dict, work: Path, latency_on: bool) -> float | None:
    client = list(REFERENCE_CLIENT) + ([] if latency_on else ["--ack-latency", "0"])
    res = execute(work, scn, bin_dir, list(REFERENCE_BROKER), client, _HARNESS)
    text = (work / "client.log").read_text(errors="replace") if (work / "client.log").exists() else ""
    m = _BANDWIDTH.search(text)
    if res.errors or not m:
        print(f"run failed: {'; '.join(res.errors) or 'no Bandwidth line'}", file=sys.stderr)
        return None
    if latency_on != ("[AckLatency] broker=" in text):
        raise SystemExit(f"{work}: the client log does not match --ack-latency {int(latency_on)}")
    return float(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build_json", type=Path)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--total-bytes", type=int, default=10737418240)
    a = ap.parse_args()
    bin_dir = Path(schemas.read_json(a.build_json, "build")["bin_dir"])
    scn = bench_scenario(a.total_bytes)
    samples: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="bench_latency.") as tmp:
        for i in range(a.repeats):
            order = ("on", "off") if i % 2 == 0 else ("off", "on")  # alternate who goes first
            for name in order:
                mb_s = one(bin_dir, scn, Path(tmp) / f"{name}-{i}", name == "on")
                print(f"repeat {i + 1}/{a.repeats} recording {name}: {mb_s} MB/s", flush=True)
                if mb_s is not None:
                    samples[name].append(mb_s)
    host = host_facts()
    print(f"machine: nproc={host['cores']} cpu={host['cpu_model']!r}; {a.total_bytes / 2**30:g} GiB per run")
    if not samples["on"] or not samples["off"]:
        print("not enough successful runs")
        return 1
    med = {k: statistics.median(v) for k, v in samples.items()}
    for k, v in samples.items():
        print(f"recording {k:3s}: median {med[k]:8.1f} MB/s, range {min(v):.1f}-{max(v):.1f} ({len(v)} runs)")
    print(f"ratio on/off of the medians: {med['on'] / med['off']:.4f}")
    inside = min(samples["off"]) <= med["on"] <= max(samples["off"]) or \
        min(samples["on"]) <= med["off"] <= max(samples["on"])
    print(f"median with recording inside the spread of the other setting: {'yes' if inside else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
