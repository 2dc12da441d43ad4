"""Stage functions of article 10055 (declared in stages/a10055_upsample_guidance.py).

prepare -> train_lowres -> sample_evaluate -> figures. Kept apart from the claims so that a stage's
code dependencies are its own code only; heavy imports live inside the functions.
"""
from __future__ import annotations

D = "data/10055"


def _schedule(p):
    from kexue.diffusion.schedules import kexue_linear

    return kexue_linear(p.T)


def prepare(ctx):
    """Data at both resolutions, the exact checks C1-C3, tau/rho curves."""
    from kexue.io import atomic_write_json, save_npz
    from kexue.upsample_guidance_study import exact_checks, image_data, tau_rho_curves

    p = ctx.p
    sched = _schedule(p)
    data = image_data(p.dataset, ctx.inp("fashion_mnist"), n_train=p.n_train, n_ref=p.n_ref, s=p.s,
                      seed=ctx.seed, side=p.shapes_side)
    save_npz(ctx.out("data"), {k: v for k, v in data.items() if k != "train_hi" or p.oracle})  # hi only for the oracle
    ctx.log(f"{p.dataset}: {len(data['train_lo'])} train at {data['train_lo'].shape[-1]} px, "
            f"{len(data['ref_hi'])} held-out at {data['ref_hi'].shape[-1]} px")
    m = {"exact": exact_checks(sched, ctx.seed, scales=(2, 4), n_values=p.c1_values)}
    save_npz(ctx.out("curves"), tau_rho_curves(sched))
    atomic_write_json(ctx.out("metrics"), m)


