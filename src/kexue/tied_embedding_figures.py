"""Figures of article 9698 (tied output embeddings): initial-loss heatmap, step-0 bars, val-loss curves, C1 scatter."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, figure, savefig
from kexue.tied_embedding_init import pred_tied_sharp

ORDER = ("tied_naive", "tied_small", "untied", "tied_orth", "tied_swap", "tied_bert", "tied_gpt2",
         "tied_naive_stdinit")
RULE_LABEL = {"inv_sqrt_d": "1/√d", "gpt2": "0.02", "log_n_over_d": "log(n)/d"}


def heatmap(grid: list[dict], path: Path) -> None:
    """Predicted tied loss minus log n over (d, sigma), one panel per n; MC cells as circles on the same scale."""
    import matplotlib.colors as mcolors

    ns = sorted({r["n"] for r in grid})
    tied = [r for r in grid if r["head"] == "tied"]
    fig, axes = figure(1, len(ns), figsize=(4.6 * len(ns), 4.2), squeeze=False)
    d_all = np.geomspace(32, 1024, 60)
    s_all = np.geomspace(0.004, 0.4, 60)
    norm = mcolors.Normalize(vmin=0, vmax=20)
    for ax, n in zip(axes[0], ns):
        Z = np.array([[pred_tied_sharp(n, int(round(d)), s) - math.log(n) for d in d_all] for s in s_all])
        pm = ax.pcolormesh(d_all, s_all, np.minimum(Z, 20), norm=norm, cmap="magma", shading="auto")
        ax.plot(d_all, math.log(n) / d_all, "w--", lw=1.2, label="dσ = log n")
        pts = [r for r in tied if r["n"] == n]
        ax.scatter([r["d"] for r in pts], [r["sigma"] for r in pts],
                   c=[min(r["mc_other"] - r["log_n"], 20) for r in pts], cmap="magma", norm=norm, s=70,
                   edgecolors="cyan", linewidths=1.2, label="Monte Carlo cells")
        ax.set(xscale="log", yscale="log", xlabel="d", ylabel="σ", title=f"n = {n} (log n = {math.log(n):.2f})")
        ax.legend(loc="lower left", fontsize=7)
    fig.colorbar(pm, ax=axes[0][-1], label="tied initial loss − log n (nats, ≤ 20)")
    savefig(fig, path)


def step0_bars(train_m: dict, path: Path) -> None:
    s0 = train_m["step0"]
    names = [v for v in ORDER if v in s0] + sorted(set(s0) - set(ORDER))
    n, log_n = train_m["model"]["n"], math.log(train_m["model"]["n"])
    fig, ax = figure(figsize=(9, 4.4))
    x = np.arange(len(names))
    for k, (key, lab) in enumerate((("other", "targets j ≠ i"), ("self", "targets j = i"))):
        mid = [s0[v][key]["mean"] if s0[v][key] else np.nan for v in names]
        err = [[s0[v][key]["mean"] - s0[v][key]["lo"] if s0[v][key] else 0 for v in names],
               [s0[v][key]["hi"] - s0[v][key]["mean"] if s0[v][key] else 0 for v in names]]
        ax.bar(x + (k - 0.5) * 0.38, mid, 0.38, yerr=err, capsize=2, color=PALETTE[k], label=lab)
    ax.axhline(log_n, ls="--", color="k", lw=1, label=f"log n = {log_n:.2f}")
    naive = s0["tied_naive"]["pred"]
    ax.axhline(naive["sharp"], ls=":", color=PALETTE[3], lw=1.5,
               label=f"C2 prediction for tied_naive = {naive['sharp']:.2f}")
    ax.set_xticks(x, names, rotation=25, ha="right")
    ax.set(ylabel="step-0 cross-entropy (nats)", title=f"Step-0 loss per variant (n = {n}, d = {train_m['model']['d']})")
    top = max(s0[v][k]["hi"] for v in names for k in ("other", "self") if s0[v][k])
    ax.set_ylim(0, 1.4 * max(top, naive["sharp"]))
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    savefig(fig, path)


def curves(z, train_m: dict, path: Path) -> None:
    import pandas as pd
    import seaborn as sns

    rows = []
    for v in [str(v) for v in z["variants"]]:
        for s in [int(s) for s in z["seeds"]]:
            for st, vl in zip(z[f"{v}__{s}__eval_steps"], z[f"{v}__{s}__val_loss"]):
                rows.append({"step + 1": int(st) + 1, "val loss": float(vl), "variant": v, "seed": s})
    df = pd.DataFrame(rows)
    fig, ax = figure(figsize=(7, 4.4))
    sns.lineplot(df, x="step + 1", y="val loss", hue="variant", errorbar=("ci", 95), ax=ax, palette=PALETTE[:5])
    ax.axhline(math.log(train_m["model"]["n"]), ls="--", color="k", lw=1, label="log n")
    ax.set(xscale="log", title=f"Validation loss ({train_m['corpus']['corpus']}, {len(z['seeds'])} seed(s))")
    ax.legend(fontsize=7)
    savefig(fig, path)


def c1_scatter(init_m: dict, path: Path) -> None:
    per = init_m["c1"]["per_d"]
    fig, (a1, a2) = figure(1, 2, figsize=(10, 4))
    keys = ("E_sq", "Var_sq", "E_dot2")
    for k, key in enumerate(keys):
        f = [c["quantities"][key]["formula"] for c in per]
        m = [c["quantities"][key]["mc"] for c in per]
        e = [1.96 * c["quantities"][key]["se"] for c in per]
        a1.errorbar(f, m, yerr=e, fmt="o", color=PALETTE[k], label=key, capsize=3)
    lo = min(c["quantities"][k]["formula"] for c in per for k in keys)
    hi = max(c["quantities"][k]["formula"] for c in per for k in keys)
    a1.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
    a1.set(xscale="log", yscale="log", xlabel="formula", ylabel="Monte Carlo (95% CI)",
           title="C1 moments at σ² = 1/d, d ∈ {" + ", ".join(str(c["d"]) for c in per) + "}")
    a1.legend(fontsize=7)
    for k, key in enumerate(("E_sq", "Var_sq", "E_dot", "E_dot2")):
        a2.plot([c["d"] for c in per], [c["quantities"][key]["z"] for c in per], "o-", color=PALETTE[k], label=key)
    a2.axhspan(-4, 4, color="grey", alpha=0.15, label="±4 standard errors")
    a2.set(xscale="log", xlabel="d", ylabel="(MC − formula) / SE", title=f"{per[0]['samples']} draws per d")
    a2.legend(fontsize=7)
    savefig(fig, path)


def draw_all(grid, init_m, train_m, z, out: Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    heatmap(grid, out / "init_loss_heatmap.png")
    step0_bars(train_m, out / "step0_losses.png")
    curves(z, train_m, out / "val_curves.png")
    c1_scatter(init_m, out / "c1_moments.png")
