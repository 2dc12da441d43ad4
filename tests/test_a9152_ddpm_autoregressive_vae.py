"""Unit tests for article 9152 (DDPM = autoregressive VAE): the card's reference values, the exact identities
behind C1-C4, the C3b estimator study (ghost norms against torch.func), the VAE baseline, sample diagnostics,
and the errors on bad input."""
import math

import numpy as np
import pytest
import torch

from kexue import ddpm_vae_checks as ck
from kexue.ddpm_vae_models import ImageData, article_schedule, build_model
from kexue.ddpm_vae_study import c3b_times, grad_noise_study, sample_images, underflow_fractions
from kexue.diffusion.schedules import kexue_linear
from kexue.errors import KexueError
from kexue.nn.gaussian_vae import GaussianVAE, count_params, hidden_for_params, train_gaussian_vae
from kexue.nn.mlp_denoiser import MLPDenoiser
from kexue.per_sample_grad_norms import PerSampleGradNorms
from kexue.sample_diagnostics import fd_bootstrap, laplacian_energy, nn_distances, sharpness, smoothed

TAB = ck.tables(1000, 0.02)
CFG = {"arch": "mlp", "dim": 16, "hidden": 32, "blocks": 1, "t_dim": 16, "groups": 8, "unet_widths": [8], "T": 50}


# ------------------------------------------------------------------------------ schedule and card values
def test_numpy_tables_equal_shared_schedule():
    s = kexue_linear(1000)
    t0, t1 = torch.arange(0, 1001, dtype=torch.float64), torch.arange(1, 1001, dtype=torch.float64)
    assert np.abs(TAB["abar"] - s.abar(t0).numpy()).max() < 1e-12
    assert np.abs(TAB["bbar"] - s.bbar(t0).numpy()).max() < 1e-12
    assert np.abs(TAB["beta"] - s.beta_step(t1).numpy()).max() < 1e-12
    assert np.abs(TAB["posterior"] - s.posterior_sigma(t1).numpy()).max() < 1e-12
    assert np.abs(TAB["log_snr"] - s.log_snr(t1).numpy()).max() < 1e-9
    a = article_schedule(1000, 0.02)
    assert torch.allclose(a.abar(t0), s.abar(t0), rtol=0, atol=1e-15)


def test_card_reference_values():
    assert TAB["abar"][-1] == pytest.approx(6.48e-3, abs=5e-6)
    assert TAB["abar"][-1] ** 2 == pytest.approx(4.2e-5, abs=5e-7)
    assert TAB["beta"][0] == pytest.approx(0.00447, abs=5e-6) and TAB["beta"][-1] == pytest.approx(0.1414, abs=5e-5)
    ratio = TAB["posterior"] / TAB["beta"]
    assert ratio[0] == 0.0  # sigma_1 = 0: bbar_0 = 0
    for t, ref, tol in ((2, 0.577, 5e-4), (10, 0.905, 5e-4), (100, 0.9905, 5e-5), (1000, 1.0, 1e-5)):
        assert ratio[t - 1] == pytest.approx(ref, abs=tol)


def test_terminal_check_refuses_short_article_schedule():
    with pytest.raises(KexueError, match="alpha_bar_T = 0.6014"):
        article_schedule(100, 0.02)          # the card's "same formula" at T = 100
    assert ck.tables(100, 0.2)["abar"][-1] == pytest.approx(4.396e-3, rel=1e-3)   # the smoke schedule
    with pytest.raises(KexueError, match="var_end"):
        article_schedule(1000, 1.5)
    with pytest.raises(KexueError, match="T = 0"):
        ck.tables(0, 0.02)


# ------------------------------------------------------------------------------ C1-C4
def test_c1_chain_matches_marginal():
    c1 = ck.simulate_chain(TAB, 0.7, 20_000, (1, 10, 100, 1000), np.random.default_rng(0))
    assert c1["max_std_rel_err"] < 0.03 and c1["max_mean_abs_err"] < 0.03
    with pytest.raises(KexueError, match="times"):
        ck.simulate_chain(TAB, 0.7, 100, (0, 10), np.random.default_rng(0))


