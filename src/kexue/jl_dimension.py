"""How many dimensions n points need: the Johnson-Lindenstrauss side of kexue.fm/archives/9588.

Three pieces, all in float64:

- the article's arithmetic: the "8 ln n" rule for word vectors and the identity
  $d_n/d = \\log_{512} n$ when $d = \\lambda \\ln 512$ (C1);
- `jl_min_dim`: the smallest Gaussian random-projection dimension k that keeps every pairwise
  squared distance of a point set within a factor $1 \\pm \\epsilon$, for a fixed success rule
  (at least half of T fresh projections succeed), found by galloping + bisection (C2);
- `retrieval_min_dim`: the smallest projected key size d at which the dot product still picks the
  matching key among n random keys with a given accuracy (C3).

Both minimal dimensions are noisy functions of the random draws; every evaluation of "does k
work?" draws fresh matrices (reusing one draw makes k_min non-monotone, card pitfall).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from kexue.errors import KexueError

BASE = 512  # the training length the entropy-invariant factor is normalised to


# ------------------------------------------------------------------------------ C1 arithmetic
def log_base(n: float, base: float = BASE) -> float:
    """$\\log_{base} n$ = ln n / ln base (natural logs; never log2 by accident)."""
    if n <= 0 or base <= 1:
        raise KexueError(f"log_base(n={n}, base={base}): need n > 0 and base > 1")
    return math.log(n) / math.log(base)


def eight_log_rule(n: float) -> float:
    """The minimum-entropy estimate of the dimension n word vectors need: 8 ln n."""
    if n <= 1:
        raise KexueError(f"eight_log_rule(n={n}): need n > 1")
    return 8.0 * math.log(n)


def ideal_key_ratio(n: float, d: float, base: float = BASE) -> float:
    """$d_n/d$ with $d_n = \\lambda \\ln n$ and $\\lambda$ fixed by $d = \\lambda \\ln(base)$."""
    lam = d / math.log(base)
    return lam * math.log(n) / d


def dg_bound(n: int, eps: float) -> float:
    """Dasgupta-Gupta sufficient dimension $4 \\ln n / (\\epsilon^2/2 - \\epsilon^3/3)$ (an upper bound on k_min)."""
    if not 0 < eps < 1:
        raise KexueError(f"dg_bound: eps = {eps} must lie in (0, 1)")
    if n < 2:
        raise KexueError(f"dg_bound: n = {n} must be at least 2 (distances need pairs)")
    return 4.0 * math.log(n) / (eps ** 2 / 2 - eps ** 3 / 3)


# ------------------------------------------------------------------------------ C2 JL dimension
def max_distortion(points: np.ndarray | None, proj: np.ndarray, orig_sq: np.ndarray | None = None,
                   block: int = 1024) -> float:
    """max over pairs i < j of |‖P x_i − P x_j‖² / ‖x_i − x_j‖² − 1|.

    points: [n, D] rows, or None for the identity point set (x_i = e_i, D = n), whose projected
    points are simply the columns of P and whose squared distances are all 2 — the hardest
    (mutually orthogonal) configuration, and no n x n x n product is needed.
    orig_sq: precomputed [n, n] original squared distances (saves a Gram product per call).
    Rows are processed in blocks so n = 8192 needs a few hundred MB, not gigabytes.
    """
    y = proj.T if points is None else points @ proj.T  # [n, k] projected points
    n = y.shape[0]
    sy = np.einsum("ij,ij->i", y, y)
    if points is not None and orig_sq is None:
        sx = np.einsum("ij,ij->i", points, points)
    worst = 0.0
    for a in range(0, n - 1, block):
        b = min(n, a + block)
        dy = sy[a:b, None] + sy[None, :] - 2.0 * (y[a:b] @ y.T)
        if points is None:
            dx = 2.0
        elif orig_sq is not None:
            dx = orig_sq[a:b]
        else:
            dx = sx[a:b, None] + sx[None, :] - 2.0 * (points[a:b] @ points.T)
        with np.errstate(divide="ignore", invalid="ignore"):  # the diagonal (0/0) is masked out below
            r = np.abs(dy / dx - 1.0)
        upper = np.arange(n)[None, :] > np.arange(a, b)[:, None]  # pairs i < j only (no diagonal 0/0)
        worst = max(worst, float(r[upper].max()))
    return worst


def _smallest_passing(ok: Callable[[int], bool], start: int, k_max: int) -> int | None:
    """Smallest k in [1, k_max] with ok(k), assuming ok is (statistically) monotone.

    Gallop from `start` (down by halving while it passes, up by doubling while it fails) to a
    bracket lo (fails) < hi (passes), then bisect. Returns None if k_max itself fails.
    """
    start = min(max(1, start), k_max)
    if ok(start):
        hi, lo = start, start // 2
        while lo >= 1 and ok(lo):
            hi, lo = lo, lo // 2
    else:
        lo, hi = start, min(2 * start, k_max)
        while not ok(hi):
            if hi == k_max:
                return None
            lo, hi = hi, min(2 * hi, k_max)
    while hi - lo > 1:  # invariant: lo fails (or is 0), hi passes
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def jl_min_dim(points: np.ndarray | None, n: int, eps: float, trials: int, rng: np.random.Generator,
               start: int = 16, k_max: int = 100_000) -> dict:
    """Smallest k such that at least half of `trials` fresh projections R ~ N(0, 1/k)^{k x D}
    keep every pairwise squared distance within (1 ± eps).

    points: [n, D] or None (identity points, D = n). Returns k_min and how many k were tried.
    """
    if not 0 < eps < 1:
        raise KexueError(f"jl_min_dim: eps = {eps} must lie in (0, 1)")
    if trials < 1:
        raise KexueError(f"jl_min_dim: trials = {trials} must be at least 1")
    if points is not None and points.shape[0] != n:
        raise KexueError(f"jl_min_dim: points has {points.shape[0]} rows but n = {n}")
    dim = n if points is None else points.shape[1]
    orig_sq = None
    if points is not None:  # original distances once per point set, not once per evaluation
        sx = np.einsum("ij,ij->i", points, points)
        orig_sq = sx[:, None] + sx[None, :] - 2.0 * (points @ points.T)
    tried = []

    def ok(k: int) -> bool:
        wins = sum(max_distortion(points, rng.standard_normal((k, dim)) / math.sqrt(k), orig_sq) <= eps
                   for _ in range(trials))
        tried.append((k, wins))
        return 2 * wins >= trials  # success rate >= 50 %

    k = _smallest_passing(ok, start, k_max)
    if k is None:
        raise KexueError(f"jl_min_dim: no k <= k_max = {k_max} reaches the success rule for n = {n}, eps = {eps}")
    return {"k_min": int(k), "evaluations": len(tried), "tried": tried}


def gaussian_points(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """n i.i.d. N(0, I_dim) points (the second, easier family)."""
    if n < 2 or dim < 1:
        raise KexueError(f"gaussian_points: need n >= 2 and dim >= 1, got n = {n}, dim = {dim}")
    return rng.standard_normal((n, dim))


# ------------------------------------------------------------------------------ C3 retrieval
def retrieval_accuracy(n: int, d: int, dim: int, noise: float, trials: int, rng: np.random.Generator) -> int:
    """Number of trials (out of `trials`) in which the projected dot product ranks the matching key first.

    Setup (card C3): n keys uniform on the unit sphere of R^dim, query = key_0 + N(0, (noise/sqrt dim)^2 I),
    a fresh projection R ~ N(0, 1/d)^{d x dim} per trial, score_i = <R q, R k_i>.

    Exact reduction (why it is cheap): score_i = q^T R^T R k_i, and R^T R = V diag(lam) V^T has rank d.
    A key is g/|g| with g ~ N(0, I); by rotation invariance V^T g ~ N(0, I_d) independently of the
    rest of g, whose squared norm is chi^2 with dim - d degrees of freedom. So each trial needs the d
    eigenvalues of R R^T, n x d normals and n chi-squares instead of n x dim normals — the same
    distribution as the brute force (`retrieval_accuracy_bruteforce`, compared in the tests).
    """
    _check_retrieval(n, d, dim, noise, trials)
    r = rng.standard_normal((trials, d, dim)) / math.sqrt(d)
    lam = np.linalg.eigvalsh(r @ r.transpose(0, 2, 1))  # [trials, d]
    z = rng.standard_normal((trials, n, d))
    sq = np.einsum("tnd,tnd->tn", z, z)
    if dim > d:  # the part of each key outside the d-dimensional row space of R
        sq = sq + rng.chisquare(dim - d, (trials, n))
    norm = np.sqrt(sq)
    keys = z / norm[..., None]  # coordinates of the keys in the eigenbasis
    q = keys[:, 0] + (noise / math.sqrt(dim)) * rng.standard_normal((trials, d))
    scores = np.einsum("td,tnd->tn", q * lam, keys)
    return int((scores.argmax(axis=1) == 0).sum())


def retrieval_accuracy_bruteforce(n: int, d: int, dim: int, noise: float, trials: int,
                                  rng: np.random.Generator) -> int:
    """The same experiment done literally in R^dim (for testing the reduction)."""
    _check_retrieval(n, d, dim, noise, trials)
    wins = 0
    for _ in range(trials):
        g = rng.standard_normal((n, dim))
        keys = g / np.linalg.norm(g, axis=1, keepdims=True)
        q = keys[0] + (noise / math.sqrt(dim)) * rng.standard_normal(dim)
        r = rng.standard_normal((d, dim)) / math.sqrt(d)
        wins += int(np.argmax((keys @ r.T) @ (r @ q)) == 0)
    return wins


def _check_retrieval(n, d, dim, noise, trials):
    if n < 2:
        raise KexueError(f"retrieval: n = {n} keys; need at least 2 (one match and a distractor)")
    if not 1 <= d <= dim:
        raise KexueError(f"retrieval: key size d = {d} must lie in [1, dim = {dim}] (a projection, not a lift)")
    if noise < 0 or trials < 1:
        raise KexueError(f"retrieval: need noise >= 0 and trials >= 1, got noise = {noise}, trials = {trials}")


def retrieval_min_dim(n: int, dim: int, noise: float, trials: int, target: float, rng: np.random.Generator,
                      start: int = 8) -> dict:
    """Smallest d whose retrieval accuracy (fresh draws per d) reaches `target`; doubling then bisection."""
    if not 0 < target < 1:
        raise KexueError(f"retrieval_min_dim: target accuracy = {target} must lie in (0, 1)")
    acc = {}

    def ok(d: int) -> bool:
        acc[d] = retrieval_accuracy(n, d, dim, noise, trials, rng)
        return acc[d] >= target * trials

    d = _smallest_passing(ok, start, dim)
    if d is None:
        raise KexueError(f"retrieval_min_dim: even d = dim = {dim} stays below accuracy {target} for n = {n}; "
                         f"lower the noise or the target")
    return {"d_min": int(d), "wins_at_d_min": acc[d], "trials": trials,
            "tried": sorted((int(k), int(v)) for k, v in acc.items())}
