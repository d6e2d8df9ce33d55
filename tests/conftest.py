"""Shared fixtures: the real Embarcadero logs, copied first so fixture folders are never written to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "embarcadero"


@pytest.fixture(scope="session")
def embarcadero(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of ../shared/fixtures/embarcadero (skip when absent)."""
    if not FIXTURES.is_dir():
        pytest.skip(f"real-log fixtures not found at {FIXTURES}")
    dst = tmp_path_factory.mktemp("embarcadero") / "embarcadero"
    shutil.copytree(FIXTURES, dst)
    return dst
