"""Figures of article 9675: the accuracy table as a heatmap, accuracy vs position, phase steps, the decimal toy."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

from kexue.io import read_json
from kexue.plots import PALETTE, band, figure, savefig

# the names of kexue.rope_extrapolation, repeated here so that drawing does not import torch
TRAININGS = ("std", "logn")
RULES = ("extrapolate", "pi", "ntk", "ntk_article")
LABELS = {"extrapolate": "baseline", "pi": "PI", "ntk": "NTK", "ntk_article": "NTK (base·k)"}
MAIN = ("extrapolate", "pi", "ntk")


def table_heatmap(m: dict, out: Path) -> None:
    lm = m["lm"]
    rows, vals = [], []
    for tr in TRAININGS:
        for r in MAIN:
            rows.append(f"{LABELS[r]}{'-log n' if tr == 'logn' else ''}")
            vals.append([lm["acc"][tr][s][r]["all"]["mean"] for s in ("train_len", "repeated", "natural")])
    vals = np.array(vals)
    fig, ax = figure(figsize=(6.2, 4.2))
    im = ax.imshow(vals, cmap="viridis", aspect="auto")
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            ax.text(j, i, f"{vals[i, j]:.1f}%", ha="center", va="center",
                    color="white" if vals[i, j] < vals.mean() else "black", fontsize=10)
    ax.set_xticks(range(3), [f"{lm['train_len']} (train)", f"{lm['test_len']} repeated", f"{lm['test_len']} natural"])
    ax.set_yticks(range(len(rows)), rows)
    ax.grid(False)
    ax.set_title(f"Token accuracy, k = {lm['k']:g} ({lm['corpus']}, n = {lm['n_windows']} windows)")
    fig.colorbar(im, ax=ax, label="accuracy (%)")
    savefig(fig, out / "accuracy_table.png")


def accuracy_vs_position(m: dict, a, out: Path) -> None:
    lm = m["lm"]
    fig, axes = figure(2, 2, figsize=(11, 7), sharey=True)
    for i, tr in enumerate(TRAININGS):
        for j, s in enumerate(("natural", "repeated")):
            ax = axes[i, j]
            for c, r in zip(PALETTE, RULES):
                key = f"bucket_{tr}_{s}_{r}"
                band(ax, a[key + "_centre"], a[key + "_mean"], a[key + "_lo"], a[key + "_hi"], label=LABELS[r],
                     color=c, ls="--" if r == "ntk_article" else "-")
            ax.axvline(lm["train_len"], color="grey", ls=":", lw=1)
            ax.set_title(f"{tr} training, {s} text")
            ax.set_xlabel("position")
            ax.set_ylabel("accuracy (%) with 95% CI")
    axes[0, 0].legend(fontsize=8)
    savefig(fig, out / "accuracy_vs_position.png")


def phase_steps(m: dict, a, out: Path) -> None:
    k_card = m["ident"]["k"]
    fig, axes = figure(1, 2, figsize=(11, 4))
    panels = [("128", k_card, "d_h = 128, k = %g (card)" % k_card),
              ("model", float(a["model_k"]), "d_h = %d (the trained model), k = %g"
               % (m["lm"]["models"]["std"]["head_dim"], float(a["model_k"])))]
    for ax, (tag, k, title) in zip(axes, panels):
        for c, r in zip(PALETTE, RULES):
            st = a[f"steps_{tag}_{r}"]
            ax.semilogy(np.arange(len(st)), st, marker=".", color=c, label=LABELS[r],
                        ls="--" if r == "ntk_article" else "-")
        ax.set_xlabel("frequency index m")
        ax.set_ylabel("phase step (radians / position)")
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    savefig(fig, out / "phase_steps.png")


def _digits(x: float, base: int, width: int) -> list:
    """Base-`base` digits of x >= 0, most significant first; a fractional x keeps its fraction in the last digit."""
    whole, frac = int(x), x - int(x)
    out = []
    for _ in range(width):
        whole, r = divmod(whole, base)
        out.append(r)
    out = out[::-1]
    out[-1] = out[-1] + frac
    return out


def decimal_toy(out: Path) -> None:
    """Codes of a few n under the three ways to reach 2000 with a 3-digit decimal code trained on n < 1000.
    Orange cells: the code leaves what training saw (a 4th digit, a fractional digit, a digit >= 10)."""
    ns = [0, 1, 999, 1000, 1749, 1999]
    schemes = [("extrapolate\n(base 10, 4 digits)", lambda n: _digits(n, 10, 4), lambda d: d[0] != 0),
               ("interpolate\n(n/2, base 10)", lambda n: _digits(n / 2, 10, 3), lambda d: d[-1] != int(d[-1])),
               ("base conversion\n(base 13, 3 digits)", lambda n: _digits(n, 13, 3), lambda d: max(d) >= 10)]
    fig, ax = figure(figsize=(8.5, 3.8))
    for j, (title, enc, unseen) in enumerate(schemes):
        for i, n in enumerate(ns):
            d = enc(n)
            txt = "[" + ", ".join(f"{v:g}" for v in d) + "]"
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color=PALETTE[1] if unseen(d) else PALETTE[0], alpha=0.25, lw=0))
            ax.text(j, i, txt, ha="center", va="center", fontsize=10)
    ax.set_xlim(-0.5, len(schemes) - 0.5)
    ax.set_ylim(len(ns) - 0.5, -0.5)
    ax.set_xticks(range(len(schemes)), [s[0] for s in schemes])
    ax.set_yticks(range(len(ns)), [f"n = {n}" for n in ns])
    ax.grid(False)
    ax.set_title("A 3-digit decimal code trained on n < 1000, asked for n < 2000", fontsize=11)
    savefig(fig, out / "decimal_toy.png")


def draw_all(metrics_path, arrays_path, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m = read_json(metrics_path)
    a = np.load(arrays_path)
    table_heatmap(m, out)
    accuracy_vs_position(m, a, out)
    phase_steps(m, a, out)
    decimal_toy(out)
