"""The measurements of kexue.fm/archives/10563 (Adam's ε and the lr–batch-size law), as plain
functions returning (metrics, arrays): `moments_study` (C1–C5) and `lr_study` (C6–C9).

Everything is deterministic float64; the only random parts are the synthetic problems and the
Monte Carlo sanity check, both drawn from the generator passed in.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from kexue import adam_eps_lr as lr
from kexue import softsign_moments as sm
from kexue.quadrature import hermite_nodes


# ------------------------------------------------------------------ C1–C5
def moments_study(a_grid, b_values, erf_x, hermite_n=201, b_far=100.0):
    a = np.asarray(a_grid, dtype=np.float64)
    m, arr = {}, {"a": a, "b": np.asarray(b_values, dtype=np.float64), "erf_x": np.asarray(erf_x)}

    # C1: ε softsign(x, ε) → x (ε = 1e6|x|) and softsign(x, 1e-12) → sign(x) (|x| ≥ 1e-6)
    k = np.linspace(-6, 6, 49)
    x = np.concatenate([-10.0 ** k, 10.0 ** k])
    big = 1e6 * np.abs(x)
    rel = np.abs(big * sm.softsign(x, big) - x) / np.abs(x)
    dev = np.abs(sm.softsign(x, 1e-12) - np.sign(x))
    m["c1"] = {"n_x": int(x.size), "x_range": [float(np.abs(x).min()), float(np.abs(x).max())],
               "max_rel_err_large_eps": float(rel.max()), "max_dev_sign": float(dev.max()),
               "sign_exact_count": int((dev == 0).sum())}

    # C3: erf(x) ≈ x/√(x² + π/4)
    ex = np.asarray(erf_x, dtype=np.float64)
    err3 = np.abs(erf(ex) - sm.erf_approx(ex))
    h = 1e-5
    slope = (sm.erf_approx(h) - sm.erf_approx(-h)) / (2 * h)
    m["c3"] = {"max_err": float(err3.max()), "argmax_x": float(abs(ex[np.argmax(err3)])),
               "slope0": float(slope), "slope0_ref": 2 / math.sqrt(math.pi),
               "slope0_err": float(abs(slope - 2 / math.sqrt(math.pi)))}
    arr["erf"], arr["erf_approx"] = erf(ex), sm.erf_approx(ex)
    arr["erf_clip"] = np.clip(2 * ex / math.sqrt(math.pi), -1, 1)

    per_b = {}
    names = ("clip1_closed", "clip1_quad", "clip2_closed", "clip2_quad", "soft1", "soft2",
             "soft1_quad", "soft2_quad", "mean_approx", "second_approx")
    for nm in names:
        arr[nm] = np.zeros((len(b_values), a.size))
    i0 = int(np.argmin(np.abs(a)))
    for j, b in enumerate(b_values):
        c1, c2 = sm.clip_mean(a, b), sm.clip_second(a, b)
        q1 = np.array([sm.quad_clip(v, b, 1) for v in a])
        q2 = np.array([sm.quad_clip(v, b, 2) for v in a])
        s1, s2 = sm.softsign_moments(a, b)
        # adaptive-quadrature cross-check of the panel rule on ≤ ~41 of the a points (quad is slow)
        sub = np.arange(0, a.size, max(1, a.size // 40))
        t1 = np.full(a.size, np.nan)
        t2 = np.full(a.size, np.nan)
        t1[sub] = [sm.quad_softsign(a[i], b, 1) for i in sub]
        t2[sub] = [sm.quad_softsign(a[i], b, 2) for i in sub]
        z, w = hermite_nodes(hermite_n)   # plain Gauss–Hermite, for comparison only
        gh1 = np.array([w @ sm.softsign(v + z, b) for v in a])
        ma, sa = sm.mean_approx(a, b), sm.second_approx(a, b)
        hh = 1e-4
        num_slope = float((sm.clip_mean(hh, b) - sm.clip_mean(-hh, b)) / (2 * hh))
        d = np.diff(c1)
        per_b[f"{b:g}"] = {
            "b": float(b),
            # C2
            "clip_closed_vs_quad": float(np.abs(c1 - q1).max()),
            "clip_article_form_vs_quad": float(np.abs(sm.clip_mean_article(a, b) - q1).max()),
            "slope0_numeric": num_slope, "slope0_formula": float(sm.clip_slope0(b)),
            "slope0_err": float(abs(num_slope - sm.clip_slope0(b))),
            "odd_err": float(np.abs(c1 + c1[::-1]).max()), "min_increment": float(d.min()),
            "increasing": bool(np.all(d > 0)), "max_abs": float(np.abs(c1).max()),
            # C4 (approximation vs what Adam averages: softsign) and vs the clip model
            "mean_approx_vs_softsign": float(np.abs(ma - s1).max()),
            "mean_approx_vs_clip": float(np.abs(ma - c1).max()),
            "softsign_panel_vs_quad": float(max(np.abs(s1 - t1)[sub].max(), np.abs(s2 - t2)[sub].max())),
            "softsign_hermite_vs_panel": float(np.abs(gh1 - s1).max()), "softsign_quad_points": int(sub.size),
            # C5
            "clip2_closed_vs_quad": float(np.abs(c2 - q2).max()),
            "clip2_even_err": float(np.abs(c2 - c2[::-1]).max()), "clip2_max": float(c2.max()),
            "clip2_argmin_a": float(a[int(np.argmin(c2))]), "clip2_at0": float(c2[i0]),
            "softsign2_at0": float(s2[i0]),
            "second_approx_vs_clip2": float(np.abs(sa - c2).max()),
            "second_approx_vs_softsign2": float(np.abs(sa - s2).max()),
        }
        for nm, v in zip(names, (c1, q1, c2, q2, s1, s2, t1, t2, ma, sa)):
            arr[nm][j] = v
    m["per_b"] = per_b
    # b → 0: the approximation against the sign limit erf(a/√2)
    m["mean_approx_vs_sign_limit"] = float(np.abs(sm.mean_approx(a, 0.0) - erf(a / math.sqrt(2))).max())
    m["second_approx_b0_a0"] = float(sm.second_approx(0.0, 0.0))
    m["second_approx_bfar_a0"] = float(sm.second_approx(0.0, b_far))
    m["b_far"] = b_far
    m["a_grid"] = {"lo": float(a[0]), "hi": float(a[-1]), "n": int(a.size)}
    return {"moments": m}, arr


# ------------------------------------------------------------------ C6–C9
def _curves(g, sigma, H, B, eps_values):
    out = {"exact": [], "mf": [], "mf_median": [], "info": []}
    for e in eps_values:
        ex, _, _ = lr.exact_eta(g, sigma, H, B, e)
        mf = lr.mean_field(g, sigma, H, B, e, "mean")
        md = lr.mean_field(g, sigma, H, B, e, "median")
        out["exact"].append(ex)
        out["mf"].append(mf["eta"])
        out["mf_median"].append(md["eta"])
        out["info"].append((mf, md))
    return out


def _conditions(B, eta, mf):
    """The card's C6 condition (X ≤ 2T or β* outside the grid's β range) and the article's (X ≤ T)."""
    mono = lr.is_monotone_increasing(eta, rtol=1e-12)
    X, T, bs = mf["X"], mf["T"], mf["beta_star"]
    b_lo, b_hi = float(mf["beta"][0]), float(mf["beta"][-1])
    card = X <= 2 * T or not (b_lo < bs < b_hi)
    return {"X": X, "T": T, "X_over_T": X / T, "beta_star": None if math.isinf(bs) else bs,
            "beta_range": [b_lo, b_hi], "monotone": mono, "peak_B": lr.peak_B(B, eta),
            "card_predicts_monotone": bool(card), "card_ok": bool(mono == card),
            "article_predicts_monotone": bool(X <= T), "article_ok": bool(mono == (X <= T))}


