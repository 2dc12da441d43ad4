"""Unit tests for article 10007 (Fourier basis density model): closed forms, identities,
the batched torch models against the numpy reference, parameter counting, and bad input."""
import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from kexue import density_1d as d1
from kexue import fourier_density as fd
from kexue.batched_density_models import (Adam, FactorizedDensity, FourierDensity, GaussianMixture1D, dfp_count,
                                          dfp_widths, fourier_order, gmm_components, train_batched)
from kexue.errors import KexueError


def test_autocorr_known_values():
    a = np.array([1.0, 2.0j])  # f = |1 + 2i e^{-i pi x}|^2 = 5 + 2i e^{-i pi x}... c_1 = a_0 conj(a_1) = -2i
    c = fd.autocorr_coeffs(a)
    assert np.allclose(c, [5.0, -2.0j])
    x = np.linspace(-1, 1, 7)
    direct = np.abs(1 + 2j * np.exp(-1j * np.pi * x)) ** 2 / 10
    assert np.allclose(fd.density(x, a), direct, atol=1e-15)


def test_positivity_reality_and_normalisation():
    rng = np.random.default_rng(0)
    a = fd.random_amplitudes(rng, 16, 50)
    _, p = fd.density_on_periodic_grid(a, 4096)
    assert p.real.min() >= -1e-12 and np.abs(p.imag).max() < 1e-12
    assert np.allclose(p.real.mean(axis=1) * 2, 1, atol=1e-13)  # exact periodic trapezoid: int p = 1
    assert np.allclose(fd.density_complex(np.linspace(-1, 1, 9), a[0]).imag, 0, atol=1e-14)


def test_cdf_corrected_and_printed():
    rng = np.random.default_rng(1)
    a = fd.random_amplitudes(rng, 8)[0]
    assert fd.cdf(-1.0, a) == pytest.approx(0, abs=1e-14) and fd.cdf(1.0, a) == pytest.approx(1, abs=1e-14)
    assert fd.printed_cdf(1.0, a) == pytest.approx(0, abs=1e-14)  # the article's misprint: Phi(1) = 0
    x, F, p = fd.cdf_on_grid(a, 2000)
    assert np.max(np.abs(F - fd.cdf(x, a))) < 1e-13 and np.max(np.abs(p - fd.density(x, a))) < 1e-13
    h = 1e-6  # dPhi/dx = p
    assert (fd.cdf(0.3 + h, a) - fd.cdf(0.3 - h, a)) / (2 * h) == pytest.approx(fd.density(0.3, a), rel=1e-6)


def test_derivative_energy_and_scale_invariance():
    rng = np.random.default_rng(2)
    a = fd.random_amplitudes(rng, 12)[0]
    s, q = fd.derivative_energy(a)
    assert abs(s - q) / s < 1e-12
    # the normalised penalty does not change when a -> 3 e^{i} a; the raw energy scales by 3^4
    assert fd.normalized_regularizer(3 * np.exp(1j) * a) == pytest.approx(fd.normalized_regularizer(a), rel=1e-12)
    assert fd.derivative_energy(3 * a)[0] == pytest.approx(81 * s, rel=1e-12)


def test_log_sech2_no_underflow():
    u = np.array([0.0, 1.0, 20.0, 400.0])
    assert np.allclose(fd.log_sech2(u[:2]), np.log(1 / np.cosh(u[:2]) ** 2))
    assert np.isfinite(fd.log_sech2(u)).all() and fd.log_sech2(400.0) == pytest.approx(math.log(4) - 800)


def test_torch_fbdm_matches_numpy_and_penalty():
    g = torch.Generator().manual_seed(0)
    m = FourierDensity(1, 2, 5, [0.3], [1.7], [0.0, 1e-3], g, init_std=0.5).double()
    a = (m.a_re + 1j * m.a_im).detach().numpy()[0, 1]
    y = np.linspace(-6, 6, 11)
    with torch.no_grad():
        lp = m.log_prob(torch.tensor(y)[None]).numpy()[0, 1]
        pen = float(m.penalty()[0, 1])
    assert np.allclose(lp, fd.log_density_real_line(y, a, 0.3, 1.7), atol=1e-10)
    assert pen == pytest.approx(fd.normalized_regularizer(a), rel=1e-10)


def test_torch_models_normalised():
    g = torch.Generator().manual_seed(1)
    y = torch.linspace(-60, 60, 240001, dtype=torch.float64)[None]
    for m in (FourierDensity(1, 2, 4, [0.0], [1.0], [0.0, 0.0], g, init_std=0.3),
              GaussianMixture1D(1, 2, 3, [0.0], [1.0], g), FactorizedDensity(1, 2, 3, 2, [0.0], [1.0], g)):
        with torch.no_grad():
            tot = torch.trapezoid(m.double().log_prob(y).exp(), y[0], dim=-1)
        assert torch.allclose(tot, torch.ones_like(tot), atol=1e-4), (type(m).__name__, tot)


