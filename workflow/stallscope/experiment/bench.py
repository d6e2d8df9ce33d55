"""Benchmark the broker's publish path: goodput against a raw loopback sink, and the stall timers' cost.

One invocation runs a healthy scenario (``bench.total_bytes`` of 1 KiB messages, 4 brokers x 4 threads)
against three receivers, interleaved so that drift in the machine hits all three alike: the broker, the same broker with
its stall timers compiled out, and ``rawsink`` (the same handshake, batches and ACKs, no ring, no timers).
It reports what it measured with the machine it ran on; it asserts nothing about speed.

Given the config, it also measures the raw sink alone at the shape of every configured scenario (brokers,
connections per broker, message and batch size, total bytes): a run's share of the sink (its bound "none") is
then read against a sink that set up as many connections and published as much, not only against the benchmark's
own size, where connection setup weighs less and the share of a small run would read low.
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
from stallscope.experiment.external import execute
from stallscope.shared.provenance import host_facts, utc_now
from stallscope.shared.sequential import BASELINE, CANDIDATE, MIN_CHANGE, extend
from stallscope.shared.trialstats import median_ci
from stallscope.shared.vocabulary import NONE

RECEIVERS = {"broker": "refbroker", "broker_notimers": "refbroker-notimers", "raw_sink": "rawsink"}
_BANDWIDTH = re.compile(r"\] Bandwidth: ([0-9.]+) MB/s")
#: what the benchmark sets itself; every other parameter and harness setting is the config schema's default
_SCENARIO = {"brokers": 4, "threads_per_broker": 4, "message_size": 1024, "ack_timeout_s": 300, "trials": 1,
             "expected_cause": NONE}
_HARNESS = schemas.config_defaults("run") | {"client_grace_s": 60}
#: the parameters that shape a raw-sink publish; a sink measured with the same ones is like for like
SINK_SHAPE = ("brokers", "threads_per_broker", "message_size", "batch_bytes", "total_bytes")


def bench_scenario(total_bytes: int, shape: dict[str, int] | None = None) -> dict[str, Any]:
    """The healthy scenario the benchmark publishes (of ``shape`` when given), resolved as a configured scenario
    would be."""
    cfg = validate_config({"sut": {"kind": "reference", "source": "."}, "run": dict(_HARNESS),
                           "scenarios": {"bench": _SCENARIO | {"total_bytes": total_bytes} | dict(shape or {})}},
                          "<bench>")
    return resolve_scenario(cfg, "bench")


def sink_shapes(cfg: dict[str, Any]) -> list[dict[str, int]]:
    """Every distinct shape of a (validated) config's scenarios, smallest publish first."""
    shapes: dict[tuple[int, ...], dict[str, int]] = {}
    for name in cfg["scenarios"]:
        params = resolve_scenario(cfg, name)["params"]
        key = tuple(int(params[k]) for k in SINK_SHAPE)
        shapes.setdefault(key, dict(zip(SINK_SHAPE, key, strict=True)))
    return sorted(shapes.values(), key=lambda s: tuple(s[k] for k in ("total_bytes", *SINK_SHAPE)))


def _sink_at(bin_dir: Path, shapes: list[dict[str, int]], repeats: int, tmp: Path) -> list[dict[str, Any]]:
    """The raw sink's goodput at each shape, ``repeats`` rounds over all shapes (drift hits every shape alike)."""
    samples: list[list[float]] = [[] for _ in shapes]
    for i in range(repeats):
        for k, shape in enumerate(shapes):
            scn = bench_scenario(shape["total_bytes"], shape)
            mb_s = _one(bin_dir, "rawsink", scn, tmp / f"sink-{k}-{i}")
            print(f"sink round {i + 1}/{repeats} {shape}: {mb_s} MB/s", file=sys.stderr, flush=True)
            if mb_s is not None:
                samples[k].append(mb_s)
    return [{"shape": shape, "samples_mb_s": got, "median_mb_s": statistics.median(got) if got else None}
            for shape, got in zip(shapes, samples, strict=True)]


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


