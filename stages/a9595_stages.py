"""Stage functions of article 9595 (declared in stages/a9595_sparsity_measures.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/9595"


def properties(ctx):
    """C2, C2b, C3, C4: randomised property tests of every measure, violations confirmed exactly."""
    from kexue.io import atomic_write_json
    from kexue.property_tests import PROPERTIES, run_property_tests
    from kexue.sparsity_study import c2b_reference, catalogue, compare_table, expected_table

    p = ctx.p
    pairs = [list(v) for v in p.qp_pairs] + [list(v) for v in p.qp_bad_pairs]
    measures = catalogue(p.p_values, pairs)
    table = run_property_tests(measures, PROPERTIES, p.trials, p.property_n, ctx.seed, log=ctx.log)
    # the card's dedicated Robin Hood search for 1 < q < p (its threshold is calibrated on 2000 trials)
    bad = [m for m in catalogue([], p.qp_bad_pairs) if m.name.startswith("S*_")]
    rh = run_property_tests(bad, ("D1",), p.robin_hood_trials, p.property_n, ctx.seed + 1, log=ctx.log)
    expected = expected_table(p.p_values, p.qp_pairs)
    m = {"a9595_properties": {
        "table": table, "measures": [[x.name, x.label] for x in measures], "properties": list(PROPERTIES),
        "expected": expected, "mismatches": compare_table(table, expected),
        "good_pairs": [f"S*_{q:g},{pp:g}" for q, pp in p.qp_pairs],
        "bad_pairs": [f"S*_{q:g},{pp:g}" for q, pp in p.qp_bad_pairs],
        "robin_hood": {k: v["D1"] for k, v in rh.items()}, "c2b_reference": c2b_reference(),
        "trials": p.trials, "robin_hood_trials": p.robin_hood_trials, "n_values": list(p.property_n)}}
    atomic_write_json(ctx.out("metrics"), m)
    ctx.log(f"{len(m['a9595_properties']['mismatches'])} cells differ from the article's table")


def identities(ctx):
    """C1, C5, C6: limits, ranges, cosine / SNR forms, Renyi entropy identities."""
    from kexue.io import atomic_write_json
    from kexue.sparsity_study import identities as compute

    p = ctx.p
    out = compute(ctx.seed + 2, p.identity_n, p.identity_vectors, p.p_values,
                  [list(v) for v in p.qp_pairs] + [list(v) for v in p.qp_bad_pairs], p.log_identity_p, p.renyi_orders)
    atomic_write_json(ctx.out("metrics"), {"a9595_identities": out})


def attention_rows(ctx):
    """Sparsity of softmax rows against the logit scale c (S*_(1,2), H, H_2)."""
    import numpy as np

    from kexue.io import atomic_write_json
    from kexue.sparsity_study import attention_sweep

    p = ctx.p
    c_values = np.geomspace(p.logit_scale_min, p.logit_scale_max, p.logit_scales)
    r = attention_sweep(ctx.seed + 3, c_values, p.attention_n, p.attention_rows)
    np.savez_compressed(ctx.out("rows"), **r["arrays"])
    atomic_write_json(ctx.out("curves"), {"curves": r["curves"], "c_values": r["c_values"]})
    atomic_write_json(ctx.out("metrics"), {"a9595_attention": r["metrics"]})


def regularise(ctx):
    """C7: S*_(1,2) penalty vs L1 and L2 penalties on under-determined sparse recovery."""
    import numpy as np

    from kexue import sparse_regression as sr
    from kexue.io import atomic_write_json

    p = ctx.p
    lams = np.geomspace(p.lam_rel_min, p.lam_rel_max, p.lam_points)
    problems = []
    for k in range(p.problems):
        rng = np.random.default_rng([ctx.seed, 9595, k])
        A, b, x0 = sr.problem(rng, p.m, p.n, p.s, p.noise)
        r = sr.compare_one(A, b, lams, p.adam_steps, p.adam_lr, p.smooth_delta, p.fista_iters)
        if k < 3:  # curves of the first problems for the figure
            r["curves"] = sr.l1_l2_curves(A, b, 40, p.fista_iters)
        problems.append(r)
        ctx.log(f"problem {k}: {len(r['matched'])} matched residuals")
    atomic_write_json(ctx.out("results"), {"problems": problems})
    atomic_write_json(ctx.out("metrics"), {"a9595_regularise": summarise(problems)})


def summarise(problems):
    """Per problem: medians over the matched residuals; then the two A7 fractions (Wilson CIs)."""
    import numpy as np

    from kexue.montecarlo import proportion_ci

    rows, vs_l2, vs_l1 = [], 0, 0
    for k, r in enumerate(problems):
        mt = r["matched"]
        if not mt:
            rows.append({"problem": k, "matched": 0})
            continue
        med = {key: float(np.median([v[key] for v in mt])) for key in ("S_star_pen", "S_L2", "S_L1")}
        rows.append({"problem": k, "matched": len(mt), **med})
        vs_l2 += med["S_star_pen"] < med["S_L2"]
        vs_l1 += med["S_star_pen"] <= 1.05 * med["S_L1"]
    n = len(problems)
    return {"problems": n, "with_matches": sum(1 for r in rows if r["matched"]),
            "beats_L2": proportion_ci(int(vs_l2), n), "within_1.05_L1": proportion_ci(int(vs_l1), n), "rows": rows}


def figures(ctx):
    from kexue.sparsity_figures import draw_all

    draw_all(ctx.inp("properties"), ctx.inp("rows"), ctx.inp("curves"), ctx.inp("regularise"), ctx.out("figures"))