def test_parameter_counts():
    assert [fourier_order(P) for P in (10, 20, 40, 80)] == [3, 8, 18, 38]
    assert [gmm_components(P) for P in (10, 20, 40, 80)] == [4, 7, 14, 27]
    g = torch.Generator().manual_seed(0)
    for P in (10, 20, 40, 80):
        r, L, n = dfp_widths(P)
        m = FactorizedDensity(1, 1, r, L, [0.0], [1.0], g)
        assert sum(p.numel() for p in m.parameters()) == n == dfp_count(r, L)


def test_adam_matches_torch():
    torch.manual_seed(0)
    w1 = torch.randn(4, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_(True)
    o1, o2 = Adam([w1]), torch.optim.Adam([w2], lr=0.05)
    for _ in range(20):
        for w in (w1, w2):
            w.grad = None
            (w ** 4 + w.cos()).sum().backward()
        o1.step(0.05)
        o2.step()
    assert torch.allclose(w1, w2, atol=1e-6)


def test_fbdm_fit_learns_bimodal(tmp_path):
    rng = np.random.default_rng(0)
    t = d1.gaussian_mixture("B", "bimodal", [0.5, 0.5], [-1.5, 1.5], [0.3, 0.3])
    y = torch.tensor(t.sample(rng, 400)[None], dtype=torch.float32)
    g = torch.Generator().manual_seed(0)
    m = FourierDensity(1, 1, 8, y.mean(1), y.std(1), [0.0], g)
    with torch.no_grad():
        feats = m.features(y)
    res = train_batched(m, y, steps=150, lr_max=3e-2, lr_min=1e-3, run_dir=tmp_path, fingerprint="t", desc="t",
                        feats=feats)
    assert res["train_nll"][0, 0] < 1.45  # uniform-in-x start is ~1.9; the truth is ~1.2


def test_targets_and_metrics():
    t = d1.card_target("T1")
    y, w = d1.quadrature_grid(t, 8000)
    assert np.sum(t.pdf(y) * w) == pytest.approx(1, abs=1e-6)
    kl, w1 = d1.kl_w1(t.logpdf(y), t.cdf(y), t.logpdf(y)[None], w)
    assert abs(kl[0]) < 1e-12 and w1[0] < 1e-3
    ym = d1.mode_grid(t, 0.005)
    modes = d1.find_modes(ym, t.pdf(ym), 0.01)
    assert np.allclose(modes, [-3, -1, 0, 1.5, 3], atol=0.02)
    assert d1.mode_scores(modes, np.array([-3.05, 0.0, 2.0]), 0.1) == (0.4, 1)
    assert d1.card_target("T3").quantile(0.5) == pytest.approx(0.0, abs=1e-9)  # median of LogNormal(0, s) - 1


def test_bad_input():
    with pytest.raises(KexueError, match="N >= 1"):
        fd.autocorr_coeffs(np.array([1.0 + 0j]))
    with pytest.raises(KexueError, match="Fourier order"):
        fd.random_amplitudes(np.random.default_rng(0), 0)
    with pytest.raises(KexueError, match="all zero"):
        fd.density(0.0, np.zeros(3))
    with pytest.raises(KexueError, match="sigma"):
        fd.log_density_real_line(0.0, np.ones(3), 0.0, 0.0)
    with pytest.raises(KexueError, match="stds"):
        d1.gaussian_mixture("X", "x", [0.5, 0.5], [0, 1], [0.1, -0.2])
    with pytest.raises(KexueError, match="P = 4"):
        fourier_order(4)
    with pytest.raises(KexueError, match="gamma"):
        fd.normalized_regularizer(np.ones(3), -1.0)
    with pytest.raises(KexueError, match="sigma"):
        FourierDensity(1, 1, 3, [0.0], [0.0], [0.0], torch.Generator())
    with pytest.raises(KexueError, match="std"):
        GaussianMixture1D(1, 1, 3, [0.0], [-1.0], torch.Generator())
    with pytest.raises(KexueError, match="unknown target"):
        d1.card_target("T9")


def test_params_schema_rejects_bad_values():
    from stages.a10007_fourier_basis_density import Params
    from kexue.params import load_raw, resolve_block

    good = resolve_block(load_raw()["a10007"], "smoke")
    Params(**good)
    for bad in ({"budgets": [4]}, {"check_orders": [0, 4]}, {"gammas": [1e-3]}, {"gammas": [0.0, -1.0]},
                {"models": ["GMM-GD"]}, {"lr_min": 0.5}, {"fig_budget": 40}, {"targets": ["T7"]},
                {"mode_tol": 0.0}):
        with pytest.raises(ValidationError):
            Params(**{**good, **bad})
