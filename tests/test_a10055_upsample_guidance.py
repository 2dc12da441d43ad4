"""Unit tests of upsample guidance (kexue.fm/archives/10055): operators, SNR matching, the two forms,
the guided model against the exact posterior of block-constant Gaussian data, costs, image statistics."""
from fractions import Fraction

import numpy as np
import pytest
import torch

from kexue.data.shapes import KINDS, render_shapes
from kexue.diffusion.schedules import expand_like, kexue_linear
from kexue.errors import KexueError
from kexue.upsample_guidance import (UpsampleGuidance, approx_form, cost_ratio, detail_energy, guidance_form,
                                     matched_time, pool, radial_power_spectrum, upsample, upsample_bilinear)
from kexue.upsample_guidance_eval import configs, fd_replicates
from kexue.upsample_guidance_study import forms_check, pooled_noise_std, snr_matching_check

SCHED = kexue_linear(1000)


def test_pool_upsample_identities():
    g = torch.Generator().manual_seed(0)
    for s in (2, 4):
        x = torch.randn(3, 1, 7, 7, generator=g, dtype=torch.float64)
        assert torch.allclose(pool(upsample(x, s), s), x, rtol=0, atol=1e-14)   # D U = id (up to summation round-off)
        y = torch.randn(3, 1, 28, 28, generator=g, dtype=torch.float64)
        P = upsample(pool(y, s), s)
        assert torch.allclose(upsample(pool(P, s), s), P, atol=1e-15)   # U D is a projection
        assert abs(float(((y - P) * P).sum())) < 1e-9                    # ... an orthogonal one
    # bilinear upsampling is not a right inverse of D (the card's pitfall)
    x = torch.randn(2, 1, 7, 7, generator=g, dtype=torch.float64)
    assert float((pool(upsample_bilinear(x, 2), 2) - x).abs().max()) > 1e-2


def test_c1_pooled_noise_std():
    r = pooled_noise_std(2, 200_000, np.random.default_rng(0))
    assert r["n"] == 50_000 and r["lo"] < 0.5 < r["hi"] and r["rel_err"] < 0.01
    r4 = pooled_noise_std(4, 200_000, np.random.default_rng(1))
    assert r4["lo"] < 0.25 < r4["hi"]


def test_c2_snr_matching_exact_and_reference_values():
    for s in (2, 4):
        c = snr_matching_check(SCHED, s)
        assert c["max_abs_diff_abar"] < 1e-12 and c["max_abs_diff_bbar"] < 1e-12 and c["frac_tau_below_t"] == 1.0
    # at t = 1 the SNR is ~ 1/(0.02 t / T) with log abar^2 linear on (0, 1]: tau ~ t / s^2
    tau, rho = matched_time(SCHED, 1.0, 2)
    assert abs(float(tau) - 0.25) < 1e-5
    # non-integer t (the interpolated schedule) and the rounding ablation
    t = torch.tensor([0.5, 17.3, 999.9], dtype=torch.float64)
    tau, rho = matched_time(SCHED, t, 2)
    assert torch.allclose(SCHED.abar(tau), SCHED.abar(t) / rho, atol=1e-12)
    assert torch.allclose(SCHED.bbar(tau), SCHED.bbar(t) / (2 * rho), atol=1e-12)
    tr, _ = matched_time(SCHED, t, 2, round_tau=True)
    assert torch.equal(tr, torch.round(tau))


def test_c3_forms_and_special_weights():
    c = forms_check(0, 2)
    assert c["max_abs_diff_forms"] < 1e-12 and c["max_abs_DU_minus_id"] < 1e-14
    g = torch.Generator().manual_seed(3)
    e = torch.randn(2, 1, 8, 8, generator=g, dtype=torch.float64)
    el = torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64)
    assert torch.allclose(guidance_form(e, el, 2, -1.0), e, atol=0)             # w = -1: unguided
    approx = upsample(el, 2) / 2 + e - upsample(pool(e, 2), 2)
    assert torch.allclose(approx_form(e, el, 2, 0.0), approx, atol=1e-15)       # w = 0: the plain approximation


