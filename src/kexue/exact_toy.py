"""The EXACT paper's motivating toy and the article's objection to it (kexue.fm/archives/9098).

Three points x = (-1/4, 0, 1/4) with labels l = (-1, -1, +1), a model f(x) = k (x - b) and
prediction sign f. Full accuracy needs b in (0, 1/4). Per-point losses of the margin m = l f:

    CE     softplus(-m)          = -log sigmoid(m)
    hinge  max(0, 1 - m)
    EXACT  -Phi(m / sqrt 2)      (binary EXACT: mu_y - mu_other = m, sigma absorbed in k)

At k = 1 the minimisers of CE and hinge fall outside (0, 1/4); with a temperature k they do
not. Everything here is float64 numpy on a dense grid of b, plus two small optimisers:
gradient descent in the convex (w, c) parameterisation f = w x + c (b = -c / w), and the
paper's EXACT toy learning b and log sigma.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import expit, ndtr

from kexue.errors import KexueError

X = np.array([-0.25, 0.0, 0.25])
L = np.array([-1.0, -1.0, 1.0])
CORRECT = (0.0, 0.25)  # open interval of b with 100% accuracy
LOSSES = ("ce", "hinge", "exact")


def point_loss(kind: str, m):
    """Per-point loss of the margin m = l f (numpy, vectorised)."""
    m = np.asarray(m, dtype=np.float64)
    if kind == "ce":
        return np.logaddexp(0.0, -m)
    if kind == "hinge":
        return np.maximum(0.0, 1.0 - m)
    if kind == "exact":
        return -ndtr(m / math.sqrt(2.0))
    raise KexueError(f"loss = {kind!r}: choose one of {LOSSES}")


def total_loss(kind: str, b, k: float = 1.0):
    """Summed loss over the three points for every b (any shape)."""
    b = np.asarray(b, dtype=np.float64)
    m = k * L * (X - b[..., None])
    return point_loss(kind, m).sum(-1)


def accuracy(b, k: float = 1.0):
    """Fraction of points with l f > 0 (a point on the boundary, f = 0, counts as wrong)."""
    b = np.asarray(b, dtype=np.float64)
    return (k * L * (X - b[..., None]) > 0).mean(-1)


def b_grid(lo: float, hi: float, step: float) -> np.ndarray:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        raise KexueError(f"b grid [{lo}, {hi}]: need finite lo < hi")
    if not 0 < step <= (hi - lo) / 2:
        raise KexueError(f"b grid step = {step}: need 0 < step <= (hi - lo)/2 = {(hi - lo) / 2}")
    n = int(round((hi - lo) / step)) + 1
    return np.linspace(lo, hi, n)


def minimiser(kind: str, k: float, grid: np.ndarray, flat_tol: float = 1e-9) -> dict:
    """Grid minimum of one loss at temperature k.

    b_star: the argmin (refined by a bounded 1-D search for the smooth CE);
    set_lo/set_hi: the range of grid points within flat_tol of the minimum (the hinge loss
    is piecewise linear and has a whole interval of minimisers); accuracy over that set.
    """
    from scipy.optimize import minimize_scalar

    v = total_loss(kind, grid, k)
    i = int(np.argmin(v))
    vmin = float(v[i])
    flat = np.flatnonzero(v <= vmin + flat_tol * max(1.0, abs(vmin)))
    b_star = float(grid[i])
    if kind == "ce" and 0 < i < len(grid) - 1:  # smooth and strictly convex in b: refine between neighbours
        r = minimize_scalar(lambda b: float(total_loss(kind, b, k)), bounds=(grid[i - 1], grid[i + 1]),
                            method="bounded", options={"xatol": 1e-12})
        b_star, vmin = float(r.x), float(r.fun)
    acc = accuracy(grid[flat], k)
    return {"k": float(k), "loss": kind, "b_star": b_star, "min_loss": vmin,
            "set_lo": float(grid[flat[0]]), "set_hi": float(grid[flat[-1]]),
            "at_boundary": bool(i in (0, len(grid) - 1)),
            "acc_at_b_star": float(accuracy(b_star, k)), "acc_min_over_set": float(acc.min()),
            "acc_max_over_set": float(acc.max())}


def _grad_wc(kind: str, w: float, c: float):
    """Loss and gradient of the summed loss in f = w x + c (convex for CE and hinge)."""
    m = L * (w * X + c)
    if kind == "ce":
        g_m = -expit(-m)
    elif kind == "hinge":
        g_m = -(m < 1).astype(float)  # a subgradient
    else:
        g_m = -np.exp(-m * m / 4) / (2 * math.sqrt(math.pi))  # d/dm of -Phi(m / sqrt 2)
    loss = float(point_loss(kind, m).sum())
    return loss, float((g_m * L * X).sum()), float((g_m * L).sum())


def gd_wc(kind: str, steps: int, lr: float, w0: float = 1.0, c0: float = 0.0) -> dict:
    """Plain gradient descent on (w, c) from (w0, c0); b = -c / w."""
    if steps < 1 or not lr > 0:
        raise KexueError(f"gd_wc: steps = {steps}, lr = {lr}: need steps >= 1 and lr > 0")
    w, c = float(w0), float(c0)
    for _ in range(steps):
        _, gw, gc = _grad_wc(kind, w, c)
        w, c = w - lr * gw, c - lr * gc
    m = L * (w * X + c)
    return {"loss": kind, "w": w, "c": c, "b": -c / w if w != 0 else float("nan"),
            "final_loss": float(point_loss(kind, m).sum()), "accuracy": float((m > 0).mean())}


def gd_kb(kind: str, steps: int, lr: float, k0: float = 1.0, b0: float = 0.0) -> dict:
    """Plain gradient descent in the (k, b) parameterisation f = k (x - b) (non-convex, slow)."""
    k, b = float(k0), float(b0)
    for _ in range(steps):
        _, gw, gc = _grad_wc(kind, k, -k * b)  # w = k, c = -k b
        gk, gb = gw - b * gc, -k * gc  # chain rule
        k, b = k - lr * gk, b - lr * gb
    return {"loss": kind, "k": k, "b": b, "accuracy": float(accuracy(b, k))}


def exact_learned_sigma(steps: int, lr: float, b0: float = 0.0, log_sigma0: float = 0.0,
                        record_every: int = 10) -> dict:
    """The paper's EXACT toy: gradient descent on b and log sigma of
    -sum Phi(l (x - b) / (sigma sqrt 2)); returns the final values and the trajectory."""
    if steps < 1 or not lr > 0:
        raise KexueError(f"exact_learned_sigma: steps = {steps}, lr = {lr}: need steps >= 1 and lr > 0")
    b, ls = float(b0), float(log_sigma0)
    traj = []
    for t in range(steps):
        s = math.exp(ls)
        u = L * (X - b) / (s * math.sqrt(2.0))
        dens = np.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # phi(u)
        # loss = -sum Phi(u);  du/db = -l / (s sqrt 2);  du/dlog s = -u
        gb = float(-(dens * (-L / (s * math.sqrt(2.0)))).sum())
        gls = float(-(dens * (-u)).sum())
        if t % record_every == 0:
            traj.append((t, b, ls, float(-ndtr(u).sum())))
        b, ls = b - lr * gb, ls - lr * gls
    s = math.exp(ls)
    return {"b": b, "sigma": s, "log_sigma": ls, "accuracy": float(accuracy(b, 1.0)),
            "final_loss": float(-ndtr(L * (X - b) / (s * math.sqrt(2.0))).sum()),
            "trajectory": np.array(traj)}
