"""Unit tests for article 10563 (Adam's ε and the lr–batch-size law): closed forms against adaptive
quadrature, the card's reference values, the mean-field algebra, the large-ε limits, Adam's √v̂,
and bad input rejected before any work."""
import copy
import math

import numpy as np
import pytest
from scipy.special import erf

from kexue import adam_eps_lr as lr
from kexue import softsign_moments as sm
from kexue.errors import KexueError

A = np.linspace(-6, 6, 121)


# ------------------------------------------------------------------ closed forms vs quadrature
@pytest.mark.parametrize("b", [1e-6, 0.01, 0.3, 1.0, 3.0, 10.0])
def test_clip_closed_form_matches_quad(b):
    pts = [-30.0, -5.0, -1.3, 0.0, 0.2, 2.0, 7.5, 30.0]
    for a in pts:
        assert abs(sm.clip_mean(a, b) - sm.quad_clip(a, b, 1)) <= 1e-9
        assert abs(sm.clip_second(a, b) - sm.quad_clip(a, b, 2)) <= 1e-9


def test_article_erf_form_equals_stable_form_where_it_does_not_cancel():
    for b in (0.3, 1.0, 3.0):
        assert np.abs(sm.clip_mean_article(A, b) - sm.clip_mean(A, b)).max() <= 1e-12


def test_clip_slope_and_reference_values():
    # card: slope at 0 for b = 1 is erf(1/√2) = 0.682689; E[clip²](0) = 0.842 / 0.516 / 0.111
    assert abs(float(sm.clip_slope0(1.0)) - 0.682689) < 5e-7
    h = 1e-4
    for b in (0.01, 0.3, 1.0, 10.0):
        num = (sm.clip_mean(h, b) - sm.clip_mean(-h, b)) / (2 * h)
        assert abs(num - sm.clip_slope0(b)) <= 1e-6
    for b, ref in ((0.3, 0.842), (1.0, 0.516), (3.0, 0.111)):
        assert round(float(sm.clip_second(0.0, b)), 3) == ref


@pytest.mark.parametrize("b", [0.0, 2e-7, 1e-4, 0.05, 0.6, 1.5, 2.5, 50.0])
def test_softsign_moments_match_quad(b):
    a = np.array([-12.0, -8.9, -3.0, -0.4, 0.0, 0.1, 1.0, 4.0, 9.5])
    m1, m2 = sm.softsign_moments(a, b)
    if b == 0:  # the sign limit
        assert np.allclose(m1, erf(a / math.sqrt(2)), atol=1e-15) and np.all(m2 == 1)
        return
    q1 = np.array([sm.quad_softsign(x, b, 1) for x in a])
    q2 = np.array([sm.quad_softsign(x, b, 2) for x in a])
    assert np.abs(m1 - q1).max() <= 1e-10 and np.abs(m2 - q2).max() <= 1e-10
    m1n, m2n = sm.softsign_moments(-a, b)
    assert np.abs(m1n + m1).max() <= 1e-15 and np.abs(m2n - m2).max() <= 1e-15  # odd / even in a


def test_softsign_limits():
    x = np.array([-3e5, -2.0, -1e-6, 1e-6, 0.5, 7e4])
    big = 1e6 * np.abs(x)
    assert np.all(np.abs(big * sm.softsign(x, big) - x) <= 1e-6 * np.abs(x))
    assert np.all(np.abs(sm.softsign(x, 1e-12) - np.sign(x)) <= 1e-12)
    assert sm.softsign(0.0, 0.0) == 0.0 and sm.softsign(-2.0, 0.0) == -1.0


# ------------------------------------------------------------------ the article's approximations
def test_erf_approximation_reference():
    x = np.linspace(-6, 6, 60001)
    assert round(float(np.abs(erf(x) - sm.erf_approx(x)).max()), 3) == 0.108
    h = 1e-5
    assert abs((sm.erf_approx(h) - sm.erf_approx(-h)) / (2 * h) - 2 / math.sqrt(math.pi)) <= 1e-9


