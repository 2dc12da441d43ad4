"""kexue.diffusion (schedules, losses, samplers, exact models) against exact answers.

Monte Carlo tolerances are stated from the sample size n: a mean is checked to 4 SE = 4 sqrt(var/n), a variance
or covariance entry to 4 sqrt((S_ii S_jj + S_ij^2)/n) (its Gaussian-data SE), plus a stated discretisation
allowance where the sampler is not exact (ancestral DDPM / EM-SDE at finite T).
"""
import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from kexue.diffusion import exact as E
from kexue.diffusion import losses as Ls
from kexue.diffusion import samplers as P
from kexue.diffusion import schedules as S
from kexue.errors import KexueError
from kexue.fits import convergence_order

F64 = torch.float64
MU = torch.tensor([0.5, -1.0], dtype=F64)
COV = torch.tensor([[2.25, 0.3], [0.3, 0.5]], dtype=F64)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def assert_moments(x, mean, cov, k=4.0, bias=0.0):
    """Sample mean / covariance of x (n, d) within k SE (+ bias) of the exact values."""
    n = x.shape[0]
    x = x.reshape(n, -1).to(F64)
    mean, cov = mean.reshape(-1), cov.reshape(mean.numel(), mean.numel())
    se_m = torch.sqrt(torch.diag(cov) / n)
    assert torch.all((x.mean(0) - mean).abs() <= k * se_m + bias), (x.mean(0), mean, se_m)
    v = torch.diag(cov)
    se_c = torch.sqrt((v[:, None] * v[None, :] + cov ** 2) / n)
    c = torch.cov(x.T).reshape(cov.shape)
    assert torch.all((c - cov).abs() <= k * se_c + bias), (c, cov, se_c)


# ---------------------------------------------------------------- schedules
def test_card_9152_reference_values():
    s = S.kexue_linear(1000)
    assert 6.0e-3 <= float(s.abar(1000)) <= 7.0e-3 and float(s.abar(1000)) == pytest.approx(6.48e-3, abs=5e-6)
    assert float(s.beta_step(1)) == pytest.approx(0.00447, abs=1e-5) and float(s.beta_step(1000)) == pytest.approx(0.1414, abs=1e-4)
    ratio = {t: float(s.posterior_sigma(t) / s.beta_step(t)) for t in (2, 10, 100, 1000)}
    assert ratio[2] == pytest.approx(0.577, abs=1e-3) and ratio[10] == pytest.approx(0.905, abs=1e-3)
    assert ratio[100] == pytest.approx(0.9905, abs=1e-4) and ratio[1000] == pytest.approx(1, abs=1e-5)
    assert float(s.posterior_sigma(1)) == 0
    # C2: KL(N(abar x0, bbar^2) || N(0, 1)) < 1e-4 for |x0| <= 1
    a, b = float(s.abar(1000)), float(s.bbar(1000))
    kl = 0.5 * (a * a + b * b - 1 - math.log(b * b))
    assert kl < 1e-4


@pytest.mark.parametrize("make", [lambda: S.linear(1000), lambda: S.kexue_linear(1000), lambda: S.cosine(1000)])
def test_discrete_identities_and_ddpm_conversion(make):
    s = make()
    t = torch.arange(0, s.T + 1, dtype=F64)
    assert torch.allclose(s.abar(t) ** 2 + s.bbar(t) ** 2, torch.ones_like(t), atol=1e-14, rtol=0)
    steps = torch.arange(1, s.T + 1)
    a, b = s.alpha_step(steps), s.beta_step(steps)
    assert torch.allclose(a ** 2 + b ** 2, torch.ones_like(a), atol=1e-15, rtol=0)
    assert torch.allclose(torch.cumprod(a, 0), s.abar(steps), rtol=1e-12, atol=0)   # abar_t = prod alpha_i
    betas = s.ddpm_betas()                                                          # DDPM variances = beta_t^2
    assert torch.allclose(betas, b ** 2, rtol=1e-14, atol=0)
    ac = torch.as_tensor(np.cumprod(1 - betas.numpy()))                             # DDPM's alpha_bar = abar^2
    assert torch.allclose(s.alphas_cumprod(), ac, rtol=1e-12, atol=0)
    s2 = S.DiscreteSchedule.from_alphas_cumprod(s.alphas_cumprod())
    assert torch.allclose(s2.ddpm_betas(), betas, rtol=1e-9, atol=1e-15)
    assert torch.equal(S.DiscreteSchedule.from_ddpm_betas(betas).L, s.L)


