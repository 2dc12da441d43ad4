"""Stage functions of article 9588 (declared in stages/a9588_jl_entropy_invariant_attention.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/9588"


def jl(ctx):
    """C1 arithmetic and C2: minimal JL dimension for identity and Gaussian points."""
    import math
    import time

    import numpy as np

    from kexue import jl_dimension as jd
    from kexue.fits import linear_fit, power_law_fit
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    # C1: the article's numbers, and log_512 n two ways (ln ratio; log2 n / 9 since 512 = 2^9)
    grid = [2, 10, 64, 100, 512, 1000, 4096, 10**5, 10**6, 123457]
    two_ways = max(abs(jd.log_base(n) - math.log2(n) / 9) for n in grid)
    ratio = max(abs(jd.ideal_key_ratio(n, 64) - jd.log_base(n)) for n in grid)
    c1 = {"eight_ln_1e5": jd.eight_log_rule(1e5), "eight_ln_512": jd.eight_log_rule(512),
          "log512_two_ways_max_diff": two_ways, "dn_over_d_minus_log512_max_diff": ratio,
          "grid": grid, "bert_key_size": 64, "bert_hidden": 768}

    res, arrays = {}, {"ns": np.array(p.jl_ns)}
    t0 = time.perf_counter()
    for family in ("identity", "gaussian"):
        ns = [n for n in p.jl_ns if family == "identity" or n <= p.jl_gauss_n_max]
        for eps in p.jl_eps:
            ks, start = [], 16
            for n in ns:
                rng = np.random.default_rng([ctx.seed, 9588, 1, n, int(round(eps * 1000)), int(family == "gaussian")])
                pts = None if family == "identity" else jd.gaussian_points(n, p.jl_gauss_dim, rng)
                r = jd.jl_min_dim(pts, n, eps, p.jl_trials, rng, start=start)
                ks.append(r["k_min"])
                start = r["k_min"]  # k_min grows with n: gallop from the previous answer
                ctx.log(f"{family} eps={eps} n={n}: k_min={r['k_min']} ({r['evaluations']} k tried)")
            x = np.log(np.array(ns, dtype=np.float64))
            dg = [jd.dg_bound(n, eps) for n in ns]
            res[f"{family}_eps{eps:g}"] = {
                "family": family, "eps": eps, "ns": ns, "k_min": ks, "dg_bound": dg,
                "fit": linear_fit(x, ks), "power_fit": power_law_fit(ns, ks),
                "n_above_dg": int(sum(k > b for k, b in zip(ks, dg))), "trials": p.jl_trials,
                "dim": p.jl_gauss_dim if family == "gaussian" else None}
            arrays[f"{family}_eps{eps:g}_ns"] = np.array(ns)
            arrays[f"{family}_eps{eps:g}_k"] = np.array(ks)
    jl_m = {"cases": res, "eps": p.jl_eps, "trials": p.jl_trials, "wall_s": time.perf_counter() - t0,
            "rule": "k_min = smallest k with >= 50% of trials keeping all pairwise squared distances within 1 ± eps"}
    atomic_write_json(ctx.out("metrics"), {"c1": c1, "jl": jl_m})
    save_npz(ctx.out("arrays"), arrays)


def retrieval(ctx):
    """C3: minimal projected key size for dot-product retrieval among n keys."""
    import time

    import numpy as np

    from kexue.fits import linear_fit, power_law_fit
    from kexue.io import atomic_write_json, save_npz
    from kexue.jl_dimension import retrieval_min_dim
    from kexue.montecarlo import proportion_ci

    p = ctx.p
    t0 = time.perf_counter()
    dmin, rows, start = [], [], 8
    for n in p.ret_ns:
        rng = np.random.default_rng([ctx.seed, 9588, 2, n])
        r = retrieval_min_dim(n, p.ret_dim, p.ret_noise, p.ret_trials, p.ret_target, rng, start=start)
        start = r["d_min"]
        dmin.append(r["d_min"])
        below = [w for d, w in r["tried"] if d == r["d_min"] - 1]
        rows.append({"n": n, "d_min": r["d_min"], "acc_at_d_min": proportion_ci(r["wins_at_d_min"], p.ret_trials),
                     "acc_at_d_min_minus_1": proportion_ci(below[0], p.ret_trials) if below else None,
                     "tried": r["tried"]})
        ctx.log(f"n={n}: d_min={r['d_min']} ({r['wins_at_d_min']}/{p.ret_trials})")
    x = np.log(np.array(p.ret_ns, dtype=np.float64))
    atomic_write_json(ctx.out("metrics"), {"retrieval": {
        "ns": p.ret_ns, "d_min": dmin, "fit": linear_fit(x, dmin), "power_fit": power_law_fit(p.ret_ns, dmin),
        "trials": p.ret_trials, "target": p.ret_target, "dim": p.ret_dim, "noise": p.ret_noise, "rows": rows,
        "wall_s": time.perf_counter() - t0}})
    save_npz(ctx.out("arrays"), {"ns": np.array(p.ret_ns), "d_min": np.array(dmin)})


def entropy(ctx):
    """C4, C5: attention entropy and needle mass vs n, O (1/sqrt d) against E (log_512 n / sqrt d)."""
    import time

    import numpy as np

    from kexue.attention_entropy import summarize, sweep
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    t0 = time.perf_counter()
    rng = np.random.default_rng([ctx.seed, 9588, 3])
    arr = sweep(p.ent_ns, p.ent_ds, p.ent_betas, p.ent_cosines, p.ent_reps, p.factor_base, rng)
    t_sweep = time.perf_counter() - t0
    s = summarize(arr, p.ent_ns, p.ent_ds, p.ent_betas, p.ent_cosines, p.factor_base,
                  min(p.ent_ns), max(p.ent_ns), seed=ctx.seed, n_boot=p.ent_boot)
    s.update(reps=p.ent_reps, ds=p.ent_ds, betas=p.ent_betas, cosines=p.ent_cosines, sweep_s=t_sweep,
             wall_s=time.perf_counter() - t0)
    table = []
    for d in p.ent_ds:
        for b in p.ent_betas:
            r = s["slopes"][f"d{d}_b{b:g}"]
            ci = r["ratio_E_over_O"]
            table.append({"d": d, "beta0": b, "slope_O": round(r["point_O"], 3), "slope_E": round(r["point_E"], 3),
                          "ratio": f"{ci['estimate']:.3f} [{ci['lo']:.3f}, {ci['hi']:.3f}]"})
    atomic_write_json(ctx.out("metrics"), {"entropy": s, "entropy_slope_table": table})
    save_npz(ctx.out("arrays"), {"ns": np.array(p.ent_ns), **arr})


def toy_train(ctx):
    """C6: one-layer retrieval attention trained at one length, tested at longer ones (O vs E)."""
    import time

    import numpy as np

    from kexue.attention_length_extrapolation import ToyConfig, train_and_evaluate
    from kexue.io import atomic_write_json, save_npz
    from kexue.montecarlo import proportion_ci

    p = ctx.p
    cfg = ToyConfig(train_len=p.toy_train_len, test_lens=tuple(p.toy_test_lens), key_dim=p.toy_key_dim,
                    d_model=p.toy_d_model, n_values=p.toy_n_values, noise=p.toy_noise, logit_scale=p.toy_logit_scale,
                    base_len=p.factor_base, steps=p.toy_steps, batch=p.toy_batch, lr=p.toy_lr,
                    eval_problems=p.toy_eval_problems, ckpt_every=p.toy_ckpt_every, bf16=ctx.profile == "full")
    t0 = time.perf_counter()
    runs, arrays = {}, {"test_lens": np.array(p.toy_test_lens), "seeds": np.array(p.toy_seeds)}
    for seed in p.toy_seeds:
        for v in ("O", "E"):
            r = train_and_evaluate(v, ctx.seed * 1000 + seed, cfg, ctx.device, ctx.persist("ckpt") / f"{v}-seed{seed}",
                                   ctx.fingerprint, eval_seed=ctx.seed * 1000 + seed)  # O, E share test problems
            runs[f"{v}_seed{seed}"] = {"eval": r["eval"], "final_train_loss": r["final_train_loss"]}
            arrays[f"loss_{v}_seed{seed}"] = r["loss"]
            arrays[f"correct_{v}_seed{seed}"] = np.array([r["eval"][n]["correct"] for n in p.toy_test_lens])
            arrays[f"entropy_{v}_seed{seed}"] = np.array([r["eval"][n]["entropy"] for n in p.toy_test_lens])
            arrays[f"oracle_seed{seed}"] = np.array([r["eval"][n]["dot_oracle_acc"] for n in p.toy_test_lens])
            ctx.log(f"{v} seed {seed}: acc " + ", ".join(f"{n}: {e['acc']:.3f}" for n, e in r["eval"].items()))
    arrays["problems"] = np.array(p.toy_eval_problems)
    mean_acc = {v: {int(n): float(np.mean([runs[f"{v}_seed{s}"]["eval"][n]["acc"] for s in p.toy_seeds]))
                    for n in p.toy_test_lens} for v in ("O", "E")}
    pooled = {v: {int(n): proportion_ci(sum(runs[f"{v}_seed{s}"]["eval"][n]["correct"] for s in p.toy_seeds),
                                        p.toy_eval_problems * len(p.toy_seeds)) for n in p.toy_test_lens}
              for v in ("O", "E")}  # accuracy over all seeds' test problems, Wilson 95% interval
    atomic_write_json(ctx.out("metrics"), {"toy": {
        "runs": runs, "mean_acc": mean_acc, "pooled_acc": pooled, "seeds": p.toy_seeds, "train_len": p.toy_train_len,
        "test_lens": p.toy_test_lens, "eval_problems": p.toy_eval_problems, "steps": p.toy_steps,
        "device": ctx.device, "wall_s": time.perf_counter() - t0}})
    save_npz(ctx.out("arrays"), arrays)


def figures(ctx):
    from kexue.jl_entropy_figures import draw_all

    draw_all(ctx.inp("jl"), ctx.inp("retrieval"), ctx.inp("entropy"), ctx.inp("toy"), ctx.out("figures"))
