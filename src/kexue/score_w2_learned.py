"""Article 9467, Case B: the W2 bound for a LEARNED score on a 2-D mixture, checkpoint by checkpoint.

Data: 4 Gaussians at (+-1, +-1), std 0.5 (overlapping on purpose: separated sharp modes make the one-sided
Lipschitz constant L_t, hence I_t and the bound, explode). The exact mixture score (kexue.diffusion.exact)
is the reference, so the score error e_t = (E_{p_t} ||grad log p_t - s_theta||^2)^1/2 is a plain Monte Carlo
mean at each of a few t, carried with its interval.

L_t is a supremum over all x; here it is the max of lambda_max(sym(1/2 beta I + 1/2 beta grad s_theta)) over a
grid box holding >= 99.9% of p_t (autograd Jacobians), i.e. a LOWER estimate of the true constant: the learned
bound is heuristic (the card's pitfall). W2[p_T, q_T] is bounded by the coupling y_T = eps of
x_T = abar_T x_0 + bbar_T eps: (abar_T^2 E||x_0||^2 + (1 - bbar_T)^2 d)^1/2. Samplers stop at t_min of the VPSDE, so
every distance and integral here is between t_min and T and the data side is p_{t_min} (exact samples).

Score and eps: s_theta(x, t) = -eps_theta(x, t) / bbar_t. DSM and SM losses are in eps units
(E||eps_theta - eps||^2 and E||eps_theta - eps*||^2, eps* = -bbar grad log p_t), the usual training loss; their gap
E||eps - eps*||^2 does not involve the model, and with common (x_0, eps, t) draws the per-sample gap difference
between two models is -2 (eps_1 - eps_2).(eps - eps*), of mean exactly zero.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from kexue.diffusion.exact import GaussianMixture
from kexue.diffusion.losses import sample_t
from kexue.errors import KexueError
from kexue.montecarlo import mean_ci

BOX_SIGMAS = 3.5  # per-axis two-sided mass 0.99953 -> >= 99.9% of every component in 2-D


def four_gaussians(schedule, spread: float = 1.0, std: float = 0.5) -> GaussianMixture:
    if not (spread > 0 and std > 0):
        raise KexueError(f"four_gaussians spread = {spread}, std = {std}: both must be > 0")
    means = [[s1 * spread, s2 * spread] for s1 in (-1, 1) for s2 in (-1, 1)]
    return GaussianMixture([0.25] * 4, means, std * std, schedule)


def _f(x) -> float:
    return float(x)


def model_score(model, x: torch.Tensor, t: float, schedule) -> torch.Tensor:
    """s_theta = -eps_theta / bbar_t in float64 (the model runs in float32)."""
    tt = torch.full((x.shape[0],), float(t), dtype=torch.float32)
    return -model(x.to(torch.float32), tt).to(torch.float64) / _f(schedule.bbar(t))


@torch.no_grad()
def score_error_curve(model, mix: GaussianMixture, ts, n: int, seed: int) -> dict:
    """e_t^2 = E_{p_t} ||grad log p_t - s_theta||^2 at each t (n exact draws of x_t per t; the same seed for every
    checkpoint = common random numbers). Returns mean / lo / hi of e_t^2 per t."""
    g = torch.Generator().manual_seed(int(seed))
    mean, lo, hi = [], [], []
    for t in ts:
        x = mix.sample(n, float(t), generator=g)
        err = (mix.score(x, float(t)) - model_score(model, x, t, mix.schedule)).pow(2).sum(1).numpy()
        ci = mean_ci(err)
        mean.append(ci["mean"])
        lo.append(max(ci["lo"], 0.0))
        hi.append(ci["hi"])
    return {"e2": np.array(mean), "e2_lo": np.array(lo), "e2_hi": np.array(hi), "n": int(n)}


def grid_box(mix: GaussianMixture, t: float, sigmas: float = BOX_SIGMAS) -> tuple[float, float]:
    """Half-widths (per axis, symmetric about 0 for the symmetric mixture) of a box holding >= 99.9% of p_t."""
    a, b = _f(mix.schedule.abar(t)), _f(mix.schedule.bbar(t))
    sd = math.sqrt(a * a * float(mix.lam.max()) + b * b)
    half = float((a * mix.mu).abs().max()) + sigmas * sd
    return -half, half


def lipschitz_curve(model, mix: GaussianMixture, ts, grid: int = 100) -> np.ndarray:
    """L_t = max over a grid x grid box of lambda_max(sym(1/2 beta (I + grad s_theta))) (2-D: closed-form
    eigenvalue of a symmetric 2x2), grad s_theta = -grad eps_theta / bbar by autograd."""
    if mix.d != 2:
        raise KexueError(f"lipschitz_curve is written for 2-D data, got d = {mix.d}")
    sch, out = mix.schedule, []
    for t in ts:
        lo, hi = grid_box(mix, float(t))
        u = torch.linspace(lo, hi, grid, dtype=torch.float32)
        x = torch.cartesian_prod(u, u).requires_grad_(True)
        e = model(x, torch.full((x.shape[0],), float(t), dtype=torch.float32))
        (g0,) = torch.autograd.grad(e[:, 0].sum(), x, retain_graph=True)
        (g1,) = torch.autograd.grad(e[:, 1].sum(), x)
        c = -1.0 / _f(sch.bbar(t))  # grad s = c * grad eps; rows of the Jacobian of eps are g0, g1
        a11, a22 = c * g0[:, 0].double(), c * g1[:, 1].double()
        a12 = 0.5 * c * (g0[:, 1].double() + g1[:, 0].double())
        lam = 0.5 * (a11 + a22) + torch.sqrt(0.25 * (a11 - a22) ** 2 + a12 ** 2)
        out.append(0.5 * _f(sch.beta(t)) * (1.0 + float(lam.max())))
    return np.array(out)


def w2_T_bound(mix: GaussianMixture) -> float:
    """W2[p_T, N(0, I)] <= (abar_T^2 E||x_0||^2 + (1 - bbar_T)^2 d)^1/2 (coupling y_T = eps)."""
    sch = mix.schedule
    a, b = _f(sch.abar(sch.t_max)), _f(sch.bbar(sch.t_max))
    ex2 = float((mix.w * ((mix.mu ** 2).sum(1) + mix.lam.sum(1))).sum())
    return math.sqrt(a * a * ex2 + (1 - b) ** 2 * mix.d)


def _cumtrapz(y, x):
    return np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))])


def bound_from_curves(ts, beta, L, e2, w2T: float) -> dict:
    """I_t = exp(int_{t_min}^t L) and J = int 1/2 g^2 I_t e_t dt by the trapezoid rule on the t grid."""
    ts, beta, L, e = (np.asarray(v, np.float64) for v in (ts, beta, L, np.sqrt(np.asarray(e2, np.float64))))
    I = np.exp(_cumtrapz(L, ts))
    integrand = 0.5 * beta * I * e
    J = float(np.trapezoid(integrand, ts))
    return {"I": I, "integrand_half": integrand, "J_half": J, "I_T": float(I[-1]), "w2_T": w2T,
            "bound_half": J + float(I[-1]) * w2T, "bound_g2": 2 * J + float(I[-1]) * w2T}


def dsm_sm_draws(models: dict, mix: GaussianMixture, n: int, seed: int, batch: int = 20000) -> dict:
    """Per-sample DSM = ||eps_theta - eps||^2 and SM = ||eps_theta - eps*||^2 for every model on the SAME
    (x_0, eps, t ~ U[t_min, T]) draws. Returns {name: {"dsm": array, "sm": array}}."""
    sch = mix.schedule
    g = torch.Generator().manual_seed(int(seed))
    x0 = mix.sample(n, 0.0, generator=g)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    t = sample_t(sch, n, generator=g, dtype=torch.float64)
    xt = sch.abar(t)[:, None] * x0 + sch.bbar(t)[:, None] * eps
    estar = torch.cat([mix.eps(xt[i:i + batch], t[i:i + batch]) for i in range(0, n, batch)])
    out = {}
    with torch.no_grad():
        for name, model in models.items():
            pred = torch.cat([model(xt[i:i + batch].float(), t[i:i + batch].float()).double()
                              for i in range(0, n, batch)])
            out[name] = {"dsm": (pred - eps).pow(2).sum(1).numpy(), "sm": (pred - estar).pow(2).sum(1).numpy()}
    return out


def ode_samples(model, z: torch.Tensor, schedule, rtol: float = 1e-6) -> tuple[np.ndarray, int]:
    """Probability-flow ODE samples (scipy RK45, kexue.diffusion.samplers.pf_ode_adaptive) from z ~ q_T down to
    the schedule's t_min; returns (samples float64 [n, d], number of model evaluations)."""
    from kexue.diffusion.samplers import pf_ode_adaptive

    x, info = pf_ode_adaptive(model, z.to(torch.float32), schedule, rtol=rtol, atol=rtol)
    return x.double().numpy(), int(info["nfe"])
