"""Jinja2 environment for the report templates (autoescaped HTML)."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
CODE_ASSETS = ("templates/style.css", "templates/article.html.j2", "templates/article.md.j2",
               "templates/index.html.j2")


def _mdcell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                      keep_trailing_newline=True)
    env.filters["mdcell"] = _mdcell
    return env


def css() -> str:
    return (TEMPLATES / "style.css").read_text(encoding="utf-8")


def render(template: str, **context) -> str:
    return environment().get_template(template).render(css=css(), **context)