def train_lowres(ctx):
    """The eps-model trained ONLY at low resolution (plus, at full, the high-res oracle and the Transformer)."""
    import time

    import numpy as np
    import torch

    from kexue.diffusion.training import train_eps_model
    from kexue.io import atomic_write_json
    from kexue.nn.rope_transformer import RoPETransformer
    from kexue.nn.unet import UNet

    p = ctx.p
    sched = _schedule(p)
    z = np.load(ctx.inp("data"))
    unet = lambda: UNet(in_channels=1, widths=p.widths, groups=p.groups, t_dim=p.t_dim,  # noqa: E731
                        t_embed="sinusoidal", num_steps=p.T, t_scale=1.0)
    jobs = [("lowres", unet, "train_lo")]
    if p.oracle:
        jobs.append(("oracle", unet, "train_hi"))
    if p.transformer:
        jobs.append(("transformer", lambda: RoPETransformer(dim=p.tf_dim, depth=p.tf_depth, heads=p.tf_heads,
                                                            patch=2, t_dim=p.tf_dim), "train_lo"))
    out = ctx.out("models")
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, make, key in jobs:
        torch.manual_seed(ctx.seed)
        X = torch.from_numpy(z[key])
        t0 = time.perf_counter()
        r = train_eps_model(make(), X, sched, steps=p.steps, batch=p.batch, lr=p.lr, seed=ctx.seed,
                            run_dir=ctx.persist("ckpt") / name, fingerprint=ctx.fingerprint, reduction="sum",
                            ema_decay=p.ema_decay, continuous_t=True, warmup=p.warmup, device=ctx.device,
                            bf16=(ctx.profile == "full" and ctx.device == "cuda"), desc=f"train {name}")
        wall = time.perf_counter() - t0
        model = r["model"].cpu()
        torch.save({"config": dict(model.config), "state_dict": model.state_dict()}, out / f"{name}.pt")
        loss = np.array([s["loss"] for s in r["stats"]])
        tail = max(1, len(loss) // 10)
        summary[name] = {"n_params": r["n_params"], "steps": p.steps, "batch": p.batch, "side": int(X.shape[-1]),
                         "loss_first": float(loss[:tail].mean()), "loss_last": float(loss[-tail:].mean()),
                         "loss_per_pixel_last": float(loss[-tail:].mean() / X[0].numel()), "wall_s": wall}
        ctx.log(f"{name}: {r['n_params']} params, loss {summary[name]['loss_first']:.1f} -> "
                f"{summary[name]['loss_last']:.1f}, {wall:.0f}s")
    atomic_write_json(ctx.out("metrics"), {"train": summary})


def sample_evaluate(ctx):
    """Every sampling configuration from the same initial noise, then FD28 / FD14, precision/recall,
    class entropy (Fashion-MNIST only: the shared metric classifiers), detail ratio, spectra, counted
    cost and wall-clock."""
    from fractions import Fraction

    import numpy as np
    import torch

    from kexue.feature_classifier import load_feature_classifier
    from kexue.io import atomic_write_json, save_npz
    from kexue.upsample_guidance import cost_ratio
    from kexue.upsample_guidance_eval import configs, evaluate, grids, sample_all
    from kexue.upsample_guidance_study import load_payload

    p = ctx.p
    sched = _schedule(p)
    z = np.load(ctx.inp("data"))
    folder = ctx.inp("models")
    models = {"cnn": load_payload(torch.load(folder / "lowres.pt", weights_only=True), ctx.device)}
    for name, key in (("oracle", "oracle"), ("transformer", "transformer")):
        if getattr(p, name):
            models[key] = load_payload(torch.load(folder / f"{name}.pt", weights_only=True), ctx.device)
    net_hi = net_lo = None   # shapes (smoke): no metric classifier, FD-based metrics are not run
    if p.dataset == "fashion":
        net_hi, net_lo = load_feature_classifier(ctx.inp("metric28")), load_feature_classifier(ctx.inp("metric14"))
    cfgs = configs(p.ws, p.etas, p.round_ablation, oracle=p.oracle, transformer=p.transformer)
    ref_hi, ref_lo = z["ref_hi"], z["ref_lo"]
    samples, info = sample_all(cfgs, models, sched, s=p.s, n=p.n_samples, side_hi=ref_hi.shape[-1],
                               sampler=p.sampler, steps=p.sample_steps, seed=ctx.seed + 1, batch=p.sample_batch,
                               device=ctx.device, log=ctx.log)
    m, arrays = evaluate(samples, ref_hi, ref_lo, net_hi, net_lo, s=p.s, k=p.pr_k, n_boot=p.fd_boot, seed=ctx.seed)
    for name, row in m["configs"].items():
        row.update(info[name])
    ug, direct = info["ug_w0.2"], info["direct"]
    count = Fraction(ug["pixel_evals"], direct["pixel_evals"])
    m["cost"] = {"pixel_evals_ug0.2": ug["pixel_evals"], "pixel_evals_direct": direct["pixel_evals"],
                 "count_ratio": str(count), "count_ratio_float": float(count), "expected": str(cost_ratio(p.s)),
                 "exact": count == cost_ratio(p.s), "wall_ratio": ug["wall_s"] / direct["wall_s"],
                 "wall_ug_s": ug["wall_s"], "wall_direct_s": direct["wall_s"], "device": ctx.device}
    m.update({"s": p.s, "sampler": p.sampler, "sample_steps": p.sample_steps, "dataset": p.dataset})
    arrays.update(grids(samples, p.n_show))
    arrays["real_hi"] = ref_hi[:p.n_show]
    save_npz(ctx.out("arrays"), arrays)
    c = m["configs"]
    r3 = lambda v: None if v is None else float(f"{v:.4g}")  # noqa: E731
    table = [{"config": k, "res": v["res"], "fd28": r3(v.get("fd28", {}).get("estimate")),
              "fd14": r3(v.get("fd14", {}).get("estimate")), "precision": r3(v.get("precision28")),
              "recall": r3(v.get("recall28")), "entropy": r3(v.get("class_entropy28", v.get("class_entropy14"))),
              "detail": r3(v.get("detail_ratio", {}).get("estimate")), "pixel_evals": v["pixel_evals"],
              "wall_s": r3(v["wall_s"])} for k, v in c.items()]
    atomic_write_json(ctx.out("metrics"), {"ug": m, "ug_table": table})
    ctx.log("FD28: " + ", ".join(f"{k} {v['fd28']['estimate']:.3g}" for k, v in c.items() if "fd28" in v))
    ctx.log("detail ratio: " + ", ".join(f"{k} {v['detail_ratio']['estimate']:.3g}" for k, v in c.items()
                                         if "detail_ratio" in v))


def figures(ctx):
    from kexue.upsample_guidance_figures import draw_all

    draw_all(ctx.inp("arrays"), ctx.inp("curves"), ctx.inp("metrics"), ctx.out("figures"))
