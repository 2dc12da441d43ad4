"""Reports render offline, and a real browser shows the claims table."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from urllib.parse import quote
import pytest

from kexue.registry import load

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HEADER_RGB = (0x1F, 0x3A, 0x5F)  # table.claims thead background (style.css)


def screenshot(page: Path, out: Path, height: int = 2400) -> np.ndarray:
    from PIL import Image

    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--window-size=1200,{height}", "--virtual-time-budget=5000",
                        f"--screenshot={out}", page.resolve().as_uri()],
                       capture_output=True, timeout=120, check=False)
    assert out.exists(), "chromium wrote no screenshot"
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def test_report_html_is_self_contained(snake_clone):
    clone, _ = snake_clone
    for art in load().reported:
        html = (clone / art.report_dir / "index.html").read_text()
        assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"?https?:", html), "external resource in report"
        assert "<math" in html, "math should be rendered to MathML at build time"
        assert 'id="claims"' in html and html.count('class="badge ') >= len(art.claims)
        md = (clone / art.report_dir / "index.md").read_text()
        assert "| # | Claim |" in md
        for f in art.figures:
            assert (clone / art.report_dir / "figures" / f.file).exists()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make system)")
def test_rendered_report_shows_claims_table(snake_clone, tmp_path):
    clone, _ = snake_clone
    for art in load().reported:
        img = screenshot(clone / art.report_dir / "index.html", tmp_path / f"{art.id}.png")
        assert img.std() > 20, "blank page"
        header = np.all(np.abs(img - HEADER_RGB) <= 3, axis=-1)
        rows = np.where(header.sum(axis=1) > 600)[0]
        assert len(rows) >= 10, "claims table header not visible"
        green = np.all(np.abs(img - (0x1E, 0x8A, 0x3E)) <= 3, axis=-1).sum()
        red = np.all(np.abs(img - (0xC0, 0x39, 0x2B)) <= 3, axis=-1).sum()
        assert green + red > 200, "no verdict badges rendered"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make system)")
def test_site_index_search_finds_chinese_title(snake_clone, tmp_path):
    clone, _ = snake_clone
    art = load().reported[0]
    term = art.title_zh[:4] if art.title_zh else art.title.split()[0]
    page = clone / "reports" / "index.html"
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--disable-background-networking", f"--user-data-dir={profile}",
                              "--virtual-time-budget=3000", "--dump-dom", page.resolve().as_uri() + "#q=" + quote(term)],
                             capture_output=True, text=True, timeout=120).stdout
    hits = dom.split('id="hits"', 1)[1].split("</div>", 1)[0]
    assert f"{art.id} · " in hits, hits[:500]
