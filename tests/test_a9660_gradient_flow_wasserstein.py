"""Unit tests for article 9660 (gradient flows): the shared Fokker–Planck solver (fixed point first),
closed forms for the Gaussian flow, GD / prox / natural-gradient / JKO steps, Langevin samplers,
and the bad-input errors."""
import math

import numpy as np
import pytest

from kexue import fokker_planck as fpk
from kexue import gradient_flow as gf
from kexue import langevin
from kexue.errors import KexueError


def _grid(n=300, lo=-10.0, hi=10.0):
    e = np.linspace(lo, hi, n + 1)
    x = 0.5 * (e[1:] + e[:-1])
    return x, float(x[1] - x[0])


# ------------------------------------------------------------------ Fokker–Planck solver
def test_target_is_exact_fixed_point():
    x, dx = _grid()
    for log_p in (fpk.gaussian_log_density(x, 0.7, 1.3 ** 2), fpk.mixture_log_density(x, [0.3, 0.7], [-2, 2], [0.5, 1])):
        fp = fpk.FokkerPlanck1D(x, log_p)
        assert np.max(np.abs(fp.rhs(fp.p))) <= 1e-12 * np.max(fp.p) / dx ** 2  # A p = 0 up to rounding
        for flow in fpk.FLOWS:
            r = fp.run(fp.p, dt=0.01, t_end=1.0, flow=flow)
            assert np.max(np.abs(r["kl"])) < 1e-12 and np.max(np.abs(r["mass"] - 1)) < 1e-12


def test_bernoulli_and_sign_convention():
    assert fpk.bernoulli(0.0) == 1.0
    z = np.array([-3.0, -1e-7, 1e-7, 0.5, 4.0])
    assert np.allclose(fpk.bernoulli(z), z / np.expm1(z), rtol=1e-12)
    # B(-z)/B(z) = e^z: the ratio that makes exp(-U) stationary (a swapped sign would give e^-z)
    assert np.allclose(fpk.bernoulli(-z) / fpk.bernoulli(z), np.exp(z))
    A = fpk.sg_operator(np.linspace(0, 2, 6) ** 2, 0.1)
    assert np.allclose(np.asarray(A.sum(axis=0)).ravel(), 0.0, atol=1e-10)  # columns sum to 0: mass conserved


def test_gaussian_flow_matches_closed_form():
    x, dx = _grid(400)
    mu, s2, m0, v0 = 0.0, 1.0, -1.0, 0.25
    fp = fpk.FokkerPlanck1D(x, fpk.gaussian_log_density(x, mu, s2))
    q0 = fpk.density_from_log(fpk.gaussian_log_density(x, m0, v0), dx)
    r = fp.run(q0, dt=0.005, t_end=3.0, snapshot_times=[1.0])
    mt, vt = gf.gauss_flow(r["t"], mu, s2, m0, v0)
    assert np.max(np.abs(r["kl"] - gf.gauss_kl_to_target(mt, vt, mu, s2))) < 1e-3
    assert np.all(np.diff(r["kl"]) <= 1e-12) and np.max(np.abs(r["mass"] - 1)) < 1e-12
    m, v = fpk.moments(x, r["snapshots"][1.0], dx)
    mt1, vt1 = gf.gauss_flow(1.0, mu, s2, m0, v0)
    assert abs(m - mt1) < 5e-3 and abs(v - vt1) < 5e-3
    kd = np.gradient(r["kl"], 0.005)[10:-1]
    assert np.max(np.abs(kd + r["fisher"][10:-1]) / r["fisher"][10:-1]) < 0.03  # dissipation identity (C7)


def test_forward_kl_flow_decreases_and_conserves_mass():
    x, dx = _grid(200)
    fp = fpk.FokkerPlanck1D(x, fpk.mixture_log_density(x, [0.5, 0.5], [-1.5, 1.5], [1, 1]))
    q0 = fpk.density_from_log(fpk.gaussian_log_density(x, -3.0, 4.0), dx)
    r = fp.run(q0, dt=0.01, t_end=2.0, flow="forward_kl")
    assert np.all(np.diff(r["kl_fwd"]) <= 1e-9) and r["kl_fwd"][-1] < r["kl_fwd"][0]
    assert np.max(np.abs(r["mass"] - 1)) < 1e-8


@pytest.mark.parametrize("x", [np.array([0.0, 1.0]), np.array([1.0]), np.array([])])
def test_bad_grid(x):
    with pytest.raises(KexueError, match="at least 3"):
        fpk.FokkerPlanck1D(x, np.zeros_like(x))


