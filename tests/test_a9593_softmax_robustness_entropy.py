"""Unit tests for article 9593 (kexue.softmax_entropy, kexue.softmax_noise, the init-scale demo):
card reference values, closed forms, identities and the bad-input errors."""
import math

import numpy as np
import pytest
from scipy.special import softmax

from kexue import softmax_entropy as se
from kexue.errors import KexueError
from kexue.softmax_noise import errors, parse_noise, summarise


def test_entropy_range_onehot_uniform():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 300))
        s = rng.standard_normal(n) * 10 ** rng.uniform(-3, 3)
        h1, h2 = se.softmax_entropy(s), se.entropy(softmax(s))
        assert -1e-12 <= h1 <= math.log(n) + 1e-12 and abs(h1 - h2) < 1e-9
    assert se.entropy([0.0, 1.0, 0.0]) == 0.0 and se.softmax_entropy([1e4, 0.0]) == 0.0
    assert abs(se.entropy(np.full(1000, 1e-3)) - math.log(1000)) < 1e-12
    assert abs(se.softmax_entropy(np.zeros(4096), tau=0.3) - math.log(4096)) < 1e-12


def test_entropy_bad_input():
    with pytest.raises(KexueError, match="sums to"):
        se.entropy([0.5, 0.6])
    with pytest.raises(KexueError, match="negative"):
        se.entropy([1.5, -0.5])
    for tau in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(KexueError, match="tau"):
            se.softmax_entropy([1.0, 2.0], tau=tau)
    with pytest.raises(KexueError, match="tau"):
        se.vertex_min(10, tau=0)
    with pytest.raises(KexueError, match="m <= n"):
        se.vertex_entropy(5, 0)
    with pytest.raises(KexueError, match="fraction"):
        se.deficit_fraction(1.0)
    with pytest.raises(KexueError, match="non-finite"):
        se.entropy([np.nan, 1.0])
    with pytest.raises(KexueError, match="negative"):
        se.infonce_floor(1, 1.0)


def test_jacobian_norm_matches_matrix():
    rng = np.random.default_rng(1)
    s = rng.standard_normal(7) * 2
    p = softmax(s)
    J = np.diag(p) - np.outer(p, p)
    assert abs(se.softmax_jacobian_fro(s) - np.linalg.norm(J)) < 1e-14
    # uniform p: ||J||_F^2 = (n - 1) / n^2
    assert abs(se.softmax_jacobian_fro(np.zeros(64)) - math.sqrt(63) / 64) < 1e-15


def test_card_constants_c5():
    opt = se.large_n_optimum(1.0)
    assert abs(opt["deficit"] - 0.4744746) < 1e-6 and abs(opt["t"] - 0.7944868) < 1e-6
    assert abs(se.t_star_closed_form() - 0.7944868) < 1e-6
    assert abs(se.deficit_fraction(0.5) - 0.3278133) < 1e-6
    # half/half closed form: tanh(1) - log cosh(1)
    assert abs(se.deficit_fraction(0.5) - (math.tanh(1) - math.log(math.cosh(1)))) < 1e-14
    for n, ref in ((10, 0.47436), (100, 0.47440), (1000, 0.47447)):
        assert abs(se.vertex_min(n, 1.0)["deficit"] - ref) < 1e-5


def test_vertex_formula_matches_softmax_and_mpmath():
    import mpmath

    mpmath.mp.dps = 40
    for n, m, tau in ((10, 3, 1.0), (256, 1, 0.05), (4096, 900, 0.2)):
        x = np.r_[np.ones(m), -np.ones(n - m)]
        assert abs(se.vertex_entropy(n, m, tau) - se.softmax_entropy(x, tau)) < 1e-11
        a = mpmath.mpf(1) / mpmath.mpf(tau)
        Z = m * mpmath.e ** a + (n - m) * mpmath.e ** (-a)
        H = mpmath.log(Z) - a * (m * mpmath.e ** a - (n - m) * mpmath.e ** (-a)) / Z  # the card's form
        assert abs(se.vertex_entropy(n, m, tau) - float(H)) < 1e-12


def test_hmin_card_grid_c7():
    ref = [5.42, 5.07, 3.88, 0.126, 0.0, 0.0]
    got = [se.vertex_min(256, t)["h"] for t in (2, 1, 0.5, 0.2, 0.1, 0.05)]
    assert all(abs(g - r) < 6e-3 for g, r in zip(got, ref))
    assert all(b <= a for a, b in zip(got, got[1:]))
    assert abs(se.vertex_min(4096, 0.2)["h"] - 1.63) < 5e-3 and se.vertex_min(4096, 0.1)["h"] < 3e-4


