"""Minimum of S = a + b + c over natural numbers with N = ab + c (kexue.fm/archives/9775).

Everything here works on ONE integer N at a time and is exact: Python integers and
`math.isqrt` throughout, because float sqrt gives wrong floors above ~2^52 and the
search intervals have irrational end points (see `_floor_where`).

Every solver returns the tuple (S, a, b, c, candidates_inspected):
- brute_force: a = 0 (S = N) plus every a = 1..isqrt(N) with b = N // a;
- guess: the naive "a = b next to sqrt N" (a = b = isqrt N), which the article refutes at N = 130;
- algorithm_a: a over the integers of the open-left interval (sqrt(N/2), sqrt N];
- algorithm_a_closed: the same with the closed lower end [floor(sqrt(N/2)), sqrt N];
- algorithm_b: the article's parity split a = x - y, b = x + y (x, y integers or both halves);
- algorithm_c: a reader's parity-free version p = a + b, q = b - a.
"candidates_inspected" counts the integers of the search interval (a for A, m for B, p for C),
which is the convention of the card's iteration counts (N = 10^6 + 1: A 293, B 47, C 65).
The vectorised-over-N versions live in `kexue.min_abc_vector`.
"""
from __future__ import annotations

from fractions import Fraction
from math import isqrt, sqrt

import numpy as np

# numpy over a: chunk so that N up to 10^15 (isqrt ~ 3.2e7) needs only ~100 MB at a time.
_A_CHUNK = 1 << 22


def triple(N: int, a: int, b: int) -> tuple[int, int, int, int]:
    """(S, a, b, c) for a chosen (a, b); c = N - ab must be a natural number."""
    c = N - a * b
    if a < 0 or b < 0 or c < 0:
        raise ValueError(f"N={N}: (a, b) = ({a}, {b}) is not admissible (c = {c})")
    return a + b + c, a, b, c


def scan_a(N: int, a_lo: int, a_hi: int) -> tuple[int, int, int, int]:
    """Best (S, a, b, c) over a in [a_lo, a_hi] with b = N // a (numpy over a).

    Why b = N // a: for fixed a >= 1, S = N + a - (a - 1) b is non-increasing in b, so the
    largest admissible b wins. a = 0 means b = 0, c = N (S = N). Ties keep the smallest a.
    Returns S = -1 for an empty interval (an algorithm that inspects nothing answers nothing).
    """
    best = (-1, -1, -1, -1)
    if a_lo <= 0 <= a_hi:
        best = (N, 0, 0, N)
    lo = max(a_lo, 1)
    for start in range(lo, a_hi + 1, _A_CHUNK):
        a = np.arange(start, min(a_hi, start + _A_CHUNK - 1) + 1, dtype=np.int64)
        q = N // a
        S = N - (a - 1) * q + a  # = N - a q + a + q
        i = int(np.argmin(S))
        if best[0] < 0 or int(S[i]) < best[0]:
            best = triple(N, int(a[i]), int(q[i]))
    return best


def brute_force(N: int) -> tuple[int, int, int, int, int]:
    """S*(N): a = 0 and every a = 1..isqrt(N) (min(a, b) <= sqrt N, so this covers all ab <= N)."""
    r = isqrt(N)
    return (*scan_a(N, 0, r), r + 1)


