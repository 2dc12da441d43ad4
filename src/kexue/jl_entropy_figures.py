"""Figures of article 9588 (JL lemma and entropy-invariant attention), drawn from the stages' npz files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from kexue.jl_dimension import dg_bound
from kexue.montecarlo import mean_ci, proportion_ci
from kexue.plots import PALETTE, band, figure, savefig

D_MAIN = 64


def _fit_band(ax, x, y, color, label):
    """Least-squares line y = a + b x with the 95% band of the mean response."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    r = stats.linregress(x, y)
    xs = np.linspace(x.min(), x.max(), 100)
    resid = y - (r.intercept + r.slope * x)
    s = np.sqrt(resid @ resid / (x.size - 2))
    h = stats.t.ppf(0.975, x.size - 2) * s * np.sqrt(1 / x.size + (xs - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
    mid = r.intercept + r.slope * xs
    band(ax, xs, mid, mid - h, mid + h, label=f"{label}: {r.intercept:.1f} + {r.slope:.2f} ln n (R² {r.rvalue**2:.2f})",
         color=color, lw=1.2)


def jl_kmin(path: Path, out: Path) -> None:
    z = np.load(path)
    eps_list = sorted({float(k.split("_eps")[1].rsplit("_", 1)[0]) for k in z.files if k.endswith("_k")})
    fig, ax = figure(figsize=(7, 4.6))
    for i, eps in enumerate(eps_list):
        c = PALETTE[i]
        ns, k = z[f"identity_eps{eps:g}_ns"], z[f"identity_eps{eps:g}_k"]
        ax.plot(np.log(ns), k, "o", color=c, label=f"identity points, ε = {eps:g}")
        _fit_band(ax, np.log(ns), k, c, "fit")
        ax.plot(np.log(ns), [dg_bound(int(n), eps) for n in ns], "--", color=c, label=f"DG bound, ε = {eps:g}")
        key = f"gaussian_eps{eps:g}"
        if f"{key}_k" in z.files:
            ax.plot(np.log(z[f"{key}_ns"]), z[f"{key}_k"], "o", mfc="none", color=c,
                    label=f"Gaussian points, ε = {eps:g}")
    ax.set_xlabel("ln n")
    ax.set_ylabel("minimal projection dimension k")
    ax.legend(fontsize=7)
    savefig(fig, out / "jl_kmin.png")


def retrieval_dmin(path: Path, out: Path) -> None:
    z = np.load(path)
    fig, ax = figure()
    ax.plot(np.log(z["ns"]), z["d_min"], "o", color=PALETTE[0], label="d_min")
    _fit_band(ax, np.log(z["ns"]), z["d_min"], PALETTE[0], "fit")
    ax.set_xlabel("ln n (number of keys)")
    ax.set_ylabel("minimal key size d")
    ax.legend(fontsize=8)
    savefig(fig, out / "retrieval_dmin.png")


def _entropy_keys(z):
    betas = sorted({float(k.split("_")[2]) for k in z.files if k.startswith(f"H_{D_MAIN}_")})
    cos = sorted({float(k.split("_")[3]) for k in z.files if k.startswith(f"M_{D_MAIN}_1_")})
    return betas, cos


def entropy_curves(path: Path, out: Path) -> None:
    z = np.load(path)
    ns = z["ns"]
    x = np.log(ns)
    betas, cos = _entropy_keys(z)
    fig, axes = figure(1, len(betas), figsize=(4.2 * len(betas), 4), sharey=True)
    for ax, b in zip(np.atleast_1d(axes), betas):
        for v, c, name in (("O", PALETTE[0], "O: 1/√d"), ("E", PALETTE[1], "E: log₅₁₂n/√d")):
            e = mean_ci(z[f"H_{D_MAIN}_{b:g}_{v}"], axis=0)
            band(ax, x, e["mean"], e["lo"], e["hi"], label=name, color=c, marker="o", ms=3)
        ax.plot(x, x, ":", color="grey", label="ln n (uniform)")
        ax.axvline(np.log(512), color="grey", lw=0.6)
        ax.set_title(f"β0 = {b:g} (d = {D_MAIN}, {z[f'H_{D_MAIN}_{b:g}_O'].shape[0]} reps)", fontsize=10)
        ax.set_xlabel("ln n")
    np.atleast_1d(axes)[0].set_ylabel("attention entropy (nats)")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    savefig(fig, out / "entropy_vs_logn.png")

    fig, ax = figure()
    for i, c in enumerate(cos):
        for v, ls in (("O", "-"), ("E", "--")):
            e = mean_ci(z[f"M_{D_MAIN}_1_{c:g}_{v}"], axis=0)
            band(ax, ns, e["mean"], e["lo"], e["hi"], label=f"{v}, c = {c:g}", color=PALETTE[i], ls=ls)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (number of keys)")
    ax.set_ylabel("needle mass")
    ax.legend(fontsize=8, ncol=2)
    savefig(fig, out / "needle_mass.png")


def toy_curves(path: Path, out: Path) -> None:
    z = np.load(path)
    lens, seeds, problems = z["test_lens"], z["seeds"], int(z["problems"])
    fig, (ax, ax2) = figure(1, 2, figsize=(10, 4))
    for v, c in (("O", PALETTE[0]), ("E", PALETTE[1])):
        corr = np.stack([z[f"correct_{v}_seed{s}"] for s in seeds])  # [seeds, lengths]
        for row in corr:
            ax.plot(lens, 100 * row / problems, color=c, lw=0.6, alpha=0.5)
        ci = [proportion_ci(int(k), problems * len(seeds)) for k in corr.sum(0)]
        band(ax, lens, [100 * e["p"] for e in ci], [100 * e["lo"] for e in ci], [100 * e["hi"] for e in ci],
             label=f"{v} (pooled over {len(seeds)} seed{'s' if len(seeds) > 1 else ''})", color=c, marker="o", ms=3)
        ent = np.stack([z[f"entropy_{v}_seed{s}"] for s in seeds]).mean(0)
        ax2.plot(lens, ent, "o-", color=c, label=v, ms=3)
    oracle = np.stack([z[f"oracle_seed{s}"] for s in seeds]).mean(0)
    ax.plot(lens, 100 * oracle, ":", color="grey", label="hard lookup: argmax of raw q·k")
    for a in (ax, ax2):
        a.set_xscale("log", base=2)
        a.set_xlabel("test length n")
    ax.set_ylabel("accuracy (%)")
    ax2.set_ylabel("mean attention entropy (nats)")
    ax.legend(fontsize=8)
    ax2.legend(fontsize=8)
    savefig(fig, out / "toy_extrapolation.png")


def draw_all(jl: Path, retrieval: Path, entropy: Path, toy: Path, out: Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jl_kmin(jl, out)
    retrieval_dmin(retrieval, out)
    entropy_curves(entropy, out)
    toy_curves(toy, out)
