"""The Jinja2 environment: undefined names raise, values are escaped."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from stallscope.render.templating import make_env, render_template
from stallscope.render.viewmodel import FigureRef, build_view


def test_templating_missing_variable_raises(tmp_path: Path) -> None:
    (tmp_path / "t.html.j2").write_text("<p>{{ present }} {{ absent }}</p>")
    with pytest.raises(jinja2.UndefinedError, match="absent"):
        render_template("t.html.j2", {"present": 1}, make_env(tmp_path))


def test_templating_missing_key_in_report_template_raises() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render_template("assessment.html.j2", {"title": "x"})


def test_templating_values_escaped(tmp_path: Path) -> None:
    (tmp_path / "t.html.j2").write_text("{{ v }}")
    assert render_template("t.html.j2", {"v": "<b>&"}, make_env(tmp_path)) == "&lt;b&gt;&amp;"


def test_templating_view_missing_field_fails_loudly(tmp_path: Path) -> None:
    import json

    from .conftest import make_claims

    claims = json.loads(make_claims(tmp_path).read_text())
    view = build_view(claims, [FigureRef("figures/x.svg", "cap")], {})
    del view["experts"][0]["claims"][0]["settle"]
    with pytest.raises(jinja2.UndefinedError, match="settle"):
        render_template("assessment.html.j2", view)
