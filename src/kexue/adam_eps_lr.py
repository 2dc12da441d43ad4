"""Optimal learning rate η*(B) of SoftSignSGD (Adam with ε, β1 = β2 = 0) on a local quadratic.

With update ũ = softsign(g̃_B, ε) (elementwise, coordinates independent) the expected loss after
one step, L − η E[ũ]ᵀg + ½η² E[ũᵀHũ], is minimised by

    exact:       η* = Σ E[u_i] g_i / (Σ_ij E[u_i] E[u_j] H_ij + Σ_i Var(u_i) H_ii)
                    = E[ũᵀg] / E[ũᵀHũ]                      (the per-coordinate moments by quadrature)
    mean field:  η* = β Σ u_i g_i / (β² X + (1 − β²) T),    u_i = softsign(g_i, ε),
                 β = (1 + πκ²/(2B))^(−1/2), κ² = mean (or median) of σ_i²/(g_i² + ε²),
                 X = Σ u_i u_j H_ij, T = Σ H_ii                (the article's formula)
    SGD limits:  η*/ε → Σg²/(gᵀHg + π σ̄² T/(2B))            (the article's large-ε form)
                 η*/ε → Σg²/(gᵀHg + Σ σ_i² H_ii / B)          (the exact model's large-ε limit)

In β the mean-field η* is β/(T + β²(X − T)) up to a constant: increasing while β² < T/(X − T),
so it peaks inside (0, 1) — a "surge" in B — only if X > 2T (X > T alone is not enough).
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError
from kexue.softsign_moments import softsign, softsign_moments


# ------------------------------------------------------------------ input checks
def check_hessian(H) -> np.ndarray:
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise KexueError(f"H has shape {H.shape}: must be a square matrix (n × n)")
    scale = max(1.0, float(np.abs(H).max()))
    asym = float(np.abs(H - H.T).max())
    if asym > 1e-12 * scale:
        raise KexueError(f"H is not symmetric (max |H − Hᵀ| = {asym:.3g}); pass (H + H.T)/2")
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        lam = float(np.linalg.eigvalsh(H).min())
        raise KexueError(f"H is not positive definite (smallest eigenvalue {lam:.3g}); the second-order "
                         f"optimum η* needs H ≻ 0, e.g. add a multiple of the identity") from None
    return H


def check_batch_grid(B) -> np.ndarray:
    B = np.asarray(B, dtype=np.float64).ravel()
    if B.size < 3:
        raise KexueError(f"batch-size grid has {B.size} points: need at least 3 to tell a peak from a trend")
    if not np.all(np.isfinite(B)) or np.any(B <= 0) or np.any(np.diff(B) <= 0):
        raise KexueError(f"batch-size grid {B.tolist()[:6]}...: must be positive and strictly increasing")
    return B


def check_eps(eps, allow_zero=True) -> float:
    e = float(eps)
    if not math.isfinite(e) or e < 0 or (e == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise KexueError(f"eps = {eps!r}: must be finite and {need}" + ("" if allow_zero else
                         " (the large-ε ratio η*/ε divides by ε)"))
    return e


def _problem(g, sigma, H):
    g = np.asarray(g, dtype=np.float64).ravel()
    sigma = np.asarray(sigma, dtype=np.float64).ravel()
    H = check_hessian(H)
    if not (g.size == sigma.size == H.shape[0]):
        raise KexueError(f"g ({g.size}), sigma ({sigma.size}) and H ({H.shape}) disagree in size")
    if np.any(sigma <= 0) or not np.all(np.isfinite(sigma)):
        raise KexueError("sigma: every per-coordinate noise scale must be finite and > 0")
    return g, sigma, H


# ------------------------------------------------------------------ synthetic problems (card design)
def toy_problem(rng, n=64):
    """The card's calibration toy: g = 0.05|N| + 0.01, σ = 1, H = 0.2 I + 2·11ᵀ/n (sign-coherent)."""
    g = 0.05 * np.abs(rng.standard_normal(n)) + 0.01
    return g, np.ones(n), 0.2 * np.eye(n) + 2.0 * np.ones((n, n)) / n


def random_problem(rng, n=256, rank1=2.0):
    """g ~ 0.02 N, σ ~ U[0.5, 2], H = Q diag(λ) Qᵀ + rank1 · s sᵀ/n, s = sign(g), λ ~ U[0.1, 1].

    The rank-1 term aligned with sign(g) makes X = Σ u_i u_j H_ij large at small ε (a surge)."""
    g = 0.02 * rng.standard_normal(n)
    sigma = rng.uniform(0.5, 2.0, n)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = rng.uniform(0.1, 1.0, n)
    s = np.sign(g)
    H = (Q * lam) @ Q.T + rank1 * np.outer(s, s) / n
    return g, sigma, 0.5 * (H + H.T)


