"""Straight-line, power-law and convergence-order fits with confidence intervals.

One place for every "slope of log error vs log n", "k_min grows like a + b ln n" or
"fitted order of the method" in the lab. Each fit returns a JSON-ready dict:

    fit = linear_fit(np.log(n), k)        # k = a + b ln n
    fit["slope"], fit["slope_ci"], fit["r2"], fit["n"]
    power_law_fit(n, err)                 # err = c * n^p  (a linear fit in log-log)
    fmt_fit(fit)                          # "slope 0.482 [0.47, 0.49], R^2 0.998 (8 points)"
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from kexue.errors import KexueError


def linear_fit(x, y, level: float = 0.95) -> dict:
    """Ordinary least squares y = intercept + slope * x, with a t interval on the slope."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise KexueError(f"linear_fit: x has {x.size} points, y has {y.size}")
    if x.size < 3:
        raise KexueError(f"linear_fit needs at least 3 points for an interval, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise KexueError("linear_fit: non-finite x or y (log of a zero or negative value?)")
    if np.ptp(x) == 0:
        raise KexueError("linear_fit: all x are equal, the slope is undefined")
    r = stats.linregress(x, y)
    h = stats.t.ppf(0.5 + level / 2, x.size - 2) * r.stderr
    return {"slope": float(r.slope), "intercept": float(r.intercept), "r2": float(r.rvalue ** 2),
            "slope_se": float(r.stderr), "slope_ci": [float(r.slope - h), float(r.slope + h)],
            "n": int(x.size), "level": level}


def power_law_fit(x, y, level: float = 0.95) -> dict:
    """y = c * x^p fitted as a line in log-log; adds `exponent` (= slope) and `prefactor` c."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if np.any(x <= 0) or np.any(y <= 0):
        raise KexueError("power_law_fit needs positive x and y (a power law is fitted in log-log)")
    f = linear_fit(np.log(x), np.log(y), level)
    return {**f, "exponent": f["slope"], "prefactor": math.exp(f["intercept"])}


def convergence_order(h, err, level: float = 0.95) -> dict:
    """Order p of a method whose error behaves like C h^p (h: step size, alpha, dx...)."""
    return power_law_fit(h, err, level)


def fmt_fit(fit: dict, digits: int = 3) -> str:
    g = f"{{:.{digits}g}}"
    lo, hi = fit["slope_ci"]
    return (f"slope {g.format(fit['slope'])} [{g.format(lo)}, {g.format(hi)}], "
            f"R² {fit['r2']:.3f} ({fit['n']} points)")
