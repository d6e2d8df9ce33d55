"""Seeded random scenarios for calibration: one class per draw, its knobs drawn between mild and severe.

Why: a diagnosis that states its own accuracy needs cases whose answer is known. Each draw injects one class of
fault (or the CPU hog, or nothing) into a random shape (brokers, connections, message size, total bytes), with
knobs drawn over the range where the fault still holds the run (a milder knob leaves nothing to find, and the
draw would have no ground truth). The same seed gives the same draws, so a matrix can be reproduced.

Sizes are small (at most 1 GiB, waits of a few seconds): 40 draws, each with the raw sink at its shape, take
minutes, not hours.
"""

from __future__ import annotations

import random
from typing import Any

MIB = 1 << 20
#: Every class a draw may inject; ``host_cpu`` is the CPU hog, ``none`` a fault-free publish.
CLASSES = ("none", "client_producer", "flow_control", "broker_ring", "ack_path", "init_lifecycle", "host_cpu")
#: Classes that are causes of a failure (the diagnosis' vocabulary); the hog's runs complete: their cause is none.
CAUSE_CLASSES = ("client_producer", "flow_control", "broker_ring", "ack_path", "init_lifecycle")


def _bytes(rng: random.Random, lo_mib: int, hi_mib: int, msg: int) -> int:
    """Log-uniform total bytes in [lo, hi] MiB, a whole number of messages."""
    lo, hi = lo_mib.bit_length(), hi_mib.bit_length()
    mib = min(max(int(2 ** rng.uniform(lo - 1, hi - 1)), lo_mib), hi_mib)
    return mib * MIB // msg * msg


def _shape(rng: random.Random, lo_mib: int, hi_mib: int, threads: tuple[int, ...] = (1, 2, 4)) -> dict[str, Any]:
    msg = rng.choice([256, 1024, 4096])
    return {"brokers": rng.choice([2, 3, 4]), "threads_per_broker": rng.choice(threads), "message_size": msg,
            "total_bytes": _bytes(rng, lo_mib, hi_mib, msg)}


def _producer(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:  # a slow single producer, at 1 KiB messages as in the seed's runs
        if rng.random() < 0.5:  # severe: >= 2.5 us x >= 512 Ki messages outlasts the 1 s deadline, which cuts it
            shape = _shape(rng, 512, 1024) | {"message_size": 1024}
            knobs = {"ack_timeout_s": 1, "faults": {"producer_cost_ns": rng.randrange(2500, 4001, 250)}}
        else:  # mild: 1-2 us per message, the run completes
            shape = _shape(rng, 256, 512) | {"message_size": 1024}
            knobs = {"ack_timeout_s": 60, "faults": {"producer_cost_ns": rng.randrange(1000, 2001, 250)}}
        shape["total_bytes"] = shape["total_bytes"] // 1024 * 1024
        return shape | knobs
    shape = _shape(rng, 64, 128, threads=(1,))  # pauses inside headers and payloads of one connection
    return shape | {"ack_timeout_s": 30, "faults": {
        "header_pause_ms": rng.randrange(150, 301, 50), "header_pause_count": rng.randint(2, 4),
        "payload_pause_ms": rng.randrange(100, 201, 50), "payload_pause_count": rng.randint(1, 3),
        "fault_broker": rng.randrange(shape["brokers"])}}


def _flow(rng: random.Random) -> dict[str, Any]:
    delay = {"recv_delay_us": rng.randrange(3000, 6001, 200)}
    if rng.random() < 0.5:  # severe: at most 4 connections of <= 64 KiB per 3 ms carry 256 MiB in over 2 s
        return _shape(rng, 256, 512, threads=(1,)) | {"ack_timeout_s": 2, "faults": delay}
    return _shape(rng, 96, 160, threads=(1, 2)) | {"ack_timeout_s": 60, "faults": delay}  # mild: completes


def _ring(rng: random.Random) -> dict[str, Any]:
    shape = _shape(rng, 64, 128, threads=(2,))
    return shape | {"ack_timeout_s": 60, "faults": {"consume_delay_ms": rng.randrange(10, 31, 5),
                                                    "ring_slots": rng.choice([1, 2, 3])}}


def _ack(rng: random.Random) -> dict[str, Any]:
    shape = _shape(rng, 64, 128, threads=(1,))
    return shape | {"ack_timeout_s": 3, "faults": {"ack_stall_after": rng.randrange(500, 5001, 500),
                                                   "ack_stall_broker": rng.randrange(shape["brokers"])}}


def _lifecycle(rng: random.Random) -> dict[str, Any]:
    shape = _shape(rng, 16, 64)
    which = rng.choice(["init", "linger", "both"])
    faults = {}
    if which in ("init", "both"):
        faults["init_delay_sec"] = rng.choice([2, 3])
    if which in ("linger", "both"):
        faults["linger_sec"] = rng.choice([2, 3])
    return shape | {"ack_timeout_s": 10, "faults": faults}


def _hog(rng: random.Random) -> dict[str, Any]:
    return _shape(rng, 512, 1024) | {"ack_timeout_s": 60, "faults": {"cpu_hog": True}}


def _none(rng: random.Random) -> dict[str, Any]:
    return _shape(rng, 256, 1024) | {"ack_timeout_s": 60, "faults": {}}


_DRAW = {"none": _none, "client_producer": _producer, "flow_control": _flow, "broker_ring": _ring,
         "ack_path": _ack, "init_lifecycle": _lifecycle, "host_cpu": _hog}


def draw_scenarios(seed: int, draws: int) -> dict[str, dict[str, Any]]:
    """``draws`` scenarios (config form, one trial each) from ``seed``: classes in a shuffled round-robin, so every
    class comes up as evenly as the count allows; ``expected_bound`` is the injected class."""
    rng = random.Random(seed)
    order: list[str] = []
    while len(order) < draws:
        block = list(CLASSES)
        rng.shuffle(block)
        order += block
    out = {}
    for i, cls in enumerate(order[:draws]):
        scn = _DRAW[cls](rng)
        scn["faults"] = {k: v for k, v in scn["faults"].items() if v is not None and v is not False}
        out[f"d{i + 1:03d}_{cls}"] = scn | {
            "description": f"calibration draw {i + 1} of seed {seed}: {cls}",
            "expected_cause": cls if cls in CAUSE_CLASSES else "none",
            "expected_bound": cls, "trials": 1}
    return out


def class_of(name: str) -> str:
    """The injected class of a draw, from its name."""
    return name.split("_", 1)[1]
