"""Evaluation of article 9152: ancestral sampling of every model (common random numbers), sample metrics in the
metric classifier's feature space, the C3b estimator study and the C10 underflow count. `ctx` is the stage
context; the models come from the train stage's models.pt.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from kexue.ddpm_vae_models import (CELEBA_DIM, LOSS_SMOOTHING, SOURCE, VARIANTS, article_schedule, build_model, fkey,
                                   load_data, model_cfg, snapshot_fractions)
from kexue.ddpm_vae_study import c3b_times, grad_noise_study, sample_images, underflow_fractions
from kexue.feature_classifier import features, load_feature_classifier
from kexue.image_metrics import FD_NAME, sample_metrics
from kexue.montecarlo import mean_ci, paired_bootstrap_ci
from kexue.nn.gaussian_vae import GaussianVAE
from kexue.nn.mlp_denoiser import load_denoiser
from kexue.sample_diagnostics import fd_bootstrap, laplacian_energy, nn_distances, smoothed


def evaluate_all(ctx) -> tuple[dict, dict]:
    """Sampling, metrics, the C3b gradient study and the C10 underflow count. Returns (metrics, arrays)."""
    p = ctx.p
    t_start = time.perf_counter()
    data = load_data(p.data, ctx.inp(SOURCE[p.data]), p.n_train)
    full = load_data(p.data, ctx.inp(SOURCE[p.data]), None)      # floor pool: every canonical train image + held-out
    sched = article_schedule(p.T, p.var_end)
    cfg = model_cfg(p)
    net = load_feature_classifier(ctx.inp(f"metric_{p.data}"))
    stored = torch.load(ctx.inp("models"), map_location="cpu", weights_only=True)
    real = data.to_metric(data.held_out)
    floor_real = np.concatenate([full.to_metric(full.train), real])
    train_metric = data.to_metric(data.train)
    F_real = features(net, real)
    sharp_real = float(laplacian_energy(real).mean())
    nn_real = float(np.median(nn_distances(real, train_metric)))
    abl = fkey(p.ablation_steps / p.steps)

    def measure(X) -> dict:
        Xm = data.to_metric(X)
        m = sample_metrics(net, Xm, real, floor_real=floor_real, k=5, seed=ctx.seed)
        ci = fd_bootstrap(features(net, Xm), F_real, n_boot=p.fd_boot, seed=ctx.seed)
        m.update({"FD": m[FD_NAME], "fd_lo": ci["lo"], "fd_hi": ci["hi"], "fd_n_boot": ci["n_boot"],
                  "sharpness": float(laplacian_energy(Xm).mean()), "sharpness_real": sharp_real,
                  "nn_dist_median": float(np.median(nn_distances(Xm, train_metric))), "nn_dist_real_median": nn_real})
        m["sharpness_ratio"] = m["sharpness"] / sharp_real
        m["nn_ratio"] = m["nn_dist_median"] / nn_real
        return m

    def sample(model, n, sigma="beta", train_mode=False, **kw):
        return sample_images(model, sched, n, data.shape, chunk=p.sample_batch, sigma=sigma, seed=ctx.seed,
                             train_mode=train_mode, device=ctx.device, **kw)

    sets, grids, timing = {}, {}, {}

    def record(name, X, sec):
        sets[name] = measure(X)
        grids[name] = data.to_metric(X[:64])
        timing[name] = sec
        ctx.log(f"{name}: FD {sets[name]['FD']:.3f} [{sets[name]['fd_lo']:.3f}, {sets[name]['fd_hi']:.3f}] "
                f"(n = {len(X)}, floor {sets[name]['fd_floor']:.3f}); sharpness ratio {sets[name]['sharpness_ratio']:.3f}")

    traj = None
    for k in range(p.seeds):
        main = load_denoiser(stored[f"main_s{k}"])
        for sigma in ("beta", "posterior"):
            t0 = time.perf_counter()
            if k == 0 and sigma == "beta":
                T = sched.T
                X, traj, traj_t = sample(main, p.n_samples, sigma, traj_times=(T, 3 * T // 4, T // 2, T // 4, 0), traj_n=6)
                main_beta_s0 = X
            else:
                X = sample(main, p.n_samples, sigma)
            record(f"main_s{k}_{sigma}", X, time.perf_counter() - t0)
    # checkpoints of seed 0 (same sampling noise as the first n_samples_ablation of main_s0_beta)
    for f in snapshot_fractions(p):
        t0 = time.perf_counter()
        X = main_beta_s0[:p.n_samples_ablation] if f == 1.0 else sample(load_denoiser(stored[f"main_s0@{fkey(f)}"]),
                                                                          p.n_samples_ablation)
        record(f"ckpt_{fkey(f)}", X, time.perf_counter() - t0)
    for name in VARIANTS:
        model = load_denoiser(stored[name])
        modes = ((f"{name}_train", True), (f"{name}_eval", False)) if name == "batchnorm" else ((name, False),)
        for label, train_mode in modes:
            t0 = time.perf_counter()
            record(label, sample(model, p.n_samples_ablation, train_mode=train_mode), time.perf_counter() - t0)
    vae = GaussianVAE(**{k: v for k, v in stored["vae"]["config"].items() if k != "arch"})
    vae.load_state_dict(stored["vae"]["state_dict"])
    vae.eval()
    g = torch.Generator().manual_seed(ctx.seed)
    record("vae", vae.sample(p.n_samples, generator=g).view(-1, *data.shape), 0.0)
    record("vae_noisy", vae.sample(p.n_samples, generator=g, noise=True).view(-1, *data.shape), 0.0)

    # C3b: the two estimators of the step-t term at the chosen training state of the main model
    t0 = time.perf_counter()
    c3_model = (build_model(cfg, "group", "sinusoidal", ctx.seed) if p.c3b_snapshot == 0
                else load_denoiser(stored[f"main_s0@{fkey(p.c3b_snapshot)}"]))
    rows = grad_noise_study(c3_model, data.train, sched, c3b_times(sched.T, p.c3b_times), p.c3b_samples,
                            p.c3b_chunk, ctx.seed)
    for r in rows:
        r["var_ratio_ci"] = paired_bootstrap_ci(r.pop("chunk_var_merged"), r.pop("chunk_var_two"),
                                                lambda a, b: a.mean() / b.mean(), seed=ctx.seed)
    c3_wall = time.perf_counter() - t0

    # C10: gradient entries below fp16's smallest subnormal, each model under its own loss reduction
    d = cfg["dim"]
    ref = load_denoiser(stored[f"main_s0@{abl}"])
    u_sum = underflow_fractions(ref, data.train, sched, "sum", p.c10_batches, p.batch, ctx.seed,
                                scales=(1.0, float(d), float(CELEBA_DIM)))
    u_mean = underflow_fractions(load_denoiser(stored["mean"]), data.train, sched, "mean", p.c10_batches, p.batch,
                                 ctx.seed)
    c10 = {"threshold": 6e-8, "dim": d, "n_batches": p.c10_batches, "batch": p.batch,
           "sum": mean_ci(u_sum["fractions"]["1"]), "mean": mean_ci(u_mean["fractions"]["1"]),
           "sum_scaled_by_dim": mean_ci(u_sum["fractions"][f"{float(d):g}"]),
           "sum_scaled_by_celeba_dim": mean_ci(u_sum["fractions"][f"{float(CELEBA_DIM):g}"]), "celeba_dim": CELEBA_DIM}
    c10["ratio_mean_to_sum"] = c10["mean"]["mean"] / c10["sum"]["mean"] if c10["sum"]["mean"] > 0 else None

    table = [{"set": k, **{c: v.get(c) for c in ("n_samples", "FD", "fd_lo", "fd_hi", "fd_floor", "precision", "recall",
                                                 "class_entropy", "sharpness_ratio", "nn_ratio")}} for k, v in sets.items()]
    metrics = {
        "loss_curves": loss_summary(ctx.inp("losses"), snapshot_fractions(p)),
        "samples": sets, "table_variants": table, "ablation_reference": f"ckpt_{abl}",
        "c3b": {"snapshot": p.c3b_snapshot, "rows": rows, "wall_s": c3_wall},
        "c10_underflow": c10,
        "eval_info": {"n_samples": p.n_samples, "n_samples_ablation": p.n_samples_ablation,
                      "sample_batch": p.sample_batch, "sampling_s": timing, "wall_s": time.perf_counter() - t_start}}
    arrays = {f"grid_{k}": v for k, v in grids.items()}
    arrays.update({"grid_real": real[:64], "traj": data.to_metric(traj.flatten(0, 1)).reshape(traj.shape[0], traj.shape[1], -1),
                   "traj_t": np.array(traj_t)})
    return metrics, arrays


def loss_summary(path, fractions) -> dict:
    """Per run: the bias-corrected EMA (decay LOSS_SMOOTHING) of the per-step loss at 10% of the steps and at the
    end, their ratio (C7), its value at each snapshot fraction, and the count of non-finite values."""
    out = {}
    with np.load(path) as z:
        for name in z.files:
            loss = z[name]
            sm = smoothed(loss, LOSS_SMOOTHING)
            early = max(1, round(0.1 * len(loss)))
            out[name] = {"steps": int(len(loss)), "early_step": early, "smoothed_at_10pct": float(sm[early - 1]),
                         "smoothed_final": float(sm[-1]), "ratio_final_to_10pct": float(sm[-1] / sm[early - 1]),
                         "nonfinite": int((~np.isfinite(loss)).sum()), "decay": LOSS_SMOOTHING,
                         "smoothed_at": {fkey(f): float(sm[max(1, round(f * len(loss))) - 1]) for f in fractions}}
    return out