def test_c2_kl_to_prior():
    c2 = ck.terminal_kl(TAB)
    assert c2["kl_max"] < 1e-4 and c2["argmax_abs_x0"] == 1.0
    assert c2["kl_max"] == pytest.approx(c2["kl_max_mpmath"], rel=1e-12)
    assert c2["abar_T"] == pytest.approx(c2["abar_T_mpmath"], rel=1e-12)
    assert ck.kl_to_prior(0.0, 0.5) == 0.0
    # against the textbook formula KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - 1 - log s^2) / 2
    a, x0 = 0.3, 0.8
    assert ck.kl_to_prior(a, x0) == pytest.approx(0.5 * ((a * x0) ** 2 + 1 - a * a - 1 - math.log(1 - a * a)), rel=1e-12)


def test_c3a_identity_exact():
    c = ck.vae_term_identity(TAB, 500, 8, np.random.default_rng(1))
    assert c["max_rel_diff"] < 1e-12 and c["max_abs_xt_diff"] < 1e-12


def test_c4_optimal_sigma():
    c4 = ck.optimal_sigma_exact(TAB)
    assert c4["max_abs_diff_dirac"] < 1e-12 and c4["max_abs_diff_normal"] < 1e-12
    assert ck.conditional_var(TAB, np.array([1]), 0.0)[0] == 0.0
    for data in ("dirac", "normal"):
        r = ck.optimal_sigma_numeric(TAB, 10, data, 50_000, np.random.default_rng(2))
        assert r["rel_err"] < 0.02
    with pytest.raises(KexueError, match="dirac"):
        ck.optimal_sigma_numeric(TAB, 10, "uniform", 100, np.random.default_rng(0))
    with pytest.raises(KexueError, match="2 <= t"):
        ck.optimal_sigma_numeric(TAB, 1, "dirac", 100, np.random.default_rng(0))


# ------------------------------------------------------------------------------ C3b: ghost norms and the study
def _per_sample_vmap(model, x, t, target):
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        return ((functional_call(model, p, (xi[None], torch.full((1,), t)))[0] - yi) ** 2).sum()
    G = vmap(grad(loss), (None, 0, 0))(params, x, target)
    return torch.cat([v.reshape(len(x), -1) for v in G.values()], 1)


def test_ghost_norms_equal_per_sample_gradients():
    torch.manual_seed(0)
    model = MLPDenoiser(dim=16, hidden=32, blocks=2, t_dim=16, groups=8).double()
    x, y = torch.randn(12, 16, dtype=torch.float64), torch.randn(12, 16, dtype=torch.float64)
    G = _per_sample_vmap(model, x, 7.0, y)
    with PerSampleGradNorms(model) as probe:
        out = model(x, torch.full((12,), 7.0, dtype=torch.float64))
        s, sq = probe.grads(((out - y) ** 2).sum(1))
        s2, sq2 = probe.grads(((out - 2 * y) ** 2).sum(1))      # a second loss on the same forward
    assert torch.allclose(sq, (G ** 2).sum(1), rtol=1e-10)
    assert torch.allclose(s, G.sum(0), rtol=1e-10, atol=1e-12)
    G2 = _per_sample_vmap(model, x, 7.0, 2 * y)
    assert torch.allclose(sq2, (G2 ** 2).sum(1), rtol=1e-10)


def test_ghost_norms_refuse_unsupported_models():
    with pytest.raises(KexueError, match="BatchNorm"):
        PerSampleGradNorms(MLPDenoiser(dim=8, hidden=16, blocks=1, t_dim=8, norm="batch"))
    with pytest.raises(KexueError, match="Embedding"):
        PerSampleGradNorms(MLPDenoiser(dim=8, hidden=16, blocks=1, t_dim=8, t_embed="learned", num_steps=10, groups=4))


