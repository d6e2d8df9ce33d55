"""A multi-client driver's log: one run per attempt, trial results as the driver printed them, retries noted."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.cli import main
from stallscope.errors import StallscopeError
from stallscope.logs.driver import read_driver_log
from stallscope.logs.ingest import ingest, run_tags
from stallscope.logs.parse import parse_run
from stallscope.pipeline import assess_with_diagnosis
from tests.builders.logs import glog

DRIVER = "2026-07-28_order0_ack1_n4_driver"


def _driver_results(text: str) -> dict[int, dict[str, Any]]:
    """The driver's own ``--- Trial k Results ---`` blocks, read here without the code under test."""
    out: dict[int, dict[str, Any]] = {}
    trial = None
    for line in text.splitlines():
        if m := re.match(r"--- Trial (\d+) Results ---", line):
            trial = int(m.group(1))
            out[trial] = {"clients": {}, "total": None, "senddone": None}
        elif trial is not None and (m := re.match(r"\s+(\S+)\s+→\s+([\d.]+) MB/s\s+\(Send-done ([\d.]+)", line)):
            out[trial]["clients"][m.group(1)] = (float(m.group(2)), float(m.group(3)))
        elif trial is not None and (m := re.match(r"\s+TOTAL\s+→\s+([\d.]+)", line)):
            out[trial]["total"] = float(m.group(1))
        elif trial is not None and (m := re.match(r"\s+SENDDONE\s+→\s+([\d.]+)", line)):
            out[trial]["senddone"] = float(m.group(1))
            trial = None
    return out


def _analyse(runs: list[Path]) -> dict[str, dict[str, Any]]:
    out = {}
    for r in runs:
        parse_run(r)
        out[r.name] = schemas.read_json(compute_metrics(r), "metrics")
    return out


def test_driver_fixture_one_run_per_attempt_results_match_the_driver(tmp_path: Path, embarcadero: Path) -> None:
    src = embarcadero / DRIVER
    driver_log = next(src.glob("*.log"))
    expected = _driver_results(driver_log.read_text(encoding="utf-8"))
    assert sorted(expected) == [1, 2, 3]
    runs = ingest(src, tmp_path / "runs")
    assert [r.name for r in runs] == ["t1a1", "t2a1", "t3a1"]
    metrics = _analyse(runs)
    for r in runs:
        man = schemas.read_json(r / "manifest.json", "manifest")
        trial = man["trial"]
        assert man["attempt"]["final"] is True and man["attempt"]["result"] == "success"
        assert man["sut"]["commit"] == "cb6bb340baa5c3ef531b30d068618bb85535996b" and man["sut"]["is_dirty"] is False
        m = metrics[r.name]
        got = {c["host"]: (c["throughput"]["delivered_mb_s"], c["throughput"]["send_done_mb_s"])
               for c in m["clients"]}
        assert got == expected[trial]["clients"]
        assert m["clients_total"]["delivered_mb_s"] == pytest.approx(expected[trial]["total"], abs=0.011)
        assert m["clients_total"]["send_done_mb_s"] == pytest.approx(expected[trial]["senddone"], abs=0.011)
        assert m["throughput"]["delivered_mb_s"] == m["clients_total"]["delivered_mb_s"]
        assert m["acks"]["received"] == m["acks"]["expected"] == 10 * 1024**3 // 4096
        assert all(c["timeseries"]["cum_ack_bytes"] == 2560 * 1024**2 for c in m["clients"])


def test_driver_fixture_time_series_window_is_the_drivers(tmp_path: Path, embarcadero: Path) -> None:
    """The driver calls the local client's window degenerate at 400 ms; the summary finds the same window."""
    src = embarcadero / DRIVER
    text = next(src.glob("*.log")).read_text(encoding="utf-8")
    windows = [int(w) for w in re.findall(r"degenerate timeseries window \((\d+) ms\) in \S+/trial1_local_", text)]
    assert windows
    run = ingest(src, tmp_path / "runs")[0]
    m = _analyse([run])["t1a1"]
    local = next(c for c in m["clients"] if c["host"] == "local")
    assert local["timeseries"]["active_window_ms"] == windows[0] and local["timeseries"]["interval_ms"] == 100


