"""Stage functions of article 10563 (declared in stages/a10563_adam_epsilon_lr_scaling.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/10563"


def moments(ctx):
    import numpy as np

    from kexue.adam_eps_analysis import moments_study
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    a = np.linspace(-p.a_max, p.a_max, p.a_points)
    x = np.linspace(-p.erf_x_max, p.erf_x_max, p.erf_points)
    m, arr = moments_study(a, p.b_values, x, hermite_n=p.hermite_n, b_far=p.b_far)
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arr)
    ctx.log(f"{a.size} a × {len(p.b_values)} b; erf approx max err {m['moments']['c3']['max_err']:.4f}")


def lr_curves(ctx):
    import numpy as np

    from kexue.adam_eps_analysis import lr_study
    from kexue.adam_eps_lr import random_problem, toy_problem
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    problems = {"toy": toy_problem(np.random.default_rng(ctx.seed + 1), p.toy_n),
                "random": random_problem(np.random.default_rng(ctx.seed + 2), p.random_n, p.rank1)}
    B = np.logspace(p.B_log10_lo, p.B_log10_hi, p.B_points)
    scan = np.logspace(-3, 1, p.eps_scan_points)
    m, arr = lr_study(problems, B, p.eps_values, scan, p.eps_large, p.mc_B, p.mc_eps, p.mc_samples,
                      np.random.default_rng(ctx.seed + 3))
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arr)
    for name in problems:
        ctx.log(f"{name}: surge gone from ε = {m['lr'][name]['exact_threshold_eps']} (exact), "
                f"{m['lr'][name]['mf_threshold_eps']} (mean field)")


def eps_fraction(ctx):
    import time

    from kexue.adam_eps_training import SweepConfig, WidthRun, load_split, lr_sweep, steps_for, train_width
    from kexue.io import atomic_write_json

    p = ctx.p
    data = load_split(p.dataset, ctx.inp(p.dataset), p.n_train, ctx.seed)
    steps = steps_for(p.n_train, p.epochs, p.batch)
    runs = []
    for n in p.widths:
        cfg = WidthRun(hidden=n, steps=steps, lr=p.lr, batch=p.batch, eps=p.adam_eps, seed=ctx.seed,
                       ckpt_every=p.ckpt_every, bf16=ctx.profile == "full")
        t0 = time.perf_counter()
        r = train_width(data, cfg, ctx.device, ctx.persist("ckpt") / f"width-{n}", ctx.fingerprint)
        r["wall_s"] = time.perf_counter() - t0
        runs.append(r)
        ctx.log(f"n = {n}: median √v̂ {r['vhat']['median']:.2e}, frac < 1e-5 "
                f"{r['vhat']['frac_below']['1e-05']:.4%}, |g| {r['grad_norm_tail']['mean']:.2f}, "
                f"test acc {r['test_acc']:.3f} ({r['wall_s']:.1f}s)")
    out = {"eps_fraction": {
        "dataset": p.dataset, "n_train": p.n_train, "epochs": p.epochs, "batch": p.batch, "steps": steps,
        "lr": p.lr, "adam_eps": p.adam_eps, "device": ctx.device, "widths": list(p.widths), "runs": runs}}
    if p.sweep_batches:  # empirical η*(B): the full profile's lr sweeps
        cfg = SweepConfig(hidden=p.sweep_hidden, steps=p.sweep_steps, batches=tuple(p.sweep_batches),
                          lrs=tuple(sorted(p.sweep_lrs)), eps_list=tuple(p.sweep_eps),
                          seeds=tuple(ctx.seed + k for k in range(p.sweep_seeds)), bf16=ctx.profile == "full")
        t0 = time.perf_counter()
        out["a10563_lr_sweep"] = lr_sweep(data, cfg, ctx.device, ctx.persist("ckpt") / "sweep", ctx.fingerprint,
                                          log=ctx.log)
        out["eps_fraction"]["sweep_wall_s"] = time.perf_counter() - t0
    atomic_write_json(ctx.out("metrics"), out)


def figures(ctx):
    from kexue.adam_eps_figures import draw_all

    draw_all(ctx.inp("moments"), ctx.inp("lr"), ctx.inp("eps"), ctx.out("figures"))
