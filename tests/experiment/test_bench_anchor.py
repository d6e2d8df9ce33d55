"""The raw sink as an upper bound: each of its read modes delivers every byte, and the benchmark flags every
repeat where the broker beat it."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from stallscope.experiment.bench import _HARNESS, anchor, bench_scenario
from stallscope.experiment.commands import REFERENCE_BROKER, REFERENCE_CLIENT
from stallscope.experiment.external import execute

SEED = random.randrange(2**32)


@pytest.mark.parametrize("mode", ["trunc", "small", "whole"])
def test_every_sink_mode_receives_and_acknowledges_every_message(tmp_path: Path, bin_dir: Path, mode: str) -> None:
    rng = random.Random(f"{SEED}-{mode}")
    msg = rng.choice([64, 1024, 4000, 65536])
    total = rng.randrange(4, 24) * (1 << 20) // msg * msg
    scn = bench_scenario(total, {"brokers": 2, "threads_per_broker": rng.choice([1, 2]), "message_size": msg})
    sink = [e.replace("/refbroker", "/rawsink") for e in REFERENCE_BROKER][:7] + ["--recv-mode", mode]
    res = execute(tmp_path, scn, bin_dir, sink, list(REFERENCE_CLIENT), _HARNESS)
    assert not res.errors, (SEED, res.errors)
    logs = [(tmp_path / f"broker_{i}.log").read_text() for i in range(2)]
    got = sum(int(re.search(r"\[SinkMetrics\].* messages=(\d+)", t).group(1)) for t in logs)  # type: ignore[union-attr]
    assert got == total // msg, SEED
    assert "Bandwidth:" in (tmp_path / "client.log").read_text()


@pytest.mark.parametrize("draw", range(10))
def test_anchor_flags_each_repeat_the_broker_won_and_brackets_the_median(draw: int) -> None:
    rng = random.Random(f"{SEED}-{draw}")
    rounds = [{"broker": rng.uniform(1000, 5000), "raw_sink": rng.uniform(1000, 5000)}
              for _ in range(rng.randint(1, 7))]
    if rng.random() < 0.3:
        rounds.append({"broker": None, "raw_sink": 3000.0})  # a failed publish: no ratio, no flag
    a = anchor(rounds)  # type: ignore[arg-type]
    won = [i + 1 for i, r in enumerate(rounds) if r["broker"] and r["broker"] >= r["raw_sink"]]
    assert a["beaten_repeats"] == won, SEED
    assert a["is_upper_bound"] is (not won)
    if a["ratio_lo"] is not None:
        assert a["ratio_lo"] <= a["ratio_median"] <= a["ratio_hi"], SEED
