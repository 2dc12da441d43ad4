"""2-Wasserstein distances: Gaussian closed forms and exact empirical W2 between two point clouds.

    gaussian_w2(m1, S1, m2, S2)      # W2 of N(m1, S1) and N(m2, S2) (sqrt of the Frechet distance)
    gaussian_ot_map(S1, S2)          # K with x -> m2 + K (x - m1) the optimal map N(m1, S1) -> N(m2, S2)
    empirical_w2(X, Y)               # exact W2 of two equal-size empirical measures (Hungarian assignment)

The Gaussian W2^2 IS the Frechet distance, so gaussian_w2 reuses kexue.image_metrics (one implementation,
symmetric PSD square roots only). The empirical W2 between n samples of p and n samples of q is biased
upward (it is >= 0 even for p = q): compare it with the real-vs-real floor at the same n.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError
from kexue.image_metrics import frechet_distance_gaussians


def gaussian_w2(m1, S1, m2, S2) -> float:
    """W2[N(m1, S1), N(m2, S2)] = (||m1 - m2||^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2))^1/2."""
    m1, m2 = np.atleast_1d(np.asarray(m1, np.float64)), np.atleast_1d(np.asarray(m2, np.float64))
    d = m1.size
    S1 = np.asarray(S1, np.float64).reshape(d, d)
    S2 = np.asarray(S2, np.float64).reshape(d, d)
    return math.sqrt(frechet_distance_gaussians(m1, S1, m2, S2))


def _psd_power(S: np.ndarray, p: float, name: str) -> np.ndarray:
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    if p < 0 and w.min() <= 0:
        raise KexueError(f"{name} has eigenvalue {w.min():.3g} <= 0: the optimal map needs a positive definite "
                         "source covariance (regularise it, e.g. S + 1e-9 I)")
    return (V * np.clip(w, 0.0, None) ** p) @ V.T


def gaussian_ot_map(S1, S2) -> np.ndarray:
    """Symmetric PSD K = S1^-1/2 (S1^1/2 S2 S1^1/2)^1/2 S1^-1/2: the W2-optimal map N(m1, S1) -> N(m2, S2) is
    x -> m2 + K (x - m1) (the gradient of a convex quadratic, hence optimal; K S1 K = S2)."""
    S1, S2 = np.atleast_2d(np.asarray(S1, np.float64)), np.atleast_2d(np.asarray(S2, np.float64))
    if S1.shape != S2.shape or S1.shape[0] != S1.shape[1]:
        raise KexueError(f"gaussian_ot_map: S1 {S1.shape} and S2 {S2.shape} must be square of the same size")
    R, Ri = _psd_power(S1, 0.5, "S1"), _psd_power(S1, -0.5, "S1")
    return Ri @ _psd_power(R @ S2 @ R, 0.5, "S1^1/2 S2 S1^1/2") @ Ri


def empirical_w2(X, Y) -> float:
    """Exact W2 between the uniform empirical measures of X [n, d] and Y [n, d] (equal n): the optimal
    coupling of two equal-size uniform measures is a permutation (Birkhoff), found by
    scipy.optimize.linear_sum_assignment on the squared-distance matrix (O(n^3); ~0.7 s at n = 1500)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape != Y.shape or len(X) < 1:
        raise KexueError(f"empirical_w2: X {X.shape} and Y {Y.shape} must be [n, d] arrays of the same shape "
                         "(equal sizes: draw the same number of samples from both)")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise KexueError("empirical_w2: samples contain NaN/inf (a sampler diverged)")
    C = cdist(X, Y, "sqeuclidean")
    r, c = linear_sum_assignment(C)
    return math.sqrt(float(C[r, c].mean()))
