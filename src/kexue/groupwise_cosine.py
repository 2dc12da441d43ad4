"""Local (group-wise) versus global cosine similarity (kexue.fm/archives/9931).

Split x, y into K groups x_k, y_k and write a_k = |x_k|, b_k = |y_k|, c_k = cos(x_k, y_k).
Then (the article's decomposition, any K)

    cos(x, y) = sum_k c_k a_k b_k / (|a| |b|) = cos(a, b) * cbar_w,   w_k ∝ a_k b_k,

so the global cosine is the weighted mean of the local cosines, shrunk towards 0 by the
cosine of the two *norm vectors*. Everything here is plain numpy on float64; batched
functions take arrays of shape (n, K, d): n instances, K groups of d coordinates.
Zero-norm guard: the cosine of a zero vector with anything is defined as 0 (no NaN).
"""
from __future__ import annotations

import math

import numpy as np

TINY = 1e-300


def cosine(x, y, axis=-1):
    """cos(x, y) along `axis`; 0 where either vector has zero norm."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    num = np.sum(x * y, axis=axis)
    den = np.linalg.norm(x, axis=axis) * np.linalg.norm(y, axis=axis)
    ok = den > 0
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def group_stats(x, y):
    """Batched group statistics for x, y of shape (..., K, d).

    Returns dict: c (..., K) local cosines, a, b (..., K) group norms, glob (...) global
    cosine, ident (...) = sum c a b / (|a||b|), cos_ab (...), cbar_w (...) the a_k b_k
    weighted mean of c_k (0 where all weights vanish).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    c = cosine(x, y, axis=-1)
    a = np.linalg.norm(x, axis=-1)
    b = np.linalg.norm(y, axis=-1)
    flat = x.shape[:-2] + (-1,)
    glob = cosine(x.reshape(flat), y.reshape(flat), axis=-1)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    den = na * nb
    ok = den > 0
    ident = np.where(ok, np.sum(c * a * b, axis=-1) / np.where(ok, den, 1.0), 0.0)
    cos_ab = cosine(a, b, axis=-1)
    wsum = np.sum(a * b, axis=-1)
    okw = wsum > 0
    cbar_w = np.where(okw, np.sum(a * b * c, axis=-1) / np.where(okw, wsum, 1.0), 0.0)
    return {"c": c, "a": a, "b": b, "glob": glob, "ident": ident, "cos_ab": cos_ab, "cbar_w": cbar_w}


def split_groups(x, sizes):
    """Split a flat vector into consecutive groups of the given sizes (list of arrays)."""
    idx = np.cumsum(sizes)[:-1]
    return np.split(np.asarray(x, dtype=np.float64), idx)


