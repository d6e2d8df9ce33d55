"""The Jinja2 environment shared by the report and the index: autoescaped, strict about undefined names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def make_env(template_dir: Path = TEMPLATE_DIR) -> Environment:
    """Build the environment: HTML escaping on for .html/.j2 templates, any undefined name raises."""
    return Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(template: str, context: dict[str, Any], env: Environment | None = None) -> str:
    """Render ``template`` with ``context``; a missing key raises jinja2.UndefinedError."""
    return (env or make_env()).get_template(template).render(**context)
