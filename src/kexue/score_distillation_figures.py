"""Figures of article 10085 (SiD) from the evaluate stage's plot data and the prepare stage's identity arrays."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig


def _ci(rows):
    """Mean and a 95% t-interval across seeds (rows), per column; a single seed gives a zero-width band."""
    from scipy import stats

    a = np.asarray(rows, np.float64)
    m = a.mean(0)
    if len(a) < 2:
        return m, m, m
    h = stats.t.ppf(0.975, len(a) - 1) * a.std(0, ddof=1) / np.sqrt(len(a))
    return m, m - h, m + h


def draw_all(plot: dict, identity_npz, out) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scatter(plot, out / "samples.png")
    curves(plot, out / "quality_vs_iteration.png")
    modes(plot, out / "mode_histogram.png")
    identity(identity_npz, out / "identity_check.png")
    losses(plot, out / "losses.png")


def scatter(plot, path):
    panels = [("data", plot["data"])]
    for t, d in plot["teachers"].items():
        k = next(iter(d))
        panels.append((f"teacher {t} ({k})", d[k]))
    panels += list(plot["finals"].items())
    n = len(panels)
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = figure(rows, cols, figsize=(3.0 * cols, 3.0 * rows), squeeze=False)
    for ax, (title, x) in zip(axes.flat, panels):
        x = np.asarray(x)
        ok = np.isfinite(x).all(1)
        ax.scatter(x[ok, 0], x[ok, 1], s=1.5, alpha=0.35, color=PALETTE[0], rasterized=True)
        ax.scatter(plot["mix_mu"][:, 0], plot["mix_mu"][:, 1], s=12, marker="x", color="k")
        ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), title=title, aspect="equal")
        ax.title.set_fontsize(9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    savefig(fig, path)


def curves(plot, path):
    fig, (a1, a2) = figure(1, 2, figsize=(11, 4))
    for i, (key, c) in enumerate(plot["curves"].items()):
        col = PALETTE[i % len(PALETTE)]
        x = np.asarray(c["steps"])
        band(a1, x, *_ci(c["W2"]), label=key, color=col)
        if "D" in c:
            d = np.asarray(c["D"], np.float64)
            if np.isfinite(d).all():
                band(a2, x, *_ci(d), label=key, color=col)
    a1.axhline(plot["fresh_W2"], ls="--", color="k", lw=1, label="fresh data (W2 floor)")
    a1.set(yscale="log", xlabel="iteration", ylabel="W2 to fresh data", title="W2 vs iteration (mean, 95% CI)")
    a2.set(yscale="log", xlabel="iteration", ylabel="D = |mean log p - data's|", title="D vs iteration")
    a1.legend(fontsize=6)
    a2.legend(fontsize=6)
    savefig(fig, path)


def modes(plot, path):
    keys = list(plot["masses"])
    fig, ax = figure(figsize=(max(6, 1.2 * len(keys)), 4))
    K = len(plot["mix_mu"])
    w = 0.8 / len(keys)
    for i, k in enumerate(keys):
        ax.bar(np.arange(K) + i * w, plot["masses"][k], width=w, label=k, color=PALETTE[i % len(PALETTE)])
    ax.axhline(1 / K, color="k", ls="--", lw=1, label="true share 1/8")
    ax.axhline(0.25 / K, color="k", ls=":", lw=1, label="coverage threshold")
    ax.set(xlabel="mode (nearest centre)", ylabel="fraction of samples", title="Mode masses (seed 0)")
    ax.legend(fontsize=6, ncol=2)
    savefig(fig, path)


def identity(npz, path):
    a = np.load(npz)
    n = a["run_n"]
    fig, (a1, a2) = figure(1, 2, figsize=(11, 4))
    for ax, pair, labels in ((a1, ("c1_lhs", "c1_rhs"), ("<h, bbar grad log p_t>", "-<h, eps>")),
                             (a2, ("l1", "l2"), ("L1", "L2"))):
        for j, (k, lab) in enumerate(zip(pair, labels)):
            m, se = a[f"run_{k}_mean"], a[f"run_{k}_se"]
            band(ax, n, m, m - 1.96 * se, m + 1.96 * se, label=lab, color=PALETTE[j])
        ax.set(xscale="log", xlabel="Monte Carlo draws", title=f"{'C1' if ax is a1 else 'C2'} at t = {float(a['run_t']):g}")
        ax.legend(fontsize=8)
    savefig(fig, path)


def losses(plot, path):
    fig, (a1, a2) = figure(1, 2, figsize=(11, 4))
    for i, (k, v) in enumerate(plot["losses"].items()):
        v = np.asarray(v, np.float64)
        if k.endswith("/fake"):
            a2.plot(_smooth(v), label=k, color=PALETTE[i % len(PALETTE)])
        else:
            a1.plot(_smooth(v.mean(1)), label=k, color=PALETTE[i % len(PALETTE)])
    a1.set(xlabel="iteration", ylabel="student loss (seed mean, smoothed)", title="theta loss", yscale="symlog")
    a2.set(xlabel="iteration", ylabel="DSM loss per run", title="fake denoiser psi loss", yscale="log")
    a1.legend(fontsize=6)
    a2.legend(fontsize=7)
    savefig(fig, path)


def _smooth(x, k: int = 25):
    x = np.asarray(x, np.float64)
    if len(x) < k:
        return x
    return np.convolve(x, np.ones(k) / k, mode="valid")
