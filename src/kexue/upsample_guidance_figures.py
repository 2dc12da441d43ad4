"""Figures of article 10055 (upsample guidance), drawn from the stored arrays and metrics only.

samples.png      one grid per configuration, same initial noise at the same grid position
fd_vs_w.png      FD28 (and FD14 of pooled samples) against w, baselines as horizontal lines, 95% bootstrap bars
detail_ratio.png detail energy of samples / real high-res images, 95% bootstrap bars
tau_rho.png      the SNR-matched time tau(t) and the input rescaling rho_t for s = 2, 4
spectra.png      radially averaged power spectra of real, upsampled, direct and UG samples
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.image_grids import draw_grid
from kexue.io import read_json
from kexue.plots import PALETTE, band, figure, savefig

MAIN = ("lowres", "up_nearest", "up_bilinear", "direct", "ug_w0", "ug_w0.2", "ug_w0.5", "ug_w1")
LABEL = {"lowres": "low-res samples", "up_nearest": "nearest upsampling", "up_bilinear": "bilinear upsampling",
         "direct": "direct (w = -1)", "oracle": "high-res oracle", "tf_direct": "Transformer direct",
         "tf_ug_w0.2": "Transformer UG w = 0.2"}


def _label(name: str) -> str:
    if name in LABEL:
        return LABEL[name]
    return name.replace("ug_w", "UG w = ").replace("_eta", ", eta = ").replace("_round", ", tau rounded")


def _w_of(name: str) -> float | None:
    if name == "direct":
        return -1.0
    if name.startswith("ug_w") and "_" not in name[4:]:
        return float(name[4:])
    return None


def draw_samples(arr, path: Path, n_show: int = 16) -> None:
    names = [k[5:] for k in arr.files if k.startswith("grid_")]
    names = [n for n in MAIN if n in names] + [n for n in names if n not in MAIN]
    panels = [("real", arr["real_hi"][:n_show])] + [(n, arr[f"grid_{n}"][:n_show]) for n in names]
    ncol = 4
    nrow = -(-len(panels) // ncol)
    fig, axes = figure(nrow, ncol, figsize=(3.0 * ncol, 3.2 * nrow))
    side = int(np.sqrt(n_show))
    for ax, (name, X) in zip(axes.ravel(), panels):
        draw_grid(ax, X, side, -(-len(X) // side), title=_label(name) if name != "real" else "real (held-out)")
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    savefig(fig, path)


def draw_fd_vs_w(m: dict, path: Path) -> None:
    cfg = m["configs"]
    ws = sorted((w, n) for n in cfg if (w := _w_of(n)) is not None)
    fig, axes = figure(1, 2, figsize=(11, 4.2))
    if not m.get("fd", True):
        for ax in axes:
            ax.text(0.5, 0.5, f"no metric classifier for the {m.get('dataset', '')} images:\nFD not computed at "
                    "this profile", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        savefig(fig, path)
        return
    for ax, tag, base in ((axes[0], "28", ("up_nearest", "up_bilinear")), (axes[1], "14", ("lowres",))):
        x = np.array([w for w, _ in ws])
        est = np.array([cfg[n][f"fd{tag}"]["estimate"] for _, n in ws])
        lo = np.array([cfg[n][f"fd{tag}"]["lo"] for _, n in ws])
        hi = np.array([cfg[n][f"fd{tag}"]["hi"] for _, n in ws])
        ax.errorbar(x, est, yerr=[est - lo, hi - est], marker="o", capsize=3, color=PALETTE[0],
                    label="UG (w = -1: direct)" if tag == "28" else "D[UG samples]")
        for j, b in enumerate(base):
            e = cfg[b][f"fd{tag}"]
            band(ax, [x.min(), x.max()], [e["estimate"]] * 2, [e["lo"]] * 2, [e["hi"]] * 2,
                 label=_label(b), color=PALETTE[1 + j], linestyle="--")
        fl = cfg[ws[0][1]][f"floor{tag}"]["fd_floor"]
        ax.axhline(fl, color="grey", linestyle=":", label=f"real-vs-real floor (n = {cfg[ws[0][1]][f'floor{tag}']['n']})")
        ax.set_xlabel("guidance weight w (paper's scale = w + 1)")
        ax.set_yscale("log")
        ax.set_ylabel(f"FD (classifier features), {tag} px")
        ax.set_title("high-res samples vs real" if tag == "28" else "pooled samples vs real low-res")
        ax.legend(fontsize=8)
    savefig(fig, path)


def draw_detail(m: dict, path: Path) -> None:
    cfg = m["configs"]
    names = [n for n in cfg if "detail_ratio" in cfg[n]]
    est = np.array([cfg[n]["detail_ratio"]["estimate"] for n in names])
    lo = np.array([cfg[n]["detail_ratio"]["lo"] for n in names])
    hi = np.array([cfg[n]["detail_ratio"]["hi"] for n in names])
    fig, ax = figure(figsize=(max(6.0, 0.8 * len(names)), 4.2))
    ax.bar(range(len(names)), est, yerr=[est - lo, hi - est], capsize=3, color=PALETTE[0])
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="real images")
    ax.axhspan(0.3, 2.0, color=PALETTE[2], alpha=0.12, label="C5 acceptance band [0.3, 2]")
    ax.set_xticks(range(len(names)), [_label(n) for n in names], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("detail energy ratio  E|x - UDx|^2 / real")
    ax.legend(fontsize=8)
    savefig(fig, path)


def draw_tau_rho(curves, path: Path) -> None:
    t = curves["t"]
    fig, axes = figure(1, 2, figsize=(10, 4))
    axes[0].plot(t, t, color="grey", linestyle=":", label="tau = t")
    for j, s in enumerate((2, 4)):
        if f"tau_s{s}" in curves.files:
            axes[0].plot(t, curves[f"tau_s{s}"], color=PALETTE[j], label=f"s = {s}")
            axes[1].plot(t, curves[f"rho_s{s}"], color=PALETTE[j], label=f"s = {s}")
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("tau(t): SNR(tau) = s^2 SNR(t)")
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("rho_t = sqrt(abar_t^2 + bbar_t^2 / s^2)")
    for ax in axes:
        ax.legend(fontsize=8)
    savefig(fig, path)


def draw_spectra(arr, m: dict, path: Path, s: int) -> None:
    r = arr["spec_radius"]
    fig, ax = figure(figsize=(6.4, 4.2))
    ax.plot(r, arr["spec_real"], color="k", linewidth=2, label="real")
    for j, n in enumerate(("up_nearest", "up_bilinear", "direct", "ug_w0.2", "ug_w1", "oracle")):
        if f"spec_{n}" in arr.files:
            ax.plot(r, arr[f"spec_{n}"], color=PALETTE[j], label=_label(n))
    side = 2 * int(r.max())
    ax.axvline(side / (2 * s), color="grey", linestyle=":", label="low-res Nyquist")
    ax.set_yscale("log")
    ax.set_xlabel("spatial frequency radius (cycles per image)")
    ax.set_ylabel("mean power")
    ax.legend(fontsize=8)
    savefig(fig, path)


def draw_all(samples_npz, curves_npz, metrics_json, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arr, curves = np.load(samples_npz), np.load(curves_npz)
    m = read_json(metrics_json)["ug"]
    draw_samples(arr, out / "samples.png")
    draw_fd_vs_w(m, out / "fd_vs_w.png")
    draw_detail(m, out / "detail_ratio.png")
    draw_tau_rho(curves, out / "tau_rho.png")
    draw_spectra(arr, m, out / "spectra.png", int(m["s"]))
