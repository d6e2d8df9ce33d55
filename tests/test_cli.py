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


def test_cli_error_after_a_stop_signal_is_the_interrupt_not_a_bug(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Seen in the interrupt soak: ^C 0.08 s into `stallscope run` also killed the `git version` GitPython runs on
    import, and its ImportError printed a traceback as an internal error."""
    import os
    import signal

    from stallscope import cli
    from stallscope.experiment import interrupts

    def start_then_fail(_args: object) -> None:
        interrupts.install()
        os.kill(os.getpid(), signal.SIGINT)
        raise ImportError("Failed to initialize: Cmd('git') failed due to: exit code(-2)")

    monkeypatch.setattr(cli, "_cmd_ingest", start_then_fail)
    try:
        rc = main(["ingest", "somewhere", "--out", "elsewhere"])
    finally:
        interrupts.restore()
    err = capsys.readouterr().err
    assert rc == 130 and "Traceback" not in err and "interrupted by SIGINT" in err, err
    assert len(err.strip().splitlines()) == 1


def test_cli_error_without_a_stop_signal_is_still_a_bug(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from stallscope import cli

    def fail(_args: object) -> None:
        raise ImportError("broken install")

    monkeypatch.setattr(cli, "_cmd_ingest", fail)
    assert main(["ingest", "somewhere", "--out", "elsewhere"]) == 3
    assert "internal error" in capsys.readouterr().err
