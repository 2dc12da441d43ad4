"""Stage functions of article 9228 (declared in stages/a9228_probability_flow_ode.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/9228"


def exact_checks(ctx):
    from kexue.io import atomic_write_json, save_npz
    from kexue.pf_ode_experiments import exact_checks as run

    m, arr = run(ctx.p, ctx.seed, log=ctx.log)
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arr)


def ode_tools(ctx):
    from kexue.io import atomic_write_json, save_npz
    from kexue.pf_ode_experiments import ode_tools as run

    m, arr = run(ctx.p, ctx.seed, log=ctx.log)
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arr)


def solver_sweep(ctx):
    from kexue.io import atomic_write_json, save_npz
    from kexue.pf_ode_experiments import solver_sweep as run

    m, arr = run(ctx.p, ctx.seed, log=ctx.log)
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arr)


def learned_score(ctx):
    from kexue.io import atomic_write_json, save_npz

    ckpt = ctx.persist("ckpt")  # created even when off: DVC refuses to commit a missing persistent out
    if ctx.p.learned_steps == 0:  # off (smoke): say so explicitly, without importing the experiment code
        atomic_write_json(ctx.out("metrics"), {"learned": {
            "run": False, "reason": f"learned score off at profile {ctx.profile} (learned_steps = 0)"}})
        save_npz(ctx.out("arrays"), {})
        return
    from kexue.pf_ode_experiments import learned_score as run

    bf16 = ctx.profile == "full" and ctx.device == "cuda"
    m, arr = run(ctx.p, ctx.seed, run_dir=ckpt / "g2_eps_model", fingerprint=ctx.fingerprint,
                 device=ctx.device, bf16=bf16, log=ctx.log)
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arr)


def figures(ctx):
    from kexue.pf_ode_figures import draw_all

    draw_all({k: ctx.inp(k) for k in ("exact", "exact_metrics", "ode", "ode_metrics", "sweep", "sweep_metrics",
                                       "learned", "learned_metrics")}, ctx.out("figures"))
