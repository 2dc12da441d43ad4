"""Exact and Monte Carlo checks of the algebra of article 9152 ("DDPM = autoregressive VAE"), no training.

Conventions (kexue.diffusion.schedules): alpha_t, beta_t are per-step STDS with alpha_t^2 + beta_t^2 = 1,
abar_t = prod_{i<=t} alpha_i, bbar_t = sqrt(1 - abar_t^2); the DDPM paper's variance beta_t is beta_t^2 here.
The article calls the fixed encoder p and the learned decoder q (the reverse of the DDPM paper).

    tab = tables(T=1000, var_end=0.02)                 # alpha_t = sqrt(1 - 0.02 t/T), numpy float64
    simulate_chain(tab, x0=0.7, n=100_000, times=[1, 10, 100, 500, 1000], rng=rng)   # C1
    terminal_kl(tab)                                                                  # C2
    vae_term_identity(tab, n=1000, d=64, rng=rng)                                     # C3a
    optimal_sigma_exact(tab); optimal_sigma_numeric(tab, t, "dirac" | "normal", n, rng)   # C4
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from kexue.errors import KexueError


def tables(T: int = 1000, var_end: float = 0.02) -> dict[str, np.ndarray]:
    """The article's schedule beta_t^2 = var_end t / T in float64 numpy (var_end = 0.02: alpha_t = sqrt(1 - 0.02 t/T)):
    alpha, beta, posterior std for t = 1..T (index t-1); abar, bbar for t = 0..T (index t).

    Plain numpy on purpose (the check stage starts without torch); tests/test_a9152_* assert it equals
    kexue.diffusion.schedules.kexue_linear(1000) to 1e-12, the schedule the models are trained with."""
    if not isinstance(T, int) or T < 1 or not 0 < var_end < 1:
        raise KexueError(f"tables: T = {T!r} must be a positive integer and var_end = {var_end} in (0, 1)")
    var = var_end * np.arange(1, T + 1, dtype=np.float64) / T
    L = np.concatenate([[0.0], np.cumsum(np.log1p(-var))])   # log abar_t^2, t = 0..T (no cancellation)
    abar, bbar = np.exp(0.5 * L), np.sqrt(-np.expm1(L))
    alpha, beta = np.sqrt(1 - var), np.sqrt(var)
    return {"T": T, "var_end": float(var_end), "alpha": alpha, "beta": beta, "abar": abar, "bbar": bbar,
            "posterior": bbar[:-1] * beta / bbar[1:], "log_snr": L[1:] - np.log(-np.expm1(L[1:]))}


# ----------------------------------------------------------------------------------------- C1
def simulate_chain(tab: dict, x0: float, n: int, times, rng: np.random.Generator) -> dict:
    """Run x_t = alpha_t x_{t-1} + beta_t eps_t for n scalar particles from x_0 = x0 and compare the
    empirical mean/std at `times` with abar_t x0 and bbar_t (composition of T Gaussian steps, C1)."""
    times = sorted(int(t) for t in times)
    if n < 2 or not times or times[0] < 1 or times[-1] > tab["T"]:
        raise KexueError(f"simulate_chain: n = {n} must be >= 2 and times {times} must lie in 1..{tab['T']}")
    x = np.full(n, float(x0))
    rows, want = [], set(times)
    block = max(1, min(tab["T"], 2_000_000 // n))  # noise drawn a block of steps at a time (fewer calls)
    for t in range(1, tab["T"] + 1):
        if (t - 1) % block == 0:
            # float32 noise halves the cost of the 1e8 normal draws; x itself accumulates in float64
            Z = rng.standard_normal((min(block, tab["T"] - t + 1), n), dtype=np.float32)
        x = tab["alpha"][t - 1] * x + tab["beta"][t - 1] * Z[(t - 1) % block]
        if t in want:
            m, sd = float(x.mean()), float(x.std(ddof=1))
            m_ref, sd_ref = float(tab["abar"][t] * x0), float(tab["bbar"][t])
            rows.append({"t": t, "mean": m, "mean_ref": m_ref, "mean_abs_err": abs(m - m_ref),
                         "mean_se": sd / math.sqrt(n), "std": sd, "std_ref": sd_ref,
                         "std_rel_err": abs(sd / sd_ref - 1), "std_rel_se": 1 / math.sqrt(2 * (n - 1))})
    return {"x0": float(x0), "n": int(n), "rows": rows,
            "max_std_rel_err": max(r["std_rel_err"] for r in rows),
            "max_mean_abs_err": max(r["mean_abs_err"] for r in rows)}


# ----------------------------------------------------------------------------------------- C2
def kl_to_prior(a: float, x0) -> np.ndarray:
    """KL(N(a x0, 1 - a^2) || N(0, 1)) per dimension, cancellation-free: (a^2 x0^2 - a^2 - log(1 - a^2)) / 2."""
    a2 = a * a
    x0 = np.asarray(x0, dtype=np.float64)
    return 0.5 * (a2 * x0 * x0 - a2 - math.log1p(-a2))


def terminal_kl(tab: dict, n_grid: int = 2001) -> dict:
    """abar_T and max over |x0| <= 1 of KL(p(x_T|x0) || N(0, 1)) (C2), with a 50-digit mpmath cross-check."""
    import mpmath

    aT = float(tab["abar"][-1])
    x0 = np.linspace(-1, 1, n_grid)
    kl = kl_to_prior(aT, x0)
    mpmath.mp.dps = 50
    v_end = mpmath.mpf(repr(tab["var_end"]))  # the decimal as written (0.02), not its binary rounding
    a_mp = mpmath.sqrt(mpmath.fprod([1 - v_end * t / tab["T"] for t in range(1, tab["T"] + 1)]))
    kl_mp = -mpmath.log(1 - a_mp ** 2) / 2  # at x0 = +-1, the maximum: a^2 x0^2 - a^2 = 0
    return {"T": tab["T"], "abar_T": aT, "abar_T_sq": aT * aT, "abar_T_mpmath": float(a_mp),
            "kl_max": float(kl.max()), "kl_max_mpmath": float(kl_mp), "kl_at_0": float(kl[n_grid // 2]),
            "argmax_abs_x0": float(abs(x0[int(kl.argmax())]))}


# ----------------------------------------------------------------------------------------- C3a
def vae_term_identity(tab: dict, n: int, d: int, rng: np.random.Generator) -> dict:
    """Per sample, the decoder term ||x_{t-1} - mu(x_t)||^2 / sigma_t^2 with mu = (x_t - beta_t eps_theta)/alpha_t
    equals (beta_t^2 / (alpha_t^2 sigma_t^2)) ||eps_t - eps_theta||^2 exactly (the 1/2 of the Gaussian
    log-density is dropped on both sides). Random x0, noises, network outputs eps_theta, sigma_t and t."""
    t = rng.integers(1, tab["T"] + 1, n)
    al, be = tab["alpha"][t - 1][:, None], tab["beta"][t - 1][:, None]
    ab1, bb1 = tab["abar"][t - 1][:, None], tab["bbar"][t - 1][:, None]
    x0 = rng.uniform(-1, 1, (n, d))
    ebar, et, eps_theta = (rng.standard_normal((n, d)) for _ in range(3))
    sigma = np.exp(rng.uniform(np.log(1e-3), 0, (n, 1)))
    x_prev = ab1 * x0 + bb1 * ebar
    x_t = al * x_prev + be * et
    mu = (x_t - be * eps_theta) / al
    vae = ((x_prev - mu) ** 2).sum(1) / sigma[:, 0] ** 2
    noise = (be[:, 0] ** 2 / (al[:, 0] ** 2 * sigma[:, 0] ** 2)) * ((et - eps_theta) ** 2).sum(1)
    rel = np.abs(vae - noise) / np.abs(noise)
    # the same x_t written with the card's merged coefficients: abar_t x0 + alpha_t bbar_{t-1} ebar + beta_t eps_t
    x_t2 = tab["abar"][t][:, None] * x0 + al * bb1 * ebar + be * et
    return {"n": int(n), "d": int(d), "max_rel_diff": float(rel.max()), "median_rel_diff": float(np.median(rel)),
            "max_abs_xt_diff": float(np.abs(x_t - x_t2).max())}


# ----------------------------------------------------------------------------------------- C4
def conditional_var(tab: dict, t: np.ndarray, data_var: float) -> np.ndarray:
    """Var(x_{t-1} | x_t) per dimension by Gaussian conditioning (Schur complement) of the joint of
    (x_{t-1}, x_t) when x_0 ~ N(m, data_var) (data_var = 0: a single training point, the Dirac)."""
    t = np.asarray(t, dtype=np.int64)
    c11 = tab["abar"][t - 1] ** 2 * data_var + tab["bbar"][t - 1] ** 2   # Var x_{t-1}
    c12 = tab["alpha"][t - 1] * c11                                        # Cov(x_{t-1}, x_t)
    c22 = tab["alpha"][t - 1] ** 2 * c11 + tab["beta"][t - 1] ** 2         # Var x_t
    return np.maximum(c11 - c12 * c12 / c22, 0.0)


def optimal_sigma_exact(tab: dict) -> dict:
    """C4 exactly at every t: conditioning vs the formulas bbar_{t-1} beta_t / bbar_t (Dirac) and beta_t (N(0, 1))."""
    t = np.arange(1, tab["T"] + 1)
    post, beta = tab["posterior"], tab["beta"]
    sd_dirac, sd_normal = np.sqrt(conditional_var(tab, t, 0.0)), np.sqrt(conditional_var(tab, t, 1.0))
    ratio = post / beta
    at = {str(k): float(ratio[k - 1]) + 0.0 for k in (1, 2, 10, 100, tab["T"]) if k <= tab["T"]}
    return {"max_abs_diff_dirac": float(np.abs(sd_dirac - post).max()),
            "max_abs_diff_normal": float(np.abs(sd_normal - beta).max()),
            "sigma1_posterior": float(post[0]) + 0.0, "ratio_posterior_to_beta": at,
            "curves": {"t": t, "posterior": post, "beta": beta}}


def optimal_sigma_numeric(tab: dict, t: int, data: str, n: int, rng: np.random.Generator,
                          x0_point: float = 0.7) -> dict:
    """Maximise the Monte Carlo expected log-likelihood E log N(x_{t-1}; mu*(x_t), sigma^2) over sigma (1-D),
    mu* = the exact posterior mean; return the optimum and the closed-form sigma for that data."""
    if data not in ("dirac", "normal"):
        raise KexueError(f"data = {data!r}: choose 'dirac' (one training point) or 'normal' (N(0, 1) data)")
    if not 2 <= t <= tab["T"]:
        raise KexueError(f"t = {t}: the numeric optimum needs 2 <= t <= T = {tab['T']} (at t = 1 the Dirac optimum is 0)")
    al, be, ab1, bb1, bbt = tab["alpha"][t - 1], tab["beta"][t - 1], tab["abar"][t - 1], tab["bbar"][t - 1], tab["bbar"][t]
    x0 = np.full(n, x0_point) if data == "dirac" else rng.standard_normal(n)
    x_prev = ab1 * x0 + bb1 * rng.standard_normal(n)
    x_t = al * x_prev + be * rng.standard_normal(n)
    if data == "dirac":
        mu = ab1 * x0 + (al * bb1 ** 2 / bbt ** 2) * (x_t - tab["abar"][t] * x0)
        ref = bb1 * be / bbt
    else:
        mu = al * x_t
        ref = be
    mse = float(np.mean((x_prev - mu) ** 2))

    def neg_ll(log_sigma):
        return log_sigma + 0.5 * math.log(2 * math.pi) + mse / (2 * math.exp(2 * log_sigma))

    res = minimize_scalar(neg_ll, bounds=(math.log(ref) - 3, math.log(ref) + 3), method="bounded",
                          options={"xatol": 1e-10})
    opt = math.exp(res.x)
    return {"t": int(t), "data": data, "n": int(n), "sigma_numeric": opt, "sigma_formula": float(ref),
            "rel_err": float(abs(opt / ref - 1)), "sigma_rel_se": math.sqrt(1 / (2 * n))}
