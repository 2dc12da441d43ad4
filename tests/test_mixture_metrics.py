import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from kexue.diffusion.schedules import VPSDE
from kexue.errors import KexueError
from kexue.mixture_metrics import (Mixture, mean_log_density, mode_masses, mode_std_ratio, modes_covered,
                                   ring_mixture)


def test_log_prob_matches_scipy_for_full_covariances():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 2, 2))
    covs = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(2)
    mus, w = rng.standard_normal((3, 2)), np.array([0.5, 0.3, 0.2])
    m = Mixture(w, mus, covs)
    x = rng.standard_normal((7, 2))
    ref = np.log(sum(w[k] * multivariate_normal(mus[k], covs[k]).pdf(x) for k in range(3)))
    np.testing.assert_allclose(m.log_prob(x), ref, rtol=1e-10)


def test_real_samples_cover_all_modes_with_unit_std_ratio():
    m = ring_mixture(8, 3.0, 0.3, weights=[0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04])
    x = m.sample(20000, np.random.default_rng(1))
    assert modes_covered(x, m) == 8
    np.testing.assert_allclose(mode_masses(x, m), m.w, atol=0.01)
    np.testing.assert_allclose(mode_std_ratio(x, m), 1.0, atol=0.03)
    # E[log p] = -H(p); for well-separated modes H = H(w) + sum w_k H(N_k)
    H = -(m.w * np.log(m.w)).sum() + 0.5 * 2 * np.log(2 * np.pi * np.e * 0.09)
    assert abs(mean_log_density(x, m) + H) < 0.03


def test_collapse_to_one_mode_is_seen():
    m = ring_mixture(8, 2.0, 0.25)
    x = np.tile(m.mu[0], (500, 1)) + 0.01 * np.random.default_rng(2).standard_normal((500, 2))
    assert modes_covered(x, m) == 1
    assert mode_std_ratio(x, m)[0] < 0.1 and np.isnan(mode_std_ratio(x, m)[1])


def test_exact_view_under_a_schedule_agrees_at_small_t():
    m = ring_mixture(4, 2.0, 0.5)
    gm = m.exact(VPSDE())
    x = m.sample(5, np.random.default_rng(3))
    # at t = 0 the noised mixture is the mixture itself (abar = 1, bbar = 0)
    np.testing.assert_allclose(gm.log_prob(torch.tensor(x), 0.0).numpy(), m.log_prob(x), rtol=1e-6)


@pytest.mark.parametrize("kw, match", [
    (dict(k=8, radius=2.0, std=0.0), "std"),
    (dict(k=0, radius=2.0, std=0.1), "positive integer"),
    (dict(k=3, radius=2.0, std=0.1, weights=[0.5, 0.5, 0.5]), "sum to 1"),
])
def test_bad_mixtures_are_refused(kw, match):
    with pytest.raises(KexueError, match=match):
        ring_mixture(**kw)


def test_non_positive_variance_and_nan_samples_are_refused():
    with pytest.raises(KexueError, match="positive definite"):
        Mixture([1.0], [[0.0, 0.0]], [[[1.0, 0.0], [0.0, -1.0]]])
    m = ring_mixture(2, 1.0, 0.1)
    with pytest.raises(KexueError, match="non-finite"):
        modes_covered(np.array([[np.nan, 0.0]]), m)
