"""Stage functions of article 10085 (declared in stages/a10085_score_identity_distillation.py).

prepare (ring samples, teacher B by DSM, C1/C2 by Monte Carlo) -> distill (reads ONLY the teacher weights and its
params) -> evaluate (teacher samplers, metrics, figures). Kept apart from the claims so that a stage's code
dependencies are its own code only.
"""
from __future__ import annotations

D = "data/10085"
TEACHER_B = f"{D}/teacher_b.pt"
TRAIN_DATA = f"{D}/ring_train.npz"


def prepare(ctx):
    import numpy as np

    from kexue import score_distillation_study as S
    from kexue.io import atomic_write_json, save_npz
    from kexue.nn.mlp_denoiser import denoiser_payload
    from kexue.train import save_checkpoint

    p = ctx.p
    m, arrays = S.identity_checks(p, ctx.seed, log=ctx.log)
    X = S.ring(p).sample(p.tb_train_points, np.random.default_rng(ctx.seed + 1))
    save_npz(ctx.out("train_data"), {"X": X.astype(np.float32)})  # the teacher's data: distill never reads it
    bf16 = ctx.profile == "full" and ctx.device == "cuda"
    tb = S.train_teacher_b(p, ctx.seed, X, run_dir=ctx.persist("ckpt") / "teacher_b", fingerprint=ctx.fingerprint,
                           device=ctx.device, bf16=bf16, log=ctx.log)
    save_checkpoint(ctx.out("teacher"), denoiser_payload(tb["model"].cpu()))
    m["teacher_b"] = {k: tb[k] for k in ("n_params", "loss_first", "loss_last")} | {"steps": p.tb_steps,
                                                                                   "train_points": p.tb_train_points}
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arrays)


def distill(ctx):
    import time

    import numpy as np

    from kexue import score_distillation_study as S
    from kexue.io import atomic_write_json, save_npz
    from kexue.nn.mlp_denoiser import load_denoiser
    from kexue.train import load_checkpoint

    p = ctx.p
    teacher_b = load_denoiser(load_checkpoint(ctx.inp("teacher")), device=ctx.device)
    m = {"distill": {"declared_deps": dict(ctx.stage.deps), "groups": {}}}
    arrays = {}
    for name, runs in S.run_groups(p):
        t0 = time.time()
        res = S.distill_group(p, ctx.seed, name, runs, teacher_b, run_dir=ctx.persist("ckpt") / f"teacher_{name}",
                              fingerprint=ctx.fingerprint, device=ctx.device, log=ctx.log)
        steps = sorted(res["snapshots"])
        arrays[f"{name}_steps"] = np.array(steps)
        arrays[f"{name}_snaps"] = np.stack([res["snapshots"][s] for s in steps]).astype(np.float32)  # [S, R, n, 2]
        arrays[f"{name}_loss"] = np.array([[r[f"g{i}"] for i in range(len(runs))] for r in res["stats"]])
        arrays[f"{name}_loss_fake"] = np.array([r["loss_fake"] for r in res["stats"]])
        m["distill"]["groups"][name] = {"runs": runs, "seconds": time.time() - t0, "iters": p.iters,
                                        "n_params_gen": res["n_params_gen"], "n_params_fake": res["n_params_fake"]}
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arrays)


def evaluate(ctx):
    from kexue.score_distillation_eval import evaluate as run

    m, plot_data = run(ctx.p, ctx.seed, ctx.inp("distill"), ctx.inp("distill_metrics"), ctx.inp("teacher"),
                       log=ctx.log)
    from kexue.io import atomic_write_json
    from kexue.score_distillation_figures import draw_all

    atomic_write_json(ctx.out("metrics"), m)
    draw_all(plot_data, ctx.inp("identity"), ctx.out("figures"))