# ------------------------------------------------------------------ η*(B)
def exact_eta(g, sigma, H, B, eps):
    """η*(B) of the exact per-coordinate model (moments by quadrature); also returns E[u], Var(u)."""
    g, sigma, H = _problem(g, sigma, H)
    B = check_batch_grid(B)
    eps = check_eps(eps)
    sq = np.sqrt(B)[:, None]
    m1, m2 = softsign_moments(g[None] * sq / sigma[None], eps * sq / sigma[None])  # (nB, n)
    var = np.maximum(m2 - m1 * m1, 0.0)
    num = m1 @ g
    den = np.einsum("bi,ij,bj->b", m1, H, m1) + var @ np.diag(H)
    return num / den, m1, var


def mean_field(g, sigma, H, B, eps, kappa="mean"):
    """The article's mean-field η*(B) and its ingredients (β, X, T, β*)."""
    g, sigma, H = _problem(g, sigma, H)
    B = check_batch_grid(B)
    eps = check_eps(eps)
    if kappa not in ("mean", "median"):
        raise KexueError(f"kappa = {kappa!r}: use 'mean' or 'median' (the article's 'some average')")
    with np.errstate(divide="ignore"):
        k2 = sigma ** 2 / (g ** 2 + eps ** 2)
    if not np.all(np.isfinite(k2)):
        raise KexueError("κ² is infinite: some g_i = 0 with ε = 0; use ε > 0")
    k2 = float(np.mean(k2) if kappa == "mean" else np.median(k2))
    u = softsign(g, eps)
    X, T = float(u @ H @ u), float(np.trace(H))
    beta = 1.0 / np.sqrt(1.0 + math.pi * k2 / (2.0 * B))
    eta = beta * float(u @ g) / (beta ** 2 * X + (1.0 - beta ** 2) * T)
    beta_star = math.sqrt(T / (X - T)) if X > T else math.inf
    return {"eta": eta, "beta": beta, "kappa2": k2, "X": X, "T": T, "beta_star": beta_star, "u": u}


def sgd_article(g, sigma, H, B):
    """The article's large-ε limit of η*/ε: SGD with gradient covariance (π σ̄²/(2B)) I."""
    g, sigma, H = _problem(g, sigma, H)
    B = check_batch_grid(B)
    return float(g @ g) / (float(g @ H @ g) + math.pi * float(np.mean(sigma ** 2)) * float(np.trace(H)) / (2 * B))


def sgd_exact(g, sigma, H, B):
    """The exact model's large-ε limit of η*/ε: SGD with gradient covariance diag(σ²)/B."""
    g, sigma, H = _problem(g, sigma, H)
    B = check_batch_grid(B)
    return float(g @ g) / (float(g @ H @ g) + float(sigma ** 2 @ np.diag(H)) / B)


def monte_carlo_eta(g, sigma, H, B, eps, n, rng):
    """η* = E[ũᵀg]/E[ũᵀHũ] from n sampled minibatch gradients per B (a ratio of means).

    Interval: delta method — the linearised samples η̂ + (ũᵀg − η̂ ũᵀHũ)/mean(ũᵀHũ) have mean η̂
    and the ratio's standard error, so kexue.montecarlo.mean_ci gives the interval."""
    from kexue.montecarlo import mean_ci

    g, sigma, H = _problem(g, sigma, H)
    B = check_batch_grid(B)
    eps = check_eps(eps)
    out = []
    for b in B:
        gt = g + sigma * rng.standard_normal((n, g.size)) / math.sqrt(b)
        u = softsign(gt, eps)
        num, den = u @ g, np.einsum("ki,ij,kj->k", u, H, u)
        eta = num.mean() / den.mean()
        out.append(mean_ci(eta + (num - eta * den) / den.mean()))
    return out


# ------------------------------------------------------------------ shape of a curve
def is_monotone_increasing(eta, rtol=1e-9) -> bool:
    eta = np.asarray(eta, dtype=np.float64)
    return bool(np.all(np.diff(eta) >= -rtol * np.abs(eta[1:])))


def peak_B(B, eta) -> float | None:
    """B of the maximum when it is strictly inside the grid (a surge), else None."""
    i = int(np.argmax(eta))
    return float(B[i]) if 0 < i < len(B) - 1 else None


def surge_threshold(eps_list, monotone) -> float | None:
    """Smallest tested ε from which every larger tested ε is monotone (None if the last one is not)."""
    order = np.argsort(eps_list)
    thr = None
    for j in order[::-1]:
        if not monotone[j]:
            break
        thr = float(eps_list[j])
    return thr
