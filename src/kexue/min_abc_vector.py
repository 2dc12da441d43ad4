"""The algorithms of `kexue.min_abc`, vectorised over a whole range of N (numpy int64).

Used for the exhaustive range N = lo..hi (up to 10^7 at the `full` profile). The scalar,
arbitrary-precision versions in `kexue.min_abc` are the reference; the unit tests check that
both agree. Two tricks:

- brute force, A and A-closed loop over a (outer) and handle all N at once: for a fixed a
  the N whose window contains a form one contiguous slice (brute: N >= a^2; A: a^2 <= N < 2a^2;
  A-closed: a^2 <= N < 2(a+1)^2), so each a costs one slice of numpy work and we keep running
  minima. N is processed in blocks so the working set stays in cache.
- B and C loop over the k-th integer of each N's own interval (at most ~2 + sqrt(1 + 4 sqrt N)
  steps) with a mask for the N whose interval is shorter.
Exactness: int64 square roots come from float sqrt plus one correction step each way, exact
for arguments below 2^52; the interval-end predicates square twice, which stays inside int64
for N <= 2 * 10^8 (asserted).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from kexue.min_abc import (SOLVERS, all_optima, bound_loose, bound_tight, c2_holds, c3_residuals,
                           parity_identities)

BLOCK = 1 << 16  # N per block: the working set of one a-sweep stays in cache
N_MAX_VECTOR = 2 * 10**8
_BIG = np.int64(2**62)


def isqrt_vec(x: np.ndarray) -> np.ndarray:
    """floor(sqrt(x)) for int64 0 <= x < 2^52: float sqrt is correctly rounded, so one fix each way."""
    x = np.asarray(x, dtype=np.int64)
    assert x.size == 0 or (x.min() >= 0 and x.max() < 2**52), "isqrt_vec needs 0 <= x < 2^52"
    r = np.floor(np.sqrt(x.astype(np.float64))).astype(np.int64)
    r -= (r * r > x)
    r += ((r + 1) * (r + 1) <= x)
    return r


def _check_range(lo: int, hi: int) -> np.ndarray:
    if not (1 <= lo <= hi <= N_MAX_VECTOR):
        raise ValueError(f"vectorised range needs 1 <= lo <= hi <= {N_MAX_VECTOR}, got [{lo}, {hi}]")
    return np.arange(lo, hi + 1, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Scans over a: brute force, A, A-closed.

def _a_window(kind: str, a: int) -> tuple[int, int]:
    """The N (inclusive) whose search window contains this a >= 1."""
    if kind == "brute":
        return a * a, N_MAX_VECTOR  # a <= isqrt(N)
    if kind == "A":
        return a * a, 2 * a * a - 1  # isqrt(N//2) < a <= isqrt(N)
    if kind == "A_closed":
        return a * a, 2 * (a + 1) ** 2 - 1  # isqrt(N//2) <= a <= isqrt(N)
    raise ValueError(kind)


def scan_a_range(lo: int, hi: int, kind: str, check_c2: bool = False) -> dict:
    """Best S and a for every N in [lo, hi] over the window `kind`; b = N // a, c = N - ab.

    a = 0 (S = N) is a candidate for brute force always, for A-closed when isqrt(N//2) = 0 (N <= 1),
    never for A. An N whose window is empty gets S = -1 (no answer). With check_c2 (brute only)
    C2 is checked on every (N, a): a S = (a-1)(N mod a) + a^2 + N, i.e. S = (a-1){N/a} + a + N/a
    multiplied by a (exact integers instead of fractions).
    """
    N = _check_range(lo, hi)
    S = np.full(N.size, _BIG, dtype=np.int64)
    A = np.full(N.size, -1, dtype=np.int64)
    if kind == "brute":
        S[:], A[:] = N, 0
    elif kind == "A_closed":
        S[N <= 1], A[N <= 1] = N[N <= 1], 0
    c2_pairs = c2_fail = 0
    for b0 in range(0, N.size, BLOCK):
        b1 = min(N.size, b0 + BLOCK)
        n0, n1 = int(N[b0]), int(N[b1 - 1])
        Sb, Ab = S[b0:b1], A[b0:b1]
        for a in range(1, int(np.sqrt(n1)) + 2):
            w0, w1 = _a_window(kind, a)
            s0, s1 = max(w0, n0), min(w1, n1)
            if s0 > s1:
                continue
            sl = slice(s0 - n0, s1 - n0 + 1)
            Nv = N[b0:b1][sl]
            q = Nv // a
            Sa = Nv - (a - 1) * q + a
            better = Sa < Sb[sl]
            np.putmask(Sb[sl], better, Sa)
            np.putmask(Ab[sl], better, a)
            if check_c2:
                r = Nv % a
                c2_pairs += Nv.size
                c2_fail += int(np.count_nonzero(a * Sa != (a - 1) * r + a * a + Nv))
    S[S == _BIG] = -1
    B = np.where(A > 0, N // np.maximum(A, 1), 0)
    out = {"S": S, "a": A, "b": np.where(A >= 0, B, -1)}
    r, h = isqrt_vec(N), isqrt_vec(N // 2)
    out["cand"] = {"brute": r + 1, "A": r - h, "A_closed": r - h + 1}[kind]
    if check_c2:
        out["c2_pairs"], out["c2_fail"] = c2_pairs, c2_fail
    return out


def guess_range(lo: int, hi: int) -> dict:
    N = _check_range(lo, hi)
    r = isqrt_vec(N)
    return {"S": N - r * r + 2 * r, "a": r, "b": r, "cand": np.ones_like(N)}


# --------------------------------------------------------------------------------------------
# B and C: exact interval ends and the per-N loop over the k-th candidate.

def _ceil_sqrt_vec(k: np.ndarray) -> np.ndarray:
    """ceil(sqrt k), 0 for k <= 0."""
    return np.where(k > 0, isqrt_vec(np.maximum(k - 1, 0)) + 1, 0)


def _b_upper_ok(N, m):
    t2 = 2 * m - 3
    return (t2 <= 0) | (t2 * t2 <= 4 * N) | ((t2 * t2 + 4 * N - 4) ** 2 <= 16 * N * (2 * m - 1) ** 2)


def _c_upper_ok(N, p):
    t = p - 2
    return (t <= 0) | (t * t <= 4 * N) | ((t * t + 4 * N - 1) ** 2 <= 16 * N * (t + 1) ** 2)


def _floor_where_vec(ok, N, guess):
    m = np.floor(guess).astype(np.int64)
    while True:
        up = ok(N, m + 1)
        if not up.any():
            break
        m += up
    while True:
        down = ~ok(N, m)
        if not down.any():
            break
        m -= down
    return m


def b_interval_vec(N):
    s = np.sqrt(N.astype(np.float64))
    return (isqrt_vec(4 * N) + 1) // 2, _floor_where_vec(_b_upper_ok, N, s + 1.5 + np.sqrt(1 + 2 * s))


def c_interval_vec(N):
    s = np.sqrt(N.astype(np.float64))
    return isqrt_vec(4 * N) + 1, _floor_where_vec(_c_upper_ok, N, 2 * s + 2 + np.sqrt(1 + 4 * s))


class _Best:
    """Running best (S, a, b) per N; strict improvement only, so ties keep the earlier candidate."""

    def __init__(self, N, a, b):
        self.N = N
        self.a, self.b = a.copy(), b.copy()
        self.S = a + b + N - a * b

    def offer(self, valid, a, b):
        S = a + b + self.N - a * b
        better = valid & (S < self.S)
        np.putmask(self.S, better, S)
        np.putmask(self.a, better, a)
        np.putmask(self.b, better, b)


def _b_block(N):
    r = isqrt_vec(N)
    k = (isqrt_vec(4 * N) - 1) // 2  # x = floor(sqrt N - 1/2) + 1/2, y = 1/2
    best = _Best(N, r, r)  # (2) x = floor(sqrt N), y = 0
    best.offer(np.ones(N.size, bool), k, k + 1)
    lo, hi = b_interval_vec(N)
    for step in range(int((hi - lo).max()) + 1):
        m = lo + step
        valid = m <= hi
        y = _ceil_sqrt_vec(m * m - N)  # y = 0 where m < sqrt N
        best.offer(valid, m - y, m + y)
        K = (2 * m + 1) ** 2 - 4 * N
        j = np.where(K <= 1, 0, _ceil_sqrt_vec(K) // 2)  # x = m + 1/2, y = j + 1/2
        best.offer(valid, m - j, m + j + 1)
    return best, np.maximum(hi - lo + 1, 0), r


def _c_block(N):
    r = isqrt_vec(N)
    p0 = isqrt_vec(4 * N)
    q0 = p0 % 2
    best = _Best(N, (p0 - q0) // 2, (p0 + q0) // 2)
    lo, hi = c_interval_vec(N)
    for step in range(int((hi - lo).max()) + 1):
        p = lo + step
        valid = p <= hi
        q = _ceil_sqrt_vec(p * p - 4 * N)
        q += (p - q) % 2  # same parity as p
        best.offer(valid, (p - q) // 2, (p + q) // 2)
    return best, np.maximum(hi - lo + 1, 0), r


def bc_range(lo: int, hi: int, which: str) -> dict:
    """Algorithm B or C for every N in [lo, hi]; step (1): perfect squares return a = b = sqrt N."""
    N = _check_range(lo, hi)
    out = {k: np.empty(N.size, np.int64) for k in ("S", "a", "b", "cand")}
    fn = {"B": _b_block, "C": _c_block}[which]
    for b0 in range(0, N.size, BLOCK):
        Nb = N[b0:b0 + BLOCK]
        best, cand, r = fn(Nb)
        sq = r * r == Nb
        sl = slice(b0, b0 + Nb.size)
        out["a"][sl] = np.where(sq, r, best.a)
        out["b"][sl] = np.where(sq, r, best.b)
        out["S"][sl] = np.where(sq, 2 * r, best.S)
        out["cand"][sl] = np.where(sq, 0, cand)
    assert (out["a"] >= 0).all() and (out["a"] * out["b"] <= N).all(), f"{which}: inadmissible (a, b)"
    return out


def solve_range(lo: int, hi: int, kind: str, **kw) -> dict:
    """One entry point: kind in brute, guess, A, A_closed, B, C."""
    if kind in ("brute", "A", "A_closed"):
        return scan_a_range(lo, hi, kind, **kw)
    if kind == "guess":
        return guess_range(lo, hi)
    return bc_range(lo, hi, kind)


# --------------------------------------------------------------------------------------------
# Evaluation (the evaluate stage): mismatches, bounds, identities, scaling, from the stored results.

KINDS = ("brute", "guess", "A", "A_closed", "B", "C")
ALGS = ("A", "A_closed", "B", "C", "guess")
REFERENCE = {130: 23, 101: 21, 1000: 65, 1000001: 2001, 2000003: 2834, 123456789: 22230,
             1000000007: 63257, 10000000001: 200001}  # the card's S* (its exhaustive search)


def _mismatch(N, S, S_star, cap=200):
    bad = S != S_star
    out = {"n_tested": int(N.size)}
    for tag, sel in (("all", bad), ("gt100", bad & (N > 100)), ("ge4", bad & (N >= 4))):
        lst = N[sel]
        out[f"count_{tag}"], out[f"list_{tag}"] = int(lst.size), [int(v) for v in lst[:cap]]
        out[f"list_{tag}_truncated"] = bool(lst.size > cap)
    return out


def _slope(N, y):
    from kexue.fits import power_law_fit

    return power_law_fit(N.astype(float), y.astype(float))["exponent"]


def evaluate_results(ns, r, seed: int, c3_samples: int, c3_log10_hi: float) -> dict:
    """All metrics of the evaluate stage from the prepare (`ns`) and run (`r`) npz files."""
    lo, hi = (int(v) for v in ns["exhaustive"])
    N = np.concatenate([np.arange(lo, hi + 1, dtype=np.int64), ns["random"]])

    def get(name, kind):  # exhaustive range then random N, as int64
        return np.concatenate([r[f"ex_{name}_{kind}"].astype(np.int64), r[f"rnd_{name}_{kind}"]])
    S_star, a_star, b_star = get("S", "brute"), get("a", "brute"), get("b", "brute")
    m: dict[str, Any] = {"tested": {"exhaustive": [lo, hi], "n_random": int(ns["random"].size),
                                    "random_range": [int(ns["random"].min()), int(ns["random"].max())]}}
    # mismatches; every returned (a, b) must also be admissible with S = a + b + N - ab
    m["mismatch"] = {k: _mismatch(N, get("S", k), S_star) for k in ALGS}
    bad_adm = {}
    for k in ("brute", "A", "A_closed", "B", "C"):
        a, b, S = get("a", k), get("b", k), get("S", k)
        ok = (S < 0) | ((a >= 0) & (b >= 0) & (a * b <= N) & (S == a + b + N - a * b))
        bad_adm[k] = int((~ok).sum())
    m["mismatch"]["inadmissible_returns"] = bad_adm
    m["exceptions"] = {str(n): {k: int(get("S", k)[n - lo]) for k in KINDS} for n in (1, 2, 3) if lo <= n <= hi}
    m["exceptions_note"] = "S per method for N = 1, 2, 3 (brute = S*)"
    # C1 and the reference table (figure 5), recomputed
    opt = all_optima(130)
    m["c1"] = {"S_star": SOLVERS["brute"](130)[0], "optima": [list(t) for t in opt],
               "guess": list(SOLVERS["guess"](130)[:4])}
    m["reference_table"] = [{"N": n, "card_S": s, **{k: list(SOLVERS[k](n)[:4]) for k in KINDS}}
                            for n, s in REFERENCE.items()]
    # C2: exact over the whole range (integer form in the run), plus exact fractions on random (N, a)
    rng = np.random.default_rng(seed + 1)
    samp = [(int(n), int(rng.integers(1, math.isqrt(int(n)) + 1))) for n in rng.choice(N, 2000)]
    m["c2"] = {"pairs": int(r["c2_pairs"]), "fail": int(r["c2_fail"]), "fraction_samples": len(samp),
               "fraction_fail": sum(not c2_holds(n, a) for n, a in samp)}
    # C3: random (N, a, b) with ab <= N, residuals at 60 digits
    res_p, res_c = [], []
    for _ in range(c3_samples):
        n = int(10 ** rng.uniform(1, c3_log10_hi))
        a = int(rng.integers(1, math.isqrt(n) + 1))
        b = int(rng.integers(1, n // a + 1))
        rp, rc = c3_residuals(n, a, b)
        res_p.append(rp)
        res_c.append(rc)
    res_p, res_c = np.array(res_p), np.array(res_c)
    m["c3"] = {"samples": int(res_p.size), "printed_min": float(res_p.min()), "printed_max": float(res_p.max()),
               "printed_max_abs_minus_1": float(np.abs(res_p - 1).max()), "printed_max_abs": float(np.abs(res_p).max()),
               "corrected_max_abs": float(np.abs(res_c).max())}
    # C5: identities on every optimum found (brute, B, C), N >= 1
    m["c5"] = {k: parity_identities(N, get("a", k), get("b", k)) for k in ("brute", "B", "C")}
    # C6: bounds over every tested N
    sl, st = S_star - bound_loose(N), S_star - bound_tight(N)
    pt = (a_star + b_star) - bound_tight(N)
    m["bounds"] = {"max_S_minus_loose": float(sl.max()), "argmax_loose": int(N[sl.argmax()]),
                   "max_S_minus_tight": float(st.max()), "argmax_tight": int(N[st.argmax()]),
                   "max_p_minus_tight": float(pt.max()), "argmax_p": int(N[pt.argmax()])}
    # C10: perfect squares k^2 >= 4 in the exhaustive range
    k = np.arange(2, math.isqrt(hi) + 1)
    fails = k[r["ex_S_brute"][k * k - lo] != 2 * k]
    m["c10"] = {"count": int(k.size), "fail": int(fails.size), "fail_k": [int(v) for v in fails[:50]]}
    # C9: candidate counts on the timing grid, slopes over [10^4, 10^15]
    tN = ns["timing"]
    sel = (tN >= 10**4) & (tN <= 10**15 + 10)
    i12 = int(np.argmin(np.abs(np.log10(tN.astype(float)) - 12)))
    m["scaling"] = {"N": [int(v) for v in tN], "fit_range": [int(tN[sel].min()), int(tN[sel].max())],
                    "n_fit": int(sel.sum()), "N_at_1e12": int(tN[i12]),
                    "C_over_A_at_1e12": float(r["tim_cand_C"][i12] / r["tim_cand_A"][i12]),
                    "A_over_sqrtN_at_max": float(r["tim_cand_A"][-1] / math.sqrt(tN[-1]))}
    for k in ("A", "B", "C"):
        m["scaling"][f"cand_{k}"] = [int(v) for v in r[f"tim_cand_{k}"]]
        m["scaling"][f"time_s_{k}"] = [float(v) for v in r[f"tim_t_{k}"]]
        m["scaling"][f"slope_{k}"] = _slope(tN[sel], r[f"tim_cand_{k}"][sel])
    # the naive guess and S* - 2 sqrt N
    big = N > 100
    g = get("S", "guess") == S_star
    gap = S_star - 2 * np.sqrt(N.astype(float))
    m["guess"] = {"fraction_optimal_all": float(g.mean()), "fraction_optimal_gt100": float(g[big].mean()),
                  "fraction_optimal_random": float(g[hi - lo + 1:].mean())}
    m["gap"] = {"min": float(gap.min()), "max": float(gap.max()), "mean": float(gap.mean()),
                "max_over_N14": float((gap / N.astype(float) ** 0.25)[N >= 4].max())}
    return m
