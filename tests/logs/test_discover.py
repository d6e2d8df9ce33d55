"""Run discovery on the layouts without a public example (generated from their descriptions, parameters drawn at
random), on CR-only and gzipped logs, and on random layouts of the real fixtures' files."""

from __future__ import annotations

import gzip
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stallscope.analysis.metrics import compute_metrics
from stallscope.errors import StallscopeError
from stallscope.logs.discover import classify, discover
from stallscope.logs.ingest import ingest
from stallscope.logs.parse import parse_run
from stallscope.pipeline import assess_logs, assess_with_diagnosis

try:
    from tests.builders.harness import write_failure_shortfall, write_kv_killed, write_paced
except ImportError:  # tests/ has no __init__.py: pytest puts tests/ itself on sys.path
    from builders.harness import (  # type: ignore[no-redef]
        write_failure_shortfall,
        write_kv_killed,
        write_paced,
    )

HARNESS = next((p / "shared" / "fixtures" / "embarcadero-harness" for p in Path(__file__).resolve().parents[1:5]
                if (p / "shared" / "fixtures" / "embarcadero-harness").is_dir()), Path("/nonexistent"))


def _load(out: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    claims = json.loads((out / "assessment" / "claims.json").read_text())
    metrics = {r["run_id"].split("/", 1)[1]: json.loads((out / r["dir"] / "metrics.json").read_text())
               for r in claims["runs"]}
    return claims, metrics


def test_classify_names_by_the_table() -> None:
    cases = {"trial3_attempt2_broker1.log.gz": ("broker", 3, 2, 1, None),
             "trial2_c4.log": ("client", 2, None, None, "c4"), "trial1_s2.log": ("client", 1, None, None, "s2"),
             "client_failure_trial4.log": ("client", 4, None, None, "failure"),
             "broker_7.log": ("broker", None, None, 7, None), "trial1_local_timeseries.csv": ("timeseries", 1, None,
                                                                                               None, "local"),
             "failure_events_trial2.csv": ("side", 2, None, None, None), "notes.log": ("log", None, None, None, None)}
    for name, want in cases.items():
        f = classify(Path(name))
        assert f is not None and (f.role, f.trial, f.attempt, f.broker, f.host) == want, name
    assert classify(Path("overlap_summary.csv")) is None


@pytest.mark.parametrize("seed", [random.randrange(1 << 30) for _ in range(3)])
def test_paced_folder_with_gzipped_brokers_reads_every_trial_and_names_the_pace(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    truth = write_paced(tmp_path / "in", rng, gz_brokers=True)
    assess_logs(tmp_path / "in", tmp_path / "out")
    claims, metrics = _load(tmp_path / "out")
    assert sorted(metrics) == [f"t{k}a1" for k in range(1, truth.trials + 1)], seed
    for r in claims["runs"]:
        tag = r["run_id"].split("/", 1)[1]
        m, k = metrics[tag], int(tag[1:].split("a")[0])
        man = json.loads((tmp_path / "out" / r["dir"] / "manifest.json").read_text())
        # the gzipped broker logs are read unpacked, and the manifest says so
        assert len(man["files"]["broker_logs"]) == truth.brokers
        assert sum("gzipped" in n for n in man["notes"]) == truth.brokers
        assert all(m["lines"][f"broker_{b}.log"]["event"] >= 2 for b in range(truth.brokers))
        per = {c["host"] if len(truth.hosts) > 1 else truth.hosts[0]: c["throughput"] for c in m["clients"]}
        assert {h: (t["delivered_mb_s"], t["send_done_mb_s"]) for h, t in per.items()} == {
            h: (truth.delivered[(k, h)], truth.send_done[(k, h)]) for h in truth.hosts}
        assert m["throughput"]["pacing_target_mb_s"] == truth.target_mbps * len(truth.hosts)
        assert m["throughput"]["pacing_gap_s"] == truth.gap_s
        assert r["outcome"] == "completed" and m["acks"]["received"] == truth.messages * len(truth.hosts)
        assert r["bound"]["cause"] == "paced", (seed, r["bound"])


@pytest.mark.parametrize("seed", [random.randrange(1 << 30) for _ in range(2)])
def test_kv_trial_with_the_head_broker_killed_is_killed_and_names_the_broker(tmp_path: Path, seed: int) -> None:
    truth = write_kv_killed(tmp_path / "in", random.Random(seed))
    assess_logs(tmp_path / "in", tmp_path / "out")
    claims, metrics = _load(tmp_path / "out")
    assert len(claims["runs"]) == 1
    r, d = claims["runs"][0], claims["diagnosis"][0]
    m = metrics[r["run_id"].split("/", 1)[1]]
    assert r["trial"] == truth.trial and r["outcome"] == "killed"
    o = m["outcome"]
    assert o["killed_brokers"] == [truth.killed_broker] and o["signal"] == "SIGTERM"
    assert o["exit_codes"] == {s: truth.exit_code for s in truth.sessions}
    assert {c["file"] for c in o["cites"]} >= {"driver.log"}
    assert r["bound"]["cause"] == "broker_failure" and r["bound"]["brokers"] == [truth.killed_broker]
    assert d["bottleneck"] == "broker_failure"


@pytest.mark.parametrize("seed", [random.randrange(1 << 30) for _ in range(2)])
def test_failure_test_with_an_allowed_shortfall_names_the_broker_and_the_loss(tmp_path: Path, seed: int) -> None:
    truth = write_failure_shortfall(tmp_path / "in", random.Random(seed))
    assess_logs(tmp_path / "in", tmp_path / "out")
    claims, metrics = _load(tmp_path / "out")
    assert sorted(metrics) == [f"t{k}" for k in range(1, truth.trials + 1)]
    for r in claims["runs"]:
        k = int(r["run_id"].rsplit("/t", 1)[1])
        o = metrics[f"t{k}"]["outcome"]
        assert r["outcome"] == "completed_shortfall", (seed, o)
        assert o["killed_brokers"] == [truth.killed[k]] and o["messages_lost"] == truth.lost[k]
        assert metrics[f"t{k}"]["acks"]["unacked"] == truth.lost[k]
        assert r["bound"]["cause"] == "broker_failure" and r["bound"]["brokers"] == [truth.killed[k]]


def test_cr_only_log_reads_like_its_lf_original(tmp_path: Path) -> None:
    src = HARNESS / "o5_b0_ack_stall" / "throughput_run.log"
    if not src.is_file():
        pytest.skip("harness fixtures absent")
    (tmp_path / "lf").mkdir()
    (tmp_path / "cr").mkdir()
    shutil.copy(src, tmp_path / "lf" / "run.log")
    (tmp_path / "cr" / "run.log").write_bytes(src.read_bytes().replace(b"\n", b"\r"))
    for name in ("lf", "cr"):
        assess_logs(tmp_path / name, tmp_path / f"out_{name}")
    (lf, mlf), (cr, mcr) = _load(tmp_path / "out_lf"), _load(tmp_path / "out_cr")
    assert cr["runs"][0]["outcome"] == lf["runs"][0]["outcome"] == "ack_timeout"
    assert mcr["t1"]["acks"] == mlf["t1"]["acks"]
    assert any("CR only" in n for n in cr["runs"][0]["input_findings"])


def test_unreadable_cr_log_gets_no_confident_answer(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    rng = random.Random()
    noise = bytes(rng.choice(b"abcdefghij \t:=") for _ in range(20000))
    (tmp_path / "in" / "x.log").write_bytes(noise.replace(b" ", b"\r", 50))
    assess_logs(tmp_path / "in", tmp_path / "out")
    claims, _ = _load(tmp_path / "out")
    r, d = claims["runs"][0], claims["diagnosis"][0]
    assert r["outcome"] == "unknown" and r["bound"]["confidence"] == "low" and d["confidence"] == "low"


def test_nested_unknown_and_refused_files_are_listed_with_why(tmp_path: Path) -> None:
    write_paced(tmp_path / "in" / "deep" / "er", random.Random(), gz_brokers=False)
    (tmp_path / "in" / "README.txt").write_text("notes\n")
    (tmp_path / "in" / "deep" / "plot.png").write_bytes(b"\x89PNG")
    (tmp_path / "in" / "link.log").symlink_to("/etc/hostname")
    plan = discover(tmp_path / "in")
    why = {n["file"]: n["why"] for n in plan.not_understood}
    assert "no rule" in why["deep/plot.png"] and why["link.log"].startswith("refused: a symlink leaving")
    assert "README.txt" in why  # a text file beside client logs: not a run's log
    assert plan.runs and all(r.clients for r in plan.runs)


# ---------------------------------------------------------------- random layouts of the real fixtures' files

def _files() -> list[Path]:
    return sorted(p for p in HARNESS.rglob("*") if p.is_file() and p.name != "README.md") if HARNESS.is_dir() else []


_EDITS = st.sampled_from(["keep", "rename", "nest", "gzip", "truncate", "cr"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, 10_000), _EDITS, st.floats(0.0, 1.0)), min_size=1, max_size=6),
       seed=st.integers(0, 1 << 30))
def test_random_layouts_never_trace_back_nor_answer_unknown_runs_with_confidence(
        tmp_path_factory: pytest.TempPathFactory, picks: list[tuple[int, str, float]], seed: int) -> None:
    files = _files()
    if not files:
        pytest.skip("harness fixtures absent")
    rng = random.Random(seed)
    base = tmp_path_factory.mktemp("layout")
    src = base / "in"
    src.mkdir()
    for i, (pick, edit, frac) in enumerate(picks):
        f = files[pick % len(files)]
        data = f.read_bytes()
        name = f.name
        where = src
        if edit == "rename":
            name = rng.choice([f"trial{rng.randint(1, 4)}_{f.stem}.log", f"x{i}_{name}", f"client_{i}.log",
                               f"trial1_attempt{rng.randint(1, 2)}_broker{i}.log", f"{i}{f.suffix}"])
        elif edit == "nest":
            where = src / rng.choice(["a", "a/b", "logs/n4"])
        elif edit == "gzip":
            data, name = gzip.compress(data), name + ".gz"
        elif edit == "truncate":
            data = data[: int(len(data) * frac)]
        elif edit == "cr":
            data = data.replace(b"\n", b"\r")
        where.mkdir(parents=True, exist_ok=True)
        if not (where / name).exists():
            (where / name).write_bytes(data)
    try:
        runs = ingest(src, base / "runs")
    except StallscopeError:
        event("refused with one clear line")
        return  # one clear line (no logs here, two driver logs): allowed, a traceback is not
    for run in runs:
        parse_run(run)
        compute_metrics(run)
    claims = json.loads(assess_with_diagnosis(runs, base / "claims.json", extras={}).read_text())
    event(f"assessed; an unknown outcome: {any(r['outcome'] == 'unknown' for r in claims['runs'])}")
    for r, d in zip(claims["runs"], claims["diagnosis"], strict=True):
        if r["outcome"] == "unknown":  # no line says how it ended (nothing readable gives this too)
            assert r["bound"]["confidence"] == "low", r["bound"]
            assert d["confidence"] == "low", d
