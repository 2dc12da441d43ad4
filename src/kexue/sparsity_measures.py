"""Sparsity measures of a vector (kexue.fm/archives/9595), vectorised over the last axis.

Convention of the article: a SMALLER value means SPARSER. Measures from the literature that score
"larger = sparser" (Gini index, Hoyer) are converted (1 - G, 1 - Hoyer) so that every inequality
of the desiderata points the same way for all of them.

Every measure takes |x| first (the sign of an entry says nothing about sparsity), works on an
array of shape (..., n) and returns shape (...). Exact twins (`*_exact`) evaluate the same
formula on a list of `fractions.Fraction` entries, returning a Fraction where the measure is
rational in x (S0, 1 - Gini) and an mpmath number at the current `mpmath.mp.dps` otherwise;
the property-test runner uses them to confirm every violation found in float64.

Probability-vector functions (Shannon / Renyi entropy, S* of an attention row) check that each
row is non-negative and sums to 1.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

import mpmath
import numpy as np
from scipy.special import xlogy

from kexue.errors import KexueError


# ----------------------------------------------------------------------------- argument checks

def _abs(x) -> np.ndarray:
    a = np.abs(np.asarray(x, dtype=np.float64))
    if a.ndim == 0 or a.shape[-1] < 1:
        raise KexueError(f"x has shape {a.shape}: pass a vector (or a stack of vectors on the last axis)")
    return a


def _check_p(p: float, name: str = "p", above: float = 1.0) -> None:
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise KexueError(f"{name} = {p!r}: pass a number") from None
    if not (math.isfinite(p) and p > above):
        raise KexueError(f"{name} = {p}: this formula needs a finite {name} > {above} "
                         f"(use S0 for the max, i.e. p = infinity)")


def _check_qp(q: float, p: float) -> None:
    if not (math.isfinite(q) and q > 0):
        raise KexueError(f"q = {q}: S*_(q,p) needs q > 0")
    if not (math.isfinite(p) and p > q):
        raise KexueError(f"p = {p} <= q = {q}: S*_(q,p) = n^(1/p-1/q) l_q/l_p needs p > q "
                         f"(swap them, or use 1/S*)")


def check_probability(x, tol: float = 1e-9) -> np.ndarray:
    """Rows of x as probability vectors, or a KexueError naming the bad row."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] < 1:
        raise KexueError(f"probability vector has shape {a.shape}: pass a vector or rows on the last axis")
    if np.any(a < 0) or not np.all(np.isfinite(a)):
        raise KexueError("probability vector has negative or non-finite entries: pass softmax outputs / x / x.sum()")
    s = a.sum(axis=-1)
    bad = np.abs(s - 1) > tol * max(1, a.shape[-1] ** 0.5)
    if np.any(bad):
        v = float(np.ravel(s)[np.argmax(np.ravel(bad))])
        raise KexueError(f"probability vector sums to {v!r}, not 1: normalise it (x / x.sum(-1, keepdims=True)) "
                         f"before calling an entropy / probability-vector measure")
    return a


# ----------------------------------------------------------------------------- norms and measures

def lp_norm(x, p: float) -> np.ndarray:
    """l_p 'norm' (sum |x|^p)^(1/p) for any p > 0, computed as max * l_p(x/max) so that p = 512
    neither overflows nor underflows."""
    a = _abs(x)
    m = a.max(axis=-1, keepdims=True)
    safe = np.where(m > 0, m, 1.0)
    return m[..., 0] * np.sum((a / safe) ** p, axis=-1) ** (1.0 / p)


def s0(x) -> np.ndarray:
    """S0 = mean|x| / max|x| (the article's starting point)."""
    a = _abs(x)
    return a.mean(axis=-1) / a.max(axis=-1)


def s_1p(x, p: float) -> np.ndarray:
    """S_(1,p) = (l1/n) / l_p, p > 1 (p -> infinity gives S0)."""
    _check_p(p)
    a = _abs(x)
    return a.mean(axis=-1) / lp_norm(a, p)


def s_star_qp(x, q: float, p: float) -> np.ndarray:
    """S*_(q,p) = n^(1/p - 1/q) l_q / l_p in [n^(1/p-1/q), 1], p > q > 0."""
    _check_qp(q, p)
    a = _abs(x)
    n = a.shape[-1]
    return n ** (1.0 / p - 1.0 / q) * lp_norm(a, q) / lp_norm(a, p)


def s_star_1p(x, p: float) -> np.ndarray:
    """S*_(1,p) = n^((1-p)/p) l1 / l_p in [n^((1-p)/p), 1], p > 1."""
    _check_p(p)
    return s_star_qp(x, 1.0, p)


def l1_l2(x) -> np.ndarray:
    """The unnormalised l1/l2 ratio in [1, sqrt n] (smaller = sparser)."""
    a = _abs(x)
    return a.sum(axis=-1) / lp_norm(a, 2.0)


def one_minus_hoyer(x) -> np.ndarray:
    """1 - Hoyer = (l1/l2 - 1)/(sqrt n - 1) (Hoyer scores larger = sparser); needs n >= 2."""
    a = _abs(x)
    n = a.shape[-1]
    if n < 2:
        raise KexueError(f"Hoyer's measure needs n >= 2 entries, got n = {n}")
    return (l1_l2(a) - 1.0) / (math.sqrt(n) - 1.0)


