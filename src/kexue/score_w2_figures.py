"""Figures of article 9467 (W2 <= score matching), drawn from the stages' npz files only."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])


def bound_vs_w2(g, path: Path) -> None:
    fig, ax = figure(figsize=(6.4, 5.2))
    dims = sorted(set(g["row_d"].astype(int).tolist()))
    lo, hi = np.inf, 0.0
    for i, d in enumerate(dims):
        s = g["row_d"] == d
        c = PALETTE[i % len(PALETTE)]
        ax.scatter(g["row_w2_ode"][s], g["row_bound_half"][s], s=18, facecolors="none", edgecolors=c,
                   label=f"d = {d}: ODE vs bound(1/2 g^2)")
        ax.scatter(g["row_w2_sde"][s], g["row_bound_g2"][s], s=18, marker="x", color=c,
                   label=f"d = {d}: SDE vs bound(g^2)")
        both = np.concatenate([g["row_w2_ode"][s], g["row_w2_sde"][s], g["row_bound_half"][s], g["row_bound_g2"][s]])
        lo, hi = min(lo, both[both > 0].min()), max(hi, both.max())
    x = np.geomspace(lo / 1.5, hi * 1.5, 10)
    ax.plot(x, x, color="k", lw=1, ls="--", label="y = x")
    ax.set(xscale="log", yscale="log", xlabel="W2 to the data (closed form)", ylabel="bound",
           title="Case A: every configuration")
    ax.legend(fontsize=8)
    savefig(fig, path)


def gaussian_curves(g, path: Path) -> None:
    """C5 weight and bbar^2 (top), the calibration rows' integrand and L_t (bottom)."""
    fig, axes = figure(2, 2, figsize=(11, 8))
    (a1, a2), (a3, a4) = axes
    t = g["c5_t"]
    k = slice(None, None, max(1, len(t) // 20))
    for i, s2 in enumerate(g["c5_s0_sq"]):
        c = PALETTE[i % len(PALETTE)]
        a1.plot(t, g[f"c5_{i}_weight"], color=c, label=f"s0^2 = {s2:g}")
        a1.plot(t[k], g[f"c5_{i}_weight_closed"][k], "o", ms=3, color=c)
    a1.set(yscale="log", xlabel="t", ylabel="g_t^2 I_t", title="exact score: weight (dots: closed form)")
    a1.legend(fontsize=8)
    a2.plot(t, g["c5_bbar2"], color=PALETTE[0])
    a2.set(xlabel="t", ylabel="bbar_t^2", title="bbar_t^2 (the eps-loss factor)")
    t = g["t"]
    for i, lab in enumerate(g["calib_labels"]):
        a3.plot(t, g[f"calib{i}_integrand_half"], color=PALETTE[i], label=str(lab))
        a4.plot(t, g[f"calib{i}_L"], color=PALETTE[i], label=str(lab))
    a3.set(xlabel="t", ylabel="1/2 g^2 I_t e_t", title="integrand of the bound (card calibration rows)")
    a4.set(xlabel="t", ylabel="L_t", title="one-sided Lipschitz constant (reverse time)")
    a4.axhline(0, color="k", lw=0.5)
    a3.legend(fontsize=8)
    savefig(fig, path)


def learned(b, path: Path) -> None:
    """Case B per checkpoint: W2 and bound vs step, DSM - SM gap, SM loss; integrand, L_t, e_t^2 over t."""
    fig, axes = figure(2, 3, figsize=(15, 8))
    if not bool(b["run"]):
        _empty(axes[0, 0], "Case B (learned score) not run at this profile (smoke)")
        for ax in axes.ravel()[1:]:
            ax.set_axis_off()
        savefig(fig, path)
        return
    import matplotlib as mpl

    s = b["steps"]
    ax = axes[0, 0]
    band(ax, s, b["w2_mean"], b["w2_lo"], b["w2_hi"], label="empirical W2 (ODE samples)", color=PALETTE[0],
         marker="o")
    band(ax, s, b["bound_half"], b["bound_half_lo"], b["bound_half_hi"], label="bound (1/2 g^2)", color=PALETTE[1],
         marker="s")
    ax.plot(s, b["bound_g2"], ls=":", color=PALETTE[1], label="bound (g^2)")
    m, flo, fhi = b["floor"]  # mean and 95% t-interval over the independent real-vs-real pairs
    ax.axhspan(flo, fhi, color="0.6", alpha=0.3, lw=0)
    ax.axhline(m, color="0.4", ls="--", label="real-vs-real floor")
    ax.set(yscale="log", xlabel="training step", ylabel="W2 to p_{t_min}", title="W2 and bound")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.errorbar(s, b["gap_mean"], yerr=[b["gap_mean"] - b["gap_lo"], b["gap_hi"] - b["gap_mean"]], fmt="o-",
                color=PALETTE[0], capsize=3)
    ax.set(xlabel="training step", ylabel="DSM - SM (eps units)", title="DSM - SM gap (common draws, 95% CI)")
    band(axes[0, 2], s, b["sm_mean"], b["sm_lo"], b["sm_hi"], color=PALETTE[1], label="SM loss", marker="o")
    axes[0, 2].set(yscale="log", xlabel="training step", ylabel="E||eps_theta - eps*||^2", title="SM loss")
    t, K = b["ts"], len(s)
    cmap = mpl.colormaps["viridis"]
    for k in range(K):
        c = cmap(k / max(K - 1, 1))
        lab = f"step {int(s[k])}" if k in (0, K - 1) else None
        band(axes[1, 0], t, b[f"k{k}_integrand"], b[f"k{k}_integrand_lo"], b[f"k{k}_integrand_hi"], color=c,
             label=lab)
        axes[1, 1].plot(t, b[f"k{k}_L"], color=c, label=lab)
        band(axes[1, 2], t, b[f"k{k}_e2"], b[f"k{k}_e2_lo"], b[f"k{k}_e2_hi"], color=c, label=lab)
    axes[1, 0].set(yscale="log", xlabel="t", ylabel="1/2 g^2 I_t e_t", title="integrand of the bound")
    axes[1, 1].set(xlabel="t", ylabel="L_t (grid max)", title="one-sided Lipschitz estimate")
    axes[1, 2].set(yscale="log", xlabel="t", ylabel="e_t^2", title="score error E||grad log p_t - s||^2")
    for ax in axes[1]:
        ax.legend(fontsize=8)
    savefig(fig, path)


def draw_all(gauss_npz, learned_npz, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g, b = np.load(gauss_npz), np.load(learned_npz)
    bound_vs_w2(g, out / "bound_vs_w2.png")
    gaussian_curves(g, out / "gaussian_curves.png")
    learned(b, out / "learned.png")
