"""Stage functions of article 9607 (declared in stages/a9607_quantization_scaling_law.py).

theory (C1–C7, numpy/scipy, exact learner) -> sparse_parity (C8, torch, resumable) -> figures.
Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/9607"


def theory(ctx):
    from kexue.io import atomic_write_json, save_npz
    from kexue.quanta_scaling_study import TheoryConfig, run_theory

    p = ctx.p
    cfg = TheoryConfig(gammas=tuple(p.gammas), K=p.K, C=p.C, tau=p.tau, batch=p.step_batch, d_lo=p.d_lo,
                       d_hi=p.d_hi, per_decade=p.per_decade, seeds=p.learner_seeds, n_lo=p.n_lo, n_hi=p.n_hi,
                       Q=p.Q, exp_mu=p.exp_mu)
    m, arrays = run_theory(cfg, ctx.seed, log=ctx.log)
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arrays)


def sparse_parity(ctx):
    import time

    from kexue.io import atomic_write_json, save_npz
    from kexue.sparse_parity_study import SPConfig, run_study

    p = ctx.p
    cfg = SPConfig(n_bits=p.sp_n_bits, k=p.sp_k, n_tasks=p.sp_n_tasks, zipf_exponent=p.sp_zipf_exponent,
                   widths=tuple(p.sp_widths), steps=p.sp_steps, batch=p.sp_batch, lr=p.sp_lr, seeds=p.sp_seeds,
                   test_per_task=p.sp_test_per_task, eval_points=p.sp_eval_points, ckpt_every=p.sp_ckpt_every,
                   data_sizes=tuple(p.sp_data_sizes), data_width=p.sp_data_width, data_steps=p.sp_data_steps,
                   sweep_exponents=tuple(p.sp_sweep_exponents), sweep_widths=tuple(p.sp_sweep_widths),
                   sweep_steps=p.sp_sweep_steps, bf16=ctx.profile == "full" and ctx.device == "cuda")
    ctx.log(f"C8: {cfg.n_tasks} subtasks, {cfg.n_bits} bits, k = {cfg.k}, widths {list(cfg.widths)}, "
            f"{cfg.steps} steps, device {ctx.device}")
    t0 = time.perf_counter()
    m, arrays = run_study(cfg, ctx.seed, device=ctx.device, ckpt=ctx.persist("ckpt"), fingerprint=ctx.fingerprint,
                          log=ctx.log)
    m["wall_s"] = time.perf_counter() - t0
    m["device"] = ctx.device
    atomic_write_json(ctx.out("metrics"), {"c8": m})
    save_npz(ctx.out("arrays"), arrays)


def figures(ctx):
    from kexue.quanta_scaling_figures import draw_all

    draw_all(ctx.inp("theory"), ctx.inp("neural"), ctx.out("figures"))
