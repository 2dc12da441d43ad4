"""Diagnostics of generated images beyond FD/precision/recall (kexue.image_metrics): sharpness,
memorisation, the sampling uncertainty of FD, and a smoothed training-loss curve.

    sharpness(X)                        # mean |discrete Laplacian| per image, then averaged
    nn_distances(samples, train)        # Euclidean distance of each sample to its nearest training image
    fd_bootstrap(F_samples, F_real)     # FD with a percentile bootstrap interval over the samples
    smoothed(loss, decay=0.99)          # bias-corrected exponential moving average of a loss curve

Conventions: images flat [n, side*side] (or [n, side, side]) in any range; numpy or torch in,
float64 numpy out. Sharpness is reported as a RATIO to real images of the same set (1 = as sharp
as the data; a blurry generator is < 1, a noisy one > 1), so only |1 - ratio| matters.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError


def _np(X, name: str) -> np.ndarray:
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2 or len(X) < 1:
        raise KexueError(f"{name} has shape {X.shape}; pass [n, side*side] or [n, side, side] images")
    if not np.isfinite(X).all():
        raise KexueError(f"{name} contains NaN/inf values: the generator diverged")
    return X


def _square(X: np.ndarray, name: str) -> np.ndarray:
    if X.ndim == 2:
        side = math.isqrt(X.shape[1])
        if side * side != X.shape[1]:
            raise KexueError(f"{name} has {X.shape[1]} values per row, not a square image")
        return X.reshape(len(X), side, side)
    if X.ndim == 3:
        return X
    if X.ndim == 4 and X.shape[1] == 1:
        return X[:, 0]
    raise KexueError(f"{name} has shape {X.shape}; pass one-channel square images")


def laplacian_energy(X, name: str = "X") -> np.ndarray:
    """Per image: mean over interior pixels of |4 x - (left + right + up + down)| (no padding artefacts)."""
    S = _square(_np(X, name), name)
    if S.shape[1] < 3 or S.shape[2] < 3:
        raise KexueError(f"{name}: images of {S.shape[1]}x{S.shape[2]} have no interior pixel for a Laplacian")
    lap = (4 * S[:, 1:-1, 1:-1] - S[:, :-2, 1:-1] - S[:, 2:, 1:-1] - S[:, 1:-1, :-2] - S[:, 1:-1, 2:])
    return np.abs(lap).mean(axis=(1, 2))


def sharpness(X, name: str = "X") -> float:
    """Mean absolute Laplacian of a set of images (card 9152's sharpness measure)."""
    return float(laplacian_energy(X, name).mean())


def nn_distances(samples, train, chunk: int = 1024) -> np.ndarray:
    """Euclidean distance of each sample to its nearest training image (memorisation check: compare with
    the same distances of held-out real images; a copying generator sits far below them)."""
    A = _np(samples, "samples").reshape(len(samples), -1)
    B = _np(train, "train").reshape(len(train), -1)
    if A.shape[1] != B.shape[1]:
        raise KexueError(f"samples have {A.shape[1]} values per image, train {B.shape[1]}: same resolution needed")
    bb = (B * B).sum(1)
    out = np.empty(len(A))
    for i in range(0, len(A), chunk):
        a = A[i:i + chunk]
        d2 = (a * a).sum(1)[:, None] + bb[None, :] - 2 * a @ B.T
        out[i:i + chunk] = np.sqrt(np.maximum(d2.min(1), 0.0))
    return out


def fd_bootstrap(F_samples, F_real, n_boot: int = 200, level: float = 0.95, seed: int = 0) -> dict:
    """FD of the full sets and a percentile interval from resampling the SAMPLES with replacement (the real
    set is the fixed reference). Resampling duplicates rows, which biases each replicate up a little: read
    the interval as the spread due to the finite number of samples, not as an unbiased CI of the limit."""
    from kexue.image_metrics import frechet_distance, frechet_distance_gaussians, gaussian_stats

    if n_boot < 2 or not 0 < level < 1:
        raise KexueError(f"fd_bootstrap: n_boot = {n_boot} must be >= 2 and level = {level} in (0, 1)")
    Fs, Fr = _np(F_samples, "F_samples"), _np(F_real, "F_real")
    fd = frechet_distance(Fs, Fr)
    mu_r, S_r = gaussian_stats(Fr, "F_real")
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        mu, S = gaussian_stats(Fs[rng.integers(0, len(Fs), len(Fs))], "F_samples")
        reps[b] = frechet_distance_gaussians(mu, S, mu_r, S_r)
    q = (1 - level) / 2
    return {"fd": fd, "lo": float(np.quantile(reps, q)), "hi": float(np.quantile(reps, 1 - q)),
            "n": int(len(Fs)), "n_real": int(len(Fr)), "n_boot": int(n_boot), "level": level}


def smoothed(loss, decay: float = 0.99) -> np.ndarray:
    """Bias-corrected exponential moving average (Adam-style): s_k = EMA_k / (1 - decay^(k+1))."""
    x = np.asarray(loss, dtype=np.float64).ravel()
    if not 0 <= decay < 1:
        raise KexueError(f"smoothing decay = {decay}: must be in [0, 1)")
    out, m = np.empty_like(x), 0.0
    for k, v in enumerate(x):
        m = decay * m + (1 - decay) * v
        out[k] = m / (1 - decay ** (k + 1))
    return out
