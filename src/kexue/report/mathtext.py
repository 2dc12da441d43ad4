"""Text with inline LaTeX ($...$) to safe HTML: prose is escaped (or rendered as Markdown),
math becomes MathML at build time, which Chromium renders natively — no CDN scripts."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")


def _mathml(tex: str) -> str:
    from latex2mathml.converter import convert

    try:
        return convert(tex)
    except Exception:  # unparsable LaTeX: show the source, escaped, rather than fail the report
        return f'<code class="tex">{escape(tex)}</code>'


def inline(text: str) -> Markup:
    """Escape plain text, converting $...$ spans to MathML."""
    parts, last = [], 0
    for m in _MATH.finditer(text or ""):
        parts.append(str(escape(text[last:m.start()])))
        parts.append(_mathml(m.group(1)))
        last = m.end()
    parts.append(str(escape((text or "")[last:])))
    return Markup("".join(parts))


def markdown(text: str) -> Markup:
    """Markdown (raw HTML disabled) with $...$ math."""
    from markdown_it import MarkdownIt

    maths: list[str] = []

    def stash(m):
        maths.append(_mathml(m.group(1)))
        return f"\x00MATH{len(maths) - 1}\x00"

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(_MATH.sub(stash, text or ""))
    for i, mm in enumerate(maths):
        body = body.replace(f"\x00MATH{i}\x00", mm).replace(f"&#0;MATH{i}&#0;", mm).replace(f"\ufffdMATH{i}\ufffd", mm)
    return Markup(body)


def plain(text: str) -> str:
    """Text for Markdown twins and search: math kept as $...$ source."""
    return text or ""
