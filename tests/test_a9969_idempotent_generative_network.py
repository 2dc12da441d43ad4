"""Article 9969: exact gradient identities, network halves, metric definitions and bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from kexue import idempotent_gan as ig
from kexue.errors import KexueError
from kexue.idempotent_gan_eval import group_summary, laplacian_abs_mean
from kexue.idempotent_gan_training import RunSpec, TrainCfg, load_net, run_specs, train_run
from kexue.nn.mirrored_autoencoder import AEConfig, build, n_params
from stages.a9969_idempotent_generative_network import ARTICLE, Params


def test_c1_single_loss_gives_both_gradients():
    r = ig.gan_gradient_check(3, seed=1)
    assert r["max_abs_diff_single_sg"] < 1e-12 and r["max_abs_diff_frozen_copies"] < 1e-12
    assert r["max_abs_grad"] > 1e-3          # the identity is not trivially 0 = 0


def test_c2_ign_terms_equal_single_loss_and_pitfalls_differ():
    r = ig.ign_gradient_check(4, seed=2)
    assert r["max_abs_diff"] < 1e-12 and r["max_abs_diff_frozen_copy_form"] < 1e-12
    assert r["pitfall_detached_idem_target_min_diff"] > 1e-3
    assert r["pitfall_undetached_tight_min_diff"] > 1e-3


def test_single_loss_value_is_critic_gap_free():
    # value of D(x) - 2 D(sg G z) + D(G z) equals D(x) - D(G z): the sg only reroutes gradients
    cfg = AEConfig(dim=6, widths=(5,), latent=3)
    G, D = build("decoder", cfg, 0, torch.float64), build("critic", cfg, 1, torch.float64)
    x, z = torch.rand(4, 6, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    assert abs((ig.gan_single_loss(D, G, x, z) - (D(x) - D(G(z))).mean()).item()) < 1e-12


def test_tight_clamp_bounded_by_a_rec():
    t = {"rec": torch.tensor(0.2), "idem": torch.tensor(0.0), "tight": torch.tensor(-50.0)}
    loss = ig.ign_paper_loss(t, 1.0, 1.0, 1.0, clamp_a=1.5)
    assert float(loss) == pytest.approx(0.2 - 1.5 * 0.2, abs=1e-6)


def test_halves_match_autoencoder_parameter_count_and_skips_are_free():
    cfg = AEConfig()  # the card's 64-256-256-16-256-256-64
    f, G, D = build("autoencoder", cfg, 0), build("decoder", cfg, 0), build("critic", cfg, 0)
    assert n_params(f) == 173136 and n_params(G) + n_params(D) == n_params(f) + 17  # + the scalar head
    skip = build("autoencoder", AEConfig(skip=True), 0)
    assert n_params(skip) == n_params(f)
    conv = build("autoencoder", AEConfig(kind="conv", dim=784, widths=(8, 16), latent=4, skip=True), 0)
    assert conv(torch.zeros(2, 784)).shape == (2, 784)


def test_skip_network_can_pass_input_through():
    # with skips, an input reaches the output without the 16-d bottleneck: zeroing the latent keeps f x-dependent
    cfg = AEConfig(skip=True)
    f = build("autoencoder", cfg, 0)
    with torch.no_grad():
        f.enc[-1].weight.zero_()
        f.enc[-1].bias.zero_()
        x = torch.randn(3, 64)
        assert float((f(x) - f(x[[1, 2, 0]])).abs().max()) > 1e-3


def test_training_resumes_exactly(tmp_path):
    cfg = TrainCfg(ae=AEConfig(widths=(16,), latent=4), steps=6, batch=8, lr=1e-3, beta1=0.5, beta2=0.999,
                   w_rec=20, w_idem=20, w_tight=2.5, clamp_a=1.5, gp_weight=10, ckpt_every=3)
    X = torch.rand(32, 64) * 2 - 1
    for spec in (RunSpec("p", "ign", "paper", False, 0), RunSpec("g", "gan", "wgan_gp", False, 0)):
        a = train_run(spec, cfg, X, tmp_path / f"a{spec.name}", "fp")
        cfg3 = TrainCfg(**{**cfg.__dict__, "steps": 3})
        train_run(spec, cfg3, X, tmp_path / f"b{spec.name}", "fp")
        b = train_run(spec, cfg, X, tmp_path / f"b{spec.name}", "fp")   # resumes at step 3
        assert [r["loss"] for r in a["stats"]] == [r["loss"] for r in b["stats"]]
        net = "f" if spec.family == "ign" else "G"
        assert load_net(a, net) is not None


def test_metric_helpers():
    flat = np.zeros((2, 64))
    assert laplacian_abs_mean(flat) == 0.0
    img = np.zeros((1, 64))
    img[0, 27] = 1.0                                      # one interior pixel: |lap| = 4 there, 1 at 4 neighbours
    assert laplacian_abs_mean(img) == pytest.approx(8 / 36)
    per = {"a_s0": {"diverged": False, "exploded": False, "FD (classifier features)": 1.0},
           "a_s1": {"diverged": False, "exploded": False, "FD (classifier features)": 3.0},
           "a_s2": {"diverged": True, "exploded": True}}
    g = group_summary(per, "a_")
    assert g["diverged"] == 1 and g["fd_cv"] == pytest.approx(np.sqrt(2) / 2)


def test_bad_input():
    with pytest.raises(KexueError, match="kind"):
        AEConfig(kind="transformer")
    with pytest.raises(KexueError, match="divisible by 4"):
        AEConfig(kind="conv", dim=100, widths=(4, 8))
    with pytest.raises(KexueError, match="latent"):
        build("decoder", AEConfig(), 0)(torch.zeros(2, 5))
    with pytest.raises(KexueError, match="trials"):
        ig.gan_gradient_check(0, 0)
    with pytest.raises(KexueError, match="seeds"):
        run_specs(0, 1, 1, 1, 0)
    base = dict(grad_trials=2, data="digits", n_train=256, n_test=297, arch="mlp", widths=[256, 256], latent=16,
                steps=10, batch=64, lr=1e-4, betas=[0.5, 0.999], w_rec=20, w_idem=20, w_tight=2.5, clamp_a=1.5,
                gp_weight=10, ckpt_every=5, seeds_paper=1, seeds_gan=1, seeds_article=0, seeds_unet=0,
                n_samples=100, k_max=5, noise_sigma=0.3)
    Params(**base)
    for bad in ({"n_samples": 64}, {"clamp_a": 0}, {"betas": [0.5, 1.0]}, {"n_test": 400},
                {"arch": "conv", "widths": [8]}, {"steps": 0}):
        with pytest.raises(ValidationError):
            Params(**{**base, **bad})
    assert {c.id for c in ARTICLE.claims} == {f"C{i}" for i in range(1, 10)}
