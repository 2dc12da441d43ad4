"""Unit tests of kexue.groupwise_cosine (kexue.fm/archives/9931)."""
import math

import numpy as np
import pytest
from scipy.stats import pearsonr

from kexue import groupwise_cosine as gc


def test_c1_value():
    r = gc.decompose([1.0, 1.0], [1.0, 2.0], [1, 1])
    assert r["c"].tolist() == [1.0, 1.0]
    assert abs(r["glob"] - 3 / math.sqrt(10)) < 1e-15
    assert abs(r["glob"] - 0.948683) < 1e-6


def test_zero_norm_guard():
    assert gc.cosine(np.zeros(3), np.ones(3)) == 0.0
    st = gc.group_stats(np.array([[[0.0, 0.0], [1.0, 0.0]]]), np.array([[[1.0, 1.0], [1.0, 0.0]]]))
    assert not np.isnan(st["c"]).any() and st["c"][0, 0] == 0.0
    assert abs(st["glob"][0] - 1 / math.sqrt(3)) < 1e-15  # x = (0,0,1,0), y = (1,1,1,0)


def test_identity_random_partitions():
    e_id, e_ref = gc.identity_errors(np.random.default_rng(1), 300)
    assert e_id < 1e-12 and e_ref < 1e-12


def test_identity_batched_all_sign_classes():
    rng = np.random.default_rng(2)
    for kind in ("nonneg", "neg", "mixed"):
        x, y = gc.random_instances(rng, 500, 4, 3, kind)
        st = gc.group_stats(x, y)
        assert np.max(np.abs(st["glob"] - st["ident"])) < 1e-12
        assert np.max(np.abs(st["glob"] - st["cos_ab"] * st["cbar_w"])) < 1e-12
        c = st["c"]
        if kind == "nonneg":
            assert (c > 0).all()
        elif kind == "neg":
            assert (c < 0).all()
        else:
            assert ((c > 0).any(1) & (c < 0).any(1)).all()


@pytest.mark.parametrize("lam", [0.5, 0.9, 0.99])
def test_counterexample_scaling(lam):
    rng = np.random.default_rng(3)
    for eps in (1e-1, 1e-3, 1e-6):
        for dim in (2, 7):
            x, y = gc.counterexample(lam, eps, dim=dim, rng=rng)
            st = gc.group_stats(x[None], y[None])
            assert np.allclose(st["c"], lam, atol=1e-13)
            assert st["glob"][0] > 0
            assert abs(st["glob"][0] - 2 * lam * eps / (1 + eps**2)) < 1e-14
    assert st["glob"][0] < 1e-4


def test_bounds_hold_and_fail_where_expected():
    rng = np.random.default_rng(4)
    for K, d in ((2, 1), (3, 2), (5, 4)):
        vn = gc.bound_violations(gc.group_stats(*gc.random_instances(rng, 2000, K, d, "nonneg")))
        vm = gc.bound_violations(gc.group_stats(*gc.random_instances(rng, 2000, K, d, "mixed")))
        vg = gc.bound_violations(gc.group_stats(*gc.random_instances(rng, 2000, K, d, "neg")))
        assert vn["upper_violations"] == 0 and vn["refine_upper_violations"] == 0
        assert vn["refine_lower_violations"] == 0
        assert vm["upper_violations"] == 0 and vm["lower_violations"] == 0
        assert vg["lower_violations"] == 0 and vg["upper_violations"] > 0
    x, y = gc.orthogonal_norms_instance()
    st = gc.group_stats(x[None], y[None])
    assert (st["c"] < 0).all() and st["glob"][0] > st["c"].max()


def test_adversarial_search_finds_only_the_negative_case():
    rng = np.random.default_rng(5)
    assert gc.adversarial_search(rng, 5, "nonneg", "upper")["violations"] == 0
    r = gc.adversarial_search(rng, 5, "neg", "upper")
    assert r["violations"] == 1 and r["max_excess"] > 0.5


def test_adv_objective_gradient():
    rng = np.random.default_rng(6)
    K, d = 3, 2
    z = rng.standard_normal(2 * K * d)
    pattern = np.array([1.0, -1.0, 1.0])
    for which in ("upper", "lower"):
        f, g = gc._adv_objective(z, K, d, pattern, which)
        h = 1e-6
        num = np.array([(gc._adv_objective(z + h * e, K, d, pattern, which)[0]
                         - gc._adv_objective(z - h * e, K, d, pattern, which)[0]) / (2 * h)
                        for e in np.eye(len(z))])
        assert np.max(np.abs(num - g)) < 1e-6


def test_pearson_is_centred_cosine():
    rng = np.random.default_rng(7)
    for _ in range(50):
        x = rng.standard_normal(30) * 3 + 5
        y = x * rng.uniform(-1, 1) + rng.standard_normal(30)
        assert abs(pearsonr(x, y).statistic - gc.pearson_via_cosine(x, y)) < 1e-12


def test_simpson():
    (x1, y1), (x2, y2) = gc.simpson_data(np.random.default_rng(8), 50)
    assert gc.pearson_via_cosine(x1, y1) > 0.999999 and gc.pearson_via_cosine(x2, y2) > 0.999999
    xp, yp = np.concatenate([x1, x2]), np.concatenate([y1, y2])
    assert gc.pearson_via_cosine(xp, yp) < 0 and gc.ols_slope(xp, yp) < 0
    assert abs(gc.ols_slope(x1, y1) - 1) < 1e-12


@pytest.mark.parametrize("lam", [0.1, 0.2, 0.5, 0.9])
def test_clipping_preserves_norm_reaches_lambda_and_matches_bisection(lam):
    rng = np.random.default_rng(9)
    for _ in range(20):
        g = rng.standard_normal(50)
        u = rng.standard_normal(50) - 0.3 * g  # mostly cos < lam
        before = float(gc.cosine(u, g))
        v = gc.clip_cosine(u, g, lam)
        assert abs(np.linalg.norm(v) - np.linalg.norm(u)) < 1e-12 * np.linalg.norm(u)
        if before < lam:
            assert abs(float(gc.cosine(v, g)) - lam) < 1e-12
            assert np.max(np.abs(v - gc.clip_cosine_bisect(u, g, lam))) < 1e-10
        else:
            assert np.array_equal(v, u)


def test_clipping_torch_twin_matches_numpy():
    torch = pytest.importorskip("torch")

    rng = np.random.default_rng(10)
    g = rng.standard_normal(40)
    u = rng.standard_normal(40) - g
    v = gc.clip_cosine(torch.tensor(u), torch.tensor(g), 0.3).numpy()
    assert np.max(np.abs(v - gc.clip_cosine(u, g, 0.3))) < 1e-12


def test_scalar_granularity_identity():
    rng = np.random.default_rng(11)
    u, g = rng.standard_normal(1000), rng.standard_normal(1000) + 0.2
    frac, cabs, wmean, err = gc.scalar_granularity(u, g)
    assert err < 1e-13 and 0 < frac < 1 and 0 < cabs <= 1
    assert abs(cabs * wmean - float(gc.cosine(u, g))) < 1e-13
