"""Initial loss of a language model whose output matrix is tied to its input embedding (kexue.fm/archives/9698).

With the residual branches zero at initialisation the network is the identity followed by the final RMSNorm,
so the logit of token k after input token i is (for the tied head)

    l_ik = RMSNorm(w_i) . w_k = sqrt(d) (w_i / |w_i|) . w_k,

with w ~ N(0, sigma^2 I_d) rows of the n x d embedding. The self logit is sqrt(d)|w_i| ~ d sigma, every other
logit is EXACTLY N(0, d sigma^2) (a unit vector dotted with an independent Gaussian row), so

    loss(j != i) ~ log(e^{d sigma} + (n-1) e^{d sigma^2/2})       (card's sharper C2; the article drops e^{..})
    loss(j == i) ~ log(1 + (n-1) e^{d sigma^2/2 - d sigma})        (C6)
    fixes (untied / orthogonal / swap): ~ log n + d sigma^2 / 2    (C5: the self logit is ~ 0 like the others)

This module holds those closed forms, the Monte Carlo of the four moment facts (C1) and a Monte Carlo of the
bigram model itself on an (n, d, sigma) grid. Gaussian draws are made in float32 (3x faster, 24-bit mantissa
is ample for a Monte Carlo sample) and every sum, product and logsumexp is float64.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from kexue.errors import KexueError

SIGMA_RULES = ("inv_sqrt_d", "gpt2", "log_n_over_d")   # sigma = 1/sqrt(d), 0.02, log(n)/d
HEADS = ("tied", "untied", "tied_orth", "tied_swap")


def _check(n: int, d: int, sigma: float) -> None:
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise KexueError(f"vocabulary size n = {n!r}: need an integer >= 2")
    if not (isinstance(d, (int, np.integer)) and d >= 2):
        raise KexueError(f"model width d = {d!r}: need an integer >= 2")
    if not (sigma > 0 and math.isfinite(sigma)):
        raise KexueError(f"init std sigma = {sigma!r}: need a finite sigma > 0")


def sigma_of(rule: str, n: int, d: int) -> float:
    """The three init stds the article discusses."""
    if rule == "inv_sqrt_d":
        return 1.0 / math.sqrt(d)
    if rule == "gpt2":
        return 0.02
    if rule == "log_n_over_d":
        return math.log(n) / d
    raise KexueError(f"sigma rule {rule!r}: choose one of {', '.join(SIGMA_RULES)}")


def _normal(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32).astype(np.float64)


# ------------------------------------------------------------------ closed forms (nats)
def pred_tied_article(n: int, d: int, sigma: float) -> float:
    """The article's log(e^{d sigma} + n - 1) for targets j != i (computed without overflow)."""
    _check(n, d, sigma)
    return float(np.logaddexp(d * sigma, math.log(n - 1)))


def pred_tied_sharp(n: int, d: int, sigma: float) -> float:
    """log(e^{d sigma} + (n-1) e^{d sigma^2/2}): the off-diagonal logits are N(0, d sigma^2), E e^l = e^{d s^2/2}."""
    _check(n, d, sigma)
    return float(np.logaddexp(d * sigma, math.log(n - 1) + d * sigma**2 / 2))


def pred_tied_self(n: int, d: int, sigma: float) -> float:
    """Loss on targets equal to the input (C6): log(1 + (n-1) e^{d sigma^2/2 - d sigma})."""
    _check(n, d, sigma)
    return float(np.logaddexp(0.0, math.log(n - 1) + d * sigma**2 / 2 - d * sigma))


def pred_fixed(n: int, d: int, sigma: float) -> float:
    """Untied / orthogonal / swap: all n logits ~ N(0, d sigma^2), so E-loss ~ log n + d sigma^2 / 2."""
    _check(n, d, sigma)
    return math.log(n) + d * sigma**2 / 2


def pred_small(n: int) -> float:
    """C4: with sigma = log(n)/d the article's formula gives log(n + n - 1) = log(2n - 1)."""
    return math.log(2 * n - 1)


def predictions(n: int, d: int, sigma: float) -> dict:
    return {"article": pred_tied_article(n, d, sigma), "sharp": pred_tied_sharp(n, d, sigma),
            "self": pred_tied_self(n, d, sigma), "fixed": pred_fixed(n, d, sigma), "log_n": math.log(n),
            "d_sigma": d * sigma, "half_d_sigma2": d * sigma**2 / 2}


