"""The computations of article 9595 (how to measure sparsity): the measure catalogue and the
expected property table (C2-C4), the identities (C1, C5, C6) and the attention-row sweep.

Measures live in kexue.sparsity_measures, the randomised property runner in kexue.property_tests.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import mpmath
import numpy as np

from kexue import sparsity_measures as sm
from kexue.montecarlo import mean_ci
from kexue.property_tests import PROPERTIES, Measure


def _fmt(v: float) -> str:
    return f"{v:g}"


def catalogue(p_values: Sequence[float], qp_pairs: Sequence[Sequence[float]]) -> list[Measure]:
    """S0, S_(1,p), S*_(1,p) for each p; S*_(q,p) for each pair; l1/l2, 1 - Hoyer, 1 - Gini."""
    ms = [Measure("S0", "$S_0$", sm.s0, sm.s0_exact)]
    for p in p_values:
        ms.append(Measure(f"S_1,{_fmt(p)}", f"$S_{{1,{_fmt(p)}}}$", lambda x, p=p: sm.s_1p(x, p),
                          lambda xs, p=p: sm.s_1p_exact(xs, p), exponent=p))
    for p in p_values:
        ms.append(Measure(f"S*_1,{_fmt(p)}", f"$S^*_{{1,{_fmt(p)}}}$", lambda x, p=p: sm.s_star_1p(x, p),
                          lambda xs, p=p: sm.s_star_qp_exact(xs, 1.0, p), exponent=p))
    for q, p in qp_pairs:
        name = f"S*_{_fmt(q)},{_fmt(p)}"
        if any(m.name == name for m in ms):
            continue
        ms.append(Measure(name, f"$S^*_{{{_fmt(q)},{_fmt(p)}}}$", lambda x, q=q, p=p: sm.s_star_qp(x, q, p),
                          lambda xs, q=q, p=p: sm.s_star_qp_exact(xs, q, p), exponent=p))
    ms += [Measure("l1/l2", "$l_1/l_2$", sm.l1_l2, sm.l1_l2_exact),
           Measure("1-Hoyer", "1 - Hoyer", sm.one_minus_hoyer, sm.one_minus_hoyer_exact),
           Measure("1-Gini", "1 - Gini", sm.one_minus_gini, sm.one_minus_gini_exact)]
    return ms


def expected_table(p_values, qp_good) -> dict:
    """The article's table (C2), as (property, strict?) -> holds: {measure: {prop: bool}} for the
    strict versions, plus S0's non-strict D1 (key 'D1_nonstrict')."""
    t = {"S0": {**{p: p != "D1" for p in PROPERTIES}, "D1_nonstrict": True}}
    for p in p_values:
        t[f"S_1,{_fmt(p)}"] = {k: k != "D4" for k in PROPERTIES}
        t[f"S*_1,{_fmt(p)}"] = {k: True for k in PROPERTIES}
    for q, p in qp_good:
        t[f"S*_{_fmt(q)},{_fmt(p)}"] = {k: True for k in PROPERTIES}
    return t


def compare_table(observed: dict, expected: dict) -> list[dict]:
    """Cells where the observed table differs from the expected one (0 violations = 'yes')."""
    bad = []
    for m, row in expected.items():
        for k, holds in row.items():
            prop, field = (k[:2], "nonstrict_violations") if k.endswith("_nonstrict") else (k, "strict_violations")
            v = observed[m][prop][field]
            if (v == 0) != holds:
                bad.append({"measure": m, "property": k, "expected": "yes" if holds else "no", "violations": v,
                            "n": observed[m][prop]["n"]})
    return bad


C2B_BEFORE = (1.3, 0.1, 3.3, 0.2)
C2B_AFTER = (0.87, 0.1, 3.3, 0.63)


def c2b_reference() -> dict:
    """The card's D1 counterexample for S*_(2,3), in float64 and at 50 digits (0.43 moved from
    1.3 to 0.2; the move is a valid Robin Hood move: 0.43 < (1.3 - 0.2)/2)."""
    with mpmath.workdps(50):
        ex = [sm.s_star_qp_exact([Fraction(v).limit_denominator(1000) for v in vec], 2, 3)
              for vec in (C2B_BEFORE, C2B_AFTER)]
        exact = [float(v) for v in ex]
    return {"before": list(C2B_BEFORE), "after": list(C2B_AFTER),
            "S_before": float(sm.s_star_qp(C2B_BEFORE, 2, 3)), "S_after": float(sm.s_star_qp(C2B_AFTER, 2, 3)),
            "S_before_exact": exact[0], "S_after_exact": exact[1], "alpha": 0.43, "valid_move": 0.43 < (1.3 - 0.2) / 2}


