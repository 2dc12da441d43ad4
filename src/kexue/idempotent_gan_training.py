"""Training runs of article 9969: IGN (article form / paper form, bottleneck / skip-connected) and the matched
WGAN-GP baseline, each through kexue.train.TrainLoop (resumable: kill -9 + rerun gives the same result).

One Adam over all parameters and one step per batch for both families: the GAN is trained with the article's
single stop-gradient loss (critic and generator updated together), exactly the structure IGN has.
A run that produces a non-finite loss is recorded as diverged (the card's divergence count), not fatal.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from kexue import idempotent_gan as ig
from kexue.errors import KexueError
from kexue.nn.mirrored_autoencoder import AEConfig, build, n_params
from kexue.train import NonFiniteError, TrainLoop, autocast, batch_generator


@dataclass(frozen=True)
class RunSpec:
    name: str        # "ign_paper_bottleneck_s0", ...
    family: str      # "ign" | "gan"
    form: str        # IGN: "article" | "paper"; GAN: "wgan_gp"
    skip: bool
    seed: int


@dataclass(frozen=True)
class TrainCfg:
    ae: AEConfig
    steps: int
    batch: int
    lr: float
    beta1: float
    beta2: float
    w_rec: float
    w_idem: float
    w_tight: float
    clamp_a: float
    gp_weight: float
    ckpt_every: int


def run_specs(seeds_paper: int, seeds_gan: int, seeds_article: int, seeds_unet: int, seed0: int) -> list[RunSpec]:
    if min(seeds_paper, seeds_gan) < 1 or min(seeds_article, seeds_unet) < 0:
        raise KexueError(f"seeds: paper {seeds_paper}, gan {seeds_gan} must be >= 1; article {seeds_article}, "
                         f"unet {seeds_unet} must be >= 0")
    runs = [RunSpec(f"ign_paper_bottleneck_s{k}", "ign", "paper", False, seed0 + k) for k in range(seeds_paper)]
    runs += [RunSpec(f"gan_wgan_gp_s{k}", "gan", "wgan_gp", False, seed0 + k) for k in range(seeds_gan)]
    runs += [RunSpec(f"ign_article_bottleneck_s{k}", "ign", "article", False, seed0 + k) for k in range(seeds_article)]
    runs += [RunSpec(f"ign_paper_unet_s{k}", "ign", "paper", True, seed0 + k) for k in range(seeds_unet)]
    return runs


def _ign_step(f, opt, X, spec: RunSpec, cfg: TrainCfg, device: str, bf16: bool):
    dim = X.shape[1]

    def step(i: int) -> dict:
        g = batch_generator(spec.seed, i)
        x = X[torch.randint(len(X), (cfg.batch,), generator=g)].to(device)
        z = torch.randn(cfg.batch, dim, generator=g).to(device)
        with autocast(device, bf16):
            if spec.form == "article":
                loss = ig.ign_article_loss(f, x, z)
                with torch.no_grad():                       # the three terms, for the curves only
                    t = ig.ign_terms(f, x, z, ig.sq_l2)
            else:
                t = ig.ign_terms(f, x, z, ig.l1_mean)
                loss = ig.ign_paper_loss(t, cfg.w_rec, cfg.w_idem, cfg.w_tight, cfg.clamp_a)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {k: v.item() for k, v in (("loss", loss), ("rec", t["rec"]), ("idem", t["idem"]), ("tight", t["tight"]))}
    return step


def _gan_step(G, D, opt, X, spec: RunSpec, cfg: TrainCfg, device: str, bf16: bool):
    def step(i: int) -> dict:
        g = batch_generator(spec.seed, i)
        x = X[torch.randint(len(X), (cfg.batch,), generator=g)].to(device)
        z = torch.randn(cfg.batch, cfg.ae.latent, generator=g).to(device)
        with autocast(device, bf16):
            gz = G(z)
            d_real, d_fake_sg, d_fake = D(x), D(gz.detach()), D(gz)
            gp = ig.gradient_penalty(D, x, gz, g)
            loss = (d_real - 2 * d_fake_sg + d_fake).mean() + cfg.gp_weight * gp
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "critic_gap": (d_fake_sg - d_real).mean().item(), "gp": gp.item()}
    return step


def train_run(spec: RunSpec, cfg: TrainCfg, X: torch.Tensor, run_dir, fingerprint: str, device: str = "cpu",
              bf16: bool = False) -> dict:
    """Train one run; returns {"state": {net: state_dict}, "stats": [per-step dicts], "diverged", ...}."""
    ae = AEConfig(**{**cfg.ae.__dict__, "skip": spec.skip})
    if spec.family == "ign":
        nets = {"f": build("autoencoder", ae, spec.seed).to(device)}
        params = list(nets["f"].parameters())
    else:
        nets = {"G": build("decoder", ae, spec.seed).to(device), "D": build("critic", ae, spec.seed + 10_000).to(device)}
        params = list(nets["G"].parameters()) + list(nets["D"].parameters())
    opt = torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    step = (_ign_step(nets["f"], opt, X, spec, cfg, device, bf16) if spec.family == "ign"
            else _gan_step(nets["G"], nets["D"], opt, X, spec, cfg, device, bf16))
    loop = TrainLoop(state={**nets, "opt": opt}, step_fn=step, total_steps=cfg.steps, run_dir=run_dir,
                     fingerprint=fingerprint, ckpt_every=cfg.ckpt_every, desc=f"9969 {spec.name}")
    t0 = time.perf_counter()
    diverged, message = False, ""
    try:
        stats = loop.run()
    except NonFiniteError as e:      # the card counts divergences; keep the steps that were finite
        from kexue.io import read_jsonl
        diverged, message, stats = True, str(e)[:300], read_jsonl(loop.stats)
    loss = np.array([r["loss"] for r in stats]) if stats else np.array([np.nan])
    first = abs(loss[0]) if len(loss) else np.nan
    exploded = bool(len(loss) and np.nanmax(np.abs(loss)) > 1e3 * max(first, 1e-12))
    return {"state": {k: {n: v.detach().cpu() for n, v in m.state_dict().items()} for k, m in nets.items()},
            "stats": stats, "diverged": diverged, "diverged_message": message, "exploded": exploded,
            "n_params": sum(n_params(m) for m in nets.values()), "wall_s": time.perf_counter() - t0,
            "config": {**ae.__dict__, "widths": list(ae.widths)}, "spec": spec.__dict__}


def load_net(run: dict, which: str, device: str = "cpu") -> torch.nn.Module:
    cfg = dict(run["config"])
    cfg["widths"] = tuple(cfg["widths"])
    kind = {"f": "autoencoder", "G": "decoder", "D": "critic"}[which]
    net = build(kind, AEConfig(**cfg), 0).to(device)
    net.load_state_dict(run["state"][which])
    return net.eval()
