"""Article 9467 (W2 <= score matching): closed forms, the card's calibration values, sign conventions, bad input."""
import math

import numpy as np
import pytest
import torch

from kexue import score_w2_gaussian as G
from kexue import score_w2_learned as L
from kexue.diffusion.exact import GaussianData
from kexue.diffusion.schedules import VPSDE
from kexue.errors import KexueError
from kexue.optimal_transport import empirical_w2, gaussian_ot_map, gaussian_w2

VP = G.VPCoefficients(0.1, 20.0)


def test_vp_coefficients_mirror_the_shared_vpsde():
    sch = VPSDE(0.1, 20.0)
    vp = G.VPCoefficients.from_schedule(sch)
    t = np.linspace(0, 1, 11)
    tt = torch.tensor(t)
    assert np.allclose(vp.abar2(t), sch.abar(tt).numpy() ** 2, rtol=1e-12, atol=0)
    assert np.allclose(vp.bbar2(t), sch.bbar(tt).numpy() ** 2, rtol=1e-12, atol=1e-15)
    assert np.allclose(vp.beta(t), sch.g2(tt).numpy(), rtol=1e-14)
    assert np.allclose(-0.5 * vp.beta(t), sch.f(tt).numpy(), rtol=1e-14)


@pytest.mark.parametrize("idx", [0, 1, 2])
def test_card_calibration_values(idx):
    case, ref = G.calibration_cases()[idx]
    r = G.evaluate_case(case, VP)
    for k, v in ref.items():
        assert abs(r[k] - v) <= 6e-5, (k, r[k], v)  # the card prints 4 decimals
    assert r["exact_flow_err"] < 1e-8


def test_exact_score_1d_bound_is_tight_and_coupling_optimal():
    case = G.LinearScoreCase(m=[0.5], S=[[4.0]], Delta=[[0.0]], eta=[0.0])
    r = G.evaluate_case(case, VP)
    # exact 1-D flow is affine with slope I_T: W2 at 0 = I_T W2 at T, and I_T = s0 / sqrt(Sigma_T)
    Sig_T = VP.abar2(1.0) * 4.0 + VP.bbar2(1.0)
    assert r["I_T"] == pytest.approx(2.0 / math.sqrt(Sig_T), rel=1e-9)
    assert r["J_half"] == pytest.approx(0.0, abs=1e-14)
    assert r["w2_ode"] == pytest.approx(r["bound_half"], rel=1e-7)
    assert r["w2_tilde"] == pytest.approx(r["w2_ode"], rel=1e-7)


def test_exact_samplers_from_p_T_return_the_data():
    S = G.base_covariance(2, 1.0)
    case = G.LinearScoreCase(m=[0.5, -0.2], S=S, Delta=np.zeros((2, 2)), eta=[0.0, 0.0])
    start = case.marginal(VP, 1.0)
    for s in ("ode", "sde"):
        m, P = G.reverse_moments(case, VP, s, start=start)
        assert np.abs(m - case.m).max() < 1e-8 and np.abs(P - S).max() < 1e-8, s
    with pytest.raises(KexueError, match="sampler"):
        G.reverse_moments(case, VP, "ddim")


def test_score_error_and_lipschitz_against_brute_force():
    case = G.LinearScoreCase(m=[0.5, 0.5], S=G.base_covariance(2, 4.0), Delta=0.3 * G.perturbation(2, "matrix"),
                             eta=[0.1, -0.2])
    t = 0.3
    mu, Sig, Si, A, b = case.score_params(VP, t)
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal(mu, Sig, size=200000)
    err = ((-(x - mu) @ Si.T + (x - b) @ A.T) ** 2).sum(1)
    se = err.std() / math.sqrt(len(err))
    assert abs(err.mean() - G.score_error(case, VP, t) ** 2) < 4 * se
    # L_t = max over directions u of u.J u with J = 1/2 beta (I - A)
    J = 0.5 * float(VP.beta(t)) * (np.eye(2) - A)
    ang = np.linspace(0, np.pi, 20001)
    u = np.stack([np.cos(ang), np.sin(ang)], 1)
    assert np.einsum("ni,ij,nj->n", u, J, u).max() == pytest.approx(G.one_sided_lipschitz(case, VP, t), rel=1e-6)


def test_c5_exact_weight_closed_form():
    w = G.exact_weight(VP, 0.25, n_points=200)
    assert w["I_T"] == pytest.approx(w["I_T_closed"], abs=1e-9)
    assert w["I_T_closed"] == pytest.approx(0.5, abs=1e-3)  # the card: 0.5 for s0^2 = 0.25
    assert w["weight_increasing"] and w["bbar2_increasing"]
    with pytest.raises(KexueError, match="s0_sq"):
        G.exact_weight(VP, 0.0)


def test_c7_rotation_cross_term():
    r = G.rotation_cross_term(math.pi / 2, 50000, np.random.default_rng(1))
    assert r["closed"] == pytest.approx(-4.0)
    assert abs(r["values"].mean() + 4.0) < 4 * r["values"].std() / math.sqrt(50000)
    assert G.rotation_cross_term(math.pi, 10, np.random.default_rng(0))["closed"] == pytest.approx(-8.0)


def test_grid_size_and_kinds():
    cases = G.make_grid([1, 2], [-0.3, 0.0, 0.3], [0.0, 0.1], [1.0])
    assert len(cases) == 6 + 6 + 4  # d=2 matrix kind skips delta = 0
    P = G.perturbation(2, "matrix")
    assert np.allclose(P, P.T) and np.allclose(sorted(np.linalg.eigvalsh(P)), [-1, 1])


