"""Article 9228 (probability-flow ODE): the card's data and the exact checks behind its claims.

Data (card "Reproduction design"), all under the VP SDE of Song et al. (beta from 0.1 to 20 on [0, 1]):
* G1: 1-D mixture, weights [0.3, 0.5, 0.2], means [-2, 0, 2.5], stds [0.3, 0.5, 0.2];
* G2: 2-D ring, 8 equal Gaussians on a circle of radius 2, std 0.25;
* G3: 1-D Gaussian N(0.5, 1.5^2), whose PF-ODE map is affine in closed form.
A mixture stays a mixture under the forward process (kexue.diffusion.exact), so p_t, its score and its
derivatives are closed form; here they are written out once more in numpy for the Fokker-Planck check (C1)
and cross-checked against the library through autograd and finite differences.

Also here: KS statistics against the exact CDF, the card's D (gap in mean true log-density), per-mode spreads,
the VP coefficient relations behind continuous DDIM (C6) and the frozen-eps DDIM step against quadrature.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import integrate, stats
from scipy.special import ndtr

from kexue.diffusion.exact import GaussianData, GaussianMixture
from kexue.diffusion.schedules import VPSDE, Schedule
from kexue.errors import KexueError
from kexue.montecarlo import mean_ci

F64 = torch.float64
G1_W, G1_MU, G1_SD = (0.3, 0.5, 0.2), (-2.0, 0.0, 2.5), (0.3, 0.5, 0.2)
G2_K, G2_R, G2_SD = 8, 2.0, 0.25
G3_M, G3_S = 0.5, 1.5


def vp_sde(beta_min: float = 0.1, beta_max: float = 20.0, t_min: float = 1e-3) -> VPSDE:
    return VPSDE(beta_min=beta_min, beta_max=beta_max, t_min=t_min)


def g1(schedule: Schedule) -> GaussianMixture:
    return GaussianMixture(G1_W, [[m] for m in G1_MU], [s * s for s in G1_SD], schedule)


def g2_centres() -> np.ndarray:
    ang = 2 * np.pi * np.arange(G2_K) / G2_K
    return G2_R * np.stack([np.cos(ang), np.sin(ang)], 1)


def g2(schedule: Schedule) -> GaussianMixture:
    return GaussianMixture([1 / G2_K] * G2_K, g2_centres(), G2_SD ** 2, schedule)


def g3(schedule: Schedule) -> GaussianData:
    return GaussianData([G3_M], G3_S ** 2, schedule)


def g3_to_data(x_t, t: float, schedule: Schedule):
    """The card's closed form of the G3 PF-ODE map to t = 0: x_0 = m + s / sqrt(Sigma_t) (x_t - abar_t m),
    Sigma_t = abar_t^2 s^2 + bbar_t^2."""
    a, b = float(schedule.abar(t)), float(schedule.bbar(t))
    return G3_M + G3_S / math.sqrt(a * a * G3_S ** 2 + b * b) * (np.asarray(x_t, np.float64) - a * G3_M)


def g3_map(x, t_from: float, t_to: float, schedule: Schedule):
    """The same map between any two times (each side affine in the other: x_t standardised is invariant)."""
    def ms(t):
        a, b = float(schedule.abar(t)), float(schedule.bbar(t))
        return a * G3_M, math.sqrt(a * a * G3_S ** 2 + b * b)
    m0, s0 = ms(t_from)
    m1, s1 = ms(t_to)
    return m1 + s1 / s0 * (np.asarray(x, np.float64) - m0)


# ------------------------------------------------------------------ C1: Fokker-Planck on G1
def _coef_np(schedule: Schedule, t):
    t = torch.as_tensor(np.asarray(t, np.float64))
    return (schedule.abar(t).numpy(), schedule.bbar(t).numpy(), schedule.f(t).numpy(), schedule.g2(t).numpy())


def mixture_1d_derivatives(x, t, schedule: Schedule, w=G1_W, mu=G1_MU, sd=G1_SD) -> dict:
    """Closed-form p_t(x), d/dt p, d/dx p, d2/dx2 p of a 1-D mixture under dx = f x dt + g dw (x, t broadcast).

    Component k is N(m, v) with m = abar mu, v = abar^2 s^2 + bbar^2; m' = f m and v' = 2 f v + g^2 (the schedule
    relation g^2 = d(bbar^2)/dt - 2 f bbar^2), so d/dt N = N [(x - m) m'/v + ((x - m)^2/v^2 - 1/v) v'/2]."""
    x, t = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(t, np.float64))
    a, b, f, g2_ = _coef_np(schedule, t)
    out = {k: np.zeros_like(x) for k in ("p", "dt", "dx", "dxx")}
    for wk, mk, sk in zip(w, mu, sd):
        m, v = a * mk, a * a * sk * sk + b * b
        z = x - m
        phi = wk * np.exp(-0.5 * z * z / v) / np.sqrt(2 * np.pi * v)
        q = z * z / (v * v) - 1 / v
        out["p"] += phi
        out["dt"] += phi * (z * f * m / v + 0.5 * q * (2 * f * v + g2_))
        out["dx"] += -phi * z / v
        out["dxx"] += phi * q
    out["f"], out["g2"] = f, g2_
    return out


def fp_rhs(x, d: dict):
    """-d/dx (f x p) + g^2/2 d2p/dx2 for the linear drift f x."""
    return -d["f"] * d["p"] - d["f"] * x * d["dx"] + 0.5 * d["g2"] * d["dxx"]


def fokker_planck_check(schedule: Schedule, n_x: int = 400, n_t: int = 50, x_lim: float = 4.0,
                        h: float = 1e-4) -> dict:
    """Max |d/dt p - FP RHS| / max |d/dt p| on an n_x x n_t grid (t from t_min to 1), three ways:
    analytic (closed-form derivatives), autograd (library log_prob differentiated in x and t), and central
    finite differences in t (step h) of the library density against the analytic RHS. Also cross-checks the
    library score and the Laplacian of log p against autograd."""
    if n_x < 3 or n_t < 2 or not h > 0:
        raise KexueError(f"fokker_planck_check: n_x = {n_x} (>= 3), n_t = {n_t} (>= 2), h = {h} (> 0)")
    xs = np.linspace(-x_lim, x_lim, n_x)
    ts = np.linspace(schedule.t_min, schedule.t_max, n_t)
    X, T = np.meshgrid(xs, ts, indexing="ij")
    d = mixture_1d_derivatives(X, T, schedule)
    rhs = fp_rhs(X, d)
    scale = float(np.abs(d["dt"]).max())
    res = {"grid": [n_x, n_t], "x_range": [-x_lim, x_lim], "t_range": [float(ts[0]), float(ts[-1])],
           "max_abs_dt_p": scale, "analytic": float(np.abs(d["dt"] - rhs).max() / scale)}
    mix = g1(schedule)
    xt = torch.tensor(X.ravel(), dtype=F64, requires_grad=True)
    tt = torch.tensor(T.ravel(), dtype=F64, requires_grad=True)
    lp = mix.log_prob(xt[:, None], tt)
    p = torch.exp(lp)
    dpx, dpt = torch.autograd.grad(p.sum(), (xt, tt), create_graph=True)
    (dpxx,) = torch.autograd.grad(dpx.sum(), xt, retain_graph=True)
    (dlx,) = torch.autograd.grad(lp.sum(), xt, create_graph=True)
    (dlxx,) = torch.autograd.grad(dlx.sum(), xt)
    ad = {"p": p.detach().numpy(), "dx": dpx.detach().numpy(), "dxx": dpxx.numpy(), "f": d["f"].ravel(),
          "g2": d["g2"].ravel()}
    res["autograd"] = float(np.abs(dpt.detach().numpy() - fp_rhs(X.ravel(), ad)).max() / scale)
    with torch.no_grad():
        xg = torch.tensor(X.ravel()[:, None], dtype=F64)
        up = torch.exp(mix.log_prob(xg, torch.tensor(T.ravel() + h, dtype=F64))).numpy()
        dn = torch.exp(mix.log_prob(xg, torch.tensor(T.ravel() - h, dtype=F64))).numpy()
        score = mix.score(xg, torch.tensor(T.ravel(), dtype=F64)).numpy()[:, 0]
    res["finite_difference"] = float(np.abs((up - dn) / (2 * h) - rhs.ravel()).max() / scale)
    res["fd_h"] = h
    s_an = (d["dx"] / d["p"]).ravel()
    lap_an = (d["dxx"] / d["p"] - (d["dx"] / d["p"]) ** 2).ravel()
    sc = float(np.abs(s_an).max())
    res["score_lib_vs_analytic"] = float(np.abs(score - s_an).max() / sc)
    res["score_autograd_vs_analytic"] = float(np.abs(dlx.detach().numpy() - s_an).max() / sc)
    res["laplacian_autograd_vs_analytic"] = float(np.abs(dlxx.numpy() - lap_an).max() / np.abs(lap_an).max())
    res["density_lib_vs_analytic"] = float(np.abs(ad["p"] - d["p"].ravel()).max() / d["p"].max())
    return res


# ------------------------------------------------------------------ distribution metrics
def mixture_1d_cdf(x, t: float, schedule: Schedule, w=G1_W, mu=G1_MU, sd=G1_SD):
    a, b = float(schedule.abar(t)), float(schedule.bbar(t))
    x = np.asarray(x, np.float64)
    return sum(wk * ndtr((x - a * mk) / math.sqrt(a * a * sk * sk + b * b)) for wk, mk, sk in zip(w, mu, sd))


def mixture_1d_pdf(x, t: float, schedule: Schedule, w=G1_W, mu=G1_MU, sd=G1_SD):
    return mixture_1d_derivatives(x, np.full_like(np.asarray(x, np.float64), t), schedule, w, mu, sd)["p"]


def ks(samples, cdf) -> dict:
    """KS statistic and p-value of a sample against an exact CDF; `crit95` = the 95% null quantile."""
    x = np.asarray(samples, np.float64).ravel()
    r = stats.kstest(x, cdf)
    return {"ks": float(r.statistic), "p_value": float(r.pvalue), "n": int(x.size),
            "crit95": float(stats.kstwo.ppf(0.95, x.size))}


def reference_log_density(mix: GaussianMixture, t: float, n: int, generator: torch.Generator) -> dict:
    """E_{p_t}[log p_t] by n exact draws (mean, se): the 'data' side of D."""
    with torch.no_grad():
        lp = mix.log_prob(mix.sample(n, t=t, generator=generator), t).numpy()
    est = mean_ci(lp)
    return {"mean": est["mean"], "se": est["se"], "n": n}


def density_gap(mix: GaussianMixture, samples: torch.Tensor, t: float, ref: dict, level: float = 0.95) -> dict:
    """D = |mean log p_t(samples) - E_{p_t} log p_t| with a normal interval from both standard errors."""
    with torch.no_grad():
        lp = mix.log_prob(samples.to(F64), t).numpy()
    bad = int((~np.isfinite(lp)).sum())  # a diverged solver: counted, and D is infinite
    if bad:
        return {"estimate": float("inf"), "lo": float("inf"), "hi": float("inf"), "signed": float("-inf"),
                "n": int(lp.size), "n_ref": ref["n"], "level": level, "nonfinite": bad}
    est = mean_ci(lp, level)
    diff = est["mean"] - ref["mean"]
    hw = stats.norm.ppf(0.5 + level / 2) * math.hypot(est["se"], ref["se"])
    lo, hi = diff - hw, diff + hw
    d_lo = 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
    return {"estimate": abs(diff), "lo": d_lo, "hi": max(abs(lo), abs(hi)), "signed": diff, "n": int(lp.size),
            "n_ref": ref["n"], "level": level, "nonfinite": 0}


def mode_spread(samples, centres) -> dict:
    """Assign each sample to the nearest centre; per mode the fraction of samples and the rms deviation."""
    x = np.asarray(samples, np.float64).reshape(len(samples), -1)
    c = np.asarray(centres, np.float64)
    k = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), 1)
    frac, sd = [], []
    for j in range(len(c)):
        sel = x[k == j] - c[j]
        frac.append(float(len(sel) / len(x)))
        sd.append(float(np.sqrt((sel ** 2).mean())) if len(sel) else float("nan"))
    return {"fraction": frac, "rms": sd}


def mode_std_ratio(samples, reference, centres) -> dict:
    """Per-mode rms deviation of the samples / the same statistic on exact draws (1 = right spread)."""
    s, r = mode_spread(samples, centres), mode_spread(reference, centres)
    ratio = [a / b for a, b in zip(s["rms"], r["rms"])]
    return {"ratio": ratio, "mean_ratio": float(np.nanmean(ratio)), "min_ratio": float(np.nanmin(ratio)),
            "max_ratio": float(np.nanmax(ratio)), "fraction": s["fraction"],
            "max_fraction_gap": float(np.max(np.abs(np.array(s["fraction"]) - np.array(r["fraction"]))))}


# ------------------------------------------------------------------ C6: continuous DDIM
def vp_relations(schedule: VPSDE, n_t: int, mix: GaussianMixture, generator: torch.Generator,
                 n_x: int = 8) -> dict:
    """Pointwise relative errors on n_t times in [t_min, 1] of f = d log abar/dt, g^2 = 2 abar bbar d/dt(bbar/abar)
    (derivatives by autograd), Song et al.'s f = -beta/2, g^2 = beta, s = -eps/bbar (mixture score vs eps), and of
    the continuous DDIM form dx/dt = abar [d/dt (x/abar)] = (abar'/abar) x + abar eps d/dt(bbar/abar) against
    the PF-ODE velocity f x + g^2/(2 bbar) eps."""
    t = torch.linspace(schedule.t_min, schedule.t_max, n_t, dtype=F64, requires_grad=True)
    a, b = schedule.abar(t), schedule.bbar(t)
    (dloga,) = torch.autograd.grad(torch.log(a).sum(), t, retain_graph=True)
    (dsig,) = torch.autograd.grad((b / a).sum(), t, retain_graph=True)
    (da,) = torch.autograd.grad(a.sum(), t)
    a, b, t = a.detach(), b.detach(), t.detach()
    f, g2_ = schedule.f(t), schedule.g2(t)
    rel = lambda u, v: float(((u - v).abs() / v.abs()).max())  # noqa: E731
    out = {"n_t": n_t, "f_vs_dlog_abar": rel(dloga, f), "g2_vs_2ab_dsigma": rel(2 * a * b * dsig, g2_),
           "song_f": rel(-0.5 * schedule.beta(t), f), "song_g2": rel(schedule.beta(t), g2_)}
    x = torch.randn(n_t, n_x, mix.d, generator=generator, dtype=F64) * 2.5
    tt = t.repeat_interleave(n_x)
    xf = x.reshape(-1, mix.d)
    with torch.no_grad():
        s, e = mix.score(xf, tt), mix.eps(xf, tt)
    bb, aa = b.repeat_interleave(n_x)[:, None], a.repeat_interleave(n_x)[:, None]
    out["score_vs_minus_eps_over_bbar"] = float(((s + e / bb).abs().max() / s.abs().max()))
    ff, gg = f.repeat_interleave(n_x)[:, None], g2_.repeat_interleave(n_x)[:, None]
    v_pf = ff * xf + gg / (2 * bb) * e
    v_ddim = (da.repeat_interleave(n_x)[:, None] / aa) * xf + aa * e * dsig.repeat_interleave(n_x)[:, None]
    out["ddim_form_vs_pf_velocity"] = float((v_pf - v_ddim).abs().max() / v_pf.abs().max())
    out["max"] = max(v for k, v in out.items() if k != "n_t")
    return out


def frozen_eps_step(schedule: Schedule, pairs, generator: torch.Generator, n: int = 64, d: int = 2) -> dict:
    """One DDIM(eta=0) step t -> s with eps frozen at a constant e, against the exact solution of the ODE
    dx/dt = f x + g^2/(2 bbar) e: x_s = (abar_s/abar_t) x + abar_s e int_t^s g^2/(2 abar bbar) dtau (the integral
    by adaptive quadrature), and against the closed form in (x/abar, bbar/abar):
    x_s = abar_s (x/abar_t + (sig_s - sig_t) e)."""
    from kexue.diffusion.samplers import ddim

    errs_quad, errs_sigma, rows = [], [], []
    fn = lambda u: float(schedule.g2(u)) / (2 * float(schedule.abar(u)) * float(schedule.bbar(u)))  # noqa: E731
    for t, s in pairs:
        x = torch.randn(n, d, generator=generator, dtype=F64) * 2
        e = torch.randn(n, d, generator=generator, dtype=F64)
        out, _ = ddim(lambda z, tt: e, x, schedule, ts=[t, s])
        integral, _ = integrate.quad(fn, t, s, epsabs=1e-14, epsrel=1e-13, limit=200)
        a_t, a_s = float(schedule.abar(t)), float(schedule.abar(s))
        quad = (a_s / a_t) * x + a_s * integral * e
        sig = a_s * (x / a_t + (float(schedule.sigma(s)) - float(schedule.sigma(t))) * e)
        errs_quad.append(float((out - quad).abs().max()))
        errs_sigma.append(float((out - sig).abs().max()))
        rows.append({"t": t, "s": s, "err_quad": errs_quad[-1], "err_sigma": errs_sigma[-1]})
    return {"pairs": rows, "max_err_quad": max(errs_quad), "max_err_sigma": max(errs_sigma),
            "max_err": max(errs_quad + errs_sigma), "n_per_pair": n}
