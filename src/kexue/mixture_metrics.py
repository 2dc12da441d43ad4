"""Gaussian mixtures in R^d as plain numpy targets, and the sample-quality metrics that need the true density.

Low-dimensional mixtures are the lab's test bed for generators (a one-step student, a self-consuming loop): the
true density is known, so quality can be scored against the truth instead of against another sample. The metrics:

- mean true log-density of samples (precision-like: samples off the modes score low),
- nearest-centre mode assignment, modes covered (a mode counts when it holds >= `frac` of its true share, so
  vanishing small modes show up as a loss of tails), per-mode mass and per-mode std ratio (collapse inside a mode).

kexue.diffusion.exact.GaussianMixture is the same object under a noise schedule (scores at any t); `Mixture.exact`
builds it from this one.
"""
from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from kexue.errors import KexueError


class Mixture:
    """sum_k w_k N(mu_k, Sigma_k) in R^d, with full covariances (K, d, d); float64 throughout."""

    def __init__(self, weights, means, covs):
        w = np.asarray(weights, dtype=np.float64).ravel()
        mu = np.atleast_2d(np.asarray(means, dtype=np.float64))
        K, d = mu.shape
        if w.size != K:
            raise KexueError(f"Mixture: {w.size} weights for {K} means; give one weight per component")
        if np.any(w < 0) or abs(w.sum() - 1) > 1e-9:
            raise KexueError(f"Mixture weights {w.tolist()}: must be non-negative and sum to 1")
        S = np.asarray(covs, dtype=np.float64)
        if S.ndim == 0:
            S = np.broadcast_to(S, (K,))
        if S.ndim == 1:                                    # one isotropic variance per component
            S = S[:, None, None] * np.eye(d)
        elif S.ndim == 2:                                  # diagonals
            S = np.stack([np.diag(s) for s in S])
        if S.shape != (K, d, d):
            raise KexueError(f"Mixture covs of shape {S.shape}: give variances (K,), diagonals (K, d) or matrices (K, d, d)")
        if not np.allclose(S, np.swapaxes(S, 1, 2), atol=1e-12):
            raise KexueError("Mixture covs: covariance matrices must be symmetric")
        lam_min = np.linalg.eigvalsh(S).min(axis=1)
        if np.any(lam_min <= 0):
            bad = int(np.argmin(lam_min))
            raise KexueError(f"Mixture covs: component {bad} has smallest variance {lam_min[bad]:.3g} <= 0;"
                             " every covariance must be positive definite (std > 0)")
        self.w, self.mu, self.cov = w, mu, S
        self.K, self.d = K, d
        self._chol = np.linalg.cholesky(S)
        self._logdet = 2 * np.log(np.diagonal(self._chol, axis1=1, axis2=2)).sum(axis=1)

    def sample(self, n: int, rng: np.random.Generator, return_labels: bool = False):
        """n i.i.d. draws; component counts are multinomial (not rounded shares) so small modes fluctuate as they should."""
        k = rng.choice(self.K, size=n, p=self.w)
        x = self.mu[k] + np.einsum("nij,nj->ni", self._chol[k], rng.standard_normal((n, self.d)))
        return (x, k) if return_labels else x

    def component_log_prob(self, x) -> np.ndarray:
        """(n, K) log w_k + log N(x; mu_k, Sigma_k)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        diff = x[:, None, :] - self.mu[None]                                    # (n, K, d)
        z = np.stack([np.linalg.solve(self._chol[k], diff[:, k].T).T for k in range(self.K)], axis=1)
        return (np.log(np.maximum(self.w, 1e-300)) - 0.5 * (z ** 2).sum(-1)
                - 0.5 * self._logdet - 0.5 * self.d * np.log(2 * np.pi))

    def log_prob(self, x) -> np.ndarray:
        return logsumexp(self.component_log_prob(x), axis=1)

    def exact(self, schedule):
        """The same mixture as a kexue.diffusion.exact.GaussianMixture (exact scores/eps under `schedule`)."""
        from kexue.diffusion.exact import GaussianMixture
        return GaussianMixture(self.w, self.mu, self.cov, schedule)


def ring_mixture(k: int, radius: float, std: float, weights=None, d: int = 2) -> Mixture:
    """k isotropic Gaussians (std `std`) at angles 2 pi j / k on a circle of `radius` in the first two coordinates."""
    if int(k) != k or k < 1:
        raise KexueError(f"ring_mixture: k = {k}; need a positive integer number of modes")
    if not radius > 0 or not std > 0:
        raise KexueError(f"ring_mixture: radius = {radius}, std = {std}; both must be > 0")
    if d < 2:
        raise KexueError(f"ring_mixture: d = {d}; a ring needs d >= 2")
    ang = 2 * np.pi * np.arange(k) / k
    mu = np.zeros((k, d))
    mu[:, 0], mu[:, 1] = radius * np.cos(ang), radius * np.sin(ang)
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
    return Mixture(w, mu, np.full(k, float(std) ** 2))


def _finite(x, name: str) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if not np.all(np.isfinite(x)):
        raise KexueError(f"{name} has {int((~np.isfinite(x)).sum())} non-finite entries; the generator diverged (NaN/inf)")
    return x


def assign_modes(x, mixture: Mixture) -> np.ndarray:
    """Index of the nearest component mean for each sample (Euclidean)."""
    x = _finite(x, "samples")
    return ((x[:, None, :] - mixture.mu[None]) ** 2).sum(-1).argmin(axis=1)


def mode_masses(x, mixture: Mixture) -> np.ndarray:
    return np.bincount(assign_modes(x, mixture), minlength=mixture.K) / len(np.atleast_2d(x))


def modes_covered(x, mixture: Mixture, frac: float = 0.25) -> int:
    """Number of modes holding at least `frac` times their true weight of the samples (nearest-centre assignment)."""
    if not 0 < frac <= 1:
        raise KexueError(f"modes_covered: frac = {frac}; need 0 < frac <= 1")
    return int((mode_masses(x, mixture) >= frac * mixture.w).sum())


def mode_std_ratio(x, mixture: Mixture, min_count: int = 5) -> np.ndarray:
    """Per mode: RMS distance of its assigned samples to the mean over the true RMS (sqrt trace Sigma_k); NaN for
    modes with fewer than `min_count` samples. < 1: the mode collapsed inwards; > 1: spread out."""
    x = _finite(x, "samples")
    lab = assign_modes(x, mixture)
    out = np.full(mixture.K, np.nan)
    for k in range(mixture.K):
        xs = x[lab == k]
        if len(xs) >= min_count:
            out[k] = np.sqrt(((xs - mixture.mu[k]) ** 2).sum(-1).mean() / np.trace(mixture.cov[k]))
    return out


def mean_log_density(x, mixture: Mixture) -> float:
    """Mean true log-density of the samples; compare with the same number for real draws (its expectation is -H(p))."""
    return float(mixture.log_prob(_finite(x, "samples")).mean())