def test_ug_recovers_exact_low_frequencies_of_block_constant_gaussian_data():
    """x0 = U z, z ~ N(0, I) low-res. The exact low-res model is eps(y, t) = bbar_t y; the exact high-res
    posterior mean of eps has low-frequency part U[bbar_t D x_t / (s^2 rho_t^2)]. UG with w = 0 reproduces it
    exactly iff tau, rho and the 1/s are right."""
    s = 2
    exact_lo = lambda x, t: expand_like(SCHED.bbar(t), x) * x  # noqa: E731
    ug = UpsampleGuidance(exact_lo, SCHED, s=s, w=0.0)
    g = torch.Generator().manual_seed(5)
    for t0 in (3.0, 250.0, 700.5, 1000.0):
        x = torch.randn(4, 1, 8, 8, generator=g, dtype=torch.float64)
        t = torch.full((4,), t0, dtype=torch.float64)
        out = ug(x, t)
        _, rho = matched_time(SCHED, t0, s)
        want = upsample(float(SCHED.bbar(t0)) * pool(x, s) / (s * s * float(rho) ** 2), s)
        assert torch.allclose(upsample(pool(out, s), s), want, atol=1e-12)
    # forgetting the 1/s (a card pitfall) breaks it
    bad = guidance_form(exact_lo(x, t), exact_lo(pool(x, s) / float(rho), matched_time(SCHED, t0, s)[0]) * s, s, 0.0)
    assert not torch.allclose(upsample(pool(bad, s), s), want, atol=1e-3)


def test_wrapper_counts_cost_and_eta_schedule():
    from kexue.diffusion.samplers import ddim
    from kexue.diffusion.schedules import time_grid
    from kexue.nn.unet import UNet

    torch.manual_seed(0)
    net = UNet(widths=(8, 16), groups=4, t_dim=16).eval()
    grid = time_grid(SCHED, 10, "uniform")
    x = torch.randn(2, 1, 16, 16)
    direct, ug = UpsampleGuidance(net, SCHED, 2, w=-1.0), UpsampleGuidance(net, SCHED, 2, w=0.2)
    with torch.no_grad():
        ddim(direct, x, SCHED, ts=grid)
        ddim(ug, x, SCHED, ts=grid)
    assert direct.calls_low == 0 and ug.calls_low == ug.calls_high == 10
    assert Fraction(ug.pixel_evals, direct.pixel_evals) == cost_ratio(2) == Fraction(5, 4)
    assert cost_ratio(4) == Fraction(17, 16)
    half = UpsampleGuidance(net, SCHED, 2, w=0.2, eta=0.3)
    assert half.weight(1000.0) == 0.2 and half.weight(700.0) == 0.2 and half.weight(699.0) == -1.0
    with torch.no_grad():   # the wrapper at w = 0.2 equals the guidance form computed by hand
        t = torch.full((2,), 400.0)
        tau, rho = matched_time(SCHED, 400.0, 2)
        want = guidance_form(net(x, t), net(pool(x, 2) / float(rho), torch.full((2,), float(tau))), 2, 0.2)
        assert torch.allclose(UpsampleGuidance(net, SCHED, 2, w=0.2)(x, t), want, atol=1e-6)


def test_image_statistics():
    g = torch.Generator().manual_seed(1)
    lo = torch.randn(5, 1, 8, 8, generator=g, dtype=torch.float64)
    assert float(detail_energy(upsample(lo, 2), 2).abs().max()) < 1e-24
    white = torch.randn(400, 1, 16, 16, generator=g, dtype=torch.float64)
    # E ||x - U D x||^2 = (1 - 1/s^2) * pixels for white noise
    assert abs(float(detail_energy(white, 2).mean()) / (0.75 * 256) - 1) < 0.02
    rad, pw = radial_power_spectrum(white)
    assert rad.tolist() == list(range(1, 9)) and float((pw - 1).abs().max()) < 0.1   # flat, unit level


def test_shapes_generator():
    X, y = render_shapes(300, side=16, seed=0)
    X2, y2 = render_shapes(300, side=16, seed=0)
    assert X.shape == (300, 256) and X.dtype == np.float32 and np.array_equal(X, X2) and np.array_equal(y, y2)
    assert X.min() == -1.0 and 0.2 <= X.max() <= 1.0 and set(y.tolist()) == set(range(len(KINDS)))
    assert ((X > -1).sum(1) > 0).all()   # every image holds a shape
    with pytest.raises(KexueError, match="side"):
        render_shapes(3, side=2)
    with pytest.raises(KexueError, match="kinds"):
        render_shapes(3, kinds=("star",))


