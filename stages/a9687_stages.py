"""Stage functions of article 9687 (declared in stages/a9687_self_consuming_mad.py).

gaussian_chains (A: C1-C3) -> mixture_loops (B: C4-C7) -> image_loops (C: C4 images, C5) -> figures.
The card's prepare/evaluate stages are folded into these (the smoke budget allows 4 stages): each loop stage
draws its own real pools from the seed and scores every evaluated generation as it goes.
"""
from __future__ import annotations

D = "data/9687"


def gaussian_chains(ctx):
    import numpy as np

    from kexue import io
    from kexue.gaussian_refit_chains import chain_metrics, chain_study, rotated_cov

    p = ctx.p
    S0 = rotated_cov(p.a_variances, p.a_angle_deg)
    res = chain_study(np.zeros(2), S0, ns=p.a_n, lambdas=p.a_lambdas, generations=p.a_generations,
                      chains=p.a_chains, seed=ctx.seed, kurtosis_at=(p.a_generations,))
    arrays = {f"{name}__{k}": v for name, r in res.items() for k, v in r.items() if isinstance(v, np.ndarray)}
    np.savez_compressed(ctx.out("arrays"), Sigma0=S0, **arrays)
    m = chain_metrics(res)
    io.atomic_write_json(ctx.out("metrics"), {"a9687_gauss": {"Sigma0": S0.tolist(), "configs": m}})
    for name, v in m.items():
        ctx.log(f"{name}: C1 ratios {[round(c['ratio'], 3) for c in v['c1'].values()]}"
                + (f", C2 ratios {[round(c['ratio'], 3) for c in v['c2'].values()]}" if "c2" in v else ""))


def mixture_loops(ctx):
    import numpy as np

    from kexue import io
    from kexue.self_consuming_experiments import mixture_study

    m, arrays = mixture_study(ctx.p, ctx.seed, ctx.log)
    np.savez_compressed(ctx.out("arrays"), **arrays)
    io.atomic_write_json(ctx.out("metrics"), {"a9687_mix": m})


def image_loops(ctx):
    import numpy as np

    from kexue import io
    from kexue.data.image_sets import image_set
    from kexue.feature_classifier import load_feature_classifier
    from kexue.image_metrics import FD_NAME
    from kexue.self_consuming_experiments import image_study

    p = ctx.p
    src = "digits" if p.c_data == "digits" else "fashion_mnist"
    Xtr, _, Xte, _ = image_set(p.c_data, ctx.inp(src))
    clf = load_feature_classifier(ctx.inp(f"metric_{p.c_data}"))
    ddpm = None
    if p.c_model == "ddpm":
        from kexue.self_consuming_ddpm import DdpmGenerator

        ddpm = DdpmGenerator(p, run_dir=ctx.persist("ckpt"), fingerprint=ctx.fingerprint, device=ctx.device,
                             bf16=ctx.profile == "full" and ctx.device == "cuda", log=ctx.log)
    else:
        ctx.persist("ckpt")  # the persistent folder must exist even when nothing is trained (DVC)
    m, arrays = image_study(p, ctx.seed, Xtr, Xte, clf, ctx.log, ddpm=ddpm)
    m.update({"fd_name": FD_NAME, "data": p.c_data, "model": p.c_model})
    np.savez_compressed(ctx.out("arrays"), **arrays)
    io.atomic_write_json(ctx.out("metrics"), {"a9687_img": m})


def figures(ctx):
    import json

    from kexue.self_consuming_figures import draw_all

    mets = {k: json.loads(ctx.inp(k).read_text()) for k in ("gauss_metrics", "mix_metrics", "img_metrics")}
    draw_all(ctx.inp("gauss"), ctx.inp("mix"), ctx.inp("img"), mets, ctx.out("figures"))