BANNER = """================================================================
  Embarcadero Multi-Client Throughput Benchmark
================================================================
  NUM_CLIENTS:                     2  (h1 h2)
  NUM_BROKERS:                     2
  NUM_TRIALS:                      2
  SEQUENCER / ORDER:               EMBARCADERO / 0
  ACK / REPLICATION_FACTOR:        1 / 0
  MESSAGE_SIZE:                    1024 B
  TOTAL_MESSAGE_SIZE:              2048000 B  (1 MiB)
  THREADS_PER_BROKER:              1
================================================================
"""
HOSTS = ("h1", "h2")


def _attempt_text(trial: int, attempt: int, ok: bool, rates: dict[str, tuple[float, float]]) -> str:
    lines = [f"  Attempt {attempt} / 3", "Starting 2 broker(s)"]
    lines += [f"  Launching client[{i}] host={h}  NUMA=0  log=/tmp/x/trial{trial}_{h}.log" for i, h in enumerate(HOSTS)]
    if not ok:
        lines.append(f"WARNING: trial {trial} attempt {attempt} incomplete — retrying...")
        return "\n".join(lines) + "\n"
    lines += ["", f"--- Trial {trial} Results ---"]
    lines += [f"  {h:<8} → {mb:.2f} MB/s  (Send-done {sd:.2f} MB/s; join=0.5ms ack_wait=1.0ms)"
              for h, (mb, sd) in rates.items()]
    total, sdt = sum(v[0] for v in rates.values()), sum(v[1] for v in rates.values())
    lines += ["  " + "─" * 40, f"  TOTAL    → {total:.2f} MB/s  (x GB/s)  [end-to-end incl. Poll]",
              f"  SENDDONE → {sdt:.2f} MB/s  (x GB/s)  [excludes Poll]", "Cleaning up..."]
    return "\n".join(lines) + "\n"


def _client_log(mb: float, sd: float) -> str:
    return "\n".join([
        glog("[ACK_VERIFY] normalized_received=1000 raw_received=1000 target=1000 100%", "12:00:01.000000"),
        glog("Publish test completed in 0.50 seconds (Poll overhead: 1 ms)", "12:00:01.000100"),
        glog(f"Bandwidth: {mb:.2f} MB/s | Send-done: {sd:.2f} MB/s", "12:00:01.000200"),
    ]) + "\n"


def _broker_log(b: int, acks: int) -> str:
    return "\n".join([
        glog("Embarcadero initialized. Ready to go", "12:00:00.000000"),
        glog(f"Broker:{b} Acknowledgments {acks} (next_to_ack={acks + 1}, ordered=0, ack_level=1)",
             "12:00:01.000000", tid=2000 + b),
    ]) + "\n"


