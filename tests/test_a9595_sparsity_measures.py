"""Unit tests for article 9595 (sparsity measures): card reference values, closed forms and
identities, the exact confirmation of property violations, the sparse-regression solvers, and
the bad-input errors."""
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from pydantic import ValidationError

from kexue import sparse_regression as sr
from kexue import sparsity_measures as sm
from kexue.errors import KexueError
from kexue.property_tests import Measure, classify, run_property_tests
from kexue.sparsity_study import c2b_reference, catalogue, compare_table, expected_table


def test_card_counterexample_c2b():
    r = c2b_reference()
    assert r["S_before"] == pytest.approx(0.83795, abs=1e-5)
    assert r["S_after"] == pytest.approx(0.82811, abs=1e-5)
    assert r["S_after"] < r["S_before"] and r["valid_move"]  # Robin Hood made it "sparser": D1 fails


@pytest.mark.parametrize("q,p", [(1, 1.5), (1, 2), (1, 4), (0.5, 2), (2, 3)])
def test_range_ends(q, p):
    for n in (2, 7, 64):
        lo = n ** (1 / p - 1 / q)
        one_hot = np.zeros(n)
        one_hot[n // 2] = -3.0
        assert sm.s_star_qp(one_hot, q, p) == pytest.approx(lo, abs=1e-12)
        assert sm.s_star_qp(np.full(n, 0.3), q, p) == pytest.approx(1.0, abs=1e-12)
        x = np.random.default_rng(n).standard_cauchy((50, n))
        s = sm.s_star_qp(x, q, p)
        assert np.all(s >= lo - 1e-12) and np.all(s <= 1 + 1e-12)
    assert sm.s_star_1p(np.eye(16)[3], 2.0) == pytest.approx(0.25, abs=1e-15)  # 1/sqrt(n)


def test_p_limit_and_s0():
    rng = np.random.default_rng(0)
    x = rng.exponential(size=(100, 64))
    assert np.max(np.abs(sm.s_1p(x, 512.0) - sm.s0(x))) < 0.01
    assert sm.s0([1.0, 3.0, -2.0]) == pytest.approx(2 / 3)
    assert sm.s_1p([1.0, 1.0], 2.0) == pytest.approx(1 / np.sqrt(2))


def test_cosine_and_snr_forms():
    x = np.random.default_rng(1).standard_normal((20, 33))
    s = sm.s_star_1p(x, 2.0)
    np.testing.assert_allclose(sm.cosine_sign_form(x), s, atol=1e-12)
    for f in sm.snr_forms(x):
        np.testing.assert_allclose(f, s, atol=1e-12)
    z = np.array([3.0, 0.0, -1.0, 0.0])  # with zeros the cosine form differs, the SNR forms do not
    assert sm.s_star_1p(z, 2.0) == pytest.approx(np.sqrt(0.4))
    assert sm.cosine_sign_form(z) == pytest.approx(4 / np.sqrt(20))
    assert sm.snr_forms(z)[1] == pytest.approx(np.sqrt(0.4))


def test_gini_and_hoyer_closed_forms():
    for n in (2, 5, 40):
        e = np.eye(n)[0]
        assert sm.one_minus_gini(e) == pytest.approx(1 / n)  # G = 1 - 1/n at one-hot
        assert sm.one_minus_gini(np.ones(n)) == pytest.approx(1.0)
        assert sm.one_minus_hoyer(e) == pytest.approx(0.0, abs=1e-15)
        assert sm.one_minus_hoyer(np.ones(n)) == pytest.approx(1.0)


def test_renyi_entropy():
    rng = np.random.default_rng(2)
    x = rng.dirichlet(np.full(50, 0.5), size=10)
    h = sm.shannon(x)
    assert np.max(np.abs(sm.renyi(x, 1 + 1e-6) - h)) < 1e-4
    assert np.max(np.abs(sm.renyi(x, 1 - 1e-6) - h)) < 1e-4
    np.testing.assert_allclose(sm.renyi(x, 2.0), -np.log(np.sum(x ** 2, axis=-1)), rtol=1e-12)
    for p in (1.5, 2.0, 3.0):  # C6: log S*_(1,p) = -(p-1)/p (log n - H_p)
        np.testing.assert_allclose(np.log(sm.s_star_prob(x, p)), -(p - 1) / p * (np.log(50) - sm.renyi(x, p)),
                                   atol=1e-10)
        np.testing.assert_allclose(sm.s_star_from_renyi(sm.renyi(x, p), 50, p), sm.s_star_1p(x, p), rtol=1e-10)
    assert sm.renyi(np.full(8, 1 / 8), 3.0) == pytest.approx(np.log(8))
    assert sm.renyi(np.eye(8)[2], 0.5) == pytest.approx(0.0, abs=1e-15)
    big = np.full(4096, 1 / 4096)
    assert sm.renyi(big, 10.0) == pytest.approx(np.log(4096))  # no underflow of sum x^10


def test_exact_twins_agree_with_float():
    rng = np.random.default_rng(3)
    x = rng.exponential(size=9)
    xs = [Fraction(float(v)) for v in x]
    with mpmath.workdps(40):
        for m in catalogue([1.5, 4], [[0.5, 2], [2, 3]]):
            assert float(m.exact(xs)) == pytest.approx(float(m.fn(x)), rel=1e-12), m.name


def test_rounding_false_violation_is_refuted():
    """A Robin Hood move between two entries far below the max: float64 sees no change of S_(1,4)
    (a strict 'violation'), exact arithmetic sees the true increase."""
    m = Measure("S_1,4", "", lambda x: sm.s_1p(x, 4.0), lambda xs: sm.s_1p_exact(xs, 4.0))
    x = [1.0, 2e-5, 1e-5]
    y = [1.0, 2e-5 - 2.5e-6, 1e-5 + 2.5e-6]
    assert sm.s_1p(np.array(y), 4.0) - sm.s_1p(np.array(x), 4.0) <= 1e-9 * sm.s_1p(np.array(x), 4.0)
    before = [Fraction(v) for v in x]
    after = [before[0], before[1] - Fraction(2.5e-6), before[2] + Fraction(2.5e-6)]
    assert classify(m, "D1", before, after) == "ok"
    s0 = Measure("S0", "", sm.s0, sm.s0_exact)
    assert classify(s0, "D1", before, after) == "strict"  # S0: exact tie, non-strict holds


def test_property_runner_small_table():
    ms = catalogue([2.0], [[0.5, 2], [2, 3]])
    t = run_property_tests(ms, ("D1", "D4", "P2"), 60, [3, 6], seed=0)
    assert t["S_1,2"]["D4"]["strict_violations"] == 60  # cloning changes S_(1,p)
    assert t["S*_1,2"]["D4"]["strict_violations"] == 0
    assert t["S0"]["D1"]["nonstrict_violations"] == 0 < t["S0"]["D1"]["strict_violations"]
    assert t["S*_2,3"]["D1"]["strict_violations"] > 0  # C2b
    assert t["S*_2,3"]["D1"]["first_counterexample"]["kind"] == "wrong sign"
    assert t["l1/l2"]["P2"]["strict_violations"] == 60 and t["l1/l2"]["P2"]["nonstrict_violations"] == 0
    exp = expected_table([2.0], [[0.5, 2]])
    exp = {k: {p: v for p, v in row.items() if p in ("D1", "D4", "P2", "D1_nonstrict")} for k, row in exp.items()}
    assert compare_table(t, exp) == []
    r = t["S*_0.5,2"]["D1"]["strict_rate"]
    assert r["k"] == 0 and r["lo"] == 0 and 0 < r["hi"] < 0.1


def test_sparse_regression_solvers():
    rng = np.random.default_rng(4)
    b = rng.standard_normal(6)
    x = sr.fista_l1(np.eye(6), b, 0.6, iters=500)  # A = I: soft threshold at lam/2
    np.testing.assert_allclose(x, np.sign(b) * np.maximum(np.abs(b) - 0.3, 0), atol=1e-8)
    A, b, x0 = sr.problem(rng, 16, 48, 3, 0.0)
    ridge = sr.Ridge(A, b)
    lam = ridge.match(0.2)
    assert sr.rel_residual(A, b, ridge.solve(lam)) == pytest.approx(0.2, rel=2e-3)
    xl, _ = sr.l1_match(A, b, 0.2, None, 300)
    assert sr.rel_residual(A, b, xl) == pytest.approx(0.2, rel=0.05)
    with pytest.raises(KexueError, match="x = 0"):
        sr.s_star_penalised(A, b, 1.0, np.zeros(48), 10, 1e-2, 1e-6)


def test_bad_inputs():
    with pytest.raises(KexueError, match="sums to"):
        sm.renyi([0.5, 0.4], 2.0)
    with pytest.raises(KexueError, match="sums to"):
        sm.shannon([0.2, 0.2, 0.2])
    with pytest.raises(KexueError, match="sums to"):
        sm.s_star_prob([0.7, 0.7], 2.0)
    with pytest.raises(KexueError, match="negative"):
        sm.renyi([1.5, -0.5], 2.0)
    with pytest.raises(KexueError, match="p > q"):
        sm.s_star_qp([1.0, 2.0], 2.0, 1.5)
    with pytest.raises(KexueError, match="p > q"):
        sm.s_star_qp([1.0, 2.0], 2.0, 2.0)
    with pytest.raises(KexueError, match="p > 1"):
        sm.s_1p([1.0, 2.0], 1.0)
    with pytest.raises(KexueError, match="p > 1"):
        sm.s_star_prob([0.5, 0.5], 0.8)
    with pytest.raises(KexueError, match="p > 1"):
        sm.s_star_from_renyi(0.3, 4, 1.0)
    with pytest.raises(KexueError, match="Renyi order"):
        sm.renyi([0.5, 0.5], 0.0)
    with pytest.raises(KexueError, match="every n must be >= 2"):
        run_property_tests(catalogue([2.0], []), ("D1",), 10, [1], seed=0)


def test_params_model_rules():
    from stages.a9595_sparsity_measures import Params
    from kexue.params import load_raw, resolve_block
    from kexue.registry import ROOT

    raw = load_raw(ROOT / "params.yaml")
    good = resolve_block(raw["a9595"], "smoke")
    Params(**good)
    for bad in ({"qp_pairs": [[2, 1.5]]}, {"qp_pairs": [[2, 3]]}, {"qp_bad_pairs": [[0.5, 2]]},
                {"p_values": [1.0]}, {"property_n": [1, 4]}, {"s": 70}, {"trials": 0}):
        with pytest.raises(ValidationError):
            Params(**{**good, **bad})
