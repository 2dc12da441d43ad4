"""Moments of a noisy softsign / clip: the per-coordinate model of Adam's update with ε.

A minibatch gradient component is g̃ = g + σ z/√B, z ~ N(0, 1). In units of the noise scale
σ/√B write a = g√B/σ, b = ε√B/σ and w = a + z ~ N(a, 1); then

    softsign(g̃, ε) = w / √(w² + b²)          (what Adam with β1 = β2 = 0 applies)
    clip(g̃/ε, −1, 1) = clip(w/b, −1, 1)       (the article's piecewise-linear stand-in).

Closed forms (derived here, checked against adaptive quadrature in the tests):
  E[clip(w/b)] is the mean of erf((a−t)/√2) over t ∈ [−b, b]; with F(x) = x erf(x/√2) + 2φ(x)
  (an antiderivative of erf(x/√2)), E = [F(a+b) − F(a−b)]/(2b). For a ≥ 0 we evaluate it as
  1 − [G(a+b) − G(a−b)]/(2b), G(x) = x erfc(x/√2) − 2φ(x), which has no erf(·) − erf(·)
  cancellation at large a, and use the Taylor series in b for tiny b.
  E[clip²] = 1 − E[(b² − w²)₊]/b², the positive part integrated in closed form.
E[softsign] and E[softsign²] have no closed form: `softsign_moments` integrates them with
composite Gauss–Legendre panels refined geometrically around the kink w = 0 (scale b), and
with Gauss–Hermite (kexue.quadrature) where the integrand is smooth on the noise scale.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate
from scipy.special import erf, erfc

from kexue.errors import KexueError
from kexue.quadrature import normal_expectation

SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _phi(x):
    return INV_SQRT_2PI * np.exp(-0.5 * np.square(x))


def _positive_b(b, name="b", allow_zero=False):
    b = np.asarray(b, dtype=np.float64)
    bad = ~np.isfinite(b) | ((b < 0) if allow_zero else (b <= 0))
    if np.any(bad):
        v = b[bad].ravel()[0] if b.ndim else float(b)
        need = ">= 0" if allow_zero else "> 0"
        raise KexueError(f"{name} = {v!r}: must be finite and {need} (b = ε√B/σ; the clip model divides by b, "
                         f"use b > 0, or the sign limit for ε = 0)")
    return b


# ------------------------------------------------------------------ elementary functions
def softsign(x, eps):
    """x / √(x² + ε²) elementwise; ε = 0 gives sign(x) (with sign(0) = 0)."""
    eps = _positive_b(eps, "eps", allow_zero=True)
    x = np.asarray(x, dtype=np.float64)
    h = np.hypot(x, eps)  # no overflow of x² for huge x or ε
    return np.divide(x, h, out=np.zeros(np.broadcast(x, h).shape), where=h > 0)


def erf_approx(x):
    """The article's S-curve approximation erf(x) ≈ x / √(x² + π/4) (same slope 2/√π at 0)."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.sqrt(x * x + math.pi / 4)


# ------------------------------------------------------------------ clip: closed forms
def clip_mean_article(a, b):
    """E[clip((a+z)/b, −1, 1)] in the article's erf form (literal; cancels for large |a|)."""
    a = np.asarray(a, dtype=np.float64)
    b = _positive_b(b)
    p, m = erf((a + b) / SQRT2), erf((a - b) / SQRT2)
    return 0.5 * (p + m) + a / (2 * b) * (p - m) + (np.exp(-0.5 * (a + b) ** 2)
                                                    - np.exp(-0.5 * (a - b) ** 2)) / (b * math.sqrt(2 * math.pi))


def clip_mean(a, b):
    """E[clip((a+z)/b, −1, 1)], z ~ N(0,1), without cancellation (odd in a)."""
    a = np.asarray(a, dtype=np.float64)
    b = _positive_b(b)
    a, b = np.broadcast_arrays(a, b)
    A = np.abs(a)
    G = lambda x: x * erfc(x / SQRT2) - 2 * _phi(x)  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"):
        e = 1.0 - (G(A + b) - G(A - b)) / (2 * b)
    # b → 0: mean of erf over [a−b, a+b] = erf(a/√2) + (b²/6)·(erf(a/√2))'' + O(b⁴), (erf(a/√2))'' = −2aφ(a)
    tiny = b < 1e-4
    e = np.where(tiny, erf(A / SQRT2) - (b * b / 3) * A * _phi(A), e)
    return np.sign(a) * e


