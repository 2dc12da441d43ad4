"""Figures of article 10007 (Fourier basis density model) from the fit rows and curves."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.io import read_json
from kexue.plots import PALETTE, band, figure, savefig

ORDER = ("FBDM", "GMM-GD", "GMM-EM", "DFP", "KDE")


def _colour(m):
    return PALETTE[ORDER.index(m) % len(PALETTE)]


def _ci(v):
    from kexue.montecarlo import mean_ci

    v = np.asarray(v, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()), float(v.mean()), float(v.mean())
    e = mean_ci(v)
    return e["mean"], e["lo"], e["hi"]


def _main_rows(rows):
    from kexue.fourier_density_study import main_rows

    return main_rows(rows)[0]


def draw_all(ident_npz, rows_json, curves_npz, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = read_json(rows_json)["rows"]
    main = _main_rows(rows)
    cv = np.load(curves_npz)
    targets = [str(t) for t in cv["target_names"]]
    models = [m for m in ORDER if any(r["model"] == m for r in rows)]
    n_big, n_small = max(r["n"] for r in rows), min(r["n"] for r in rows)
    fb = {r["P"] for r in rows if r["model"] == "FBDM"}

    # 1. densities: rows = targets, columns = models
    best = {(r["target"], r["n"], r["P"]): r["gamma"] for r in main if r["model"] == "FBDM"}
    figP = max(P for P in fb if any(k.startswith(f"curve|FBDM|{targets[0]}|n{n_big}") for k in cv.files))
    figP = next((P for P in sorted(fb) if P == 40), figP)
    fig, axes = figure(len(targets), len(models), figsize=(2.6 * len(models), 2.1 * len(targets)), squeeze=False)
    for i, t in enumerate(targets):
        for j, m in enumerate(models):
            ax = axes[i][j]
            ax.plot(cv["mode_y"][i], cv["true_dens"][i], color="0.6", lw=2.2, label="true")
            g = best.get((t, n_big, figP), 0.0) if m == "FBDM" else 0.0
            key = f"curve|{m}|{t}|n{n_big}|g{g:g}"
            if key in cv.files:
                ax.plot(cv["mode_y"][i], cv[key], color=_colour(m), lw=1.1, label=m)
            ax.set_title(f"{t} {m}", fontsize=9)
            ax.tick_params(labelsize=7)
    savefig(fig, out / "densities.png")

    # 2. log KL vs P, 3. mode recall vs P
    for fname, key, ylab, logy in (("kl_vs_params.png", "kl", "log10 KL(p||q)", True),
                                   ("mode_recall.png", "mode_recall", "mode recall", False)):
        fig, axes = figure(1, len(targets), figsize=(3.3 * len(targets), 3.2), squeeze=False)
        for i, t in enumerate(targets):
            ax = axes[0][i]
            for m in models:
                if m == "KDE":
                    v = [r[key] for r in main if r["model"] == "KDE" and r["target"] == t and r["n"] == n_big]
                    ax.axhline(np.log10(max(v[0], 1e-12)) if logy else v[0], ls="--", color=_colour(m), label="KDE")
                    continue
                Ps = sorted({r["P"] for r in main if r["model"] == m})
                stats = [_ci([np.log10(max(r[key], 1e-12)) if logy else r[key] for r in main
                              if (r["model"], r["target"], r["n"], r["P"]) == (m, t, n_big, P)]) for P in Ps]
                band(ax, Ps, [s[0] for s in stats], [s[1] for s in stats], [s[2] for s in stats], label=m,
                     color=_colour(m), marker="o", ms=3)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("parameters P")
            ax.set_title(t)
            if i == 0:
                ax.set_ylabel(ylab)
                ax.legend(fontsize=7)
        savefig(fig, out / fname)

    # 4. NLL spread over seeds (deviation from the per-setting median), pooled over P
    fig, axes = figure(1, len(targets), figsize=(3.3 * len(targets), 3.2), squeeze=False)
    for i, t in enumerate(targets):
        data, labels = [], []
        for m in [m for m in models if m != "KDE"]:
            dev = []
            for P in sorted({r["P"] for r in main if r["model"] == m}):
                v = np.array([r["test_nll"] for r in main if (r["model"], r["target"], r["n"], r["P"]) ==
                              (m, t, n_big, P)])
                dev.extend((v - np.median(v)).tolist())
            data.append(dev)
            labels.append(m)
        axes[0][i].boxplot(data, tick_labels=labels)
        axes[0][i].set_title(t)
        axes[0][i].tick_params(axis="x", labelsize=7)
        if i == 0:
            axes[0][i].set_ylabel("test NLL - median over seeds")
    savefig(fig, out / "nll_spread.png")

    # 5. gamma effect: FBDM, smallest n, largest P
    Pm = max(fb)
    fig, ax = figure(figsize=(5.5, 3.8))
    gam = sorted({r["gamma"] for r in rows if r["model"] == "FBDM"})
    xg = [g if g > 0 else min(x for x in gam if x > 0) / 10 for g in gam] if len(gam) > 1 else gam
    for i, t in enumerate(targets):
        st = [_ci([r["val_nll"] for r in rows if (r["model"], r["target"], r["n"], r["P"], r["gamma"]) ==
                   ("FBDM", t, n_small, Pm, g)]) for g in gam]
        base = st[0][0]
        band(ax, xg, [s[0] - base for s in st], [s[1] - base for s in st], [s[2] - base for s in st], label=t,
             color=PALETTE[i % len(PALETTE)], marker="o", ms=3)
    if len(gam) > 1:
        ax.set_xscale("log")
    ax.set_xlabel("gamma (leftmost point: gamma = 0)")
    ax.set_ylabel("validation NLL - NLL at gamma = 0")
    ax.set_title(f"FBDM, n = {n_small}, P = {Pm}")
    ax.legend(fontsize=8)
    savefig(fig, out / "gamma.png")

    # 6. inverse-CDF samples over p_theta
    z = np.load(ident_npz)
    fig, ax = figure(figsize=(5.5, 3.6))
    ax.hist(z["ks_samples"], bins=120, range=(-1, 1), density=True, color=PALETTE[0], alpha=0.5, label="samples")
    ax.plot(z["ks_x"], z["ks_p"], color="k", lw=1.2, label="p_theta (closed form)")
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    savefig(fig, out / "sampling.png")
