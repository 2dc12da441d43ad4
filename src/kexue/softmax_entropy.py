"""Entropy of a softmax distribution and its bounds (kexue.fm/archives/9593).

Everything is in nats (natural log). Entropies are computed with `scipy.special.xlogy`
(0 log 0 = 0, so a one-hot vector gives exactly 0) or in the logsumexp form
H = logsumexp(x) - sum_i p_i x_i, which never forms log p for an underflowed p.

Bounds for cosine logits x_i in [-1, 1] at temperature tau (a = 1/tau):
- at a vertex with m entries at +1 and n - m at -1 (r = (n - m) e^{-2a}):
      H(m) = log(m + r) + 2 a r / (m + r)               (exact, stable for any a)
  the minimum over the box is attained at a vertex (C6, checked by brute force), so
  H_min(tau, n) = min_{1 <= m <= n} H(m)  (m = n is the uniform vector, H = log n);
- in the large-n limit with a fraction t of the entries at -1:
      log n - H = f(t) = -log((1 - t) + t e^{-2a}) - 2 a t e^{-2a} / ((1 - t) + t e^{-2a}),
  maximised at t* (closed form at tau = 1: t* = (e^4 - 3 e^2) / (1 - 2 e^2 + e^4)).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp, softmax, xlogy

from kexue.errors import KexueError

SUM_TOL = 1e-9  # a probability vector must sum to 1 within this


def _check_tau(tau: float) -> float:
    tau = float(tau)
    if not (math.isfinite(tau) and tau > 0):
        raise KexueError(f"temperature tau = {tau}: must be a finite number > 0 (logits are divided by it)")
    return tau


def entropy(p, axis: int = -1) -> np.ndarray | float:
    """H(p) = -sum p log p in nats; p must be non-negative and sum to 1 along `axis`."""
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0:
        raise KexueError("entropy: p is empty; pass a probability vector with at least one entry")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise KexueError(f"entropy: p has negative or non-finite entries (min {np.nanmin(p):.3g}); "
                         f"pass probabilities, or logits to softmax_entropy")
    s = p.sum(axis=axis)
    if np.any(np.abs(s - 1) > SUM_TOL):
        bad = float(np.max(np.abs(s - 1)))
        raise KexueError(f"entropy: p sums to {float(np.ravel(s)[np.argmax(np.ravel(np.abs(s - 1)))]):.12g} "
                         f"(off by {bad:.2g} > {SUM_TOL:g}); normalise it (p / p.sum()) or pass logits "
                         f"to softmax_entropy")
    h = -xlogy(p, p).sum(axis=axis) + 0.0  # + 0.0 turns -0.0 (one-hot) into 0.0
    return float(h) if np.ndim(h) == 0 else h


def softmax_entropy(logits, tau: float = 1.0, axis: int = -1):
    """Entropy of softmax(logits / tau) in the logsumexp form (exact 0 at a hard one-hot)."""
    tau = _check_tau(tau)
    x = np.asarray(logits, dtype=np.float64) / tau
    if not np.all(np.isfinite(x)):
        raise KexueError("softmax_entropy: logits must be finite")
    lse = logsumexp(x, axis=axis, keepdims=True)
    p = np.exp(x - lse)
    # sum_i p_i (lse - x_i) >= 0 termwise, so rounding cannot make H negative
    h = np.sum(p * (lse - x), axis=axis)
    return float(h) if np.ndim(h) == 0 else h


def softmax_jacobian_fro(logits, axis: int = -1):
    """Frobenius norm of the softmax Jacobian diag(p) - p p^T, without forming the matrix:
    ||J||_F^2 = sum p^2 - 2 sum p^3 + (sum p^2)^2."""
    p = softmax(np.asarray(logits, dtype=np.float64), axis=axis)
    s2, s3 = (p ** 2).sum(axis=axis), (p ** 3).sum(axis=axis)
    return np.sqrt(np.maximum(s2 - 2 * s3 + s2 ** 2, 0.0))


# ------------------------------------------------------------------ cosine logits in [-1, 1]

def vertex_entropy(n: int, m, tau: float = 1.0):
    """H of softmax(x / tau) with m entries x_i = +1 and n - m entries -1 (m may be an array)."""
    a = 1.0 / _check_tau(tau)
    m = np.asarray(m, dtype=np.float64)
    if n < 1 or np.any(m < 1) or np.any(m > n):
        raise KexueError(f"vertex_entropy: need 1 <= m <= n (at least one +1 entry), got n = {n}, m = {m}")
    r = (n - m) * math.exp(-2 * a)
    h = np.log(m + r) + 2 * a * r / (m + r)
    return float(h) if h.ndim == 0 else h


def vertex_min(n: int, tau: float = 1.0) -> dict:
    """Minimal entropy over all vertices of [-1, 1]^n: {"h", "m" (number of +1), "deficit" = log n - h}."""
    if n < 2:
        raise KexueError(f"vertex_min: n = {n}; need n >= 2 entries")
    m = np.arange(1, n + 1)
    h = vertex_entropy(n, m, tau)
    k = int(np.argmin(h))
    return {"h": float(h[k]), "m": int(m[k]), "deficit": float(math.log(n) - h[k]), "n": n, "tau": float(tau)}


def deficit_fraction(t, tau: float = 1.0):
    """Large-n limit of log n - H with a fraction t of the entries at -1 (the rest at +1)."""
    a = 1.0 / _check_tau(tau)
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < 0) or np.any(t >= 1):
        raise KexueError(f"deficit_fraction: the fraction t at -1 must lie in [0, 1), got {t}")
    q = math.exp(-2 * a)
    z = (1 - t) + t * q
    f = -np.log(z) - 2 * a * t * q / z
    return float(f) if f.ndim == 0 else f


def large_n_optimum(tau: float = 1.0) -> dict:
    """argmax_t f(t) by scipy's bounded scalar minimiser: {"t", "deficit"}."""
    _check_tau(tau)
    r = minimize_scalar(lambda t: -deficit_fraction(t, tau), bounds=(0.0, 1.0 - 1e-15), method="bounded",
                        options={"xatol": 1e-13})
    return {"t": float(r.x), "deficit": float(-r.fun)}