def test_box_search_finds_no_interior_minimum_c6():
    for n in (3, 5):
        r = se.box_min_search(n, 1.0, 10, np.random.default_rng(n))
        assert r["best"] >= r["vertex_min"] - 1e-9
        assert abs(r["exhaustive_vertex_min"] - r["vertex_min"]) < 1e-12


def test_infonce_floor_c8():
    for n, tau in ((256, 1.0), (16, 0.1), (4096, 0.05)):
        direct = se.infonce_loss(1.0, -np.ones(n - 1), tau)
        assert abs(se.infonce_floor(n, tau) - direct) < 1e-12
    assert se.infonce_floor(256, 1.0) > math.log(256) - 2.1 and se.infonce_floor(256, 0.1) < 1e-6
    with pytest.raises(KexueError, match="tau"):
        se.infonce_floor(10, -1.0)


def test_scale_sweep_monotone_entropy_c4():
    r = se.scale_sweep(64, [0.1, 1, 3, 10, 100], 200, np.random.default_rng(0))
    H, J = r["H"].mean(0), r["J"].mean(0)
    assert np.all(np.diff(r["H"], axis=1) < 0)  # per draw, strictly
    assert abs(H[0] - 4.15) < 0.03 and J[-1] < 0.1 * J.max() and np.argmax(J) == 2
    with pytest.raises(KexueError, match="scale"):
        se.scale_sweep(64, [0.0, 1.0], 10, np.random.default_rng(0))


def test_noise_scaling_and_errors():
    # every std-1 family has std 1: check by sampling
    rng = np.random.default_rng(0)
    for nm, draw in (("gaussian", rng.standard_normal), ("uniform", lambda k: rng.uniform(-1, 1, k)),
                     ("gumbel", lambda k: rng.gumbel(0, 1, k))):
        fam, scale = parse_noise(nm, 1.0)
        assert abs(np.std(draw(400_000) * scale) - 1) < 0.01
    assert parse_noise("gumbel@0.3", 1.0) == ("gumbel", 0.3)
    for bad in ("cauchy", "gumbel@-1", "gumbel@x"):
        with pytest.raises(KexueError, match="noise"):
            parse_noise(bad, 1.0)
    with pytest.raises(KexueError, match="std"):
        parse_noise("gaussian", 0.0)


def test_robustness_small_run_is_deterministic_and_decays():
    ns = [16, 256, 4096]
    r1 = errors(ns, [1.0, 6.0], ["gaussian"], ["value"], 20, 16, 1.0, seed=3)
    r2 = errors(ns, [1.0, 6.0], ["gaussian"], ["value"], 20, 16, 1.0, seed=3)
    assert np.array_equal(r1["err"], r2["err"])
    med = np.median(r1["err"], axis=2)
    assert med[0, -1] < 0.3 * med[0, 0]  # sigma_s = 1 decays (~ n^-1/2: factor 16 expected)
    assert med[1, -1] > 0.1  # sigma_s = 6 does not
    s = summarise(ns, r1, 16, seed=0, n_boot=200)
    assert -0.7 < s["gaussian|sigma_s=1"]["fit"]["slope"] < -0.3
    with pytest.raises(KexueError, match="controls"):
        errors(ns, [1.0], ["gaussian"], ["logits"], 20, 16, 1.0, seed=3)


def test_noise_free_output_matches_direct_formula():
    # the fast path never forms V: compare with the direct computation for one replicate
    n, dim, seed = 64, 5, 7
    rng = np.random.default_rng([seed, 9593, n])
    z, u, xi = rng.standard_normal(n), rng.standard_normal(dim), rng.standard_normal((n, dim))
    g = rng.standard_normal(n)
    V = np.outer(z, u) + xi
    o, o2 = softmax(z) @ V, softmax(z + g) @ V
    ref = np.linalg.norm(o2 - o) / V.std()
    got = errors([n], [1.0], ["gaussian"], [], 2, dim, 1.0, seed)["err"][0, 0, 0]
    assert abs(got - ref) < 1e-12


def test_init_training_tiny(tmp_path):
    from kexue.softmax_init_training import InitConfig, run

    cfg = InitConfig(steps=3, batch=8, eval_batch=32, ckpt_every=2)
    res = run([1.0, 100.0], [0], cfg, tmp_path, "fp")
    assert res[(1.0, 0)]["attn_entropy"][0] > res[(100.0, 0)]["attn_entropy"][0]
    again = run([1.0], [0], cfg, tmp_path, "fp")  # finished runs resume to the same numbers
    assert again[(1.0, 0)]["eval_loss"] == res[(1.0, 0)]["eval_loss"]