def test_rope_transformer_is_resolution_agnostic_and_relative():
    from kexue.nn.rope_transformer import RoPETransformer, rope_2d

    torch.manual_seed(0)
    m = RoPETransformer(dim=32, depth=1, heads=2, patch=2, t_dim=16)
    for p in m.parameters():   # leave the zero init: make the output non-trivial
        torch.nn.init.normal_(p, std=0.05)
    for side in (14, 28):
        assert m(torch.randn(2, 1, side, side), torch.tensor([3.0, 500.0])).shape == (2, 1, side, side)
    q, k = torch.randn(1, 1, 1, 16), torch.randn(1, 1, 1, 16)
    dot = lambda r1, c1, r2, c2: float((rope_2d(q, torch.tensor([r1]), torch.tensor([c1]))  # noqa: E731
                                        * rope_2d(k, torch.tensor([r2]), torch.tensor([c2]))).sum())
    assert abs(dot(1, 2, 4, 6) - dot(5, 7, 8, 11)) < 1e-5   # depends on the offsets only
    with pytest.raises(ValueError, match="divisible"):
        m(torch.randn(1, 1, 15, 15), 1.0)


def test_fd_replicates_match_library_fd():
    from kexue.image_metrics import frechet_distance

    rng = np.random.default_rng(0)
    F, Fr = rng.normal(size=(80, 6)) + 0.3, rng.normal(size=(200, 6))
    idx = np.vstack([np.arange(80), rng.integers(0, 80, 80)])
    r = fd_replicates(F, Fr, idx)
    assert abs(r[0] - frechet_distance(F, Fr)) < 1e-9
    assert abs(r[1] - frechet_distance(F[idx[1]], Fr)) < 1e-9


def test_bad_input_errors():
    x = torch.zeros(1, 1, 7, 7)
    with pytest.raises(KexueError, match="divisible"):
        pool(x, 2)
    with pytest.raises(KexueError, match="positive integer"):
        upsample(x, 0)
    with pytest.raises(KexueError, match=">= -1"):
        UpsampleGuidance(None, SCHED, 2, w=-1.5)
    with pytest.raises(KexueError, match="eta"):
        UpsampleGuidance(None, SCHED, 2, w=0.2, eta=1.5)
    with pytest.raises(KexueError, match="duplicate"):
        configs([0.2, 0.2])


def _base_params(**kw):
    p = dict(dataset="fashion", n_train=20000, n_ref=2000, shapes_side=16, s=2, T=1000, c1_values=10**6,
             widths=[8, 16, 32], groups=4, t_dim=64, steps=3000, batch=64, lr=2e-3, warmup=100, ema_decay=0.995,
             oracle=False, transformer=False, tf_dim=128, tf_depth=6, tf_heads=4, sampler="ddim", sample_steps=50,
             n_samples=256, sample_batch=256, ws=[-1.0, 0.0, 0.2, 0.5, 1.0], etas=[1.0], round_ablation=True,
             pr_k=5, fd_boot=500, n_show=16)
    p.update(kw)
    return p


def test_params_schema():
    from pydantic import ValidationError

    from stages.a10055_upsample_guidance import Params

    Params(**_base_params())
    for bad, match in ((dict(ws=[-1.0, 0.0, 0.5, 1.0, 2.0]), "card's grid"), (dict(s=4), "s = 2"),
                       (dict(n_ref=300), "n_ref"), (dict(groups=3), "divide"), (dict(etas=[0.5]), "1.0"),
                       (dict(sampler="ddpm"), "sample_steps"), (dict(n_samples=64, n_ref=2000), "64-d"),
                       (dict(ws=[-2.0, -1.0, 0.0, 0.2, 0.5, 1.0]), ">= -1")):
        with pytest.raises(ValidationError, match=match):
            Params(**_base_params(**bad))


