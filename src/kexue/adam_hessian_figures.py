"""Figures of article 10588 (card figures (a)-(f), plus C1 and C8 panels)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig


def _guides(ax, x, y_anchor, slopes=(1.0, 0.5)):
    """Reference lines y = c x^s through the geometric centre of the data."""
    xs = np.geomspace(x.min(), x.max(), 50)
    xm, ym = np.exp(np.mean(np.log(x))), np.exp(np.mean(np.log(y_anchor)))
    for s, ls in zip(slopes, ("--", ":")):
        ax.plot(xs, ym * (xs / xm) ** s, ls, color="k", lw=1, label=f"slope {s:g}")


def quad_scatter(q, m, out):
    fig, axes = figure(1, len(q["betas2"]), figsize=(4.2 * len(q["betas2"]), 3.8), squeeze=False)
    for i, b2 in enumerate(q["betas2"]):
        ax = axes[0, i]
        root = q["mean_sqrt_vhat"][i]
        ax.loglog(q["h"], root, "o", ms=3, color=PALETTE[i], label=r"$\langle\sqrt{\hat v_i}\rangle$")
        _guides(ax, q["h"], root)
        s = m["quad"]["per_beta2"][f"{b2:g}"]
        ax.set_title(f"β2 = {b2:g}: slope {s['slope']:.3f}, R² {s['r2']:.3f}", fontsize=10)
        ax.set_xlabel("$h_i$")
    axes[0, 0].set_ylabel(r"time-averaged $\sqrt{\hat v_i}$")
    axes[0, 0].legend(fontsize=8)
    savefig(fig, out / "quadratic_scatter.png")


def oscillation(q, out):
    b = list(q["betas2"]).index(0.99) if 0.99 in list(q["betas2"]) else 0
    tr, st = q["trace"][b], q["trace_steps"]
    fig, axes = figure(1, 2, figsize=(10, 3.8))
    for j in range(tr.shape[1]):
        axes[0].plot(st, tr[:, j], lw=0.6, color=PALETTE[j], label=f"h = {q['trace_h'][j]:.3g}")
        axes[1].plot(st[-60:], tr[-60:, j], lw=0.9, marker=".", ms=3, color=PALETTE[j])
    sd = q["std_theta"][b]
    for ax in axes:
        ax.axhspan(-sd.mean(), sd.mean(), color="grey", alpha=0.2, lw=0)
        ax.set_xlabel("step")
    axes[0].set_yscale("symlog", linthresh=1e-4)
    axes[0].set_ylabel(r"$\theta_i - \theta_i^*$")
    axes[0].set_title(f"β2 = {q['betas2'][b]:g}: four coordinates, whole run", fontsize=10)
    axes[1].set_title("last recorded steps (band: mean std of θ)", fontsize=10)
    axes[0].legend(fontsize=7)
    savefig(fig, out / "oscillation.png")


def batch_slope(m, out):
    per = m["linreg"]["per_batch"]
    N = m["linreg"]["N"]
    keys = sorted(per, key=lambda k: N if k == "full" else int(k))  # JSON keys come back sorted as text
    xs = [N if k == "full" else int(k) for k in keys]
    s = np.array([per[k]["slope"] for k in keys])
    ci = np.array([per[k]["fit"]["slope_ci"] for k in keys])
    fig, ax = figure()
    ax.errorbar(xs, s, yerr=[s - ci[:, 0], ci[:, 1] - s], fmt="o-", capsize=3, color=PALETTE[0])
    for k, x, v in zip(keys, xs, s):
        ax.annotate(k if k == "full" else f"B={k}", (x, v), textcoords="offset points", xytext=(4, 6), fontsize=8)
    ax.axhline(1.0, ls="--", color="k", lw=1, label="1 (long-term average, Hessian)")
    ax.axhline(0.5, ls=":", color="k", lw=1, label="0.5 (Gauss–Newton / Fisher)")
    ax.set_xscale("log")
    ax.set_xlabel(f"batch size (full = N = {N})")
    ax.set_ylabel(r"slope of $\log\sqrt{\hat v}$ vs $\log h$")
    ax.legend(fontsize=8)
    savefig(fig, out / "batch_slope.png")


def ema(m, out):
    c = m["mc"]["c6"]
    fig, axes = figure(1, 2, figsize=(10, 3.8))
    x = 1 - np.array(c["betas2"])
    e = c["v_rel_err"]
    band(axes[0], x, e["mean"], e["lo"], e["hi"], label="measured mean |rel. error|", marker="o")
    axes[0].plot(x, c["v_rel_mean_theory"], "k--", lw=1, label=r"$\sqrt{2/\pi}\sqrt{(1-\beta_2)/(2(1+\beta_2))}$")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel(r"$1-\beta_2$")
    axes[0].set_title(r"$\sqrt{\hat v}$ vs $\sigma|h|$", fontsize=10)
    axes[0].legend(fontsize=8)
    x1 = np.array(c["betas1"])
    r = c["m_ratio"]
    band(axes[1], x1, r["mean"], r["lo"], r["hi"], label="measured", marker="o")
    axes[1].plot(x1, c["m_ratio_theory"], "k--", lw=1, label=r"$\sqrt{(1-\beta_1)/(1+\beta_1)}$")
    axes[1].set_xlabel(r"$\beta_1$")
    axes[1].set_title(r"momentum: RMS$_i$ of $\hat m_i/\mathrm{RMS}_t(g_i)$ around $\theta^*$", fontsize=10)
    axes[1].legend(fontsize=8)
    savefig(fig, out / "ema.png")


def moments(m, out):
    c1, c7 = m["mc"]["c1"], m["mc"]["c7"]
    fig, axes = figure(1, 2, figsize=(10, 3.8))
    K = np.array(c1["K"], dtype=float)
    e = c1["err"]
    band(axes[0], K, e["mean"], e["lo"], e["hi"], label="measured", marker="o")
    axes[0].plot(K, e["mean"][0] * (K / K[0]) ** -0.5, "k--", lw=1, label=r"$\propto K^{-1/2}$")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("samples K")
    axes[0].set_title(r"C1: $\|\hat E[gg^\top]-\sigma^2H^2\|_F/\|\sigma^2H^2\|_F$", fontsize=10)
    axes[0].legend(fontsize=8)
    x = np.maximum(np.array(c7["bias_ratio"]["mean"]), 1e-4)
    for k, lab, col in (("raw_err", "raw second moment", PALETTE[3]), ("cov_err", "covariance (AdaBelief-style)",
                                                                          PALETTE[2])):
        band(axes[1], x, c7[k]["mean"], c7[k]["lo"], c7[k]["hi"], label=lab, color=col, marker="o")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel(r"$\|g_0\|^2/\|\sigma^2H^2\|_F$ (0 plotted at 1e-4)")
    axes[1].set_title("C7: error vs σ²H² away from a stationary point", fontsize=10)
    axes[1].legend(fontsize=8)
    savefig(fig, out / "moments.png")


def newton(m, out):
    c = m["mc"]["c8"]["ideal"]
    fig, ax = figure()
    k = np.arange(len(c["adam_ratio"]))
    ax.semilogy(k, np.maximum(c["adam_ratio"], 1e-300), label=r"idealised Adam: step $0.5\,g_i/|h_i|$")
    ax.semilogy(k, c["gd_ratio"], label=r"GD, lr $1/\max h$")
    ax.axhline(1e-6, ls=":", color="k", lw=1)
    ax.set_ylim(1e-20, 2)
    ax.set_xlabel("step")
    ax.set_ylabel("loss / initial loss")
    ax.set_title(f"C8: diagonal quadratic, h over {c['h_decades']:.0f} decades", fontsize=10)
    ax.legend(fontsize=8)
    savefig(fig, out / "newton.png")


def network(nz, m, out):
    per = m["net"]["per_batch"]
    keys = list(per)
    fig, axes = figure(1, len(keys), figsize=(4.8 * len(keys), 4.0), squeeze=False)
    x = np.abs(nz["hdiag"])
    for i, k in enumerate(keys):
        ax = axes[0, i]
        y = nz["mean_sqrt_vhat"][i]
        ax.loglog(x, y, "o", ms=2, alpha=0.5, color=PALETTE[i])
        _guides(ax, x[(x > 0) & (y > 0)], y[(x > 0) & (y > 0)])
        r = per[k]
        ax.set_title(f"batch {k}: Spearman {r['spearman']['estimate']:.3f}, slope {r['fit']['slope']:.2f}",
                     fontsize=10)
        ax.set_xlabel(r"$|H_{ii}|$ (exact)")
    axes[0, 0].set_ylabel(r"time-averaged $\sqrt{\hat v_i}$")
    axes[0, 0].legend(fontsize=8)
    savefig(fig, out / "network.png")


def draw_all(mc_path, quad_path, quad_npz, linreg_path, net_path, net_npz, out) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    m = {}
    for p in (mc_path, quad_path, linreg_path, net_path):
        m.update(json.loads(Path(p).read_text()))
    q = dict(np.load(quad_npz))
    q["betas2"] = [float(b) for b in q["betas2"]]
    quad_scatter(q, m, out)
    oscillation(q, out)
    batch_slope(m, out)
    ema(m, out)
    moments(m, out)
    newton(m, out)
    network(np.load(net_npz), m, out)
