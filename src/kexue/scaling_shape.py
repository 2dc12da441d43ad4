"""Is a loss curve a power law, an exponential, or neither? Shape tests with confidence intervals.

A power law y = c x^p is a straight line in log-log; an exponential y = c e^{-mu x} is a straight
line in semi-log (log y vs x) and *curves* in log-log. The curvature test fits
log y = c0 + c1 u + c2 u^2 with u = log x and reports c2 with a t interval: a significant c2
rules out a single power law over the range (a power law has c2 = 0 exactly).

    polynomial_fit(x, y, 2)       # {"coef": [c0, c1, c2], "coef_ci": [[lo, hi], ...], "r2", "n"}
    loglog_curvature(x, y)        # polynomial_fit(log x, log y, 2) + "c2", "c2_ci", "significant"
    semilog_fit(x, y)             # kexue.fits.linear_fit(x, log y): slope = -mu, r2
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from kexue.errors import KexueError
from kexue.fits import linear_fit


def polynomial_fit(x, y, degree: int, level: float = 0.95) -> dict:
    """Least squares y = sum_j coef[j] x^j (j = 0..degree) with t intervals from the OLS covariance."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if degree < 0:
        raise KexueError(f"polynomial_fit: degree = {degree}, need >= 0")
    if x.shape != y.shape or x.size < degree + 2:
        raise KexueError(f"polynomial_fit of degree {degree} needs >= {degree + 2} paired points "
                         f"(one more than its parameters), got {x.size} x and {y.size} y")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise KexueError("polynomial_fit: non-finite x or y (log of a zero or negative value?)")
    X = np.vander(x, degree + 1, increasing=True)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    dof = x.size - (degree + 1)
    s2 = float(resid @ resid) / dof
    cov = np.linalg.pinv(X.T @ X) * s2
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    tq = stats.t.ppf(0.5 + level / 2, dof)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {"coef": coef.tolist(), "coef_se": se.tolist(),
            "coef_ci": [[float(c - tq * s), float(c + tq * s)] for c, s in zip(coef, se)],
            "r2": 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 1.0, "n": int(x.size), "level": level}


def loglog_curvature(x, y, level: float = 0.95) -> dict:
    """Quadratic in log-log; `significant` when c2's interval excludes 0."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if np.any(x <= 0) or np.any(y <= 0):
        raise KexueError("loglog_curvature needs positive x and y")
    f = polynomial_fit(np.log(x), np.log(y), 2, level)
    lo, hi = f["coef_ci"][2]
    # an exact power law fits with zero residual: then c2 is round-off, not curvature
    real = abs(f["coef"][2]) > 1e-10 * max(1.0, abs(f["coef"][1]))
    return {**f, "c2": f["coef"][2], "c2_ci": [lo, hi], "significant": bool((lo > 0 or hi < 0) and real)}


def semilog_fit(x, y, level: float = 0.95) -> dict:
    """log y = intercept + slope x: an exponential law has slope -mu and R^2 = 1."""
    y = np.asarray(y, dtype=np.float64)
    if np.any(y <= 0):
        raise KexueError("semilog_fit needs positive y")
    return linear_fit(x, np.log(y), level)
