"""Unit tests for kexue.min_abc / kexue.min_abc_vector (article 9775): card reference values,
iteration counts, agreement with brute force, exactness of the interval ends and identities."""
from math import isqrt, sqrt

import numpy as np
import pytest

from kexue.min_abc import (SOLVERS, a_interval, all_optima, algorithm_a, algorithm_b, algorithm_c, b_interval,
                           bound_loose, bound_tight, brute_force, c2_holds, c3_residuals, c_interval, guess,
                           parity_identities)
from kexue.min_abc_vector import isqrt_vec, solve_range

# the card's "computed by exhaustive search" values (N: S*, a, b, c); compare S, the triple may tie
REFERENCE = {130: (23, 10, 13, 0), 101: (21, 10, 10, 1), 1000: (65, 25, 40, 0), 1000001: (2001, 1000, 1000, 1),
             2000003: (2834, 1386, 1443, 5), 123456789: (22230, 10821, 11409, 0),
             1000000007: (63257, 31250, 32000, 7), 10000000001: (200001, 100000, 100000, 1)}


@pytest.mark.parametrize("N", sorted(REFERENCE))
def test_reference_values(N):
    S_ref, a, b, c = REFERENCE[N]
    assert a * b + c == N and a + b + c == S_ref  # the card's triple is itself admissible and optimal-valued
    for name in ("brute", "A", "A_closed", "B", "C"):
        S, a_, b_, c_, _ = SOLVERS[name](N)
        assert S == S_ref, (name, N)
        assert a_ * b_ + c_ == N and min(a_, b_, c_) >= 0


def test_n130_guess_and_optima():
    assert guess(130)[:4] == (31, 11, 11, 9)
    assert (10, 13, 0) in all_optima(130)


def test_iteration_counts():
    # candidates = integers in the search interval (a for A, m for B, p for C) -- the card's convention
    assert [f(10**6 + 1)[4] for f in (algorithm_a, algorithm_b, algorithm_c)] == [293, 47, 65]
    assert [f(10**12 + 1)[4] for f in (algorithm_a, algorithm_b, algorithm_c)] == [292894, 1416, 2002]


def test_interval_ends_exact():
    # compare the exact integer ends with a 50-digit evaluation of the irrational ends
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    rng = np.random.default_rng(1)
    for N in [2, 3, 5, 130, 10**6 + 1, 2**60 + 12345] + [int(v) for v in rng.integers(1, 10**15, 200)]:
        s = Decimal(N).sqrt()
        lo, hi = b_interval(N)
        assert Decimal(lo) > s - Decimal("0.5") >= Decimal(lo - 1)
        U = s + Decimal("1.5") + (1 + 2 * s).sqrt()
        assert Decimal(hi) <= U < Decimal(hi + 1)
        lo, hi = c_interval(N)
        assert Decimal(lo) > 2 * s >= Decimal(lo - 1)
        U = 2 * s + 2 + (1 + 4 * s).sqrt()
        assert Decimal(hi) <= U < Decimal(hi + 1)
        lo, hi = a_interval(N)
        assert Decimal(lo) ** 2 * 2 > N >= 2 * Decimal(lo - 1) ** 2 and hi == isqrt(N)


def test_agree_with_brute_small_range():
    S_star = [brute_force(N)[0] for N in range(1, 3001)]
    for name in ("B", "C", "A_closed"):
        bad = [N for N in range(1, 3001) if SOLVERS[name](N)[0] != S_star[N - 1]]
        assert all(N <= 3 for N in bad), (name, bad)  # N = 1, 2, 3: a = 0 solutions (card pitfall)
    bad_a = [N for N in range(101, 3001) if algorithm_a(N)[0] != S_star[N - 1]]
    assert 128 in bad_a and 2 * 38**2 in bad_a and max(bad_a) < 3000  # the open left end misses a = sqrt(N/2)


def test_vector_matches_scalar():
    lo, hi = 1, 4000
    for name in ("brute", "guess", "A", "A_closed", "B", "C"):
        r = solve_range(lo, hi, name)
        for N in range(lo, hi + 1, 7):
            S, a, b, _, cand = SOLVERS[name](N)
            assert (r["S"][N - lo], r["a"][N - lo], r["b"][N - lo], r["cand"][N - lo]) == (S, a, b, cand), (name, N)


def test_isqrt_vec_exact():
    x = np.array([0, 1, 2, 3, 4, 15, 16, 17, 2**52 - 1, (2**26 - 1) ** 2, (2**26 - 1) ** 2 - 1], dtype=np.int64)
    assert isqrt_vec(x).tolist() == [isqrt(int(v)) for v in x]


def test_large_n_no_float_floor_errors():
    # above 2^52 float sqrt is unreliable; exact code must still give admissible, bounded answers
    for N in (2**60 + 1, 10**17 + 3, (10**9 + 7) ** 2 - 1):
        rb, rc = algorithm_b(N), algorithm_c(N)
        assert rb[0] == rc[0]
        for S, a, b, c, _ in (rb, rc):
            assert a * b + c == N and c >= 0 and S <= 2 * isqrt(N) + 4 + 2 * isqrt(1 + 4 * isqrt(N))


def test_identities():
    assert all(c2_holds(N, a) for N in (130, 999, 10**12 + 7) for a in (1, 2, 7, 31))
    rp, rc = c3_residuals(130, 10, 13)
    assert abs(rp - 1) < 1e-30 and abs(rc) < 1e-30  # printed form off by exactly 1
    N = np.arange(4, 3001)
    trip = [brute_force(int(n)) for n in N]
    out = parity_identities(N, [t[1] for t in trip], [t[2] for t in trip])
    assert out["failures"] == 0 and out["same_parity"] > 0 and out["mixed_parity"] > 0


def test_bounds_and_squares():
    r = solve_range(1, 20000, "brute")
    N = np.arange(1, 20001)
    assert (r["S"] <= bound_loose(N)).all() and (r["S"] <= bound_tight(N)).all()
    k = np.arange(2, 142)
    assert (r["S"][k * k - 1] == 2 * k).all()
    assert bound_tight(10**6) < bound_loose(10**6) and abs(bound_tight(10**6) - (2000 + 2 + sqrt(4001))) < 1e-9