def one_minus_gini(x) -> np.ndarray:
    """1 - G with Hurley & Rickard's Gini index G = 1 - 2 sum_k x_(k)/l1 (N - k + 1/2)/N
    (x sorted ascending); 1 - G is in (0, 1], smaller = sparser."""
    a = np.sort(_abs(x), axis=-1)
    n = a.shape[-1]
    w = (n - np.arange(1, n + 1) + 0.5) / n
    return 2.0 * np.sum(a * w, axis=-1) / a.sum(axis=-1)


# ----------------------------------------------------------------------------- probability vectors

def shannon(x) -> np.ndarray:
    """Shannon entropy -sum x log x of probability rows (xlogy: 0 log 0 = 0)."""
    a = check_probability(x)
    return -np.sum(xlogy(a, a), axis=-1)


def renyi(x, p: float) -> np.ndarray:
    """Renyi entropy H_p = -log(sum x^p)/(p - 1), p > 0 (p = 1: Shannon).

    Next to p = 1 log sum x^p is evaluated as log1p(sum x (x^(p-1) - 1)) with expm1, so that H_p stays
    accurate where the naive formula divides a rounding error by p - 1; elsewhere the sum is scaled
    by the largest entry (sum x^p can underflow for large p and n)."""
    if not (math.isfinite(p) and p > 0):
        raise KexueError(f"Renyi order p = {p}: needs 0 < p < infinity")
    a = check_probability(x)
    if p == 1:
        return shannon(a)
    if abs(p - 1.0) > 0.5:  # far from 1: log sum x^p = p log max + log sum (x/max)^p (no underflow)
        m = a.max(axis=-1)
        return -(p * np.log(m) + np.log(np.sum((a / m[..., None]) ** p, axis=-1))) / (p - 1.0)
    pos = a > 0
    la = np.log(np.where(pos, a, 1.0))
    s = np.sum(np.where(pos, a * np.expm1((p - 1.0) * la), 0.0), axis=-1)  # sum x^p - 1
    return -np.log1p(s) / (p - 1.0)


def s_star_prob(x, p: float) -> np.ndarray:
    """S*_(1,p) of a probability vector: l1 = 1, so S* = n^((1-p)/p) / l_p; p > 1."""
    _check_p(p)
    a = check_probability(x)
    n = a.shape[-1]
    return n ** ((1.0 - p) / p) / lp_norm(a, p)


def s_star_from_renyi(h_p, n: int, p: float):
    """The C6 identity solved for S*: S*_(1,p) = exp(-(p-1)/p (log n - H_p))."""
    _check_p(p)
    return np.exp(-(p - 1.0) / p * (np.log(n) - np.asarray(h_p, dtype=np.float64)))


def cosine_sign_form(x) -> np.ndarray:
    """cos(sign(x), x) = l1 / (sqrt(#non-zero) l2): equals S*_(1,2) only when no entry is 0."""
    x = np.asarray(x, dtype=np.float64)
    s = np.sign(x)
    return np.sum(s * x, axis=-1) / (np.linalg.norm(s, axis=-1) * np.linalg.norm(x, axis=-1))


def snr_forms(x) -> tuple[np.ndarray, np.ndarray]:
    """(E|x| / sqrt(E x^2), 1 / sqrt(1 + Var|x| / (E|x|)^2)) with entries as samples (ddof = 0)."""
    a = _abs(x)
    m = a.mean(axis=-1)
    return m / np.sqrt(np.mean(a * a, axis=-1)), 1.0 / np.sqrt(1.0 + a.var(axis=-1) / m ** 2)


# ----------------------------------------------------------------------------- exact twins

def _mp(v: Fraction):
    return mpmath.mpf(v.numerator) / v.denominator


def _mp_lp(xs: Sequence, p: float):
    """l_p of non-negative entries given as mpf (converted once by the caller) or Fractions."""
    pp = int(p) if float(p).is_integer() else mpmath.mpf(p)  # integer powers are exact and faster
    return mpmath.fsum((v if isinstance(v, mpmath.mpf) else _mp(v)) ** pp for v in xs if v) ** (1 / mpmath.mpf(p))


def s0_exact(xs: Sequence[Fraction]) -> Fraction:
    a = [abs(v) for v in xs]
    return sum(a, Fraction(0)) / (len(a) * max(a))


def s_1p_exact(xs: Sequence[Fraction], p: float):
    a = [abs(v) for v in xs]
    return _mp(sum(a, Fraction(0)) / len(a)) / _mp_lp([_mp(v) for v in a if v], p)


def s_star_qp_exact(xs: Sequence[Fraction], q: float, p: float):
    a = [_mp(abs(v)) for v in xs if v]
    n = mpmath.mpf(len(xs))
    return n ** (1 / mpmath.mpf(p) - 1 / mpmath.mpf(q)) * _mp_lp(a, q) / _mp_lp(a, p)


def l1_l2_exact(xs: Sequence[Fraction]):
    a = [abs(v) for v in xs]
    return _mp(sum(a, Fraction(0))) / mpmath.sqrt(_mp(sum((v * v for v in a), Fraction(0))))


def one_minus_hoyer_exact(xs: Sequence[Fraction]):
    return (l1_l2_exact(xs) - 1) / (mpmath.sqrt(len(xs)) - 1)


def one_minus_gini_exact(xs: Sequence[Fraction]) -> Fraction:
    a = sorted(abs(v) for v in xs)
    n = len(a)
    return 2 * sum((v * Fraction(2 * (n - k) + 1, 2 * n) for k, v in enumerate(a, 1)), Fraction(0)) / sum(a, Fraction(0))
