"""Penalised least squares min ||A x - b||^2 + lam R(x) for R = L1, L2 and the S*_(1,2) sparsity
measure (kexue.fm/archives/9595, claim C7), and a comparison of the three at matched residual.

- L2: closed form through the SVD of A (residual is monotone in lam, so it can be matched exactly).
- L1: FISTA with soft-thresholding (no sklearn in the lab's environment).
- S*_(1,2) = n^(-1/2) sum sqrt(x^2 + delta) / ||x||_2: Adam on this smoothed version. S* is scale
  invariant and non-convex (its gradient is 0 along x and undefined at 0), so it cannot start from
  x = 0: each solve starts from the previous lam's solution, the first from the L1 solution.
"""
from __future__ import annotations

import numpy as np

from kexue.errors import KexueError
from kexue.sparsity_measures import s_star_1p


def problem(rng, m: int, n: int, s: int, noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ~ N(0, 1/m), x0 with s Gaussian non-zeros, b = A x0 + noise * ||A x0|| / sqrt(m) * N(0, 1)."""
    if not 0 < s <= n or m < 1:
        raise KexueError(f"sparse problem m = {m}, n = {n}, s = {s}: need m >= 1 and 0 < s <= n")
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x0 = np.zeros(n)
    x0[rng.choice(n, s, replace=False)] = rng.standard_normal(s)
    b = A @ x0
    b = b + noise * np.linalg.norm(b) / np.sqrt(m) * rng.standard_normal(m)
    return A, b, x0


def rel_residual(A, b, x) -> float:
    return float(np.linalg.norm(A @ x - b) / np.linalg.norm(b))


class Ridge:
    """L2 penalty via the SVD: x(lam) = V diag(s / (s^2 + lam)) U^T b."""

    def __init__(self, A, b):
        self.U, self.s, self.Vt = np.linalg.svd(A, full_matrices=False)
        self.c = self.U.T @ b
        self.out = max(0.0, float(b @ b - self.c @ self.c))  # part of b outside range(A) (0 up to rounding)
        self.nb = float(np.linalg.norm(b))

    def solve(self, lam: float) -> np.ndarray:
        return self.Vt.T @ (self.s / (self.s ** 2 + lam) * self.c)

    def residual(self, lam: float) -> float:
        r = lam / (self.s ** 2 + lam) * self.c
        return float(np.sqrt(r @ r + self.out) / self.nb)

    def match(self, target: float, tol: float = 1e-3):
        """lam whose relative residual is `target` (bisection in log lam), or None if out of reach."""
        lo, hi = 1e-12, 1e12
        if not self.residual(lo) <= target <= self.residual(hi):
            return None
        for _ in range(200):
            mid = np.sqrt(lo * hi)
            r = self.residual(mid)
            if abs(r / target - 1) < tol:
                return mid
            lo, hi = (mid, hi) if r < target else (lo, mid)
        return np.sqrt(lo * hi)


def fista_l1(A, b, lam: float, x_init=None, iters: int = 2000, tol: float = 1e-10, L=None) -> np.ndarray:
    """min ||A x - b||^2 + lam ||x||_1 by FISTA (step 1/L, L = 2 ||A||_2^2)."""
    L = 2 * np.linalg.norm(A, 2) ** 2 if L is None else L
    x = np.zeros(A.shape[1]) if x_init is None else x_init.copy()
    y, t = x.copy(), 1.0
    for _ in range(iters):
        g = 2 * A.T @ (A @ y - b)
        z = y - g / L
        xn = np.sign(z) * np.maximum(np.abs(z) - lam / L, 0.0)
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        y = xn + (t - 1) / tn * (xn - x)
        done = np.linalg.norm(xn - x) <= tol * max(np.linalg.norm(xn), 1e-300)
        x, t = xn, tn
        if done:
            break
    return x


def l1_match(A, b, target: float, x_init, iters: int, tol: float = 0.01):
    """L1 solution whose relative residual is within `tol` of target (bisection in log lam, warm
    starts); returns (x, lam) or (None, None) when no lam in range reaches it."""
    L = 2 * np.linalg.norm(A, 2) ** 2
    lam_max = 2 * np.max(np.abs(A.T @ b))  # x = 0 for lam >= lam_max
    lo, hi = lam_max * 1e-6, lam_max
    x = x_init
    best = (None, None, np.inf)
    for _ in range(40):
        mid = np.sqrt(lo * hi)
        x = fista_l1(A, b, mid, x, iters, L=L)
        r = rel_residual(A, b, x)
        err = abs(r / target - 1)
        if err < best[2]:
            best = (x, mid, err)
        if err < tol:
            break
        lo, hi = (mid, hi) if r < target else (lo, mid)
    return (best[0], best[1]) if best[2] < 0.05 else (None, None)


def s_star_penalised(A, b, lam: float, x_init, steps: int, lr: float, delta: float) -> np.ndarray:
    """Adam on ||A x - b||^2 + lam n^(-1/2) sum sqrt(x^2 + delta) / ||x||_2, with the learning
    rate decayed geometrically to lr/1000 so the small entries settle instead of jittering at ~lr."""
    n = A.shape[1]
    x = x_init.astype(np.float64).copy()
    if not np.any(x):
        raise KexueError("S* penalty cannot start from x = 0 (S* is scale invariant, 0/0 there): "
                         "start from the L1 or least-norm solution")
    m1, m2 = np.zeros(n), np.zeros(n)
    b1, b2, eps = 0.9, 0.999, 1e-12
    decay = 1e-3 ** (1 / max(steps - 1, 1))
    for k in range(1, steps + 1):
        sq = np.sqrt(x * x + delta)
        u, v = sq.sum(), np.linalg.norm(x)
        g = 2 * A.T @ (A @ x - b) + lam / np.sqrt(n) * (x / sq / v - u * x / v ** 3)
        m1 = b1 * m1 + (1 - b1) * g
        m2 = b2 * m2 + (1 - b2) * g * g
        x = x - lr * decay ** (k - 1) * (m1 / (1 - b1 ** k)) / (np.sqrt(m2 / (1 - b2 ** k)) + eps)
    return x


def compare_one(A, b, lams_rel, steps: int, lr: float, delta: float, fista_iters: int,
                r_range=(0.01, 0.9), tol: float = 0.05) -> dict:
    """S* path over lam = lams_rel * ||b||^2; for every S* solution with relative residual in
    r_range, the L2 and L1 solutions with the same residual (within tol); S*_(1,2) of all three."""
    ridge = Ridge(A, b)
    lam_max = 2 * np.max(np.abs(A.T @ b))
    x_l1_start = fista_l1(A, b, 1e-4 * lam_max, None, fista_iters * 5)
    x = x_l1_start
    nb2 = float(b @ b)
    path, matched = [], []
    x_l1 = x_l1_start
    for lr_ in lams_rel:
        x = s_star_penalised(A, b, lr_ * nb2, x, steps, lr, delta)
        r = rel_residual(A, b, x)
        rec = {"lam_rel": float(lr_), "residual": r, "S_star": float(s_star_1p(x, 2.0))}
        path.append(rec)
        if not r_range[0] <= r <= r_range[1]:
            continue
        lam2 = ridge.match(r)
        xl1, lam1 = l1_match(A, b, r, x_l1, fista_iters)
        if lam2 is None or xl1 is None:
            continue
        x_l1 = xl1
        x2 = ridge.solve(lam2)
        r2, r1 = rel_residual(A, b, x2), rel_residual(A, b, xl1)
        if abs(r2 / r - 1) > tol or abs(r1 / r - 1) > tol:
            continue
        matched.append({"residual": r, "S_star_pen": rec["S_star"], "S_L2": float(s_star_1p(x2, 2.0)),
                        "S_L1": float(s_star_1p(xl1, 2.0)), "res_L2": r2, "res_L1": r1})
    return {"path": path, "matched": matched}


def l1_l2_curves(A, b, n_points: int, fista_iters: int) -> dict:
    """Sparsity S*_(1,2) against relative residual along the L1 and L2 paths (for the figure)."""
    ridge = Ridge(A, b)
    lam_max = 2 * np.max(np.abs(A.T @ b))
    out = {"L1": [], "L2": []}
    x = None
    for lam in lam_max * np.geomspace(1, 1e-4, n_points):
        x = fista_l1(A, b, lam, x, fista_iters)
        if np.any(x):
            out["L1"].append((rel_residual(A, b, x), float(s_star_1p(x, 2.0))))
    for lam in np.geomspace(1e-4, 1e3, n_points):
        x2 = ridge.solve(lam)
        out["L2"].append((rel_residual(A, b, x2), float(s_star_1p(x2, 2.0))))
    return out