def test_ddpm_paper_linear_and_cosine_terminal_values():
    assert float(S.linear(1000).abar(1000)) == pytest.approx(math.sqrt(np.prod(1 - np.linspace(1e-4, 0.02, 1000))))
    c = S.cosine(1000)
    t = torch.tensor([250.0, 500.0], dtype=F64)
    f = torch.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    assert torch.allclose(c.abar(t) ** 2, f, rtol=1e-12)  # the clip at 0.999 only acts at the very end


def test_sde_coefficients_match_the_marginals():
    """f = d log abar/dt and g^2 = 2 abar bbar d/dt(bbar/abar) (card 9228 C6), by central differences."""
    h = 1e-5
    for s in (S.VPSDE(), S.VESDE(), S.kexue_linear(1000)):
        lo, hi = (s.t_min + 0.01, s.t_max - 0.01) if not s.discrete else (0.3, 999.6)
        t = torch.linspace(lo, hi, 1000, dtype=F64)
        if s.discrete:
            t = torch.floor(t) + 0.5  # stay inside a segment: log abar^2 is piecewise linear
        dlog_a = (torch.log(s.abar(t + h)) - torch.log(s.abar(t - h))) / (2 * h)
        r = lambda u: s.bbar(u) / s.abar(u)  # noqa: E731
        g2 = 2 * s.abar(t) * s.bbar(t) * (r(t + h) - r(t - h)) / (2 * h)
        assert torch.allclose(s.f(t), dlog_a, rtol=1e-7, atol=1e-9), s.name
        assert torch.allclose(s.g2(t), g2, rtol=1e-6, atol=1e-9), s.name
    v = S.VPSDE()
    t = torch.linspace(0, 1, 11, dtype=F64)
    assert torch.allclose(v.g2(t), 0.1 + 19.9 * t) and torch.allclose(v.f(t), -0.5 * (0.1 + 19.9 * t))
    assert torch.allclose(v.abar(t), torch.exp(-0.5 * (0.1 * t + 19.9 * t * t / 2)), rtol=1e-14)


def test_continuous_interpolation_and_upsample_tau():
    """Card 10055 C2: tau with SNR(tau) = s^2 SNR(t) gives abar_t/rho_t = abar_tau, bbar_t/(s rho_t) = bbar_tau, tau < t."""
    sch = S.kexue_linear(1000)
    t = torch.arange(1, 1001, dtype=F64)
    assert torch.allclose(sch.abar(t - 0.5) ** 2, torch.sqrt(sch.abar(t) ** 2 * sch.abar(t - 1) ** 2), rtol=1e-13)
    for s in (2, 4):
        tau = sch.t_for_log_snr(sch.log_snr(t) + 2 * math.log(s))
        rho = torch.sqrt(sch.abar(t) ** 2 + sch.bbar(t) ** 2 / s ** 2)
        assert torch.all(tau < t)
        assert (sch.abar(tau) - sch.abar(t) / rho).abs().max() < 1e-6
        assert (sch.bbar(tau) - sch.bbar(t) / (s * rho)).abs().max() < 1e-6
    for s in (S.VPSDE(), S.VESDE(), S.cosine(1000)):
        u = torch.linspace(s.t_min + 1e-3, s.t_max, 97, dtype=F64)
        assert torch.allclose(s.t_for_log_snr(s.log_snr(u)), u, rtol=1e-9, atol=1e-9), s.name


def test_schedule_validation_names_value_and_fix():
    with pytest.raises(KexueError, match=r"alpha_bar_T = 0\.60.*fix"):
        S.kexue_linear(100)  # the card-9152 formula at T = 100 leaves abar_T = 0.60
    assert float(S.kexue_linear(100, terminal_tol=1.0).abar(100)) == pytest.approx(0.6014, abs=1e-4)
    with pytest.raises(KexueError, match="alpha_bar_T"):
        S.VPSDE(beta_max=2.0)
    with pytest.raises(KexueError, match="alpha_bar_T"):
        S.VESDE(sigma_max=10.0)
    with pytest.raises(KexueError, match=r"\(0, 1\)"):
        S.DiscreteSchedule([0.5, 1.5])
    with pytest.raises(KexueError, match="positive integer"):
        S.linear(0)
    with pytest.raises(KexueError, match="integer t"):
        S.linear().beta_step(0)