def test_mean_approximation_calibration():
    # card pilot: 0.107 (b → 0, vs erf), 0.089 (b = 0.3), 0.043 (b = 1), 0.012 (b = 3)
    a = np.linspace(-6, 6, 1201)
    # b → 0 is the erf approximation itself in the variable a/√2: 0.1078 (the card rounds to 0.107)
    assert abs(float(np.abs(sm.mean_approx(a, 0.0) - erf(a / math.sqrt(2))).max()) - 0.107) <= 1.5e-3
    for b, ref in ((0.3, 0.089), (1.0, 0.043), (3.0, 0.012)):
        m1, _ = sm.softsign_moments(a, b)
        assert abs(float(np.abs(sm.mean_approx(a, b) - m1).max()) - ref) <= 1.5e-3  # card: 3 digits


def test_second_moment_approximation_ends():
    assert sm.second_approx(0.0, 0.0) == 1.0
    assert sm.second_approx(0.0, 100.0) <= 0.01
    c2 = sm.clip_second(A, 1.0)
    assert np.abs(c2 - c2[::-1]).max() <= 1e-12 and A[np.argmin(c2)] == 0 and c2.max() <= 1


# ------------------------------------------------------------------ η*(B)
def test_mean_field_peak_location_is_beta_star():
    # η ∝ β/(T + β²(X − T)): maximal at β*² = T/(X − T) when X > 2T
    g, s, H = lr.toy_problem(np.random.default_rng(0))
    B = np.logspace(0, 6, 2001)
    mf = lr.mean_field(g, s, H, B, 0.0)
    assert mf["X"] > 2 * mf["T"]
    i = int(np.argmax(mf["eta"]))
    assert abs(mf["beta"][i] - mf["beta_star"]) < 5e-3


def test_card_condition_matches_monotonicity_on_random_instances():
    rng = np.random.default_rng(5)
    beta = np.linspace(0.05, 0.99, 400)
    for _ in range(300):
        T = rng.uniform(0.5, 5)
        X = T * rng.uniform(0, 6)
        eta = beta / (beta ** 2 * X + (1 - beta ** 2) * T)
        mono = lr.is_monotone_increasing(eta, 1e-12)
        bs = math.sqrt(T / (X - T)) if X > T else math.inf
        assert mono == (X <= 2 * T or not (beta[0] < bs < beta[-1]))


def test_toy_calibration_and_large_eps_limits():
    g, s, H = lr.toy_problem(np.random.default_rng(0))
    B = np.logspace(0, 6, 25)
    ex0, _, _ = lr.exact_eta(g, s, H, B, 0.0)
    assert lr.peak_B(B, ex0) is not None                       # surge at ε = 0
    ex1, _, _ = lr.exact_eta(g, s, H, B, 1.0)
    assert lr.is_monotone_increasing(ex1)                      # gone at ε = 1
    e = 1e3
    exl, _, _ = lr.exact_eta(g, s, H, B, e)
    mf = lr.mean_field(g, s, H, B, e)["eta"]
    sa, se = lr.sgd_article(g, s, H, B), lr.sgd_exact(g, s, H, B)
    assert np.abs(mf / e / sa - 1).max() <= 1e-4               # C8
    assert np.abs(exl / e / se - 1).max() <= 1e-3              # C9b
    assert 1.5 < exl[0] / e / sa[0] < 1.62                      # card: 1.559 at B = 1 (π/2 artefact)


def test_monte_carlo_interval_covers_exact():
    g, s, H = lr.toy_problem(np.random.default_rng(0))
    B = np.array([1.0, 30.0, 1000.0])
    est = lr.monte_carlo_eta(g, s, H, B, 0.1, 4000, np.random.default_rng(1))
    ref, _, _ = lr.exact_eta(g, s, H, B, 0.1)
    for e, r in zip(est, ref):
        assert e["n"] == 4000 and e["lo"] < e["hi"]
        assert abs(e["mean"] / r - 1) < 0.05


