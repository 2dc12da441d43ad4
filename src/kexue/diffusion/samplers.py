"""Samplers driven by a denoiser eps_model(x, t) -> eps (exact models and trained nets alike).

Conventions (schedules.py): x_t = abar_t x_0 + bbar_t eps, abar/bbar STDS; per-step alpha_t, beta_t STDS.
`eps_model` gets x and a (B,) tensor of the schedule's time t (float64 when x is float64, else float32 so that
t up to 1000 survives a bf16/fp16 x; integer-valued for ddpm and uniform discrete grids — a net with an
embedding table casts with t.round().long()). All samplers return (x, info) with info["nfe"] = denoiser calls.

* ddpm         — card 9152 ancestral step x_{t-1} = (x_t - beta_t^2/bbar_t eps)/alpha_t + sigma_t z, all T steps,
                 sigma_t = beta_t ("beta", optimal for N(0, I) data) or bbar_{t-1} beta_t/bbar_t ("posterior",
                 optimal for one point); no noise at the last step.
* ddim         — x_s = abar_s x0_hat + sqrt(bbar_s^2 - sig^2) eps + sig z, sig = eta bbar_s/bbar_t sqrt(1 - abar_t^2/abar_s^2);
                 eta = 1 on all steps is ddpm("posterior"), eta = 0 is deterministic.
* pf_ode       — probability-flow ODE dx/dt = f x - g^2/2 score = f x + g^2/(2 bbar) eps, Euler or Heun on a grid,
                 in variable "t" or "sigma" (y = x/abar against sigma = bbar/abar: dy/dsigma = eps; card 9228, where
                 Euler IS DDIM(eta=0), exactly).
* pf_ode_adaptive — scipy solve_ivp (RK45 by default) on the flattened float64 state, counting evaluations.
* pf_ode_log_likelihood — exact log p via the PF-ODE and the divergence (card 9228 C5; small d).
* reverse_sde  — Euler-Maruyama on the reverse family dx = [f x - (1 + lam^2)/2 g^2 score] dt + lam g dw (card 9228;
                 lam = 1: reverse SDE, lam = 0: PF-ODE Euler).
Noise comes from `generator` (drawn on its device, then moved to x's), so a CPU generator reproduces across devices.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from scipy.integrate import solve_ivp

from kexue.diffusion.schedules import DiscreteSchedule, Schedule, time_grid
from kexue.errors import KexueError

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SAMPLERS = ("ddpm", "ddim", "euler", "heun", "adaptive", "sde")


def _tvec(t: float, x: torch.Tensor) -> torch.Tensor:
    dt = torch.float64 if x.dtype == torch.float64 else torch.float32
    return torch.full((x.shape[0],), float(t), dtype=dt, device=x.device)


def _randn(x: torch.Tensor, generator) -> torch.Tensor:
    dev = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=dev, dtype=x.dtype).to(x.device)


def _f(c) -> float:
    return float(c)


def _on(fn, ts: list[float]) -> list[float]:
    """A schedule coefficient on the whole grid in one vectorised call (per-step scalar calls cost more than the model)."""
    return fn(torch.tensor(ts, dtype=torch.float64)).tolist()


def _grid(schedule: Schedule, steps, ts, kind: str = "uniform") -> list[float]:
    """An explicit decreasing grid `ts` (validated) or time_grid(schedule, steps, kind)."""
    if ts is None:
        if steps is None:
            raise KexueError("give steps (a positive integer) or an explicit decreasing time grid ts")
        return time_grid(schedule, steps, kind)
    ts = [float(t) for t in ts]
    if len(ts) < 2 or any(b >= a for a, b in zip(ts, ts[1:])):
        raise KexueError(f"time grid ts = {ts[:4]}...: needs >= 2 strictly decreasing times (steps >= 1)")
    if ts[0] > schedule.t_max + 1e-9 or ts[-1] < schedule.t_min - 1e-9:
        raise KexueError(f"time grid {ts[0]:g}..{ts[-1]:g} leaves [{schedule.t_min:g}, {schedule.t_max:g}] of {schedule.name}")
    return ts


@torch.no_grad()
def ddpm(eps_model: EpsModel, x_T: torch.Tensor, schedule: DiscreteSchedule, sigma: str = "beta",
         generator: torch.Generator | None = None, callback: Callable | None = None):
    """Ancestral sampling over all T steps (card 9152). callback(t, x) is called with x = x_t after each step."""
    if not isinstance(schedule, DiscreteSchedule):
        raise KexueError(f"ddpm needs a DiscreteSchedule, got {schedule.name}; use ddim(eta=1) or reverse_sde instead")
    if sigma not in ("beta", "posterior"):
        raise KexueError(f"ddpm sigma = {sigma!r}: choose 'beta' (sigma_t = beta_t) or 'posterior' (bbar_(t-1) beta_t / bbar_t)")
    x, steps = x_T, list(range(schedule.T, 0, -1))
    al, be, bb = _on(schedule.alpha_step, steps), _on(schedule.beta_step, steps), _on(schedule.bbar, steps)
    sd = be if sigma == "beta" else _on(schedule.posterior_sigma, steps)
    for i, t in enumerate(steps):
        eps = eps_model(x, _tvec(t, x))
        x = (x - (be[i] ** 2 / bb[i]) * eps) / al[i]
        if t > 1:  # no noise at the last step: the output is the mean
            x = x + sd[i] * _randn(x, generator)
        if callback is not None:
            callback(t - 1, x)
    return x, {"nfe": schedule.T}


@torch.no_grad()
def ddim(eps_model: EpsModel, x_T: torch.Tensor, schedule: Schedule, steps: int | None = None, ts=None,
         eta: float = 0.0, generator: torch.Generator | None = None, callback: Callable | None = None,
         grid: str = "uniform"):
    """DDIM on a decreasing grid (steps -> time_grid(schedule, steps, grid), or explicit ts). No noise at the last step."""
    if not eta >= 0:
        raise KexueError(f"ddim eta = {eta}: must be >= 0 (0 deterministic, 1 = ancestral posterior noise)")
    ts = _grid(schedule, steps, ts, grid)
    x, A, B = x_T, _on(schedule.abar, ts), _on(schedule.bbar, ts)
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        eps = eps_model(x, _tvec(t, x))
        a_t, b_t, a_s, b_s = A[i], B[i], A[i + 1], B[i + 1]
        last = i == len(ts) - 2
        sig = 0.0 if (eta == 0 or last) else eta * b_s / b_t * math.sqrt(max(0.0, 1 - (a_t / a_s) ** 2))
        x0 = (x - b_t * eps) / a_t
        x = a_s * x0 + math.sqrt(max(0.0, b_s * b_s - sig * sig)) * eps
        if sig > 0:
            x = x + sig * _randn(x, generator)
        if callback is not None:
            callback(s, x)
    return x, {"nfe": len(ts) - 1, "ts": ts}


def pf_velocity(eps_model: EpsModel, schedule: Schedule, x: torch.Tensor, t: float) -> torch.Tensor:
    """dx/dt of the probability-flow ODE: f(t) x + g(t)^2 / (2 bbar_t) eps(x, t)  (= f x - g^2/2 score)."""
    return _f(schedule.f(t)) * x + (_f(schedule.g2(t)) / (2 * _f(schedule.bbar(t)))) * eps_model(x, _tvec(t, x))


@torch.no_grad()
def pf_ode(eps_model: EpsModel, x_T: torch.Tensor, schedule: Schedule, steps: int | None = None, ts=None,
           method: str = "heun", variable: str = "t", callback: Callable | None = None, grid: str = "uniform"):
    """Fixed-step Euler (order 1) or Heun (order 2) on the PF-ODE from ts[0] to ts[-1].

    variable "t": integrate dx/dt as written; "sigma": integrate y = x/abar against sigma = bbar/abar on the same
    t grid (Euler there = DDIM eta=0; Heun there = Karras et al.'s sampler). For a discrete schedule prefer
    "sigma": f and g^2 are piecewise constant in t there, which costs "t"-Heun its second order. A Heun step
    that would evaluate the model where bbar = 0 (t = 0 of a discrete schedule) falls back to Euler (Karras et al.).
    """
    if method not in ("euler", "heun"):
        raise KexueError(f"pf_ode method = {method!r}: choose 'euler' or 'heun' (or pf_ode_adaptive)")
    if variable not in ("t", "sigma"):
        raise KexueError(f"pf_ode variable = {variable!r}: choose 't' or 'sigma'")
    ts = _grid(schedule, steps, ts, grid)
    x, nfe = x_T, 0
    A, B, Fc, G2 = (_on(fn, ts) for fn in (schedule.abar, schedule.bbar, schedule.f, schedule.g2))

    def vel(x, i):  # dx/dt at grid point i
        return Fc[i] * x + (G2[i] / (2 * B[i])) * eps_model(x, _tvec(ts[i], x))

    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        heun = method == "heun" and B[i + 1] > 0
        if variable == "t":
            h = s - t
            d = vel(x, i)
            xe = x + h * d
            if heun:
                x = x + 0.5 * h * (d + vel(xe, i + 1))
            else:
                x = xe
        else:
            a_t, a_s = A[i], A[i + 1]
            h = B[i + 1] / A[i + 1] - B[i] / A[i]
            y = x / a_t
            d = eps_model(x, _tvec(t, x))
            ye = y + h * d
            if heun:
                ye = y + 0.5 * h * (d + eps_model(a_s * ye, _tvec(s, x)))
            x = a_s * ye
        nfe += 2 if heun else 1
        if callback is not None:
            callback(s, x)
    return x, {"nfe": nfe, "ts": ts}


@torch.no_grad()
def pf_ode_adaptive(eps_model: EpsModel, x_T: torch.Tensor, schedule: Schedule, t_start: float | None = None,
                    t_end: float | None = None, variable: str = "t", method: str = "RK45",
                    rtol: float = 1e-6, atol: float = 1e-6):
    """scipy.integrate.solve_ivp on the whole batch as one flattened float64 system (one shared step size).

    The model sees x in x_T's dtype and device; info["nfe"] counts its calls (= solve_ivp's nfev), info["t_eval"]
    lists the times visited. variable "sigma" integrates dy/dsigma = eps (needs schedule.t_for_sigma; smoother
    near the data). Raises KexueError if the solver fails.
    """
    if variable not in ("t", "sigma"):
        raise KexueError(f"pf_ode_adaptive variable = {variable!r}: choose 't' or 'sigma'")
    t0 = schedule.t_max if t_start is None else float(t_start)
    t1 = schedule.t_min if t_end is None else float(t_end)
    if not t0 > t1:
        raise KexueError(f"pf_ode_adaptive: t_start = {t0} must exceed t_end = {t1}")
    shape, dtype, dev = x_T.shape, x_T.dtype, x_T.device
    visited: list[float] = []

    def to_x(y):
        return torch.from_numpy(y).reshape(shape).to(device=dev, dtype=dtype)

    def fun(u, y):
        if variable == "t":
            visited.append(u)
            v = pf_velocity(eps_model, schedule, to_x(y), u)
        else:
            t = _f(schedule.t_for_sigma(u))
            visited.append(t)
            v = eps_model(to_x(y * _f(schedule.abar(t))), _tvec(t, x_T))
        return v.detach().to("cpu", torch.float64).numpy().ravel()

    y0 = x_T.detach().to("cpu", torch.float64).numpy().ravel()
    if variable == "t":
        span = (t0, t1)
    else:
        span = (_f(schedule.sigma(t0)), _f(schedule.sigma(t1)))
        y0 = y0 / _f(schedule.abar(t0))
    sol = solve_ivp(fun, span, y0, method=method, rtol=rtol, atol=atol)
    if not sol.success:
        raise KexueError(f"pf_ode_adaptive ({method}, rtol {rtol}, atol {atol}) failed: {sol.message}")
    y = sol.y[:, -1] * (_f(schedule.abar(t1)) if variable == "sigma" else 1.0)
    return to_x(np.ascontiguousarray(y)), {"nfe": int(sol.nfev), "t_eval": visited, "steps": int(sol.t.size - 1)}


def pf_ode_log_likelihood(eps_model: EpsModel, x: torch.Tensor, schedule: Schedule, prior_logp: Callable | None = None,
                          t_start: float | None = None, t_end: float | None = None, method: str = "RK45",
                          rtol: float = 1e-6, atol: float = 1e-6):
    """log p_{t_start}(x) per sample (card 9228 C5): integrate the PF-ODE forward to t_end together with the
    divergence, log p_{t_start}(x) = log p_{t_end}(x_{t_end}) + int div v dt, div v = f d + g^2/(2 bbar) div eps.

    The trace is exact (d autograd backward passes per evaluation: small d only; eps_model must be differentiable
    in x). prior_logp(x_T) -> (B,) defaults to N(0, prior_std^2 I); pass the exact log p_T to remove the prior mismatch.
    Returns (logp (B,) float64, info with nfe and log p at the end point).
    """
    t0 = schedule.t_min if t_start is None else float(t_start)
    t1 = schedule.t_max if t_end is None else float(t_end)
    if not t1 > t0:
        raise KexueError(f"pf_ode_log_likelihood: t_end = {t1} must exceed t_start = {t0}")
    shape, dtype, dev = x.shape, x.dtype, x.device
    n, d = shape[0], int(x[0].numel())
    count = [0]

    def fun(t, y):
        count[0] += 1
        xt = torch.from_numpy(y[: n * d]).reshape(shape).to(device=dev, dtype=dtype)
        with torch.enable_grad():
            xt.requires_grad_(True)
            e = eps_model(xt, _tvec(t, xt)).reshape(n, d)
            tr = torch.zeros(n, dtype=torch.float64, device=dev)
            for i in range(d):
                (gi,) = torch.autograd.grad(e[:, i].sum(), xt, retain_graph=i < d - 1)
                tr = tr + gi.reshape(n, d)[:, i].to(torch.float64)
        f, c = _f(schedule.f(t)), _f(schedule.g2(t)) / (2 * _f(schedule.bbar(t)))
        v = f * xt.detach().reshape(n, d).to(torch.float64) + c * e.detach().to(torch.float64)
        return torch.cat([v.reshape(-1), f * d + c * tr]).cpu().numpy()

    y0 = np.concatenate([x.detach().to("cpu", torch.float64).numpy().ravel(), np.zeros(n)])
    sol = solve_ivp(fun, (t0, t1), y0, method=method, rtol=rtol, atol=atol)
    if not sol.success:
        raise KexueError(f"pf_ode_log_likelihood ({method}, rtol {rtol}) failed: {sol.message}")
    xT = torch.from_numpy(np.ascontiguousarray(sol.y[: n * d, -1])).reshape(shape).to(device=dev, dtype=torch.float64)
    if prior_logp is None:
        sd = schedule.prior_std()
        lp = -0.5 * (xT.reshape(n, d) ** 2).sum(1) / sd ** 2 - d * math.log(sd * math.sqrt(2 * math.pi))
    else:
        lp = torch.as_tensor(prior_logp(xT), dtype=torch.float64, device=dev).reshape(n)
    delta = torch.from_numpy(sol.y[n * d:, -1].copy()).to(dev)
    return lp + delta, {"nfe": count[0], "x_end": xT, "logp_end": lp}


@torch.no_grad()
def reverse_sde(eps_model: EpsModel, x_T: torch.Tensor, schedule: Schedule, steps: int | None = None, ts=None,
                lam: float = 1.0, generator: torch.Generator | None = None, callback: Callable | None = None,
                grid: str = "uniform"):
    """Euler-Maruyama on dx = [f x - (1 + lam^2)/2 g^2 score] dt + lam g dw backward in time (card 9228's family,
    sigma_t = lam g_t; the Wiener increment has variance lam^2 g^2 |dt|). No noise at the last step."""
    if not lam >= 0:
        raise KexueError(f"reverse_sde lam = {lam}: the noise ratio sigma_t/g_t must be >= 0")
    ts = _grid(schedule, steps, ts, grid)
    x, B, Fc, G2 = x_T, _on(schedule.bbar, ts), _on(schedule.f, ts), _on(schedule.g2, ts)
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        h, g2 = s - t, G2[i]
        eps = eps_model(x, _tvec(t, x))
        x = x + h * (Fc[i] * x + (0.5 * (1 + lam * lam) * g2 / B[i]) * eps)
        if lam > 0 and i < len(ts) - 2:
            x = x + lam * math.sqrt(g2 * abs(h)) * _randn(x, generator)
        if callback is not None:
            callback(s, x)
    return x, {"nfe": len(ts) - 1, "ts": ts}


def sample(name: str, eps_model: EpsModel, x_T: torch.Tensor, schedule: Schedule, steps: int | None = None,
           **kw):
    """Dispatch by name: ddpm (steps must be None or T), ddim, euler, heun, adaptive, sde. Checks before any work."""
    if name not in SAMPLERS:
        raise KexueError(f"sampler {name!r}: choose one of {SAMPLERS}")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 1):
        raise KexueError(f"steps = {steps!r}: a sampler needs a positive integer number of steps")
    if name == "ddpm":
        if steps is not None and steps != getattr(schedule, "T", None):
            raise KexueError(f"ddpm runs all T = {getattr(schedule, 'T', '?')} steps, got steps = {steps};"
                             " for fewer steps use ddim with eta = 1")
        return ddpm(eps_model, x_T, schedule, **kw)
    if name == "adaptive":
        if steps is not None:
            raise KexueError(f"the adaptive sampler chooses its own steps (got steps = {steps}); set rtol/atol instead")
        return pf_ode_adaptive(eps_model, x_T, schedule, **kw)
    if steps is None and kw.get("ts") is None:
        raise KexueError(f"sampler {name!r} needs steps (a positive integer) or an explicit time grid ts")
    steps = None if steps is None else int(steps)
    if name == "ddim":
        return ddim(eps_model, x_T, schedule, steps, **kw)
    if name == "sde":
        return reverse_sde(eps_model, x_T, schedule, steps, **kw)
    return pf_ode(eps_model, x_T, schedule, steps, method=name, **kw)
