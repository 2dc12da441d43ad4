"""The quantization model of neural scaling (Michaud et al. 2023; kexue.fm/archives/9607), computed exactly.

Quanta k = 1, 2, ... are used with probabilities p_k; a model that has learned the set S of quanta
has loss L = a·P(S) + b·(1 − P(S)). With Zipf frequencies p_k = k^(−γ−1)/ζ(γ+1) the unlearned mass
beyond the n most frequent quanta is the Hurwitz zeta ζ(γ+1, n+1)/ζ(γ+1) ~ n^(−γ)/(γ ζ(γ+1)).

The infinite tail is kept exactly: a `Quanta` holds an explicit head p_1..p_K plus the exact mass of
everything beyond K (never a finite truncation, which would bend every log-log curve down and
steepen fitted slopes). The idealised learners:
  - parameters: n = floor(N / C) quanta, L(N) = a + (b − a)·tail(n)              -> slope −γ
  - data: Poisson counts with mean D p_k, quantum learned iff count >= τ          -> slope −γ/(γ+1)
  - steps: the same on cumulative counts along one run with batch B (S·B samples) -> slope −γ/(γ+1)
Counts are Poisson (the Poissonised sample size), independent across quanta.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import zeta

from kexue.errors import KexueError


def _gamma_ok(gamma: float) -> float:
    if not (np.isfinite(gamma) and gamma > 0):
        raise KexueError(f"gamma = {gamma}: the Zipf law p_k ∝ k^(-gamma-1) is normalisable only for gamma > 0")
    return float(gamma)


def zipf_tail(n, gamma: float) -> np.ndarray:
    """sum_{k>n} p_k for Zipf(γ) on all k >= 1: ζ(γ+1, n+1)/ζ(γ+1) (Hurwitz zeta; n may be real)."""
    g = _gamma_ok(gamma)
    return zeta(g + 1, np.asarray(n, dtype=np.float64) + 1) / zeta(g + 1)


def tail_ratio(n, gamma: float) -> np.ndarray:
    """sum_{k>n} k^(−γ−1) / (n^(−γ)/γ) — the article's integral approximation of the tail; → 1."""
    g = _gamma_ok(gamma)
    n = np.asarray(n, dtype=np.float64)
    return zeta(g + 1, n + 1) * g * n ** g


def tail_local_slope(n, gamma: float) -> np.ndarray:
    """d log tail / d log n exactly, from ∂ζ(s, q)/∂q = −s ζ(s+1, q): −(γ+1) n ζ(γ+2, n+1)/ζ(γ+1, n+1)."""
    g = _gamma_ok(gamma)
    n = np.asarray(n, dtype=np.float64)
    return -(g + 1) * n * zeta(g + 2, n + 1) / zeta(g + 1, n + 1)


@dataclass(frozen=True)
class Quanta:
    """Use frequencies of the quanta: explicit head p[0..K-1] (quanta 1..K, decreasing) + exact mass beyond K."""

    name: str
    p: np.ndarray
    tail_mass: float

    def __post_init__(self):
        s = float(self.p.sum()) + self.tail_mass
        if abs(s - 1) > 1e-9 or np.any(self.p < 0) or self.tail_mass < 0:
            raise KexueError(f"Quanta {self.name}: frequencies must be >= 0 and sum to 1 (got {s!r})")

    @property
    def K(self) -> int:
        return int(self.p.size)

    def tail(self, n) -> np.ndarray:
        """Unlearned mass when the n most frequent quanta are learned (0 <= n <= K), exact."""
        n = np.asarray(n)
        if np.any(n < 0) or np.any(n > self.K):
            raise KexueError(f"Quanta {self.name}.tail: n must lie in [0, K = {self.K}]")
        # suffix sums added from the small end: no cancellation, unlike 1 − cumsum
        suffix = np.concatenate([np.cumsum(self.p[::-1])[::-1], [0.0]]) + self.tail_mass
        return suffix[n]


def zipf(gamma: float, K: int) -> Quanta:
    g = _gamma_ok(gamma)
    if K < 1:
        raise KexueError(f"zipf: K = {K} explicit quanta, need >= 1")
    k = np.arange(1, K + 1, dtype=np.float64)
    Z = zeta(g + 1)
    tail = float(zeta(g + 1, K + 1) / Z)
    p = k ** -(g + 1) / Z
    return Quanta(f"zipf(gamma={g:g})", p, tail)


def zipf_finite(gamma: float, Q: int) -> Quanta:
    """Q quanta only, p_k = k^(−γ−1)/H_{Q,γ+1}: nothing beyond Q (the finite-size model of C7)."""
    g = _gamma_ok(gamma)
    if Q < 2:
        raise KexueError(f"zipf_finite: Q = {Q}, need >= 2 quanta")
    w = np.arange(1, Q + 1, dtype=np.float64) ** -(g + 1)
    return Quanta(f"zipf(gamma={g:g}, Q={Q})", w / w.sum(), 0.0)


def exponential(mu: float, K: int) -> Quanta:
    """p_k = (e^μ − 1) e^(−μk), k >= 1 (sums to 1); exact mass beyond K is e^(−μK)."""
    if not mu > 0:
        raise KexueError(f"exponential: mu = {mu}, need > 0")
    k = np.arange(1, K + 1, dtype=np.float64)
    return Quanta(f"exponential(mu={mu:g})", math.expm1(mu) * np.exp(-mu * k), math.exp(-mu * K))


