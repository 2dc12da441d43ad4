"""Stage functions of article 9593 (declared in stages/a9593_softmax_robustness_entropy.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

import math

D = "data/9593"
A1_NOISES = ("gaussian", "uniform", "gumbel@0.3")  # the card's A1 set (finite E[e^{2 eps}])


def robustness(ctx):
    """C1/C2: relative error of softmax attention under i.i.d. logit noise, vs n."""
    import time

    import numpy as np

    from kexue.io import atomic_write_json
    from kexue.softmax_noise import errors, summarise

    p = ctx.p
    ns = 2 ** np.arange(p.rob_log2_n_min, p.rob_log2_n_max + 1)
    t0 = time.perf_counter()
    res = errors(ns, p.rob_sigmas, p.rob_noises, p.rob_controls, p.rob_reps, p.rob_dim, p.rob_noise_std, ctx.seed)
    summ = summarise(ns, res, 2 ** p.rob_fit_log2_min, seed=ctx.seed, n_boot=p.rob_boot)
    ctx.log(f"{len(res['configs'])} configurations x {len(ns)} n x {p.rob_reps} reps in {time.perf_counter() - t0:.1f}s")
    atomic_write_json(ctx.out("metrics"), {"robustness": {
        "reps": p.rob_reps, "dim": p.rob_dim, "noise_std": p.rob_noise_std, "n": ns.tolist(),
        "fit_min": int(2 ** p.rob_fit_log2_min), "configs": summ}})


def entropy_bounds(ctx):
    """C3, C5, C6, C7, C8: entropy range, the cosine-logit lower bound, the corner property,
    the temperature dependence and the InfoNCE floor."""
    import numpy as np

    from kexue import softmax_entropy as se
    from kexue.io import atomic_write_json

    p = ctx.p
    rng = np.random.default_rng([ctx.seed, 9593, 3])
    m = {}

    # C3: random logit vectors of random length and scale (scales up to 1e3 give hard one-hots)
    lo, hi_excess = math.inf, -math.inf
    for _ in range(p.c3_vectors):
        n = int(rng.integers(2, p.c3_n_max + 1))
        s = rng.standard_normal(n) * 10 ** rng.uniform(-3, 3)
        h = se.softmax_entropy(s)
        hp = se.entropy(np.exp(s - s.max()) / np.exp(s - s.max()).sum())
        lo = min(lo, h, hp)
        hi_excess = max(hi_excess, h - math.log(n), hp - math.log(n))
    onehot = [se.entropy(np.eye(n)[0]) for n in (2, 16, 1024)] + [se.softmax_entropy([1e4, 0.0, -3.0])]
    unif = [abs(se.entropy(np.full(n, 1.0 / n)) - math.log(n)) for n in (2, 16, 1000, 4096)]
    unif += [abs(se.softmax_entropy(np.full(n, 7.5)) - math.log(n)) for n in (3, 4096)]
    m["c3"] = {"vectors": p.c3_vectors, "n_max": p.c3_n_max, "min_H": lo, "max_H_minus_logn": hi_excess,
               "onehot_max_H": max(onehot), "uniform_max_err": max(unif)}

    # C5: large-n optimum at tau = 1, closed form, half/half, vertex brute force at n = brute_n
    opt = se.large_n_optimum(1.0)
    vb = se.vertex_min(p.brute_n, 1.0)
    m["c5"] = {"deficit": opt["deficit"], "t_star": opt["t"], "t_star_closed": se.t_star_closed_form(),
               "half_half": se.deficit_fraction(0.5, 1.0), "brute_n": p.brute_n, "brute_deficit": vb["deficit"],
               "brute_m_plus": vb["m"],
               "brute_small": {str(n): se.vertex_min(n, 1.0)["deficit"] for n in (10, 100, 1000)}}

    # C6: continuous search over the box vs the vertex minimum
    runs = []
    for tau in p.box_taus:
        for n in range(3, p.box_n_max + 1):
            r = se.box_min_search(n, tau, p.box_starts, np.random.default_rng([ctx.seed, 9593, 6, n]))
            runs.append({k: v for k, v in r.items() if k != "values"}
                        | {"below_vertex": r["vertex_min"] - r["best"]})
    m["c6"] = {"runs": runs, "starts": p.box_starts, "taus": list(p.box_taus), "n_max": p.box_n_max,
               "max_below_vertex": max(r["below_vertex"] for r in runs),
               "max_formula_vs_exhaustive": max(abs(r["exhaustive_vertex_min"] - r["vertex_min"]) for r in runs),
               "runs_at_vertex": sum(r["runs_at_vertex"] for r in runs), "runs_total": len(runs) * p.box_starts}

    # C7: H_min(tau, n) on the card's grid
    m["c7"] = {"taus": list(p.taus), "ns": list(p.hmin_ns),
               "hmin": {str(n): [se.vertex_min(n, t)["h"] for t in p.taus] for n in p.hmin_ns},
               "logn": {str(n): math.log(n) for n in p.hmin_ns}}

    # C8: InfoNCE floor vs a direct softmax computation at the extreme configuration
    errs, table = [], {}
    for n in p.hmin_ns:
        for t in p.taus:
            f = se.infonce_floor(n, t)
            errs.append(abs(f - se.infonce_loss(1.0, -np.ones(n - 1), t)))
            table[f"{n}|{t:g}"] = f
    # no cosine configuration goes below the floor (random cosines in [-1, 1])
    gaps = []
    for _ in range(200):
        n, t = int(rng.choice(p.hmin_ns)), float(rng.choice(p.taus))
        gaps.append(se.infonce_loss(rng.uniform(-1, 1), rng.uniform(-1, 1, n - 1), t) - se.infonce_floor(n, t))
    m["c8"] = {"max_abs_err": max(errs), "floor": table, "floor_256_tau1": se.infonce_floor(256, 1.0),
               "floor_256_tau01": se.infonce_floor(256, 0.1), "log256": math.log(256),
               "random_min_gap": min(gaps), "random_trials": len(gaps)}
    atomic_write_json(ctx.out("metrics"), {"entropy_bounds": m})

    # figure data: H_min vs n per tau, the deficit function at tau = 1
    n_curve = np.unique(np.round(np.logspace(1, math.log10(p.curve_n_max), 60)).astype(int))
    t = np.linspace(0, 0.999, 1000)
    np.savez(ctx.out("arrays"), n_curve=n_curve, taus=np.array(p.taus),
             hmin=np.array([[se.vertex_min(int(n), tau)["h"] for n in n_curve] for tau in p.taus]),
             t=t, f=se.deficit_fraction(t, 1.0), t_star=opt["t"], deficit=opt["deficit"],
             half=se.deficit_fraction(0.5, 1.0))
    ctx.log(f"deficit {opt['deficit']:.7f} at t* = {opt['t']:.7f}; box search: {m['c6']['runs_total']} runs, "
            f"max below vertex {m['c6']['max_below_vertex']:.1e}")


def jacobian_scale(ctx):
    """C4 (numeric part): entropy and softmax-Jacobian norm of softmax(c z) vs c."""
    import numpy as np

    from kexue.io import atomic_write_json
    from kexue.montecarlo import mean_ci
    from kexue.softmax_entropy import scale_sweep

    p = ctx.p
    k = p.jac_points_per_decade
    scales = 10.0 ** (np.arange(-k, 2 * k + 1) / k)  # 0.1 .. 100, exact powers of ten on the grid
    r = scale_sweep(p.jac_n, scales, p.jac_draws, np.random.default_rng([ctx.seed, 9593, 4]))
    atomic_write_json(ctx.out("metrics"), {"jacobian_scale": {
        "n": p.jac_n, "draws": p.jac_draws, "c": scales.tolist(),
        "H": mean_ci(r["H"], axis=0), "J": mean_ci(r["J"], axis=0),
        "logn": math.log(p.jac_n)}})


def init_train(ctx):
    """C4 (training part): retrieval attention trained from logit scales c = 1, 10, 100."""
    import time

    import numpy as np

    from kexue.io import atomic_write_json, save_npz
    from kexue.montecarlo import mean_ci
    from kexue.softmax_init_training import InitConfig, run

    p = ctx.p
    cfg = InitConfig(n_keys=p.init_n_keys, d=p.init_d, d_model=p.init_d_model, n_values=p.init_n_values,
                     batch=p.init_batch, steps=p.init_steps, lr=p.init_lr, ckpt_every=p.init_ckpt_every)
    seeds = [ctx.seed + i for i in range(p.init_seeds)]
    t0 = time.perf_counter()
    res = run(p.init_scales, seeds, cfg, ctx.persist("ckpt"), ctx.fingerprint, ctx.device)
    wall = time.perf_counter() - t0
    arrays, per_c = {"scales": np.array(p.init_scales, float), "seeds": np.array(seeds)}, {}
    for i, c in enumerate(p.init_scales):
        arrays[f"loss_{i}"] = np.stack([res[(float(c), s)]["loss"] for s in seeds])
        arrays[f"entropy_{i}"] = np.stack([res[(float(c), s)]["attn_entropy"] for s in seeds])
        ev = [res[(float(c), s)]["eval_loss"] for s in seeds]
        per_c[f"{c:g}"] = {"eval_loss": ev, "eval_acc": [res[(float(c), s)]["eval_acc"] for s in seeds],
                           "eval_loss_ci": mean_ci(ev) if len(ev) >= 2 else None,
                           "mean_eval_loss": float(np.mean(ev)),
                           "initial_attn_entropy": float(np.mean(arrays[f"entropy_{i}"][:, 0]))}
    save_npz(ctx.out("traces"), arrays)
    atomic_write_json(ctx.out("metrics"), {"init_train": {
        "steps": p.init_steps, "seeds": len(seeds), "lr": p.init_lr, "batch": p.init_batch,
        "n_keys": p.init_n_keys, "chance_loss": math.log(p.init_n_values), "logn": math.log(p.init_n_keys),
        "device": ctx.device, "wall_s": wall, "per_c": per_c}})
    ctx.log(", ".join(f"c={c}: eval loss {v['mean_eval_loss']:.3f}" for c, v in per_c.items()))


def figures(ctx):
    from kexue.softmax_figures import draw_all

    draw_all(ctx.inp("robustness"), ctx.inp("bounds_arrays"), ctx.inp("jacobian"), ctx.inp("traces"),
             ctx.out("figures"))
