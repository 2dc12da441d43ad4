"""Attention entropy and needle mass against the number of keys n (C4, C5 of kexue.fm/archives/9588).

One query q and n keys, all on the sphere of radius sqrt(d); logits s_i = lambda(n) q.k_i with

    O: lambda = beta0 / sqrt(d)                  (standard scaled dot product)
    E: lambda = beta0 * log_base(n) / sqrt(d)    (entropy-invariant attention, base = 512)

beta0 is a base inverse temperature (the card sweeps it: at beta0 = 1 attention is close to uniform
and every variant's entropy grows like ln n, which would make C4 look like a null result).

Why it is cheap and exact: for q fixed and k uniform on the sphere, q.k = d t where the cosine t
satisfies (1 + t)/2 ~ Beta((d-1)/2, (d-1)/2). So a replicate needs n Beta draws, not n x d normals.
The same draws serve O and E and every beta0 (common random numbers), so the E - O differences
are not blurred by independent noise. The needle key (cosine c with q) replaces key 0.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError
from kexue.fits import linear_fit
from kexue.montecarlo import bootstrap_ci, mean_ci

VARIANTS = ("O", "E")


def sphere_cosines(n: int, d: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """[reps, n] cosines between a fixed direction and n uniform random directions in R^d."""
    if d < 2:
        raise KexueError(f"sphere_cosines: d = {d}; need d >= 2 (the cosine of a 1-D direction is ±1)")
    if n < 1 or reps < 1:
        raise KexueError(f"sphere_cosines: need n >= 1 and reps >= 1, got n = {n}, reps = {reps}")
    a = (d - 1) / 2
    return 2.0 * rng.beta(a, a, size=(reps, n)) - 1.0


def length_factor(n: int, variant: str, base: int) -> float:
    """1 for O, log_base n for E (n = number of keys actually attended to)."""
    if variant == "O":
        return 1.0
    if variant == "E":
        return math.log(n) / math.log(base)
    raise KexueError(f"length_factor: variant {variant!r}; choose 'O' (1/sqrt d) or 'E' (log_base n / sqrt d)")


def entropy_of_logits(s: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of softmax(s) along the last axis, computed stably."""
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - m)
    z = e.sum(axis=-1, keepdims=True)
    p = e / z
    return (np.log(z[..., 0]) + m[..., 0]) - (p * s).sum(axis=-1)


def needle_mass(s_needle: np.ndarray, s_rest: np.ndarray) -> np.ndarray:
    """softmax weight of the needle logit against the other keys' logits (last axis)."""
    m = np.maximum(s_needle, s_rest.max(axis=-1))
    return np.exp(s_needle - m) / (np.exp(s_needle - m) + np.exp(s_rest - m[..., None]).sum(axis=-1))


def sweep(ns, ds, betas, cosines, reps: int, base: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Entropy H_{d}_{beta}_{O|E} and needle mass M_{d}_{beta}_{c}_{O|E}, each [reps, len(ns)]."""
    if any(not -1 < c < 1 for c in cosines):
        raise KexueError(f"sweep: needle cosines {list(cosines)} must lie in (-1, 1)")
    if min(ns) < 2:
        raise KexueError(f"sweep: every n must be >= 2 (one needle and at least one other key), got {min(ns)}")
    out: dict[str, np.ndarray] = {}
    for d in ds:
        for j, n in enumerate(ns):
            t = sphere_cosines(n, d, reps, rng)
            for b in betas:
                for v in VARIANTS:
                    lam_d = b * math.sqrt(d) * length_factor(n, v, base)  # lambda * |q| |k| = lambda * d
                    out.setdefault(f"H_{d}_{b:g}_{v}", np.empty((reps, len(ns))))[:, j] = entropy_of_logits(lam_d * t)
                    for c in cosines:
                        key = f"M_{d}_{b:g}_{c:g}_{v}"
                        out.setdefault(key, np.empty((reps, len(ns))))[:, j] = needle_mass(
                            np.full(reps, lam_d * c), lam_d * t[:, 1:])
    return out


def _slopes(a: np.ndarray, axis: int, x: np.ndarray) -> np.ndarray:
    """OLS slope over x of the replicate means; a[..., reps, len(x), 2] -> [..., 2]."""
    m = a.mean(axis=axis)
    xc = x - x.mean()
    return np.einsum("i,...ij->...j", xc, m) / (xc @ xc)


def summarize(arr: dict, ns, ds, betas, cosines, base: int, fit_lo: int, fit_hi: int, seed: int,
              n_boot: int = 2000) -> dict:
    """Metrics for the checks: per (d, beta0) entropy slopes over ln n on [fit_lo, fit_hi] with
    bootstrap intervals (replicates resampled), entropies at n = base, needle-mass ratios at the
    smallest and largest n."""
    ns = np.asarray(ns)
    sel = (ns >= fit_lo) & (ns <= fit_hi)
    if sel.sum() < 3:
        raise KexueError(f"entropy fit range [{fit_lo}, {fit_hi}] holds {sel.sum()} of the n values; need 3")
    x = np.log(ns[sel].astype(np.float64))
    i_base = int(np.flatnonzero(ns == base)[0]) if base in ns else None
    out = {"ns": ns.tolist(), "fit_range": [int(ns[sel].min()), int(ns[sel].max())], "base": base,
           "slopes": {}, "at_base": {}, "needle": {}}
    for d in ds:
        for b in betas:
            key = f"d{d}_b{b:g}"
            hO, hE = arr[f"H_{d}_{b:g}_O"], arr[f"H_{d}_{b:g}_E"]
            pair = np.stack([hO[:, sel], hE[:, sel]], axis=-1)  # [reps, points, 2]
            sl = _slopes(pair, 0, x)
            ratio = bootstrap_ci(pair, lambda a, axis: (lambda s: s[..., 1] / s[..., 0])(_slopes(a, axis, x)),
                                 n_boot=n_boot, seed=seed)
            sO = bootstrap_ci(pair, lambda a, axis: _slopes(a, axis, x)[..., 0], n_boot=n_boot, seed=seed + 1)
            sE = bootstrap_ci(pair, lambda a, axis: _slopes(a, axis, x)[..., 1], n_boot=n_boot, seed=seed + 2)
            fitO = linear_fit(x, hO[:, sel].mean(0))
            fitE = linear_fit(x, hE[:, sel].mean(0))
            out["slopes"][key] = {"O": sO, "E": sE, "ratio_E_over_O": ratio, "fit_O": fitO, "fit_E": fitE,
                                  "point_O": float(sl[0]), "point_E": float(sl[1])}
            if i_base is not None:
                out["at_base"][key] = {"O": mean_ci(hO[:, i_base]), "E": mean_ci(hE[:, i_base]),
                                       "max_abs_diff": float(np.max(np.abs(hE[:, i_base] - hO[:, i_base])))}
            for c in cosines:
                mO, mE = arr[f"M_{d}_{b:g}_{c:g}_O"], arr[f"M_{d}_{b:g}_{c:g}_E"]
                rec = {}
                for tag, j, num, den in (("E_over_O_at_max_n", -1, mE, mO), ("O_over_E_at_min_n", 0, mO, mE)):
                    pr = np.stack([num[:, j], den[:, j]], axis=-1)
                    rec[tag] = {**bootstrap_ci(pr, lambda a, axis: a.mean(axis=axis)[..., 0] / a.mean(axis=axis)[..., 1],
                                               n_boot=n_boot, seed=seed + 3), "at_n": int(ns[j])}
                out["needle"][f"{key}_c{c:g}"] = rec
    return out
