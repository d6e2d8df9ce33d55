"""Each stage that judges keeps its thresholds in one module, ``<stage>/thresholds.py``: numbers only, each with a
``#:`` comment right above it saying what it measures and why it is set where it is."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import stallscope

PACKAGE = Path(stallscope.__file__).resolve().parent
STAGES = ("analysis", "diagnose", "panel")


@pytest.mark.parametrize("stage", STAGES)
def test_every_threshold_is_a_number_with_its_why(stage: str) -> None:
    path = PACKAGE / stage / "thresholds.py"
    module = importlib.import_module(f"stallscope.{stage}.thresholds")
    lines = path.read_text(encoding="utf-8").splitlines()
    names = []
    for node in ast.parse("\n".join(lines)).body[1:]:  # after the module docstring
        where = f"{stage}/thresholds.py:{node.lineno}"
        assert isinstance(node, ast.Assign), f"{where}: only thresholds belong here (no imports, no code)"
        assert lines[node.lineno - 2].lstrip().startswith("#:"), f"{where}: no '#:' comment saying what it measures"
        for target in node.targets:
            names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    assert names, f"{stage}/thresholds.py holds no thresholds"
    for name in names:
        value = getattr(module, name)
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{stage}.thresholds.{name}"
