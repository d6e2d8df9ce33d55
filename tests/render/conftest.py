"""Fixtures for the render tests: one rendered report (HTML + PDF) shared by the session."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from tests.builders.render import make_claims
except ImportError:  # tests/ has no __init__.py: pytest puts tests/ itself on sys.path
    from builders.render import make_claims  # type: ignore[no-redef]

__all__ = ["EVIL", "make_claims"]

EVIL = "<script>alert(1)</script> {{ 7*7 }} & co"


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Render one report (HTML and PDF) from a hand-made claims.json whose first excerpt is hostile."""
    from stallscope.render.report import render_report

    tmp = tmp_path_factory.mktemp("report")
    claims = make_claims(tmp / "in", excerpt=EVIL)
    out = tmp / "reports" / "0123456789ab"
    pdf = render_report(claims, out, formats="html,pdf")
    return {"claims": claims, "out": out, "pdf": pdf, "html": out / "assessment.html"}
