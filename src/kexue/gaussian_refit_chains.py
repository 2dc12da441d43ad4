"""Self-consuming Gaussian chains: a Gaussian refitted, generation after generation, to n samples of its predecessor.

    out = run_chains(mu0, Sigma0, n=100, lam=0.9, generations=200, chains=20000, rng=rng)
    out["trace_mean"][t], out["mu_cov"][t], out["logvar_median"][t], ...   # summaries over chains per generation

Generation 0 is the truth N(mu0, Sigma0) (never truncated). Generation t >= 1 is fitted to n samples of generation
t-1's model: mu_t = sample mean, Sigma_t = unbiased (1/(n-1)) sample covariance, and the model is N(mu_t, lam Sigma_t)
(lam < 1 = truncation / sampling bias). The chains are simulated in closed form, not by drawing the n points: for
Gaussian data the sample mean and the scatter matrix are independent, mean ~ N(mu_{t-1}, C_{t-1}/n) and
scatter ~ Wishart(n-1, C_{t-1}); the Wishart draw uses the Bartlett decomposition (chi-square diagonal, normal
strict lower triangle), so a generation costs O(chains d^3) whatever n is. `method="direct"` draws the n points
instead (used by the tests to check that the shortcut is the same process).

Exact facts the article's claims rest on (C1-C3 of card 9687):
- E[C_t] = lam^t Sigma0, where C_t = lam Sigma_t is the model covariance (unbiased estimator, independent steps);
- with lam = 1, Cov(mu_t - mu0) = (t/n) Sigma0 exactly, yet mu_t is a scale mixture of Gaussians (heavy tails);
- in 1-D with lam = 1, log sigma_t^2 is a random walk with drift -kappa_n per step,
  kappa_n = -E log(chi2_{n-1}/(n-1)) = log((n-1)/2) - digamma((n-1)/2) ~ 1/(n-1): the typical variance collapses
  although its mean stays sigma0^2 (the mean is carried by ever rarer chains).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma
from scipy.stats import kurtosis

from kexue.errors import KexueError

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def kappa(n: int) -> float:
    """-E log(chi2_{n-1} / (n-1)): the per-generation drift of log sigma^2 in a 1-D chain with n samples."""
    if int(n) != n or n < 2:
        raise KexueError(f"kappa: n = {n}; the unbiased variance needs n >= 2 samples per generation")
    h = (n - 1) / 2
    return float(math.log(h) - digamma(h))


def rotated_cov(variances, angle_deg: float) -> np.ndarray:
    """diag(variances) rotated by angle_deg in the (x1, x2) plane (d = 2), or diag(variances) for d = 1."""
    v = np.asarray(variances, dtype=np.float64).ravel()
    if v.size not in (1, 2) or np.any(v <= 0):
        raise KexueError(f"rotated_cov: variances {v.tolist()}; give one or two positive variances")
    if v.size == 1:
        return np.diag(v)
    a = math.radians(angle_deg)
    Q = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return Q @ np.diag(v) @ Q.T


def bartlett_factor(R: int, d: int, df: int, rng: np.random.Generator) -> np.ndarray:
    """R lower-triangular A with A A^T ~ Wishart(df, I_d): A_ii = sqrt(chi2(df - i)), A_ij ~ N(0, 1) below the
    diagonal (Bartlett 1933). L A A^T L^T ~ Wishart(df, L L^T)."""
    if df < d:
        raise KexueError(f"wishart_bartlett: df = {df} < d = {d}; the scatter of n points in R^d needs n - 1 >= d")
    A = np.zeros((R, d, d))
    idx = np.arange(d)
    A[:, idx, idx] = np.sqrt(rng.chisquare(df - idx, size=(R, d)))
    low = np.tril_indices(d, -1)
    A[:, low[0], low[1]] = rng.standard_normal((R, len(low[0])))
    return A


def wishart_bartlett(L: np.ndarray, df: int, rng: np.random.Generator) -> np.ndarray:
    """One Wishart(df, L_r L_r^T) draw per chain r, L of shape (R, d, d) lower-triangular."""
    B = L @ bartlett_factor(L.shape[0], L.shape[1], df, rng)
    return B @ np.swapaxes(B, 1, 2)


def _validate(mu0, Sigma0, n, lam, generations, chains):
    mu0 = np.atleast_1d(np.asarray(mu0, dtype=np.float64))
    d = mu0.size
    S0 = np.asarray(Sigma0, dtype=np.float64).reshape(d, d)
    if not np.allclose(S0, S0.T) or np.linalg.eigvalsh(S0).min() <= 0:
        raise KexueError(f"Sigma0 {S0.tolist()}: must be symmetric positive definite")
    if int(n) != n or n < d + 1:
        raise KexueError(f"n = {n}: each generation needs n >= d + 1 = {d + 1} samples for a full-rank covariance")
    if not 0 < lam <= 1:
        raise KexueError(f"lam = {lam}: the truncation factor must lie in (0, 1] (1 = no truncation)")
    if int(generations) != generations or generations < 1:
        raise KexueError(f"generations = {generations}: the loop needs at least one generation")
    if int(chains) != chains or chains < 2:
        raise KexueError(f"chains = {chains}: need at least 2 chains for statistics across chains")
    return mu0, S0, d


def _median_ci_sorted(s: np.ndarray) -> tuple[float, float]:
    """Distribution-free 95% interval of the median from order statistics (binomial(R, 1/2), normal approx.)."""
    R = len(s)
    h = 1.96 * math.sqrt(R) / 2
    lo, hi = max(0, int(math.floor(R / 2 - h))), min(R - 1, int(math.ceil(R / 2 + h)))
    return float(s[lo]), float(s[hi])


def run_chains(mu0, Sigma0, *, n: int, lam: float, generations: int, chains: int, rng: np.random.Generator,
               method: str = "bartlett", keep: tuple[int, ...] = (), kurtosis_at: tuple[int, ...] = ()) -> dict:
    """Simulate `chains` independent self-consuming chains for `generations` generations; return per-generation
    summaries (index t = 0..generations) across chains, as float64 numpy arrays. `keep`: generations at which the
    raw mu_t (chains, d) and model covariances (chains, d, d) are also returned (for tests and kurtosis)."""
    mu0, S0, d = _validate(mu0, Sigma0, n, lam, generations, chains)
    if method not in ("bartlett", "direct"):
        raise KexueError(f"run_chains method = {method!r}: choose 'bartlett' (closed form) or 'direct' (draw n points)")
    R, G = int(chains), int(generations)
    mu = np.broadcast_to(mu0, (R, d)).copy()
    tr0 = float(np.trace(S0))
    out = {k: np.zeros(G + 1) for k in ("trace_mean", "trace_se", "trace_median", "logdet_mean", "logdet_median",
                                         "sqdist_mean", "sqdist_median", "mu_cov_trace", "mu_cov_trace_se",
                                         "mu_excess_kurtosis_min", "logtrace_median_lo", "logtrace_median_hi")}
    out["trace_quantiles"] = np.zeros((G + 1, len(QUANTILES)))
    out["mu_cov"] = np.zeros((G + 1, d, d))
    kept = {}

    _, V = np.linalg.eigh(S0)
    L = np.broadcast_to(np.linalg.cholesky(S0), (R, d, d)).copy()   # Cholesky factor of the model covariance

    def record(t):
        tr = (L ** 2).sum(axis=(1, 2))                                 # tr(L L^T)
        s = np.sort(tr)
        out["trace_mean"][t], out["trace_se"][t] = tr.mean(), tr.std(ddof=1) / math.sqrt(R)
        out["trace_median"][t] = np.median(s)
        out["trace_quantiles"][t] = np.quantile(s, QUANTILES)
        lo, hi = _median_ci_sorted(s)
        out["logtrace_median_lo"][t], out["logtrace_median_hi"][t] = math.log(lo), math.log(hi)
        ld = 2 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(1)
        out["logdet_mean"][t], out["logdet_median"][t] = ld.mean(), np.median(ld)
        dev = mu - mu0
        sq = (dev ** 2).sum(1)
        out["sqdist_mean"][t], out["sqdist_median"][t] = sq.mean(), np.median(sq)
        # Cov(mu_t) about the known mean mu0 (E mu_t = mu0 exactly), so no degrees of freedom are lost
        out["mu_cov"][t] = dev.T @ dev / R
        out["mu_cov_trace"][t] = sq.mean()
        out["mu_cov_trace_se"][t] = sq.std(ddof=1) / math.sqrt(R)
        if t in kurtosis_at:  # along the truth's principal axes (coordinates of a scale mixture are heavy-tailed)
            out["mu_excess_kurtosis_min"][t] = float(np.min(kurtosis(dev @ V, axis=0, fisher=True)))
        if t in keep:
            kept[t] = {"mu": mu.copy(), "cov": L @ np.swapaxes(L, 1, 2)}

    record(0)
    scale = math.sqrt(lam / (int(n) - 1))
    for t in range(1, G + 1):
        if method == "bartlett":
            # L_t = sqrt(lam / (n-1)) L_{t-1} A: a product of lower-triangular factors with positive diagonals is the
            # Cholesky factor of the new covariance, so no factorisation (and no loss of definiteness) is needed
            mean = mu + np.einsum("rij,rj->ri", L, rng.standard_normal((R, d))) / math.sqrt(n)
            L = scale * (L @ bartlett_factor(R, d, int(n) - 1, rng))
        else:
            x = mu[:, None, :] + np.einsum("rij,rkj->rki", L, rng.standard_normal((R, int(n), d)))
            mean = x.mean(axis=1)
            xc = x - mean[:, None, :]
            L = np.linalg.cholesky(lam * np.einsum("rki,rkj->rij", xc, xc) / (int(n) - 1))
        mu = mean
        record(t)
    out["c1_ratio"] = out["trace_mean"] / (lam ** np.arange(G + 1) * tr0)
    out["c1_ratio_se"] = out["trace_se"] / (lam ** np.arange(G + 1) * tr0)
    t = np.arange(G + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["c2_ratio"] = np.where(t > 0, out["mu_cov_trace"] / (t / n * tr0), np.nan)
        out["c2_ratio_se"] = np.where(t > 0, out["mu_cov_trace_se"] / (t / n * tr0), np.nan)
    out["kept"] = kept
    out["meta"] = {"n": int(n), "lam": float(lam), "generations": G, "chains": R, "d": d, "trace0": tr0,
                   "method": method}
    return out


def chain_study(mu0, Sigma0, *, ns, lambdas, generations: int, chains: int, seed: int,
                kurtosis_at: tuple[int, ...] = (), var_1d: float = 1.0) -> dict:
    """Every (d, n, lambda) chain set of card 9687 part A: the d-dim truth at each n and lambda, and the 1-D truth
    N(0, var_1d) at each n with lambda = 1 (claim C3). Returns {name: run_chains output without `kept`}."""
    out = {}
    S0 = np.asarray(Sigma0, dtype=np.float64)
    for i, n in enumerate(ns):
        for j, lam in enumerate(lambdas):
            r = run_chains(mu0, S0, n=n, lam=lam, generations=generations, chains=chains,
                           rng=np.random.default_rng([seed, i, j]), kurtosis_at=kurtosis_at)
            r.pop("kept")
            out[f"d{len(np.atleast_1d(mu0))}_n{n}_l{lam:g}"] = r
        r = run_chains([0.0], [[var_1d]], n=n, lam=1.0, generations=generations, chains=chains,
                       rng=np.random.default_rng([seed, i, 1000]))
        r.pop("kept")
        out[f"d1_n{n}_l1"] = r
    return out


def chain_metrics(results: dict, c1_ts=(1, 5, 10, 20), c2_ts=(1, 5, 10, 25), c3_fit=(20, 200)) -> dict:
    """The numbers claims C1-C3 are checked on, per chain set (only the generations that were simulated)."""
    from kexue.fits import linear_fit

    out = {}
    for name, r in results.items():
        meta = r["meta"]
        G, n, lam = meta["generations"], meta["n"], meta["lam"]
        m = {**meta, "c1": {str(t): {"ratio": float(r["c1_ratio"][t]), "se": float(r["c1_ratio_se"][t])}
                            for t in c1_ts if t <= G}}
        if lam == 1:
            m["c2"] = {str(t): {"ratio": float(r["c2_ratio"][t]), "se": float(r["c2_ratio_se"][t])}
                       for t in c2_ts if t <= G}
            if r["mu_excess_kurtosis_min"][G] != 0:
                m["kurtosis_last"] = float(r["mu_excess_kurtosis_min"][G])
        if meta["d"] == 1 and lam == 1:
            m["kappa"] = kappa(n)
            m["median_var"] = {str(t): float(r["trace_median"][t]) for t in (10, 20, 50, 100, 200) if t <= G}
            m["mean_var"] = {str(t): {"mean": float(r["trace_mean"][t]), "se": float(r["trace_se"][t])}
                             for t in (1, 10, 20, 50, 200) if t <= G}
            lo, hi = c3_fit
            if G >= lo + 2:
                t = np.arange(lo, min(hi, G) + 1)
                m["c3_fit"] = linear_fit(t, np.log(r["trace_median"][t]))
        out[name] = m
    return out