def anchor(rounds: list[dict[str, float | None]]) -> dict[str, Any]:
    """Whether the raw sink bounded the broker from above: the broker/sink ratio of each interleaved repeat, the
    repeats where the broker beat the sink (flagged), and the median ratio with its 95 % interval (bootstrap)."""
    per = []
    for i, r in enumerate(rounds):
        b, s = r.get("broker"), r.get("raw_sink")
        ratio = round(b / s, 4) if b and s else None
        per.append({"repeat": i + 1, "broker_mb_s": b, "raw_sink_mb_s": s, "ratio": ratio,
                    "broker_beats_sink": None if ratio is None else ratio >= 1.0})
    ci = median_ci([p["ratio"] for p in per])
    beaten = [p["repeat"] for p in per if p["broker_beats_sink"]]
    return {"per_repeat": per, "ratio_median": ci["median"], "ratio_lo": ci["lo"], "ratio_hi": ci["hi"],
            "beaten_repeats": beaten, "is_upper_bound": None if ci["median"] is None else not beaten}


def bench_broker(build_json: Path, out: Path, repeats: int = 3, total_bytes: int = 10737418240,
                 shapes: list[dict[str, int]] | None = None, sink_repeats: int = 3,
                 max_repeats: int | None = None, min_change: float = MIN_CHANGE) -> Path:
    """Run the benchmark and write ``out`` (JSON): per receiver every goodput, the medians and the ratios, and
    the raw sink at each of ``shapes``.

    With ``max_repeats`` above ``repeats``, the timers-on/off pair is repeated (interleaved, ``shared.sequential``)
    until the interval of their ratio of medians excludes 1 ± ``min_change`` or each has ``max_repeats`` samples:
    the overhead claim then rests on trials that can decide it (``timers_extension`` says how it stopped)."""
    build = schemas.read_json(build_json, "build")
    bin_dir = Path(build["bin_dir"])
    for binary in RECEIVERS.values():
        if not (bin_dir / binary).exists():
            raise StallscopeError(bin_dir / binary, None, "benchmark needs this binary (reference build)")
    scn = bench_scenario(total_bytes)
    samples: dict[str, list[float]] = {k: [] for k in RECEIVERS}
    rounds: list[dict[str, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="stallscope-bench-") as tmp:
        for i in range(repeats):
            rounds.append({})
            for name, binary in RECEIVERS.items():
                mb_s = _one(bin_dir, binary, scn, Path(tmp) / f"{name}-{i}")
                print(f"repeat {i + 1}/{repeats} {name}: {mb_s} MB/s", file=sys.stderr, flush=True)
                rounds[-1][name] = mb_s
                if mb_s is not None:
                    samples[name].append(mb_s)
        ext = None
        if max_repeats and max_repeats > repeats and samples["broker"] and samples["broker_notimers"]:
            side_bin = {BASELINE: ("broker_notimers", RECEIVERS["broker_notimers"]),
                        CANDIDATE: ("broker", RECEIVERS["broker"])}

            def draw(side: str, k: int) -> tuple[float | None, str]:
                name, binary = side_bin[side]
                mb_s = _one(bin_dir, binary, scn, Path(tmp) / f"{name}-x{k}")
                print(f"extra repeat {k} {name}: {mb_s} MB/s", file=sys.stderr, flush=True)
                return mb_s, f"{name}#{k}"

            ext = extend("delivered_mb_s", samples["broker_notimers"], samples["broker"], draw, min_change,
                         max_repeats)
            samples["broker_notimers"], samples["broker"] = ext.baseline, ext.candidate
        sink_at = _sink_at(bin_dir, list(shapes or []), sink_repeats, Path(tmp))
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
        "raw_sink_at": sink_at,
        "anchor": anchor(rounds),
    } | ({"timers_extension": ext.to_dict()} if ext is not None else {})
    schemas.write_json(out, "bench", result)
    print(json.dumps({k: result[k] for k in ("median_mb_s", "ratio_broker_vs_raw_sink", "ratio_timers_on_vs_off")}),
          file=sys.stderr)
    return Path(out)