def test_time_grids():
    s = S.linear(1000)
    assert S.time_grid(s, 4) == [1000.0, 750.0, 500.0, 250.0, 0.0]
    g = S.time_grid(s, 10, "edm")
    assert g[0] == 1000 and g[-1] == 0 and all(b < a for a, b in zip(g, g[1:]))
    v = S.VPSDE()
    assert S.time_grid(v, 2) == pytest.approx([1.0, 0.5005, 1e-3])
    for bad in (0, -3, 2.5):
        with pytest.raises(KexueError, match="positive integer"):
            S.time_grid(s, bad)
    with pytest.raises(KexueError, match="at most T"):
        S.time_grid(s, 1001)
    with pytest.raises(KexueError, match="uniform"):
        S.time_grid(s, 10, "cosine")


# ---------------------------------------------------------------- exact models
def mixture(schedule):
    return E.GaussianMixture([0.2, 0.5, 0.3], [[-2.0, 0.0], [1.0, 1.0], [0.5, -1.5]],
                             [[[0.3, 0.1], [0.1, 0.2]], [[0.5, 0.0], [0.0, 0.05]], [[0.1, -0.05], [-0.05, 0.4]]], schedule)


def test_mixture_density_score_eps_against_scipy_and_autograd():
    v = S.VPSDE()
    m = mixture(v)
    x = torch.randn(50, 2, generator=gen(), dtype=F64) * 2
    t = torch.linspace(0.001, 1.0, 50, dtype=F64)  # per-sample t
    ref = []
    for xi, ti in zip(x, t):
        a, b = float(v.abar(ti)), float(v.bbar(ti))
        p = sum(w * multivariate_normal(a * mu, a * a * C.numpy() + b * b * np.eye(2)).pdf(xi.numpy())
                for w, mu, C in zip([0.2, 0.5, 0.3], m.mu.numpy(), (m.U * m.lam[:, None]) @ m.U.transpose(1, 2)))
        ref.append(math.log(p))
    assert torch.allclose(m.log_prob(x, t), torch.tensor(ref, dtype=F64), rtol=1e-10, atol=1e-10)
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(m.log_prob(xg, t).sum(), xg)
    assert torch.allclose(m.score(x, t), g, rtol=1e-10, atol=1e-10)
    assert torch.allclose(m.eps(x, t), -v.bbar(t)[:, None] * g, rtol=1e-10, atol=1e-10)
    # Tweedie: the posterior mean from the eps-predictor equals the per-component closed form
    assert torch.allclose(Ls.x0_from_eps(v, x, t, m.eps(x, t)), m.x0_mean(x, t), rtol=1e-9, atol=1e-9)
    assert torch.allclose(Ls.x0_from_score(v, x, t, m.score(x, t)), m.x0_mean(x, t), rtol=1e-9, atol=1e-9)
    # far out at small t the responsibilities stay finite (log-sum-exp)
    assert torch.isfinite(m.eps(torch.full((1, 2), 30.0, dtype=F64), 0.001)).all()


def test_point_and_gaussian_closed_forms():
    s = S.linear(1000)
    p = torch.tensor([[0.3, -0.7], [1.0, 0.2]], dtype=F64)  # an image-shaped point (event shape (2, 2))
    pt = E.PointData(p, s)
    x = torch.randn(8, 2, 2, generator=gen(), dtype=F64)
    t = torch.tensor([1.0, 5, 50, 200, 400, 600, 800, 1000], dtype=F64)
    a, b = s.abar(t)[:, None, None], s.bbar(t)[:, None, None]
    assert torch.allclose(pt.eps(x, t), (x - a * p) / b, rtol=1e-12, atol=1e-12)
    assert torch.allclose(pt.x0_mean(x, t), p.expand_as(x), atol=1e-12)
    g = E.GaussianData(MU, COV, s)
    x = torch.randn(8, 2, generator=gen(1), dtype=F64)
    for ti in (3.0, 300.0, 1000.0):
        a, b = float(s.abar(ti)), float(s.bbar(ti))
        C = a * a * COV + b * b * torch.eye(2, dtype=F64)
        post = MU + (a * COV @ torch.linalg.solve(C, (x - a * MU).T)).T
        assert torch.allclose(g.x0_mean(x, ti), post, rtol=1e-12, atol=1e-12)
        assert torch.allclose(g.score(x, ti), -torch.linalg.solve(C, (x - a * MU).T).T, rtol=1e-12, atol=1e-12)
    diag = E.GaussianData(MU, torch.tensor([2.25, 0.5]), s)
    assert torch.allclose(diag.mean_cov(0)[1], torch.diag(torch.tensor([2.25, 0.5], dtype=F64)))
    with pytest.raises(KexueError, match="PSD"):
        E.GaussianData(MU, [[1.0, 2.0], [2.0, 1.0]], s)
    with pytest.raises(KexueError, match="sum to 1"):
        E.GaussianMixture([0.5, 0.6], [[0.0], [1.0]], 1.0, s)


