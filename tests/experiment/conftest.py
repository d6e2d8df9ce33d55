from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ref_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build.json of a reference build (STALLSCOPE_BUILD_JSON reuses one; else built once per session)."""
    given = os.environ.get("STALLSCOPE_BUILD_JSON")
    if given:
        return Path(given)
    if not (shutil.which("cmake") and shutil.which("c++")):
        pytest.skip("cmake and a C++ compiler are needed to build the reference broker")
    from stallscope.experiment.build import build_broker

    out = tmp_path_factory.mktemp("build")
    return build_broker(REPO / "config" / "config.yaml", out, source=REPO / "workflow" / "broker", werror=True)
