"""Randomised property tests of scalar functions of a vector, with every violation confirmed exactly.

Built for the sparsity desiderata of Hurley & Rickard (kexue.fm/archives/9595) but general: a
`Measure` is any vectorised f: (..., n) -> (...) with an exact twin on lists of Fractions, and a
property is a random perturbation plus the relation f(after) must keep to f(before).

Why the exact confirmation: in float64 a Robin Hood move between two entries far below the
maximum changes l_4 by less than 1e-12 relative, S0 is often exactly unchanged, and rounding
then decides the sign of f(after) - f(before). So float64 only nominates *candidates* (margin
not clearly of the right sign); each candidate is rebuilt from the same float inputs as
`fractions.Fraction` vectors (exact), and evaluated exactly (rational measures) or in mpmath at
50, then 120 digits. Only a confirmed wrong sign counts as a violation:
  - strict violation: exact margin <= 0 (an exact tie breaks a strict inequality),
  - non-strict violation: exact margin < 0,
  - undecided: |margin| below the tolerance but not exactly 0 (reported, not counted),
  - for equalities (scale, cloning): a violation is |difference| above the tolerance.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

import mpmath
import numpy as np

from kexue.errors import KexueError
from kexue.montecarlo import proportion_ci

# smaller = sparser: relation of S(after) to S(before) each property demands
RELATION = {"D1": "increase", "D2": "equal", "D3": "increase", "D4": "equal", "P1": "decrease", "P2": "decrease"}
PROPERTIES = tuple(RELATION)
FAMILIES = ("uniform", "exponential", "half_cauchy", "bernoulli_gauss", "softmax")
FLOAT_TOL = 1e-9     # relative margin below which a float inequality is a candidate
FLOAT_EQ_TOL = 1e-12  # relative difference above which a float equality is a candidate
P1_ALPHAS = np.geomspace(1e-3, 1e2, 20)  # alpha / (10 max + 1): the 20 Bill Gates increments
D4_CLONES = (2, 3, 4, 5)                 # x concatenated with itself 1-4 times


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    fn: Callable[[np.ndarray], np.ndarray]
    exact: Callable[[Sequence[Fraction]], object]  # Fraction (rational measure) or mpmath mpf
    exponent: float = 2.0  # largest power of an entry in the formula (sets the digits of the exact check)


def random_vectors(rng, t: int, n: int) -> tuple[np.ndarray, list[str]]:
    """t non-negative vectors of length n, cycling through the card's families; every row has at
    least two non-zero entries (P1 needs another non-zero entry, D3 a non-constant x)."""
    fam = [FAMILIES[k % len(FAMILIES)] for k in range(t)]
    x = np.empty((t, n))
    for f in FAMILIES:
        rows = np.array([k for k in range(t) if fam[k] == f], dtype=int)
        if rows.size == 0:
            continue
        shape = (rows.size, n)
        if f == "uniform":
            v = rng.uniform(0, 1, shape)
        elif f == "exponential":
            v = rng.exponential(1.0, shape)
        elif f == "half_cauchy":
            v = np.abs(rng.standard_cauchy(shape))
        elif f == "bernoulli_gauss":
            frac0 = rng.uniform(0, 0.95, (rows.size, 1))
            v = np.abs(rng.standard_normal(shape)) * (rng.uniform(size=shape) >= frac0)
            for r in np.flatnonzero((v > 0).sum(axis=1) < 2):  # revive two random entries
                idx = rng.choice(n, 2, replace=False)
                v[r, idx] = np.abs(rng.standard_normal(2)) + 1e-3
        else:  # softmax rows of Gaussian logits, scale c log-uniform in [0.1, 30]
            c = np.exp(rng.uniform(np.log(0.1), np.log(30), (rows.size, 1)))
            z = c * rng.standard_normal(shape)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            v = e / e.sum(axis=1, keepdims=True)
        x[rows] = v
    return x, fam


# ------------------------------------------------------------------------ perturbations

def perturb(prop: str, x: np.ndarray, rng) -> tuple[np.ndarray, list[np.ndarray], dict]:
    """(before (t, n), list of K after arrays (t, n_k), per-trial parameters) for one property."""
    t, n = x.shape
    rows = np.arange(t)
    if prop == "D1":  # Robin Hood: x_i > x_j, 0 < alpha < (x_i - x_j)/2, alpha in [0.01, 0.99] of that
        i = rng.integers(0, n, t)
        j = (i + rng.integers(1, n, t)) % n  # j != i
        swap = x[rows, i] < x[rows, j]
        i, j = np.where(swap, j, i), np.where(swap, i, j)
        tie = x[rows, i] == x[rows, j]
        i, j = np.where(tie, x.argmax(1), i), np.where(tie, x.argmin(1), j)
        alpha = rng.uniform(0.01, 0.99, t) * (x[rows, i] - x[rows, j]) / 2
        y = x.copy()
        y[rows, i] -= alpha
        y[rows, j] += alpha
        return x, [y], {"i": i, "j": j, "alpha": alpha}
    if prop == "D2":
        alpha = 10.0 ** rng.uniform(-3, 3, t)
        return x, [alpha[:, None] * x], {"alpha": alpha}
    if prop == "D3":
        alpha = x.mean(1) * 10.0 ** rng.uniform(-3, 2, t)
        return x, [x + alpha[:, None]], {"alpha": alpha}
    if prop == "D4":
        return x, [np.tile(x, k) for k in D4_CLONES], {}
    if prop == "P1":  # Bill Gates: x_i = beta = 10 max + 1, then x_i = beta + alpha must be sparser
        i = rng.integers(0, n, t)
        beta = 10 * x.max(1) + 1
        base = x.copy()
        base[rows, i] = beta
        after = []
        for a in P1_ALPHAS:
            y = base.copy()
            y[rows, i] = beta + a * beta
            after.append(y)
        return base, after, {"i": i, "beta": beta}
    if prop == "P2":
        return x, [np.concatenate([x, np.zeros((t, 1))], axis=1)], {}
    raise KexueError(f"property {prop!r} unknown: choose from {PROPERTIES}")


def exact_pair(prop: str, x: np.ndarray, par: dict, k: int) -> tuple[list[Fraction], list[Fraction]]:
    """The same move as `perturb` for one trial and comparison k, in exact rational arithmetic
    from the float inputs (so float rounding of the perturbed vector plays no part)."""
    xs = [Fraction(float(v)) for v in x]
    if prop == "D1":
        a = Fraction(float(par["alpha"]))
        y = list(xs)
        y[int(par["i"])] -= a
        y[int(par["j"])] += a
        return xs, y
    if prop == "D2":
        a = Fraction(float(par["alpha"]))
        return xs, [a * v for v in xs]
    if prop == "D3":
        a = Fraction(float(par["alpha"]))
        return xs, [a + v for v in xs]
    if prop == "D4":
        return xs, xs * D4_CLONES[k]
    if prop == "P1":
        beta = Fraction(float(par["beta"]))
        base = list(xs)
        base[int(par["i"])] = beta
        y = list(base)
        # the float trial used beta + fl(a * beta); rebuild that increment exactly
        y[int(par["i"])] = beta + Fraction(float(P1_ALPHAS[k] * float(par["beta"])))
        return base, y
    if prop == "P2":
        return xs, xs + [Fraction(0)]
    raise KexueError(f"property {prop!r} unknown")


# ------------------------------------------------------------------------ exact classification

def _to_mp(v):
    return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else mpmath.mpf(v)


def _exact_margin(measure: Measure, before, after, sign: int, dps: int):
    with mpmath.workdps(dps):
        b, a = measure.exact(before), measure.exact(after)
        if isinstance(a, Fraction) and isinstance(b, Fraction):
            return sign * (a - b), Fraction(0), 1
        a, b = _to_mp(a), _to_mp(b)
        # absolute tolerance: intermediates (l1/l2 and the like) are O(1) or larger, so a result
        # near 0 (1 - Hoyer at a near one-hot x) carries an absolute, not relative, rounding error
        return sign * (a - b), mpmath.mpf(10) ** (10 - dps) * max(abs(a), abs(b), 1), min(abs(a), abs(b))


def needed_digits(measure: Measure, before, after) -> int:
    """Digits that resolve any real change of the measure: a move that touches entries of relative
    size r = min non-zero / max shifts sum x^p by about r^p relative, so p log10(1/r) digits (doubled,
    plus 40 guard digits) separate a real change from an exact tie."""
    nz = [abs(v) for v in list(before) + list(after) if v]
    if not nz:
        return 50
    span = max(0.0, float(mpmath.log10(_to_mp(max(nz)) / _to_mp(min(nz)))))
    return int(40 + 2 * max(measure.exponent, 1.0) * span)


def classify(measure: Measure, prop: str, before, after) -> str:
    """'ok', 'strict' (exact tie: breaks only a strict inequality), 'violation' (wrong sign) or
    'undecided'. Rational measures are compared exactly. The others are computed at 50 digits,
    where a clearly right margin settles the candidate as 'ok' (a float64 false alarm); anything
    clearly wrong (by 1e20 x the tolerance) is a violation, anything
    else is decided at `needed_digits` (plus the leading zeros of a tiny S), where a difference
    that is still exactly 0 is a tie and a wrong sign beyond the tolerance a violation."""
    rel = RELATION[prop]
    sign = {"increase": 1, "decrease": -1, "equal": 1}[rel]
    g, tol, small = _exact_margin(measure, before, after, sign, 50)
    if not isinstance(g, Fraction):
        if (abs(g) <= tol) if rel == "equal" else (g > tol):
            return "ok"
        if (abs(g) if rel == "equal" else -g) > tol * mpmath.mpf(10) ** 20:
            return "violation"  # wrong by 20 orders of magnitude more than the 50-digit rounding
        extra = int(max(0.0, -float(mpmath.log10(small)))) if small else 0
        g, tol, _ = _exact_margin(measure, before, after, sign, max(60, needed_digits(measure, before, after) + extra))
    if rel == "equal":
        return "violation" if abs(g) > tol else "ok"
    if g > tol:
        return "ok"
    if g < -tol:
        return "violation"
    return "strict" if g == 0 else "undecided"


# ------------------------------------------------------------------------ the runner

def _cell(n: int, strict: int, nonstrict: int, undecided: int, candidates: int, first: dict) -> dict:
    return {"n": n, "strict_violations": strict, "nonstrict_violations": nonstrict, "undecided": undecided,
            "float_candidates": candidates, "strict_rate": proportion_ci(strict, n),
            "nonstrict_rate": proportion_ci(nonstrict, n), "first_counterexample": first}


def run_property_tests(measures: Sequence[Measure], properties: Sequence[str], trials: int,
                       n_values: Sequence[int], seed: int, log=None) -> dict:
    """For every (measure, property): `trials` random trials (split over n_values, families
    cycling), the same vectors and moves for every measure. Returns {measure: {property: cell}}."""
    if trials < len(n_values):
        raise KexueError(f"trials = {trials} < {len(n_values)} vector lengths: give at least one trial per length")
    if min(n_values) < 2:
        raise KexueError(f"vector lengths {list(n_values)}: every n must be >= 2 (D1 needs two entries)")
    out = {m.name: {} for m in measures}
    for pk, prop in enumerate(properties):
        if prop not in RELATION:
            raise KexueError(f"property {prop!r} unknown: choose from {PROPERTIES}")
        rel = RELATION[prop]
        acc = {m.name: [0, 0, 0, 0, None] for m in measures}  # strict, nonstrict, undecided, candidates, first
        total = 0
        for nk, n in enumerate(n_values):
            t = trials // len(n_values) + (1 if nk < trials % len(n_values) else 0)
            rng = np.random.default_rng([seed, pk, nk])
            x, fam = random_vectors(rng, t, n)
            before, after, par = perturb(prop, x, rng)
            total += t
            for m in measures:
                sb = m.fn(before)
                sa = np.stack([m.fn(a) for a in after], axis=1)  # (t, K)
                scale = np.maximum(np.abs(sb)[:, None], np.abs(sa))
                if rel == "equal":
                    cand = np.abs(sa - sb[:, None]) > FLOAT_EQ_TOL * scale
                else:
                    g = (sa - sb[:, None]) * (1 if rel == "increase" else -1)
                    cand = g <= FLOAT_TOL * scale
                a = acc[m.name]
                for r in np.flatnonzero(cand.any(axis=1)):
                    a[3] += 1
                    prow = {k: v[r] for k, v in par.items()}
                    res = set()
                    for k in np.flatnonzero(cand[r]):
                        res.add(classify(m, prop, *exact_pair(prop, x[r], prow, int(k))))
                        if "violation" in res:
                            break
                    strict = bool(res & {"violation", "strict"})
                    a[0] += strict
                    a[1] += "violation" in res
                    a[2] += (not strict) and "undecided" in res
                    if strict and a[4] is None:
                        a[4] = {"x": [float(v) for v in x[r]], "family": fam[r], "n": int(n),
                                "move": {k: (v.item() if hasattr(v, "item") else v) for k, v in prow.items()},
                                "S_before": float(sb[r]), "S_after": [float(v) for v in sa[r]],
                                "kind": "tie" if "violation" not in res else "wrong sign"}
        for m in measures:
            s, ns, u, c, first = acc[m.name]
            out[m.name][prop] = _cell(total, s, ns, u, c, first)
        if log:
            log(f"{prop}: " + ", ".join(f"{m.name} {acc[m.name][0]}/{total}" for m in measures if acc[m.name][0]))
    return out
