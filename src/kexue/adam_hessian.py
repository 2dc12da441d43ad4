"""Monte Carlo and closed-form checks of article 10588 ("Hessian approximation" view of Adam).

C1  E[g g^T] = sigma^2 H^2 when g = H delta, delta ~ N(0, sigma^2 I)   (error ~ K^-1/2)
C5  linear regression at the generating theta*: E[g_i g_i^T] = s^2 E[x x^T] = s^2 H (Gauss-Newton)
C6  EMA of g^2: relative error shrinks with beta2; bias-corrected momentum around theta* shrinks to 0
C7  away from a stationary point the raw second moment carries g0 g0^T; the covariance does not
C8  Newton solves a quadratic in one step; "idealised Adam" (sqrt(v_hat) = sigma |h|) is damped Newton

Every random estimate is repeated `reps` times so the metrics carry a mean and a t-interval.
"""
from __future__ import annotations

import numpy as np

from kexue.adam_sim import check_hessian
from kexue.errors import KexueError
from kexue.montecarlo import mean_ci


def random_spd(n: int, rng, log10_lo: float = -1.0, log10_hi: float = 1.0) -> np.ndarray:
    """H = Q diag(10^U[lo, hi]) Q^T with Q Haar-random (QR of a Gaussian matrix, signs fixed)."""
    if n < 1 or log10_lo > log10_hi:
        raise KexueError(f"random_spd: need n >= 1 and log10_lo <= log10_hi, got {n}, {log10_lo}, {log10_hi}")
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    lam = 10.0 ** rng.uniform(log10_lo, log10_hi, n)
    H = (q * lam) @ q.T
    return 0.5 * (H + H.T)


