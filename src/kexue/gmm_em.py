"""Maximum-likelihood Gaussian mixtures by EM in plain numpy (full covariances, k-means++ init, restarts).

    mix, info = fit_gmm(X, k=8, rng=rng, iters=200, restarts=3)     # mix: kexue.mixture_metrics.Mixture
    info["log_lik"], info["iters"], info["converged"], info["empty"]  # of the best restart

Why not scikit-learn: importing sklearn costs seconds per process (the smoke budget is ~8 s for a whole article)
and the loops of card 9687 refit hundreds of small mixtures, where a 60-line EM is as fast. The algorithm is the
textbook one (Bishop 2006, 9.2): E-step responsibilities by log-sum-exp, M-step weighted means/covariances with
`reg` added to every diagonal (sklearn's reg_covar, keeps a collapsing component positive definite).
Stops when the mean log-likelihood per sample changes by < tol (1e-3, sklearn's default). Restarts use different k-means++ seeds; the restart with the largest final log-likelihood wins.
A component whose total responsibility drops below one sample is "empty": it is re-seeded at the worst-explained
point (so K stays the same every generation, as the card asks) and counted in info["empty"].
"""
from __future__ import annotations

import numpy as np
from kexue.errors import KexueError
from kexue.mixture_metrics import Mixture


def kmeans_pp(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each new centre drawn with probability ~ D(x)^2."""
    n = len(X)
    c = [X[rng.integers(n)]]
    d2 = ((X - c[0]) ** 2).sum(1)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(n, 1.0 / n)
        c.append(X[rng.choice(n, p=p)])
        d2 = np.minimum(d2, ((X - c[-1]) ** 2).sum(1))
    return np.array(c)


def _log_gauss(X, mu, cov):
    """(n, K) log N(x; mu_k, cov_k), batched over components through inverse Cholesky factors."""
    n, d = X.shape
    L = np.linalg.cholesky(cov)                                          # (K, d, d)
    Linv = np.linalg.inv(L)
    z = (X[None] - mu[:, None, :]) @ np.swapaxes(Linv, 1, 2)            # (K, n, d), batched BLAS
    half_logdet = np.log(np.diagonal(L, axis1=1, axis2=2)).sum(1)
    return (-0.5 * (z ** 2).sum(-1) - half_logdet[:, None]).T - 0.5 * d * np.log(2 * np.pi)


def _em_once(X, k, rng, iters, tol, reg):
    n, d = X.shape
    mu = kmeans_pp(X, k, rng)
    # initial responsibilities: hard assignment to the nearest seed, then one M-step
    lab = ((X[:, None, :] - mu[None]) ** 2).sum(-1).argmin(1)
    resp = np.zeros((n, k))
    resp[np.arange(n), lab] = 1.0
    prev, empty, converged, it, ll = -np.inf, 0, False, 0, -np.inf
    base = np.cov(X, rowvar=False).reshape(d, d) + reg * np.eye(d)
    for it in range(1, iters + 1):
        nk = resp.sum(0)
        for j in np.flatnonzero(nk < 1.0):          # re-seed an empty component at the worst-explained point
            empty += 1
            worst = int(np.argmin(resp.max(1))) if it > 1 else int(rng.integers(n))
            resp[:, j] = 0.0
            resp[worst, j] = 1.0
        nk = resp.sum(0)
        w = nk / n
        mu = (resp.T @ X) / nk[:, None]
        # weighted covariances: sum_n r_nk x x^T / n_k - mu mu^T (X is centred once, so no cancellation issue
        # beyond the data's own scale)
        cov = (np.swapaxes(resp.T[:, :, None] * X[None], 1, 2) @ X) / nk[:, None, None] - mu[:, :, None] * mu[:, None, :]
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2)) + reg * np.eye(d)
        thin = nk < d + 1                           # too few points for a full covariance: blend with the data's
        cov[thin] = 0.5 * (cov[thin] + base)
        lp = _log_gauss(X, mu, cov) + np.log(w)
        m = lp.max(1, keepdims=True)
        norm = (m + np.log(np.exp(lp - m).sum(1, keepdims=True)))[:, 0]
        resp = np.exp(lp - norm[:, None])
        ll = float(norm.mean())
        if abs(ll - prev) < tol:
            converged = True
            break
        prev = ll
    return w, mu, cov, {"log_lik": ll, "iters": it, "converged": converged, "empty": empty}


def fit_gmm(X, k: int, rng: np.random.Generator, *, iters: int = 200, restarts: int = 3, tol: float = 1e-3,
            reg: float = 1e-6) -> tuple[Mixture, dict]:
    """Best of `restarts` EM runs (by mean log-likelihood per sample) of a k-component full-covariance mixture."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise KexueError(f"fit_gmm: X of shape {X.shape} must be a finite [n, d] array")
    if int(k) != k or k < 1 or k > len(X):
        raise KexueError(f"fit_gmm: k = {k} components for {len(X)} points; need 1 <= k <= n")
    if iters < 1 or restarts < 1:
        raise KexueError(f"fit_gmm: iters = {iters}, restarts = {restarts}; both must be >= 1")
    if not reg > 0:
        raise KexueError(f"fit_gmm: reg = {reg}; the diagonal regulariser must be > 0")
    best, centre = None, X.mean(0)
    for _ in range(int(restarts)):
        res = _em_once(X - centre, int(k), rng, int(iters), tol, reg)
        if best is None or res[3]["log_lik"] > best[3]["log_lik"]:
            best = res
    w, mu, cov, info = best
    w, mu = w / w.sum(), mu + centre
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    return Mixture(w, mu, cov), info
