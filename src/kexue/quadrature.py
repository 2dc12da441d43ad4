"""Expectations over a standard normal by Gauss–Hermite quadrature (probabilists' form).

    E[f(Z)], Z ~ N(0, 1)  ≈  sum_k w_k f(z_k)          normal_expectation(f, n)
    log E[exp(g(Z))]      ≈  logsumexp_k(log w_k + g(z_k))   log_normal_expectation(g, n)

The log form is what keeps tiny probabilities (products of many normal CDFs, say) from
underflowing to 0 in float64 — compute g with `scipy.special.log_ndtr` or
`torch.special.log_ndtr` and stay in log space until the end.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import logsumexp

from kexue.errors import KexueError


@lru_cache(maxsize=32)
def hermite_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z_k and weights w_k (summing to 1) for E over N(0, 1); exact for polynomials of degree < 2n."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise KexueError(f"Gauss–Hermite node count = {n!r}: must be a positive integer")
    z, w = np.polynomial.hermite_e.hermegauss(int(n))
    w = w / w.sum()
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w


def normal_expectation(f, n: int = 201):
    """E[f(Z)]; f is called once on the node array (shape (n,)) and may return (n, ...) arrays."""
    z, w = hermite_nodes(n)
    v = np.asarray(f(z), dtype=np.float64)
    return np.tensordot(w, v, axes=(0, 0))


def log_normal_expectation(g, n: int = 64):
    """log E[exp(g(Z))], computed as a logsumexp over the nodes (no underflow)."""
    z, w = hermite_nodes(n)
    v = np.asarray(g(z), dtype=np.float64)
    lw = np.log(w).reshape((-1,) + (1,) * (v.ndim - 1))
    return logsumexp(lw + v, axis=0)
