"""Self-consuming training loops (Alemohammad et al. 2023, "Self-Consuming Generative Models Go MAD"), for any
generator given as two callables.

    hist = run_loop("fresh", generations=20, n=1000, n_real=500, n_syn=500, draw_real=draw, fit=fit,
                    sample=sample, rng=rng, on_generation=lambda g, model: ...)

The three loop families, per generation g = 1..G (generation 0 = real data, so generation 1 is always trained on
real data only, identically distributed in the three loops):
- "synthetic" (fully synthetic): train on n samples of generation g-1;
- "fixed" (synthetic augmentation): the SAME n_real real samples, drawn once at g = 1, + n_syn samples of g-1;
- "fresh": n_real NEW real samples every generation + n_syn samples of g-1.
fixed and fresh differ only in whether the real part is redrawn (n_real, n_syn identical), as the card asks.

Callables:
- draw_real(m, rng) -> m real samples (an array [m, ...]); for a finite pool draw without replacement;
- fit(X, g) -> model, trained FROM SCRATCH on X (the paper's setting: no fine-tuning across generations);
- sample(model, m, rng) -> m samples of the model, with its sampling bias (e.g. covariance scaled by lambda) inside.
Sampling bias applies to every fitted model, both to the data passed on and to the samples that are evaluated.

The PCA + Gaussian-mixture image generator of the digits loop is here too (`PcaGmm`), since any "learned
generator in a loop" study on small images can reuse it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from kexue.errors import KexueError
from kexue.gmm_em import fit_gmm
from kexue.mixture_metrics import Mixture

LOOP_KINDS = ("synthetic", "fixed", "fresh")


def check_loop(kind: str, generations: int, n: int, n_real: int, n_syn: int, lam: float = 1.0) -> None:
    """One clear error before any work for a loop that cannot run."""
    if kind not in LOOP_KINDS:
        raise KexueError(f"loop kind {kind!r}: choose one of {', '.join(LOOP_KINDS)}")
    if int(generations) != generations or generations < 1:
        raise KexueError(f"generations = {generations}: a self-consuming loop needs at least 1 generation")
    if not 0 < lam <= 1:
        raise KexueError(f"lambda = {lam}: the sampling-bias factor must lie in (0, 1] (1 = unbiased sampling)")
    if kind == "synthetic" and (int(n) != n or n < 2):
        raise KexueError(f"n = {n}: the fully synthetic loop needs n >= 2 training samples per generation")
    if kind != "synthetic" and (int(n_real) != n_real or int(n_syn) != n_syn or n_real < 1 or n_syn < 1):
        raise KexueError(f"n_real = {n_real}, n_syn = {n_syn}: the {kind} loop needs both >= 1")


def run_loop(kind: str, *, generations: int, n: int, n_real: int, n_syn: int, draw_real: Callable,
             fit: Callable, sample: Callable, rng: np.random.Generator, lam: float = 1.0,
             on_generation: Callable | None = None) -> list:
    """Run one loop; returns the list of fitted models (generation 1..G). `lam` is only validated here (the
    bias itself lives in `sample`); on_generation(g, model) runs after each fit (evaluation, logging)."""
    check_loop(kind, generations, n, n_real, n_syn, lam)
    models, prev, fixed = [], None, None
    for g in range(1, int(generations) + 1):
        if kind == "synthetic":
            X = draw_real(int(n), rng) if g == 1 else sample(prev, int(n), rng)
        elif g == 1:                      # generation 0 is real: the whole first training set is real
            X = draw_real(int(n_real) + int(n_syn), rng)
            fixed = X[:int(n_real)]
        else:
            real = fixed if kind == "fixed" else draw_real(int(n_real), rng)
            X = np.concatenate([np.asarray(real), np.asarray(sample(prev, int(n_syn), rng))])
        prev = fit(X, g)
        models.append(prev)
        if on_generation is not None:
            on_generation(g, prev)
    return models


def scaled(mix: Mixture, lam: float) -> Mixture:
    """The sampling-bias model: every component covariance times lam, weights and means unchanged."""
    if not 0 < lam <= 1:
        raise KexueError(f"lambda = {lam}: must lie in (0, 1]")
    return mix if lam == 1 else Mixture(mix.w, mix.mu, lam * mix.cov)


class PcaGmm:
    """Image generator: PCA to `dim` components, a K-component full-covariance GMM (EM) on the scores, decoding
    back to pixels, clipped to the data range. Sampling bias lambda scales the GMM covariances in PCA space."""

    def __init__(self, X, dim: int, k: int, rng: np.random.Generator, *, iters: int = 200, restarts: int = 3,
                 value_range=(-1.0, 1.0)):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or not 1 <= dim <= min(X.shape):
            raise KexueError(f"PcaGmm: dim = {dim} for data of shape {X.shape}; need 1 <= dim <= min(n, d)")
        self.mean = X.mean(0)
        _, s, Vt = np.linalg.svd(X - self.mean, full_matrices=False)
        self.V = Vt[:dim]                                   # (dim, d) orthonormal rows
        self.explained = float((s[:dim] ** 2).sum() / (s ** 2).sum())
        self.mix, self.info = fit_gmm((X - self.mean) @ self.V.T, k, rng, iters=iters, restarts=restarts)
        self.range = value_range

    def sample(self, m: int, rng: np.random.Generator, lam: float = 1.0) -> np.ndarray:
        z = scaled(self.mix, lam).sample(int(m), rng)
        return np.clip(self.mean + z @ self.V, *self.range)