def test_bad_dt_and_density():
    x, dx = _grid(50)
    fp = fpk.FokkerPlanck1D(x, fpk.gaussian_log_density(x, 0, 1))
    for dt in (0.0, -0.1, float("nan")):
        with pytest.raises(KexueError, match="dt"):
            fp.run(fp.p, dt=dt, t_end=1.0)
    neg = fp.p.copy()
    neg[3] = -1e-3
    with pytest.raises(KexueError, match="negative"):
        fp.run(neg, dt=0.01, t_end=1.0)
    with pytest.raises(KexueError, match="integrates to"):
        fp.run(2 * fp.p, dt=0.01, t_end=1.0)
    with pytest.raises(KexueError, match="uniformly"):
        fpk.FokkerPlanck1D(np.array([0.0, 1.0, 3.0]), np.zeros(3))
    with pytest.raises(KexueError, match="flow"):
        fp.run(fp.p, dt=0.01, t_end=1.0, flow="chi2")


# ------------------------------------------------------------------ finite-dimensional steps
def test_gd_first_order_and_dissipation():
    q = gf.Quadratic((1.0, 10.0))
    x0 = np.array([1.0, 1.0])
    e1, e2 = (gf.gd_global_error(q, x0, a, 1.0) for a in (1e-3, 5e-4))
    assert 1.9 < e1 / e2 < 2.1
    assert gf.dissipation_mismatch(gf.lse_2d(), np.array([2.0, -1.5]), 1.0) < 1e-4
    assert gf.gd_monotone(q, x0, 1.9 / q.L, 20) and not gf.gd_monotone(q, x0, 2.1 / q.L, 20)


def test_lse_gradient_and_L_bound():
    f = gf.lse_2d()
    x = np.array([0.3, -0.7])
    h = 1e-6
    g_fd = [(f.f(x + h * e) - f.f(x - h * e)) / (2 * h) for e in np.eye(2)]
    assert np.allclose(f.grad(x), g_fd, atol=1e-8)
    assert np.max(np.linalg.eigvalsh(f.hess(x))) <= f.L


def test_prox_of_quadratic_is_closed_form():
    q = gf.Quadratic((1.0, 10.0))
    x = np.array([0.4, -1.2])
    for a in (0.01, 0.3):
        assert np.allclose(gf.prox_step(q, x, a), x / (1 + a * q.h), atol=1e-10)


def test_steepest_directions():
    f, x = gf.lse_2d(), np.array([0.3, -0.2])
    for nm, (sphere, pred) in gf.norms_2d([[2.0, 0.6], [0.6, 1.0]]).items():
        assert gf.angle_deg(gf.brute_force_2d(f, x, 1e-3, sphere, 20000), pred(f.grad(x))) < 2.0, nm


def test_kl_and_fisher():
    xt = np.array([0.5, math.log(1.5)])
    assert np.allclose(gf.fisher_gauss(xt), np.diag([1 / 2.25, 2.0]))
    g, H = gf.kl_derivatives_fd(xt)
    assert np.max(np.abs(gf.gauss_kl_grad(xt, xt))) == 0.0 and np.allclose(H, gf.fisher_gauss(xt), atol=1e-6)
    a = 1e-3  # the card's calibration: relative gap about 4.4 alpha
    nat = gf.natural_step(xt, a)
    rel = np.linalg.norm(gf.kl_step(xt, a) - nat) / np.linalg.norm(nat - xt)
    assert 4.0 * a < rel < 5.0 * a


def test_jko_equals_implicit_euler():
    m, sd = gf.jko_step(-1.0, 0.5, 0.1, 0.0, 1.0)
    me, sde = gf.jko_implicit_euler(-1.0, 0.5, 0.1, 0.0, 1.0)
    assert abs(m - me) < 1e-7 and abs(sd - sde) < 1e-7
    assert math.isclose(me, -1.0 / 1.1)
    with pytest.raises(KexueError, match="divide"):
        gf.jko_path(0.3, 2.0, 0.0, 1.0, -1.0, 0.25)


def test_gauss_kl_closed_form():
    assert gf.gauss_kl_to_target(0.0, 1.0, 0.0, 1.0) == 0.0
    assert math.isclose(gf.gauss_kl_to_target(-1.0, 0.25, 0.0, 1.0), math.log(2) + 1.25 / 2 - 0.5)


