"""Figures of article 9969 (from the evaluate stage's arrays/metrics and the train stage's curves)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.image_grids import draw_grid
from kexue.image_metrics import FD_NAME
from kexue.io import read_json
from kexue.plots import PALETTE, band, figure, savefig

LABELS = {"ign_paper_bottleneck": "IGN paper form, bottleneck", "ign_article_bottleneck": "IGN article form, bottleneck",
          "ign_paper_unet": "IGN paper form, U-Net skips", "gan_wgan_gp": "WGAN-GP (G + D)"}


def _group(name: str) -> str:
    return name.rsplit("_s", 1)[0]


def grids(A, runs: list[str], path: Path) -> None:
    ign = [r for r in runs if r.startswith("ign") and f"{r}__fz" in A]
    gan = [r for r in runs if r.startswith("gan") and f"{r}__fz" in A]
    rows = len(ign) + (1 if gan else 0)
    fig, axes = figure(max(rows, 1), 4, figsize=(9, 2.4 * max(rows, 1)), squeeze=False)
    for i, r in enumerate(ign):
        for j, (key, t) in enumerate((("z", "z"), ("fz", "f(z)"), ("ffz", "f(f(z))"), ("f3z", "f³(z)"))):
            X = A[f"{r}__{key}"][:16]
            draw_grid(axes[i, j], np.clip(X, -1, 1) if key == "z" else X, 4, 4, title=f"{t}" if i == 0 else None)
        axes[i, 0].set_ylabel(r.replace("_", " "), fontsize=7)
    if gan:
        i = len(ign)
        for j, r in enumerate(gan[:4]):
            draw_grid(axes[i, j], A[f"{r}__fz"][:16], 4, 4, title=f"GAN G(z), seed {r[-1]}")
        for j in range(len(gan[:4]), 4):
            axes[i, j].axis("off")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    savefig(fig, path)


def reconstructions(A, runs: list[str], path: Path) -> None:
    ign = [r for r in runs if r.startswith("ign") and f"{r}__x" in A]
    fig, axes = figure(max(len(ign), 1), 4, figsize=(9, 2.4 * max(len(ign), 1)), squeeze=False)
    for i, r in enumerate(ign):
        for j, (key, t) in enumerate((("x", "real x"), ("fx", "f(x)"), ("xc", "x + 0.3·noise"), ("fxc", "f(x + noise)"))):
            draw_grid(axes[i, j], np.clip(A[f"{r}__{key}"], -1, 1), 4, 4, title=t if i == 0 else None)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
        axes[i, 0].set_ylabel(r.replace("_", " "), fontsize=7)
    savefig(fig, path)


def loss_curves(C, path: Path) -> None:
    names = sorted({k.split("__")[0] for k in C.files})
    ign = [n for n in names if n.startswith("ign")]
    fig, axes = figure(1, 4, figsize=(14, 3.4))
    for i, n in enumerate(ign):
        col = PALETTE[i % len(PALETTE)]
        for ax, term in zip(axes[:3], ("rec", "idem", "tight")):
            y = C[f"{n}__{term}"]
            w = max(1, len(y) // 50)
            ys = np.convolve(y, np.ones(w) / w, mode="valid")
            ax.plot(np.arange(len(ys)) + w - 1, ys, color=col, lw=1, label=n.replace("ign_", "").replace("_", " "))
            ax.set_title(f"L_{term} (running mean, {w} steps)")
            ax.set_xlabel("step")
    for i, n in enumerate(n for n in names if n.startswith("gan")):
        y = C[f"{n}__critic_gap"]
        w = max(1, len(y) // 50)
        axes[3].plot(np.convolve(y, np.ones(w) / w, mode="valid"), color=PALETTE[i], lw=1, label=n)
    axes[3].set_title("GAN: D(G z) − D(x)")
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=6)
    axes[3].legend(fontsize=6)
    savefig(fig, path)


def fd_vs_k(E, path: Path) -> None:
    runs = E["eval"]["runs"]
    fig, ax = figure()
    groups = {}
    for n, m in runs.items():
        if "fd_k" in m:
            groups.setdefault(_group(n), []).append(m["fd_k"])
    floor = [m["fd_floor"] for m in runs.values() if "fd_floor" in m]
    fstd = [m["fd_floor_std"] or 0.0 for m in runs.values() if "fd_floor" in m]
    for i, (g, rows) in enumerate(sorted(groups.items())):
        R = np.array(rows)
        k = np.arange(R.shape[1])
        band(ax, k, R.mean(0), R.min(0), R.max(0), label=f"{LABELS.get(g, g)} (n = {len(R)} seeds, min–max)",
             color=PALETTE[i], marker="o")
    if floor:
        ax.axhspan(floor[0] - 2 * fstd[0], floor[0] + 2 * fstd[0], color="grey", alpha=0.3,
                   label="real-vs-real floor ± 2 sd")
    ax.set_yscale("log")
    ax.set_xlabel("k (f applied k times; k = 0 is the noise z)")
    ax.set_ylabel(FD_NAME)
    ax.legend(fontsize=7)
    savefig(fig, path)


def bars(E, path: Path) -> None:
    runs = E["eval"]["runs"]
    groups = {}
    for n, m in runs.items():
        if FD_NAME in m:
            groups.setdefault(_group(n), []).append(m)
    names = sorted(groups)
    fig, axes = figure(1, 4, figsize=(14, 3.6))
    for ax, (key, title) in zip(axes, ((FD_NAME, FD_NAME), ("recall", "recall (k = 5)"),
                                       ("class_entropy", "class entropy (nats)"), ("sharpness_ratio",
                                                                                   "sharpness / real"))):
        for i, g in enumerate(names):
            v = np.array([m[key] for m in groups[g]])
            ax.bar(i, v.mean(), color=PALETTE[i], alpha=0.6)
            ax.scatter(np.full(len(v), i), v, color="k", s=12, zorder=3)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([LABELS.get(g, g).replace(", ", "\n") for g in names], fontsize=6)
        ax.set_title(title)
    axes[2].axhline(np.log(10), color="grey", ls="--", lw=1)
    axes[3].axhline(1.0, color="grey", ls="--", lw=1)
    if names and FD_NAME in groups[names[0]][0]:
        axes[0].axhline(groups[names[0]][0]["fd_floor"], color="grey", ls="--", lw=1)
        axes[0].set_yscale("log")
    savefig(fig, path)


def draw_all(arrays_path, curves_path, eval_path, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    A, C, E = np.load(arrays_path), np.load(curves_path), read_json(eval_path)
    runs = list(E["eval"]["runs"])
    grids(A, runs, out / "samples.png")
    reconstructions(A, runs, out / "reconstructions.png")
    loss_curves(C, out / "loss_curves.png")
    fd_vs_k(E, out / "fd_vs_k.png")
    bars(E, out / "comparison.png")