def test_checks_on_synthetic_metrics():
    from stages.a10055_upsample_guidance import check_c7, check_c8

    cost = {"pixel_evals_ug0.2": 50 * 980, "pixel_evals_direct": 50 * 784, "count_ratio": "5/4", "expected": "5/4",
            "exact": True, "wall_ratio": 1.3, "wall_ug_s": 13.0, "wall_direct_s": 10.0, "device": "cpu"}
    assert check_c7({"ug": {"cost": cost}}, "default").passed
    ci = lambda v: {"estimate": v, "lo": v - 1, "hi": v + 1}  # noqa: E731
    cfg = {n: {"fd28": ci(v)} for n, v in (("direct", 50.0), ("ug_w0", 20.0), ("ug_w0.2", 15.0), ("ug_w0.5", 18.0),
                                          ("ug_w1", 30.0))}
    m = {"ug": {"configs": cfg, "paired": {"c8_argmin_in_0_0.2_0.5_frac": 0.9}, "n_samples": 256, "n_ref": 2000,
                "n_boot": 500}}
    assert check_c8(m, "default").passed
    cfg["ug_w1"]["fd28"] = ci(10.0)
    assert not check_c8(m, "default").passed
    with pytest.raises(KeyError):   # smoke: no FD measured -> the report says not-run
        check_c8({"ug": {"configs": {"direct": {}}, "paired": {}}}, "smoke")


def test_full_profile_code_paths_tiny():
    """The full profile's extra configurations (oracle, 2-D RoPE Transformer, eta < 1, DDPM sampler) run end
    to end on tiny models (a cosine schedule with T = 20 keeps it fast); FD needs the metric nets, so off."""
    from kexue.diffusion.schedules import cosine
    from kexue.nn.rope_transformer import RoPETransformer
    from kexue.nn.unet import UNet
    from kexue.upsample_guidance_eval import evaluate, sample_all

    torch.manual_seed(0)
    sched = cosine(20)
    models = {"cnn": UNet(widths=(4, 8), groups=4, t_dim=8).eval(), "oracle": UNet(widths=(4, 8), groups=4, t_dim=8).eval(),
              "transformer": RoPETransformer(dim=16, depth=1, heads=1, patch=2, t_dim=8).eval()}
    cfgs = configs([-1.0, 0.2], etas=(0.3, 1.0), round_ablation=True, oracle=True, transformer=True)
    names = [c["name"] for c in cfgs]
    assert {"ug_w0.2_eta0.3", "ug_w0.2_round", "oracle", "tf_direct", "tf_ug_w0.2"} <= set(names)
    samples, info = sample_all(cfgs, models, sched, s=2, n=4, side_hi=8, sampler="ddpm", steps=20, seed=0,
                               log=lambda *_: None)
    assert all(v.shape[-1] == (4 if k == "lowres" else 8) for k, v in samples.items())
    assert info["ug_w0.2_eta0.3"]["calls_low"] < info["ug_w0.2"]["calls_low"] == 20
    assert np.array_equal(samples["up_nearest"], upsample(torch.from_numpy(samples["lowres"]), 2).numpy())
    ref = np.clip(np.random.default_rng(0).normal(size=(10, 1, 8, 8)), -1, 1).astype(np.float32)
    m, arrays = evaluate(samples, ref, pool(torch.from_numpy(ref), 2).numpy(), None, None, s=2, k=2, n_boot=20, seed=0)
    assert m["fd"] is False and "detail_ratio" in m["configs"]["tf_ug_w0.2"] and "spec_oracle" in arrays


def test_c9_c10_checks():
    from stages.a10055_upsample_guidance import check_c9, check_c10

    ci = lambda v: {"estimate": v, "lo": v - 1, "hi": v + 1}  # noqa: E731
    cfg = {n: {"fd28": ci(v)} for n, v in (("direct", 200.0), ("ug_w0.2", 130.0), ("tf_direct", 150.0),
                                          ("tf_ug_w0.2", 145.0), ("ug_w0.2_eta0.3", 140.0), ("ug_w0.2_eta0.6", 133.0))}
    m = {"ug": {"configs": cfg}}
    assert check_c9(m, "full").passed            # Transformer gain 5 < 0.5 x CNN gain 70
    cfg["tf_ug_w0.2"] = {"fd28": ci(100.0)}
    assert not check_c9(m, "full").passed
    assert check_c10(m, "full").passed
    with pytest.raises(KeyError):
        check_c10({"ug": {"configs": {"direct": cfg["direct"], "ug_w0.2": cfg["ug_w0.2"]}}}, "default")
