"""Figures (a)–(f) of kexue.fm/archives/9098 (EXACT vs cross-entropy)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kexue.plots import PALETTE, band, figure, savefig

LOSS_LABEL = {"ce": "CE", "softacc": "softmax smoothed acc", "exact": "EXACT σ≡1", "exact_sigma": "EXACT learned σ",
              "exact_log": "EXACT-log", "hinge": "hinge"}
TOY_LABEL = {"ce": "CE", "hinge": "hinge", "exact": "EXACT (σ = 1/k)"}


def _shade(ax, vertical=True):
    (ax.axvspan if vertical else ax.axhspan)(0, 0.25, color="0.85", zorder=0, label="100% accuracy")


def toy_losses(arrays, metrics, out: Path):
    z = np.load(arrays)
    m = json.loads(Path(metrics).read_text())["toy"]
    fig, axes = figure(1, 3, figsize=(13, 3.9))
    for ax, kind in zip(axes, ("ce", "hinge", "exact")):
        _shade(ax)
        mins = {r["k"]: r for r in m["minimisers"][kind]}
        for j, k in enumerate(z["fig_ks"]):
            line, = ax.plot(z["b"], z[f"curve_{kind}"][j], label=f"k = {k:g}", color=PALETTE[j + 1])
            r = mins.get(float(k))
            if r is not None and -0.5 <= r["b_star"] <= 1.5:
                ax.plot([r["b_star"]], [r["min_loss"]], "o", color=line.get_color())
        ax.set_title(TOY_LABEL[kind])
        ax.set_xlabel("b")
    axes[0].set_ylabel("summed loss over the 3 points")
    axes[0].legend(fontsize=8)
    savefig(fig, out / "toy_losses.png")


def toy_minimisers(metrics, out: Path):
    m = json.loads(Path(metrics).read_text())["toy"]
    fig, ax = figure(figsize=(6.4, 4.2))
    _shade(ax, vertical=False)
    ax.axhline(0.125, ls="--", color="0.4", lw=1, label="max margin 0.125")
    for j, kind in enumerate(("ce", "hinge", "exact")):
        rs = m["minimisers"][kind]
        k = np.array([r["k"] for r in rs]) * (1 + 0.04 * (j - 1))  # small offset so markers do not overlap
        b = np.array([r["b_star"] for r in rs])
        lo = np.array([r["set_lo"] for r in rs])
        hi = np.array([r["set_hi"] for r in rs])
        c = PALETTE[j]
        if kind == "hinge":
            ax.vlines(k, lo, hi, color=c, lw=3, label="hinge (interval of minimisers)")
        else:
            edge = np.array([r["at_boundary"] for r in rs])
            ax.plot(k, b, "o-", color=c, label=TOY_LABEL[kind])
            if edge.any():
                ax.plot(k[edge], b[edge], "x", color="k", ms=9, label="at the grid edge")
    ls = m["exact_learned_sigma"]
    ax.plot([1 / ls["sigma"]], [ls["b"]], "*", ms=14, color=PALETTE[4],
            label=f"EXACT learned σ (k = 1/σ = {1 / ls['sigma']:.0f})")
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.2, max(1.2, m["grid"]["hi"] + 0.1))
    ax.set_xlabel("temperature k")
    ax.set_ylabel("minimiser b*")
    ax.legend(fontsize=7.5, loc="upper right")
    savefig(fig, out / "toy_minimisers.png")


def test_accuracy(runs, info, out: Path):
    z = np.load(runs)
    fig, ax = figure(figsize=(6.4, 4.2))
    for j, kind in enumerate(info["losses"]):
        acc = np.array([z[f"{kind}-seed{s}/ep_test_acc"] for s in info["seeds"]])
        ep = np.arange(1, acc.shape[1] + 1)
        band(ax, ep, acc.mean(0), acc.min(0), acc.max(0), label=LOSS_LABEL[kind], color=PALETTE[j], marker="o")
        for a in acc:
            ax.plot(ep, a, ".", color=PALETTE[j], alpha=0.6)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{info['dataset']}, {info['n_train']} train, {len(info['seeds'])} seed(s)")
    ax.legend(fontsize=8)
    savefig(fig, out / "test_accuracy.png")


def p_histogram(runs, info, out: Path):
    z = np.load(runs)
    s = info["seeds"][0]
    fig, ax = figure(figsize=(6.8, 4.2))
    bins = np.linspace(0, 1, 41)
    for j, kind in enumerate(info["losses"]):
        p = z[f"{kind}-seed{s}/own_p_final"]
        p = p[np.isfinite(p)]
        ax.hist(p, bins=bins, histtype="step", lw=1.8, color=PALETTE[j],
                label=f"{LOSS_LABEL[kind]} ({100 * np.mean(p < 0.01):.1f}% < 0.01)")
    ax.set_yscale("log")
    ax.set_xlabel("own p_y of a training sample at the end")
    ax.set_ylabel("count")
    ax.legend(fontsize=8, loc="upper center")
    savefig(fig, out / "p_histogram.png")


def log_vs_linear(out: Path):
    p = np.linspace(1e-3, 1, 1000)
    fig, ax = figure(figsize=(6.4, 4.2))
    ax.plot(p, -np.log(p), label="−log p (CE)", color=PALETTE[0])
    ax.plot(p, 1 - p, label="1 − p (smoothed accuracy)", color=PALETTE[1])
    ax.plot(p, 1 - p + (1 - p) ** 2 / (2 * p), ":", color="0.4", label="1 − p + (1−p)²/(2p) (upper bound)")
    ax.axvspan(0.9, 1, color="0.9", zorder=0)
    ax.set_ylim(0, 4)
    ax.set_xlabel("p")
    ax.set_ylabel("loss")
    ax2 = ax.twinx()
    ax2.plot(p, 1 / p, "--", color=PALETTE[2], label="gradient ratio 1/p")
    ax2.set_yscale("log")
    ax2.set_ylabel("|d(−log p)/dp| / |d(1−p)/dp| = 1/p")
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper right")
    savefig(fig, out / "log_vs_linear.png")


def ce_vs_1mp(runs, info, out: Path, window: int = 20):
    z = np.load(runs)
    nm = f"ce-seed{info['seeds'][0]}"
    ce, mp = z[f"{nm}/step_ce"], z[f"{nm}/step_1mp"]
    w = min(window, len(ce))
    ma = lambda x: np.convolve(x, np.ones(w) / w, mode="valid")  # noqa: E731
    steps = np.arange(w - 1, len(ce))
    spe = len(ce) // max(1, len(z[f"{nm}/ep_train_ce"]))
    ep_steps = spe * np.arange(1, len(z[f"{nm}/ep_train_ce"]) + 1)
    fig, (ax, ax2) = figure(1, 2, figsize=(12, 4))
    ax.plot(steps, ma(ce), color=PALETTE[0], lw=1, label="minibatch CE")
    ax.plot(steps, ma(mp), color=PALETTE[1], lw=1, label="minibatch 1 − E[p]")
    ax.plot(ep_steps, z[f"{nm}/ep_train_ce"], "o", color=PALETTE[0], label="train-set CE (epoch end)")
    ax.plot(ep_steps, z[f"{nm}/ep_train_1mp"], "s", color=PALETTE[1], label="train-set 1 − E[p] (epoch end)")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
    ax2.plot(steps, ma(ce) / ma(mp), color=PALETTE[2], lw=1, label="minibatch ratio")
    ax2.plot(ep_steps, z[f"{nm}/ep_train_ce"] / z[f"{nm}/ep_train_1mp"], "o", color=PALETTE[2],
             label="train-set ratio")
    ax2.axhline(1, color="0.5", ls="--", lw=1)
    ax2.set_xlabel("step")
    ax2.set_ylabel("CE / (1 − E[p])")
    ax2.legend(fontsize=8)
    savefig(fig, out / "ce_vs_1mp.png")


def draw_all(toy_arrays, toy_metrics, runs, info, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    toy_losses(toy_arrays, toy_metrics, out)
    toy_minimisers(toy_metrics, out)
    test_accuracy(runs, info, out)
    p_histogram(runs, info, out)
    log_vs_linear(out)
    ce_vs_1mp(runs, info, out)
