"""Unit tests for article 9687 (self-consuming loops): the closed-form Gaussian chains against the direct simulation
and the card's reference values, the numpy EM, the loop driver's data flow, the checks, and the bad-input errors."""
import copy
import math

import numpy as np
import pytest

from kexue.errors import KexueError
from kexue.gaussian_refit_chains import (bartlett_factor, chain_metrics, kappa, rotated_cov, run_chains,
                                         wishart_bartlett)
from kexue.gmm_em import fit_gmm
from kexue.mixture_metrics import Mixture
from kexue.self_consuming import PcaGmm, check_loop, run_loop, scaled

S0 = rotated_cov([1.0, 0.25], 30)


def test_kappa_card_value_and_large_n():
    assert kappa(20) == pytest.approx(0.0536, abs=5e-5)          # card: kappa_20 = 0.0536
    for n in (101, 1001):
        assert kappa(n) == pytest.approx(1 / (n - 1), rel=2 / (n - 1))   # kappa_n ~ 1/(n-1)
    # kappa_n = -E log(chi2_{n-1}/(n-1)), by Monte Carlo
    x = np.random.default_rng(0).chisquare(19, 400000) / 19
    assert -np.log(x).mean() == pytest.approx(kappa(20), abs=1e-3)


def test_rotated_cov():
    assert np.trace(S0) == pytest.approx(1.25)
    assert np.linalg.eigvalsh(S0) == pytest.approx([0.25, 1.0])
    assert S0[0, 1] == pytest.approx(0.75 * math.sin(math.radians(30)) * math.cos(math.radians(30)))


def test_bartlett_wishart_moments():
    rng = np.random.default_rng(1)
    L = np.broadcast_to(np.linalg.cholesky(S0), (200000, 2, 2))
    W = wishart_bartlett(L, 9, rng)
    assert W.mean(0) == pytest.approx(9 * S0, abs=0.03)             # E W = df Sigma
    # Var W_11 = 2 df Sigma_11^2
    assert W[:, 0, 0].var() == pytest.approx(2 * 9 * S0[0, 0] ** 2, rel=0.03)
    A = bartlett_factor(5, 3, 10, rng)
    assert np.allclose(np.triu(A, 1), 0) and (np.diagonal(A, axis1=1, axis2=2) > 0).all()


def test_closed_form_chains_match_direct_simulation():
    kw = dict(n=8, lam=0.8, generations=6, chains=6000)
    a = run_chains([0, 0], S0, rng=np.random.default_rng(2), method="bartlett", **kw)
    b = run_chains([0, 0], S0, rng=np.random.default_rng(3), method="direct", **kw)
    for key in ("trace_mean", "mu_cov_trace", "logdet_mean"):
        se = np.hypot(a.get(key + "_se", a["trace_se"]), b.get(key + "_se", b["trace_se"]))
        assert np.all(np.abs(a[key] - b[key])[1:] <= 5 * se[1:] + 0.05 * np.abs(a[key][1:])), key
    # both follow E[lam Sigma_t] = lam^t Sigma0 (C1)
    for r in (a, b):
        assert np.all(np.abs(r["c1_ratio"][1:] - 1) <= 5 * r["c1_ratio_se"][1:])


def test_c2_identity_and_unbiased_generation_zero():
    r = run_chains([1.0, -2.0], S0, n=50, lam=1.0, generations=10, chains=20000, rng=np.random.default_rng(4))
    assert r["trace_mean"][0] == pytest.approx(1.25) and r["mu_cov_trace"][0] == 0
    assert np.all(np.abs(r["c2_ratio"][1:] - 1) <= 4 * r["c2_ratio_se"][1:])


def test_chain_metrics_c3_slope():
    r = run_chains([0.0], [[1.0]], n=20, lam=1.0, generations=80, chains=4000, rng=np.random.default_rng(5))
    r.pop("kept")
    m = chain_metrics({"d1_n20_l1": r})["d1_n20_l1"]
    assert m["c3_fit"]["slope"] == pytest.approx(-kappa(20), rel=0.15)
    assert m["median_var"]["10"] == pytest.approx(0.60, rel=0.06)     # card calibration: 0.60 at t = 10


@pytest.mark.parametrize("kw, match", [
    (dict(generations=0), "at least one generation"), (dict(lam=0.0), "lam = 0.0"), (dict(lam=1.5), "lam = 1.5"),
    (dict(n=2), "n >= d \\+ 1"), (dict(chains=1), "chains = 1")])
def test_run_chains_bad_input(kw, match):
    args = dict(n=10, lam=1.0, generations=3, chains=10, rng=np.random.default_rng(0)) | kw
    with pytest.raises(KexueError, match=match):
        run_chains([0, 0], S0, **args)


def test_fit_gmm_recovers_two_components():
    rng = np.random.default_rng(6)
    truth = Mixture([0.3, 0.7], [[-3, 0], [3, 1]], [0.25, 1.0])
    mix, info = fit_gmm(truth.sample(4000, rng), 2, rng, restarts=2)
    order = np.argsort(mix.mu[:, 0])
    assert mix.w[order] == pytest.approx([0.3, 0.7], abs=0.03)
    assert mix.mu[order] == pytest.approx(np.array([[-3, 0], [3, 1]]), abs=0.1)
    assert info["converged"]
    with pytest.raises(KexueError, match="k = 9 components for 5 points"):
        fit_gmm(np.zeros((5, 2)), 9, rng)