# ------------------------------------------------------------------ particles
def test_ou_and_flow_ode_moments():
    rng = np.random.default_rng(0)
    x0 = -1.0 + 0.5 * rng.standard_normal(20000)
    ts = [0.5, 2.0]
    sde = langevin.ou_exact(x0, ts, 0.0, 1.0, rng)
    ode = langevin.gaussian_flow_ode(x0, ts, 0.0, 1.0, -1.0, 0.25)
    for t in ts:
        mt, vt = gf.gauss_flow(t, 0.0, 1.0, -1.0, 0.25)
        for s in (sde[t], ode[t]):
            assert abs(s.mean() - mt) < 4 * math.sqrt(vt / s.size) and abs(s.var() / vt - 1) < 0.05
        # the ODE is the affine transport x -> m_t + (x - m0) sqrt(v_t / v0)
        assert np.allclose(ode[t], mt + (x0 + 1.0) * math.sqrt(vt / 0.25), atol=1e-6)


def test_ula_and_mixture_score():
    w, mu, sd = [0.3, 0.7], [-2.0, 2.0], [0.5, 1.0]
    z = np.linspace(-4, 4, 9)
    h = 1e-6
    fd = (fpk.mixture_log_density(z + h, w, mu, sd) - fpk.mixture_log_density(z - h, w, mu, sd)) / (2 * h)
    assert np.allclose(fpk.mixture_score(z, w, mu, sd), fd, atol=1e-6)
    with pytest.raises(KexueError, match="multiples"):
        langevin.ula(np.zeros(3), [0.013], lambda v: -v, 0.01, np.random.default_rng(0))


# ------------------------------------------------------------------ 2-D (full profile)
def test_2d_operator_is_kron_sum_for_separable_potential_and_keeps_p():
    from scipy import sparse

    x, dx = _grid(12, -3, 3)
    y, dy = _grid(9, -2, 4)
    Ux, Uy = 0.5 * (x - 0.3) ** 2, 0.25 * y ** 4
    A2 = fpk.sg_operator_2d(Ux[:, None] + Uy[None, :], dx, dy)
    Ax, Ay = fpk.sg_operator(Ux, dx), fpk.sg_operator(Uy, dy)
    K = sparse.kron(Ax, sparse.identity(y.size)) + sparse.kron(sparse.identity(x.size), Ay)
    assert abs(A2 - K).max() < 1e-10
    W, MU, C = [0.4, 0.6], [[-1.5, -0.5], [1.5, 1.0]], [[[1, 0.5], [0.5, 1]], [[0.6, -0.2], [-0.2, 0.8]]]
    X, Y = np.meshgrid(x, y, indexing="ij")
    log_p, _ = langevin.gaussian_mixture_nd(np.stack([X, Y], -1), W, MU, C)
    fp = fpk.FokkerPlanck2D(x, y, log_p)
    r = fp.run(fp.p, dt=0.01, t_end=0.5)
    assert np.max(np.abs(r["kl"])) < 1e-12 and np.max(np.abs(r["mass"] - 1)) < 1e-12
    q0 = fpk.density_from_log(langevin.gaussian_mixture_nd(np.stack([X, Y], -1), [1.0], [[-1, 2]], [np.eye(2)])[0],
                              fp.da)
    r = fp.run(q0, dt=0.01, t_end=0.5)
    assert np.all(np.diff(r["kl"]) < 0) and np.max(np.abs(r["mass"] - 1)) < 1e-12
    with pytest.raises(KexueError, match="at least 3"):
        fpk.FokkerPlanck2D(x[:2], y, log_p[:2])


def test_mixture_nd_score_and_density():
    from scipy.stats import multivariate_normal as mvn

    W, MU, C = [0.4, 0.6], [[-1.5, -0.5], [1.5, 1.0]], [[[1, 0.5], [0.5, 1]], [[0.6, -0.2], [-0.2, 0.8]]]
    z = np.random.default_rng(1).normal(size=(6, 2))
    lp, s = langevin.gaussian_mixture_nd(z, W, MU, C)
    assert np.allclose(lp, np.log(0.4 * mvn(MU[0], C[0]).pdf(z) + 0.6 * mvn(MU[1], C[1]).pdf(z)))
    h = 1e-6
    for i, e in enumerate(np.eye(2) * h):
        fd = (langevin.gaussian_mixture_nd(z + e, W, MU, C)[0] - langevin.gaussian_mixture_nd(z - e, W, MU, C)[0]) / (2 * h)
        assert np.allclose(s[:, i], fd, atol=1e-6)
