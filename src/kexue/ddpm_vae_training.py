"""Training of article 9152: every eps-model (main seeds with snapshots, BatchNorm / learned-embedding / mean-loss
ablations) through kexue.diffusion.training.train_eps_model, then the one-step Gaussian VAE sized like the main
model. `ctx` is the stage context (params ctx.p, persist folder, fingerprint, device, log).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from kexue.ddpm_vae_models import (SOURCE, VARIANTS, article_schedule, build_model, fkey,
                                   load_data, model_cfg, snapshot_fractions)
from kexue.diffusion.training import train_eps_model
from kexue.nn.gaussian_vae import GaussianVAE, count_params, hidden_for_params, train_gaussian_vae
from kexue.nn.mlp_denoiser import denoiser_payload


def train_all(ctx) -> tuple[dict, dict, dict]:
    """Every model of the article, one after the other (each resumable): the main eps-model per seed (with
    snapshots), the ablations, the VAE. Returns (models {name: payload}, loss curves, info)."""
    p = ctx.p
    data = load_data(p.data, ctx.inp(SOURCE[p.data]), p.n_train)
    sched = article_schedule(p.T, p.var_end)
    cfg = model_cfg(p)
    ckpt = ctx.persist("ckpt")
    bf16 = ctx.profile == "full" and ctx.device == "cuda"
    fracs = snapshot_fractions(p)
    runs = [(f"main_s{k}", ctx.seed + k, ("group", "sinusoidal", "sum"), p.steps, k == 0) for k in range(p.seeds)]
    runs += [(name, ctx.seed, v, p.ablation_steps, False) for name, v in VARIANTS.items()]
    models, curves, info = {}, {}, {}
    for name, seed, (norm, t_embed, reduction), steps, snap in runs:
        model = build_model(cfg, norm, t_embed, seed)
        t0 = time.perf_counter()
        res = train_eps_model(model, data.train, sched, steps=steps, batch=p.batch, lr=p.lr, seed=seed,
                              run_dir=ckpt / name, fingerprint=ctx.fingerprint, reduction=reduction,
                              ema_decay=p.ema_decay or None, snapshots=fracs if snap else (), device=ctx.device,
                              bf16=bf16, desc=f"9152 {name}")
        loss = np.array([r["loss"] for r in res["stats"]])
        info[name] = {"steps": steps, "seed": seed, "norm": norm, "t_embed": t_embed, "reduction": reduction,
                      "n_params": res["n_params"], "nonfinite_losses": int((~np.isfinite(loss)).sum()),
                      "wall_s": time.perf_counter() - t0}
        models[name] = denoiser_payload(res["model"])
        for f, payload in res["snapshots"].items():
            models[f"{name}@{fkey(f)}"] = payload
        curves[name] = loss
        ctx.log(f"{name}: {steps} steps, mean loss of the first/last 10%: {loss[:max(1, steps // 10)].mean():.3f} / "
                f"{loss[-max(1, steps // 10):].mean():.3f}")
    # the one-step Gaussian VAE, sized like the main denoiser
    n_main = info["main_s0"]["n_params"]
    hidden = hidden_for_params(n_main, cfg["dim"], p.vae_latent, p.vae_depth)
    torch.manual_seed(ctx.seed)
    vae = GaussianVAE(cfg["dim"], p.vae_latent, hidden, p.vae_depth)
    t0 = time.perf_counter()
    vres = train_gaussian_vae(vae, data.train.flatten(1), steps=p.vae_steps, batch=p.vae_batch, lr=p.vae_lr,
                              seed=ctx.seed, run_dir=ckpt / "vae", fingerprint=ctx.fingerprint, device=ctx.device)
    vloss = np.array([r["loss"] for r in vres["stats"]])
    models["vae"] = {"config": dict(vae.config), "state_dict": {k: v.cpu() for k, v in vae.state_dict().items()}}
    curves["vae"] = vloss
    info["vae"] = {"steps": p.vae_steps, "hidden": hidden, "latent": p.vae_latent, "depth": p.vae_depth,
                   "n_params": count_params(cfg["dim"], p.vae_latent, hidden, p.vae_depth),
                   "neg_elbo_last_10pct": float(vloss[-max(1, p.vae_steps // 10):].mean()),
                   "sigma_x": vres["model"].sigma_x, "wall_s": time.perf_counter() - t0}
    ctx.log(f"VAE: hidden {hidden}, {info['vae']['n_params']} params (DDPM {n_main}); "
            f"-ELBO {info['vae']['neg_elbo_last_10pct']:.2f}, sigma_x {info['vae']['sigma_x']:.3f}")
    info = {"runs": info, "snapshot_fractions": fracs, "schedule": sched.name, "device": ctx.device,
            "ema_decay": p.ema_decay}
    return models, curves, info
