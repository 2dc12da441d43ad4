"""Figures of article 9593 (softmax robustness and entropy)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig

NOISE_LABEL = {"gaussian": "Gaussian", "uniform": "uniform", "gumbel": "Gumbel (scale 0.78)",
               "gumbel@0.3": "Gumbel (scale 0.3)"}
CONTROL_LABEL = {"prob": "noise on probabilities", "value": "noise on values", "scaled": "noise ∝ logit (s·ε)"}


def robustness_figure(path_json: Path, out: Path) -> None:
    r = json.loads(Path(path_json).read_text())["robustness"]
    cfgs = r["configs"]
    sigmas = sorted({c["sigma_s"] for c in cfgs.values() if not c["control"]})
    noises = list(dict.fromkeys(c["noise"] for c in cfgs.values() if not c["control"]))
    fig, axes = figure(1, len(sigmas) + 1, figsize=(4.2 * (len(sigmas) + 1), 4.0), sharey=True)
    n = np.array(r["n"], float)
    for ax, sig in zip(axes, sigmas):
        for i, nm in enumerate(noises):
            c = cfgs[f"{nm}|sigma_s={sig:g}"]
            band(ax, n, c["median"], c["lo"], c["hi"], label=NOISE_LABEL.get(nm, nm), color=PALETTE[i])
        ax.set_title(f"logit noise, σ_s = {sig:g}")
    ctrl = [c for c in cfgs.values() if c["control"]]
    ax = axes[-1]
    base = cfgs[f"gaussian|sigma_s={sigmas[0]:g}"]
    band(ax, n, base["median"], base["lo"], base["hi"], label="logit noise (Gaussian)", color=PALETTE[0])
    for i, c in enumerate(ctrl):
        band(ax, n, c["median"], c["lo"], c["hi"], label=CONTROL_LABEL.get(c["control"], c["control"]),
             color=PALETTE[4 + i])
    ax.set_title(f"controls, σ_s = {sigmas[0]:g}, Gaussian ε")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("n (number of keys)")
        g = n[n >= r["fit_min"]]
        y0 = base["median"][int(np.argmax(n >= r["fit_min"]))]  # anchored at the sigma_s = 1 Gaussian curve
        ax.plot(g, y0 * (g / g[0]) ** -0.5, "k--", lw=1, label="slope −1/2")
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_ylabel(f"median ‖õ − o‖ / std(v) ({r['reps']} reps, 95% CI)")
    savefig(fig, out / "robustness_error.png")


def bounds_figures(path_npz: Path, out: Path) -> None:
    z = np.load(path_npz)
    fig, ax = figure()
    n = z["n_curve"]
    ax.plot(n, np.log(n), "k--", lw=1.2, label="log n (uniform)")
    for i, tau in enumerate(z["taus"]):
        if tau in (1.0, 0.5, 0.2, 0.1):
            ax.plot(n, z["hmin"][i], color=PALETTE[i], label=f"τ = {tau:g}")
    ax.set_xscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("minimal entropy H_min (nats)")
    ax.set_title("Lowest entropy of softmax(cos θ / τ)")
    ax.legend(fontsize=8)
    savefig(fig, out / "hmin_vs_n.png")

    fig, ax = figure()
    ax.plot(z["t"], z["f"], color=PALETTE[0], label="f(t) = log n − H, large n, τ = 1")
    ts, d, h = float(z["t_star"]), float(z["deficit"]), float(z["half"])
    ax.plot([ts], [d], "o", color=PALETTE[3], label=f"optimum t* = {ts:.7f}, f = {d:.7f}")
    ax.plot([0.5], [h], "s", color=PALETTE[2], label=f"half/half t = 0.5, f = {h:.7f}")
    ax.axvline(ts, color=PALETTE[3], lw=0.8, ls=":")
    ax.set_xlabel("fraction t of cosines at −1 (rest at +1)")
    ax.set_ylabel("entropy deficit (nats)")
    ax.set_title("Entropy deficit at τ = 1")
    ax.legend(fontsize=8, loc="lower center")
    savefig(fig, out / "deficit_t.png")


def jacobian_figure(path_json: Path, out: Path) -> None:
    r = json.loads(Path(path_json).read_text())["jacobian_scale"]
    c = np.array(r["c"])
    fig, ax = figure()
    H, J = r["H"], r["J"]
    band(ax, c, H["mean"], H["lo"], H["hi"], label="mean entropy H", color=PALETTE[0])
    ax.axhline(r["logn"], color=PALETTE[0], ls=":", lw=1, label=f"log n = {r['logn']:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("logit scale c  (s = c z, z ~ N(0, I))")
    ax.set_ylabel("entropy (nats)")
    ax2 = ax.twinx()
    band(ax2, c, J["mean"], J["lo"], J["hi"], label="mean ‖diag(p) − pp^T‖_F", color=PALETTE[3])
    ax2.set_ylabel("Jacobian Frobenius norm")
    ax2.grid(False)
    lines = ax.get_legend_handles_labels()
    l2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + l2[0], lines[1] + l2[1], fontsize=8, loc="upper right")
    ax.set_title(f"H and Jacobian vs logit scale (n = {r['n']}, {r['draws']} draws, 95% CI)", fontsize=10)
    savefig(fig, out / "jacobian_scale.png")


def training_figure(path_npz: Path, out: Path) -> None:
    from kexue.montecarlo import mean_ci

    z = np.load(path_npz)
    fig, axes = figure(1, 2, figsize=(10, 4))
    k = 10  # moving average over k steps
    for i, c in enumerate(z["scales"]):
        for ax, key in zip(axes, ("loss", "entropy")):
            a = z[f"{key}_{i}"]
            if a.shape[1] > k:
                a = np.stack([np.convolve(row, np.ones(k) / k, mode="valid") for row in a])
            steps = np.arange(a.shape[1]) + (k - 1 if z[f"{key}_{i}"].shape[1] > k else 0)
            for row in a:  # every seed, thin
                ax.plot(steps, row, color=PALETTE[i], lw=0.6, alpha=0.6)
            if a.shape[0] >= 2:
                ci = mean_ci(a, axis=0)
                band(ax, steps, ci["mean"], ci["lo"], ci["hi"], label=f"c = {c:g}", color=PALETTE[i], lw=2)
            else:
                ax.plot(steps, a[0], color=PALETTE[i], label=f"c = {c:g} (1 seed)")
    for ax in axes:  # losses and entropies are >= 0; a 3-seed t band can reach below
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel(f"training loss ({k}-step average)")
    axes[1].set_ylabel("attention entropy (nats)")
    axes[0].set_title(f"Retrieval attention, {len(z['seeds'])} seeds (mean, 95% t band)")
    axes[1].set_title("Entropy of the attention weights")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    savefig(fig, out / "init_training.png")


def draw_all(robustness_json, bounds_npz, jacobian_json, traces_npz, out) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    robustness_figure(robustness_json, out)
    bounds_figures(bounds_npz, out)
    jacobian_figure(jacobian_json, out)
    training_figure(traces_npz, out)
