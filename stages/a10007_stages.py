"""Stage functions of article 10007 (declared in stages/a10007_fourier_basis_density.py).

identities (C1-C4, numpy) -> fit (all fits and their scores, torch; C5-C9 summaries) -> figures.
The card's prepare/evaluate stages are merged into `fit` (targets and samples are drawn from the
seed inside it; scoring needs the trained models in memory) to stay within the smoke budget.
"""
from __future__ import annotations

D = "data/10007"


def identities(ctx):
    import numpy as np

    from kexue.fourier_density import identity_checks
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    m, arrays = identity_checks(np.random.default_rng([ctx.seed, 1]), orders=p.check_orders, n_random=p.check_random,
                                grid=p.check_grid, trapz_points=p.trapz_points, n_integrals=p.check_integrals,
                                ks_order=p.ks_order, ks_samples=p.ks_samples)
    atomic_write_json(ctx.out("metrics"), {"a10007_identities": m})
    save_npz(ctx.out("arrays"), arrays)
    ctx.log(f"C1 min p {min(v['min_p'] for v in m['c1'].values()):.3g}; KS p = {m['c4']['ks']['pvalue']:.3f}")


def fit(ctx):
    import time

    import numpy as np

    from kexue.fourier_density_study import run_study, summarize
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    t0 = time.perf_counter()
    kw = dict(targets=list(p.targets), n_trains=list(p.n_trains), budgets=list(p.budgets), seeds=p.seeds,
              models=list(p.models))
    rows, arrays, traces, modes = run_study(
        **kw, steps=p.steps, gammas=list(p.gammas), n_val=p.n_val, n_test=p.n_test, lr_max=p.lr_max,
        lr_min=p.lr_min, G=p.quad_points, mode_points=p.mode_points, mode_tol=p.mode_tol,
        prominence=p.mode_prominence, dead_weight=p.dead_weight, fig_budget=p.fig_budget, seed=ctx.seed,
        ckpt_dir=ctx.persist("ckpt"), fingerprint=ctx.fingerprint, log=ctx.log)
    summ = summarize(rows, **kw)
    summ["true_modes"] = modes
    summ["wall_s"] = round(time.perf_counter() - t0, 1)
    atomic_write_json(ctx.out("metrics"), {"a10007_fit": {k: v for k, v in summ.items() if k != "table"},
                                           "a10007_kl_table": summ["table"]})
    atomic_write_json(ctx.out("rows"), {"rows": rows, "traces": traces})
    save_npz(ctx.out("curves"), arrays)
    ctx.log(f"{len(rows)} fits scored in {summ['wall_s']} s")


def figures(ctx):
    from kexue.fourier_density_figures import draw_all

    draw_all(ctx.inp("arrays"), ctx.inp("rows"), ctx.inp("curves"), ctx.out("figures"))
