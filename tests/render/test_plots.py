"""Figures: 'no data' instead of empty axes, one panel per run with data, byte-identical output for identical input."""

from __future__ import annotations

from pathlib import Path

from stallscope.render import plots
from stallscope.render.inputs import Event, RunData

STALLS = [Event("broker_0.log", 1, 2_000_000, 0, "stall_header", 60, {}),
          Event("client.log", 2, 1_000_000, None, "phase", None, {"name": "publish"})]


def _run(events: list[Event], metrics: dict | None = None, run_id: str = "s/t1") -> RunData:
    return RunData(run_id, run_id.replace("/", "__"), Path("."), metrics or {"phases": {}, "acks": {"progress": []}},
                   None, events)


def test_plots_empty_run_draws_no_data(tmp_path: Path) -> None:
    run = _run([])
    assert plots.plot_timelines([run], tmp_path / "t.svg") is False
    assert plots.plot_acks([run], tmp_path / "a.svg") is False
    assert plots.plot_durations([run], tmp_path / "d.svg") is False
    assert plots.plot_throughput([("s/t1", None, None)], tmp_path / "p.svg") is False
    for name in ("t.svg", "a.svg", "d.svg", "p.svg"):
        svg = (tmp_path / name).read_text()
        assert "<!-- no data -->" in svg
        assert 'id="data-' not in svg


def test_plots_same_input_same_bytes(tmp_path: Path) -> None:
    plots.plot_timelines([_run(STALLS)], tmp_path / "a.svg")
    plots.plot_timelines([_run(STALLS)], tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_plots_timelines_one_panel_per_run_with_stalls(tmp_path: Path) -> None:
    runs = [_run(STALLS, run_id="a/t1"), _run(STALLS[1:], run_id="quiet/t1"), _run(STALLS, run_id="b/t1")]
    assert plots.plot_timelines(runs, tmp_path / "t.svg") is True
    svg = (tmp_path / "t.svg").read_text()
    assert "<!-- a/t1 -->" in svg and "<!-- b/t1 -->" in svg
    assert "quiet/t1" not in svg
    assert 'id="data-a__t1-header"' in svg and 'id="data-b__t1-header"' in svg
    assert "<!-- seconds since run start -->" in svg and "<!-- broker -->" in svg
    assert "<!-- publish -->" in svg  # phase boundary per panel


def test_plots_acks_from_events_when_metrics_have_none(tmp_path: Path) -> None:
    events = [Event("client.log", i, i, None, "ack_progress", None,
                    {"elapsed_s": float(i), "received": i, "per_broker": {"0": i}}) for i in range(3)]
    assert plots.plot_acks([_run(events), _run([], run_id="none/t1")], tmp_path / "a.svg") is True
    svg = (tmp_path / "a.svg").read_text()
    assert 'id="data-s__t1-broker-0"' in svg
    assert "none/t1" not in svg