def lr_study(problems, B, eps_values, eps_scan, eps_large, mc_B, mc_eps, mc_samples, rng):
    """problems: {name: (g, sigma, H)}. Metrics under "lr", curves as arrays."""
    B = lr.check_batch_grid(B)
    eps_values = [lr.check_eps(e) for e in eps_values]
    eps_large = lr.check_eps(eps_large, allow_zero=False)
    m, arr = {"B": {"lo": float(B[0]), "hi": float(B[-1]), "n": int(B.size)}, "eps_values": eps_values,
              "eps_large": eps_large, "kappa": "mean (median reported as sensitivity)"}, {"B": B}
    arr["eps_values"] = np.array(eps_values)
    for name, (g, sigma, H) in problems.items():
        c = _curves(g, sigma, H, B, eps_values)
        per_eps = {}
        for e, ex, mfe, md, (mf, mdi) in zip(eps_values, c["exact"], c["mf"], c["mf_median"], c["info"]):
            cond = _conditions(B, mfe, mf)
            per_eps[f"{e:g}"] = {
                "exact_monotone": lr.is_monotone_increasing(ex), "exact_peak_B": lr.peak_B(B, ex),
                "mf_monotone": cond["monotone"], "mf_peak_B": cond["peak_B"],
                "mf_median_monotone": lr.is_monotone_increasing(md, 1e-12), "mf_median_peak_B": lr.peak_B(B, md),
                "mf_vs_exact_max_rel": float(np.max(np.abs(mfe / ex - 1))),
                "mf_median_vs_exact_max_rel": float(np.max(np.abs(md / ex - 1))),
                "kappa2_mean": mf["kappa2"], "kappa2_median": mdi["kappa2"], "conditions": cond}
        mono_ex = [per_eps[f"{e:g}"]["exact_monotone"] for e in eps_values]
        mono_mf = [per_eps[f"{e:g}"]["mf_monotone"] for e in eps_values]
        # dense ε scan of the mean-field formula (cheap, closed form): where X/T crosses 1 and 2
        scan = []
        for e in eps_scan:
            mf = lr.mean_field(g, sigma, H, B, e, "mean")
            scan.append({"eps": float(e), **_conditions(B, mf["eta"], mf)})
        # large ε: η*/ε against the two SGD forms
        j = eps_values.index(eps_large)
        ex, mfe = c["exact"][j] / eps_large, c["mf"][j] / eps_large
        sa, se = lr.sgd_article(g, sigma, H, B), lr.sgd_exact(g, sigma, H, B)
        i1 = int(np.argmin(np.abs(B - 1.0)))
        m[name] = {
            "n": int(g.size), "per_eps": per_eps, "scan": scan,
            "exact_threshold_eps": lr.surge_threshold(eps_values, mono_ex),
            "mf_threshold_eps": lr.surge_threshold(eps_values, mono_mf),
            "large_eps": {
                "mf_over_article_max_rel": float(np.max(np.abs(mfe / sa - 1))),
                "exact_over_sgd_exact_max_rel": float(np.max(np.abs(ex / se - 1))),
                "exact_over_article_max_rel": float(np.max(np.abs(ex / sa - 1))),
                "exact_over_article_at_B1": float(ex[i1] / sa[i1]), "B_at": float(B[i1]),
                "exact_over_article": {f"{b:g}": float(r) for b, r in zip(B, ex / sa)
                                       if abs(math.log10(b) - round(math.log10(b))) < 1e-9}},
        }
        for key in ("exact", "mf", "mf_median"):
            arr[f"{name}_{key}"] = np.array(c[key])
        arr[f"{name}_sgd_article"], arr[f"{name}_sgd_exact"] = sa, se
        arr[f"{name}_scan_eps"] = np.array([s["eps"] for s in scan])
        arr[f"{name}_scan_XT"] = np.array([s["X_over_T"] for s in scan])
        arr[f"{name}_scan_mono"] = np.array([s["monotone"] for s in scan])
        # Monte Carlo sanity: sampled minibatch gradients, η* = E[ũᵀg]/E[ũᵀHũ] with 95% intervals
        mc = []
        for e in mc_eps:
            ests = lr.monte_carlo_eta(g, sigma, H, np.asarray(mc_B, dtype=np.float64), e, mc_samples, rng)
            exact_at, _, _ = lr.exact_eta(g, sigma, H, np.asarray(mc_B, dtype=np.float64), e)
            for b, est, ref in zip(mc_B, ests, exact_at):
                mc.append({"eps": float(e), "B": float(b), "mean": est["mean"], "lo": est["lo"], "hi": est["hi"],
                           "n": est["n"], "exact": float(ref), "covered": bool(est["lo"] <= ref <= est["hi"]),
                           "rel_err": float(est["mean"] / ref - 1)})
        m[name]["monte_carlo"] = {"n_samples": int(mc_samples), "points": mc,
                                  "covered": int(sum(p["covered"] for p in mc)), "total": len(mc),
                                  "max_abs_rel_err": float(max(abs(p["rel_err"]) for p in mc))}
        arr[f"{name}_mc"] = np.array([[p["eps"], p["B"], p["mean"], p["lo"], p["hi"], p["exact"]] for p in mc])
    return {"lr": m}, arr
