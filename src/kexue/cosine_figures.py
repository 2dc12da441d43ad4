"""Figures (a)-(d) of article 9931 (local vs global cosine), drawn with the lab's theme."""
from __future__ import annotations

import numpy as np

from kexue.plots import PALETTE, figure, savefig


def draw_all(arrays_path, traces_path, out):
    """Figures (a)-(d) of the card, from the numerics arrays and the training traces."""
    z = np.load(arrays_path)

    # (a) global cosine vs eps
    fig, ax = figure()
    for i, lam in enumerate(z["ce_lambdas"]):
        ax.loglog(z["ce_eps"], z["ce_glob"][i], "o", ms=7, color=PALETTE[i], label=f"λ = {lam:g} (measured)")
        ax.loglog(z["ce_eps"], 2 * lam * z["ce_eps"], "--", color=PALETTE[i], lw=1.2)
    ax.set_xlabel("ε"), ax.set_ylabel("global cosine cos(x, y)")
    ax.set_title("All local cosines = λ, global → 0 (dashed: 2λε)")
    ax.legend()
    savefig(fig, out / "eps_scaling.png")

    # (b) global vs max / min local cosine
    fig, axes = figure(ncols=2, figsize=(11, 4.6))
    names = {"nonneg": "all $c_k \\geq 0$", "mixed": "mixed signs", "neg": "all $c_k < 0$"}
    for j, key in enumerate(("cmax", "cmin")):
        ax = axes[j]
        for i, kind in enumerate(("nonneg", "mixed", "neg")):
            ax.scatter(z[f"rs_{kind}_{key}"], z[f"rs_{kind}_glob"], s=4, alpha=0.35, color=PALETTE[i],
                       label=names[kind], rasterized=True)
        ax.plot([-1, 1], [-1, 1], "k-", lw=1, label="y = x")
        ax.set_xlabel("max$_k\\,c_k$" if key == "cmax" else "min$_k\\,c_k$")
        ax.set_ylabel("global cosine")
        ax.set_xlim(-1.02, 1.02), ax.set_ylim(-1.02, 1.02)
    axes[0].set_title("cos ≤ max$_k\\,c_k$ unless all $c_k<0$")
    axes[1].set_title("cos ≥ min$_k\\,c_k$ unless all $c_k>0$")
    axes[0].legend(markerscale=4, loc="upper left")
    savefig(fig, out / "bounds_scatter.png")

    # (c) Simpson
    fig, ax = figure()
    x1, y1, x2, y2 = z["simpson_x1"], z["simpson_y1"], z["simpson_x2"], z["simpson_y2"]
    grid = np.linspace(-0.2, 3.2, 10)
    for i, (x, y) in enumerate(((x1, y1), (x2, y2))):
        k, b = np.polyfit(x, y, 1)
        own = np.linspace(x.min() - 0.4, x.max() + 0.4, 10)
        ax.scatter(x, y, s=14, color=PALETTE[i], label=f"group {i + 1}")
        ax.plot(own, k * own + b, color=PALETTE[i], lw=1.5)
    xp, yp = np.concatenate([x1, x2]), np.concatenate([y1, y2])
    k, b = np.polyfit(xp, yp, 1)
    ax.plot(grid, k * grid + b, "k--", lw=1.5, label=f"pooled fit (slope {k:.2f})")
    ax.set_xlabel("x"), ax.set_ylabel("y"), ax.set_title("Simpson: r = 1 within groups, pooled r < 0")
    ax.legend()
    savefig(fig, out / "simpson.png")

    # (d) training time series, one panel per λ
    t = np.load(traces_path)
    lams = t["lambdas"].tolist()
    fig, axes = figure(nrows=len(lams), figsize=(9, 2.9 * len(lams)), sharex=True, squeeze=False)
    for i, lam in enumerate(lams):
        ax = axes[i, 0]
        loc = t[f"l{i}_local"]
        steps = np.arange(1, len(loc) + 1)
        for k in range(loc.shape[1]):
            ax.plot(steps, loc[:, k], lw=0.6, alpha=0.6, color="0.55",
                    label="per-tensor cosines" if k == 0 else None)
        ax.plot(steps, t[f"l{i}_glob"], lw=2, color=PALETTE[0], label="global cosine")
        ax.plot(steps, t[f"l{i}_cos_ab"], lw=1.2, color=PALETTE[1], label="cos(a, b) of the norm vectors")
        ax.axhline(lam, ls="--", color=PALETTE[3], lw=1.2, label=f"threshold λ = {lam:g}")
        ax.set_ylabel("cosine"), ax.set_ylim(-0.05, 1.3), ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_title(f"λ = {lam:g}")
        ax.legend(loc="upper center", fontsize=8, ncol=4, frameon=False)
    axes[-1, 0].set_xlabel("step")
    savefig(fig, out / "training_cosines.png")