def test_scaled_and_pca_gmm():
    mix = Mixture([0.5, 0.5], [[0, 0], [1, 1]], [1.0, 2.0])
    assert np.allclose(scaled(mix, 0.5).cov, 0.5 * mix.cov) and np.allclose(scaled(mix, 0.5).mu, mix.mu)
    with pytest.raises(KexueError, match="lambda = 0"):
        scaled(mix, 0)
    rng = np.random.default_rng(7)
    X = np.clip(rng.normal(0, 0.4, (300, 16)), -1, 1)
    g = PcaGmm(X, 4, 2, rng, restarts=1)
    S = g.sample(50, rng, lam=0.7)
    assert S.shape == (50, 16) and S.min() >= -1 and S.max() <= 1 and 0 < g.explained < 1


@pytest.mark.parametrize("kind", ["synthetic", "fixed", "fresh"])
def test_run_loop_data_flow(kind):
    """Generation 1 is all real; fixed reuses its real part, fresh redraws it; synthetic has no real data after g = 1."""
    draw = lambda m, r: r.uniform(0, 1, (m, 1))                      # noqa: E731  real data in [0, 1]
    fit = lambda X, g: X.copy()                                       # noqa: E731  "model" = its training set
    sample = lambda model, m, r: -np.ones((m, 1))                    # noqa: E731  synthetic data = -1
    models = run_loop(kind, generations=3, n=6, n_real=4, n_syn=2, draw_real=draw, fit=fit, sample=sample,
                      rng=np.random.default_rng(0))
    assert len(models) == 3 and (models[0] >= 0).all() and len(models[0]) == 6
    for X in models[1:]:
        if kind == "synthetic":
            assert (X == -1).all()
        else:
            assert (X[4:] == -1).all() and (X[:4] >= 0).all()
            assert np.array_equal(X[:4], models[0][:4]) == (kind == "fixed")


@pytest.mark.parametrize("args, match", [
    (("synthetic", 0, 10, 5, 5), "at least 1 generation"), (("fixed", 3, 10, 5, 5, 0.0), "lambda = 0.0"),
    (("fresh", 3, 10, 5, 5, -1.0), "lambda = -1.0"), (("mixed", 3, 10, 5, 5), "loop kind 'mixed'"),
    (("fresh", 3, 10, 0, 5), "n_real = 0")])
def test_check_loop_bad_input(args, match):
    with pytest.raises(KexueError, match=match):
        check_loop(*args)


# ------------------------------------------------------------------------------------------ params and checks
@pytest.fixture(scope="module")
def registry():
    from kexue.params import load_raw
    from kexue.registry import load
    from tests.conftest import ROOT
    return load_raw(ROOT / "params.yaml"), load().articles


@pytest.mark.parametrize("key, value, match", [
    ("b_generations", 0, "b_generations"), ("a_lambdas", [1.0, 0.0], "lambda must lie in"),
    ("b_lambdas", [0.8], "must include 1"), ("b_n_real", 7, "must equal b_n"),
    ("a_generations", 0, "a_generations"), ("b_weights", [0.5, 0.5], "positive weights summing to 1"),
    ("c_n_eval", 10, "c_n_eval")])
def test_params_rejected_before_work(registry, key, value, match):
    from kexue.params import validate
    raw = copy.deepcopy(registry[0])
    raw["a9687"][key] = value
    with pytest.raises(KexueError, match=match):
        validate(raw, registry[1])


def test_checks_on_made_up_metrics():
    from stages.a9687_self_consuming_mad import check_c6, check_c7
    mk = lambda fr, fi, sy: {"a9687_mix": {"eval_gens": [1, 2, 3], "floor": {"w2": [0.4, 0.5]}, "n_eval": 9, "loops": {  # noqa: E501,E731
        "fresh": {"w2": [[0.5, 0.5, fr]] * 2}, "fixed": {"w2": [[0.5, 0.6, fi]] * 2},
        "synthetic_l1": {"w2": [[0.5, 0.7, sy]] * 2}}}}
    assert check_c6(mk(0.5, 0.7, 0.9), "default").passed
    assert not check_c6(mk(0.8, 0.7, 0.9), "default").passed
    m = mk(0.5, 0.7, 0.9)
    m["a9687_mix"]["loops"]["fresh"]["w2"] = [[0.5, 0.52, 0.49], [0.51, 0.5, 0.5]]
    assert check_c7(m, "default").passed
    m["a9687_mix"]["loops"]["fresh"]["w2"] = [[0.5, 0.6, 0.7], [0.51, 0.61, 0.72]]
    assert not check_c7(m, "default").passed


def test_full_profile_params_validate_and_ddpm_generator_runs(registry, tmp_path):
    """The full profile (DDPM on Fashion-MNIST) validates; its generator trains and samples end to end (tiny sizes)."""
    from types import SimpleNamespace

    from kexue.params import resolve_block
    from kexue.self_consuming_ddpm import DdpmGenerator
    from stages.a9687_self_consuming_mad import Params

    full = Params(**resolve_block(registry[0]["a9687"], "full"))
    assert full.c_model == "ddpm" and full.c_data == "fashion28" and full.c_lambdas == [1.0]
    p = SimpleNamespace(**{**full.model_dump(), "c_unet_widths": [8], "c_groups": 4, "c_t_dim": 16, "c_steps": 3,
                           "c_batch": 8, "c_ema_decay": 0.0, "c_sample_steps": 2, "c_sample_batch": 3})
    gen = DdpmGenerator(p, run_dir=tmp_path, fingerprint="t", log=lambda *_: None)
    X = np.random.default_rng(0).uniform(-1, 1, (16, 64)).astype(np.float32)
    model = gen.fit(X, "g1", seed=0)
    S = gen.sample(model, 5, np.random.default_rng(1))
    assert S.shape == (5, 64) and np.isfinite(S).all() and S.min() >= -1 and S.max() <= 1