def test_grad_noise_study_theory():
    sched = article_schedule(50, 0.4)
    model = build_model(CFG, "group", "sinusoidal", 0)
    X = torch.rand(64, 16) * 2 - 1
    rows = grad_noise_study(model, X, sched, [2, 10, 50], 256, 64, seed=0)
    for r in rows:
        assert abs(r["diff_mean"] - r["diff_pred"]) <= 4 * r["diff_se"]       # the theta-free constant
        assert r["var_ratio"] < 1                                              # merged has lower variance
        assert 0.3 < r["equal_means_stat"] < 3                                 # equal expected gradients
        assert len(r["chunk_var_merged"]) == 4
    with pytest.raises(KexueError, match="t = 1"):
        grad_noise_study(model, X, sched, [1], 256, 64, seed=0)
    with pytest.raises(KexueError, match="multiple of chunk"):
        grad_noise_study(model, X, sched, [5], 100, 64, seed=0)


def test_c3b_times():
    ts = c3b_times(1000, 20)
    assert len(ts) == 20 == len(set(ts)) and ts[0] == 2 and ts[-1] == 1000 and ts == sorted(ts)
    assert c3b_times(5, 20) == [2, 3, 4, 5]


# ------------------------------------------------------------------------------ sampling and C10
def test_sampling_common_random_numbers_and_batchnorm_blindness():
    sched = article_schedule(50, 0.4)
    gn = build_model(CFG, "group", "sinusoidal", 0).eval()
    a = sample_images(gn, sched, 8, (16,), chunk=4, seed=3)
    b = sample_images(gn, sched, 4, (16,), chunk=4, seed=3)
    assert torch.equal(a[:4], b)                        # chunk 0 of both runs saw the same noise
    X, traj, ts = sample_images(gn, sched, 4, (16,), chunk=4, seed=3, traj_times=(50, 25, 0), traj_n=2)
    assert ts == [50, 25, 0] and traj.shape == (2, 3, 16) and torch.equal(traj[:, -1], X[:2])
    bn = build_model(CFG, "batch", "sinusoidal", 0)
    x = torch.randn(32, 16)
    bn.train()
    with torch.no_grad():   # train mode, one shared t: BatchNorm removes the time bias, output ignores t
        assert torch.allclose(bn(x, torch.full((32,), 3.0)), bn(x, torch.full((32,), 40.0)), atol=1e-5)
    before = {k: v.clone() for k, v in bn.state_dict().items()}
    sample_images(bn, sched, 4, (16,), chunk=4, seed=0, train_mode=True)
    assert all(torch.equal(before[k], v) for k, v in bn.state_dict().items())   # sampled on a copy
    with pytest.raises(KexueError, match="chunk"):
        sample_images(gn, sched, 4, (16,), chunk=0)


def test_underflow_fraction_grows_when_gradient_shrinks():
    sched = article_schedule(50, 0.4)
    model = build_model(CFG, "group", "sinusoidal", 0)
    X = torch.rand(64, 16) * 2 - 1
    u_sum = underflow_fractions(model, X, sched, "sum", 3, 16, seed=0, scales=(1.0, 16.0, 1e6))
    u_mean = underflow_fractions(model, X, sched, "mean", 3, 16, seed=0)
    f1, f16, fbig = (np.mean(u_sum["fractions"][k]) for k in ("1", "16", "1e+06"))
    assert f1 <= f16 <= fbig and fbig > f1
    assert np.allclose(u_mean["fractions"]["1"], u_sum["fractions"]["16"])   # mean = sum / d exactly, d = 16
    with pytest.raises(KexueError, match="n_batches"):
        underflow_fractions(model, X, sched, "sum", 1, 16, seed=0)


def test_image_data_crops_padding():
    X = -torch.ones(2, 1, 32, 32)
    X[:, :, 2:-2, 2:-2] = 0.5
    d = ImageData(X, X, (1, 32, 32), "fashion28", 2)
    M = d.to_metric(X * 3)
    assert M.shape == (2, 784) and np.all(M == 1.0)      # padding cropped, values clipped to [-1, 1]


