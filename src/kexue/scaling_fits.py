"""Fits for scaling laws: saturating power laws L = E + A x^(-alpha), Zipf exponents, local log-log slopes.

kexue.fits.power_law_fit is a straight line in log-log (no floor). A loss curve against model size, data or steps
usually flattens towards an irreducible E, and fitting log L ignores it and biases alpha low; here E is a free
parameter (nonlinear least squares in log space, so every decade weighs the same) with t intervals from the
covariance. The Zipf fit is maximum likelihood over ranks (a least-squares line through log frequency vs log rank
overweights the noisy tail).

    fit = saturating_power_law_fit(N, loss)     # {"alpha", "alpha_ci", "E", "A", "rmse_log", "n"}
    z = zipf_fit(token_counts)                   # {"s", "s_ci", "n_types", "n_tokens"}
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from kexue.errors import KexueError


def _positive(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise KexueError(f"{name}: every value must be finite and > 0 (got min {np.nanmin(x) if x.size else 'n/a'})")
    return x


def saturating_power_law_fit(x, y, level: float = 0.95) -> dict:
    """y = E + A x^(-alpha) with E >= 0, A > 0, fitted on log y; alpha's interval from the Jacobian covariance."""
    x, y = _positive(x, "saturating_power_law_fit x"), _positive(y, "saturating_power_law_fit y")
    if x.size != y.size or x.size < 4:
        raise KexueError(f"saturating_power_law_fit needs >= 4 paired points (one more than its 3 parameters), "
                         f"got {x.size} x and {y.size} y")
    lx = np.log(x)

    def resid(theta):
        logE, logA, alpha = theta
        return np.log(np.exp(logE) + np.exp(logA - alpha * lx)) - np.log(y)

    slope = np.polyfit(lx, np.log(y), 1)[0]
    start = (np.log(max(y.min() * 0.5, 1e-12)), np.log(y.max()) + max(-slope, 0.1) * lx.min(), max(-slope, 0.1))
    sol = optimize.least_squares(resid, start, method="lm", max_nfev=20000)
    dof = x.size - 3
    s2 = float(sol.fun @ sol.fun) / max(dof, 1)
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac) * s2
        se = float(np.sqrt(max(cov[2, 2], 0.0)))
    except np.linalg.LinAlgError:
        se = float("inf")
    tq = stats.t.ppf(0.5 + level / 2, max(dof, 1))
    alpha = float(sol.x[2])
    return {"alpha": alpha, "alpha_ci": [alpha - tq * se, alpha + tq * se], "E": float(np.exp(sol.x[0])),
            "A": float(np.exp(sol.x[1])), "rmse_log": float(np.sqrt(np.mean(sol.fun ** 2))), "n": int(x.size),
            "level": level, "converged": bool(sol.success)}


def zipf_fit(counts, level: float = 0.95, s_max: float = 6.0) -> dict:
    """MLE of s in p(rank r) = r^-s / H_{K,s}, r = 1..K, from type counts (any order; zeros ignored).
    The interval comes from the observed Fisher information (n_tokens * Var_s[log r])."""
    c = np.asarray(counts, dtype=np.float64).ravel()
    if np.any(c < 0) or not np.all(np.isfinite(c)):
        raise KexueError("zipf_fit: counts must be finite and >= 0")
    c = np.sort(c[c > 0])[::-1]
    if c.size < 3:
        raise KexueError(f"zipf_fit needs at least 3 types with non-zero counts, got {c.size}")
    n, logr = c.sum(), np.log(np.arange(1, c.size + 1))
    mean_logr = float((c * logr).sum() / n)

    def nll(s):   # per token
        return s * mean_logr + np.log(np.exp(-s * logr).sum())

    s = float(optimize.minimize_scalar(nll, bounds=(0.0, s_max), method="bounded",
                                       options={"xatol": 1e-10}).x)
    w = np.exp(-s * logr)
    w /= w.sum()
    var = float((w * logr ** 2).sum() - (w * logr).sum() ** 2)
    se = 1.0 / np.sqrt(n * var) if var > 0 else float("inf")
    z = stats.norm.ppf(0.5 + level / 2)
    return {"s": s, "s_ci": [s - z * se, s + z * se], "n_types": int(c.size), "n_tokens": int(n), "level": level}


def local_slopes(x, y) -> np.ndarray:
    """d log y / d log x at each point (central differences inside, one-sided at the ends)."""
    x, y = _positive(x, "local_slopes x"), _positive(y, "local_slopes y")
    if x.size != y.size or x.size < 2:
        raise KexueError(f"local_slopes needs >= 2 paired points, got {x.size} and {y.size}")
    return np.gradient(np.log(y), np.log(x))
