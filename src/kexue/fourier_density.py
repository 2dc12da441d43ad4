"""Fourier basis density model (FBDM) on [-1, 1] and on the real line, in complex128 numpy.

The density is a truncated Fourier series whose coefficients are an autocorrelation,
    c_n = sum_{k=0}^{N-n} a_k conj(a_{k+n}),   f(x) = sum_{n=-N}^{N} c_n e^{i pi n x} = |sum_k a_k e^{-i pi k x}|^2,
so f >= 0 for every complex a; normalisation is int_{-1}^{1} f = 2 c_0, hence
    p(x) = f(x) / (2 c_0) = 1/2 + Re sum_{n>=1} (c_n / c_0) e^{i pi n x}.
On the real line, x = tanh((y - mu)/sigma) and q(y) = sech^2(u)/sigma * p(tanh u).

The CDF printed in the article, (x^2 - 1)/2 + 1/2 Re sum(...), is a typo (it gives Phi(1) = 0);
`cdf` is the corrected form (x + 1)/2 + Re sum (c_n/c_0)(e^{i pi n x} - (-1)^n)/(i pi n), and
`printed_cdf` keeps the misprint only so that the check can flag it.
This module is the exact reference (identity checks, evaluation); the batched torch
training model lives in kexue.batched_density_models.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError


def _as_coeffs(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.complex128)
    if a.ndim < 1 or a.shape[-1] < 2:
        raise KexueError(f"Fourier amplitudes a have shape {a.shape}: need a last axis of length N + 1 >= 2 "
                         f"(Fourier order N >= 1)")
    if not np.all(np.isfinite(a)):
        raise KexueError("Fourier amplitudes a contain NaN or inf: pass finite complex numbers")
    if np.any(np.sum(np.abs(a) ** 2, axis=-1) == 0):
        raise KexueError("Fourier amplitudes a are all zero: c_0 = sum |a_k|^2 must be positive to normalise")
    return a


def check_order(N: int) -> int:
    if int(N) != N or N < 1:
        raise KexueError(f"Fourier order N = {N}: must be an integer >= 1 (N = 0 is the uniform density)")
    return int(N)


def random_amplitudes(rng: np.random.Generator, N: int, size: int = 1, scale: float = 1.0) -> np.ndarray:
    """`size` random complex amplitude vectors a_0..a_N (standard complex normal times scale)."""
    N = check_order(N)
    return scale * (rng.standard_normal((size, N + 1)) + 1j * rng.standard_normal((size, N + 1))) / math.sqrt(2)


def autocorr_coeffs(a) -> np.ndarray:
    """c_0..c_N with c_n = sum_k a_k conj(a_{k+n}) (c_{-n} = conj(c_n)); vectorised over leading axes."""
    a = _as_coeffs(a)
    N = a.shape[-1] - 1
    c = np.empty(a.shape, dtype=np.complex128)
    for n in range(N + 1):
        c[..., n] = np.sum(a[..., : N + 1 - n] * np.conj(a[..., n:]), axis=-1)
    return c


def two_sided(c) -> np.ndarray:
    """c_{-N}..c_N from c_0..c_N (Hermitian symmetry)."""
    c = np.asarray(c, dtype=np.complex128)
    return np.concatenate([np.conj(c[..., :0:-1]), c], axis=-1)


def density_complex(x, a) -> np.ndarray:
    """p(x) = sum_{n=-N}^{N} c_n/(2 c_0) e^{i pi n x} for one a, WITHOUT taking the real part (C1)."""
    c = autocorr_coeffs(a)
    if c.ndim != 1:
        raise KexueError("density_complex takes one amplitude vector; use density_on_periodic_grid for a batch")
    N = c.size - 1
    n = np.arange(-N, N + 1)
    return np.exp(1j * np.pi * np.asarray(x, dtype=np.float64)[..., None] * n) @ (two_sided(c) / (2 * c[0]))


def density_on_periodic_grid(a, M: int) -> tuple[np.ndarray, np.ndarray]:
    """p (complex, before .real) on x_j = -1 + 2j/M, j = 0..M-1, by one FFT per amplitude vector.

    e^{i pi n x_j} = (-1)^n e^{2 pi i n j / M}, so p on the grid is an inverse DFT of the two-sided
    coefficients; exact up to roundoff when M > 2N. Returns (x, p) with p shaped [..., M].
    """
    c = autocorr_coeffs(a)
    N = c.shape[-1] - 1
    if M <= 2 * N:
        raise KexueError(f"grid size M = {M} must exceed 2N = {2 * N} so that no frequencies alias")
    cn = c / (2 * c[..., :1]) * (-1.0) ** np.arange(N + 1)
    spec = np.zeros(c.shape[:-1] + (M,), dtype=np.complex128)
    spec[..., : N + 1] = cn
    spec[..., M - N:] = np.conj(cn[..., :0:-1])  # negative frequencies n = -N..-1
    return -1 + 2 * np.arange(M) / M, np.fft.ifft(spec, axis=-1) * M


def density(x, a) -> np.ndarray:
    """p(x) on [-1, 1] for one amplitude vector a (real by construction: 1/2 + Re sum_{n>=1})."""
    c = autocorr_coeffs(a)
    if c.ndim != 1:
        raise KexueError("density takes one amplitude vector; use density_on_periodic_grid for a batch")
    x = np.asarray(x, dtype=np.float64)
    n = np.arange(1, c.size)
    return 0.5 + np.real(np.exp(1j * np.pi * x[..., None] * n) @ (c[1:] / c[0]))


def cdf(x, a) -> np.ndarray:
    """Corrected closed-form CDF: (x+1)/2 + Re sum_{n>=1} (c_n/c_0)(e^{i pi n x} - (-1)^n)/(i pi n)."""
    c = autocorr_coeffs(a)
    x = np.asarray(x, dtype=np.float64)
    n = np.arange(1, c.size)
    w = c[1:] / c[0] / (1j * np.pi * n)
    return (x + 1) / 2 + np.real((np.exp(1j * np.pi * x[..., None] * n) - (-1.0) ** n) @ w)


def printed_cdf(x, a) -> np.ndarray:
    """The article's printed formula, (x^2 - 1)/2 + 1/2 Re sum(...): kept only to flag the typo."""
    c = autocorr_coeffs(a)
    x = np.asarray(x, dtype=np.float64)
    n = np.arange(1, c.size)
    w = c[1:] / c[0] / (1j * np.pi * n)
    return (x * x - 1) / 2 + 0.5 * np.real((np.exp(1j * np.pi * x[..., None] * n) - (-1.0) ** n) @ w)


