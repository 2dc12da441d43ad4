"""EXACT's class probability (Karpukhin, Dereka & Kolesnikov 2022, arXiv 2205.09615).

With logits mu (C classes), a scale sigma > 0 and eps_i iid N(0, 1),

    p(y) = P(y = argmax_i [mu_i / sigma + eps_i])
         = E_z[ prod_{i != y} Phi(z + (mu_y - mu_i) / sigma) ],   z ~ N(0, 1),

because conditioning on eps_y = z each rival i loses independently with probability
Phi(z + d_i). (The pairwise events "y beats i" are NOT independent without conditioning:
the differences eps_i - eps_y have covariance I + 11^T.) The 1-D integral is computed by
probabilists' Gauss–Hermite quadrature in log space,

    log p(y) = logsumexp_k [ log w_k + sum_{i != y} log Phi(z_k + d_i) ],

with `log_ndtr`, so a product of many small Phi values never underflows (in fp32 with few
nodes the naive product does, which underestimates tiny probabilities and kills gradients).

torch versions are what training differentiates through; numpy/scipy versions are the
references the checks compare against. Monte Carlo estimators of the same argmax
construction (Gaussian noise -> EXACT, Gumbel noise -> softmax) are here as well.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError
from kexue.quadrature import hermite_nodes


def _check_nodes(n_nodes) -> None:
    if not isinstance(n_nodes, (int, np.integer)) or n_nodes < 2:
        raise KexueError(f"n_nodes = {n_nodes!r}: EXACT quadrature needs an integer >= 2 nodes (use 32-64)")


def _check_sigma_np(sigma) -> np.ndarray:
    s = np.asarray(sigma, dtype=np.float64)
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise KexueError(f"sigma = {sigma!r}: the EXACT noise scale must be finite and > 0")
    return s


# ------------------------------------------------------------------------------- numpy reference
def exact_log_probs_np(mu, sigma=1.0, n_nodes: int = 64) -> np.ndarray:
    """log p(y) for every class y: mu [..., C] -> [..., C] (float64, scipy's log_ndtr)."""
    from scipy.special import log_ndtr, logsumexp

    _check_nodes(n_nodes)
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim < 1 or mu.shape[-1] < 2:
        raise KexueError(f"mu has shape {mu.shape}: need at least 2 classes in the last axis")
    s = _check_sigma_np(sigma)[..., None, None]
    z, w = hermite_nodes(int(n_nodes))
    d = (mu[..., :, None] - mu[..., None, :]) / s  # [..., y, i] = (mu_y - mu_i) / sigma
    lp = log_ndtr(z[:, None, None] + d[..., None, :, :])  # [..., K, y, i]
    C = mu.shape[-1]
    lp = np.where(np.eye(C, dtype=bool), 0.0, lp).sum(-1)  # drop i == y
    return logsumexp(np.log(w)[:, None] + lp, axis=-2)


def binary_prob(mu_y, mu_other, sigma=1.0):
    """Two classes: p(y) = Phi((mu_y - mu_other) / (sigma sqrt 2)) in closed form."""
    from scipy.special import ndtr

    s = _check_sigma_np(sigma)
    return ndtr((np.asarray(mu_y, float) - np.asarray(mu_other, float)) / (s * math.sqrt(2.0)))


def mvn_orthant_prob(mu, y: int, sigma=1.0) -> float:
    """The same probability as a multivariate normal CDF (reference for C <= 5):
    P(eps_i - eps_y < (mu_y - mu_i)/sigma for all i != y), covariance I + 11^T."""
    from scipy.stats import multivariate_normal

    mu = np.asarray(mu, dtype=np.float64)
    C = mu.shape[0]
    if not 2 <= C <= 6:
        raise KexueError(f"mvn_orthant_prob: C = {C} classes; scipy's mvn cdf is used here for 2 <= C <= 6 only")
    if not 0 <= y < C:
        raise KexueError(f"mvn_orthant_prob: class y = {y} outside 0..{C - 1}")
    s = float(_check_sigma_np(sigma))
    rivals = [i for i in range(C) if i != y]
    d = (mu[y] - mu[rivals]) / s
    cov = np.eye(C - 1) + np.ones((C - 1, C - 1))
    if C == 2:
        return float(binary_prob(mu[y], mu[rivals[0]], s))
    return float(multivariate_normal(mean=np.zeros(C - 1), cov=cov, allow_singular=False,
                                     abseps=1e-7, releps=1e-6, maxpts=200_000).cdf(d))


def argmax_mc(mu, scale: float, n: int, rng: np.random.Generator, noise: str = "gauss",
              chunk: int = 50_000) -> np.ndarray:
    """Monte Carlo frequency of each class winning argmax(mu / scale + noise): [C] counts.

    noise="gauss": EXACT; noise="gumbel" with scale=1: softmax(mu) (the Gumbel-max trick)."""
    if noise not in ("gauss", "gumbel"):
        raise KexueError(f"noise = {noise!r}: choose 'gauss' or 'gumbel'")
    if n < 1:
        raise KexueError(f"n = {n}: need at least one Monte Carlo sample")
    mu = np.asarray(mu, dtype=np.float64) / float(_check_sigma_np(scale))
    counts = np.zeros(mu.shape[0], dtype=np.int64)
    done = 0
    while done < n:
        m = min(chunk, n - done)
        e = rng.standard_normal((m, mu.shape[0])) if noise == "gauss" else rng.gumbel(size=(m, mu.shape[0]))
        counts += np.bincount(np.argmax(mu + e, axis=1), minlength=mu.shape[0])
        done += m
    return counts


# ------------------------------------------------------------------------------------------- torch
def node_tensors(n_nodes: int, dtype=None, device="cpu"):
    """Gauss–Hermite nodes z_k and log-weights as tensors (from kexue.quadrature.hermite_nodes)."""
    import torch

    _check_nodes(n_nodes)
    z, w = hermite_nodes(int(n_nodes))
    dtype = dtype or torch.float64
    return (torch.as_tensor(np.array(z), dtype=dtype, device=device),
            torch.as_tensor(np.log(np.array(w)), dtype=dtype, device=device))


def exact_log_prob(mu, y, sigma=1.0, n_nodes: int = 48, nodes=None):
    """log p(y | x) of EXACT for a batch: mu [B, C] tensor, y [B] labels, sigma scalar or [B].

    Differentiable in mu and sigma. The log-space quadrature keeps log p finite (and its
    gradient alive) even when p is 1e-30, where the product of Phi values underflows.
    """
    import torch
    from torch.special import log_ndtr

    if mu.dim() != 2 or mu.shape[1] < 2:
        raise KexueError(f"mu has shape {tuple(mu.shape)}: need [batch, classes >= 2]")
    z, lw = nodes if nodes is not None else node_tensors(n_nodes, mu.dtype, mu.device)
    sig = torch.as_tensor(sigma, dtype=mu.dtype, device=mu.device)
    if sig.dim() == 0:
        sig = sig.expand(mu.shape[0])
    mu_y = mu.gather(1, y.view(-1, 1))
    d = (mu_y - mu) / sig.view(-1, 1)  # [B, C], zero at i == y
    lp = log_ndtr(z.view(1, -1, 1) + d.unsqueeze(1))  # [B, K, C]
    rival = torch.ones_like(d).scatter(1, y.view(-1, 1), 0.0)  # mask out i == y
    return torch.logsumexp(lw.view(1, -1) + (lp * rival.unsqueeze(1)).sum(-1), dim=1)


def exact_log_probs_all(mu, sigma=1.0, n_nodes: int = 48, nodes=None):
    """log p(c | x) for every class c: [B, C] (evaluation; loops over classes to bound memory)."""
    import torch

    cols = []
    for c in range(mu.shape[1]):
        y = torch.full((mu.shape[0],), c, dtype=torch.long, device=mu.device)
        cols.append(exact_log_prob(mu, y, sigma, n_nodes, nodes))
    return torch.stack(cols, 1)