def decompose(x, y, sizes):
    """Unbatched decomposition for a flat x, y and a partition into consecutive `sizes`."""
    xs, ys = split_groups(x, sizes), split_groups(y, sizes)
    c = np.array([float(cosine(u, v)) for u, v in zip(xs, ys)])
    a = np.array([np.linalg.norm(u) for u in xs])
    b = np.array([np.linalg.norm(v) for v in ys])
    glob = float(cosine(x, y))
    ident = float(np.sum(c * a * b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    refine = float(cosine(a, b)) * float(np.sum(a * b * c) / np.sum(a * b))
    return {"c": c, "a": a, "b": b, "glob": glob, "ident": ident, "refine": refine}


def identity_errors(rng, n, d_range=(2, 200), k_range=(2, 10)):
    """C2 on random draws: D uniform in d_range, random partition into K groups
    (random cut points), Gaussian x, y with random per-coordinate scales.
    Returns (max |glob - ident|, max |glob - refine|)."""
    e_id = e_ref = 0.0
    for _ in range(n):
        D = int(rng.integers(d_range[0], d_range[1] + 1))
        K = int(rng.integers(k_range[0], min(k_range[1], D) + 1))
        cuts = np.sort(rng.choice(np.arange(1, D), size=K - 1, replace=False))
        sizes = np.diff(np.concatenate([[0], cuts, [D]]))
        scale = np.exp(rng.uniform(-3, 3, size=D))
        x = rng.standard_normal(D) * scale
        y = rng.standard_normal(D) * scale[::-1]
        r = decompose(x, y, sizes)
        e_id = max(e_id, abs(r["glob"] - r["ident"]))
        e_ref = max(e_ref, abs(r["glob"] - r["refine"]))
    return e_id, e_ref


# ---------------------------------------------------------------- C3 counterexample
def counterexample(lam, eps, dim=2, rng=None):
    """x = [eps e, e'], y = [e'', eps e'''], each pair (x_k, y_k) in its own 2-D subspace
    with cosine exactly lam. With dim > 2 each group's 2-D plane is a random plane of
    R^dim (orthonormal basis from a QR). Returns x, y of shape (2, dim).
    Global cosine = 2 lam eps / (1 + eps^2) ≈ 2 lam eps."""
    s = math.sqrt(1.0 - lam * lam)
    p = np.array([[eps * 1.0, 0.0], [1.0, 0.0]])  # x_k in plane coordinates
    q = np.array([[lam, s], [eps * lam, eps * s]])  # y_k: cosine lam with x_k
    if dim == 2:
        return p, q
    rng = np.random.default_rng(0) if rng is None else rng
    x, y = np.zeros((2, dim)), np.zeros((2, dim))
    for k in range(2):
        basis, _ = np.linalg.qr(rng.standard_normal((dim, 2)))
        x[k], y[k] = basis @ p[k], basis @ q[k]
    return x, y


# ---------------------------------------------------------------- C4/C5 random search
SEARCH_SHAPES = ((2, 1), (2, 3), (3, 2), (5, 4), (10, 8), (4, 50))


def sign_pattern(rng, n, K, kind):
    """Target signs (+1/-1) of the K local cosines for each of n instances."""
    if kind == "nonneg":
        return np.ones((n, K))
    if kind == "neg":
        return -np.ones((n, K))
    if kind == "mixed":  # random signs with at least one of each
        s = rng.choice([-1.0, 1.0], size=(n, K))
        s[:, 0] = 1.0
        s[:, 1] = -1.0
        return rng.permuted(s, axis=1)
    raise ValueError(f"unknown sign kind {kind!r}")


def random_instances(rng, n, K, d, kind):
    """n random (x, y) of shape (n, K, d) whose local cosines have the signs of `kind`:
    Gaussian directions, log-uniform group norms over 6 decades (so the norm vectors a, b
    are far from parallel often), and y_k reflected (y_k -> -y_k) where its sign is wrong."""
    x = rng.standard_normal((n, K, d)) * np.exp(rng.uniform(-7, 7, size=(n, K, 1)))
    y = rng.standard_normal((n, K, d)) * np.exp(rng.uniform(-7, 7, size=(n, K, 1)))
    want = sign_pattern(rng, n, K, kind)
    dot = np.sum(x * y, axis=-1)
    flip = np.where(np.sign(dot) * want < 0, -1.0, 1.0)
    return x, y * flip[..., None]


def orthogonal_norms_instance(K=2, d=3, lam=-0.5):
    """C5 construction: all c_k = lam < 0 and a ⊥ b (nearly: a = (1, eps), b = (eps, 1)),
    so cos(x, y) ≈ 0 > max c_k. Needs K = 2."""
    s = math.sqrt(1 - lam * lam)
    x, y = np.zeros((K, d)), np.zeros((K, d))
    # group 0: |x_0| = 1, |y_0| -> 0 ; group 1: |x_1| -> 0, |y_1| = 1. Exact orthogonality
    # would need zero norms (local cosine then undefined), so use a tiny eps instead:
    # global cosine = 2 lam eps / (1 + eps^2), i.e. -1e-9 for lam = -0.5.
    eps = 1e-9
    x[0, :2] = [1.0, 0.0]
    y[0, :2] = [eps * lam, eps * s]
    x[1, :2] = [eps, 0.0]
    y[1, :2] = [lam, s]
    return x, y


def bound_violations(st, tol=1e-12):
    """Counts and maximal amounts of bound violations for a batch of group_stats `st`."""
    c, g = st["c"], st["glob"]
    cmax, cmin = c.max(axis=-1), c.min(axis=-1)
    up, lo = g - cmax, cmin - g
    r_up = g - st["cos_ab"] * cmax  # refinement (all c_k >= 0): cos <= cos(a,b) max c
    r_lo = st["cos_ab"] * cmin - g  # and cos >= cos(a,b) min c
    out = {"n": int(g.size)}
    for name, v in (("upper", up), ("lower", lo), ("refine_upper", r_up), ("refine_lower", r_lo)):
        out[f"{name}_violations"] = int(np.sum(v > tol))
        out[f"{name}_max_excess"] = float(np.max(v))
    out["ident_max_err"] = float(np.max(np.abs(st["glob"] - st["ident"])))
    out["refine_max_err"] = float(np.max(np.abs(st["glob"] - st["cos_ab"] * st["cbar_w"])))
    return out


def random_search(rng, n, kind, shapes=SEARCH_SHAPES, chunk=50_000, keep=2000):
    """n instances of sign class `kind`, spread evenly over `shapes` ((K, d) combos).
    Returns (summary dict, sample dict of arrays glob/cmax/cmin for a scatter plot)."""
    per = [n // len(shapes) + (1 if i < n % len(shapes) else 0) for i in range(len(shapes))]
    agg, sample = None, {"glob": [], "cmax": [], "cmin": [], "K": []}
    keep_each = max(1, keep // len(shapes))
    for (K, d), m in zip(shapes, per):
        done = 0
        while done < m:
            b = min(chunk, m - done)
            x, y = random_instances(rng, b, K, d, kind)
            st = group_stats(x, y)
            v = bound_violations(st)
            agg = v if agg is None else _merge(agg, v)
            if done == 0:
                j = slice(0, min(keep_each, b))
                sample["glob"].append(st["glob"][j])
                sample["cmax"].append(st["c"].max(-1)[j])
                sample["cmin"].append(st["c"].min(-1)[j])
                sample["K"].append(np.full(len(st["glob"][j]), K))
            done += b
    return agg, {k: np.concatenate(v) for k, v in sample.items()}


def _merge(a, b):
    out = {}
    for k in a:
        if k == "n" or k.endswith("_violations"):
            out[k] = a[k] + b[k]
        else:
            out[k] = max(a[k], b[k])
    return out


# ---------------------------------------------------------------- adversarial search
def _adv_objective(z, K, d, pattern, which):
    """Value and gradient of f = cos(x,y) - max_k c_k (which="upper") or
    f = min_k c_k - cos(x,y) (which="lower"); we return -f, -grad for minimisation.
    Parametrisation: y'_k = p_k sign(<x_k,y_k>) y_k fixes the sign of c_k to p_k."""
    X, Y = z[: K * d].reshape(K, d), z[K * d:].reshape(K, d)
    s = pattern * np.where(np.sum(X * Y, axis=1) >= 0, 1.0, -1.0)
    Yp = Y * s[:, None]
    nx, ny = np.linalg.norm(X) + TINY, np.linalg.norm(Yp) + TINY
    G = np.sum(X * Yp) / (nx * ny)
    gX = Yp / (nx * ny) - G * X / nx**2
    gY = X / (nx * ny) - G * Yp / ny**2
    a = np.linalg.norm(X, axis=1) + TINY
    b = np.linalg.norm(Yp, axis=1) + TINY
    c = np.sum(X * Yp, axis=1) / (a * b)
    m = int(np.argmax(c)) if which == "upper" else int(np.argmin(c))
    hX = np.zeros_like(X)
    hY = np.zeros_like(X)
    hX[m] = Yp[m] / (a[m] * b[m]) - c[m] * X[m] / a[m] ** 2
    hY[m] = X[m] / (a[m] * b[m]) - c[m] * Yp[m] / b[m] ** 2
    if which == "upper":
        f, fX, fY = G - c[m], gX - hX, gY - hY
    else:
        f, fX, fY = c[m] - G, hX - gX, hY - gY
    grad = np.concatenate([fX.ravel(), (fY * s[:, None]).ravel()])
    return -f, -grad


def adversarial_search(rng, starts, kind, which, K=3, d=2):
    """Maximise the violation of a bound with L-BFGS-B (analytic gradient) from `starts`
    random points. The reported value is recomputed with `group_stats` (exact
    definitions), not the optimiser's objective. Returns dict with the best excess."""
    from scipy.optimize import minimize

    best = -np.inf
    for _ in range(starts):
        pattern = sign_pattern(rng, 1, K, kind)[0]
        z0 = rng.standard_normal(2 * K * d) * np.exp(rng.uniform(-2, 2, size=2 * K * d))
        res = minimize(_adv_objective, z0, args=(K, d, pattern, which), jac=True,
                       method="L-BFGS-B", options={"maxiter": 500})
        X, Y = res.x[: K * d].reshape(K, d), res.x[K * d:].reshape(K, d)
        s = pattern * np.where(np.sum(X * Y, axis=1) >= 0, 1.0, -1.0)
        st = group_stats(X[None], (Y * s[:, None])[None])
        v = bound_violations(st)
        best = max(best, v["upper_max_excess"] if which == "upper" else v["lower_max_excess"])
    return {"starts": int(starts), "K": K, "d": d, "max_excess": float(best),
            "violations": int(best > 1e-12)}


# ---------------------------------------------------------------- C6 Pearson, C7 Simpson
def pearson_via_cosine(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(cosine(x - x.mean(), y - y.mean()))


def ols_slope(x, y):
    from kexue.fits import linear_fit

    return linear_fit(x, y)["slope"]


def simpson_data(rng, n=50):
    """Card step 4: group 1 x ~ U[0,1], y = x + 3; group 2 x ~ U[2,3], y = x - 3."""
    x1 = rng.uniform(0, 1, n)
    x2 = rng.uniform(2, 3, n)
    return (x1, x1 + 3.0), (x2, x2 - 3.0)


# ---------------------------------------------------------------- clipping (C8)
def clip_cosine(u, g, lam):
    """Return u' with |u'| = |u| and cos(u', g) >= lam, changing u only if cos(u, g) < lam.

    The card asks for u' = |u| (û + α ĝ)/|û + α ĝ| with α found by bisection such that
    cos = lam. That direction is known in closed form: û + α ĝ stays in the plane spanned
    by ĝ and ê (ê = unit component of û orthogonal to ĝ) and its ê-coefficient stays
    positive, so the unit vector in that plane with cosine lam to ĝ is exactly
    lam ĝ + sqrt(1 - lam²) ê. We use the closed form (tested against `clip_cosine_bisect`).
    Degenerate case û = -ĝ (no orthogonal part, e.g. a 1-element tensor): mixing in ĝ
    passes through 0 and comes out at +ĝ, so return |u| ĝ.
    One implementation for numpy arrays (tests, numerics) and torch tensors (training):
    it only uses arithmetic and `.sum()`, which both provide.
    """
    nu, ng = float((u * u).sum()) ** 0.5, float((g * g).sum()) ** 0.5
    if nu == 0 or ng == 0:
        return u
    uh, gh = u / nu, g / ng
    c = float((uh * gh).sum())
    if c >= lam:
        return u
    e = uh - c * gh
    ne = float((e * e).sum()) ** 0.5
    if ne <= 1e-12:
        return nu * gh
    return nu * (lam * gh + math.sqrt(max(0.0, 1.0 - lam * lam)) * e / ne)


def clip_cosine_bisect(u, g, lam, iters=200):
    """Reference implementation of the card: bisection on α >= 0 for cos(û + α ĝ, g) = lam."""
    u = np.asarray(u, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    nu, ng = np.linalg.norm(u), np.linalg.norm(g)
    uh, gh = u / nu, g / ng
    if float(cosine(u, g)) >= lam:
        return u.copy()
    f = lambda al: float(cosine(uh + al * gh, gh)) - lam  # noqa: E731  increasing in α
    lo, hi = 0.0, 1.0
    while f(hi) < 0:
        hi *= 2.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    v = uh + hi * gh
    return nu * v / np.linalg.norm(v)


def scalar_granularity(u, g):
    """Scalar groups: each coordinate's local cosine is its sign agreement s_i = ±1
    (0 where u_i g_i = 0). cos(u, g) = cos(|u|, |g|) * sum_i w_i s_i, w_i ∝ |u_i||g_i|.
    Returns (sign agreement fraction, cos(|u|,|g|), weighted mean sign, identity error)."""
    u = np.asarray(u, dtype=np.float64).ravel()
    g = np.asarray(g, dtype=np.float64).ravel()
    s = np.sign(u * g)
    nz = s != 0
    frac = float(np.mean(s[nz] > 0)) if nz.any() else 0.0
    w = np.abs(u) * np.abs(g)
    wmean = float(np.sum(w * s) / np.sum(w)) if w.sum() > 0 else 0.0
    cabs = float(cosine(np.abs(u), np.abs(g)))
    return frac, cabs, wmean, abs(float(cosine(u, g)) - cabs * wmean)