# ------------------------------------------------------------------------------ VAE baseline
def test_gaussian_vae(tmp_path):
    for h in (5, 64, 300):
        assert count_params(64, 8, h, 2) == sum(p.numel() for p in GaussianVAE(64, 8, h, 2).parameters())
    h = hidden_for_params(200_000, 64, 8, 2)
    assert abs(count_params(64, 8, h, 2) - 200_000) <= abs(count_params(64, 8, h + 1, 2) - 200_000)
    assert abs(count_params(64, 8, h, 2) - 200_000) <= abs(count_params(64, 8, h - 1, 2) - 200_000)
    torch.manual_seed(0)
    X = torch.rand(128, 16) * 2 - 1
    vae = GaussianVAE(16, 2, 32, 1)
    res = train_gaussian_vae(vae, X, steps=60, batch=32, lr=3e-3, seed=0, run_dir=tmp_path, fingerprint="t")
    loss = [r["loss"] for r in res["stats"]]
    assert np.mean(loss[-10:]) < np.mean(loss[:10])
    assert vae.sample(5, generator=torch.Generator().manual_seed(0)).shape == (5, 16)
    with pytest.raises(KexueError, match="dim=16"):
        vae.neg_elbo(torch.zeros(2, 9))
    with pytest.raises(KexueError, match="latent"):
        GaussianVAE(16, 0)
    with pytest.raises(KexueError, match="positive"):
        train_gaussian_vae(vae, X, steps=0, batch=4, lr=1e-3, seed=0, run_dir=tmp_path, fingerprint="t")


# ------------------------------------------------------------------------------ sample diagnostics
def test_sample_diagnostics():
    flat = np.zeros((3, 64))
    assert sharpness(flat) == 0.0
    img = np.zeros((1, 5, 5))
    img[0, 2, 2] = 1.0          # a single bright pixel: |4*1| at the centre, |-1| at its 4 interior neighbours
    assert laplacian_energy(img)[0] == pytest.approx(8 / 9)
    R = np.random.default_rng(0).normal(size=(50, 64))
    assert np.all(nn_distances(R[:10], R) < 1e-6)   # expanded-square distances: round-off ~1e-7
    F = np.random.default_rng(1).normal(size=(300, 4))
    ci = fd_bootstrap(F[:150], F[150:], n_boot=50)
    assert ci["lo"] <= ci["hi"] and ci["n"] == 150
    assert np.allclose(smoothed(np.full(20, 3.0), 0.99), 3.0)
    with pytest.raises(KexueError, match="NaN"):
        sharpness(np.full((2, 64), np.nan))
    with pytest.raises(KexueError, match="decay"):
        smoothed([1.0], 1.0)
    with pytest.raises(KexueError, match="interior"):
        laplacian_energy(np.zeros((1, 2, 2)))


# ------------------------------------------------------------------------------ params schema
def _params(**over):
    from stages.a9152_ddpm_autoregressive_vae import Params

    from kexue.params import load_raw, resolve_block

    block = resolve_block(load_raw("params.yaml")["a9152"], "default")
    return Params(**{**block, **over})


def test_params_validate_and_refuse():
    from pydantic import ValidationError

    _params()
    for over, msg in (({"var_end": 0.02, "T": 100}, "remembers"), ({"ablation_steps": 7000}, "ablation_steps"),
                      ({"data": "fashion28"}, "arch"), ({"n_samples": 900}, "multiple of sample_batch"),
                      ({"c3b_samples": 2000}, "c3b_chunk"), ({"c3b_snapshot": 0.3}, "snapshot"),
                      ({"hidden": 100}, "groups"), ({"n_samples_ablation": 50}, "greater than or equal")):
        with pytest.raises(ValidationError, match=msg):
            _params(**over)