def clip_slope0(b):
    """d/da E[clip((a+z)/b)] at a = 0: erf(b/√2)/b (the article's slope)."""
    b = _positive_b(b)
    return erf(b / SQRT2) / b


def clip_second(a, b):
    """E[clip((a+z)/b, −1, 1)²] = 1 − E[(b² − w²)₊]/b², w ~ N(a, 1) (even in a)."""
    a = np.asarray(a, dtype=np.float64)
    b = _positive_b(b)
    a, b = np.broadcast_arrays(a, b)
    A = np.abs(a)
    # ∫_{−b}^{b} (b² − w²) φ(w − A) dw with z = w − A on [l, h]
    lo, hi = -b - A, b - A
    P = np.where(hi < 0, 0.5 * (erfc(-hi / SQRT2) - erfc(-lo / SQRT2)),
                 0.5 * (erf(hi / SQRT2) - erf(lo / SQRT2)))
    M1 = _phi(lo) - _phi(hi)                       # ∫ z φ
    M2 = P - (hi * _phi(hi) - lo * _phi(lo))       # ∫ z² φ
    inner = b * b * P - (A * A * P + 2 * A * M1 + M2)
    # small b: (4/3) b³ φ(A) + (2/15) b⁵ (A² − 1) φ(A) + O(b⁷), free of the O(b)-term cancellation
    series = (4.0 / 3.0) * b ** 3 * _phi(A) + (2.0 / 15.0) * b ** 5 * (A * A - 1) * _phi(A)
    inner = np.where(b < 1e-3, series, inner)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - np.maximum(inner, 0.0) / (b * b)


# ------------------------------------------------------------------ the article's approximations
def mean_approx(a, b):
    """The article's E[ũ_B] ≈ a / √(a² + b² + π/2)."""
    a = np.asarray(a, dtype=np.float64)
    b = _positive_b(b, allow_zero=True)
    return a / np.sqrt(a * a + b * b + math.pi / 2)


def second_approx(a, b):
    """The article's (admittedly rough) E[ũ_B²] ≈ 1 − b²/(a² + b² + π/2)."""
    a = np.asarray(a, dtype=np.float64)
    b = _positive_b(b, allow_zero=True)
    return 1.0 - b * b / (a * a + b * b + math.pi / 2)


# ------------------------------------------------------------------ softsign: quadrature
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_CORE_PANELS = 30          # at most this many geometric panels b/8 · 2^k per side: reach w = 1 for b ≥ 1e-7
_OUTER = np.arange(1.0, 20.0 + 1e-9, 1.0)  # uniform panels on [1, 20] (φ(w − a) ~ 0 beyond for |a| < 9)
_B_SIGN = 1e-7             # below: the sign limit plus its O(b) correction of the second moment


def _panel_edges(b):
    """Positive-side panel edges for each b: [0, b/8, b/4, ..., 1] (clipped) then 1..20."""
    # only as many geometric panels as the smallest b of the chunk needs to reach w = 1
    k = np.arange(min(_CORE_PANELS, int(np.ceil(np.log2(8.0 / b.min()))) + 1))
    core = np.minimum(b[:, None] * 2.0 ** (k - 3), 1.0)
    core = np.concatenate([np.zeros((b.size, 1)), core, np.ones((b.size, 1))], axis=1)
    outer = np.broadcast_to(_OUTER, (b.size, _OUTER.size))
    return np.concatenate([core, outer[:, 1:]], axis=1)