def _retried_benchmark(root: Path, seed: int) -> tuple[Path, dict[int, dict[str, tuple[float, float]]]]:
    """Two trials; trial 2's first attempt is incomplete (broker 1 acknowledged nothing), its retry succeeds."""
    rng = random.Random(seed)
    logs = root / "n2"
    logs.mkdir(parents=True)
    rates = {t: {h: (round(rng.uniform(50, 5000), 2), round(rng.uniform(50, 9000), 2)) for h in HOSTS}
             for t in (1, 2)}
    text = BANNER
    for trial, plan in ((1, [True]), (2, [False, True])):
        text += f"\n=== Trial {trial} / 2  (EMBARCADERO  Order=0  Brokers=2  Clients=2  msg=1024B) ===\n"
        for a, ok in enumerate(plan, 1):
            text += _attempt_text(trial, a, ok, rates[trial])
            for b in (0, 1):
                acks = 1000 if ok or b == 0 else 0
                (logs / f"trial{trial}_attempt{a}_broker{b}.log").write_text(_broker_log(b, acks), encoding="utf-8")
        for h in HOSTS:  # the retry rewrites the trial's client logs under the same names
            (logs / f"trial{trial}_{h}.log").write_text(_client_log(*rates[trial][h]), encoding="utf-8")
    text += "\n  Grand Summary  (naive aggregate MB/s per trial)\n"
    (root / "bench.log").write_text(text, encoding="utf-8")
    return root, rates


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_retried_trial_one_run_per_attempt_result_is_last_attempt(tmp_path: Path, seed: int) -> None:
    src, rates = _retried_benchmark(tmp_path / "src", seed)
    runs = ingest(src, tmp_path / "runs")
    assert [r.name for r in runs] == ["t1a1", "t2a1", "t2a2"]
    mans = {r.name: schemas.read_json(r / "manifest.json", "manifest") for r in runs}
    first, retry = mans["t2a1"], mans["t2a2"]
    assert (first["attempt"]["final"], first["attempt"]["result"]) == (False, "incomplete")
    assert first["files"]["client_logs"] == [] and any("retried" in n for n in first["notes"])
    assert (retry["attempt"]["final"], retry["attempt"]["result"], retry["run_id"]) == (True, "success", "bench/t2a2")
    assert any("retry" in n for n in retry["notes"])
    metrics = _analyse(runs)
    expected = _driver_results((src / "bench.log").read_text(encoding="utf-8"))
    for name, trial in (("t1a1", 1), ("t2a2", 2)):
        got = {c["host"]: (c["throughput"]["delivered_mb_s"], c["throughput"]["send_done_mb_s"])
               for c in metrics[name]["clients"]}
        assert got == expected[trial]["clients"] == rates[trial]
        assert metrics[name]["clients_total"]["delivered_mb_s"] == pytest.approx(expected[trial]["total"], abs=0.011)
        assert metrics[name]["acks"]["completeness"] == 1.0
    # every attempt's outcome is stated: the retried one failed (the driver's result), the others completed
    assert {n: m["outcome"]["status"] for n, m in metrics.items()} == {"t1a1": "completed", "t2a1": "failed",
                                                                     "t2a2": "completed"}
    assert metrics["t2a1"]["outcome"]["source"] == "driver" and "incomplete" in metrics["t2a1"]["outcome"]["reason"]
    # the incomplete attempt's brokers say what the client logs no longer can: broker 1 acknowledged nothing
    acks = metrics["t2a1"]["acks"]
    assert acks["per_broker"] == {"0": 1000, "1": 0} and acks["per_broker_source"] == "broker_log"


def test_retried_attempt_changes_no_verdict(tmp_path: Path) -> None:
    src, _ = _retried_benchmark(tmp_path / "src", 7)
    runs = ingest(src, tmp_path / "runs")
    _analyse(runs)
    with_retry = schemas.read_json(assess_with_diagnosis(runs, tmp_path / "a.json"), "claims")
    without = schemas.read_json(assess_with_diagnosis([r for r in runs if r.name != "t2a1"], tmp_path / "b.json"),
                                "claims")
    assert all("bench/t2a1" not in c["runs"] for c in with_retry["claims"])
    assert [(c["id"], c["verdict"]) for c in with_retry["claims"]] == [(c["id"], c["verdict"])
                                                                     for c in without["claims"]]
    entry = next(r for r in with_retry["runs"] if r["run_id"] == "bench/t2a1")
    assert entry["attempt"] == {"trial": 2, "number": 1, "of": 3, "final": False, "result": "incomplete"}


def test_driver_log_alone_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, _ = _retried_benchmark(tmp_path / "src", 4)
    assert main(["ingest", str(src / "bench.log"), "--out", str(tmp_path / "runs")]) == 0
    assert "3 runs (one per attempt)" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["t1a1", "t2a1", "t2a2"]


def test_attempt_summary_overrides_the_drivers_text(tmp_path: Path) -> None:
    src, _ = _retried_benchmark(tmp_path / "src", 5)
    (src / "n2" / "attempt_summary.csv").write_text("trial,attempt,result,reason\n1,1,success,ok\n"
                                                    "2,1,failed,ack_timeout\n2,2,success,ok\n", encoding="utf-8")
    runs = ingest(src, tmp_path / "runs")
    first = schemas.read_json(runs[1] / "manifest.json", "manifest")
    assert (first["attempt"]["result"], first["attempt"]["reason"]) == ("failed", "ack_timeout")