# ------------------------------------------------------------------------ identities (C1, C5, C6)

def _signed_vectors(rng, t, n, zeros: bool):
    """Signed test vectors: Gaussian, uniform[-1, 1], Cauchy, Laplace; with zeros: Bernoulli-Gaussian."""
    kinds = (lambda s: rng.standard_normal(s), lambda s: rng.uniform(-1, 1, s),
             lambda s: rng.standard_cauchy(s), lambda s: rng.laplace(0, 1, s))
    x = np.concatenate([k((t // 4 + 1, n)) for k in kinds])[:t]
    if zeros:
        x = x * (rng.uniform(size=x.shape) >= rng.uniform(0.05, 0.95, (t, 1)))
        x[:, 0] = np.where(np.all(x == 0, axis=1), 1.0, x[:, 0])
    return x


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def identities(seed: int, n_values: Sequence[int], vectors: int, p_values, qp_pairs,
               log_identity_p: Sequence[float], renyi_orders: Sequence[float]) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    # C1: p -> infinity limit on 100 random vectors with n <= 64
    from kexue.property_tests import random_vectors
    xs = [random_vectors(rng, 1, int(n))[0][0] for n in rng.integers(2, 65, 100)]
    d = [abs(float(sm.s_1p(x, 512.0)) - float(sm.s0(x))) for x in xs]
    out["c1_limit"] = {"max_abs_diff_p512": max(d), "vectors": len(xs), "n_max": 64}
    # C1: ranges, lower end at one-hot, 1 at constants
    rng_rows = []
    for n in n_values:
        x, _ = random_vectors(rng, vectors, int(n))
        x = np.concatenate([x, -x[: vectors // 2]])  # signs must not matter (|x| first)
        one_hot = np.zeros((1, n))
        one_hot[0, int(rng.integers(n))] = -2.5
        const = np.full((1, n), 0.7)
        for q, p in [(1.0, p) for p in p_values] + [tuple(v) for v in qp_pairs]:
            lo = n ** (1 / p - 1 / q)
            s = sm.s_star_qp(x, q, p)
            rng_rows.append({"n": int(n), "q": q, "p": p, "lo": lo, "min": float(s.min()), "max": float(s.max()),
                             "below_lo": float(lo - s.min()), "above_1": float(s.max() - 1),
                             "one_hot_err": float(abs(sm.s_star_qp(one_hot, q, p)[0] - lo)),
                             "const_err": float(abs(sm.s_star_qp(const, q, p)[0] - 1))})
    out["c1_ranges"] = {"rows": len(rng_rows), "vectors_per_n": len(x) + 2,
                        "max_below_lo": max(r["below_lo"] for r in rng_rows),
                        "max_above_1": max(r["above_1"] for r in rng_rows),
                        "max_one_hot_err": max(r["one_hot_err"] for r in rng_rows),
                        "max_const_err": max(r["const_err"] for r in rng_rows),
                        "n_values": [int(n) for n in n_values]}
    # C5: cosine and SNR forms of S*_(1,2)
    c5 = {"no_zeros": {"cos": 0.0, "snr": 0.0, "snr_var": 0.0, "no_sqrt": 0.0, "vectors": 0},
          "with_zeros": {"cos": 0.0, "snr": 0.0, "snr_var": 0.0, "vectors": 0}}
    for n in n_values:
        for key, zeros in (("no_zeros", False), ("with_zeros", True)):
            x = _signed_vectors(rng, vectors, int(n), zeros)
            s = sm.s_star_1p(x, 2.0)
            cos = sm.cosine_sign_form(x)
            r1, r2 = sm.snr_forms(x)
            c = c5[key]
            c["vectors"] += len(x)
            c["cos"] = max(c["cos"], float(np.max(np.abs(cos - s))))
            c["snr"] = max(c["snr"], float(np.max(np.abs(r1 - s))))
            c["snr_var"] = max(c["snr_var"], float(np.max(np.abs(r2 - s))))
            if not zeros:
                a = np.abs(x)  # the Chinese original's form without the square root
                no_sqrt = 1 / (1 + a.var(axis=-1) / a.mean(axis=-1) ** 2)
                c["no_sqrt"] = max(c["no_sqrt"], float(np.max(np.abs(no_sqrt - s))))
    ce = np.array([3.0, 0.0, -1.0, 0.0])
    c5["counterexample"] = {"x": ce.tolist(), "S*_1,2": float(sm.s_star_1p(ce, 2.0)),
                            "cos_sign": float(sm.cosine_sign_form(ce))}
    out["c5"] = c5
    # C6: Renyi entropy on probability vectors
    probs = []
    for n in n_values:
        c = np.exp(rng.uniform(np.log(0.1), np.log(30), (vectors, 1)))
        probs.append(_softmax(c * rng.standard_normal((vectors, int(n)))))
        probs.append(rng.dirichlet(np.full(int(n), 0.3), size=vectors))
        oh = np.zeros((2, int(n)))
        oh[0, 0] = 1
        oh[1] = 1 / n
        probs.append(oh)
    lim, ident, bounds = 0.0, {}, {"min_H": np.inf, "max_H_minus_logn": -np.inf}
    for x in probs:
        n = x.shape[-1]
        h = sm.shannon(x)
        for eps in (1e-6, -1e-6):
            lim = max(lim, float(np.max(np.abs(sm.renyi(x, 1 + eps) - h))))
        for p in log_identity_p:
            e = np.abs(np.log(sm.s_star_prob(x, p)) + (p - 1) / p * (np.log(n) - sm.renyi(x, p)))
            ident[_fmt(p)] = max(ident.get(_fmt(p), 0.0), float(e.max()))
        for p in renyi_orders:
            hp = sm.renyi(x, p)
            bounds["min_H"] = min(bounds["min_H"], float(hp.min()))
            bounds["max_H_minus_logn"] = max(bounds["max_H_minus_logn"], float((hp - np.log(n)).max()))
    out["c6"] = {"renyi_limit_max_err": lim, "log_identity_max_err": ident, **bounds,
                 "renyi_orders": list(renyi_orders), "vectors": int(sum(len(x) for x in probs))}
    return out


# ------------------------------------------------------------------------ attention rows

def attention_sweep(seed: int, c_values: Sequence[float], n_values: Sequence[int], rows: int) -> dict:
    """Softmax rows of Gaussian logits with scale c: per-row S*_(1,2), H/log n, H_2/log n, and
    per-(n, c) means with t-intervals (for the figure's bands)."""
    rng = np.random.default_rng(seed)
    per_row = {"n": [], "c": [], "S": [], "H": [], "H2": []}
    curves = {}
    for n in n_values:
        cur = {k: [] for k in ("S", "H", "H2")}
        for c in c_values:
            x = _softmax(c * rng.standard_normal((rows, int(n))))
            vals = {"S": sm.s_star_prob(x, 2.0), "H": sm.shannon(x) / np.log(n), "H2": sm.renyi(x, 2.0) / np.log(n)}
            for k, v in vals.items():
                cur[k].append(mean_ci(v))
                per_row[k].append(v)
            per_row["n"].append(np.full(rows, n))
            per_row["c"].append(np.full(rows, c))
        curves[str(n)] = {k: {f: [e[f] for e in v] for f in ("mean", "lo", "hi")} for k, v in cur.items()}
    arrays = {k: np.concatenate(v) for k, v in per_row.items()}
    # C6 on the attention rows themselves: S* from H_2 through the identity
    pred = sm.s_star_from_renyi(arrays["H2"] * np.log(arrays["n"]), arrays["n"], 2.0)
    mono = {str(n): bool(np.all(np.diff(curves[str(n)]["S"]["mean"]) < 0)) for n in n_values}
    return {"arrays": arrays, "curves": curves, "c_values": list(map(float, c_values)),
            "metrics": {"rows": int(arrays["S"].size), "c6_curve_max_err": float(np.max(np.abs(pred - arrays["S"]))),
                        "S_mean_decreasing_in_c": mono,
                        "S_range": [float(arrays["S"].min()), float(arrays["S"].max())]}}
