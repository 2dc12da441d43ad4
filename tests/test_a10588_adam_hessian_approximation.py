"""Unit tests for kexue.adam_sim (shared optimizer simulator) and article 10588's checks:
agreement with torch.optim.Adam, the AdaBelief variant's first step, scale invariance (slope 1),
closed forms (C5, C6 theory, C8 step count), and the bad-input errors."""
import math

import numpy as np
import pytest

from kexue import adam_hessian as ah
from kexue.adam_sim import AdamConfig, adam_step, check_hessian, init_state, run_linreg, run_quadratic
from kexue.errors import KexueError
from kexue.fits import power_law_fit


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kw", [dict(lr=0.0), dict(lr=-1e-3), dict(lr=1e-3, eps=0.0), dict(lr=1e-3, eps=-1e-8),
                                dict(lr=1e-3, beta1=1.0), dict(lr=1e-3, beta2=1.0), dict(lr=1e-3, beta2=-0.1),
                                dict(lr=1e-3, variant="sgd")])
def test_bad_config(kw):
    with pytest.raises(KexueError):
        AdamConfig(**kw)


def test_bad_hessian_before_work():
    H = np.array([[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(KexueError, match="not symmetric"):
        check_hessian(H)
    with pytest.raises(KexueError, match="not symmetric"):
        run_quadratic(H, np.zeros(2), 0.0, 10**9, AdamConfig(1e-3))  # would take hours if it started
    with pytest.raises(KexueError, match="positive definite"):
        check_hessian(np.array([[1.0, 2.0], [2.0, 1.0]]), require_pd=True)
    with pytest.raises(KexueError, match="non-positive"):
        check_hessian(np.array([1.0, -1.0]), require_pd=True)
    with pytest.raises(KexueError):
        check_hessian(np.ones((2, 3)))
    with pytest.raises(KexueError, match="positive definite"):
        ah.newton_one_step(np.array([[1.0, 0.0], [0.0, -1.0]]), np.random.default_rng(0))


def test_bad_runner_args():
    cfg = AdamConfig(1e-3)
    with pytest.raises(KexueError, match="batch"):
        run_linreg(np.ones((5, 2)), np.ones(5), np.zeros(2), 10, cfg, batch=0)
    with pytest.raises(KexueError, match="rng"):
        run_linreg(np.ones((5, 2)), np.ones(5), np.zeros(2), 10, cfg, batch=2)
    with pytest.raises(KexueError, match="share one variant"):
        run_quadratic(np.ones(2), np.zeros(2), 0.0, 10, [cfg, AdamConfig(1e-3, variant="adabelief")])
    with pytest.raises(KexueError, match="steps"):
        run_quadratic(np.ones(2), np.zeros(2), 0.0, 1, cfg)


# ------------------------------------------------------------------------------ the step
def test_adam_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    h = 10 ** rng.uniform(-1, 1, 7)
    theta = rng.standard_normal(7)
    p = torch.tensor(theta.copy(), requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.99), eps=1e-8)
    cfg = AdamConfig(1e-2, 0.9, 0.99, 1e-8)
    st = init_state(7)
    for _ in range(50):
        opt.zero_grad()
        (0.5 * (torch.tensor(h) * p * p).sum()).backward()
        opt.step()
        theta, _ = adam_step(theta, h * theta, st, cfg)
    np.testing.assert_allclose(theta, p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_rmsprop_is_adam_without_momentum_and_adabelief_first_step():
    g = np.array([0.3, -2.0, 1e-3])
    th = np.zeros(3)
    a, _ = adam_step(th, g, init_state(3), AdamConfig(0.1, 0.0, 0.9, 1e-12))
    r, _ = adam_step(th, g, init_state(3), AdamConfig(0.1, 0.5, 0.9, 1e-12, "rmsprop"))
    np.testing.assert_allclose(a, r, rtol=1e-15)
    np.testing.assert_allclose(a, -0.1 * np.sign(g), rtol=1e-8)  # first Adam step is lr * sign(g) (up to eps)
    # AdaBelief (published, eps inside s): m1 = (1-b1) g, s1 = (1-b2)(g - m1)^2 + eps, bias-corrected
    b1, b2, eps = 0.9, 0.99, 1e-8
    st = init_state(3)
    ab, root = adam_step(th, g, st, AdamConfig(0.1, b1, b2, eps, "adabelief"))
    s1 = (1 - b2) * (b1 * g) ** 2 + eps
    np.testing.assert_allclose(st["v"], s1, rtol=1e-15)
    np.testing.assert_allclose(ab, -0.1 * g / (np.sqrt(s1 / (1 - b2)) + eps), rtol=1e-12)


def test_full_batch_adam_slope_one_and_equal_amplitude():
    # Adam is invariant to the gradient scale: each coordinate of a diagonal quadratic follows the same
    # dynamics in theta - theta*, so sqrt(v_hat) = h * const (slope 1) and the amplitude is the same.
    rng = np.random.default_rng(1)
    h = 10 ** rng.uniform(-2, 2, 12)
    r = run_quadratic(h, 0.01 * rng.standard_normal(12), 0.0, 3000,
                      [AdamConfig(1e-3, 0.9, 0.9, 1e-12), AdamConfig(1e-3, 0.9, 0.99, 1e-12)])
    for i in range(2):
        fit = power_law_fit(h, r["mean_sqrt_vhat"][i])
        assert abs(fit["slope"] - 1) < 0.02 and fit["r2"] > 0.999
        s = r["std_theta"][i]
        assert s.std() / s.mean() < 0.05
        assert 1e-5 < s.mean() < 1e-4  # a few lr-sized steps (card: 3.0e-5)


def test_dense_hessian_runner_converges_to_oscillation():
    H = ah.random_spd(6, np.random.default_rng(2))
    r = run_quadratic(H, np.full(6, 0.01), 0.0, 2000, AdamConfig(1e-3, 0.9, 0.99, 1e-12))
    assert np.max(np.abs(r["mean_offset"])) < 1e-3 and "newton_ratio" not in r


def test_linreg_minibatch_vs_full_slopes():
    rng = np.random.default_rng(3)
    d = ah.make_linreg(20, 800, 0.5, -1.5, 1.5, rng)
    cfg = AdamConfig(1e-3, 0.9, 0.99, 1e-12)
    rb = run_linreg(d["X"], d["y"], np.zeros(20), 3000, cfg, batch=8, rng=rng, avg_from=1500)
    slope_b = power_law_fit(rb["hdiag"], rb["mean_sqrt_vhat"])["slope"]
    assert 0.4 < slope_b < 0.6  # minibatch noise: v ~ s^2 h / B (Gauss-Newton)


# ------------------------------------------------------------------------------ article checks
def test_c1_second_moment():
    rng = np.random.default_rng(4)
    H = ah.random_spd(20, rng)
    assert np.all(np.linalg.eigvalsh(H) > 0.099) and np.all(np.linalg.eigvalsh(H) < 10.01)
    r = ah.second_moment_error(H, 0.1, [1000, 100000], 2, rng)
    assert r["err"]["mean"][1] < 0.02 < r["err"]["mean"][0]


def test_c5_gauss_newton():
    r = ah.gauss_newton_check(50, 20000, 0.5, -1.5, 1.5, np.random.default_rng(5))
    assert r["diag_rel_err"] < 0.05 and r["per_coord_sd_theory"] == pytest.approx(math.sqrt(8 / 20000))


def test_c6_ema_theory():
    r = ah.ema_study(np.logspace(-1, 1, 40), 0.1, [0.9, 0.99], [0.0, 0.9], 3000, 3, np.random.default_rng(6))
    for got, th in zip(r["v_rel_rms"], r["v_rel_rms_theory"]):
        assert got == pytest.approx(th, rel=0.25)
    assert r["m_ratio"]["mean"][0] == pytest.approx(1.0, rel=0.2)
    assert r["m_ratio"]["mean"][1] == pytest.approx(math.sqrt(0.1 / 1.9), rel=0.3)


def test_c7_centred_vs_raw():
    H = ah.random_spd(10, np.random.default_rng(7))
    r = ah.centred_study(H, 0.1, [0.0, 1.0], 20000, 2, np.random.default_rng(8))
    assert r["raw_err"]["mean"][0] == pytest.approx(r["cov_err"]["mean"][0], rel=0.1)  # at theta*: the same
    assert r["raw_err"]["mean"][1] > 10 * r["cov_err"]["mean"][1]


def test_c8_closed_forms():
    nw = ah.newton_one_step(ah.random_spd(20, np.random.default_rng(9)), np.random.default_rng(10))
    assert nw["grad1"] < 1e-10
    ia = ah.idealised_adam(np.logspace(-2, 2, 50), 0.1, 100, np.random.default_rng(11))
    # each coordinate halves per step, so the loss falls by exactly 4 per step: 0.25^k <= 1e-6 at k = 10
    assert ia["adam_steps_to_1e-6"] == math.ceil(math.log(1e-6) / math.log(0.25)) == 10
    np.testing.assert_allclose(ia["adam_ratio"][:5], 0.25 ** np.arange(5), rtol=1e-12)
    assert ia["gd_ratio"][100] > 1e-6


def test_network_hessian_is_exact():
    torch = pytest.importorskip("torch")
    from kexue import adam_hessian_network as an

    rng = np.random.default_rng(12)
    X, y = rng.uniform(0, 1, (40, 64)), rng.integers(0, 10, 40)
    Xt, Yt, model = an.make_problem(X, y, 40, 3, seed=0)
    H = an.exact_hessian(model, Xt, Yt, 1e-3)
    assert np.allclose(H, H.T)
    v = torch.zeros(an.flat(model).numel(), dtype=torch.float64)
    v[5] = 1.0
    L = an.loss_fn(model, Xt, Yt, 1e-3)
    g = torch.autograd.grad(L, list(model.parameters()), create_graph=True)
    gv = sum((gi.reshape(-1) * vi).sum() for gi, vi in zip(g, torch.split(v, [p.numel() for p in model.parameters()])))
    hv = torch.cat([t.reshape(-1) for t in torch.autograd.grad(gv, list(model.parameters()))]).numpy()
    np.testing.assert_allclose(H[:, 5], hv, rtol=1e-10, atol=1e-14)


def test_params_reject_bad_values():
    from pydantic import ValidationError

    from kexue.params import load_raw, resolve_block
    from stages.a10588_adam_hessian_approximation import Params
    from tests.conftest import ROOT

    ok = resolve_block(load_raw(ROOT / "params.yaml")["a10588"], "smoke")
    Params(**ok)
    for bad in (dict(quad_lr=0.0), dict(quad_eps=0.0), dict(quad_beta1=1.0), dict(lr_betas=[0.9, 1.0]),
                dict(quad_betas2=[0.9, 0.999]), dict(lr_batches=[8, 64]), dict(c1_K=[1000, 100]),
                dict(h_log10_lo=2.0), dict(net_batches=[0, "full"])):
        with pytest.raises(ValidationError):
            Params(**{**ok, **bad})


def test_hutchinson_and_lanczos_match_exact():
    pytest.importorskip("torch")
    from kexue import adam_hessian_network as an

    rng = np.random.default_rng(13)
    X, y = rng.uniform(0, 1, (40, 64)), rng.integers(0, 10, 40)
    Xt, Yt, model = an.make_problem(X, y, 40, 3, seed=1)
    an.lbfgs_minimum(model, Xt, Yt, 1e-2, 200)
    H = an.exact_hessian(model, Xt, Yt, 1e-2)
    hd = an.hutchinson_diag(model, Xt, Yt, 1e-2, 400, seed=0)
    err = np.abs(hd["diag"] - np.diag(H))
    assert np.mean(err <= 4 * hd["se"] + 1e-12) > 0.97  # unbiased, with an honest standard error
    ev = np.linalg.eigvalsh(H)
    lo, hi = an.extreme_eigenvalues(model, Xt, Yt, 1e-2, 5000)
    assert hi == pytest.approx(ev[-1], rel=1e-6) and lo == pytest.approx(ev[0], rel=1e-3, abs=1e-7)
