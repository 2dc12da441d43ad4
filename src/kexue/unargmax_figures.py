"""Figures of card 9046 (unargmaxable tokens), drawn from the synthetic and lm stages' files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig
from kexue.unargmax import EXAMPLE_W


def example_regions(out: Path) -> None:
    from matplotlib.colors import ListedColormap

    s = np.linspace(-3, 3, 401)
    Z = np.stack(np.meshgrid(s, s, indexing="xy"), -1).reshape(-1, 2)
    L = Z @ EXAMPLE_W.T
    win = np.where(L[:, 4] > L[:, :4].max(1), 4, L[:, :4].argmax(1)).reshape(len(s), len(s))
    fig, ax = figure(figsize=(5.2, 4.6))
    ax.imshow(win, origin="lower", extent=(-3, 3, -3, 3), cmap=ListedColormap(PALETTE[:5]), vmin=-0.5, vmax=4.5,
              alpha=0.45, interpolation="nearest")
    for i, w in enumerate(EXAMPLE_W):
        ax.scatter(*w, color=PALETTE[i], edgecolor="k", s=70, zorder=3, marker="*" if i == 4 else "o")
        ax.annotate(f"w{i + 1}" + (" (never wins)" if i == 4 else ""), w, xytext=(5, 5), textcoords="offset points")
    for i in range(4):
        ax.scatter([], [], color=PALETTE[i], label=f"z where class {i + 1} wins")
    ax.set(xlabel="z1 (also w's first coordinate)", ylabel="z2", title="argmax over z; class 5 region is empty")
    ax.legend(loc="lower left", fontsize=8)
    savefig(fig, out / "example_regions.png")


def sweep_heatmap(m: dict, out: Path) -> None:
    ns, ds = m["sweep"]["ns"], sorted(m["sweep"]["ds"])
    F = np.full((len(ns), len(ds)), np.nan)
    for i, n in enumerate(ns):
        for j, d in enumerate(ds):
            sel = [c["fraction"] for c in m["sweep"]["cells"] if c["n"] == n and c["d"] == d]
            F[i, j] = np.mean(sel) if sel else np.nan
    fig, ax = figure(figsize=(1.0 + 0.8 * len(ds), 1.4 + 0.6 * len(ns)))
    im = ax.imshow(F, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(len(ns)):
        for j in range(len(ds)):
            ax.text(j, i, f"{F[i, j]:.2f}", ha="center", va="center", color="w" if F[i, j] < 0.5 else "k", fontsize=8)
    ax.set_xticks(range(len(ds)), [str(d) for d in ds])
    ax.set_yticks(range(len(ns)), [str(n) for n in ns])
    ax.set(xlabel="dimension d", ylabel="classes n", title=f"unargmaxable fraction ({m['sweep']['seeds']} seeds)")
    ax.grid(False)
    fig.colorbar(im, ax=ax)
    savefig(fig, out / "sweep_heatmap.png")


def norm_spread(m: dict, out: Path) -> None:
    sp = m["spread_summary"]
    x = sorted(float(k) for k in sp)
    g = [sp[str(v)] for v in x]
    fig, ax = figure()
    band(ax, x, [e["p"] for e in g], [e["lo"] for e in g], [e["hi"] for e in g], marker="o",
         label=f"n = {m['spread']['n']}, d = {m['spread']['d']}")
    ax.set(xlabel="norm spread s (norms exp(s N(0,1)))", ylabel="unargmaxable fraction", ylim=(-0.02, 1.02))
    ax.legend()
    savefig(fig, out / "norm_spread.png")


def _lm_models(lm: dict) -> dict:
    return lm["lm"]["models"]


def lm_frequency(lm: dict, arr, out: Path) -> None:
    fig, ax = figure()
    mods = _lm_models(lm)
    if not mods:
        ax.text(0.5, 0.5, "no LM trained at this profile", ha="center", transform=ax.transAxes)
    else:
        ranks = arr[f"{next(iter(mods))}_ranks"]
        bins = np.linspace(1, len(ranks), 21)
        ax.hist(ranks, bins=bins, density=True, histtype="stepfilled", alpha=0.25, color="gray", label="all tokens")
        for i, k in enumerate(mods):
            u = arr[f"{k}_unarg"]
            if u.sum():
                ax.hist(arr[f"{k}_ranks"][u], bins=bins, density=True, histtype="step", lw=1.8, color=PALETTE[i],
                        label=f"{k}: {int(u.sum())} unargmaxable")
        ax.set(xlabel="training frequency rank (1 = most frequent)", ylabel="density")
        ax.legend(fontsize=8)
    savefig(fig, out / "lm_frequency.png")


def lm_counts(lm: dict, out: Path) -> None:
    fig, ax = figure()
    mods = _lm_models(lm)
    if not mods:
        ax.text(0.5, 0.5, "no LM trained at this profile", ha="center", transform=ax.transAxes)
    else:
        for bias, col, lab in ((True, PALETTE[0], "output bias"), (False, PALETTE[1], "no bias")):
            sel = sorted((v["d"], v["unargmaxable"]) for v in mods.values() if v["bias"] == bias)
            if sel:
                ax.bar([str(d) + ("" if bias else " (no b)") for d, _ in sel], [c for _, c in sel], color=col,
                       label=lab)
        ax.set(xlabel="bottleneck width d", ylabel="LP-unargmaxable tokens", yscale="symlog")
        ax.legend()
    savefig(fig, out / "lm_counts.png")


def draw_all(synthetic_json, lm_json, lm_npz, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m = json.loads(Path(synthetic_json).read_text())
    lm = json.loads(Path(lm_json).read_text())
    arr = np.load(lm_npz)
    example_regions(out)
    sweep_heatmap(m, out)
    norm_spread(m, out)
    lm_frequency(lm, arr, out)
    lm_counts(lm, out)
