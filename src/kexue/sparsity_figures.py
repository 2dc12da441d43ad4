"""Figures of article 9595 (sparsity measures), drawn with the lab's theme."""
from __future__ import annotations

import json

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig
from kexue.sparsity_measures import s_star_from_renyi

PROP_LABELS = {"D1": "D1 Robin Hood", "D2": "D2 scaling", "D3": "D3 rising tide", "D4": "D4 cloning",
               "P1": "P1 Bill Gates", "P2": "P2 babies"}


def property_matrix(m: dict, path) -> None:
    """Measure x property heatmap: colour = strict violation rate (exactly confirmed), text = k/n;
    S0's D1 column shows strict and non-strict counts."""
    from matplotlib.colors import LinearSegmentedColormap

    props, measures, t = m["properties"], m["measures"], m["table"]
    rate = np.array([[t[name][p]["strict_violations"] / t[name][p]["n"] for p in props] for name, _ in measures])
    # green only for exactly 0 violations; any violation is orange (rare) to red (always)
    cmap = LinearSegmentedColormap.from_list("viol", ["#fdae61", "#d73027"])
    rgb = cmap(rate)
    rgb[rate == 0] = (0.17, 0.64, 0.37, 1.0)
    fig, ax = figure(figsize=(8.2, 0.42 * len(measures) + 1.6))
    ax.imshow(rgb, aspect="auto")
    ax.grid(False)
    for r, (name, _) in enumerate(measures):
        for c, p in enumerate(props):
            cell = t[name][p]
            txt = f"{cell['strict_violations']}/{cell['n']}"
            if cell["nonstrict_violations"] != cell["strict_violations"]:
                txt += f"\nnon-strict {cell['nonstrict_violations']}"
            ax.text(c, r, txt, ha="center", va="center", fontsize=6.5)
    ax.set_xticks(range(len(props)), [PROP_LABELS[p] for p in props], rotation=25, ha="right", fontsize=8)
    ax.set_yticks(range(len(measures)), [lab for _, lab in measures], fontsize=8)
    ax.set_title("Exactly confirmed violations (strict) / trials", fontsize=10)
    savefig(fig, path)


def renyi_scatter(rows, path) -> None:
    """S*_(1,2) against H_2 for attention rows, with the C6 curve S* = exp(-(log n - H_2)/2)."""
    fig, ax = figure(figsize=(6.4, 4.4))
    for k, n in enumerate(np.unique(rows["n"])):
        sel = rows["n"] == n
        h2 = rows["H2"][sel] * np.log(n)
        ax.scatter(h2, rows["S"][sel], s=3, alpha=0.35, color=PALETTE[k], label=f"softmax rows, n = {int(n)}")
        grid = np.linspace(0, np.log(n), 200)
        ax.plot(grid, s_star_from_renyi(grid, int(n), 2.0), color="k", lw=1,
                ls="-" if k == 0 else "--", label=f"C6 identity, n = {int(n)}")
    ax.set(xlabel=r"Rényi entropy $H_2$ (nats)", ylabel=r"$S^*_{1,2}$", yscale="log")
    ax.legend(fontsize=7)
    savefig(fig, path)


def logit_scale(curves: dict, path) -> None:
    """Means (with 95% t-bands) of S*_(1,2), H/log n, H_2/log n against the logit scale c."""
    c = np.array(curves["c_values"])
    fig, axes = figure(1, 2, figsize=(10, 4))
    for k, (n, cur) in enumerate(curves["curves"].items()):
        ls = "-" if k == 0 else "--"
        band(axes[0], c, cur["S"]["mean"], cur["S"]["lo"], cur["S"]["hi"], label=f"n = {n}", color=PALETTE[k], ls=ls)
        band(axes[1], c, cur["H"]["mean"], cur["H"]["lo"], cur["H"]["hi"], label=f"$H/\\log n$, n = {n}",
             color=PALETTE[k], ls=ls)
        band(axes[1], c, cur["H2"]["mean"], cur["H2"]["lo"], cur["H2"]["hi"], label=f"$H_2/\\log n$, n = {n}",
             color=PALETTE[k + 2], ls=ls)
    axes[0].set(xscale="log", yscale="log", xlabel="logit scale c", ylabel=r"mean $S^*_{1,2}$ of a softmax row")
    axes[1].set(xscale="log", xlabel="logit scale c", ylabel="normalised entropy")
    for ax in axes:
        ax.legend(fontsize=7)
    savefig(fig, path)


def residual_curves(res: dict, path) -> None:
    """S*_(1,2) against relative residual: L1 and L2 paths and the S*-penalised path for the first
    problems, plus the matched-residual points of every problem."""
    probs = res["problems"]
    fig, axes = figure(1, 2, figsize=(10.5, 4.2))
    ax = axes[0]
    for k, r in enumerate(probs[:3]):
        ls = ("-", "--", ":")[k]
        if "curves" in r:
            for key, col in (("L1", PALETTE[0]), ("L2", PALETTE[1])):
                xy = np.array(r["curves"][key])
                ax.plot(xy[:, 0], xy[:, 1], ls=ls, color=col, label=f"{key} path" if k == 0 else None)
        pts = np.array([(v["residual"], v["S_star"]) for v in r["path"]])
        ax.plot(pts[:, 0], pts[:, 1], ls=ls, marker="o", ms=3, color=PALETTE[2],
                label=r"$S^*_{1,2}$ penalty path" if k == 0 else None)
    ax.set(xscale="log", yscale="log", xlabel=r"relative residual $\|Ax-b\|/\|b\|$",
           ylabel=r"$S^*_{1,2}(x)$ (smaller = sparser)", title="first problems (line style = problem)")
    ax.legend(fontsize=7)
    ax = axes[1]
    for key, col, lab in (("S_L2", PALETTE[1], "L2"), ("S_L1", PALETTE[0], "L1"),
                          ("S_star_pen", PALETTE[2], r"$S^*_{1,2}$ penalty")):
        pts = np.array([(v["residual"], v[key]) for r in probs for v in r["matched"]]).reshape(-1, 2)
        ax.scatter(pts[:, 0], pts[:, 1], s=10, alpha=0.6, color=col, label=lab)
    ax.set(xscale="log", yscale="log", xlabel="matched relative residual (within 5%)",
           ylabel=r"$S^*_{1,2}(x)$", title=f"all {len(probs)} problems, matched residuals")
    ax.legend(fontsize=7)
    for ax in axes:
        _plain_log_ticks(ax)
    savefig(fig, path)


def _plain_log_ticks(ax) -> None:
    """Log axes spanning less than a decade label their minor ticks in a pile: keep major labels only."""
    from matplotlib.ticker import NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())


def draw_all(props_path, rows_path, curves_path, reg_path, out) -> None:
    out.mkdir(parents=True, exist_ok=True)
    property_matrix(json.loads(props_path.read_text())["a9595_properties"], out / "property_matrix.png")
    rows = dict(np.load(rows_path))
    renyi_scatter(rows, out / "s_star_vs_renyi.png")
    logit_scale(json.loads(curves_path.read_text()), out / "logit_scale.png")
    residual_curves(json.loads(reg_path.read_text()), out / "sparsity_vs_residual.png")
