"""The structure drawn from the imports: no stage imports another stage.

A stage package (experiment, logs, analysis, diagnose, panel, render) may import ``stallscope`` (its version),
``stallscope.schemas``, ``stallscope.errors``, ``stallscope.shared`` and itself; the pipeline, calibration, the
workflow's targets and the CLI sit above the stages. Imports are read with ``ast`` (those inside functions too), so
a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stallscope

PACKAGE = Path(stallscope.__file__).resolve().parent
STAGES = ("experiment", "logs", "analysis", "diagnose", "panel", "render")
SHARED = ("stallscope.schemas", "stallscope.errors", "stallscope.shared")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``stallscope`` import in ``path``; ``from stallscope import x`` gives
    ``stallscope.x`` (a submodule or a name of the package root)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "stallscope":
                found.extend((node.lineno, f"stallscope.{a.name}") for a in node.names)
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "<relative>"))
    return [(line, mod) for line, mod in found if mod == "<relative>" or mod.split(".")[0] == "stallscope"]


def _allowed(module: str, stage: str) -> bool:
    own = f"stallscope.{stage}"
    return (module in ("stallscope", "stallscope.__version__", own) or module.startswith(own + ".")
            or any(module == s or module.startswith(s + ".") for s in SHARED))


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_only_itself_and_the_shared_layer(stage: str) -> None:
    files = sorted((PACKAGE / stage).rglob("*.py"))
    assert len(files) >= 3, f"stage {stage}: too few modules found; the test is looking in the wrong place"
    seen = [(f, line, mod) for f in files for line, mod in _imports(f)]
    assert any(mod.startswith(f"stallscope.{stage}") for _, _, mod in seen), f"no imports of {stage} found"
    bad = [f"{f.relative_to(PACKAGE)}:{line}: {mod}" for f, line, mod in seen if not _allowed(mod, stage)]
    assert not bad, "stage imports another stage:\n" + "\n".join(bad)


def test_the_shared_layer_imports_no_stage() -> None:
    files = [PACKAGE / "schemas.py", PACKAGE / "errors.py", *sorted((PACKAGE / "shared").rglob("*.py"))]
    seen = [(f, line, mod) for f in files for line, mod in _imports(f)]
    assert any(mod.startswith("stallscope.schemas") for _, _, mod in seen), "no imports found: wrong place?"
    above = {f"stallscope.{m}" for m in (*STAGES, "cli", "pipeline", "targets", "calibrate")}
    bad = [f"{f.relative_to(PACKAGE)}:{line}: {mod}" for f, line, mod in seen
           if ".".join(mod.split(".")[:2]) in above]
    assert not bad, "the shared layer imports a stage:\n" + "\n".join(bad)


def test_the_checker_rejects_a_cross_stage_import(tmp_path: Path) -> None:
    """The rule itself: an import of another stage, even inside a function, is seen and refused."""
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from stallscope.experiment.placement import loopback\n"
                   "from stallscope import schemas, render\n")
    mods = sorted(mod for _, mod in _imports(src))
    assert mods == ["stallscope.experiment.placement", "stallscope.render", "stallscope.schemas"]
    assert [m for m in mods if not _allowed(m, "panel")] == ["stallscope.experiment.placement", "stallscope.render"]
