"""Monte Carlo estimates that always carry their sample size and a confidence interval.

Every verdict that rests on a random estimate states `n` and the interval, so the
helpers here return small dicts (JSON-ready) rather than bare floats:

    est = mean_ci(errors)            # {"mean", "lo", "hi", "se", "n", "level"}
    fmt_ci(est)                      # "0.0312 [0.0301, 0.0323] (n = 200, 95%)"
    proportion_ci(k=37, n=200)       # Wilson interval: sane at k = 0 and k = n
    bootstrap_ci(x, np.median)       # percentile bootstrap for any statistic
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy import stats

from kexue.errors import KexueError


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise KexueError(f"confidence level = {level}: must lie strictly between 0 and 1 (e.g. 0.95)")


def mean_ci(x, level: float = 0.95, axis: int | None = None) -> dict:
    """Mean with a Student-t interval (exact for normal data, CLT-correct otherwise).

    With `axis` set, every field is a list (one entry per remaining index): that is how a
    curve of estimates (error vs n, say) is stored for a figure's confidence band.
    """
    _check_level(level)
    a = np.asarray(x, dtype=np.float64)
    if axis is None:
        a = a.ravel()
        axis = 0
    n = a.shape[axis]
    if n < 2:
        raise KexueError(f"mean_ci needs at least 2 samples, got {n}")
    m = a.mean(axis=axis)
    se = a.std(axis=axis, ddof=1) / math.sqrt(n)
    h = stats.t.ppf(0.5 + level / 2, n - 1) * se
    out = {"mean": m, "lo": m - h, "hi": m + h, "se": se}
    out = {k: (v.tolist() if isinstance(v, np.ndarray) else float(v)) for k, v in out.items()}
    return {**out, "n": int(n), "level": level}


def proportion_ci(k: int, n: int, level: float = 0.95) -> dict:
    """Wilson score interval for a success probability k/n (never outside [0, 1])."""
    _check_level(level)
    if n <= 0 or not 0 <= k <= n:
        raise KexueError(f"proportion_ci: need 0 <= k <= n and n > 0, got k = {k}, n = {n}")
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return {"p": float(p), "lo": float(max(0.0, c - h)) if k else 0.0, "hi": float(min(1.0, c + h)) if k < n else 1.0, "k": int(k), "n": int(n), "level": level}


def bootstrap_ci(x, stat: Callable = np.median, n_boot: int = 2000, level: float = 0.95,
                 seed: int = 0) -> dict:
    """Percentile bootstrap interval of `stat` (resampling the first axis of x).

    `stat` must accept an `axis` keyword (numpy reductions do) so the resamples are
    evaluated in one vectorised call.
    """
    _check_level(level)
    a = np.asarray(x, dtype=np.float64)
    n = a.shape[0]
    if n < 2:
        raise KexueError(f"bootstrap_ci needs at least 2 samples, got {n}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    reps = np.asarray(stat(a[idx], axis=1), dtype=np.float64)
    q = (1 - level) / 2
    return {"estimate": float(stat(a, axis=0)), "lo": float(np.quantile(reps, q)),
            "hi": float(np.quantile(reps, 1 - q)), "n": int(n), "n_boot": int(n_boot), "level": level}


def paired_bootstrap_ci(x, y, stat: Callable, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Bootstrap interval of stat(x, y) resampling (x_i, y_i) pairs, e.g. a rank correlation."""
    _check_level(level)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape[0] != y.shape[0] or x.shape[0] < 3:
        raise KexueError(f"paired_bootstrap_ci needs equal-length samples of at least 3, got {x.shape[0]}, {y.shape[0]}")
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        i = rng.integers(0, x.shape[0], x.shape[0])
        reps[b] = stat(x[i], y[i])
    q = (1 - level) / 2
    return {"estimate": float(stat(x, y)), "lo": float(np.quantile(reps, q)),
            "hi": float(np.quantile(reps, 1 - q)), "n": int(x.shape[0]), "n_boot": int(n_boot), "level": level}


def fmt_ci(est: dict, digits: int = 3) -> str:
    """One line for a report: estimate [lo, hi] (n = ..., 95%)."""
    v = est.get("mean", est.get("p", est.get("estimate")))
    if isinstance(v, list):
        raise KexueError("fmt_ci formats one estimate; index the curve first")
    g = f"{{:.{digits}g}}"
    return (f"{g.format(v)} [{g.format(est['lo'])}, {g.format(est['hi'])}] "
            f"(n = {est['n']}, {round(100 * est['level'])}%)")