def t_star_closed_form() -> float:
    """The article's closed form of the optimal fraction at -1 for tau = 1."""
    e2, e4 = math.exp(2), math.exp(4)
    return (e4 - 3 * e2) / (1 - 2 * e2 + e4)


def _h_and_grad(x, a):
    """H of softmax(a x) and its gradient dH/dx_i = -a p_i (log p_i + H)."""
    z = a * x
    lse = logsumexp(z)
    logp = z - lse
    p = np.exp(logp)
    h = float(-np.sum(p * logp))
    return h, -a * p * (logp + h)


def box_min_search(n: int, tau: float, starts: int, rng: np.random.Generator) -> dict:
    """Continuous minimisation of H over the box [-1, 1]^n by L-BFGS-B from random starts
    (uniform in the box). Returns the best value, how many runs ended at a vertex
    (every |x_i| > 1 - 1e-6) and the exhaustive vertex minimum for comparison."""
    if n < 2 or starts < 1:
        raise KexueError(f"box_min_search: need n >= 2 and starts >= 1, got n = {n}, starts = {starts}")
    a = 1.0 / _check_tau(tau)
    best, at_vertex, vals = math.inf, 0, []
    for _ in range(starts):
        x0 = rng.uniform(-1, 1, n)
        r = minimize(_h_and_grad, x0, args=(a,), jac=True, method="L-BFGS-B", bounds=[(-1, 1)] * n,
                     options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000})
        h = float(_h_and_grad(np.clip(r.x, -1, 1), a)[0])
        vals.append(h)
        best = min(best, h)
        at_vertex += bool(np.all(np.abs(r.x) > 1 - 1e-6))
    return {"n": n, "tau": tau, "starts": starts, "best": best, "vertex_min": vertex_min(n, tau)["h"],
            "exhaustive_vertex_min": exhaustive_vertex_min(n, tau) if n <= 16 else None,
            "runs_at_vertex": at_vertex, "values": vals}


def exhaustive_vertex_min(n: int, tau: float) -> float:
    """min of H over all 2^n sign vectors (checks that only the count of +1 entries matters)."""
    if n > 16:
        raise KexueError(f"exhaustive_vertex_min: 2^{n} vertices is too many; use n <= 16")
    signs = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0
    return float(np.min(softmax_entropy(signs, tau, axis=1)))


# ------------------------------------------------------------------ contrastive reading (C8)

def infonce_floor(n: int, tau: float):
    """Lowest InfoNCE loss with one positive and n - 1 negatives, cosines in [-1, 1]:
    positive at +1, negatives at -1 -> log(1 + (n - 1) e^{-2 / tau})."""
    tau = _check_tau(tau)
    if n < 2:
        raise KexueError(f"infonce_floor: n = {n}; need one positive and at least one negative")
    return math.log1p((n - 1) * math.exp(-2.0 / tau))


def infonce_loss(cos_pos, cos_neg, tau: float):
    """-log softmax of the positive among [positive, negatives] (logits cos / tau), direct form."""
    tau = _check_tau(tau)
    z = np.concatenate([np.atleast_1d(cos_pos), np.asarray(cos_neg, dtype=np.float64)]) / tau
    return float(logsumexp(z) - z[0])


# ------------------------------------------------------------------ logit scale (C4)

def scale_sweep(n: int, scales, draws: int, rng: np.random.Generator) -> dict:
    """H and ||diag(p) - p p^T||_F of p = softmax(c z), z ~ N(0, I_n), for every c in `scales`.
    The same z are used for every c (common random numbers): for each fixed z, H is strictly
    decreasing in c (dH/dc = -c Var_p(z) < 0), so the curve is not a Monte Carlo artefact."""
    scales = np.asarray(scales, dtype=np.float64)
    if n < 2 or draws < 2 or np.any(scales <= 0):
        raise KexueError(f"scale_sweep: need n >= 2, draws >= 2 and scales > 0; got n = {n}, draws = {draws}, "
                         f"min scale {scales.min() if scales.size else None}")
    z = rng.standard_normal((draws, n))
    s = scales[None, :, None] * z[:, None, :]  # [draw, c, i]
    return {"H": softmax_entropy(s, 1.0, axis=-1), "J": softmax_jacobian_fro(s, axis=-1), "scales": scales}
