"""Known 1-D target densities (mixtures of scipy distributions) and fit metrics against them.

Metrics need only log q on fixed grids, so any model (torch, sklearn, KDE) is scored the same way:
- KL(p || q) and W1 by quadrature in a squashed coordinate x in (-1, 1), y = m + s x / (1 - x^2)
  (the algebraic map reaches |y| ~ s G / 2 with G nodes, so heavy tails such as Student-t(3) are covered);
- modes: local maxima with prominence >= a fraction of the peak density on a uniform y grid;
  a true mode is recalled when a fitted mode lies within `tol`; other fitted modes are spurious.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.signal import find_peaks
from scipy.special import logsumexp

from kexue.errors import KexueError


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    weights: tuple[float, ...]
    components: tuple  # frozen scipy.stats distributions

    def logpdf(self, y) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        lp = np.stack([np.log(w) + c.logpdf(y) for w, c in zip(self.weights, self.components)])
        return logsumexp(lp, axis=0)

    def pdf(self, y) -> np.ndarray:
        return np.exp(self.logpdf(y))

    def cdf(self, y) -> np.ndarray:
        return sum(w * c.cdf(np.asarray(y, dtype=np.float64)) for w, c in zip(self.weights, self.components))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if n < 1:
            raise KexueError(f"sample size n = {n}: must be >= 1")
        k = rng.choice(len(self.weights), size=n, p=np.asarray(self.weights) / sum(self.weights))
        out = np.empty(n)
        for j, c in enumerate(self.components):
            idx = np.flatnonzero(k == j)
            out[idx] = c.rvs(size=idx.size, random_state=rng)
        return out

    def quantile(self, q: float, lo: float = -1e4, hi: float = 1e4) -> float:
        for _ in range(200):  # bisection on the mixture CDF
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if self.cdf(mid) < q else (lo, mid)
        return (lo + hi) / 2


def gaussian_mixture(name, label, weights, means, stds) -> Target:
    if any(s <= 0 for s in stds):
        raise KexueError(f"target {name}: mixture stds {list(stds)} must all be > 0")
    if any(w <= 0 for w in weights) or abs(sum(weights) - 1) > 1e-9:
        raise KexueError(f"target {name}: weights {list(weights)} must be positive and sum to 1")
    return Target(name, label, tuple(weights), tuple(stats.norm(m, s) for m, s in zip(means, stds)))


def card_target(name: str) -> Target:
    """The card's T1-T4."""
    if name == "T1":
        return gaussian_mixture("T1", "T1 sharp 5-mode mixture", [0.2] * 5, [-3, -1, 0, 1.5, 3],
                                [0.1, 0.3, 0.05, 0.4, 0.2])
    if name == "T2":
        return Target("T2", "T2 Laplace/Gaussian mix", (0.4, 0.3, 0.3),
                      (stats.laplace(-2, 0.3), stats.laplace(1, 0.1), stats.norm(3, 0.8)))
    if name == "T3":
        return Target("T3", "T3 LogNormal(0, 0.6) - 1", (1.0,), (stats.lognorm(s=0.6, loc=-1.0),))
    if name == "T4":
        return Target("T4", "T4 Student-t(3)", (1.0,), (stats.t(3),))
    raise KexueError(f"unknown target {name!r}: the card's targets are T1, T2, T3, T4 (R1, R2, ... random mixtures)")


def random_mixture(name: str, seed: int, k: int = 4) -> Target:
    """An extra random Gaussian mixture (full profile): means in [-3, 3], stds log-uniform in [0.05, 0.5]."""
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.full(k, 2.0))
    return gaussian_mixture(name, f"{name} random {k}-mixture", list(w / w.sum()), list(np.sort(rng.uniform(-3, 3, k))),
                            list(np.exp(rng.uniform(np.log(0.05), np.log(0.5), k))))


def make_target(name: str, seed: int = 0) -> Target:
    if name.startswith("R") and name[1:].isdigit():
        return random_mixture(name, seed + int(name[1:]))
    return card_target(name)


def centre_scale(t: Target) -> tuple[float, float]:
    q25, q50, q75 = (t.quantile(q) for q in (0.25, 0.5, 0.75))
    return q50, (q75 - q25) / 1.349


def quadrature_grid(t: Target, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes y_j and weights w_j (midpoint rule in x with the Jacobian of y = m + s x / (1 - x^2))."""
    if G < 100:
        raise KexueError(f"quadrature grid G = {G}: use at least 100 nodes")
    m, s = centre_scale(t)
    x = -1 + (np.arange(G) + 0.5) * 2 / G
    y = m + s * x / (1 - x * x)
    w = s * (1 + x * x) / (1 - x * x) ** 2 * (2 / G)
    return y, w


def mode_grid(t: Target, step: float) -> np.ndarray:
    if not step > 0:
        raise KexueError(f"mode grid step = {step}: must be > 0")
    lo, hi = t.quantile(1e-3), t.quantile(1 - 1e-3)
    return np.arange(lo - 0.5, hi + 0.5 + step, step)


def find_modes(y: np.ndarray, dens: np.ndarray, prominence: float) -> np.ndarray:
    """Local maxima of a density on a uniform grid with prominence >= prominence * max(dens)."""
    d = np.nan_to_num(np.asarray(dens, dtype=np.float64), nan=0.0, posinf=0.0)
    pk, _ = find_peaks(np.concatenate([[0.0], d, [0.0]]), prominence=prominence * d.max())
    return y[pk - 1]


def mode_scores(true_modes: np.ndarray, fitted: np.ndarray, tol: float) -> tuple[float, int]:
    """(recall = fraction of true modes with a fitted mode within tol, number of spurious fitted modes)."""
    if len(true_modes) == 0:
        raise KexueError("the target has no modes on the grid: widen the mode grid")
    hit = [np.any(np.abs(fitted - m) <= tol) for m in true_modes]
    spurious = int(sum(not np.any(np.abs(true_modes - f) <= tol) for f in fitted))
    return float(np.mean(hit)), spurious


def kl_w1(logp: np.ndarray, cdf_p: np.ndarray, logq: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """KL(p||q) and W1 for a batch of model log-densities logq [..., G] on the quadrature grid.

    The model CDF is the running quadrature sum of q (midpoint rule), so W1 = sum w |F_p - F_q|.
    """
    p = np.exp(logp)
    lq = np.asarray(logq, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # p = 0 nodes (log p = -inf) contribute 0
        term = np.where(p > 0, p * (logp - lq), 0.0)
    kl = np.sum(term * w, axis=-1)
    qw = np.exp(lq) * w
    Fq = np.cumsum(qw, axis=-1) - qw / 2
    return kl, np.sum(np.abs(cdf_p - Fq) * w, axis=-1)