def test_sqrt_vhat_is_bias_corrected():
    import torch

    from kexue.adam_eps_training import sqrt_vhat, vhat_stats

    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=1e-3)
    p.grad = torch.tensor([3e-6, -2e-9, 0.5, 0.0], dtype=torch.float64)
    opt.step()
    s = sqrt_vhat(opt)
    assert np.allclose(s, [3e-6, 2e-9, 0.5, 0.0], rtol=1e-12)  # after one step v̂ = g²
    st = vhat_stats(s)
    assert st["n_zero"] == 1 and st["frac_below"]["1e-05"] == 0.75 and st["frac_below"]["1e-08"] == 0.5


# ------------------------------------------------------------------ bad input
def test_bad_inputs_raise_before_work():
    g, s, H = lr.toy_problem(np.random.default_rng(0))
    B = np.logspace(0, 3, 5)
    with pytest.raises(KexueError, match="b = 0.0"):
        sm.clip_mean(0.5, 0.0)
    with pytest.raises(KexueError, match="b = -1"):
        sm.clip_second(0.5, -1.0)
    with pytest.raises(KexueError, match="eps"):
        sm.softsign(1.0, -1e-3)
    with pytest.raises(KexueError, match="eps"):
        lr.check_eps(0.0, allow_zero=False)
    with pytest.raises(KexueError, match="eps"):
        lr.exact_eta(g, s, H, B, -0.1)
    with pytest.raises(KexueError, match="at least 3"):
        lr.exact_eta(g, s, H, [1.0, 10.0], 0.1)
    with pytest.raises(KexueError, match="strictly increasing"):
        lr.mean_field(g, s, H, [10.0, 1.0, 100.0], 0.1)
    Hn = H.copy()
    Hn[0, 1] += 0.1
    with pytest.raises(KexueError, match="not symmetric"):
        lr.exact_eta(g, s, Hn, B, 0.1)
    with pytest.raises(KexueError, match="not positive definite"):
        lr.mean_field(g, s, H - 2 * np.eye(len(g)), B, 0.1)


@pytest.mark.parametrize("key,value,msg", [
    ("b_values", [0.0, 0.3, 1.0, 3.0], "b must be > 0"),
    ("b_values", [-1.0, 0.3, 1.0, 3.0], "b must be > 0"),
    ("eps_large", 0.0, "greater than 0"),
    ("eps_values", [0.0, -1e-3, 1.0, 1000.0], "≥ 0"),
    ("adam_eps", -1e-8, "greater than 0"),
    ("B_points", 2, "greater than or equal to 3"),
    ("mc_B", [1.0, 10.0], "at least 3"),
    ("sweep_batches", [16, 64], "at least 3"),
    ("a_points", 40, "must be odd"),
    ("eps_large", 5.0, "must be one of eps_values"),
    ("B_log10_hi", 0, "must exceed B_log10_lo"),
])
def test_params_reject_bad_values(key, value, msg):
    from kexue.params import load_raw, validate
    from kexue.registry import load
    from tests.conftest import ROOT

    raw = copy.deepcopy(load_raw(ROOT / "params.yaml"))
    raw["a10563"][key] = value
    with pytest.raises(KexueError) as e:
        validate(raw, load().articles)
    assert f"a10563.{key}" in str(e.value) and msg in str(e.value)


def test_lr_sweep_runs_and_picks_an_interior_lr(tmp_path):
    import torch

    from kexue.adam_eps_training import SweepConfig, lr_sweep

    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 8, generator=g)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
    cfg = SweepConfig(hidden=16, steps=30, batches=(8, 32, 128), lrs=(1e-5, 1e-2, 30.0), eps_list=(1e-8,),
                      seeds=(0,), eval_n=400)
    rows = lr_sweep((X, y, X, y), cfg, "cpu", tmp_path, "test", log=lambda *_: None)
    assert [r["B"] for r in rows] == [8, 32, 128]
    assert all(r["lr_grid_best"] == 1e-2 for r in rows)  # too small learns nothing, 30 blows up
