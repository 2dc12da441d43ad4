"""Article 9969: IGN (Idempotent Generative Network) as a GAN whose critic is the generator's own
reconstruction error. Losses, the exact gradient-equivalence checks (C1, C2) and the training runs.

Sign convention of the article: the critic D scores FAKES high. D minimises D(x) - D(G(z)), G minimises D(G(z)).
One loss with stop-gradient gives both updates at once:
    L = D_th(x) - 2 D_th(sg G_ph(z)) + D_th(G_ph(z))
(d/dth: D(x) - D(G z) -- the critic loss; d/dph: only the last term -- the generator loss).
IGN: f maps x-shaped inputs to x-shaped outputs and D = delta_ph(x) = ||f_ph(x) - x||^2, with th = ph shared:
    L = delta(x) - 2 delta(sg f(z)) + delta(f(z))  ==  L_rec + L_tight + L_idem  (gradients, C2)
    L_rec = delta(x),  L_tight = -||f(sg f z) - sg f z||^2,  L_idem = ||f_ph'(f z) - f z||^2 (frozen outer copy).
The frozen copy ph' is the current parameters detached (torch.func.functional_call), i.e. re-synced every step.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.func import functional_call

from kexue.errors import KexueError
from kexue.nn.mirrored_autoencoder import AEConfig, build


# ------------------------------------------------------------------------------------------ distances
def sq_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-sample squared Euclidean distance (the article's delta)."""
    return (a - b).pow(2).sum(1)


def l1_mean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-sample mean absolute error (the IGN paper's distance)."""
    return (a - b).abs().mean(1)


DISTANCES = {"sq_l2": sq_l2, "l1": l1_mean}


def frozen(model: torch.nn.Module):
    """A call of `model` with its current parameters detached: the frozen copy ph' (no gradient to ph)."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    return lambda x: functional_call(model, params, (x,))


# ------------------------------------------------------------------------------------------ losses
def gan_single_loss(D, G, x, z) -> torch.Tensor:
    """The article's one-loss GAN: D(x) - 2 D(sg G(z)) + D(G(z)), batch mean."""
    gz = G(z)
    return (D(x) - 2 * D(gz.detach()) + D(gz)).mean()


def gan_frozen_copy_loss(D, G, x, z) -> torch.Tensor:
    """D_th(x) - D_th(G_ph'(z)) + D_th'(G_ph(z)) with frozen copies th', ph'."""
    return (D(x) - D(frozen(G)(z)) + frozen(D)(G(z))).mean()


def ign_terms(f, x, z, dist=sq_l2) -> dict:
    """IGN's three terms (batch means) with the paper's gradient routing."""
    fz = f(z)
    fz_sg = fz.detach()
    return {"rec": dist(f(x), x).mean(),
            "tight": -dist(f(fz_sg), fz_sg).mean(),          # sg(f z) as input AND as target: updates the outer f only
            "idem": dist(frozen(f)(fz), fz).mean(),          # frozen outer copy; gradient through both f(z)
            "fz": fz}


def ign_article_loss(f, x, z) -> torch.Tensor:
    """The single-loss GAN with D = delta_ph and G = f_ph (squared L2, unit weights, no clamp)."""
    fz = f(z)
    d = lambda u: sq_l2(f(u), u)  # noqa: E731
    return (d(x) - 2 * d(fz.detach()) + d(fz)).mean()


def ign_paper_loss(t: dict, w_rec: float, w_idem: float, w_tight: float, clamp_a: float | None) -> torch.Tensor:
    """lam_r L_rec + lam_i L_idem + lam_t L_tight; tightness clamped as tanh(L_t / (a L_rec)) a L_rec (paper)."""
    tight = t["tight"]
    if clamp_a is not None:
        scale = clamp_a * t["rec"]
        tight = torch.tanh(tight / scale) * scale
    return w_rec * t["rec"] + w_idem * t["idem"] + w_tight * tight


def gradient_penalty(D, x, fake, gen: torch.Generator) -> torch.Tensor:
    """WGAN-GP: E (||grad D(x_hat)|| - 1)^2 on random interpolates; `fake` is detached (critic-only term)."""
    eps = torch.rand(len(x), 1, generator=gen).to(x)
    xh = (eps * x + (1 - eps) * fake.detach()).requires_grad_(True)
    g, = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)
    return (g.norm(dim=1) - 1).pow(2).mean()


