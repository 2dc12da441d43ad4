"""Unit tests for article 9228 (probability-flow ODE): kexue.diffusion_families, kexue.pf_ode_checks and the
claim checks. Exact Gaussian / mixture scores make every reference value a closed form."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate

from kexue import pf_ode_checks as C
from kexue.diffusion import samplers as P
from kexue.diffusion.schedules import time_grid
from kexue.diffusion_families import forward_family, pf_ode_solve, pf_ode_steps, reverse_family
from kexue.errors import KexueError
from kexue.fits import convergence_order

F64 = torch.float64
V = C.vp_sde()


def gen(k=0):
    return torch.Generator().manual_seed(1234 + k)


# ---------------------------------------------------------------- the SDE family
def test_forward_family_keeps_the_gaussian_marginals_and_the_control_does_not():
    """G3 = N(0.5, 1.5^2): p_1 = N(abar_1 0.5, abar_1^2 2.25 + bbar_1^2). n = 4000: 4 s.e. of the mean = 0.063."""
    g = C.g3(V)
    x0 = g.sample(4000, t=0.0, generator=gen())
    ts = np.linspace(0, 1, 201)
    m1, c1 = (u.item() for u in g.mean_cov(1.0))
    for lam, tol in ((1.0, 0.1), (0.5, 0.1), (0.0, 0.1), (1.5, 0.15)):  # 1.5: larger Euler bias at 200 steps
        x, rec, info = forward_family(g.score, x0, V, ts, lam, generator=gen(1), record=(0.3,))
        assert abs(x.mean().item() - m1) < 0.07 and abs(x.var().item() / c1 - 1) < tol, lam
        m3, c3 = (u.item() for u in g.mean_cov(0.3))
        assert abs(rec[0.3].mean().item() - m3) < 0.12 and abs(rec[0.3].var().item() / c3 - 1) < 0.1
        assert info["nfe"] == (0 if lam == 1.0 else 200)
    x, _, info = forward_family(g.score, x0, V, ts, 0.5, correction=False, generator=gen(1))
    assert info["nfe"] == 0 and x.var().item() < 0.4  # plain drift with a quarter of the noise variance


def test_forward_family_errors():
    g = C.g3(V)
    x = torch.zeros(4, 1, dtype=F64)
    with pytest.raises(KexueError, match="lam = -1"):
        forward_family(g.score, x, V, [0, 1], -1.0)
    with pytest.raises(KexueError, match="not on the grid"):
        forward_family(g.score, x, V, np.linspace(0, 1, 7), 1.0, record=(0.1,))
    with pytest.raises(KexueError, match="increasing"):
        forward_family(g.score, x, V, [0.5, 0.2], 1.0)


def test_reverse_family_is_reverse_sde_when_drift_and_noise_ratios_agree():
    mix = C.g1(V)
    xT = torch.randn(300, 1, generator=gen(), dtype=F64)
    ts = time_grid(V, 50)
    for lam in (0.0, 0.5, 1.0):
        a, _ = P.reverse_sde(mix, xT, V, ts=ts, lam=lam, generator=gen(2))
        b, _ = reverse_family(mix, xT, V, ts, lam, lam, generator=gen(2))
        assert torch.equal(a, b)
    c, _ = reverse_family(mix, xT, V, ts, 0.0, 1.0, generator=gen(2))
    assert (c - a).abs().max() > 0.1
    with pytest.raises(KexueError, match="decreasing"):
        reverse_family(mix, xT, V, ts[::-1], 1.0, 1.0)
    with pytest.raises(KexueError, match=">= 0"):
        reverse_family(mix, xT, V, ts, -1.0, 1.0)


# ---------------------------------------------------------------- the ODE as a flow
def test_pf_ode_solve_is_the_closed_form_g3_map_both_ways():
    g = C.g3(V)
    x = g.sample(200, t=V.t_min, generator=gen())
    z, info = pf_ode_solve(g, x, V, V.t_min, 1.0, rtol=1e-9, atol=1e-9)
    assert info["nfe"] > 0
    assert np.abs(z.numpy() - C.g3_map(x.numpy(), V.t_min, 1.0, V)).max() < 1e-6
    assert (z - g.flow_map(x, V.t_min, 1.0)).abs().max() < 1e-6
    back, _ = pf_ode_solve(g, z, V, 1.0, V.t_min, rtol=1e-9, atol=1e-9)
    assert (back - x).abs().max() < 1e-6
    # the card's t -> 0 formula is the library's flow map
    assert np.abs(C.g3_to_data(z.numpy(), 1.0, V) - g.flow_map(z, 1.0, 0.0).numpy()).max() < 1e-12
    with pytest.raises(KexueError, match="must differ"):
        pf_ode_solve(g, x, V, 0.5, 0.5)
    with pytest.raises(KexueError, match="lie in"):
        pf_ode_solve(g, x, V, 0.0, 1.0)
    with pytest.raises(KexueError, match="rtol"):
        pf_ode_solve(g, x, V, V.t_min, 1.0, rtol=0)


def test_pf_ode_steps_orders_in_the_encoding_direction():
    g = C.g3(V)
    x = g.sample(64, t=0.05, generator=gen())
    ref = g.flow_map(x, 0.05, 1.0)
    Ns = [10, 20, 40, 80]
    for method, order in (("euler", 1), ("heun", 2)):
        err = [(pf_ode_steps(g, x, V, np.linspace(0.05, 1.0, n + 1), method)[0] - ref).abs().max().item() for n in Ns]
        assert abs(convergence_order([1 / n for n in Ns], err)["slope"] - order) < 0.25, (method, err)
    with pytest.raises(KexueError, match="'rk4'"):
        pf_ode_steps(g, x, V, [0.1, 0.2], "rk4")
    with pytest.raises(KexueError, match="strictly"):
        pf_ode_steps(g, x, V, [0.1, 0.3, 0.2])


# ---------------------------------------------------------------- exact checks
def test_fokker_planck_residuals_and_errors():
    r = C.fokker_planck_check(V, n_x=60, n_t=8)
    assert r["analytic"] < 1e-12 and r["autograd"] < 1e-12 and r["finite_difference"] < 1e-3
    assert r["score_lib_vs_analytic"] < 1e-12 and r["laplacian_autograd_vs_analytic"] < 1e-10
    with pytest.raises(KexueError, match="n_x = 2"):
        C.fokker_planck_check(V, n_x=2)


def test_fokker_planck_residual_detects_a_wrong_equation():
    """Drop the diffusion term: the residual is O(1), so the check has teeth."""
    X, T = np.meshgrid(np.linspace(-3, 3, 50), np.linspace(0.01, 1, 5), indexing="ij")
    d = C.mixture_1d_derivatives(X, T, V)
    wrong = -d["f"] * d["p"] - d["f"] * X * d["dx"]
    assert np.abs(d["dt"] - wrong).max() / np.abs(d["dt"]).max() > 0.1


def test_mixture_cdf_pdf_and_ks():
    t = 0.02
    x = np.linspace(-6, 6, 2001)
    pdf = C.mixture_1d_pdf(x, t, V)
    assert abs(integrate.trapezoid(pdf, x) - 1) < 1e-6
    assert abs(C.mixture_1d_cdf(0.7, t, V) - integrate.quad(lambda u: C.mixture_1d_pdf(np.array([u]), t, V)[0],
                                                             -8, 0.7)[0]) < 1e-8
    mix = C.g1(V)
    s = mix.sample(4000, t=t, generator=gen())[:, 0].numpy()
    r = C.ks(s, lambda z: C.mixture_1d_cdf(z, t, V))
    assert r["ks"] < r["crit95"] * 1.3 and r["n"] == 4000
    assert C.ks(s + 0.3, lambda z: C.mixture_1d_cdf(z, t, V))["ks"] > 0.05


def test_density_gap_and_mode_ratios():
    mix = C.g2(V)
    ref = C.reference_log_density(mix, V.t_min, 20000, gen())
    exact = mix.sample(4000, t=V.t_min, generator=gen(1))
    d = C.density_gap(mix, exact, V.t_min, ref)
    assert d["estimate"] < 0.08 and d["lo"] <= d["estimate"] <= d["hi"] and d["n"] == 4000
    blurred = exact * 1.0 + 0.2 * torch.randn(exact.shape, generator=gen(2), dtype=F64)
    assert C.density_gap(mix, blurred, V.t_min, ref)["lo"] > 0.2
    bad = exact.clone()
    bad[0, 0] = float("nan")
    assert math.isinf(C.density_gap(mix, bad, V.t_min, ref)["estimate"])
    centres = C.g2_centres() * float(V.abar(V.t_min))
    other = mix.sample(4000, t=V.t_min, generator=gen(3)).numpy()
    r = C.mode_std_ratio(exact.numpy(), other, centres)
    assert abs(r["mean_ratio"] - 1) < 0.05 and r["max_fraction_gap"] < 0.03
    assert C.mode_std_ratio(blurred.numpy(), other, centres)["mean_ratio"] > 1.2


def test_vp_relations_and_frozen_eps_step():
    rel = C.vp_relations(V, 200, C.g2(V), gen())
    assert rel["max"] < 1e-12
    step = C.frozen_eps_step(V, [(1.0, V.t_min), (0.6, 0.3)], gen(1), n=16)
    assert step["max_err"] < 1e-10


# ---------------------------------------------------------------- params and claims
def _base_params():
    import yaml

    from kexue.registry import ROOT

    raw = yaml.safe_load(open(ROOT / "params.yaml"))["a9228"]
    return {k: (v["default"] if isinstance(v, dict) else v) for k, v in raw.items()}


def test_params_validate_and_refuse_bad_input():
    from stages.a9228_probability_flow_ode import Params

    Params(**_base_params())
    for change, msg in (({"sigma_ratios": [1.0, 0.0, 1.5]}, "0.5"), ({"sde_steps": 1005}, "multiple of 10"),
                        ({"nfes": [10, 50, 100]}, "25 and 50"), ({"snapshot_times": [0.1, 1.0]}, "0.3"),
                        ({"learned_steps": 50}, "learned_steps"), ({"t_min": 0.0}, "greater than 0"),
                        ({"sigma_ratios": [1.0, 0.5, 0.0]}, "1.5"), ({"ddim_steps": [10, 20]}, "at least 3")):
        with pytest.raises(ValueError, match=msg):
            Params(**{**_base_params(), **change})


def test_claim_checks_on_synthetic_metrics():
    from stages import a9228_probability_flow_ode as A

    checks = {c.id: c.check for c in A.ARTICLE.claims}
    m = {"c5": {k: {"n": 10, "mean_abs_err": 1e-6, "mean_abs_err_std_normal_prior": 1e-3} for k in ("g1", "g2")},
         "learned": {"run": False, "reason": "off"}}
    with pytest.raises(KeyError):
        checks["C5"](m, "smoke")
    m["learned"] = {"run": True, "arch": "mlp", "steps": 3000, "rows": []}
    m["c5_learned"] = {"mean_nll_learned": 2.3, "mean_nll_true": 2.1, "abs_gap": 0.2, "median_gap": 0.2,
                       "gap": {"mean": 0.2, "lo": 0.1, "hi": 0.3, "n": 10}}
    assert not checks["C5"](m, "default").passed
    m["c5_learned"]["abs_gap"] = 0.1
    m["learned"]["rows"] = [{"solver": "euler", "nfe": n, "D": {"estimate": 1.0 / n}, "modes": {"mean_ratio": 1.5}}
                            for n in (10, 100)]
    out = checks["C5"](m, "default")
    assert out.passed and "Euler-ODE(100)" in out.detail and "1.50" in out.detail
    enc = {"ks": 0.02, "p_value": 0.3, "n": 2000}
    c4 = {"c4": {"encode_ks_normal": enc, "roundtrip_max_err": 1e-5, "g3": {"max_err": 1e-7,
              "card_formula_vs_library_flow_map": 0.0}, "rtol": 1e-7, "points": 1000,
              "roundtrip": {"g1": {"max_err": 1e-5}, "g2": {"max_err": 1e-6}}, "rtol_sweep": [],
              "encode_ks_exact_p1": enc}}
    assert checks["C4"](c4, "smoke").passed and not checks["C4"](c4, "default").passed