# ------------------------------------------------------------------ C1: moments of Gaussian vectors
def moment_mc(d: int, sigma: float, samples: int, rng: np.random.Generator, chunk: int = 4096) -> dict:
    """Monte Carlo of E|w|^2, Var|w|^2, E[w.v], E[(w.v)^2] with standard errors (w, v iid N(0, sigma^2 I_d)).

    The standard error of the sample variance is sqrt((m4 - m2^2)/N) with central moments m2, m4 of |w|^2."""
    _check(2, d, sigma)
    if samples < 100:
        raise KexueError(f"samples = {samples}: need at least 100 draws for the C1 Monte Carlo")
    sq, dot = np.empty(samples), np.empty(samples)
    for a in range(0, samples, chunk):
        b = min(samples, a + chunk)
        w = _normal(rng, (b - a, d)) * sigma
        v = _normal(rng, (b - a, d)) * sigma
        sq[a:b] = np.einsum("ij,ij->i", w, w)
        dot[a:b] = np.einsum("ij,ij->i", w, v)
    N = samples
    c = sq - sq.mean()
    m2, m4 = (c**2).mean(), (c**4).mean()
    est = {"E_sq": (sq.mean(), sq.std(ddof=1) / math.sqrt(N)),
           "Var_sq": (sq.var(ddof=1), math.sqrt(max(m4 - m2**2, 0.0) / N)),
           "E_dot": (dot.mean(), dot.std(ddof=1) / math.sqrt(N)),
           "E_dot2": ((dot**2).mean(), (dot**2).std(ddof=1) / math.sqrt(N))}
    truth = {"E_sq": d * sigma**2, "Var_sq": 2 * d * sigma**4, "E_dot": 0.0, "E_dot2": d * sigma**4}
    out = {"d": d, "sigma": sigma, "samples": N, "quantities": {}}
    for k, (m, se) in est.items():
        out["quantities"][k] = {"mc": float(m), "se": float(se), "formula": truth[k],
                                "z": float((m - truth[k]) / se)}
    out["max_abs_z"] = max(abs(q["z"]) for q in out["quantities"].values())
    return out


# ------------------------------------------------------------------ C2-C6: the bigram model at step 0
def random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random orthogonal matrix (QR of a Gaussian with the sign fix); never the identity."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def bigram_losses(n: int, d: int, sigmas: list[float], rows: int, rng: np.random.Generator) -> dict:
    """Simulate the zero-residual model: one embedding draw W = sigma Z (n x d) per (n, d), reused for every sigma.

    RMSNorm is scale-invariant, so the normalised state h_i = sqrt(d) z_i/|z_i| does not depend on sigma and
    every logit is sigma * (h_i . z_k): one matrix product serves all sigmas. For `rows` input tokens i we
    return per head the loss averaged over all targets j != i (uniform over j, i.e. the expectation over the
    target for a fixed W) and the loss at j = i. Heads: tied (h . W), untied (h . U with U independent),
    tied_orth ((h P) . W, P random orthogonal), tied_swap (halves of h swapped, then . W)."""
    _check(n, d, min(sigmas))
    if d % 2:
        raise KexueError(f"d = {d}: the half swap needs an even width")
    m = min(rows, n)
    if m < 2:
        raise KexueError(f"rows = {rows}: need at least 2 input tokens per cell")
    Z = _normal(rng, (n, d))
    U = _normal(rng, (n, d))
    P = random_orthogonal(d, rng)
    h = math.sqrt(d) * Z[:m] / np.linalg.norm(Z[:m], axis=1, keepdims=True)
    half = d // 2
    base = {"tied": h @ Z.T, "untied": h @ U.T, "tied_orth": (h @ P) @ Z.T,
            "tied_swap": np.concatenate([h[:, half:], h[:, :half]], axis=1) @ Z.T}
    idx = np.arange(m)
    out = {}
    for head, G in base.items():
        g_self = G[idx, idx]
        g_sum_other = G.sum(axis=1) - g_self
        per = []
        for s in sigmas:
            lse = logsumexp(s * G, axis=1)
            per.append({"other": lse - s * g_sum_other / (n - 1), "self": lse - s * g_self})
        out[head] = per
    return out


def grid_study(ns: list[int], ds: list[int], rules: list[str], rows: int, seed: int) -> list[dict]:
    """One row per (n, d, sigma rule, head): MC mean +- CI over the `rows` input tokens next to the closed forms."""
    from kexue.montecarlo import mean_ci

    out = []
    for a, n in enumerate(ns):
        for b, d in enumerate(ds):
            sig = [sigma_of(r, n, d) for r in rules]
            res = bigram_losses(n, d, sig, rows, np.random.default_rng([seed, 9698, a, b]))
            for r, s, k in zip(rules, sig, range(len(rules))):
                pr = predictions(n, d, s)
                for head, per in res.items():
                    o, sf = mean_ci(per[k]["other"]), mean_ci(per[k]["self"])
                    out.append({"n": n, "d": d, "rule": r, "sigma": s, "head": head, "mc_other": o["mean"],
                                "mc_other_lo": o["lo"], "mc_other_hi": o["hi"], "mc_self": sf["mean"],
                                "mc_self_lo": sf["lo"], "mc_self_hi": sf["hi"], "rows": o["n"], **pr})
    return out
