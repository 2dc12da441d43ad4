"""Stage functions of article 9152 (declared in stages/a9152_ddpm_autoregressive_vae.py).

schedule_checks (C1, C2, C3a, C4: no training) | train (DDPM main seeds + ablations + the VAE baseline, one
after the other) -> evaluate (ancestral sampling, metrics, C3b gradient study, C10 underflow) -> figures.
Heavy imports live inside the functions: each stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/9152"


# ------------------------------------------------------------------------------------------------ stages
def schedule_checks(ctx):
    import numpy as np

    from kexue import ddpm_vae_checks as ck
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    rng = lambda k: np.random.default_rng([ctx.seed, 9152, k])  # noqa: E731
    tab = ck.tables(1000, 0.02)  # the article's schedule: C1-C4 are checked on it at every profile
    c1 = ck.simulate_chain(tab, 0.7, p.c1_particles, (1, 10, 100, 500, 1000), rng(1))
    c2 = ck.terminal_kl(tab)
    c3a = ck.vae_term_identity(tab, p.c3a_samples, 64, rng(2))
    c4 = ck.optimal_sigma_exact(tab)
    c4["numeric"] = [ck.optimal_sigma_numeric(tab, t, data, p.c4_samples, rng(3 + i))
                     for i, (t, data) in enumerate((t, d) for t in (2, 10, 100, 1000) for d in ("dirac", "normal"))]
    tr = ck.tables(p.T, p.var_end)
    ctx.log(f"C1 max std rel err {c1['max_std_rel_err']:.2e}; C2 abar_T {c2['abar_T']:.4e}; "
            f"C3a {c3a['max_rel_diff']:.1e}; training schedule T = {p.T}, beta_T^2 = {p.var_end}: "
            f"abar_T = {tr['abar'][-1]:.3e}")
    atomic_write_json(ctx.out("metrics"), {
        "c1": c1, "c2": c2, "c3a": c3a, "c4": c4,
        "training_schedule": {"T": p.T, "var_end": p.var_end, "abar_T": float(tr["abar"][-1])}})
    save_npz(ctx.out("arrays"), {"t": np.arange(0, 1001), "abar": tab["abar"], "bbar": tab["bbar"],
                                 "log_snr": tab["log_snr"], "sigma_t": np.arange(1, 1001),
                                 "sigma_posterior": tab["posterior"], "sigma_beta": tab["beta"]})


def train(ctx):
    import numpy as np
    import torch

    from kexue.ddpm_vae_training import train_all
    from kexue.io import atomic_write_json, save_npz

    models, curves, info = train_all(ctx)
    torch.save(models, ctx.out("models"))
    save_npz(ctx.out("losses"), {k: np.asarray(v, dtype=np.float64) for k, v in curves.items()})
    atomic_write_json(ctx.out("metrics"), {"train": info})


def evaluate(ctx):
    from kexue.ddpm_vae_evaluation import evaluate_all
    from kexue.io import atomic_write_json, save_npz

    metrics, arrays = evaluate_all(ctx)
    atomic_write_json(ctx.out("metrics"), metrics)
    save_npz(ctx.out("arrays"), arrays)


def figures(ctx):
    from kexue.ddpm_vae_figures import draw_all

    draw_all(ctx.inp("schedule"), ctx.inp("losses"), ctx.inp("samples"), ctx.inp("evaluate"), ctx.inp("train"),
             ctx.out("figures"))
