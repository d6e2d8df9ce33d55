"""The metrics of every reference run equal what the run injected and what the processes counted themselves.

Ground truth comes from outside the parser: a plain regex over the raw logs (what `grep` would count), the
broker's own `[BrokerMetrics]` counters, the publisher's `[Phase]` markers and per-broker ACK line, and the
fault knobs of the manifest.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from stallscope import schemas

pytestmark = pytest.mark.snakemake

STALL = re.compile(r"\[STALL\] recv (batch header blocked|batch header \(partial\) blocked|payload blocked) (\d+)ms")
KIND = {"batch header blocked": "header", "batch header (partial) blocked": "partial", "payload blocked": "payload"}
PREFIX = re.compile(r"^[IWEF](\d{8}) (\d{2}:\d{2}:\d{2}\.\d{6})")


def _ts_us(line: str) -> int:
    m = PREFIX.match(line)
    assert m, line
    dt = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H:%M:%S.%f")
    return int((dt - datetime(1970, 1, 1)).total_seconds() * 1_000_000)


def _runs(wd: Path) -> list[Path]:
    dirs = sorted(p.parent for p in wd.glob("results/runs/*/*/t*/metrics.json"))
    assert dirs
    return dirs


def check_stalls_by_kind_and_broker_match_raw_lines_and_broker_counters(wd: Path) -> None:
    for run in _runs(wd):
        m = schemas.read_json(run / "metrics.json", "metrics")
        for log in sorted(run.glob("broker_*.log")):
            b = log.stem.split("_")[1]
            text = log.read_text(errors="replace")
            durations: dict[str, list[int]] = {"header": [], "partial": [], "payload": []}
            for kind, ms in STALL.findall(text):
                durations[KIND[kind]].append(int(ms))
            counters = dict(re.findall(r"\b(stalls_\w+)=(\d+)", text.split("[BrokerMetrics]")[-1]))
            for kind, got in durations.items():
                summary = m["stalls"]["per_broker"][b]["by_kind"][kind]
                assert summary["count"] == len(got) == int(counters[f"stalls_{kind}"]), (run.name, b, kind)
                if got:
                    assert (summary["min_ms"], summary["max_ms"], summary["total_ms"]) == (
                        min(got), max(got), sum(got))


def check_injected_pauses_appear_exactly_on_the_fault_broker(wd: Path, require_faults: bool = True) -> None:
    checked = 0
    for run in _runs(wd):
        man = schemas.read_json(run / "manifest.json", "manifest")
        faults = man["faults"]
        if "header_pause_count" not in faults:
            continue
        m = schemas.read_json(run / "metrics.json", "metrics")
        fb = str(faults.get("fault_broker", 0))
        kinds = m["stalls"]["per_broker"][fb]["by_kind"]
        assert kinds["partial"]["count"] == faults["header_pause_count"]
        assert kinds["payload"]["count"] == faults["payload_pause_count"]
        assert kinds["header"]["count"] == 0
        # A recv that starts late (the broker thread was not on a core) waits less than the pause, never more
        # than the pause plus scheduling slack.
        for kind, pause in (("partial", faults["header_pause_ms"]), ("payload", faults["payload_pause_ms"])):
            assert pause / 2 <= kinds[kind]["min_ms"] <= kinds[kind]["max_ms"] <= pause + 100, (kind, kinds[kind])
        others = [v for k, v in m["stalls"]["per_broker"].items() if k != fb]
        assert all(o["by_kind"]["partial"]["count"] == 0 for o in others)
        checked += 1
    assert checked or not require_faults


def check_phases_are_the_publishers_markers(wd: Path) -> None:
    for run in _runs(wd):
        m = schemas.read_json(run / "metrics.json", "metrics")
        assert m["phases"]["source"] == "markers"
        marks = {ln.split("[Phase] ")[1].split()[0]: _ts_us(ln)
                 for ln in (run / "client.log").read_text().splitlines() if "] [Phase] " in ln}
        assert m["phases"]["publish"]["start_us"] == marks["publish_start"]
        assert m["phases"]["publish"]["end_us"] == marks["send_done"]
        end = marks.get("ack_done", marks.get("ack_timeout"))
        assert m["phases"]["drain"]["end_us"] == end


def check_ack_figures_match_the_publishers_lines(wd: Path) -> None:
    for run in _runs(wd):
        m = schemas.read_json(run / "metrics.json", "metrics")
        man = schemas.read_json(run / "manifest.json", "manifest")
        text = (run / "client.log").read_text()
        per = dict(re.findall(r"B(\d+)=(\d+)\(sent=", text.split("[Publisher ACK Per-Broker]: ")[-1].splitlines()[0]))
        assert {k: int(v) for k, v in per.items()} == {k: v for k, v in m["acks"]["per_broker"].items()}
        assert m["acks"]["received"] == sum(int(v) for v in per.values())
        assert m["acks"]["expected"] == man["params"]["message_count"]
        timed_out = "[Publisher ACK Timeout]" in text
        assert m["acks"]["is_timeout"] is timed_out
        if "ack_stall_after" in man["faults"]:
            stalled = str(man["faults"]["ack_stall_broker"])
            short = {k for k, v in m["acks"]["per_broker"].items() if v < m["acks"]["sent_per_broker"][k]}
            assert timed_out and short == {stalled}


def check_ack_latency_per_broker_and_unacked_batches(wd: Path) -> None:
    """Every reference run carries refpub's latency percentiles per broker; only a broker whose ACKs stalled has
    unacknowledged batches, and the buckets add up to the acknowledged batches."""
    for run in _runs(wd):
        m = schemas.read_json(run / "metrics.json", "metrics")
        man = schemas.read_json(run / "manifest.json", "manifest")
        lat = m["acks"]["latency"]
        assert lat["recording"] == "on" and set(lat["per_broker"]) == {str(b) for b in range(man["params"]["brokers"])}
        for v in lat["per_broker"].values():
            assert v["acked"] + v["unacked"] == v["batches"]
            assert sum(c for _, c in v["histogram"]) == v["acked"]
            if v["acked"]:
                assert 0 < v["p50_us"] <= v["p90_us"] <= v["p99_us"] <= v["p999_us"] <= v["max_us"]
        unacked = {b for b, v in lat["per_broker"].items() if v["unacked"]}
        if "ack_stall_after" in man["faults"]:
            assert unacked == {str(man["faults"]["ack_stall_broker"])}
        elif m["acks"]["is_timeout"] is False:
            assert unacked == set()


def check_fault_windows_logged_for_each_injected_fault(wd: Path) -> None:
    """Each injected fault of refpub/refbroker logs a [FaultWindow] start and stop (what the time series shades)."""
    names = {"header_pause_ms": "header_pause", "payload_pause_ms": "payload_pause", "linger_sec": "linger",
             "init_delay_sec": "init_delay", "ack_stall_after": "ack_stall", "recv_delay_us": "recv_delay",
             "consume_delay_ms": "consume_delay", "producer_cost_ns": "producer_cost", "batch_gap_ms": "batch_gap",
             "close_mid_header": "close_mid_header"}
    for run in _runs(wd):
        man = schemas.read_json(run / "manifest.json", "manifest")
        text = "".join(p.read_text(errors="replace") for p in sorted(run.glob("*.log")))
        for knob, value in man["faults"].items():
            if knob in names and value:
                for edge in ("start", "stop"):
                    assert f"[FaultWindow] {edge} name={names[knob]}" in text, (run.name, knob, edge)


CHECKS = (check_stalls_by_kind_and_broker_match_raw_lines_and_broker_counters,
          check_injected_pauses_appear_exactly_on_the_fault_broker, check_phases_are_the_publishers_markers,
          check_ack_figures_match_the_publishers_lines, check_ack_latency_per_broker_and_unacked_batches,
          check_fault_windows_logged_for_each_injected_fault)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_ground_truth_small_dag(runs_workdir: Path, check) -> None:
    check(runs_workdir)
