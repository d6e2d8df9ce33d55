"""Figures: 'no data' instead of empty axes, one line per run with data, byte-identical output for identical input,
and a drawing cost that does not grow with the number of stalls."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from stallscope.render import plots, plots_time
from stallscope.render.series import build_series
from stallscope.shared.rundir import RunDir
from stallscope.shared.runevents import Event, RunEvents

STALLS = [Event("broker_0.log", 1, 2_000_000, 0, "stall_header", 60, {}),
          Event("client.log", 2, 1_000_000, None, "phase", None, {"name": "publish"})]


def _run(events: list[Event], metrics: dict | None = None, run_id: str = "s/t1") -> RunDir:
    return RunDir(Path("."), run_id, run_id.split("/")[0], None, metrics or {"phases": {}, "acks": {"progress": []}},
                  events_read=RunEvents(events))


def _stalls(n: int, seed: int) -> list[Event]:
    rng = random.Random(seed)
    kinds = ("stall_header", "stall_partial", "stall_payload")
    return [Event("broker_0.log", i, rng.randrange(10**6, 3600 * 10**6), rng.randrange(4), rng.choice(kinds),
                  rng.randrange(50, 60_000), {}) for i in range(n)]


def test_plots_empty_run_draws_no_data(tmp_path: Path) -> None:
    run = _run([])
    assert plots.plot_durations([run], tmp_path / "d.svg") is False
    assert plots.plot_throughput([("s/t1", None, None)], tmp_path / "p.svg") is False
    assert plots_time.plot_latency_ccdf([("s/t1", {})], tmp_path / "l.svg") is False
    for name in ("d.svg", "p.svg", "l.svg"):
        svg = (tmp_path / name).read_text()
        assert "<!-- no data -->" in svg
        assert 'id="data-' not in svg


def test_plots_same_input_same_bytes(tmp_path: Path) -> None:
    run = _run(STALLS + _stalls(50, 1))
    for name in ("a.svg", "b.svg"):
        series = build_series(run)
        assert series is not None
        plots_time.plot_run_series(series, tmp_path / name)
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_plots_durations_one_line_per_run_with_stalls(tmp_path: Path) -> None:
    runs = [_run(STALLS, run_id="a/t1"), _run(STALLS[1:], run_id="quiet/t1"), _run(STALLS, run_id="b/t1")]
    assert plots.plot_durations([r for r in runs if plots.stall_events(r)], tmp_path / "d.svg") is True
    svg = (tmp_path / "d.svg").read_text()
    assert "<!-- a/t1 -->" in svg and "<!-- b/t1 -->" in svg and "quiet/t1" not in svg
    assert 'id="data-run-0-header"' in svg and 'id="data-run-1-header"' in svg
    assert "<!-- duration (ms, log scale) -->" in svg


def test_plots_cost_bounded_by_bins_not_stalls(tmp_path: Path) -> None:
    """A thousand times more stalls must not make the SVGs (what WeasyPrint lays out) much larger."""
    sizes = {}
    for n in (100, 100_000):
        run = _run(_stalls(n, seed=n) + STALLS[1:])
        plots.plot_durations([run], tmp_path / f"d{n}.svg")
        series = build_series(run)
        assert series is not None and series.stall_count.sum() == n
        plots_time.plot_run_series(series, tmp_path / f"s{n}.svg")
        sizes[n] = sum((tmp_path / f"{k}{n}.svg").stat().st_size for k in "ds")
    assert sizes[100_000] < 2 * sizes[100], sizes


def test_plots_ccdf_panel_per_run_with_latency(tmp_path: Path) -> None:
    lat = {"recording": "on", "per_broker": {
        "0": {"unacked": 0, "histogram": [[1003, 5], [2047, 3], [9000, 1]]},
        "2": {"unacked": 11, "histogram": [[5119, 2]]}}}
    assert plots_time.plot_latency_ccdf([("a/t1", lat), ("none/t1", {})], tmp_path / "l.svg") is True
    svg = (tmp_path / "l.svg").read_text()
    assert 'id="data-ccdf-a/t1-0"' in svg and 'id="data-ccdf-a/t1-2"' in svg
    assert "<!-- B2 (unacked 11) -->" in svg and "none/t1" not in svg


def test_ccdf_points_fall_from_one_to_zero() -> None:
    xs, ys = plots_time.ccdf_points([[2047, 3], [1003, 5], [9000, 2], [500, 0]])
    assert list(xs) == [1.003, 1.003, 2.047, 9.0]
    assert list(ys) == pytest.approx([1.0, 0.5, 0.2, 0.0])


def test_plots_series_shades_and_labels_fault_windows(tmp_path: Path) -> None:
    t0 = 5_000_000
    events = [Event("client.log", 1, t0, None, "phase", None, {"name": "publish_start"}),
              Event("client.log", 2, t0 + 1_000_000, 1, "fault_window", None,
                    {"edge": "start", "name": "header_pause", "conn": 0}),
              Event("client.log", 3, t0 + 1_200_000, 1, "fault_window", None,
                    {"edge": "stop", "name": "header_pause", "conn": 0}),
              Event("broker_2.log", 4, t0 + 2_000_000, 2, "fault_window", None, {"edge": "start", "name": "ack_stall"})]
    series = build_series(_run(events + _stalls(20, 3)))
    assert series is not None
    assert [w.label for w in series.faults] == ["header_pause (broker 1)", "ack_stall (broker 2)"]
    plots_time.plot_run_series(series, tmp_path / "s.svg")
    svg = (tmp_path / "s.svg").read_text()
    assert 'id="data-fault-0"' in svg and 'id="data-fault-1"' in svg
    assert "<!-- fault: header_pause (broker 1) -->" in svg
    assert "<!-- fault: ack_stall (broker 2) (still on at the end) -->" in svg
