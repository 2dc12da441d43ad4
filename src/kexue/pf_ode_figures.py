"""Figures of article 9228 (probability-flow ODE), drawn from the stored arrays and metrics only."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import NullFormatter

from kexue.io import read_json
from kexue.plots import PALETTE, band, figure, savefig

RUNS = ("1", "0.5", "0", "1.5", "control")
RUN_LABEL = {"1": "σ = g (SDE)", "0.5": "σ = 0.5 g", "0": "σ = 0 (ODE)", "1.5": "σ = 1.5 g", "control": "control"}
STYLE = {("euler", "uniform"): (0, "-"), ("heun", "uniform"): (1, "-"), ("sde", "uniform"): (3, "-"),
         ("ddim", "uniform"): (2, "-"), ("euler", "edm"): (0, "--"), ("heun", "edm"): (1, "--"),
         ("sde", "edm"): (3, "--")}
NAME = {"euler": "Euler-ODE", "heun": "Heun-ODE", "sde": "EM-SDE", "ddim": "DDIM"}


def _hist_panel(ax, bins, pdf, n, curves, title):
    """Histogram densities (steps) over the exact pdf with the 95% band of a histogram of n exact draws."""
    w = np.diff(bins)
    mid = 0.5 * (bins[1:] + bins[:-1])
    q = np.clip(pdf * w, 0, 1)
    half = 1.96 * np.sqrt(q * (1 - q) / n) / w
    band(ax, mid, pdf, np.maximum(pdf - half, 0), pdf + half, color="black", lw=1.0, label="exact")
    for i, (label, counts) in enumerate(curves):
        ax.stairs(counts / (counts.sum() * w), bins, color=PALETTE[i], lw=0.9, label=label)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)


def density_snapshots(a, m, out):
    times = a["snap_times"]
    bins = a["hist_bins"]
    n_f, n_r = m["c2"]["n"], m["c3"]["n_1d"]
    fam = [r for r in RUNS if r != "control"]
    fig, axes = figure(2, len(times) + 1, figsize=(13, 6), sharex=True)
    for j, t in enumerate(times):
        _hist_panel(axes[0, j], bins, a[f"pdf_snap_{j}"], n_f,
                    [(RUN_LABEL[r], a[f"fwd_hist_{r}_{j}"]) for r in fam], f"forward family, t = {t:g}")
        _hist_panel(axes[1, j], bins, a[f"pdf_snap_{j}"], n_f,
                    [("no score term, σ = 0.5 g", a[f"fwd_hist_control_{j}"])], f"forward control, t = {t:g}")
    _hist_panel(axes[0, -1], bins, a["pdf_eps"], n_r, [(RUN_LABEL[r], a[f"rev_hist_{r}"]) for r in fam],
                "reverse family, t = t_min")
    _hist_panel(axes[1, -1], bins, a["pdf_eps"], n_r, [("ODE drift + SDE noise", a["rev_hist_control"])],
                "reverse control, t = t_min")
    axes[0, -1].legend(fontsize=7)
    axes[1, -1].legend(fontsize=7)
    fig.suptitle(f"G1: particle histograms vs exact p_t (black, 95% band of a histogram of n exact draws; "
                 f"n = {n_f} forward, {n_r} reverse)", fontsize=10)
    savefig(fig, out / "density_snapshots.png")


def trajectories(a, out):
    fig, axes = figure(1, 2, figsize=(11, 4), sharey=True)
    ext = (a["dens_t"][0], a["dens_t"][-1], a["dens_x"][0], a["dens_x"][-1])
    for ax, name, title in ((axes[0], "sde", "reverse SDE (σ = g)"), (axes[1], "ode", "PF-ODE (σ = 0)")):
        ax.imshow(np.sqrt(a["dens"]), extent=ext, origin="lower", aspect="auto", cmap="Greys", alpha=0.7)
        ax.plot(a["traj_t"], a[f"traj_{name}"], lw=0.6, color=PALETTE[0] if name == "sde" else PALETTE[1])
        ax.set_xlim(1.0, 0.0)
        ax.set_xlabel("t (sampling runs left to right: noise → data)")
        ax.grid(False)
        ax.set_title(title)
    axes[0].set_ylabel("x")
    savefig(fig, out / "trajectories.png")


def _d_panel(ax, rows, title):
    groups = {}
    for r in rows:
        groups.setdefault((r["solver"], r["grid"]), []).append(r)
    for (solver, grid), rs in groups.items():
        rs = sorted(rs, key=lambda r: r["nfe"])
        x = np.array([r["nfe"] for r in rs], float)
        d = np.array([[r["D"]["estimate"], r["D"]["lo"], r["D"]["hi"]] for r in rs], float)
        d = np.clip(np.nan_to_num(d, posinf=1e3), 1e-4, 1e3)
        ci, ls = STYLE.get((solver, grid), (5, ":"))
        band(ax, x, d[:, 0], d[:, 1], d[:, 2], label=f"{NAME[solver]} ({grid})", color=PALETTE[ci], ls=ls, marker="o",
             ms=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axhline(0.05, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("NFE (score evaluations)")
    ax.set_ylabel("D = |mean log p(samples) − E log p|")
    ax.set_title(title)
    ax.legend(fontsize=7)


def d_vs_nfe(sm, lm, out):
    fig, axes = figure(1, 2, figsize=(12, 4.5))
    _d_panel(axes[0], sm["c7"]["rows"], f"exact score (n = {sm['c7']['n']})")
    if lm["learned"]["run"]:
        n = lm["learned"]["rows"][0]["D"]["n"]
        _d_panel(axes[1], lm["learned"]["rows"], f"learned score ({lm['learned']['steps']} steps, n = {n})")
    else:
        axes[1].text(0.5, 0.5, "learned score not run at this profile", ha="center", va="center",
                     transform=axes[1].transAxes)
        axes[1].set_axis_off()
    savefig(fig, out / "d_vs_nfe.png")


def samples_2d(s, out):
    panels = [("data_2d", "exact draws from p_t_min"), ("samples_euler", "Euler-ODE, NFE 25"),
              ("samples_sde", "EM-SDE, NFE 25")]
    fig, axes = figure(1, 3, figsize=(12, 4.2), sharex=True, sharey=True)
    for ax, (k, title) in zip(axes, panels):
        if k in s:
            ax.scatter(s[k][:, 0], s[k][:, 1], s=1, alpha=0.4, color=PALETTE[0], rasterized=True)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-3.5, 3.5)
    savefig(fig, out / "samples_2d.png")


def loglik_scatter(o, s, out):
    sets = [("lik_g1", o, "G1, exact score"), ("lik_g2", o, "G2, exact score"), ("lik_learned", s, "G2, learned score")]
    fig, axes = figure(1, 3, figsize=(12, 4))
    for ax, (k, src, title) in zip(axes, sets):
        if f"{k}_true" not in src:
            ax.text(0.5, 0.5, "learned score not run at this profile", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        tr, od = src[f"{k}_true"], src[f"{k}_ode"]
        ax.scatter(tr, od, s=4, alpha=0.5, color=PALETTE[0])
        lo, hi = min(tr.min(), od.min()), max(tr.max(), od.max())
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
        ax.set_xlabel("true log p_t_min(x)")
        ax.set_ylabel("ODE log-likelihood")
        ax.set_title(f"{title}: mean |diff| {np.abs(od - tr).mean():.2g}")
    savefig(fig, out / "loglik_scatter.png")


def ddim_error(o, om, out):
    fig, axes = figure(1, 2, figsize=(12, 4.3))
    ax = axes[0]
    x, y = o["ddim_steps"], o["ddim_rms"]
    fit = om["c6"]["ddim_fit"]
    ax.loglog(x, y, "o", color=PALETTE[0], label="DDIM (η = 0) vs RK45")
    ax.loglog(x, np.exp(fit["intercept"]) * x ** fit["slope"], color="black", lw=0.8,
              label=f"fit slope {fit['slope']:.3f} [{fit['slope_ci'][0]:.3f}, {fit['slope_ci'][1]:.3f}]")
    ax.set_xlabel("steps")
    ax.set_ylabel("RMS endpoint error")
    ax.legend(fontsize=8)
    ax = axes[1]
    c4 = om["c4"]
    sw = c4["rtol_sweep"]
    ax.loglog([r["nfe"] for r in sw], [max(r["max_err"], 1e-16) for r in sw], "o-", color=PALETTE[2],
              label="RK45 (rtol " + ", ".join(f"{r['rtol']:g}" for r in sw) + ")")
    for i, meth in enumerate(("euler", "heun")):
        rs = [r for r in c4["fixed_step"] if r["method"] == meth]
        ax.loglog([r["nfe"] for r in rs], [max(r["max_err"], 1e-16) for r in rs], "s--", color=PALETTE[i],
                  label=f"{meth.capitalize()} (fixed steps, uniform t)")
    ax.axhline(1e-4, color="grey", lw=0.8, ls=":")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("NFE (encode + decode)")
    ax.set_ylabel("max |decode(encode(x)) − x|")
    ax.set_title(f"G1 round trip, {c4['points']} points")
    ax.legend(fontsize=8)
    savefig(fig, out / "ddim_error.png")


def draw_all(paths: dict, out) -> None:
    """paths: exact, ode, sweep, learned (npz) and the same names + "_metrics" (json)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    a, o, s, ls = (np.load(paths[k]) for k in ("exact", "ode", "sweep", "learned"))
    m, om, sm, lm = (read_json(paths[f"{k}_metrics"]) for k in ("exact", "ode", "sweep", "learned"))
    density_snapshots(a, m, out)
    trajectories(a, out)
    d_vs_nfe(sm, lm, out)
    samples_2d(s, out)
    loglik_scatter(o, ls, out)
    ddim_error(o, om, out)