def test_exact_samples_have_the_marginal_moments():
    v = S.VPSDE()
    m = mixture(v)
    n = 20000
    for t in (0.0, 0.3):
        mean, cov = m.mean_cov(t)
        assert_moments(m.sample(n, t, generator=gen(2)), mean, cov)


# ---------------------------------------------------------------- losses
def test_eps_loss_bayes_value_and_reductions():
    """With the exact eps, E||eps - E[eps|x_t]||^2 = sum_i abar^2 s_i^2 / (abar^2 s_i^2 + bbar^2) (Gaussian data)."""
    s = S.linear(1000)
    var = torch.tensor([0.25, 1.0, 4.0, 9.0], dtype=F64)
    g = E.GaussianData(torch.tensor([1.0, -1, 0, 2], dtype=F64), var, s)
    n, t = 20000, 300.0
    x0 = g.sample(n, generator=gen(3))
    per = Ls.eps_loss(g, x0, t, s, reduction="none", generator=gen(4))
    a, b = float(s.abar(t)), float(s.bbar(t))
    exact = float((a * a * var / (a * a * var + b * b)).sum())
    assert abs(per.mean().item() - exact) <= 4 * per.std().item() / math.sqrt(n)
    eps = torch.randn(x0.shape, generator=gen(5), dtype=F64)
    tt = Ls.sample_t(s, n, generator=gen(6), dtype=F64)
    assert tt.min() >= 1 and tt.max() <= 1000 and torch.equal(tt, tt.round())
    tc = Ls.sample_t(s, 1000, generator=gen(6), continuous=True)
    assert 0 <= tc.min() and tc.max() <= 1000 and not torch.equal(tc, tc.round())
    l_sum = Ls.eps_loss(g, x0, tt, s, eps=eps, reduction="sum")
    l_mean = Ls.eps_loss(g, x0, tt, s, eps=eps, reduction="mean")
    assert l_sum.item() == pytest.approx(4 * l_mean.item(), rel=1e-14)
    with pytest.raises(KexueError, match="reduction"):
        Ls.eps_loss(g, x0, t, s, reduction="avg")


def test_eps_loss_trains_a_net_and_conversions_invert():
    torch.manual_seed(0)
    s = S.VPSDE()
    net = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.SiLU(), torch.nn.Linear(32, 2))
    model = lambda x, t: net(torch.cat([x, t[:, None].to(x.dtype)], 1))  # noqa: E731  a trained net plugs in the same way
    x0 = torch.randn(64, 2)
    loss = Ls.eps_loss(model, x0, Ls.sample_t(s, 64, generator=gen()), s, generator=gen(1))
    loss.backward()
    assert loss.dim() == 0 and all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    x, t = torch.randn(5, 2, dtype=F64), torch.rand(5, dtype=F64) * 0.9 + 0.05
    e = torch.randn(5, 2, dtype=F64)
    assert torch.allclose(Ls.eps_from_x0(s, x, t, Ls.x0_from_eps(s, x, t, e)), e, rtol=1e-12)
    assert torch.allclose(Ls.eps_from_score(s, Ls.score_from_eps(s, e, t), t), e, rtol=1e-14)
    # card 9152: the article's per-step eps_theta gives the same ancestral mean as the total-noise form
    d = S.kexue_linear(1000)
    for k in (1, 2, 500, 1000):
        a, b, bb = d.alpha_step(k), d.beta_step(k), d.bbar(k)
        art = Ls.article_eps_from_total(d, e, float(k))
        assert torch.allclose((x - b * art) / a, (x - b * b / bb * e) / a, rtol=1e-13)


