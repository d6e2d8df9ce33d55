"""The one reader of a run directory (``shared.rundir``): each file validated and read once, each unusable file's
reason kept instead of raised, events.csv read on first use and kept, one slug for the run id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stallscope.analysis.metrics import compute_metrics
from stallscope.errors import StallscopeError
from stallscope.shared import rundir
from stallscope.shared.rundir import read_run_dir, run_slug

try:
    from tests.builders.logs import glog, make_run_dir
    from tests.builders.render import make_render_run_dir
except ImportError:  # tests/ has no __init__.py: pytest puts tests/ itself on sys.path
    from builders.logs import glog, make_run_dir  # type: ignore[no-redef]
    from builders.render import make_render_run_dir  # type: ignore[no-redef]


@pytest.fixture
def run(tmp_path: Path) -> Path:
    d = tmp_path / "runs" / "baseline" / "t1"
    make_render_run_dir(d, "baseline/t1", "0123456789ab", "[STALL] recv batch header blocked 57ms")
    return d


def test_a_whole_run_is_read_with_no_reason_missing(run: Path) -> None:
    r = read_run_dir(run)
    assert (r.run_id, r.scenario, r.slug) == ("baseline/t1", "baseline", "baseline__t1")
    assert r.manifest is not None and r.metrics is not None
    assert (r.manifest_missing, r.metrics_missing, r.events_missing) == (None, None, None)
    assert r.client_log == "client.log" and r.param("message_size") == 1024
    assert {e.kind for e in r.events} >= {"phase", "stall_header", "ack_progress"}
    assert r.first_ts_us["client.log"] == min(e.ts_us for e in r.events if e.file == "client.log")


def test_events_are_read_on_first_use_and_kept(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = rundir.read_run_events
    monkeypatch.setattr(rundir, "read_run_events", lambda d: calls.append(d) or real(d))
    r = read_run_dir(run)
    assert calls == []  # the diagnosis and the panel never pay for events.csv
    first = r.events
    (run / "events.csv").unlink()
    assert r.events is first and r.events_missing is None and calls == [run]


def test_a_missing_directory_is_one_reason_for_every_file(tmp_path: Path) -> None:
    r = read_run_dir(tmp_path / "gone" / "t1")
    reason = f"run directory {tmp_path / 'gone' / 't1'} not found"
    assert r.manifest_missing == r.metrics_missing == r.events_missing == reason
    assert r.harness_errors == (reason,) and not r.harness_ok
    assert (r.run_id, r.scenario) == ("gone/t1", "gone")


@pytest.mark.parametrize(("name", "content", "says"), [
    ("metrics.json", None, "missing metrics file"),
    ("metrics.json", '{"schema": "metrics/1"}', "required property"),
    ("metrics.json", '{"schema": "metr', "not valid JSON"),
    ("manifest.json", '{"schema": "manifest/0"}', "this stallscope reads 'manifest/1'"),
    ("events.csv", None, "missing events file"),
    ("events.csv", "file,line\n", "missing columns"),
])
def test_an_unusable_file_keeps_its_reason_naming_it(run: Path, name: str, content: str | None, says: str) -> None:
    path = run / name
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    r = read_run_dir(run)
    reason = {"metrics.json": r.metrics_missing, "manifest.json": r.manifest_missing,
              "events.csv": r.events_missing}[name]
    assert reason is not None and str(path) in reason and says in reason
    others = [v for k, v in (("metrics.json", r.metrics_missing), ("manifest.json", r.manifest_missing),
                             ("events.csv", r.events_missing)) if k != name]
    assert others == [None, None]


def test_a_truncated_events_file_keeps_its_reason(run: Path) -> None:
    text = (run / "events.csv").read_text()
    (run / "events.csv").write_text(text[: text.rindex('"{""elapsed_s') + 12])  # cut inside a quoted field
    r = read_run_dir(run)
    assert r.metrics is not None and r.events_missing is not None and "events.csv" in r.events_missing


def test_before_metrics_the_manifest_alone_is_read(run: Path) -> None:
    (run / "metrics.json").unlink()
    r = read_run_dir(run, read_metrics=False)
    assert r.manifest is not None and r.metrics is None and r.metrics_missing is None
    assert r.require_manifest() is r.manifest


def test_a_stage_that_needs_the_manifest_gets_its_reason(run: Path) -> None:
    (run / "manifest.json").write_text("{")
    with pytest.raises(StallscopeError, match="manifest.json.*not valid JSON"):
        read_run_dir(run, read_metrics=False).require_manifest()


def test_metrics_refuse_a_run_whose_manifest_breaks_its_schema(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path, client_lines=[glog("x")])
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["files"] = "client.log"
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StallscopeError, match=r"manifest.json: at \$.files"):
        compute_metrics(run)


def test_the_slug_is_the_run_id_with_slashes_doubled_underscores() -> None:
    assert run_slug("stress_10gb/t3a2") == "stress_10gb__t3a2"
    assert run_slug("ingested-x/stress_10gb/t1") == "ingested-x__stress_10gb__t1"