def sample(rng: np.random.Generator, a, size: int, grid: int = 4096, newton: int = 6) -> np.ndarray:
    """Inverse-CDF samples on [-1, 1]: bracket u on an FFT grid of the CDF, then safeguarded Newton steps."""
    if size < 1:
        raise KexueError(f"size = {size}: need at least one sample")
    u = rng.uniform(size=size)
    xg, Fg, _ = cdf_on_grid(a, grid)
    j = np.clip(np.searchsorted(Fg, u) - 1, 0, grid - 1)  # Fg[j] <= u < Fg[j + 1]
    lo, hi = xg[j], xg[j + 1]
    x = lo + (u - Fg[j]) / np.maximum(Fg[j + 1] - Fg[j], 1e-300) * (hi - lo)
    for _ in range(newton):  # Newton on Phi(x) = u, kept inside the bracket (p may vanish)
        x = np.clip(x - (cdf(x, a) - u) / np.maximum(density(x, a), 1e-300), lo, hi)
    return x


def _series_on_grid(w: np.ndarray, M: int) -> np.ndarray:
    """sum_{n=1}^{N} w_n e^{i pi n x_j} on x_j = -1 + 2j/M, j = 0..M (endpoint included), by one FFT."""
    N = w.shape[-1]
    if M <= 2 * N:
        raise KexueError(f"grid size M = {M} must exceed 2N = {2 * N}")
    spec = np.zeros(w.shape[:-1] + (M,), dtype=np.complex128)
    spec[..., 1: N + 1] = w * (-1.0) ** np.arange(1, N + 1)
    v = np.fft.ifft(spec, axis=-1) * M
    return np.concatenate([v, v[..., :1]], axis=-1)


