"""The shared Monte Carlo, fitting and quadrature helpers against known answers."""
import math

import numpy as np
import pytest

from kexue.errors import KexueError
from kexue.fits import convergence_order, linear_fit, power_law_fit
from kexue.montecarlo import bootstrap_ci, fmt_ci, mean_ci, proportion_ci
from kexue.quadrature import hermite_nodes, log_normal_expectation, normal_expectation


def test_mean_ci_covers_the_truth_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    cover = np.mean([(lambda e: e["lo"] <= 1.0 <= e["hi"])(mean_ci(rng.normal(1.0, 2.0, 30))) for _ in range(2000)])
    assert 0.93 <= cover <= 0.97


def test_mean_ci_along_an_axis_gives_curves():
    e = mean_ci(np.ones((10, 4)) + np.arange(10)[:, None], axis=0)
    assert e["n"] == 10 and len(e["mean"]) == 4 and e["mean"][0] == pytest.approx(5.5)
    assert "n = 10" in fmt_ci(mean_ci(np.arange(10.0)))


def test_wilson_interval_edges_and_value():
    assert proportion_ci(0, 50)["lo"] == 0.0 and proportion_ci(50, 50)["hi"] == 1.0
    e = proportion_ci(10, 100)
    assert e["lo"] == pytest.approx(0.0552, abs=1e-3) and e["hi"] == pytest.approx(0.1744, abs=1e-3)
    with pytest.raises(KexueError, match="0 <= k <= n"):
        proportion_ci(5, 3)


def test_bootstrap_median_interval_contains_estimate():
    x = np.random.default_rng(1).exponential(size=400)
    e = bootstrap_ci(x, np.median, n_boot=500)
    assert e["lo"] < e["estimate"] < e["hi"] and e["estimate"] == pytest.approx(np.median(x))


def test_fits_recover_slopes():
    x = np.linspace(1, 10, 20)
    f = linear_fit(x, 3 + 2 * x)
    assert f["slope"] == pytest.approx(2) and f["r2"] == pytest.approx(1)
    n = np.array([8, 16, 32, 64, 128.0])
    p = power_law_fit(n, 5 * n ** -0.5)
    assert p["exponent"] == pytest.approx(-0.5) and p["prefactor"] == pytest.approx(5)
    assert convergence_order(n, n ** 2)["slope"] == pytest.approx(2)
    with pytest.raises(KexueError, match="positive"):
        power_law_fit([1, 2, 3], [1, 0, 2])
    with pytest.raises(KexueError, match="at least 3"):
        linear_fit([1, 2], [1, 2])


def test_hermite_quadrature_moments_and_log_form():
    z, w = hermite_nodes(40)
    assert w.sum() == pytest.approx(1) and normal_expectation(lambda z: z ** 4, 40) == pytest.approx(3)
    assert normal_expectation(np.cos, 40) == pytest.approx(math.exp(-0.5), abs=1e-14)
    # E[Phi(Z)^2] is the orthant probability of a correlated pair: 1/3
    from scipy.special import log_ndtr
    assert math.exp(log_normal_expectation(lambda z: 2 * log_ndtr(z), 64)) == pytest.approx(1 / 3, abs=1e-9)
    with pytest.raises(KexueError, match="positive integer"):
        hermite_nodes(0)