# ---------------------------------------------------------------- samplers
@pytest.mark.parametrize("sigma", ["beta", "posterior"])
def test_ddpm_with_exact_eps_lands_on_the_single_point(sigma):
    s = S.kexue_linear(1000)
    p = torch.tensor([0.7, -0.3], dtype=F64)
    x, info = P.ddpm(E.PointData(p, s), torch.randn(16, 2, generator=gen(), dtype=F64), s, sigma=sigma, generator=gen(1))
    assert info["nfe"] == 1000 and (x - p).abs().max() < 1e-9


def test_ddpm_and_sde_reproduce_gaussian_and_mixture_moments():
    """n = 4000: 4 SE is 0.095 on the mean of the variance-2.25 axis; the finite-T bias measured with n = 2e5
    (|mean| < 0.009, |cov| < 0.02 for DDPM T = 1000; < 0.015 for EM-SDE 250 steps) is far inside it."""
    n = 4000
    s = S.kexue_linear(1000)
    g = E.GaussianData(MU, COV, s)
    for sigma in ("beta", "posterior"):
        x, _ = P.ddpm(g, torch.randn(n, 2, generator=gen(7), dtype=F64), s, sigma=sigma, generator=gen(8))
        assert_moments(x, MU, COV)
    mix = E.GaussianMixture([0.3, 0.5, 0.2], [[-2.0], [0.0], [2.5]], [0.09, 0.25, 0.04], s)  # card 9228 G1
    x, _ = P.ddpm(mix, torch.randn(n, 1, generator=gen(9), dtype=F64), s, generator=gen(10))
    assert_moments(x, *mix.mean_cov(0))
    v = S.VPSDE()
    g1 = E.GaussianData([0.5], 2.25, v)  # card 9228 G3
    x, _ = P.reverse_sde(g1, torch.randn(n, 1, generator=gen(11), dtype=F64), v, 250, generator=gen(12))
    assert_moments(x, *g1.mean_cov(v.t_min))


def test_ddim_eta0_is_deterministic_and_is_euler_in_sigma():
    v = S.VPSDE()
    m = mixture(v)
    xT = torch.randn(256, 2, generator=gen(), dtype=F64)
    a, _ = P.ddim(m, xT, v, 25, generator=gen(1))
    b, _ = P.ddim(m, xT, v, 25, generator=gen(2))
    assert torch.equal(a, b)
    c, info = P.pf_ode(m, xT, v, 25, method="euler", variable="sigma")
    assert info["nfe"] == 25 and (a - c).abs().max() < 1e-12


def test_ddim_eta1_on_all_steps_is_ancestral_ddpm_posterior():
    s = S.linear(1000)
    m = E.GaussianData(MU, COV, s)
    xT = torch.randn(64, 2, generator=gen(), dtype=F64)
    a, _ = P.ddpm(m, xT, s, sigma="posterior", generator=gen(1))
    b, info = P.ddim(m, xT, s, 1000, eta=1.0, generator=gen(1))
    assert info["ts"][:3] == [1000.0, 999.0, 998.0] and (a - b).abs().max() < 1e-9


def test_pf_ode_gaussian_exact_map_and_solver_orders():
    """Card 9228 G3: the PF-ODE maps p_T to p_{t_min} by a known affine map; Euler error ~ h, Heun ~ h^2."""
    v = S.VPSDE()
    g = E.GaussianData(MU, COV, v)
    xT = g.sample(100, t=1.0, generator=gen())
    ref = g.flow_map(xT, 1.0, v.t_min)
    x, info = P.pf_ode_adaptive(g, xT, v, rtol=1e-9, atol=1e-9)
    assert (x - ref).abs().max() < 1e-6 and info["nfe"] == len(info["t_eval"]) > 0
    x, _ = P.pf_ode_adaptive(g, xT, v, rtol=1e-9, atol=1e-9, variable="sigma")
    assert (x - ref).abs().max() < 1e-6
    assert torch.allclose(g.flow_map(ref, v.t_min, 1.0), xT, atol=1e-10)  # invertible
    ve = S.VESDE()  # not VP: abar = 1, the same code path through f = 0 and g^2 = d sigma^2/dt
    gv = E.GaussianData(MU, COV, ve)
    zT = gv.sample(50, t=1.0, generator=gen(1))
    for variable in ("t", "sigma"):
        x, _ = P.pf_ode_adaptive(gv, zT, ve, rtol=1e-9, atol=1e-9, variable=variable)
        assert (x - gv.flow_map(zT, 1.0, 0.0)).abs().max() < 1e-5
    e50, e200 = ((P.pf_ode(gv, zT, ve, N, method="heun", variable="sigma", grid="edm")[0] - gv.flow_map(zT, 1.0, 0.0))
                 .abs().max().item() for N in (50, 200))
    assert e200 < 3e-3 and e50 / e200 > 12  # second order: 4x the steps, ~16x less error
    Ns = [8, 16, 32, 64]
    for variable in ("t", "sigma"):
        for method, order in (("euler", 1), ("heun", 2)):
            err = [(P.pf_ode(g, xT, v, N, method=method, variable=variable)[0] - ref).abs().max().item() for N in Ns]
            slope = convergence_order([1 / N for N in Ns], err)["slope"]
            assert abs(slope - order) < 0.2, (variable, method, err, slope)