def rel_fro(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def second_moment_error(H, sigma: float, Ks, reps: int, rng) -> dict:
    """C1: relative Frobenius error of (1/K) sum g g^T against sigma^2 H^2, per K, `reps` repeats."""
    H = check_hessian(H)
    if H.ndim != 2:
        raise KexueError("second_moment_error needs a dense H (C1 uses a rotated Hessian)")
    if sigma <= 0:
        raise KexueError(f"sigma = {sigma} must be > 0")
    target = sigma ** 2 * H @ H
    err = np.empty((reps, len(Ks)))
    for j, K in enumerate(Ks):
        for r in range(reps):
            g = sigma * rng.standard_normal((int(K), H.shape[0])) @ H
            err[r, j] = rel_fro(g.T @ g / K, target)
    return {"K": [int(k) for k in Ks], "err": mean_ci(err, axis=0), "err_all": err.tolist()}


def make_linreg(n: int, N: int, noise: float, log10_lo: float, log10_hi: float, rng) -> dict:
    """x ~ N(0, diag(h)), h log-uniform in [10^lo, 10^hi]; y = x^T theta* + noise * N(0, 1)."""
    if n < 3 or N < n:
        raise KexueError(f"make_linreg: need n >= 3 and N >= n, got n = {n}, N = {N}")
    h = 10.0 ** rng.uniform(log10_lo, log10_hi, n)
    theta = rng.standard_normal(n)
    X = rng.standard_normal((N, n)) * np.sqrt(h)
    y = X @ theta + noise * rng.standard_normal(N)
    return {"X": X, "y": y, "h": h, "theta_star": theta}


def gauss_newton_check(n: int, N: int, noise: float, log10_lo: float, log10_hi: float, rng) -> dict:
    """C5: per-example gradients at the *generating* theta* (not the OLS fit): their second
    moment's diagonal against s^2 h (vector relative 2-norm error) and the whole matrix against
    s^2 H (H = diag(h)) and against s^2 X^T X / N."""
    d = make_linreg(n, N, noise, log10_lo, log10_hi, rng)
    X, y, h = d["X"], d["y"], d["h"]
    G = X * (X @ d["theta_star"] - y)[:, None]  # row i: grad of 1/2 (x_i^T theta - y_i)^2
    M = G.T @ G / N
    diag = np.diag(M)
    return {"n": n, "N": N, "noise": noise, "h": h.tolist(), "diag": diag.tolist(),
            "diag_rel_err": float(np.linalg.norm(diag - noise ** 2 * h) / np.linalg.norm(noise ** 2 * h)),
            "per_coord_max_rel_err": float(np.max(np.abs(diag / (noise ** 2 * h) - 1))),
            "per_coord_sd_theory": float(np.sqrt(8 / N)),
            "matrix_rel_err_vs_s2H": rel_fro(M, noise ** 2 * np.diag(h)),
            "matrix_rel_err_vs_s2_empirical": rel_fro(M, noise ** 2 * X.T @ X / N)}


def ema_study(h, sigma: float, betas2, betas1, T: int, reps: int, rng) -> dict:
    """C6: g_t = h * delta_t, delta_t ~ N(0, sigma^2 I), i.i.d.; bias-corrected EMAs after T steps.

    v: relative error |sqrt(v_hat_T) - sigma |h|| / (sigma |h|) pooled over coordinates and repeats
       (theory for the rms: sqrt((1 - b2) / (2 (1 + b2))) for Gaussian g, via Var(g^2) = 2 E[g^2]^2).
    m: per repeat, the RMS over coordinates of m_hat_T,i / RMS_t(g_i) (each coordinate scaled by its own
       gradient RMS, so the large-h coordinates do not dominate; theory: sqrt((1 - b1) / (1 + b1))).
    """
    h = check_hessian(h)
    if h.ndim != 1:
        raise KexueError("ema_study takes the diagonal h of a diagonal Hessian")
    for b in list(betas2) + list(betas1):
        if not 0 <= b < 1:
            raise KexueError(f"beta = {b} must lie in [0, 1)")
    b2 = np.asarray(betas2, dtype=np.float64)[:, None, None]
    b1 = np.asarray(betas1, dtype=np.float64)[:, None, None]
    n = h.size
    v = np.zeros((len(betas2), reps, n))
    m = np.zeros((len(betas1), reps, n))
    gsq = np.zeros((reps, n))
    for _ in range(T):
        g = h * sigma * rng.standard_normal((reps, n))
        v = b2 * v + (1 - b2) * g * g
        m = b1 * m + (1 - b1) * g
        gsq += g * g
    vhat = v / (1 - b2 ** T)
    mhat = m / (1 - b1 ** T)
    rel = np.abs(np.sqrt(vhat) - sigma * np.abs(h)) / (sigma * np.abs(h))  # (n_b2, reps, n)
    ratio = np.sqrt(np.mean(mhat ** 2 / (gsq / T), axis=2))  # (n_b1, reps)
    bb2, bb1 = np.asarray(betas2), np.asarray(betas1)
    return {"T": T, "reps": reps, "n": n, "betas2": list(map(float, betas2)), "betas1": list(map(float, betas1)),
            "v_rel_err": mean_ci(rel.reshape(len(betas2), -1), axis=1),
            "v_rel_rms": np.sqrt(np.mean(rel ** 2, axis=(1, 2))).tolist(),
            "v_rel_rms_theory": np.sqrt((1 - bb2) / (2 * (1 + bb2))).tolist(),
            "v_rel_mean_theory": (np.sqrt(2 / np.pi) * np.sqrt((1 - bb2) / (2 * (1 + bb2)))).tolist(),
            "m_ratio": mean_ci(ratio, axis=1),
            "m_ratio_theory": np.sqrt((1 - bb1) / (1 + bb1)).tolist()}


def centred_study(H, sigma: float, offsets, K: int, reps: int, rng) -> dict:
    """C7: L = 1/2 theta^T H theta - b^T theta, expanded at theta_0 = theta* + c u (one fixed direction
    u ~ N(0, I); the repeats redraw delta), so g = g0 + H delta with g0 = c H u. Relative Frobenius errors against sigma^2 H^2 of
    the raw moment (1/K) sum g g^T and of the covariance (mean removed, as AdaBelief centres)."""
    H = check_hessian(H, require_pd=True)
    target = sigma ** 2 * H @ H
    n = H.shape[0]
    raw = np.empty((reps, len(offsets)))
    cov = np.empty_like(raw)
    ratio = np.empty_like(raw)
    u = rng.standard_normal(n)
    for r in range(reps):
        delta = sigma * rng.standard_normal((K, n))
        gd = delta @ H
        for j, c in enumerate(offsets):
            g0 = c * H @ u
            g = g0 + gd
            raw[r, j] = rel_fro(g.T @ g / K, target)
            gc = g - g.mean(axis=0)
            cov[r, j] = rel_fro(gc.T @ gc / (K - 1), target)
            ratio[r, j] = float(g0 @ g0 / np.linalg.norm(target))  # ||g0 g0^T||_F / ||sigma^2 H^2||_F
    return {"offsets": list(map(float, offsets)), "K": K, "reps": reps, "raw_err": mean_ci(raw, axis=0),
            "cov_err": mean_ci(cov, axis=0), "bias_ratio": mean_ci(ratio, axis=0)}


def newton_one_step(H, rng) -> dict:
    """C8a: theta_1 = theta_0 - H^{-1} g_0 on L = 1/2 theta^T H theta - b^T theta; residual |grad|."""
    H = check_hessian(H, require_pd=True)
    n = H.shape[0]
    b = rng.standard_normal(n)
    theta0 = rng.standard_normal(n)
    g0 = H @ theta0 - b
    theta1 = theta0 - np.linalg.solve(H, g0)
    return {"grad0": float(np.linalg.norm(g0)), "grad1": float(np.linalg.norm(H @ theta1 - b)),
            "cond": float(np.linalg.cond(H))}


def idealised_adam(h, sigma: float, steps: int, rng) -> dict:
    """C8b: diagonal quadratic; Adam without momentum and sqrt(v_hat) frozen at sigma |h_i|, lr
    0.5 sigma: step 0.5 g_i / |h_i| (damped Newton), against GD with lr 1 / max h (largest stable
    lr that does not oscillate on the stiffest coordinate). Returns loss / loss_0 per step."""
    h = check_hessian(h, require_pd=True)
    if h.ndim != 1:
        raise KexueError("idealised_adam takes the diagonal h")
    eta = 0.5 * sigma
    d_adam = rng.standard_normal(h.size)
    d_gd = d_adam.copy()
    L0 = 0.5 * np.sum(h * d_adam ** 2)
    la, lg = [1.0], [1.0]
    for _ in range(steps):
        d_adam = d_adam - eta * (h * d_adam) / (sigma * np.abs(h))
        d_gd = d_gd - (h * d_gd) / np.max(h)
        la.append(0.5 * np.sum(h * d_adam ** 2) / L0)
        lg.append(0.5 * np.sum(h * d_gd ** 2) / L0)
    la, lg = np.array(la), np.array(lg)

    def first_below(x, tol=1e-6):
        k = np.nonzero(x <= tol)[0]
        return int(k[0]) if k.size else None

    return {"steps": steps, "h_decades": float(np.log10(h.max() / h.min())), "adam_ratio": la.tolist(),
            "gd_ratio": lg.tolist(), "adam_steps_to_1e-6": first_below(la), "gd_steps_to_1e-6": first_below(lg),
            "adam_final": float(la[-1]), "gd_final": float(lg[-1])}
