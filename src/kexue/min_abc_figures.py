"""Figures 1-4 of article 9775 (min a+b+c), drawn with the lab's theme."""
from __future__ import annotations

import numpy as np

from kexue.min_abc import bound_loose, bound_tight
from kexue.plots import figure, savefig


def _thin(n, k=60000):
    """At most ~k indices out of n, log-spaced so that small N stay visible on a log axis."""
    return np.unique(np.geomspace(1, n, min(n, k)).astype(np.int64) - 1)


def draw_all(ns_path, results_path, out):
    """Figures 1-4 of the card from the prepared N lists and the run results."""
    ns, r = np.load(ns_path), np.load(results_path)
    lo, hi = (int(v) for v in ns["exhaustive"])
    exN, rnd, tN = np.arange(lo, hi + 1), ns["random"], ns["timing"]

    # (1) S* - 2 sqrt N with both upper bounds
    fig, ax = figure(figsize=(7, 4.2))
    i = _thin(exN.size)
    ax.scatter(exN[i], r["ex_S_brute"][i] - 2 * np.sqrt(exN[i]), s=1, alpha=0.4, label="exhaustive range")
    ax.scatter(rnd, r["rnd_S_brute"] - 2 * np.sqrt(rnd), s=4, color="k", alpha=0.5, label="random large N")
    grid = np.geomspace(1, max(hi, rnd.max()), 400)
    ax.plot(grid, bound_loose(grid) - 2 * np.sqrt(grid), label=r"$3 + 2\sqrt{1+2\sqrt{N}}$ (article)")
    ax.plot(grid, bound_tight(grid) - 2 * np.sqrt(grid), label=r"$2 + \sqrt{1+4\sqrt{N}}$ (reader)")
    ax.set(xscale="log", xlabel="N", ylabel=r"$S^*(N) - 2\sqrt{N}$")
    ax.set_yscale("symlog", linthresh=1.0)  # the gap grows like N^(1/4): keep small N visible
    ax.set_ylim(bottom=-1.5)  # the gap is >= -1 (N = 1)
    ax.legend(fontsize=8)
    savefig(fig, out / "gap_and_bounds.png")

    # (2) candidates inspected, log-log, with reference slopes
    fig, ax = figure(figsize=(7, 4.2))
    for k in ("A", "B", "C"):
        ax.plot(tN, r[f"tim_cand_{k}"], "o-", ms=3, label=f"algorithm {k}")
    for slope, k in ((0.5, "A"), (0.25, "C")):
        y0 = r[f"tim_cand_{k}"][0]
        ax.plot(tN, y0 * (tN / tN[0]) ** slope, "k--" if slope == 0.5 else "k:", lw=1, label=f"slope {slope}")
    ax.set(xscale="log", yscale="log", xlabel="N", ylabel="candidates inspected")
    ax.legend(fontsize=8)
    savefig(fig, out / "candidates.png")

    # (3) where A and the naive guess fail
    fig, axes = figure(1, 2, figsize=(10, 4))
    N = np.concatenate([exN, rnd])
    S_star = np.concatenate([r["ex_S_brute"], r["rnd_S_brute"]])
    for ax, k, title in ((axes[0], "A", "algorithm A (open-left interval)"), (axes[1], "guess", "naive guess a = b = isqrt N")):
        d = np.concatenate([r[f"ex_S_{k}"], r[f"rnd_S_{k}"]]) - S_star
        no_answer = d < -S_star  # S = -1: empty interval, no answer
        bad = np.flatnonzero((d != 0) & ~no_answer)
        ex_bad, rnd_bad = bad[bad < exN.size], bad[bad >= exN.size]  # thin the range, keep every random N
        bad = np.concatenate([ex_bad[_thin(ex_bad.size)] if ex_bad.size else ex_bad, rnd_bad])
        ax.scatter(N[bad], d[bad], s=4, alpha=0.6,
                   label=f"{int((d != 0).sum())} failing N ({int(no_answer.sum())} with an empty interval)")
        ax.axvline(100, color="gray", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log" if k == "guess" else "linear", xlabel="N", ylabel=r"$S - S^*$", title=title)
        ax.legend(fontsize=8)
    savefig(fig, out / "failures.png")

    # (4) runtime per query
    fig, ax = figure(figsize=(7, 4.2))
    for k in ("A", "B", "C"):
        ax.plot(tN, r[f"tim_t_{k}"], "o-", ms=3, label=f"algorithm {k}")
    ax.scatter(rnd, r["rnd_t_brute"], s=5, color="k", alpha=0.6, label="brute force (random N)")
    ax.set(xscale="log", yscale="log", xlabel="N", ylabel="seconds per query")
    ax.legend(fontsize=8)
    savefig(fig, out / "runtime.png")
