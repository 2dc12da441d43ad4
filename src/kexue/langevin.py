"""Particle samplers whose marginals follow a Fokker–Planck equation (Langevin dynamics).

For a target p, the SDE dx = grad log p(x) dt + sqrt(2) dw has marginals q_t solving
d/dt q = -div(q grad log p) + Laplacian q, the Wasserstein gradient flow of KL(q || p).
The deterministic "probability-flow" ODE dx/dt = grad log p(x) - grad log q_t(x) moves the same
marginals (it needs grad log q_t, known in closed form for Gaussians).

* `ou_exact`: the exact transition of the Gaussian-target SDE (an Ornstein–Uhlenbeck process), no bias;
* `ula`: the unadjusted Langevin algorithm (Euler–Maruyama), O(h) bias in the stationary law;
* `gaussian_flow_ode`: RK45 on the probability-flow ODE for p = N(mu, s2), q0 = N(m0, v0).
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np
from scipy.integrate import solve_ivp

from kexue.errors import KexueError


def _times(times: Iterable[float]) -> list[float]:
    ts = [float(t) for t in times]
    if any(t < 0 for t in ts) or ts != sorted(ts):
        raise KexueError(f"times = {ts}: must be non-negative and increasing")
    return ts


def ou_exact(x0, times, mu: float, s2: float, rng) -> dict:
    """Samples of dx = -(x - mu)/s2 dt + sqrt(2) dw at each time, using the exact Gaussian transition
    x_{t+h} = mu + (x_t - mu) e^{-h/s2} + sqrt(s2 (1 - e^{-2h/s2})) xi."""
    if s2 <= 0:
        raise KexueError(f"s2 = {s2}: the target variance must be positive")
    x, t_prev, out = np.array(x0, dtype=np.float64), 0.0, {}
    for t in _times(times):
        h = t - t_prev
        a = math.exp(-h / s2)
        x = mu + (x - mu) * a + math.sqrt(s2 * (1 - a * a)) * rng.standard_normal(x.shape)
        out[t], t_prev = x.copy(), t
    return out


def ula(x0, times, score: Callable, h: float, rng) -> dict:
    """Unadjusted Langevin x <- x + h score(x) + sqrt(2h) xi, snapshots at `times` (multiples of h)."""
    if not (h > 0):
        raise KexueError(f"h = {h}: the ULA step must be positive")
    ts = _times(times)
    steps = {int(round(t / h)): t for t in ts}
    if any(abs(k * h - t) > 1e-9 for k, t in steps.items()):
        raise KexueError(f"times {ts} must be multiples of the ULA step h = {h}")
    x, out, c = np.array(x0, dtype=np.float64), {}, math.sqrt(2 * h)
    if 0 in steps:
        out[steps[0]] = x.copy()
    for k in range(1, max(steps) + 1):
        x = x + h * score(x) + c * rng.standard_normal(x.shape)
        if k in steps:
            out[steps[k]] = x.copy()
    return out


def gaussian_flow_ode(x0, times, mu: float, s2: float, m0: float, v0: float, rtol: float = 1e-9) -> dict:
    """Probability-flow ODE dx/dt = -(x - mu)/s2 + (x - m_t)/v_t with the closed-form q_t = N(m_t, v_t),
    integrated by RK45 for all particles at once (the ODE is decoupled across particles)."""
    ts = _times(times)

    def rhs(t, x):
        e = math.exp(-t / s2)
        m_t, v_t = mu + (m0 - mu) * e, s2 + (v0 - s2) * e * e
        return -(x - mu) / s2 + (x - m_t) / v_t

    sol = solve_ivp(rhs, (0.0, ts[-1]), np.asarray(x0, np.float64), method="RK45", t_eval=ts, rtol=rtol,
                    atol=rtol * 1e-3)
    if not sol.success:
        raise KexueError(f"gaussian_flow_ode: RK45 failed ({sol.message})")
    return {t: sol.y[:, i].copy() for i, t in enumerate(ts)}


def gaussian_mixture_nd(points, weights, means, covs):
    """log density and score (grad log p) of sum_j w_j N(means_j, covs_j) at points of shape (..., d)."""
    z = np.asarray(points, dtype=np.float64)
    w, mu, cov = np.asarray(weights, float), np.asarray(means, float), np.asarray(covs, float)
    if not (w.ndim == 1 and mu.shape == (w.size, z.shape[-1]) and cov.shape == (w.size, z.shape[-1], z.shape[-1])):
        raise KexueError(f"gaussian_mixture_nd: weights {w.shape}, means {mu.shape}, covs {cov.shape} do not match "
                         f"points of dimension {z.shape[-1]}")
    prec = np.linalg.inv(cov)
    const = np.log(w) - 0.5 * np.linalg.slogdet(cov)[1] - 0.5 * mu.shape[1] * math.log(2 * math.pi)
    logc, pds = [], []
    for k in range(w.size):  # a loop over the few components keeps every product a plain matmul (fast at n = 1e6)
        diff = z - mu[k]
        pd = diff @ prec[k]  # prec is symmetric
        pds.append(pd)
        logc.append(const[k] - 0.5 * np.sum(diff * pd, axis=-1))
    logc = np.stack(logc, axis=-1)
    mx = logc.max(axis=-1, keepdims=True)
    r = np.exp(logc - mx)
    s = r.sum(axis=-1, keepdims=True)
    r /= s
    score = -sum(r[..., k:k + 1] * pds[k] for k in range(w.size))
    return (mx + np.log(s))[..., 0], score
