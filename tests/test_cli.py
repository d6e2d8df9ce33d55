"""Exit statuses and messages of the command line: one line naming the file for bad input, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from stallscope.cli import main


def test_cli_missing_run_dir_exits_1_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0] and err[0].startswith("stallscope metrics: ")


def test_cli_bad_config_exits_1_with_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("sut: {kind: reference, source: .}\nscenarios: {x: {total_bytes: -1, expected_cause: none}}\n")
    assert main(["run", "--config", str(cfg), "--scenario", "x", "--build", "b.json", "--out", str(tmp_path)]) == 1
    assert "$.scenarios.x.total_bytes" in capsys.readouterr().err


def test_cli_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["parse"])
    assert exc.value.code == 2


def test_cli_ingest_empty_dir_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["ingest", str(tmp_path / "empty"), "--out", str(tmp_path / "run")]) == 1
    assert "empty" in capsys.readouterr().err


def test_cli_ingest_bad_sut_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "client.log").write_text("I20260202 12:00:00.000000  1000 x.cc:1] hello\n")
    assert main(["ingest", str(tmp_path / "logs"), "--out", str(tmp_path / "run"), "--sut", "HEAD"]) == 1
    assert "--sut 'HEAD'" in capsys.readouterr().err
