"""The per-run time series: binning keeps every stall and every acknowledged byte (checked on random runs), fault
windows pair and merge, the client CSV reader reads Embarcadero's format."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from stallscope.render.series import bin_width, build_series, fault_windows, find_client_csv, read_client_csv
from stallscope.shared.rundir import RunDir
from stallscope.shared.runevents import Event, RunEvents

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "embarcadero"
T0 = 1_000_000_000


def _run(events: list[Event], params: dict | None = None, run_dir: Path = Path(".")) -> RunDir:
    metrics = {"phases": {"init": {"start_us": T0}, "publish": {"start_us": T0 + 2_000_000}}}
    return RunDir(run_dir, "s/t1", "s", {"params": params or {"message_size": 1024}}, metrics,
                  events_read=RunEvents(events))


def _ev(kind: str, ts_us: int, broker: int | None = None, duration_ms: int | None = None, **fields) -> Event:
    return Event("x.log", 1, ts_us, broker, kind, duration_ms, fields)


@pytest.mark.parametrize("seed", [random.randrange(1 << 30) for _ in range(5)])
def test_series_bins_keep_every_stall_and_every_ack(seed: int) -> None:
    rng = random.Random(seed)
    span_s = rng.choice([0.5, 7, 90, 1800, 5000])
    brokers = rng.randint(1, 6)
    events = [_ev("stall_header", T0 + int(rng.uniform(0.1, span_s) * 1e6), rng.randrange(brokers),
                  rng.randrange(1, 3000)) for _ in range(rng.randint(1, 3000))]
    acked = {b: 0 for b in range(brokers)}
    t = T0 + int(span_s * 0.2e6)
    step = max(int(span_s * 1e6 / 200), 1000)
    while t < T0 + span_s * 1e6:
        t += step
        b = rng.randrange(brokers)
        acked[b] += rng.randrange(1, 500)
        events.append(_ev("broker_acks", t, b, ack_broker=b, acks=acked[b]))
    msg = rng.choice([100, 1024, 4096])
    series = build_series(_run(events, {"message_size": msg}))
    assert series is not None
    stalls = [e for e in events if e.kind == "stall_header"]
    assert series.stall_count.sum() == len(stalls)
    assert series.stall_sum_s.sum() == pytest.approx(sum(e.duration_ms for e in stalls) / 1000)
    assert len(series.edges) <= 100
    total_mib = sum(acked.values()) * msg / (1 << 20)
    assert series.delivered["total"].sum() * series.bin_s == pytest.approx(total_mib, rel=1e-6, abs=1e-9)
    assert series.acked_unit == "messages"


def test_bin_width_one_second_for_a_minute_bounded_for_an_hour() -> None:
    assert bin_width(60) == 1
    assert bin_width(0.8) == 0.01
    assert 3600 / bin_width(3600) <= 100 and 86400 / bin_width(86400) <= 100


def test_fault_windows_pair_merge_and_stay_open_at_end() -> None:
    events = [_ev("fault_window", T0 + 1_000_000, 1, edge="start", name="header_pause", conn=0),
              _ev("fault_window", T0 + 1_200_000, 1, edge="stop", name="header_pause", conn=0),
              _ev("fault_window", T0 + 3_000_000, 1, edge="start", name="header_pause", conn=0),
              _ev("fault_window", T0 + 3_100_000, 1, edge="stop", name="header_pause", conn=0)]
    events += [_ev("fault_window", T0 + 500_000 + b, b, edge="start", name="recv_delay") for b in range(3)]
    events += [Event("client.log", 9, T0 + 6_000_000, None, "fault_window", None,
                     {"edge": "start", "name": "ack_stall", "broker": 2})]
    wins = fault_windows(events, T0, end_s=9.0)
    got = [(w.name, round(w.start_s, 1), round(w.end_s, 1), w.label, w.open_at_end) for w in wins]
    assert got == [("recv_delay", 0.5, 9.0, "recv_delay (brokers 0, 1, 2)", True),
                   ("header_pause", 1.0, 1.2, "header_pause (broker 1)", False),
                   ("header_pause", 3.0, 3.1, "header_pause (broker 1)", False),
                   ("ack_stall", 6.0, 9.0, "ack_stall (broker 2)", True)]


def test_ack_series_from_publish_start(tmp_path: Path) -> None:
    events = [_ev("phase", T0 + 2_000_000, name="publish_start"),
              Event("client.log", 5, T0 + 5_000_000, 0, "ack_series", None,
                    {"broker": 0, "step_ms": 100, "acked": "0,10,10,30"})]
    series = build_series(_run(events, {"message_size": 1 << 20}))
    assert series is not None
    xs, ys = series.acked["0"]
    assert list(xs) == pytest.approx([2.1, 2.2, 2.3, 2.4]) and list(ys) == [0, 10, 10, 30]
    assert series.delivered["0"].sum() * series.bin_s == pytest.approx(30.0)


def test_client_csv_read_and_used(tmp_path: Path) -> None:
    (tmp_path / "trial1_c1_timeseries.csv").write_text(
        "Timestamp(ms),Broker_0_sent_GiBps,Broker_0_ack_GiBps,Broker_1_sent_GiBps,Broker_1_ack_GiBps,Cum_Ack_Bytes\n"
        "1000,0,0,0,0,0\n1100,1,0.5,1,0.25,0\n1200,1,1.0,1,0\n1300,bad,row,1,1,0\n")
    path = find_client_csv(tmp_path)
    assert path is not None and path.name == "trial1_c1_timeseries.csv"
    ts, rates = read_client_csv(path)
    assert list(ts) == [1.0, 1.1, 1.2] and list(rates[0]) == [0.0, 512.0, 1024.0]
    series = build_series(_run([_ev("phase", T0, name="publish_start")]), path)
    assert series is not None and series.acked_unit == "MiB" and "client" in series.rate_source
    assert set(series.delivered) == {"0", "1", "total"}
    assert np.max(series.delivered["total"]) == pytest.approx(1024.0)
    (tmp_path / "bad_timeseries.csv").write_text("a,b\n1,2\n")
    assert read_client_csv(tmp_path / "bad_timeseries.csv") is None


def test_client_csv_reads_the_real_driver_files() -> None:
    folder = FIXTURES / "2026-07-28_order0_ack1_n4_driver" / "n4"
    if not folder.is_dir():
        pytest.skip(f"real-log fixtures not found at {folder}")
    for path in sorted(folder.glob("trial*_timeseries.csv")):
        got = read_client_csv(path)
        assert got is not None, path
        ts, rates = got
        assert sorted(rates) == [0, 1, 2, 3] and len(ts) >= 20 and np.all(np.diff(ts) > 0)
