"""Stage functions of article 9969 (declared in stages/a9969_idempotent_generative_network.py).

grad_checks (C1, C2 in float64, C9 parameter counts) | train (IGN variants x seeds, WGAN-GP seeds) -> evaluate
(shared image metrics, ratios, f^k(z)) -> figures. Heavy imports live inside the functions.
"""
from __future__ import annotations

D = "data/9969"
SOURCE = {"digits": "digits", "fashion28": "fashion_mnist"}


def _ae_config(p):
    from kexue.nn.mirrored_autoencoder import AEConfig

    dim = {"digits": 64, "fashion28": 784}[p.data]
    return AEConfig(kind=p.arch, dim=dim, widths=tuple(p.widths), latent=p.latent, skip=False, slope=0.2)


def grad_checks(ctx):
    from kexue import idempotent_gan as ig
    from kexue.io import atomic_write_json
    from kexue.nn.mirrored_autoencoder import build, n_params

    p = ctx.p
    c1 = ig.gan_gradient_check(p.grad_trials, ctx.seed)
    c2 = ig.ign_gradient_check(p.grad_trials, ctx.seed)
    cfg = _ae_config(p)
    n_f = n_params(build("autoencoder", cfg, 0))
    n_f_skip = n_params(build("autoencoder", type(cfg)(**{**cfg.__dict__, "skip": True}), 0))
    n_g, n_d = n_params(build("decoder", cfg, 0)), n_params(build("critic", cfg, 0))
    c9 = {"ign": n_f, "ign_unet": n_f_skip, "gan_G": n_g, "gan_D": n_d, "ratio": n_f / (n_g + n_d),
          "arch": p.arch, "widths": list(p.widths), "latent": p.latent, "dim": cfg.dim}
    ctx.log(f"C1 max diff {c1['max_abs_diff_single_sg']:.1e}; C2 max diff {c2['max_abs_diff']:.1e}; "
            f"C9 {n_f} vs {n_g}+{n_d}")
    atomic_write_json(ctx.out("metrics"), {"c1": c1, "c2": c2, "c9": c9})


def train(ctx):
    import numpy as np
    import torch

    from kexue.data.image_sets import image_set
    from kexue.idempotent_gan_training import TrainCfg, run_specs, train_run
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    Xtr, _, _, _ = image_set(p.data, ctx.inp(SOURCE[p.data]), n_train=p.n_train)
    X = torch.from_numpy(Xtr).to(ctx.device)
    cfg = TrainCfg(ae=_ae_config(p), steps=p.steps, batch=p.batch, lr=p.lr, beta1=p.betas[0], beta2=p.betas[1],
                   w_rec=p.w_rec, w_idem=p.w_idem, w_tight=p.w_tight, clamp_a=p.clamp_a, gp_weight=p.gp_weight,
                   ckpt_every=p.ckpt_every)
    bf16 = ctx.profile == "full" and ctx.device == "cuda"
    runs, curves, info = {}, {}, {}
    for spec in run_specs(p.seeds_paper, p.seeds_gan, p.seeds_article, p.seeds_unet, ctx.seed):
        r = train_run(spec, cfg, X, ctx.persist("ckpt") / spec.name, ctx.fingerprint, ctx.device, bf16)
        runs[spec.name] = r
        for key in r["stats"][0] if r["stats"] else ():
            if key != "step":
                curves[f"{spec.name}__{key}"] = np.array([s[key] for s in r["stats"]], dtype=np.float64)
        info[spec.name] = {"diverged": r["diverged"], "exploded": r["exploded"], "message": r["diverged_message"],
                           "n_params": r["n_params"], "wall_s": r["wall_s"], "steps_done": len(r["stats"])}
        ctx.log(f"{spec.name}: {len(r['stats'])} steps in {r['wall_s']:.1f} s, diverged {r['diverged']}, "
                f"last {r['stats'][-1] if r['stats'] else None}")
    torch.save(runs, ctx.out("models"))
    save_npz(ctx.out("curves"), curves)
    atomic_write_json(ctx.out("metrics"), {"train": {"runs": info, "steps": p.steps, "batch": p.batch,
                                                     "n_train": len(Xtr), "data": p.data, "device": ctx.device}})


def evaluate(ctx):
    import torch

    from kexue.data.image_sets import image_set
    from kexue.feature_classifier import load_feature_classifier
    from kexue.idempotent_gan_eval import evaluate_all, group_summary
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    Xtr, _, Xte, _ = image_set(p.data, ctx.inp(SOURCE[p.data]), n_train=p.n_train, n_test=p.n_test)
    clf = load_feature_classifier(ctx.inp(f"metric_{p.data}"))
    runs = torch.load(ctx.inp("models"), map_location="cpu", weights_only=True)
    per, arrays = evaluate_all(runs, Xtr, Xte, clf, p.n_samples, p.k_max, p.noise_sigma, ctx.seed)
    groups = {g: group_summary(per, g) for g in ("ign_paper_bottleneck", "gan_wgan_gp", "ign_article_bottleneck",
                                                 "ign_paper_unet")}
    ctx.log("; ".join(f"{k}: FD {v.get('FD (classifier features)', float('nan')):.1f}" for k, v in per.items()))
    keys = ("fd_z", "precision", "recall", "class_entropy", "sharpness_ratio", "rec_ratio", "idem_ratio",
            "passthrough_ratio", "diverged")
    table = [{"run": name, "fd": m.get("FD (classifier features)"), **{k: m[k] for k in keys if k in m}}
             for name, m in per.items()]
    table = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if v is not None} for r in table]
    atomic_write_json(ctx.out("metrics"), {"eval": {"runs": per, "groups": groups, "n_samples": p.n_samples,
                                                    "n_real_heldout": len(Xte), "k_max": p.k_max},
                                           "runs_table": table})
    save_npz(ctx.out("arrays"), arrays)


def figures(ctx):
    from kexue.idempotent_gan_figures import draw_all

    draw_all(ctx.inp("arrays"), ctx.inp("curves"), ctx.inp("evaluate"), ctx.out("figures"))
