"""The benchmark repeats the timers-on/off pair, interleaved, until their ratio decides (or the cap)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.experiment import bench


@pytest.fixture
def fake_bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for binary in bench.RECEIVERS.values():
        (tmp_path / binary).write_text("")
    real_read = schemas.read_json

    def read_json(path, kind):
        if kind == "build":
            return {"bin_dir": str(tmp_path), "sut": {"id": "0123456789ab"}}
        return real_read(path, kind)

    monkeypatch.setattr(bench.schemas, "read_json", read_json)
    monkeypatch.setattr(bench, "_sink_at", lambda *a: [])
    calls: list[str] = []

    def use(means: dict[str, float], sd: float, seed: int) -> list[str]:
        rng = random.Random(seed)

        def one(bin_dir, binary, scn, work):
            calls.append(binary)
            name = next(k for k, v in bench.RECEIVERS.items() if v == binary)
            return round(rng.gauss(means[name], sd), 2)
        monkeypatch.setattr(bench, "_one", one)
        return calls
    return use


@pytest.mark.parametrize("seed", [1, 2])
def test_timers_pair_is_repeated_until_decided(fake_bench, tmp_path: Path, seed: int) -> None:
    calls = fake_bench({"broker": 4000.0, "broker_notimers": 4010.0, "raw_sink": 4800.0}, 15.0, seed)
    out = bench.bench_broker(Path("build.json"), tmp_path / "bench.json", repeats=3, total_bytes=2**30,
                             max_repeats=10)
    got = schemas.read_json(out, "bench")
    ext = got["timers_extension"]
    assert ext["stopped"] == "decided" and ext["decision"] == "no change" and ext["rounds"] >= 1
    n = 3 + ext["rounds"]
    assert len(got["samples_mb_s"]["broker"]) == len(got["samples_mb_s"]["broker_notimers"]) == n
    assert len(got["samples_mb_s"]["raw_sink"]) == 3
    assert calls[9:11] == ["refbroker-notimers", "refbroker"]  # interleaved after the 3 rounds of 3


def test_no_extension_unless_asked(fake_bench, tmp_path: Path) -> None:
    fake_bench({"broker": 4000.0, "broker_notimers": 4010.0, "raw_sink": 4800.0}, 400.0, 3)
    got = schemas.read_json(bench.bench_broker(Path("b.json"), tmp_path / "b.json", repeats=3, total_bytes=2**30),
                            "bench")
    assert "timers_extension" not in got and len(got["samples_mb_s"]["broker"]) == 3
    capped = schemas.read_json(bench.bench_broker(Path("b.json"), tmp_path / "c.json", repeats=3,
                                                  total_bytes=2**30, max_repeats=5), "bench")
    assert capped["timers_extension"]["stopped"] == "cap" and len(capped["samples_mb_s"]["broker"]) == 5
