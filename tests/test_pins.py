"""The conda environment for cluster nodes pins exactly what pyproject.toml pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_pins_envs_match_pyproject() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pyproject = dict(re.fullmatch(r"([\w.-]+)==([\w.]+)", d).groups() for d in deps)
    env = yaml.safe_load((REPO / "envs" / "stallscope.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = dict(re.fullmatch(r"([\w.-]+)==([\w.]+)", p).groups() for p in pip if "==" in p)
    assert conda_pins == pyproject


def test_pins_output_changing_packages_are_pinned_exactly() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for name in ("weasyprint", "matplotlib", "snakemake", "pandas", "jinja2"):
        assert any(re.fullmatch(rf"{name}==[\d.]+", d) for d in deps), name
