"""Benchmark the broker's publish path: goodput against a raw loopback sink, and the stall timers' cost.

One invocation runs a healthy scenario (``bench.total_bytes`` of 1 KiB messages, 4 brokers x 4 threads)
against three receivers, interleaved so that drift in the machine hits all three alike: the broker, the same broker with
its stall timers compiled out, and ``rawsink`` (the same handshake, batches and ACKs, no ring, no timers).
It reports what it measured with the machine it ran on; it asserts nothing about speed.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment.commands import REFERENCE_BROKER, REFERENCE_CLIENT
from stallscope.experiment.config import resolve_scenario, validate_config
from stallscope.experiment.run import execute
from stallscope.shared.provenance import host_facts, utc_now

RECEIVERS = {"broker": "refbroker", "broker_notimers": "refbroker-notimers", "raw_sink": "rawsink"}
_BANDWIDTH = re.compile(r"\] Bandwidth: ([0-9.]+) MB/s")
#: what the benchmark sets itself; every other parameter and harness setting is the config schema's default
_SCENARIO = {"brokers": 4, "threads_per_broker": 4, "message_size": 1024, "ack_timeout_s": 300, "trials": 1,
             "expected_cause": "none"}
_HARNESS = schemas.config_defaults("run") | {"client_grace_s": 60}


def bench_scenario(total_bytes: int) -> dict[str, Any]:
    """The healthy scenario the benchmark publishes, resolved as a configured scenario would be."""
    cfg = validate_config({"sut": {"kind": "reference", "source": "."}, "run": dict(_HARNESS),
                           "scenarios": {"bench": _SCENARIO | {"total_bytes": total_bytes}}}, "<bench>")
    return resolve_scenario(cfg, "bench")


def _one(bin_dir: Path, binary: str, scn: dict[str, Any], work: Path) -> float | None:
    """Publish once against ``binary``; the publisher's delivered MB/s (ACKs included), or None."""
    broker_t = [e.replace("/refbroker", f"/{binary}") for e in REFERENCE_BROKER]
    if binary == "rawsink":  # the sink takes only --id, --port and --ready-file
        broker_t = broker_t[:7]
    res = execute(work, scn, bin_dir, broker_t, list(REFERENCE_CLIENT), _HARNESS)
    if res.is_interrupted:
        raise KeyboardInterrupt
    log = work / "client.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    m = _BANDWIDTH.search(text)
    if res.errors or not m or res.client is None or res.client.popen is None or res.client.popen.returncode:
        print(f"{binary}: run failed ({'; '.join(res.errors) or 'no Bandwidth line'})", file=sys.stderr)
        return None
    return float(m.group(1))


def bench_broker(build_json: Path, out: Path, repeats: int = 3, total_bytes: int = 10737418240) -> Path:
    """Run the benchmark and write ``out`` (JSON): per receiver every goodput, the medians and the ratios."""
    build = schemas.read_json(build_json, "build")
    bin_dir = Path(build["bin_dir"])
    for binary in RECEIVERS.values():
        if not (bin_dir / binary).exists():
            raise StallscopeError(bin_dir / binary, None, "benchmark needs this binary (reference build)")
    scn = bench_scenario(total_bytes)
    samples: dict[str, list[float]] = {k: [] for k in RECEIVERS}
    with tempfile.TemporaryDirectory(prefix="stallscope-bench-") as tmp:
        for i in range(repeats):
            for name, binary in RECEIVERS.items():
                mb_s = _one(bin_dir, binary, scn, Path(tmp) / f"{name}-{i}")
                print(f"repeat {i + 1}/{repeats} {name}: {mb_s} MB/s", file=sys.stderr, flush=True)
                if mb_s is not None:
                    samples[name].append(mb_s)
    med = {k: statistics.median(v) if v else None for k, v in samples.items()}

    def ratio(a: str, b: str) -> float | None:
        return round(med[a] / med[b], 4) if med[a] and med[b] else None

    result = {
        "schema": "bench/1",
        "scenario": scn["params"],
        "sut": build["sut"]["id"],
        "machine": host_facts(),
        "measured_utc": utc_now(),
        "metric": "delivered MB/s (MB = 2^20) from publish start to the last ACK, as the publisher logs it",
        "samples_mb_s": samples,
        "median_mb_s": med,
        "ratio_broker_vs_raw_sink": ratio("broker", "raw_sink"),
        "ratio_timers_on_vs_off": ratio("broker", "broker_notimers"),
    }
    schemas.write_json(out, "bench", result)
    print(json.dumps({k: result[k] for k in ("median_mb_s", "ratio_broker_vs_raw_sink", "ratio_timers_on_vs_off")}),
          file=sys.stderr)
    return Path(out)