def test_driver_log_attempt_before_trial_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bench.log"
    bad.write_text(BANNER + "  Attempt 1 / 3\n", encoding="utf-8")
    line = len(BANNER.splitlines()) + 1
    with pytest.raises(StallscopeError, match=rf"bench\.log:{line}: an attempt line before"):
        read_driver_log(bad)
    assert main(["ingest", str(bad), "--out", str(tmp_path / "o")]) == 1


def test_driver_log_without_its_trial_logs_gives_runs_with_the_drivers_lines_only(tmp_path: Path) -> None:
    src, _ = _retried_benchmark(tmp_path / "src", 6)
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "bench.log").write_bytes((src / "bench.log").read_bytes())
    runs = ingest(alone / "bench.log", tmp_path / "runs")
    assert [r.name for r in runs] == ["t1a1", "t2a1", "t2a2"]
    man = schemas.read_json(runs[2] / "manifest.json", "manifest")
    assert man["files"]["client_logs"] == [] and man["files"]["broker_logs"] == []
    assert any("driver's lines only" in n for n in man["notes"]) and man["attempt"]["driver_total_mb_s"] is not None
    assert (runs[2] / "driver.log").read_bytes() == (src / "bench.log").read_bytes()


def test_one_attempt_alone_for_the_workflow(tmp_path: Path) -> None:
    src, _ = _retried_benchmark(tmp_path / "src", 8)
    assert run_tags(src) == ["t1a1", "t2a1", "t2a2"] and run_tags(tmp_path / "nowhere") == ["t1"]
    [run] = ingest(src, tmp_path / "t2a2", attempt="t2a2")
    assert run == tmp_path / "t2a2"
    assert schemas.read_json(run / "manifest.json", "manifest")["run_id"] == "bench/t2a2"
    with pytest.raises(StallscopeError, match="no attempt t3a1"):
        ingest(src, tmp_path / "x", attempt="t3a1")
    (tmp_path / "plain.log").write_text(glog("Bandwidth: 1.00 MB/s") + "\n")
    assert run_tags(tmp_path / "plain.log") == ["t1"]
    with pytest.raises(StallscopeError, match="not a multi-client driver"):
        ingest(tmp_path / "plain.log", tmp_path / "y", attempt="t1a1")


def test_host_names_with_path_separators_are_not_taken(tmp_path: Path) -> None:
    """A host names a file to read (trial<k>_<host>.log): log text must not steer that outside the folder."""
    log = tmp_path / "bench.log"
    log.write_text(BANNER + "=== Trial 1 / 1 ===\n  Attempt 1 / 1\n"
                   "  Launching client[0] host=../../etc/passwd  NUMA=0  log=/tmp/x\n"
                   "  Launching client[1] host=h1  NUMA=0  log=/tmp/y\n", encoding="utf-8")
    [attempt] = read_driver_log(log).attempts
    assert attempt.hosts == ["h1"]


def test_driver_reporting_an_ack_timeout_gives_the_attempt_that_outcome(tmp_path: Path) -> None:
    src, _ = _retried_benchmark(tmp_path / "src", random.randrange(1 << 20))
    log = src / "bench.log"
    text = log.read_text(encoding="utf-8")
    warning = "WARNING: trial 2 attempt 1 incomplete"
    log.write_text(text.replace(warning, f"  client h2: ACK wait timed out after 300 s\n{warning}"), encoding="utf-8")
    metrics = _analyse(ingest(src, tmp_path / "runs"))
    assert {n: m["outcome"]["status"] for n, m in metrics.items()} == {"t1a1": "completed", "t2a1": "ack_timeout",
                                                                     "t2a2": "completed"}
    assert any("ACK wait timed out" in c["text"] for c in metrics["t2a1"]["outcome"]["cites"])
