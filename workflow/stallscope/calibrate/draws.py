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

from stallscope.shared.vocabulary import (
    ACK_PATH,
    ACK_STALL_AFTER,
    ACK_STALL_BROKER,
    BROKER_RING,
    CLIENT_PRODUCER,
    CONSUME_DELAY_MS,
    CPU_HOG,
    FAULT_BROKER,
    FLOW_CONTROL,
    HEADER_PAUSE_COUNT,
    HEADER_PAUSE_MS,
    HOST_CPU,
    INIT_DELAY_SEC,
    INIT_LIFECYCLE,
    LINGER_SEC,
    NONE,
    PAYLOAD_PAUSE_COUNT,
    PAYLOAD_PAUSE_MS,
    PRODUCER_COST_NS,
    RECV_DELAY_US,
    RING_SLOTS,
)

MIB = 1 << 20
#: Classes that are causes of a failure (the diagnosis' vocabulary); the hog's runs complete: their cause is none.
CAUSE_CLASSES = (CLIENT_PRODUCER, FLOW_CONTROL, BROKER_RING, ACK_PATH, INIT_LIFECYCLE)
#: Every class a draw may inject; ``host_cpu`` is the CPU hog, ``none`` a fault-free publish.
CLASSES = (NONE, *CAUSE_CLASSES, HOST_CPU)


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
            knobs = {"ack_timeout_s": 1, "faults": {PRODUCER_COST_NS: rng.randrange(2500, 4001, 250)}}
        else:  # mild: 1-2 us per message, the run completes
            shape = _shape(rng, 256, 512) | {"message_size": 1024}
            knobs = {"ack_timeout_s": 60, "faults": {PRODUCER_COST_NS: rng.randrange(1000, 2001, 250)}}
        shape["total_bytes"] = shape["total_bytes"] // 1024 * 1024
        return shape | knobs
    shape = _shape(rng, 64, 128, threads=(1,))  # pauses inside headers and payloads of one connection
    return shape | {"ack_timeout_s": 30, "faults": {
        HEADER_PAUSE_MS: rng.randrange(150, 301, 50), HEADER_PAUSE_COUNT: rng.randint(2, 4),
        PAYLOAD_PAUSE_MS: rng.randrange(100, 201, 50), PAYLOAD_PAUSE_COUNT: rng.randint(1, 3),
        FAULT_BROKER: rng.randrange(shape["brokers"])}}


def _flow(rng: random.Random) -> dict[str, Any]:
    delay = {RECV_DELAY_US: rng.randrange(3000, 6001, 200)}
    if rng.random() < 0.5:  # severe: at most 4 connections of <= 64 KiB per 3 ms carry 256 MiB in over 2 s
        return _shape(rng, 256, 512, threads=(1,)) | {"ack_timeout_s": 2, "faults": delay}
    return _shape(rng, 96, 160, threads=(1, 2)) | {"ack_timeout_s": 60, "faults": delay}  # mild: completes


def _ring(rng: random.Random) -> dict[str, Any]:
    shape = _shape(rng, 64, 128, threads=(2,))
    return shape | {"ack_timeout_s": 60, "faults": {CONSUME_DELAY_MS: rng.randrange(10, 31, 5),
                                                    RING_SLOTS: rng.choice([1, 2, 3])}}


def _ack(rng: random.Random) -> dict[str, Any]:
    shape = _shape(rng, 64, 128, threads=(1,))
    return shape | {"ack_timeout_s": 3, "faults": {ACK_STALL_AFTER: rng.randrange(500, 5001, 500),
                                                   ACK_STALL_BROKER: rng.randrange(shape["brokers"])}}


def _lifecycle(rng: random.Random) -> dict[str, Any]:
    shape = _shape(rng, 16, 64)
    which = rng.choice(["init", "linger", "both"])
    faults = {}
    if which in ("init", "both"):
        faults[INIT_DELAY_SEC] = rng.choice([2, 3])
    if which in ("linger", "both"):
        faults[LINGER_SEC] = rng.choice([2, 3])
    return shape | {"ack_timeout_s": 10, "faults": faults}


def _hog(rng: random.Random) -> dict[str, Any]:
    return _shape(rng, 512, 1024) | {"ack_timeout_s": 60, "faults": {CPU_HOG: True}}


def _none(rng: random.Random) -> dict[str, Any]:
    return _shape(rng, 256, 1024) | {"ack_timeout_s": 60, "faults": {}}


_DRAW = {NONE: _none, CLIENT_PRODUCER: _producer, FLOW_CONTROL: _flow, BROKER_RING: _ring,
         ACK_PATH: _ack, INIT_LIFECYCLE: _lifecycle, HOST_CPU: _hog}


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
            "expected_cause": cls if cls in CAUSE_CLASSES else NONE,
            "expected_bound": cls, "trials": 1}
    return out


def class_of(name: str) -> str:
    """The injected class of a draw, from its name."""
    return name.split("_", 1)[1]
