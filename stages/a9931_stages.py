"""Stage functions of article 9931 (declared in stages/a9931_local_global_cosine.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

import math

SKIP_STEPS = 10  # the card's C8 statistic counts steps after step 10
TOL = 1e-12


def _lam_key(lam: float) -> str:
    return f"{lam:g}"


# ------------------------------------------------------------------------ stages
def numerics(ctx):
    import numpy as np
    from scipy.stats import pearsonr

    from kexue import groupwise_cosine as gc
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    rng = np.random.default_rng([ctx.seed, 9931])
    m, arrays = {}, {}

    # C1
    r = gc.decompose([1.0, 1.0], [1.0, 2.0], [1, 1])
    m["c1"] = {"cos": r["glob"], "local": r["c"].tolist(), "reference": 3 / math.sqrt(10),
               "abs_err": abs(r["glob"] - 3 / math.sqrt(10))}

    # C2 (plus the identity on every random-search instance below)
    e_id, e_ref = gc.identity_errors(rng, p.identity_draws)
    m["c2"] = {"draws": p.identity_draws, "max_ident_err": e_id, "max_refine_err": e_ref}

    # C3: group k in its own random 2-D plane of R^8, local cosines exactly lambda
    c3 = {}
    eps = np.array(sorted(p.eps_values, reverse=True))
    ce_glob = np.zeros((len(p.ce_lambdas), len(eps)))
    for i, lam in enumerate(p.ce_lambdas):
        mins = []
        for j, e in enumerate(eps):
            x, y = gc.counterexample(lam, float(e), dim=8, rng=rng)
            st = gc.group_stats(x[None], y[None])
            ce_glob[i, j] = st["glob"][0]
            mins.append(float(st["c"].min()))
        c3[_lam_key(lam)] = {"eps": eps.tolist(), "glob": ce_glob[i].tolist(), "min_local": mins,
                             "ratio_to_2_lam_eps": (ce_glob[i] / (2 * lam * eps)).tolist(),
                             "glob_at_min_eps": float(ce_glob[i, -1]), "min_eps": float(eps[-1])}
    m["c3"] = {"per_lambda": c3}
    arrays.update(ce_lambdas=np.array(p.ce_lambdas), ce_eps=eps, ce_glob=ce_glob)

    # C4/C5: random search per sign class, adversarial search per bound
    rand = {}
    for kind in ("nonneg", "neg", "mixed"):
        agg, sample = gc.random_search(rng, p.search_draws, kind)
        rand[kind] = agg
        for k, v in sample.items():
            arrays[f"rs_{kind}_{k}"] = v
        ctx.log(f"random search {kind}: {agg['n']} instances, upper viol {agg['upper_violations']}, "
                f"lower viol {agg['lower_violations']}")
    adv = {}
    for kind, which in (("nonneg", "upper"), ("mixed", "upper"), ("mixed", "lower"),
                        ("neg", "lower"), ("neg", "upper")):
        adv[f"{kind}_{which}"] = gc.adversarial_search(rng, p.adv_starts, kind, which)
    xo, yo = gc.orthogonal_norms_instance()
    so = gc.group_stats(xo[None], yo[None])
    ortho = {"local": so["c"][0].tolist(), "glob": float(so["glob"][0]), "cos_ab": float(so["cos_ab"][0]),
             "upper_violated": bool(so["glob"][0] > so["c"][0].max() + TOL)}
    m["c4"] = {"random": {"nonneg": rand["nonneg"], "mixed": rand["mixed"]},
               "adversarial": {"nonneg_upper": adv["nonneg_upper"], "mixed_upper": adv["mixed_upper"]}}
    m["c5"] = {"random": {"neg": rand["neg"], "mixed": rand["mixed"]},
               "adversarial": {k: adv[k] for k in ("neg_lower", "neg_upper", "mixed_lower", "mixed_upper")},
               "orthogonal_construction": ortho}
    m["c2"]["search_instances"] = sum(v["n"] for v in rand.values())
    m["c2"]["search_max_ident_err"] = max(v["ident_max_err"] for v in rand.values())

    # C6: Pearson r vs cosine of centred vectors
    diff, trials = 0.0, 1000
    for _ in range(trials):
        n = int(rng.integers(3, 201))
        x = rng.standard_normal(n) * rng.uniform(0.1, 10) + rng.uniform(-10, 10)
        y = 0.5 * x + rng.standard_normal(n) * rng.uniform(0.1, 10) + rng.uniform(-10, 10)
        diff = max(diff, abs(float(pearsonr(x, y).statistic) - gc.pearson_via_cosine(x, y)))
    m["c6"] = {"trials": trials, "max_abs_diff": diff}

    # C7: Simpson
    (x1, y1), (x2, y2) = gc.simpson_data(rng, p.simpson_n)
    xp, yp = np.concatenate([x1, x2]), np.concatenate([y1, y2])
    m["c7"] = {"n_per_group": p.simpson_n,
               "r_group1": gc.pearson_via_cosine(x1, y1), "r_group2": gc.pearson_via_cosine(x2, y2),
               "r_pooled": gc.pearson_via_cosine(xp, yp),
               "slope_group1": gc.ols_slope(x1, y1), "slope_group2": gc.ols_slope(x2, y2),
               "slope_pooled": gc.ols_slope(xp, yp),
               "cos_pooled_uncentred": float(gc.cosine(xp, yp))}
    arrays.update(simpson_x1=x1, simpson_y1=y1, simpson_x2=x2, simpson_y2=y2)

    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arrays)


def adam(ctx):
    import time

    import numpy as np

    from kexue.cosine_training import TrainConfig, load_dataset, run
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    data = load_dataset(p.dataset, ctx.inp(p.dataset), p.n_train, ctx.seed)
    cfg = TrainConfig(steps=p.steps, hidden=p.hidden, depth=p.depth, lr=p.lr, batch=p.batch,
                      seed=ctx.seed, ckpt_every=p.ckpt_every, bf16=ctx.profile == "full")
    ctx.log(f"C8 on {p.dataset} ({len(data[1])} train), MLP {data[0].shape[1]}-{p.hidden}x{p.depth}, "
            f"{p.steps} steps, λ ∈ {p.lambdas}, device {ctx.device}")
    t0 = time.perf_counter()
    res = run(p.lambdas, data, cfg, device=ctx.device, ckpt_dir=ctx.persist("ckpt"), fingerprint=ctx.fingerprint)
    wall = time.perf_counter() - t0
    arrays = {"lambdas": np.array(p.lambdas, dtype=np.float64)}
    summary = {}
    for i, (lam, o) in enumerate(res.items()):
        arrays["tensor_names"] = np.array(o["tensor_names"])
        for k, v in o.items():
            if isinstance(v, np.ndarray):
                arrays[f"l{i}_{k}"] = v
        summary[_lam_key(lam)] = {"test_acc": o["test_acc"], "test_loss": o["test_loss"],
                                  "final_train_loss": float(o["loss"][-1]),
                                  "clipped_frac_per_tensor": o["clipped"].mean(0).tolist()}
    save_npz(ctx.out("traces"), arrays)
    atomic_write_json(ctx.out("summary"), {"adam_run": {
        "dataset": p.dataset, "n_train": p.n_train, "hidden": p.hidden, "depth": p.depth, "steps": p.steps,
        "lr": p.lr, "batch": p.batch, "device": ctx.device, "wall_s": wall, "per_lambda": summary}})


def evaluate(ctx):
    import numpy as np

    from kexue.io import atomic_write_json

    z = np.load(ctx.inp("traces"))
    per = {}
    for i, lam in enumerate(z["lambdas"].tolist()):
        g = lambda k: z[f"l{i}_{k}"]  # noqa: E731
        glob, local, cab = g("glob")[SKIP_STEPS:], g("local")[SKIP_STEPS:], g("cos_ab")
        below = glob < local.min(1)
        per[_lam_key(lam)] = {
            "steps_counted": int(len(glob)),
            "n_global_below_min_local": int(below.sum()),
            "frac_global_below_min_local": float(below.mean()),
            "frac_raw_global_below_min_raw_local": float(
                (g("glob_raw")[SKIP_STEPS:] < g("local_raw")[SKIP_STEPS:].min(1)).mean()),
            "min_global": float(glob.min()), "min_global_all_steps": float(g("glob").min()),
            "min_local_minus_lambda": float((g("local").min(1) - lam).min()),
            "mean_gap_min_local_minus_global": float((local.min(1) - glob).mean()),
            "cos_ab": {"mean": float(cab[SKIP_STEPS:].mean()), "median": float(np.median(cab[SKIP_STEPS:])),
                       "min": float(cab[SKIP_STEPS:].min()), "max": float(cab[SKIP_STEPS:].max()),
                       "mean_on_below_steps": float(cab[SKIP_STEPS:][below].mean()) if below.any() else None},
            "cbar_w_mean": float(g("cbar_w")[SKIP_STEPS:].mean()),
            "max_group_identity_err": float(np.max(g("ident_err"))),
            "scalar": {"sign_agreement_mean": float(g("sign_frac").mean()),
                       "cos_abs_mean": float(g("cos_abs").mean()),
                       "weighted_mean_sign_mean": float(g("wmean_sign").mean()),
                       "max_identity_err": float(np.max(g("scalar_ident_err")))},
            "clipped_frac": float(g("clipped").mean()),
        }
    atomic_write_json(ctx.out("metrics"), {"c8": {"skip_steps": SKIP_STEPS, "per_lambda": per}})


def figures(ctx):
    from kexue.cosine_figures import draw_all

    draw_all(ctx.inp("arrays"), ctx.inp("traces"), ctx.out("figures"))