def cdf_on_grid(a, M: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, Phi(x), p(x)) on the M + 1 points x_j = -1 + 2j/M (closed forms evaluated by FFT)."""
    c = autocorr_coeffs(a)
    n = np.arange(1, c.shape[-1])
    r = c[..., 1:] / c[..., :1]
    x = -1 + 2 * np.arange(M + 1) / M
    p = 0.5 + np.real(_series_on_grid(r, M))
    F = (x + 1) / 2 + np.real(_series_on_grid(r / (1j * np.pi * n), M)
                              - np.sum(r / (1j * np.pi * n) * (-1.0) ** n, axis=-1, keepdims=True))
    return x, F, p


def derivative_energy(a) -> tuple[float, float]:
    """(int |f'|^2 by the coefficient sum 2 pi^2 sum n^2 |c_n|^2, the same by periodic trapezoid).

    f' is a trigonometric polynomial of degree N, so the trapezoid rule on M > 2N equispaced
    points of the period is exact up to roundoff: an independent quadrature of the integral.
    """
    c = autocorr_coeffs(a)
    N = c.size - 1
    n = np.arange(1, N + 1)
    by_sum = 2 * np.pi ** 2 * 2 * float(np.sum(n ** 2 * np.abs(c[1:]) ** 2))  # n and -n
    M = 8 * (N + 1)
    x = -1 + 2 * np.arange(M) / M
    nn = np.arange(-N, N + 1)
    fprime = np.exp(1j * np.pi * x[:, None] * nn) @ (two_sided(c) * 1j * np.pi * nn)
    by_quad = float(np.sum(np.abs(fprime) ** 2) * 2 / M)
    return by_sum, by_quad


def normalized_regularizer(a, gamma: float = 1.0) -> float:
    """gamma sum_{n=-N}^{N} 2 pi^2 n^2 |c_n / (2 c_0)|^2 = gamma int |p'|^2: invariant to a -> s a."""
    if gamma < 0:
        raise KexueError(f"gamma = {gamma}: the regulariser weight must be >= 0")
    c = autocorr_coeffs(a)
    n = np.arange(1, c.size)
    return float(gamma * 2 * np.pi ** 2 * 2 * np.sum(n ** 2 * np.abs(c[1:] / (2 * c[0])) ** 2))


def log_sech2(u) -> np.ndarray:
    """log sech^2 u = log 4 - 2|u| - 2 log(1 + e^{-2|u|}): no underflow for large |u| (card pitfall)."""
    au = np.abs(np.asarray(u, dtype=np.float64))
    return math.log(4.0) - 2 * au - 2 * np.log1p(np.exp(-2 * au))


def log_density_real_line(y, a, mu: float, sigma: float) -> np.ndarray:
    """log q(y) = log sech^2(u) - log sigma + log p(tanh u), u = (y - mu)/sigma."""
    if not sigma > 0:
        raise KexueError(f"sigma = {sigma}: the squashing scale must be > 0")
    u = (np.asarray(y, dtype=np.float64) - mu) / sigma
    return log_sech2(u) - math.log(sigma) + np.log(np.maximum(density(np.tanh(u), a), 0.0))


# ------------------------------------------------------------------------- identity checks (C1-C4)
def identity_checks(rng: np.random.Generator, *, orders=(4, 16, 64), n_random=1000, grid=10_000,
                    trapz_points=200_001, n_integrals=50, gl_nodes=1000, ks_order=16, ks_samples=10_000) -> tuple[dict, dict]:
    """C1-C4 on random complex amplitudes; returns (metrics, arrays for the sampling figure)."""
    from scipy import integrate
    from scipy.stats import kstest

    orders = [check_order(N) for N in orders]
    if n_random < 1 or n_integrals < 1:
        raise KexueError(f"n_random = {n_random}, n_integrals = {n_integrals}: need >= 1 random amplitude vectors")
    m = {"c1": {}, "c2": {}, "c3": {}, "c4": {}}
    from scipy.special import roots_legendre

    gx, gw = roots_legendre(gl_nodes)
    for N in orders:
        a = random_amplitudes(rng, N, n_random)
        _, p = density_on_periodic_grid(a, grid)  # C1: positivity and reality on a 10^4 grid
        m["c1"][str(N)] = {"min_p": float(p.real.min()), "max_abs_imag": float(np.abs(p.imag).max()),
                           "n": n_random, "grid": grid}
        a = a[:n_integrals]
        _, p = density_on_periodic_grid(a, trapz_points - 1)  # C2: trapezoid over [-1, 1], endpoint p(1) = p(-1)
        pe = np.concatenate([p.real, p.real[:, :1]], axis=1)
        unit = integrate.trapezoid(pe, dx=2 / (trapz_points - 1), axis=1)
        line = []  # int_R q dy by the substitution y = mu + sigma artanh x on Gauss-Legendre nodes (interior)
        for ai in a:
            mu, sigma = rng.normal(0, 2), float(np.exp(rng.normal(0, 1)))
            yy = mu + sigma * np.arctanh(gx)
            line.append(np.sum(gw * np.exp(log_density_real_line(yy, ai, mu, sigma)) * sigma / (1 - gx * gx)))
        m["c2"][str(N)] = {"max_abs_unit": float(np.max(np.abs(unit - 1))),
                           "max_abs_line": float(np.max(np.abs(np.array(line) - 1))), "n": len(a)}
        rel = [abs(s - q) / s for s, q in (derivative_energy(ai) for ai in a)]  # C3
        m["c3"][str(N)] = {"max_rel_diff": float(max(rel)), "n": len(a)}
        diffs, printed = [], []  # C4: closed form vs cumulative Simpson quadrature of p on the same grid
        xs, F, p = cdf_on_grid(a[:10], trapz_points - 1)
        for Fi, pi_, ai in zip(F, p, a[:10]):
            diffs.append(np.max(np.abs(Fi - integrate.cumulative_simpson(pi_, x=xs, initial=0.0))))
            printed.append(float(printed_cdf(1.0, ai)))
        m["c4"][str(N)] = {"max_abs_diff": float(max(diffs)), "printed_phi1": printed[:3],
                           "min_abs_printed_phi1_minus_1": float(min(abs(v - 1) for v in printed)),
                           "corrected_phi1": float(cdf(1.0, a[0])), "direct_vs_fft_cdf":
                           float(np.max(np.abs(cdf(xs[::997], a[0]) - F[0, ::997]))), "n": len(diffs)}
    # KS: inverse-CDF samples against the CDF obtained by integrating p numerically (not the closed form)
    a = random_amplitudes(rng, ks_order, 1)[0]
    xs, _, p = cdf_on_grid(a, trapz_points - 1)
    num = integrate.cumulative_simpson(p, x=xs, initial=0.0)
    s = sample(rng, a, ks_samples)
    ks = kstest(s, lambda v: np.interp(v, xs, num))
    m["c4"]["ks"] = {"N": ks_order, "n": ks_samples, "statistic": float(ks.statistic), "pvalue": float(ks.pvalue)}
    arrays = {"ks_samples": s, "ks_x": xs[::100], "ks_p": p[::100]}
    return m, arrays