def loss_known(q: Quanta, n, a: float = 0.0, b: float = math.log(2)) -> np.ndarray:
    """L when exactly the n most frequent quanta are known."""
    t = q.tail(n)
    return a * (1 - t) + b * t


def loss_params(gamma: float, N, C: int, a: float = 0.0, b: float = math.log(2)) -> np.ndarray:
    """Parameter law: n = floor(N / C) quanta learned, exact infinite Zipf tail (no K needed)."""
    n = np.floor(np.asarray(N, dtype=np.float64) / C)
    t = zipf_tail(n, gamma)
    return a * (1 - t) + b * t


def _poisson_upper_bound(mu: float, tau: int) -> float:
    """Chernoff bound P(Poisson(mu) >= tau) <= e^(−mu) (e mu / tau)^tau for mu < tau."""
    if mu <= 0:
        return 0.0
    return math.exp(-mu + tau * (1 + math.log(mu / tau)))


def safe_mean_floor(tau: int, n_skipped: int, prob: float = 1e-9) -> float:
    """Largest mean μ such that n_skipped quanta with means <= μ reach τ counts with total probability <= prob
    (union bound): quanta below it are left unsampled and counted as unlearned."""
    lo, hi = 0.0, float(tau)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if n_skipped * _poisson_upper_bound(mid, tau) <= prob:
            lo = mid
        else:
            hi = mid
    return lo


def _head_cut(q: Quanta, total: float, mu_floor: float) -> int:
    """Number of leading quanta whose mean count total·p_k exceeds mu_floor (p is decreasing)."""
    return int(np.searchsorted(-q.p * total, -mu_floor, side="right"))


def learned_by_counts(q: Quanta, totals, tau: int, rng: np.random.Generator, cumulative: bool = False,
                      prob: float = 1e-9) -> dict:
    """For each sample total (D, or S·B), which quanta are learned (count >= τ), sampled.

    cumulative=False: independent Poisson counts for every total (separate data sets, the D-law).
    cumulative=True: one run; the counts at total_j are the counts at total_{j-1} plus Poisson increments
    (the S-law: a quantum, once learned, stays learned). Quanta whose mean count at the largest total is below
    `safe_mean_floor` are not sampled (probability <= prob that any of them would have reached τ; reported).
    The mass beyond the explicit head is counted unlearned; `max_mean_beyond_K` (= totals·p_{K}) tells how safe.
    Returns loss mass unlearned (b = 1), n_learned, and the deterministic version (learned iff total·p_k >= τ)."""
    totals = np.asarray(totals, dtype=np.float64)
    if np.any(np.diff(totals) <= 0) or totals[0] <= 0:
        raise KexueError("learned_by_counts: totals must be positive and strictly increasing")
    if tau < 1:
        raise KexueError(f"learned_by_counts: tau = {tau}, need >= 1")
    floor = safe_mean_floor(tau, q.K, prob)
    unlearned, n_learned, det_unlearned, det_n = [], [], [], []
    counts = None
    prev = 0.0
    head_mass = float(q.p.sum())
    m_all = _head_cut(q, totals[-1], floor)
    for T in totals:
        if cumulative:
            if counts is None:
                counts = np.zeros(m_all, dtype=np.int64)
            counts += rng.poisson((T - prev) * q.p[:m_all])
            prev = T
            c = counts
        else:
            c = rng.poisson(T * q.p[:_head_cut(q, T, floor)])
        ok = c >= tau
        unlearned.append(float(q.tail_mass + head_mass - q.p[:c.size][ok].sum()))
        n_learned.append(int(ok.sum()))
        nd = int(np.searchsorted(-q.p * T, -float(tau), side="right"))
        det_n.append(nd)
        det_unlearned.append(float(q.tail(nd)))
    return {"totals": totals, "unlearned": np.array(unlearned), "n_learned": np.array(n_learned),
            "det_unlearned": np.array(det_unlearned), "det_n_learned": np.array(det_n),
            "mean_floor": floor, "skip_prob_bound": prob, "max_mean_beyond_K": float(totals[-1] * q.p[-1])}


def emergence_curve(p_k: float, totals, tau: int) -> np.ndarray:
    """Expected loss fraction of one quantum vs sample total: P(Poisson(total·p_k) < τ) (exact, no sampling)."""
    from scipy.stats import poisson

    return poisson.cdf(tau - 1, np.asarray(totals, dtype=np.float64) * p_k)


def log_grid(lo: float, hi: float, per_decade: int) -> np.ndarray:
    """Log-spaced grid from lo to hi with per_decade points per decade (both ends included)."""
    if not (0 < lo < hi) or per_decade < 1:
        raise KexueError(f"log_grid: need 0 < lo < hi and per_decade >= 1, got {lo}, {hi}, {per_decade}")
    m = int(round(math.log10(hi / lo) * per_decade)) + 1
    return np.geomspace(lo, hi, m)


def int_log_grid(lo: int, hi: int, n: int) -> np.ndarray:
    """Distinct integers log-spaced in [lo, hi]."""
    return np.unique(np.round(np.geomspace(lo, hi, n)).astype(np.int64))
