"""Figures (a)-(f) of article 9660 (gradient flows), drawn with the lab's theme."""
from __future__ import annotations

import numpy as np

from kexue.gradient_flow import gauss_flow, gauss_kl_to_target
from kexue.plots import PALETTE, figure, savefig


def draw_all(euclid_path, pde_path, particles_path, fp2d_path, out, snapshot_times, particle_times, gauss):
    e, w, pt = np.load(euclid_path), np.load(pde_path), np.load(particles_path)
    mu, s2, m0, v0 = gauss

    # (a) contours of the quadratic with GD iterates and the flow
    fig, ax = figure(figsize=(6.4, 4.6))
    X, Y = np.meshgrid(np.linspace(-1.2, 1.2, 300), np.linspace(-1.2, 1.2, 300))
    ax.contour(X, Y, 0.5 * (X ** 2 + 10 * Y ** 2), levels=np.geomspace(1e-3, 6, 14), colors="0.75", linewidths=0.7)
    flow = e["fig_a_flow"]
    ax.plot(flow[:, 0], flow[:, 1], "k-", lw=2, label="gradient flow")
    for i, aL in enumerate((0.1, 0.5, 1.5, 1.9)):
        g = e[f"fig_a_gd_{aL:g}"]
        ax.plot(g[:, 0], g[:, 1], "o-", ms=3, lw=0.8, color=PALETTE[i], label=f"GD, alpha L = {aL:g}")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", xlim=(-0.2, 1.1), ylim=(-1.1, 1.1), title="f = (x1² + 10 x2²)/2")
    ax.legend(fontsize=8)
    savefig(fig, out / "gd_paths.png")

    # (b) errors vs step size
    fig, axes = figure(1, 2, figsize=(10, 4))
    ax = axes[0]
    for i, name in enumerate(("quadratic", "logsumexp")):
        a, err = e[f"c1_alpha_{name}"], e[f"c1_err_{name}"]
        ax.loglog(a, err, "o-", color=PALETTE[i], label=f"GD vs flow, {name}")
        ax.loglog(a, err[0] * a / a[0], "k:", lw=0.8)
    ax.set(xlabel="alpha", ylabel="max |x_k - x(k alpha)|, k alpha <= 1", title="C1: slope 1 (dotted)")
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, name in enumerate(("quadratic", "logsumexp")):
        a, gap = e[f"c4_alpha_{name}"], e[f"c4_gap_{name}"]
        ax.loglog(a, gap, "s-", color=PALETTE[i], label=f"|prox - GD|, {name}")
        ax.loglog(a, gap[0] * (a / a[0]) ** 2, "k:", lw=0.8)
    a, gap = e["c5_alpha"], e["c5_gap"]
    ax.loglog(a, gap, "^-", color=PALETTE[2], label="|KL step - natural step|")
    ax.loglog(a, gap[-1] * (a / a[-1]) ** 2, "k:", lw=0.8)
    ax.set(xlabel="alpha", ylabel="gap", title="C4, C5: slope 2 (dotted)")
    ax.legend(fontsize=8)
    savefig(fig, out / "orders.png")

    # (c) unit balls with the steepest directions
    fig, axes = figure(1, 4, figsize=(13, 3.6))
    th = np.linspace(0, 2 * np.pi, 721)
    u = np.stack([np.cos(th), np.sin(th)], axis=1)
    M = e["fig_c_M"]
    balls = {"l2": u / np.linalg.norm(u, axis=1, keepdims=True),
             "linf": u / np.max(np.abs(u), axis=1, keepdims=True),
             "l1": u / np.sum(np.abs(u), axis=1, keepdims=True),
             "M": u / np.sqrt(np.einsum("ni,ij,nj->n", u, M, u))[:, None]}
    g = e["fig_c_grad"]
    for ax, (nm, ball) in zip(axes, balls.items()):
        ax.plot(ball[:, 0], ball[:, 1], color="0.4")
        pd = e[f"fig_c_pred_{nm}"]
        ax.annotate("", xy=pd, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=PALETTE[3], lw=2))
        ng = -g / np.linalg.norm(g)
        ax.annotate("", xy=ng, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color="0.6", lw=1, ls="--"))
        b = e[f"fig_c_brute_{nm}"]
        ax.plot(*b, "o", color=PALETTE[0], ms=6)
        ax.set(aspect="equal", xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), title={"l2": "l2", "linf": "l∞", "l1": "l1",
                                                                            "M": "M-norm"}[nm])
    axes[0].plot([], [], color=PALETTE[3], label="predicted")
    axes[0].plot([], [], "o", color=PALETTE[0], label="brute force (eps = 1e-3)")
    axes[0].plot([], [], "--", color="0.6", label="-grad f / |grad f|")
    axes[0].legend(fontsize=7, loc="lower left")
    savefig(fig, out / "norm_balls.png")

    # (d) PDE snapshots with particle histograms
    x = w["x"]
    edges = pt["hist_edges"]
    fig, axes = figure(1, 2, figsize=(12, 4.3))
    ax = axes[0]
    for i, t in enumerate(particle_times):
        ax.plot(x, w[f"gaussian_snap_{t:g}"], color=PALETTE[i], label=f"PDE t = {t:g}")
        ax.stairs(pt[f"gauss_ou_hist_{t:g}"], edges, color=PALETTE[i], alpha=0.6, lw=1)
        ax.stairs(pt[f"gauss_ode_hist_{t:g}"], edges, color=PALETTE[i], alpha=0.6, lw=1, ls=":")
    ax.plot(x, w["gaussian_snap_0"], color="0.5", lw=1, label="q0")
    ax.plot(x, w["gaussian_p"], "k--", lw=1, label="target p")
    ax.plot([], [], color="0.3", alpha=0.6, label="exact-OU particles (steps)")
    ax.plot([], [], ":", color="0.3", label="ODE particles (dotted steps)")
    ax.set(xlim=(-4, 4), xlabel="x", ylabel="density", title="Gaussian target")
    ax.legend(fontsize=7)
    ax = axes[1]
    for i, t in enumerate(snapshot_times):
        ax.plot(x, w[f"mixture_snap_{t:g}"], color=PALETTE[i], label=f"PDE t = {t:g}")
        ax.stairs(pt[f"mix_ula_hist_{t:g}"], edges, color=PALETTE[i], alpha=0.6, lw=1)
    ax.plot(x, w["mixture_snap_0"], color="0.5", lw=1, label="q0 = N(-6, 1)")
    ax.plot(x, w["mixture_p"], "k--", lw=1, label="target p")
    ax.set(xlim=(-9, 6), xlabel="x", title="mixture target, ULA particles (steps)")
    ax.legend(fontsize=7)
    savefig(fig, out / "densities.png")

    # (e) KL decay and the dissipation identity
    fig, axes = figure(1, 2, figsize=(12, 4.3))
    ax = axes[0]
    for i, (name, lab) in enumerate((("gaussian", "Gaussian"), ("mixture", "mixture"), ("metastable", "metastable"))):
        ax.semilogy(w[f"{name}_t"], np.maximum(w[f"{name}_kl"], 1e-16), color=PALETTE[i], label=f"KL(q||p), {lab}")
    t = w["gaussian_t"]
    ax.semilogy(t, np.maximum(gauss_kl_to_target(*gauss_flow(t, mu, s2, m0, v0), mu, s2), 1e-16), "k:",
                label="closed form (Gaussian)")
    ax.semilogy(w["forward_t"], w["forward_kl_fwd"], color=PALETTE[3], label="KL(p||q), forward-KL flow")
    ax.set(xlabel="t", ylabel="divergence", ylim=(1e-12, 50))
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, name in enumerate(("gaussian", "mixture")):
        tt, kl, fi = w[f"{name}_t"], w[f"{name}_kl"], w[f"{name}_fisher"]
        keep = kl > 1e-10
        ax.semilogy(tt[keep], np.maximum(-np.gradient(kl, tt)[keep], 1e-16), color=PALETTE[i], lw=2, alpha=0.6,
                    label=f"-dKL/dt, {name}")
        ax.semilogy(tt[keep], fi[keep], "k:", lw=1)
    ax.plot([], [], "k:", label="relative Fisher information I(t)")
    ax.set(xlabel="t", ylabel="rate", title="C7: -dKL/dt = I(t)")
    ax.legend(fontsize=8)
    savefig(fig, out / "kl_decay.png")

    # (f) JKO trajectories
    fig, axes = figure(1, 2, figsize=(11, 4))
    alphas = sorted({float(k.split("_")[1]) for k in w.files if k.startswith("jko_") and k.endswith("_t")}, reverse=True)
    tt = np.linspace(0, max(w[f"jko_{alphas[0]:g}_t"]), 300)
    mt, vt = gauss_flow(tt, mu, s2, m0, v0)
    for ax, key, ref, lab in ((axes[0], "m", mt, "mean"), (axes[1], "sd", np.sqrt(vt), "standard deviation")):
        ax.plot(tt, ref, "k-", lw=2, label="closed-form flow")
        for i, a in enumerate(alphas):
            ax.plot(w[f"jko_{a:g}_t"], w[f"jko_{a:g}_{key}"], "o-", ms=3, lw=0.8, color=PALETTE[i], label=f"JKO, alpha = {a:g}")
        ax.set(xlabel="t", ylabel=lab)
        ax.legend(fontsize=8)
    savefig(fig, out / "jko.png")

    # (g) 2-D Fokker–Planck with ULA particles (the card's full profile; a smaller grid at default)
    f2 = np.load(fp2d_path)
    fig, axes = figure(1, 2, figsize=(11, 4.4))
    if not bool(f2["measured"]):
        for ax in axes:
            ax.text(0.5, 0.5, "2-D run skipped at this profile (fp2d_cells = 0)", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
    else:
        x2 = f2["x"]
        ax = axes[0]
        lv = np.geomspace(1e-3, max(f2["q"].max(), f2["p"].max()), 7)
        ax.contour(x2, x2, f2["p"].T, levels=lv, colors="k", linestyles="--", linewidths=0.8)
        ax.contour(x2, x2, f2["q"].T, levels=lv, cmap="viridis")
        zs = f2["particles"]
        ax.scatter(zs[:, 0], zs[:, 1], s=2, alpha=0.3, color=PALETTE[3], label="ULA particles (2000 shown)")
        ax.set(aspect="equal", xlim=(-7, 5), ylim=(-7, 5), xlabel="x", ylabel="y",
               title="q_t at t = 2 (contours), p (dashed)")
        ax.legend(fontsize=8, loc="upper left")
        ax = axes[1]
        ax.semilogy(f2["t"], np.maximum(f2["kl"], 1e-16))
        ax.set(xlabel="t", ylabel="KL(q_t || p)", title=f"2-D, {x2.size} x {x2.size} cells")
    savefig(fig, out / "fp2d.png")
