"""Figures of article 9687 (self-consuming loops): Gaussian chains, mixture scatters and curves, digit grids and
curves. Bands: 95% intervals (chains: mean +- 1.96 SE, medians: order-statistic interval; loops: Student-t over
seeds, drawn only when there are >= 2 seeds)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.image_grids import draw_grid
from kexue.montecarlo import mean_ci
from kexue.plots import PALETTE, band, figure, savefig

LOOP_LABEL = {"fixed": "fixed real + synthetic", "fresh": "fresh real + synthetic"}


def _label(name: str) -> str:
    if name.startswith("synthetic_l"):
        return f"fully synthetic, λ = {name[len('synthetic_l'):]}"
    return LOOP_LABEL.get(name, name)


def _curve(ax, x, vals, label, color):
    vals = np.asarray(vals, dtype=np.float64)
    if vals.shape[0] >= 2:
        ci = mean_ci(vals, axis=0)
        band(ax, x, ci["mean"], ci["lo"], ci["hi"], label=label, color=color, marker=".")
    else:
        ax.plot(x, vals[0], label=label, color=color, marker=".")


def gaussian_figure(arr, out: Path) -> None:
    names = sorted({k.split("__")[0] for k in arr.files if "__" in k})
    tr0 = float(np.trace(arr["Sigma0"]))
    fig, axes = figure(1, 3, figsize=(15, 4.3))
    ax = axes[0]
    n_big = max(int(n.split("_n")[1].split("_")[0]) for n in names if n.startswith("d2"))
    for i, name in enumerate(n for n in names if n.startswith(f"d2_n{n_big}_")):
        lam = float(name.split("_l")[1])
        m, se = arr[f"{name}__trace_mean"], arr[f"{name}__trace_se"]
        t = np.arange(len(m))
        ok = m - 1.96 * se > 0
        band(ax, t[ok], np.log(m[ok]), np.log(m[ok] - 1.96 * se[ok]), np.log(m[ok] + 1.96 * se[ok]),
             label=f"λ = {lam:g}: log mean tr(λΣ_t)", color=PALETTE[i])
        ax.plot(t, np.log(lam ** t * tr0), ls=":", color="k", lw=1)
        ax.plot(t, np.log(arr[f"{name}__trace_median"]), ls="--", color=PALETTE[i], lw=1)
    ax.set(xlabel="generation t", ylabel="log trace of model covariance",
           title=f"C1: truncation, n = {n_big}")
    ax.text(0.02, 0.6, "dotted: λ^t tr Σ0\ndashed: median", transform=ax.transAxes, fontsize=8)
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, name in enumerate(n for n in names if n.startswith("d2_") and n.endswith("_l1")):
        n = int(name.split("_n")[1].split("_")[0])
        v, se = arr[f"{name}__mu_cov_trace"][1:], arr[f"{name}__mu_cov_trace_se"][1:]
        t = np.arange(1, len(v) + 1)
        band(ax, t, v / tr0, np.maximum(v - 1.96 * se, v / 10) / tr0, (v + 1.96 * se) / tr0,
             label=f"n = {n}: tr Cov(μ_t) / tr Σ0", color=PALETTE[i])
        ax.plot(t, t / n, ls=":", color=PALETTE[i], lw=1.2, label=f"t / n (n = {n})")
        ax.axvline(n / 4, color=PALETTE[i], lw=0.8, alpha=0.5)
    ax.set(xscale="log", yscale="log", xlabel="generation t", ylabel="tr Cov(μ_t) / tr Σ0",
           title="C2: mean random walk, λ = 1 (vertical: t = n/4)")
    ax.legend(fontsize=8)
    ax = axes[2]
    from kexue.gaussian_refit_chains import kappa
    for i, name in enumerate(n for n in names if n.startswith("d1_")):
        n = int(name.split("_n")[1].split("_")[0])
        med = arr[f"{name}__trace_median"]
        t = np.arange(len(med))
        band(ax, t, np.log(med), arr[f"{name}__logtrace_median_lo"], arr[f"{name}__logtrace_median_hi"],
             label=f"n = {n}: median log σ_t²", color=PALETTE[i])
        ax.plot(t, -kappa(n) * t, ls=":", color=PALETTE[i], lw=1.2, label=f"-κ_n t, κ = {kappa(n):.4f}")
        ax.plot(t, np.log(arr[f"{name}__trace_mean"]), ls="--", color=PALETTE[i], lw=0.8,
                label=f"n = {n}: log mean σ_t²")
    ax.set(xlabel="generation t", ylabel="log variance (σ0² = 1)", title="C3: 1-D, λ = 1: typical variance collapses")
    ax.legend(fontsize=8)
    savefig(fig, out / "gaussian_chains.png")


def mixture_figures(arr, m, out: Path) -> None:
    loops = list(m["loops"])
    sgens = sorted({int(k.rsplit("_g", 1)[1]) for k in arr.files if "_g" in k})
    fig, axes = figure(len(loops), len(sgens) + 1, figsize=(2.6 * (len(sgens) + 1), 2.6 * len(loops)), squeeze=False)
    real = arr["scatter_real"]
    for i, name in enumerate(loops):
        axes[i, 0].scatter(real[:, 0], real[:, 1], s=1, color="0.4")
        axes[i, 0].set_title("real" if i == 0 else "")
        axes[i, 0].set_ylabel(_label(name), fontsize=8)
        for j, g in enumerate(sgens):
            key = f"scatter_{name}_g{g}"
            ax = axes[i, j + 1]
            if key in arr.files:
                ax.scatter(arr[key][:, 0], arr[key][:, 1], s=1, color=PALETTE[i])
            ax.set_title(f"generation {g}" if i == 0 else "")
    for ax in axes.ravel():
        ax.set(xlim=(-4.5, 4.5), ylim=(-4.5, 4.5), xticks=[], yticks=[], aspect="equal")
    savefig(fig, out / "mixture_scatter.png")

    gens = m["eval_gens"]
    keys = (("w2", "W2 to fresh real set"), ("precision", "precision (k-NN)"), ("recall", "recall (k-NN)"),
            ("modes", "modes covered (of 8)"))
    fig, axes = figure(1, 4, figsize=(18, 4.2))
    for ax, (key, title) in zip(axes, keys):
        for i, name in enumerate(loops):
            _curve(ax, gens, m["loops"][name][key], _label(name), PALETTE[i])
        ax.axhline(float(np.mean(m["floor"][key])), color="k", ls=":", lw=1, label="real vs real")
        ax.set(xlabel="generation", title=title)
    axes[0].legend(fontsize=8)
    savefig(fig, out / "mixture_curves.png")


def image_figures(arr, m, out: Path) -> None:
    loops = list(m["loops"])
    gens = [g for g in m["generations"] if g > 0]
    show = sorted({gens[0], gens[len(gens) // 2], gens[-1]} | ({5} if 5 in gens else set()))
    fig, axes = figure(len(loops), len(show) + 1, figsize=(2.4 * (len(show) + 1), 2.6 * len(loops)), squeeze=False)
    for i, name in enumerate(loops):
        draw_grid(axes[i, 0], arr["grid_real"][:16], 4, 4, title="real" if i == 0 else None)
        axes[i, 0].set_ylabel(_label(name), fontsize=8)
        for j, g in enumerate(show):
            draw_grid(axes[i, j + 1], arr[f"grid_{name}_g{g}"][:16], 4, 4, title=f"generation {g}")
    savefig(fig, out / "image_grids.png")

    x = m["generations"]
    keys = (("fd", m.get("fd_name", "FD")), ("precision", "precision (k-NN)"), ("recall", "recall (k-NN)"),
            ("entropy", "class entropy (nats)"))
    fig, axes = figure(1, 4, figsize=(18, 4.2))
    for ax, (key, title) in zip(axes, keys):
        for i, name in enumerate(loops):
            _curve(ax, x, m["loops"][name][key], _label(name), PALETTE[i])
        ax.set(xlabel="generation (0 = real training images)", title=title)
    axes[0].legend(fontsize=8)
    savefig(fig, out / "image_curves.png")


def draw_all(gauss_npz, mix_npz, img_npz, mets: dict, out) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gaussian_figure(np.load(gauss_npz), out)
    mixture_figures(np.load(mix_npz), mets["mix_metrics"]["a9687_mix"], out)
    image_figures(np.load(img_npz), mets["img_metrics"]["a9687_img"], out)
