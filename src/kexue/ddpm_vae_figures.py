"""Figures of article 9152 (stage `figures`), drawn from the stored arrays and metrics only."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kexue.image_grids import draw_grid, draw_trajectory_strip
from kexue.plots import PALETTE, band, figure, savefig
from kexue.sample_diagnostics import smoothed


def _schedule(z, out: Path) -> None:
    fig, (a, b) = figure(1, 2, figsize=(11, 4))
    t = z["t"]
    a.plot(t, z["abar"], label=r"$\bar\alpha_t$ (std)")
    a.plot(t, z["bbar"], label=r"$\bar\beta_t$ (std)")
    a.set_xlabel("t")
    a.set_ylabel("std")
    a2 = a.twinx()
    a2.plot(t[1:], z["log_snr"], color=PALETTE[2], ls="--", label="log-SNR (right)")
    a2.set_ylabel(r"log SNR = log($\bar\alpha_t^2/\bar\beta_t^2$)")
    a2.grid(False)
    h1, l1 = a.get_legend_handles_labels()
    h2, l2 = a2.get_legend_handles_labels()
    a.legend(h1 + h2, l1 + l2, loc="center right")
    a.set_title(r"$\alpha_t=\sqrt{1-0.02t/T}$, T = 1000")
    ts, post, beta = z["sigma_t"], z["sigma_posterior"], z["sigma_beta"]
    b.loglog(ts, beta, label=r"$\sigma_t=\beta_t$ (N(0, I) data)")
    b.loglog(ts[1:], post[1:], label=r"$\sigma_t=\bar\beta_{t-1}\beta_t/\bar\beta_t$ (one point)")
    b.set_xlabel("t")
    b.set_ylabel(r"$\sigma_t$")
    b2 = b.twinx()
    b2.semilogx(ts, post / beta, color=PALETTE[3], ls=":", label="ratio (right)")
    b2.set_ylim(0, 1.05)
    b2.set_ylabel("posterior / beta")
    b2.grid(False)
    h1, l1 = b.get_legend_handles_labels()
    h2, l2 = b2.get_legend_handles_labels()
    b.legend(h1 + h2, l1 + l2, loc="lower right")
    b.set_title(r"decoder std $\sigma_t$ (ratio: 0 at t = 1, 0.577 at t = 2)")
    savefig(fig, out / "schedule.png")


def _samples(z, ev, out: Path) -> None:
    panels = [("grid_real", "held-out real"), ("grid_main_s0_beta", r"DDPM, $\sigma_t=\beta_t$"),
              ("grid_main_s0_posterior", r"DDPM, $\sigma_t$ = posterior"), ("grid_vae", "one-step VAE (mean)"),
              ("grid_batchnorm_train", "BatchNorm, batch stats"), ("grid_batchnorm_eval", "BatchNorm, eval mode")]
    fig, axes = figure(2, 3, figsize=(10.5, 7.4))
    for ax, (key, title) in zip(axes.ravel(), panels):
        name = key[len("grid_"):]
        fd = f"\nFD {ev['samples'][name]['FD']:.2f}" if name in ev["samples"] else ""
        draw_grid(ax, z[key][:64], 8, 8, title=title + fd)
    savefig(fig, out / "samples.png")


def _trajectory(z, out: Path) -> None:
    traj, ts = z["traj"], [int(t) for t in z["traj_t"]]
    fig, ax = figure(figsize=(5, 6.2))
    draw_trajectory_strip(ax, traj, ts, title="reverse process, main model")
    savefig(fig, out / "trajectory.png")


def _loss_fd(losses, ev, tr, out: Path) -> None:
    loss = losses["main_s0"]
    steps = np.arange(1, len(loss) + 1)
    w = max(5, min(200, len(loss) // 20))
    kern = np.ones(w) / w
    mid = np.convolve(loss, kern, mode="valid")
    sq = np.convolve(loss ** 2, kern, mode="valid")
    se = np.sqrt(np.maximum(sq - mid ** 2, 0) * w / (w - 1) / w)
    x = steps[w - 1:]
    fig, ax = figure(figsize=(8, 4.5))
    band(ax, x, mid, mid - 1.96 * se, mid + 1.96 * se, label=f"running mean ({w} steps) ± 95%", color=PALETTE[0])
    ax.plot(steps, smoothed(loss, 0.99), color=PALETTE[1], lw=1, label="bias-corrected EMA (0.99), C7")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(r"loss $\|\varepsilon-\hat\epsilon\|^2$ (sum over pixels)")
    ax2 = ax.twinx()
    fr = sorted(float(f) for f in tr["train"]["snapshot_fractions"])
    n_steps = tr["train"]["runs"]["main_s0"]["steps"]
    s = [ev["samples"][f"ckpt_{f:g}"] for f in fr]
    xs = [f * n_steps for f in fr]
    fd = np.array([v["FD"] for v in s])
    err = np.array([[v["FD"] - v["fd_lo"] for v in s], [v["fd_hi"] - v["FD"] for v in s]]).clip(0)
    ax2.errorbar(xs, fd, yerr=err, fmt="o-", color=PALETTE[3], capsize=3, label="FD at checkpoint (right)")
    ax2.set_yscale("log")
    ax2.set_ylabel("FD (classifier features), log")
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper right")
    ax.set_title("main model: training loss and checkpoint FD")
    savefig(fig, out / "loss_fd.png")


def _order(names) -> list[str]:
    """Main seeds, checkpoints by fraction, ablations, VAE: the reading order of the card."""
    def key(n):
        if n.startswith("main_s"):
            return (0, n)
        if n.startswith("ckpt_"):
            return (1, float(n[5:]))
        if n.startswith("vae"):
            return (3, n)
        return (2, n)
    return sorted(names, key=key)


def _variants(ev, out: Path) -> None:
    S = ev["samples"]
    names = _order(S)
    fig, axes = figure(1, 4, figsize=(16, 5.4), sharey=True)
    y = np.arange(len(names))
    fd = np.array([S[n]["FD"] for n in names])
    err = np.array([[S[n]["FD"] - S[n]["fd_lo"] for n in names], [S[n]["fd_hi"] - S[n]["FD"] for n in names]]).clip(0)
    axes[0].barh(y, fd, xerr=err, color=PALETTE[0], capsize=2)
    axes[0].axvline(np.mean([S[n]["fd_floor"] for n in names]), color="k", ls="--", lw=1,
                    label="real-vs-real floor (mean over n)")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("FD (classifier features), log")
    axes[0].legend(loc="lower right", fontsize=8)
    for ax, key, c in ((axes[1], "precision", PALETTE[1]), (axes[2], "recall", PALETTE[2])):
        ax.barh(y, [S[n][key] for n in names], color=c)
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"{key} (k = 5)")
    axes[3].barh(y, [S[n]["sharpness_ratio"] for n in names], color=PALETTE[4])
    axes[3].axvline(1, color="k", ls="--", lw=1)
    axes[3].set_xlabel("sharpness / real (1 = as sharp as data)")
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([f"{n} (n={S[n]['n_samples']})" for n in names], fontsize=8)
    axes[0].invert_yaxis()
    savefig(fig, out / "variants.png")


def _grad_variance(ev, out: Path) -> None:
    rows = ev["c3b"]["rows"]
    t = np.array([r["t"] for r in rows], dtype=float)
    fig, (a, b) = figure(1, 2, figsize=(11, 4.2))
    ci = [r["var_ratio_ci"] for r in rows]
    band(a, t, [r["var_ratio"] for r in rows], [c["lo"] for c in ci], [c["hi"] for c in ci],
         label="merged / two-noise (95% chunk bootstrap)", color=PALETTE[0], marker="o")
    a.axhline(1, color="k", ls="--", lw=1)
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("t")
    a.set_ylabel("total gradient variance ratio")
    a.legend()
    d = np.array([r["diff_mean"] for r in rows])
    se = np.array([r["diff_se"] for r in rows])
    pred = np.array([r["diff_pred"] for r in rows])
    b.errorbar(t, d, yerr=3 * se, fmt="o", capsize=3, label="measured mean ± 3 SE", color=PALETTE[0])
    b.plot(t, pred, "-", color=PALETTE[3], label=r"predicted $d\,\alpha_t^2\bar\beta_{t-1}^2/\bar\beta_t^2\cdot w$")
    b.set_xscale("log")
    b.set_xlabel("t")
    b.set_ylabel("E[two-noise − merged]")
    b.legend()
    savefig(fig, out / "grad_variance.png")


def draw_all(schedule_npz, losses_npz, samples_npz, evaluate_json, train_json, out_dir) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ev = json.loads(Path(evaluate_json).read_text())
    tr = json.loads(Path(train_json).read_text())
    with np.load(schedule_npz) as z:
        _schedule(z, out)
    with np.load(samples_npz) as z:
        _samples(z, ev, out)
        _trajectory(z, out)
    with np.load(losses_npz) as z:
        _loss_fd(z, ev, tr, out)
    _variants(ev, out)
    _grad_variance(ev, out)