# ------------------------------------------------------------------------------------------ C1 / C2 (float64)
def _grads(loss, params) -> torch.Tensor:
    gs = torch.autograd.grad(loss, params, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(gs, params)])


def _small_cfg(skip: bool = False) -> AEConfig:
    return AEConfig(kind="mlp", dim=6, widths=(5, 4), latent=3, skip=skip)


def gan_gradient_check(trials: int, seed: int, batch: int = 7) -> dict:
    """C1: gradients of the single stop-gradient loss (and of the frozen-copy loss) vs the critic gradient of
    D(x) - D(sg G z) and the generator gradient of D(G z), random float64 MLPs."""
    if trials < 1:
        raise KexueError(f"trials = {trials}: need at least one random network pair")
    err_sg = err_fc = scale = 0.0
    for k in range(trials):
        cfg = _small_cfg()
        G, D = build("decoder", cfg, seed + 2 * k, torch.float64), build("critic", cfg, seed + 2 * k + 1, torch.float64)
        gen = torch.Generator().manual_seed(seed + k)
        x = torch.rand(batch, cfg.dim, generator=gen, dtype=torch.float64) * 2 - 1
        z = torch.randn(batch, cfg.latent, generator=gen, dtype=torch.float64)
        th, ph = list(D.parameters()), list(G.parameters())
        ref = torch.cat([_grads((D(x) - D(G(z).detach())).mean(), th), _grads(D(G(z)).mean(), ph)])
        one = _grads(gan_single_loss(D, G, x, z), th + ph)
        fc = _grads(gan_frozen_copy_loss(D, G, x, z), th + ph)
        err_sg = max(err_sg, float((one - ref).abs().max()))
        err_fc = max(err_fc, float((fc - ref).abs().max()))
        scale = max(scale, float(ref.abs().max()))
    return {"trials": trials, "max_abs_diff_single_sg": err_sg, "max_abs_diff_frozen_copies": err_fc,
            "max_abs_grad": scale}


def ign_gradient_check(trials: int, seed: int, batch: int = 7) -> dict:
    """C2: gradient of the article-form IGN loss vs the sum L_rec + L_tight + L_idem (float64), with and without
    skips; also the two pitfalls (detached L_idem target, un-detached L_tight input), which must differ."""
    if trials < 1:
        raise KexueError(f"trials = {trials}: need at least one random network")
    err = err_fc = scale = 0.0
    pit_idem = pit_tight = math.inf
    for k in range(trials):
        f = build("autoencoder", _small_cfg(skip=bool(k % 2)), seed + k, torch.float64)
        gen = torch.Generator().manual_seed(seed + k)
        x = torch.rand(batch, 6, generator=gen, dtype=torch.float64) * 2 - 1
        z = torch.randn(batch, 6, generator=gen, dtype=torch.float64)
        ps = list(f.parameters())
        t = ign_terms(f, x, z)
        ref = _grads(t["rec"] + t["tight"] + t["idem"], ps)
        one = _grads(ign_article_loss(f, x, z), ps)
        d = lambda u: sq_l2(f(u), u)  # noqa: E731
        fc = _grads((d(x) - sq_l2(f(frozen(f)(z)), frozen(f)(z)) + sq_l2(frozen(f)(f(z)), f(z))).mean(), ps)
        err, err_fc = max(err, float((one - ref).abs().max())), max(err_fc, float((fc - ref).abs().max()))
        scale = max(scale, float(ref.abs().max()))
        t, fz = ign_terms(f, x, z), f(z)      # fresh graphs (the ones above were freed by autograd.grad)
        wrong_idem = t["rec"] + t["tight"] + sq_l2(frozen(f)(fz), fz.detach()).mean()
        t2, fz2 = ign_terms(f, x, z), f(z)
        wrong_tight = t2["rec"] - sq_l2(f(fz2), fz2).mean() + t2["idem"]
        pit_idem = min(pit_idem, float((_grads(wrong_idem, ps) - ref).abs().max()))
        pit_tight = min(pit_tight, float((_grads(wrong_tight, ps) - ref).abs().max()))
    return {"trials": trials, "max_abs_diff": err, "max_abs_diff_frozen_copy_form": err_fc, "max_abs_grad": scale,
            "pitfall_detached_idem_target_min_diff": pit_idem, "pitfall_undetached_tight_min_diff": pit_tight}
