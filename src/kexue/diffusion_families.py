"""Card 9228's family of SDEs that share one marginal path p_t, and the probability-flow ODE run in either direction.

For the linear forward SDE dx = f_t x dt + g_t dw (schedules.py) and any noise ratio lam = sigma_t / g_t >= 0:

    forward family   dx = [f x - (1 - lam^2)/2 g^2 score] dt + lam g dw     (t increasing)
    reverse family   dx = [f x - (1 + lam^2)/2 g^2 score] dt + lam g dw     (t decreasing)

Both solve the same Fokker-Planck equation as the original SDE (lam = 1), so every member has the marginals p_t;
lam = 0 is the probability-flow ODE. kexue.diffusion.samplers has the reverse family (reverse_sde) and the
PF-ODE from noise to data only; this file adds what a "flow model" view needs besides:

* `forward_family`   — Euler-Maruyama forward in time from data, with a score function (score at t = 0 is
                       finite for data with a density, where eps/bbar is not), plus the negative control that
                       drops the score term (plain VP drift with too little noise: wrong marginals).
* `reverse_family`   — the reverse family with SEPARATE drift and noise ratios: drift_lam == noise_lam is
                       samplers.reverse_sde exactly; drift_lam = 0, noise_lam = 1 (ODE drift with SDE noise) is
                       card 9228's negative control, which must fail.
* `pf_ode_solve`     — scipy solve_ivp on the PF-ODE between any two times (encoding data -> noise and decoding).
* `pf_ode_steps`     — fixed-step Euler / Heun on any monotone grid (either direction).

All arithmetic follows x's dtype (use float64 for the checks). Noise comes from `generator` (CPU by default).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from scipy.integrate import solve_ivp

from kexue.diffusion.samplers import pf_velocity
from kexue.diffusion.schedules import Schedule
from kexue.errors import KexueError

ScoreFn = Callable[[torch.Tensor, float], torch.Tensor]


def _monotone(ts, increasing: bool, what: str) -> list[float]:
    ts = [float(t) for t in ts]
    ok = len(ts) >= 2 and all((b > a) if increasing else (b < a) for a, b in zip(ts, ts[1:]))
    if not ok:
        word = "increasing" if increasing else "decreasing"
        raise KexueError(f"{what}: time grid {ts[:4]}... must have >= 2 strictly {word} times")
    return ts


def _coefs(schedule: Schedule, ts: list[float]):
    t = torch.tensor(ts, dtype=torch.float64)
    return schedule.f(t).tolist(), schedule.g2(t).tolist(), schedule.bbar(t).tolist()


def _noise(x: torch.Tensor, generator) -> torch.Tensor:
    dev = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=dev, dtype=x.dtype).to(x.device)


@torch.no_grad()
def forward_family(score_fn: ScoreFn, x0: torch.Tensor, schedule: Schedule, ts, lam: float,
                   correction: bool = True, generator: torch.Generator | None = None, record=()):
    """Euler-Maruyama on dx = [f x - c (1 - lam^2)/2 g^2 score(x, t)] dt + lam g dw along increasing ts,
    c = 1 (the family) or 0 (correction=False: the negative control). The score is not called when its
    coefficient is 0 (lam = 1, or the control). `record`: grid times at which to keep x.
    Returns (x at ts[-1], {t: x_t for t in record}, info with nfe)."""
    if not lam >= 0:
        raise KexueError(f"forward_family lam = {lam}: the noise ratio sigma_t/g_t must be >= 0")
    ts = _monotone(ts, True, "forward_family")
    keep = {}
    for r in record:
        hit = [t for t in ts if abs(t - r) <= 1e-9 * max(1.0, abs(r))]
        if not hit:
            raise KexueError(f"forward_family: record time {r} is not on the grid; choose steps so it is a grid point")
        keep[hit[0]] = float(r)
    Fc, G2, _ = _coefs(schedule, ts)
    c = (1 - lam * lam) / 2 if correction else 0.0
    x, out, nfe = x0, {}, 0
    if ts[0] in keep:
        out[keep[ts[0]]] = x.clone()
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        h = s - t
        drift = Fc[i] * x
        if c != 0.0:
            drift = drift - (c * G2[i]) * score_fn(x, t)
            nfe += 1
        x = x + h * drift
        if lam > 0:
            x = x + lam * math.sqrt(G2[i] * h) * _noise(x, generator)
        if s in keep:
            out[keep[s]] = x.clone()
    return x, out, {"nfe": nfe, "steps": len(ts) - 1}


@torch.no_grad()
def reverse_family(eps_model, x_T: torch.Tensor, schedule: Schedule, ts, drift_lam: float, noise_lam: float,
                   generator: torch.Generator | None = None, callback: Callable | None = None):
    """Euler-Maruyama backward along decreasing ts on dx = [f x - (1 + drift_lam^2)/2 g^2 score] dt + noise_lam g dw,
    score = -eps/bbar. Same step and noise order as samplers.reverse_sde (no noise at the last step), so
    drift_lam == noise_lam reproduces it bit for bit; drift_lam != noise_lam gives wrong marginals (the control)."""
    if not (drift_lam >= 0 and noise_lam >= 0):
        raise KexueError(f"reverse_family drift_lam = {drift_lam}, noise_lam = {noise_lam}: both must be >= 0")
    ts = _monotone(ts, False, "reverse_family")
    Fc, G2, B = _coefs(schedule, ts)
    x = x_T
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        h = s - t
        eps = eps_model(x, torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device))
        x = x + h * (Fc[i] * x + (0.5 * (1 + drift_lam * drift_lam) * G2[i] / B[i]) * eps)
        if noise_lam > 0 and i < len(ts) - 2:
            x = x + noise_lam * math.sqrt(G2[i] * abs(h)) * _noise(x, generator)
        if callback is not None:
            callback(s, x)
    return x, {"nfe": len(ts) - 1, "ts": ts}


@torch.no_grad()
def pf_ode_solve(eps_model, x: torch.Tensor, schedule: Schedule, t_from: float, t_to: float,
                 method: str = "RK45", rtol: float = 1e-7, atol: float = 1e-7):
    """Integrate the PF-ODE dx/dt = f x + g^2/(2 bbar) eps from t_from to t_to (either direction; t_from < t_to
    encodes data into noise). The batch is one flattened float64 system (one shared step size).
    Returns (x at t_to in x's dtype, info with nfe and accepted steps)."""
    if not (rtol > 0 and atol > 0):
        raise KexueError(f"pf_ode_solve rtol = {rtol}, atol = {atol}: both must be > 0")
    lo, hi = min(t_from, t_to), max(t_from, t_to)
    if t_from == t_to or lo < schedule.t_min - 1e-12 or hi > schedule.t_max + 1e-12:
        raise KexueError(f"pf_ode_solve: t_from = {t_from}, t_to = {t_to} must differ and lie in "
                         f"[{schedule.t_min:g}, {schedule.t_max:g}] of {schedule.name} (bbar > 0 there)")
    shape, dtype, dev = x.shape, x.dtype, x.device
    count = [0]

    def fun(t, y):
        count[0] += 1
        xt = torch.from_numpy(y).reshape(shape).to(device=dev, dtype=dtype)
        return pf_velocity(eps_model, schedule, xt, float(t)).detach().to("cpu", torch.float64).numpy().ravel()

    y0 = x.detach().to("cpu", torch.float64).numpy().ravel()
    sol = solve_ivp(fun, (float(t_from), float(t_to)), y0, method=method, rtol=rtol, atol=atol)
    if not sol.success:
        raise KexueError(f"pf_ode_solve ({method}, rtol {rtol}) failed: {sol.message}")
    out = torch.from_numpy(np.ascontiguousarray(sol.y[:, -1])).reshape(shape).to(device=dev, dtype=dtype)
    return out, {"nfe": count[0], "steps": int(sol.t.size - 1)}


@torch.no_grad()
def pf_ode_steps(eps_model, x: torch.Tensor, schedule: Schedule, ts, method: str = "heun"):
    """Fixed-step Euler (order 1) or Heun (order 2) on the PF-ODE along a strictly monotone grid ts in t,
    increasing (encode) or decreasing (decode). Returns (x at ts[-1], info with nfe)."""
    if method not in ("euler", "heun"):
        raise KexueError(f"pf_ode_steps method = {method!r}: choose 'euler' or 'heun'")
    ts = [float(t) for t in ts]
    if len(ts) < 2:
        raise KexueError("pf_ode_steps: the time grid needs >= 2 points")
    ts = _monotone(ts, ts[1] > ts[0], "pf_ode_steps")
    nfe = 0
    for t, s in zip(ts[:-1], ts[1:]):
        h = s - t
        d = pf_velocity(eps_model, schedule, x, t)
        if method == "heun":
            x = x + 0.5 * h * (d + pf_velocity(eps_model, schedule, x + h * d, s))
            nfe += 2
        else:
            x = x + h * d
            nfe += 1
    return x, {"nfe": nfe}
