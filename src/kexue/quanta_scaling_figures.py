"""Figures of kexue.fm/archives/9607 (quantization model of scaling) from the stored arrays."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig


def _window(n, K):
    return (n >= 3) & (n <= K // 100)


def draw_all(theory_npz, neural_npz, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = np.load(theory_npz)
    z = np.load(neural_npz)
    gammas = t["gammas"].tolist()
    keys = [f"{g:g}" for g in gammas]

    # ideal learner: L vs N, D, S
    fig, axes = figure(1, 3, figsize=(15, 4.4))
    for i, (g, k) in enumerate(zip(gammas, keys)):
        c = PALETTE[i]
        N, L = t[f"c2_N_{k}"], t[f"c2_L_{k}"]
        axes[0].loglog(N, L, "o", ms=3, color=c, label=f"γ = {g:g}")
        axes[0].loglog(N, L[0] * (N / N[0]) ** -g, "--", color=c, lw=1)
        for ax, x, lk, nk in ((axes[1], t["c3_D"], f"c3_L_{k}", f"c3_n_{k}"),
                              (axes[2], t["c4_S"], f"c4_L_{k}", f"c4_n_{k}")):
            Ls, ns = t[lk], t[nk]
            mid = Ls.mean(0)
            band(ax, x, mid, Ls.min(0), Ls.max(0), label=f"γ = {g:g}", color=c, marker="o", ms=3)
            w = _window(ns.min(0), int(t["K_explicit"])) & _window(ns.max(0), int(t["K_explicit"]))
            ax.loglog(x[~w], mid[~w], "o", ms=5, color="0.6", zorder=3)
            if w.any():
                j = np.flatnonzero(w)[0]
                ax.loglog(x, mid[j] * (x / x[j]) ** (-g / (g + 1)), "--", color=c, lw=1)
    for ax, lab in zip(axes, ("parameters N (n = N/C)", "data D (samples)", "steps S")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(lab)
        ax.set_ylabel("loss (nats)")
        ax.legend(fontsize=8)
    axes[0].set_title("L vs N: slope −γ")
    axes[1].set_title("L vs D: slope −γ/(γ+1)")
    axes[2].set_title("L vs S (cumulative counts)")
    savefig(fig, out / "ideal_learner.png")

    # C1
    fig, (a1, a2) = figure(1, 2, figsize=(11, 4.2))
    n = t["c1_n"]
    for i, (g, k) in enumerate(zip(gammas, keys)):
        a1.semilogx(n, t[f"c1_ratio_{k}"], color=PALETTE[i], label=f"γ = {g:g}")
        a2.semilogx(n, t[f"c1_slope_{k}"], color=PALETTE[i], label=f"γ = {g:g}")
        a2.axhline(-g, color=PALETTE[i], ls="--", lw=1)
    a1.axhline(1, color="k", lw=0.8)
    a1.set(xlabel="n", ylabel="tail / (n^−γ/γ)", title="tail ratio → 1")
    a2.set(xlabel="n", ylabel="d log tail / d log n", title="local slope → −γ")
    a1.legend()
    a2.legend()
    savefig(fig, out / "tail_ratio.png")

    # C6, C7
    fig, (b1, b2, b3) = figure(1, 3, figsize=(15, 4.2))
    n6 = t["c6_n"]
    b1.loglog(n6, t["c6_L_zipf"], "o-", ms=3, label="Zipf γ = 0.4")
    b1.loglog(n6, t["c6_L_exp"], "s-", ms=3, label=f"exponential μ = {float(t['exp_mu']):g}")
    b1.set(xlabel="n known quanta", ylabel="loss (nats)", title="log-log: Zipf straight, exponential bends")
    b1.legend()
    n7 = t["c7_n"]
    b2.loglog(n7[:-1], t["c7_L"][:-1], label=f"finite Q = {int(n7[-1])}")
    b2.loglog(n7, t["c7_L_inf"], "--", label="infinite tail")
    b2.axvline(n7[-1], color="k", lw=0.8)
    b2.set(xlabel="n", ylabel="loss (nats)", title="finite Q: L → a = 0 at n = Q")
    b2.legend()
    for i, kq in enumerate((1, 10, 100)):
        b3.semilogx(t["c7_totals"], t["c7_emerge"][i], color=PALETTE[i], label=f"quantum {kq}")
    b3.set(xlabel="samples D", ylabel="P(not learned) = loss / b", title="emergence of single quanta")
    b3.legend()
    savefig(fig, out / "shapes.png")

    # sparse parity heatmaps
    TL, steps, widths = z["task_loss"], z["eval_steps"], z["widths"]
    fig, (h1, h2) = figure(1, 2, figsize=(12, 5))
    im = h1.imshow(TL[:, -1, :].T, aspect="auto", cmap="viridis", vmin=0, vmax=1, origin="upper")
    h1.grid(False)
    h2.grid(False)
    h1.set_xticks(range(len(widths)), [str(w) for w in widths])
    h1.set(xlabel="width", ylabel="subtask (frequency rank − 1)", title="final loss (bits)")
    fig.colorbar(im, ax=h1)
    im2 = h2.imshow(TL[-1].T, aspect="auto", cmap="viridis", vmin=0, vmax=1, origin="upper")
    idx = np.linspace(0, len(steps) - 1, min(6, len(steps))).round().astype(int)
    h2.set_xticks(idx, [str(int(steps[i])) for i in idx])
    h2.set(xlabel="step (log-spaced evaluations)", ylabel="subtask", title=f"width {int(widths[-1])}: loss (bits)")
    fig.colorbar(im2, ax=h2)
    savefig(fig, out / "emergence.png")

    # neural mean loss
    probs, g = z["probs"], float(z["gamma"])
    mean = TL @ probs                                     # [W, n_eval]
    fig, (s1, s2) = figure(1, 2, figsize=(11, 4.2))
    P = z["n_params"]
    s1.loglog(P, mean[:, -1], "o-", label="final mean loss")
    s1.loglog(P, mean[0, -1] * (P / P[0]) ** -g, "--", color="k", lw=1, label=f"N^−γ, γ = {g:g}")
    s1.set(xlabel="parameters", ylabel="mean test loss (bits)", title="loss vs parameters")
    s1.legend()
    for i, w in enumerate(widths):
        s2.loglog(steps, mean[i], color=PALETTE[i % len(PALETTE)], label=f"width {int(w)}")
    s2.set(xlabel="step", ylabel="mean test loss (bits)", title="loss vs steps")
    s2.legend(fontsize=8)
    savefig(fig, out / "neural_scaling.png")

    # exponents vs gamma
    fig, ax = figure()
    gg = np.linspace(0.05, max(gammas) * 1.2, 200)
    ax.plot(gg, gg, "k-", lw=1, label="y = γ")
    ax.plot(gg, gg / (gg + 1), "k--", lw=1, label="y = γ/(γ+1)")
    ax.plot(gammas, -t["slope_N"], "o", label="ideal α_N")
    ax.plot(gammas, -t["slope_D"], "s", label="ideal α_D")
    ax.plot(gammas, -t["slope_S"], "^", label="ideal α_S")
    if "sweep_gamma" in z:
        ax.plot(z["sweep_gamma"], z["sweep_alpha"], "D", label="MLP α_N (sweep)")
    ax.set(xlabel="γ", ylabel="exponent", title="fitted exponents vs γ")
    ax.legend()
    savefig(fig, out / "exponents.png")