def test_optimal_transport_helpers():
    rng = np.random.default_rng(0)
    B1, B2 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    S1, S2 = B1 @ B1.T + 0.1 * np.eye(3), B2 @ B2.T + 0.1 * np.eye(3)
    K = gaussian_ot_map(S1, S2)
    assert np.allclose(K @ S1 @ K, S2) and np.allclose(K, K.T)
    # the map's transport cost equals the closed-form W2
    cost = np.trace(S1) + np.trace(S2) - 2 * np.trace(S1 @ K)
    assert math.sqrt(cost) == pytest.approx(gaussian_w2(np.zeros(3), S1, np.zeros(3), S2), rel=1e-8)
    X = rng.standard_normal((50, 2))
    assert empirical_w2(X, X[::-1]) == pytest.approx(0.0, abs=1e-12)
    assert empirical_w2(X, X + [3.0, 4.0]) == pytest.approx(5.0)
    with pytest.raises(KexueError, match="same shape"):
        empirical_w2(X, X[:10])
    with pytest.raises(KexueError, match="positive definite"):
        gaussian_ot_map(np.zeros((2, 2)), np.eye(2))


def test_learned_pipeline_conventions_on_an_exact_gaussian_model():
    """The learned-score code (score error, grid L_t) on the exact eps of N(0, 0.25 I): e_t = 0 and L_t equals
    Case A's closed form 1/2 beta (1 - 1/Sigma_t) (same reverse-time sign convention)."""
    sch = VPSDE(0.1, 20.0, t_min=1e-3)
    data = GaussianData([0.0, 0.0], 0.25, sch)
    ts = np.array([0.01, 0.3, 0.9])
    e = L.score_error_curve(data, data, ts, 64, seed=0)
    assert np.abs(e["e2"]).max() < 1e-10  # float32 model inputs
    Lc = L.lipschitz_curve(lambda x, t: data(x.double(), t.double()).float(), data, ts, grid=5)
    case = G.LinearScoreCase(m=[0.0, 0.0], S=0.25 * np.eye(2), Delta=np.zeros((2, 2)), eta=[0, 0])
    vp = G.VPCoefficients.from_schedule(sch)
    assert np.allclose(Lc, [G.one_sided_lipschitz(case, vp, t) for t in ts], rtol=1e-4, atol=1e-5)


def test_bound_from_curves_and_w2T():
    ts = np.linspace(0, 1, 101)
    b = L.bound_from_curves(ts, np.full(101, 2.0), np.full(101, 0.5), np.full(101, 4.0), w2T=0.1)
    # I_t = e^{t/2}, integrand 1/2 * 2 * e^{t/2} * 2 -> J = 4 (e^{1/2} - 1)
    assert b["I_T"] == pytest.approx(math.exp(0.5), rel=1e-12)
    assert b["J_half"] == pytest.approx(4 * (math.exp(0.5) - 1), rel=1e-4)
    assert b["bound_g2"] - b["bound_half"] == pytest.approx(b["J_half"])
    sch = VPSDE(0.1, 20.0, t_min=1e-3)
    mix = L.four_gaussians(sch)
    a, bb = float(sch.abar(1.0)), float(sch.bbar(1.0))
    assert L.w2_T_bound(mix) == pytest.approx(math.sqrt(a * a * 2.5 + (1 - bb) ** 2 * 2))
    with pytest.raises(KexueError, match="spread"):
        L.four_gaussians(sch, spread=0.0)


def test_dsm_minus_sm_gap_does_not_depend_on_the_model():
    sch = VPSDE(0.1, 20.0, t_min=1e-3)
    mix = L.four_gaussians(sch)
    models = {"zero": lambda x, t: torch.zeros_like(x), "exact": lambda x, t: mix.eps(x.double(), t.double()).float()}
    d = L.dsm_sm_draws(models, mix, 4000, seed=0)
    assert d["exact"]["sm"].max() < 1e-10
    diff = (d["zero"]["dsm"] - d["zero"]["sm"]) - (d["exact"]["dsm"] - d["exact"]["sm"])
    assert abs(diff.mean()) < 4 * diff.std() / math.sqrt(len(diff))
    assert (d["zero"]["dsm"] - d["zero"]["sm"]).mean() > 0


def test_bad_input():
    with pytest.raises(KexueError, match="positive definite"):
        G.LinearScoreCase(m=[0.0], S=[[-1.0]], Delta=[[0.0]], eta=[0.0])
    with pytest.raises(KexueError, match="shape"):
        G.LinearScoreCase(m=[0.0, 0.0], S=np.eye(2), Delta=[[0.0]], eta=[0.0, 0.0])
    with pytest.raises(KexueError, match="beta_min"):
        G.VPCoefficients(0.0, 20.0)
    with pytest.raises(KexueError, match="perturbation kind"):
        G.perturbation(2, "diagonal")


def test_params_schema():
    from pydantic import ValidationError

    from kexue.params import load_raw, resolve_block
    from stages.a9467_wasserstein_score_matching import Params
    from tests.conftest import ROOT

    block = load_raw(ROOT / "params.yaml")["a9467"]
    for prof in ("smoke", "default", "full"):
        Params(**resolve_block(block, prof))
    good = resolve_block(block, "default")
    for bad, msg in (({"beta_max": 0.05}, "beta_max"), ({"beta_max": 2.0}, "remembers"),
                     ({"lip_t_points": 100}, "lip_t_points"), ({"deltas": [-1.5]}, "greater than"),
                     ({"checkpoints": 2}, "greater than or equal"), ({"w2_repeats": 1}, "greater than or equal")):
        with pytest.raises(ValidationError, match=msg):
            Params(**{**good, **bad})