def test_pf_ode_maps_prior_samples_to_the_data_gaussian():
    """RK45 from exact p_T samples: the outputs have the data mean/cov within MC error (n = 4000)."""
    v = S.VPSDE(t_min=1e-4)
    g = E.GaussianData(MU, COV, v)
    x, _ = P.pf_ode_adaptive(g, g.sample(4000, t=1.0, generator=gen(3)), v, rtol=1e-7, atol=1e-7)
    assert_moments(x, *g.mean_cov(v.t_min))
    # float32 in, float32 out; a discrete schedule (non-integer t inside the Heun steps is fine for exact models)
    s = S.linear(1000)
    x, info = P.pf_ode(E.GaussianData(MU, COV, s), torch.randn(8, 2, generator=gen()), s, 50, method="heun")
    assert x.dtype == torch.float32 and info["nfe"] == 99 and torch.isfinite(x).all()


def test_sampler_errors_name_the_fix():
    s, v = S.linear(1000), S.VPSDE()
    g = E.GaussianData(MU, COV, s)
    x = torch.zeros(2, 2, dtype=F64)
    with pytest.raises(KexueError, match="'rk4'.*choose one of"):
        P.sample("rk4", g, x, s, 10)
    for bad in (0, -1):
        with pytest.raises(KexueError, match="positive integer"):
            P.sample("ddim", g, x, s, bad)
    with pytest.raises(KexueError, match="steps"):
        P.sample("heun", g, x, s)
    with pytest.raises(KexueError, match="ddim with eta = 1"):
        P.sample("ddpm", g, x, s, 50)
    with pytest.raises(KexueError, match="DiscreteSchedule"):
        P.ddpm(g, x, v)
    with pytest.raises(KexueError, match="'beta'"):
        P.ddpm(g, x, s, sigma="learned")
    with pytest.raises(KexueError, match="decreasing"):
        P.ddim(g, x, s, ts=[10.0, 20.0])
    with pytest.raises(KexueError, match="eta"):
        P.ddim(g, x, s, 10, eta=-1)
    out, info = P.sample("ddim", g, x, s, 10)
    assert info["nfe"] == 10 and out.shape == x.shape


def test_pf_ode_log_likelihood_is_exact_with_the_exact_score():
    """Card 9228 C5: log p_ODE = log p_true at t_min to < 1e-3 nats (exact prior log p_T removes the prior mismatch)."""
    v = S.VPSDE()
    mix = E.GaussianMixture([0.3, 0.5, 0.2], [[-2.0], [0.0], [2.5]], [0.09, 0.25, 0.04], v)  # G1
    x = mix.sample(20, t=v.t_min, generator=gen(4))
    lp, info = P.pf_ode_log_likelihood(mix, x, v, prior_logp=lambda z: mix.log_prob(z, 1.0), rtol=1e-8, atol=1e-8)
    assert (lp - mix.log_prob(x, v.t_min)).abs().max() < 1e-3 and info["nfe"] > 0
    g = E.GaussianData(MU, COV, v)
    x = g.sample(10, t=v.t_min, generator=gen(5))
    lp, info = P.pf_ode_log_likelihood(g, x, v, rtol=1e-9, atol=1e-9)  # default prior N(0, I) != p_T (abar_T = 6.6e-3)
    swapped = lp - info["logp_end"] + g.log_prob(info["x_end"], 1.0)  # replace the prior term by the exact log p_T
    assert (swapped - g.log_prob(x, v.t_min)).abs().max() < 1e-5
    assert 1e-4 < (lp - g.log_prob(x, v.t_min)).abs().max() < 0.05  # the prior mismatch is visible but small
    assert torch.allclose(info["x_end"], g.flow_map(x, v.t_min, 1.0), atol=1e-6)
