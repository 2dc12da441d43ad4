"""Figures of kexue.fm/archives/10563 (a)–(f), drawn from the stages' stored arrays only."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig


def _erf(z, out):
    x = z["erf_x"]
    fig, (ax, ax2) = figure(1, 2, figsize=(10, 4))
    ax.plot(x, z["erf"], color="k", lw=2, label="erf(x)")
    ax.plot(x, z["erf_approx"], color=PALETTE[0], ls="--", label="x/√(x²+π/4)")
    ax.plot(x, z["erf_clip"], color=PALETTE[1], ls=":", label="clip(2x/√π, −1, 1)")
    ax.set(xlabel="x", ylabel="value", title="(a) erf and two S-curve approximations")
    ax.legend(loc="upper left")
    ax2.plot(x, z["erf_approx"] - z["erf"], color=PALETTE[0], label="x/√(x²+π/4) − erf")
    ax2.plot(x, z["erf_clip"] - z["erf"], color=PALETTE[1], label="clip − erf")
    ax2.axhline(0, color="k", lw=0.5)
    ax2.set(xlabel="x", ylabel="error", title="approximation error")
    ax2.legend(loc="upper right")
    savefig(fig, out / "erf_approx.png")


def _moment(z, out, which):
    a, bs = z["a"], z["b"]
    show = [j for j, b in enumerate(bs) if b in (0.1, 0.3, 1.0, 3.0)] or list(range(len(bs)))
    fig, (ax, ax2) = figure(1, 2, figsize=(11, 4.4))
    for c, j in enumerate(show):
        col = PALETTE[c % len(PALETTE)]
        if which == 1:
            ax.plot(a, z["soft1"][j], color=col, lw=2, label=f"b={bs[j]:g}: E[softsign]")
            ax.plot(a, z["clip1_closed"][j], color=col, ls=":", label="E[clip] closed form")
            ax.plot(a[::8], z["clip1_quad"][j][::8], "o", color=col, ms=3)
            ax.plot(a, z["mean_approx"][j], color=col, ls="--", label="a/√(a²+b²+π/2)")
            ax2.plot(a, z["mean_approx"][j] - z["soft1"][j], color=col, label=f"b={bs[j]:g}")
        else:
            ax.plot(a, z["soft2"][j], color=col, lw=2, label=f"b={bs[j]:g}: E[softsign²]")
            ax.plot(a, z["clip2_closed"][j], color=col, ls=":", label="E[clip²]")
            ax.plot(a, z["second_approx"][j], color=col, ls="--", label="1 − b²/(a²+b²+π/2)")
            ax2.plot(a, z["second_approx"][j] - z["soft2"][j], color=col, label=f"b={bs[j]:g}")
    name = "E[ũ]" if which == 1 else "E[ũ²]"
    ax.set(xlabel="a = g√B/σ", ylabel=name,
           title=f"({'b' if which == 1 else 'c'}) {name}: exact, clip model, approximation")
    ax.legend(fontsize=6, ncol=2, loc="lower right")
    ax2.axhline(0, color="k", lw=0.5)
    ax2.set(xlabel="a = g√B/σ", ylabel="approximation − E[softsign" + ("]" if which == 1 else "²]"),
            title="error against what Adam averages")
    ax2.legend(fontsize=8, loc="upper right")
    savefig(fig, out / ("first_moment.png" if which == 1 else "second_moment.png"))


def _eta(z, out):
    B, eps = z["B"], z["eps_values"]
    fig, axes = figure(1, 2, figsize=(12, 4.6))
    for ax, name in zip(axes, ("toy", "random")):
        ex, mf = z[f"{name}_exact"], z[f"{name}_mf"]
        for j, e in enumerate(eps):
            col = PALETTE[j % len(PALETTE)]
            norm = ex[j].max()  # each ε's curves scaled by the exact maximum, so shapes compare
            ax.loglog(B, ex[j] / norm, color=col, lw=2, label=f"ε={e:g}")
            ax.loglog(B, mf[j] / norm, color=col, ls="--", lw=1)
            mc = z[f"{name}_mc"]
            sel = mc[np.isclose(mc[:, 0], e)]
            if len(sel) >= 2:
                band(ax, sel[:, 1], sel[:, 2] / norm, sel[:, 3] / norm, sel[:, 4] / norm, color=col, ls="none",
                     marker="o", ms=3)
        ax.set(xlabel="batch size B", ylabel="η*(B) / max_B η*_exact",
               title=f"(d) {name} problem")
        ax.set_ylim(1e-4, 3)
        ax.text(0.02, 0.98, "solid: exact   dashed: mean field\ndots + band: Monte Carlo, 95%", transform=ax.transAxes,
                va="top", fontsize=8)
        ax.legend(fontsize=7, ncol=2, loc="lower right")
    savefig(fig, out / "eta_curves.png")


def _large(z, out):
    B, eps = z["B"], z["eps_values"]
    j = int(np.argmax(eps))
    e = eps[j]
    fig, axes = figure(1, 2, figsize=(12, 4.4))
    for c, name in enumerate(("toy", "random")):
        ex, mf = z[f"{name}_exact"][j] / e, z[f"{name}_mf"][j] / e
        sa, se = z[f"{name}_sgd_article"], z[f"{name}_sgd_exact"]
        ax = axes[0]
        ax.loglog(B, ex, color=PALETTE[c], lw=2, label=f"{name}: exact η*/ε")
        ax.loglog(B, mf, color=PALETTE[c], ls="--", label=f"{name}: mean field η*/ε")
        ax.loglog(B, se, color="k", ls=":", lw=1, label="SGD, noise σ²/B" if c == 0 else None)
        ax.loglog(B, sa, color="grey", ls="-.", lw=1, label="SGD, noise πσ²/(2B) (article)" if c == 0 else None)
        axes[1].semilogx(B, ex / sa, color=PALETTE[c], lw=2, label=f"{name}: exact ÷ article form")
        axes[1].semilogx(B, ex / se, color=PALETTE[c], ls=":", label=f"{name}: exact ÷ σ²/B form")
        axes[1].semilogx(B, mf / sa, color=PALETTE[c], ls="--", label=f"{name}: mean field ÷ article form")
    axes[0].set(xlabel="batch size B", ylabel="η*/ε", title=f"(e) large ε = {e:g}")
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].axhline(1, color="k", lw=0.5)
    axes[1].set(xlabel="batch size B", ylabel="ratio", title="ratios to the SGD forms")
    axes[1].legend(fontsize=7, loc="upper right")
    savefig(fig, out / "large_eps.png")


def _hist(e, out):
    fig, ax = figure(figsize=(7, 4.4))
    for c, r in enumerate(sorted(e["runs"], key=lambda r: r["hidden"])):
        edges = np.asarray(r["vhat"]["hist_edges"])
        mids = 0.5 * (edges[1:] + edges[:-1])
        h = np.asarray(r["vhat"]["hist"], dtype=float)
        h[h == 0] = np.nan  # empty bins: a gap on the log axis, not a drop to −∞
        ax.step(mids, h / r["vhat"]["n_params"], where="mid", color=PALETTE[c % len(PALETTE)],
                label=f"n={r['hidden']} (median {r['vhat']['median']:.1e}, {r['vhat']['n_zero']} exact zeros)")
    for t, ls in ((1e-8, ":"), (1e-5, "--")):
        ax.axvline(np.log10(t), color="k", ls=ls, lw=1, label=f"ε = {t:g}")
    ax.set_yscale("log")
    ax.set(xlabel="log10 √v̂", ylabel="fraction of parameters per bin",
           title=f"(f) Adam √v̂ after training ({e['dataset']}, {e['steps']} steps)")
    ax.legend(fontsize=7, loc="upper left")
    savefig(fig, out / "vhat_hist.png")


def draw_all(moments_npz, lr_npz, eps_json, out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    zm = np.load(moments_npz)
    _erf(zm, out)
    _moment(zm, out, 1)
    _moment(zm, out, 2)
    zl = np.load(lr_npz)
    _eta(zl, out)
    _large(zl, out)
    _hist(json.loads(Path(eps_json).read_text())["eps_fraction"], out)
