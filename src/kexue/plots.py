"""One plotting theme for every figure of the lab (seaborn on matplotlib's Agg backend)."""
from __future__ import annotations

import io as _io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: stages run on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from kexue.io import atomic_write_bytes  # noqa: E402

PALETTE = sns.color_palette("colorblind")


def apply_theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE,
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "axes.titleweight": "bold",
                      "figure.figsize": (6.4, 4.2), "svg.fonttype": "none"})


def figure(*args, **kw):
    """plt.subplots with the theme applied."""
    apply_theme()
    return plt.subplots(*args, **kw)


def savefig(fig, path: str | Path) -> None:
    """Write a PNG atomically (deterministic metadata: no timestamps) and close the figure."""
    buf = _io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def band(ax, x, mid, lo, hi, label=None, color=None, **kw):
    """A curve with its confidence band (every Monte Carlo figure shows one)."""
    line, = ax.plot(x, mid, label=label, color=color, **kw)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    return line
