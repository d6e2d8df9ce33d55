"""Figures: 'no data' instead of empty axes, and byte-identical output for identical input."""

from __future__ import annotations

from pathlib import Path

from stallscope.render import plots
from stallscope.render.inputs import Event, RunData


def _run(events: list[Event], metrics: dict | None = None) -> RunData:
    return RunData("s/t1", "s__t1", Path("."), metrics or {"phases": {}, "acks": {"progress": []}}, None, events)


def test_plots_empty_run_draws_no_data(tmp_path: Path) -> None:
    run = _run([])
    assert plots.plot_timeline(run, tmp_path / "t.svg") is False
    assert plots.plot_acks(run, tmp_path / "a.svg") is False
    assert plots.plot_durations([run], tmp_path / "d.svg") is False
    assert plots.plot_throughput([("s/t1", None, None)], tmp_path / "p.svg") is False
    for name in ("t.svg", "a.svg", "d.svg", "p.svg"):
        svg = (tmp_path / name).read_text()
        assert "<!-- no data -->" in svg
        assert 'id="data-' not in svg


def test_plots_same_input_same_bytes(tmp_path: Path) -> None:
    events = [Event("broker_0.log", 1, 2_000_000, 0, "stall_header", 60, {}),
              Event("client.log", 2, 1_000_000, None, "phase", None, {"name": "publish"})]
    plots.plot_timeline(_run(events), tmp_path / "a.svg")
    plots.plot_timeline(_run(events), tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_plots_acks_from_events_when_metrics_have_none(tmp_path: Path) -> None:
    events = [Event("client.log", i, i, None, "ack_progress", None,
                    {"elapsed_s": float(i), "received": i, "per_broker": {"0": i}}) for i in range(3)]
    assert plots.plot_acks(_run(events), tmp_path / "a.svg") is True
    assert 'id="data-broker-0"' in (tmp_path / "a.svg").read_text()