def _panel_moments(a, b):
    """E[s], E[s²] for s = w/√(w²+b²), w ~ N(a,1), |a| < 9, by composite Gauss–Legendre."""
    e = _panel_edges(b)
    lo, hi = e[:, :-1], e[:, 1:]
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    w = mid[..., None] + half[..., None] * _GL_X          # (n, panels, 16), positive side
    wt = half[..., None] * _GL_W
    w, wt = w.reshape(len(a), -1), wt.reshape(len(a), -1)
    s = w / np.hypot(w, b[:, None])
    pp, pm = _phi(w - a[:, None]), _phi(w + a[:, None])   # densities at +w and −w
    m1 = np.sum(wt * s * (pp - pm), axis=1)               # s is odd
    m2 = np.sum(wt * s * s * (pp + pm), axis=1)           # s² is even
    return m1, m2


def _hermite_moments(a, b, n=201):
    def f(z):  # (nodes, 2, pairs): softsign and its square at w = a + z
        s = (a[None, :] + z[:, None]) / np.hypot(a[None, :] + z[:, None], b[None, :])
        return np.stack([s, s * s], axis=1)

    m = normal_expectation(f, n)
    return m[0], m[1]


def softsign_moments(a, b, chunk=2000):
    """(E[s], E[s²]) of s = softsign(w, b), w ~ N(a, 1), elementwise over broadcast a, b (b ≥ 0).

    b = 0 is the sign limit: (erf(a/√2), 1). Accuracy ~1e-12 (tests compare with scipy quad).
    """
    a = np.asarray(a, dtype=np.float64)
    b = _positive_b(b, allow_zero=True)
    a, b = np.broadcast_arrays(a, b)
    shape = a.shape
    a, b = a.ravel(), b.ravel()
    m1, m2 = np.empty_like(a), np.empty_like(a)
    sign = b < _B_SIGN
    m1[sign] = erf(a[sign] / SQRT2)
    m2[sign] = 1.0 - math.pi * b[sign] * _phi(a[sign])  # E[b²/(w²+b²)] ≈ πbφ(a) + O(b²)
    smooth = ~sign & ((b >= 2.0) | (np.abs(a) >= 9.0))    # analytic within the Gaussian's reach
    panel = ~sign & ~smooth
    for mask, fn in ((smooth, _hermite_moments), (panel, _panel_moments)):
        idx = np.flatnonzero(mask)
        for s in range(0, idx.size, chunk):
            j = idx[s:s + chunk]
            m1[j], m2[j] = fn(a[j], b[j])
    return m1.reshape(shape), m2.reshape(shape)


# ------------------------------------------------------------------ adaptive references (slow, scalar)
def quad_expectation(f, a, kinks=(), lim=14.0):
    """E[f(a + z)] by scipy.integrate.quad over z ∈ [−lim, lim] with breakpoints at the kinks (in w)."""
    import warnings

    pts = sorted(k - a for k in kinks if -lim < k - a < lim)
    with warnings.catch_warnings():  # quad's roundoff notices at the 1e-14 target are expected here
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, _ = integrate.quad(lambda z: f(a + z) * INV_SQRT_2PI * math.exp(-0.5 * z * z), -lim, lim,
                                points=pts or None, limit=400, epsabs=1e-14, epsrel=1e-13)
    return val


def quad_clip(a, b, power=1):
    return quad_expectation(lambda w: max(-1.0, min(1.0, w / b)) ** power, a, kinks=(-b, b))


def quad_softsign(a, b, power=1):
    # the kink has width b around w = 0: give quad the scale as breakpoints too; the second
    # moment as 1 − E[b²/(w² + b²)] so the narrow Lorentzian dip is integrated directly
    scales = [b * 10.0 ** k for k in range(0, 12) if b * 10.0 ** k < 10]  # heavy b²/w² tails: decades
    kinks = tuple(sorted([0.0] + scales + [-x for x in scales]))
    if power == 2:
        return 1.0 - quad_expectation(lambda w: b * b / (w * w + b * b), a, kinks=kinks)
    return quad_expectation(lambda w: (w / math.hypot(w, b)) ** power, a, kinks=kinks)


def monte_carlo_moments(a, b, n, rng):
    """Sampled softsign of w = a + z (n draws per (a, b)); returns the draws, shape (n, *a.shape)."""
    a = np.asarray(a, dtype=np.float64)
    b = _positive_b(b, allow_zero=True)
    w = a + rng.standard_normal((n,) + np.broadcast(a, b).shape)
    return softsign(w, b)
