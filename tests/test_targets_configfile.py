"""Which config file the stages read when Snakemake is given --configfile (the DAG and the stages must agree)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stallscope.targets import config_file_for_stages

REPO = Path(__file__).resolve().parents[1]


def test_the_given_configfile_wins_over_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_file_for_stages([Path("/x/c.yaml")], "config/config.yaml") == "/x/c.yaml"
    assert config_file_for_stages([], "config/config.yaml") == "config/config.yaml"
    monkeypatch.chdir(tmp_path)
    assert config_file_for_stages([tmp_path / "sub" / "c.yaml"], "config/config.yaml") == "sub/c.yaml"


def test_two_configfiles_are_refused_in_one_line() -> None:
    with pytest.raises(SystemExit, match="give one --configfile"):
        config_file_for_stages(["a.yaml", "b.yaml"], "config/config.yaml")


def test_dry_run_passes_the_given_configfile_to_the_stages(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "tests" / "configs" / "small" / "config.yaml").read_text())
    given = tmp_path / "mine.yaml"
    given.write_text(yaml.safe_dump(cfg))
    res = subprocess.run([sys.executable, "-m", "snakemake", "report", "-n", "-p", "--cores", "1",
                          "--configfile", str(given)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"--config={given}" in res.stdout, res.stdout[-2000:]
    assert "--config=config/config.yaml" not in res.stdout


def test_given_configfile_is_the_whole_config_not_an_extension(tmp_path: Path) -> None:
    """Snakemake extends config/config.yaml with --configfile; the DAG must see the given file's scenarios only."""
    from stallscope.targets import only_stages_config

    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    small = yaml.safe_load((REPO / "tests" / "configs" / "small" / "config.yaml").read_text())
    given = tmp_path / "mine.yaml"
    given.write_text(yaml.safe_dump(small))
    merged = {**shipped, **small, "scenarios": {**shipped["scenarios"], **small["scenarios"]}}
    only_stages_config(merged, str(given), "config/config.yaml")
    assert set(merged["scenarios"]) == set(small["scenarios"]) < set(shipped["scenarios"]) | set(small["scenarios"])
    kept = dict(merged)
    only_stages_config(merged, "config/config.yaml", "config/config.yaml")  # no --configfile: left alone
    assert merged == kept
    res = subprocess.run([sys.executable, "-m", "snakemake", "runs", "-n", "--cores", "1",
                          f"--configfile={given}"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    scheduled = {line.split("scenario=")[1].split(",")[0] for line in res.stdout.splitlines() if "scenario=" in line}
    assert scheduled == set(small["scenarios"])