def all_optima(N: int) -> list[tuple[int, int, int]]:
    """Every optimal (a, b, c) with a <= b (several can share S*; compare S, not triples)."""
    S_star = brute_force(N)[0]
    out = [(0, 0, N)] if N == S_star else []
    a = np.arange(1, isqrt(N) + 1, dtype=np.int64)
    q = N // a
    S = N - (a - 1) * q + a
    for ai in a[S == S_star]:
        ai = int(ai)
        # for a = 1, S does not depend on b: every b <= N is optimal if a = 1 is; list b = N.
        out.append((ai, N // ai, N - ai * (N // ai)))
    return out


def guess(N: int) -> tuple[int, int, int, int, int]:
    """The naive guess a = b = floor(sqrt N), c = N - a^2 (the card: N = 130 -> (11, 11, 9), S = 31)."""
    r = isqrt(N)
    return (*triple(N, r, r), 1)


def a_interval(N: int, closed: bool = False) -> tuple[int, int]:
    """Integers a in (sqrt(N/2), sqrt N] (or [floor(sqrt(N/2)), sqrt N] if closed).

    a > sqrt(N/2)  <=>  a >= floor(sqrt(N/2)) + 1, and floor(sqrt(N/2)) = isqrt(N // 2) because
    no square lies strictly between N//2 and N/2.
    """
    lo = isqrt(N // 2) + (0 if closed else 1)
    return lo, isqrt(N)


def algorithm_a(N: int, closed: bool = False) -> tuple[int, int, int, int, int]:
    lo, hi = a_interval(N, closed)
    return (*scan_a(N, lo, hi), max(hi - lo + 1, 0))


def algorithm_a_closed(N: int) -> tuple[int, int, int, int, int]:
    return algorithm_a(N, closed=True)


# ---------------------------------------------------------------------------------------------
# Interval ends of B and C. Both upper ends are sqrt N + const + sqrt(1 + k sqrt N): irrational,
# so "m <= U" is decided by squaring twice with integers, and the floor is found from a float
# guess corrected by that exact predicate (the predicate is monotone in m).

def b_upper_ok(N: int, m: int) -> bool:
    """m <= sqrt N + 3/2 + sqrt(1 + 2 sqrt N), exactly.

    With t = m - 3/2 and s = sqrt N: true if t <= s; otherwise both sides of t - s <= sqrt(1+2s)
    are positive, squaring gives t^2 + N - 1 <= 2 s (t + 1), squaring again (both sides >= 0)
    and multiplying by 16: ((2m-3)^2 + 4N - 4)^2 <= 16 N (2m-1)^2.
    """
    t2 = 2 * m - 3
    if t2 <= 0 or t2 * t2 <= 4 * N:
        return True
    return (t2 * t2 + 4 * N - 4) ** 2 <= 16 * N * (2 * m - 1) ** 2


def c_upper_ok(N: int, p: int) -> bool:
    """p <= 2 sqrt N + 2 + sqrt(1 + 4 sqrt N), exactly (t = p - 2: (t^2 + 4N - 1)^2 <= 16 N (t+1)^2)."""
    t = p - 2
    if t <= 0 or t * t <= 4 * N:
        return True
    return (t * t + 4 * N - 1) ** 2 <= 16 * N * (t + 1) ** 2


def _floor_where(ok, guess_value: float) -> int:
    """Largest integer m with ok(m), starting from a float guess that is off by at most a few."""
    m = int(guess_value)
    while ok(m + 1):
        m += 1
    while not ok(m):
        m -= 1
    return m


def b_interval(N: int) -> tuple[int, int]:
    """Integers m in (sqrt N - 1/2, sqrt N + 3/2 + sqrt(1 + 2 sqrt N)].

    m > sqrt N - 1/2  <=>  (2m + 1)^2 > 4N  <=>  2m + 1 > isqrt(4N)  <=>  m >= ceil(isqrt(4N) / 2).
    """
    lo = (isqrt(4 * N) + 1) // 2
    s = sqrt(N)
    hi = _floor_where(lambda m: b_upper_ok(N, m), s + 1.5 + sqrt(1 + 2 * s))
    return lo, hi


def c_interval(N: int) -> tuple[int, int]:
    """Integers p in (2 sqrt N, 2 sqrt N + 2 + sqrt(1 + 4 sqrt N)]; p > 2 sqrt N <=> p >= isqrt(4N) + 1."""
    s = sqrt(N)
    hi = _floor_where(lambda p: c_upper_ok(N, p), 2 * s + 2 + sqrt(1 + 4 * s))
    return isqrt(4 * N) + 1, hi


def ceil_sqrt(k: int) -> int:
    """ceil(sqrt k) for an integer k >= 0 (= isqrt(k - 1) + 1 for k > 0)."""
    return 0 if k <= 0 else isqrt(k - 1) + 1


def half_y(K: int) -> int:
    """Smallest j >= 0 with (2j + 1)^2 >= K, i.e. y = j + 1/2 = ceil(sqrt(K/4) - 1/2) + 1/2.

    K = (2m+1)^2 - 4N = 4((m + 1/2)^2 - N). For K <= 1 (including a negative radicand, x below
    sqrt N) the smallest half-integer y >= 0 is 1/2. Else 2j + 1 >= ceil(sqrt K) = r gives j = r // 2.
    """
    return 0 if K <= 1 else ceil_sqrt(K) // 2


def algorithm_b(N: int) -> tuple[int, int, int, int, int]:
    """The article's algorithm: a = x - y, b = x + y with x, y both integers or both halves."""
    r = isqrt(N)
    # (1) a perfect square: a = b = sqrt N, c = 0.
    if r * r == N:
        return (*triple(N, r, r), 0)
    # (2) x^2 <= N: y = 0 (or 1/2) is best, with the largest such x.
    best = triple(N, r, r)  # x = floor(sqrt N), y = 0
    k = (isqrt(4 * N) - 1) // 2  # x = floor(sqrt N - 1/2) + 1/2, y = 1/2: a = k, b = k + 1
    best = min(best, triple(N, k, k + 1), key=lambda t: t[0])
    # (3) x^2 >= N: y is the smallest value with x^2 - y^2 <= N (so c >= 0).
    lo, hi = b_interval(N)
    for m in range(lo, hi + 1):
        y = ceil_sqrt(m * m - N)  # 0 when m < sqrt N (pitfall: no sqrt of a negative number)
        cand = triple(N, m - y, m + y)
        if cand[0] < best[0]:
            best = cand
        j = half_y((2 * m + 1) ** 2 - 4 * N)  # x = m + 1/2, y = j + 1/2
        cand = triple(N, m - j, m + j + 1)
        if cand[0] < best[0]:
            best = cand
    return (*best, max(hi - lo + 1, 0))


def algorithm_c(N: int) -> tuple[int, int, int, int, int]:
    """Parity-free version: p = a + b, q = b - a of equal parity, 4S = 4N + q^2 + 4 - (p - 2)^2."""
    r = isqrt(N)
    if r * r == N:
        return (*triple(N, r, r), 0)
    p = isqrt(4 * N)  # (2) p = floor(2 sqrt N), q = p mod 2
    q = p % 2
    best = triple(N, (p - q) // 2, (p + q) // 2)
    lo, hi = c_interval(N)
    for p in range(lo, hi + 1):
        q = ceil_sqrt(p * p - 4 * N)  # p > 2 sqrt N, so the radicand is > 0
        q += (p - q) % 2  # eps in {0, 1}: same parity as p, else c = N - (p^2 - q^2)/4 is not an integer
        cand = triple(N, (p - q) // 2, (p + q) // 2)
        if cand[0] < best[0]:
            best = cand
    return (*best, max(hi - lo + 1, 0))


SOLVERS = {
    "brute": brute_force, "guess": guess, "A": algorithm_a, "A_closed": algorithm_a_closed,
    "B": algorithm_b, "C": algorithm_c,
}


# ---------------------------------------------------------------------------------------------
# Bounds and identities (C2, C3, C5, C6, C10), all exact unless stated.

def bound_loose(N):
    """C6: S* <= 2 sqrt N + 3 + 2 sqrt(1 + 2 sqrt N) (float; works on arrays)."""
    s = np.sqrt(np.asarray(N, dtype=np.float64))
    return 2 * s + 3 + 2 * np.sqrt(1 + 2 * s)


def bound_tight(N):
    """C6: S* <= 2 sqrt N + 2 + sqrt(1 + 4 sqrt N) (the reader's bound; also bounds p* = a* + b*)."""
    s = np.sqrt(np.asarray(N, dtype=np.float64))
    return 2 * s + 2 + np.sqrt(1 + 4 * s)


def c2_holds(N: int, a: int) -> bool:
    """C2 with exact fractions: with b = floor(N/a), S = (a - 1){N/a} + a + N/a."""
    b = N // a
    S = N - a * b + a + b
    frac = Fraction(N % a, a)
    return S == (a - 1) * frac + a + Fraction(N, a)


def c3_residuals(N: int, a: int, b: int, prec: int = 60) -> tuple:
    """C3: residual S - [N - (sqrt(ab) - 1)^2 + (sqrt a - sqrt b)^2] as printed, and with the +1.

    Evaluated with `decimal` at `prec` digits so that cancellation of size N leaves the
    residual exact to ~10^-(prec - 20): algebraically the printed form equals S - 1.
    """
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = prec
        S = Decimal(N - a * b + a + b)
        ra, rb = Decimal(a).sqrt(), Decimal(b).sqrt()
        printed = Decimal(N) - (ra * rb - 1) ** 2 + (ra - rb) ** 2
        return float(S - printed), float(S - (printed + 1))


def parity_identities(N, a, b) -> dict:
    """C5 (and C's 4S identity) on optimal triples, exact int64 on arrays (N up to ~10^15).

    Same parity (a = x - y, b = x + y): N + y^2 = x^2 + c, S = 2x + c = N + y^2 + 1 - (x - 1)^2.
    Mixed parity (a = x - y, b = x + y + 1 with a <= b): N + (y + 1/2)^2 = (x + 1/2)^2 + c and
    S = N + (y + 1/2)^2 + 1 - (x - 1/2)^2, checked times 4 to stay in integers.
    Returns counts of triples checked and of failures per identity.
    """
    N, a, b = (np.asarray(v, dtype=np.int64) for v in (N, a, b))
    a, b = np.minimum(a, b), np.maximum(a, b)
    c = N - a * b
    S = a + b + c
    same = (a + b) % 2 == 0
    x, y = (a + b) // 2, (b - a) // 2  # exact for same parity; for mixed parity floor(.) = the integer x, y
    out = {"checked": int(N.size), "same_parity": int(same.sum()), "mixed_parity": int((~same).sum()),
           "c_negative": int((c < 0).sum())}
    out["fail_same_c"] = int((same & (N + y * y != x * x + c)).sum())
    out["fail_same_S"] = int((same & ((S != 2 * x + c) | (S != N + y * y + 1 - (x - 1) ** 2))).sum())
    out["fail_mixed_c"] = int((~same & (4 * N + (2 * y + 1) ** 2 != (2 * x + 1) ** 2 + 4 * c)).sum())
    out["fail_mixed_S"] = int((~same & (4 * S != 4 * N + (2 * y + 1) ** 2 + 4 - (2 * x - 1) ** 2)).sum())
    p, q = a + b, b - a
    out["fail_pq_S"] = int((4 * S != 4 * N + q * q + 4 - (p - 2) ** 2).sum())
    out["failures"] = sum(v for k, v in out.items() if k.startswith("fail_") or k == "c_negative")
    return out
