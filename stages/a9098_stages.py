"""Stage functions of article 9098 (declared in stages/a9098_exact_accuracy_training.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/9098"
TOY_FIG_KS = (1, 4, 16)  # figure (a)


def toy(ctx):
    import numpy as np

    from kexue import exact_toy as T
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    grid = T.b_grid(p.b_lo, p.b_hi, p.b_step)
    mins = {kind: [T.minimiser(kind, float(k), grid) for k in p.ks] for kind in T.LOSSES}
    wc = {kind: T.gd_wc(kind, p.wc_steps, p.wc_lr) for kind in T.LOSSES}
    kb = {kind: T.gd_kb(kind, p.wc_steps, p.wc_lr) for kind in T.LOSSES}
    learned = T.exact_learned_sigma(p.sigma_steps, p.sigma_lr)
    traj = learned.pop("trajectory")
    ctx.log(f"CE b*(1) = {mins['ce'][0]['b_star']:.6f}; hinge set(1) = [{mins['hinge'][0]['set_lo']}, "
            f"{mins['hinge'][0]['set_hi']}]; EXACT learned sigma: b = {learned['b']:.4f}, sigma = {learned['sigma']:.4f}")
    atomic_write_json(ctx.out("metrics"), {"toy": {
        "grid": {"lo": p.b_lo, "hi": p.b_hi, "step": p.b_step, "points": int(grid.size)},
        "ks": list(p.ks), "minimisers": mins, "wc_gd": wc, "kb_gd": kb,
        "gd": {"steps": p.wc_steps, "lr": p.wc_lr, "start": [1.0, 0.0]},
        "exact_learned_sigma": {**learned, "steps": p.sigma_steps, "lr": p.sigma_lr, "start": [0.0, 0.0]}}})
    # curves for figure (a): every loss at k in TOY_FIG_KS on a thinned grid
    bs = grid[(grid >= -0.5) & (grid <= 1.5)]
    bs = bs[:: max(1, len(bs) // 2000)]
    arrays = {"b": bs, "fig_ks": np.array(TOY_FIG_KS, float), "ks": np.array(p.ks, float), "sigma_traj": traj}
    for kind in T.LOSSES:
        arrays[f"curve_{kind}"] = np.stack([T.total_loss(kind, bs, k) for k in TOY_FIG_KS])
    save_npz(ctx.out("arrays"), arrays)


def prob_checks(ctx):
    import numpy as np
    import torch

    from kexue import exact_loss as E
    from kexue.io import atomic_write_json

    p = ctx.p
    rng = np.random.default_rng([ctx.seed, 9098])
    cases = []
    # (1) C = n_classes: torch log-space quadrature vs numpy reference vs Monte Carlo (Gaussian noise)
    for sigma in p.sigmas:
        for j in range(p.n_cases):
            mu = rng.normal(0.0, p.mu_scale, p.n_classes)
            q = E.exact_log_probs_all(torch.tensor(mu[None]), sigma, p.check_nodes)[0].exp().numpy()
            ref = np.exp(E.exact_log_probs_np(mu, sigma, p.check_nodes))
            cnt = E.argmax_mc(mu, sigma, p.mc_samples, rng, "gauss")
            se = np.sqrt(q * (1 - q) / p.mc_samples)  # SE of the MC frequency if q is the truth
            cases.append({"sigma": sigma, "C": p.n_classes, "quad": q.tolist(), "mc": (cnt / p.mc_samples).tolist(),
                          "se": se.tolist(), "max_z": float(np.max(np.abs(cnt / p.mc_samples - q) / np.maximum(se, 1e-300))),
                          "max_torch_vs_numpy": float(np.max(np.abs(q - ref))), "sum_quad": float(q.sum())})
    # (2) C <= mvn_max_classes: quadrature vs scipy's multivariate normal cdf (covariance I + 11^T)
    mvn = []
    for C in range(2, p.mvn_max_classes + 1):
        for sigma in p.sigmas:
            mu = rng.normal(0.0, p.mu_scale, C)
            q = np.exp(E.exact_log_probs_np(mu, sigma, p.check_nodes))
            ref = np.array([E.mvn_orthant_prob(mu, y, sigma) for y in range(C)])
            mvn.append({"C": C, "sigma": sigma, "max_abs_diff": float(np.max(np.abs(q - ref))),
                        "quad": q.tolist(), "mvn": ref.tolist()})
    # (3) binary closed form Phi(d / (sigma sqrt 2))
    d = np.linspace(-8, 8, 161)
    bin_err = 0.0
    for sigma in p.sigmas:
        mu = np.stack([d, np.zeros_like(d)], 1)
        q = np.exp(E.exact_log_probs_np(mu, sigma, p.check_nodes))[:, 0]
        bin_err = max(bin_err, float(np.max(np.abs(q - E.binary_prob(d, 0.0, sigma)))))
    # (4) Gumbel-max Monte Carlo vs softmax
    gum = []
    for j in range(p.n_cases * len(p.sigmas)):
        mu = rng.normal(0.0, p.mu_scale, p.n_classes)
        sm = np.exp(mu - mu.max())
        sm /= sm.sum()
        cnt = E.argmax_mc(mu, 1.0, p.mc_samples, rng, "gumbel")
        se = np.sqrt(sm * (1 - sm) / p.mc_samples)
        gum.append({"softmax": sm.tolist(), "mc": (cnt / p.mc_samples).tolist(),
                    "max_z": float(np.max(np.abs(cnt / p.mc_samples - sm) / se))})
    # (5) few nodes in float32 with the naive product underestimate tiny probabilities (pitfall)
    mu = torch.tensor([[0.0] + [6.0] * (p.n_classes - 1)], dtype=torch.float64)
    y = torch.zeros(1, dtype=torch.long)
    exact64 = float(E.exact_log_prob(mu, y, 1.0, 96).exp())
    z, lw = E.node_tensors(16, torch.float32)
    naive32 = float((lw.exp() * torch.special.ndtr(z.view(-1, 1) - 6.0).prod(1)).sum())
    log32 = float(E.exact_log_prob(mu.float(), y, 1.0, 16).exp())
    ctx.log(f"max |quad - MC| / SE = {max(c['max_z'] for c in cases):.2f}; max |quad - mvn| = "
            f"{max(m['max_abs_diff'] for m in mvn):.1e}; binary {bin_err:.1e}; Gumbel max z = "
            f"{max(g['max_z'] for g in gum):.2f}")
    atomic_write_json(ctx.out("metrics"), {"prob": {
        "mc_samples": p.mc_samples, "check_nodes": p.check_nodes, "gauss_cases": cases, "mvn_cases": mvn,
        "binary_max_abs_err": bin_err, "binary_points": int(d.size * len(p.sigmas)), "gumbel_cases": gum,
        "tiny_prob": {"exact_fp64_96_nodes": exact64, "naive_product_fp32_16_nodes": naive32,
                      "log_space_fp32_16_nodes": log32}}})


def train(ctx):
    import time

    import numpy as np

    from kexue.accuracy_training import TrainConfig, load_data, train_one
    from kexue.io import atomic_write_json, save_npz

    p = ctx.p
    data = load_data(p.dataset, ctx.inp(p.dataset), p.n_train, p.n_test)
    ctx.log(f"{p.dataset}: {len(data[1])} train / {len(data[3])} test, MLP {data[0].shape[1]}-{p.hidden}x{p.depth}, "
            f"{p.epochs} epochs, losses {p.losses}, seeds {p.seeds}, device {ctx.device}")
    root = ctx.persist("ckpt")
    arrays, runs = {}, {}
    plan = [(kind, s, True) for kind in p.losses for s in p.seeds]
    if p.unguarded_probe:
        plan.append(("exact_sigma", p.seeds[0], False))
    for kind, s, guarded in plan:
        name = f"{kind}{'' if guarded else '_unguarded'}-seed{s}"
        cfg = TrainConfig(epochs=p.epochs, hidden=p.hidden, depth=p.depth, lr=p.lr, batch=p.batch,
                          seed=ctx.seed + s, n_nodes=p.n_nodes,
                          sigma_floor=p.sigma_floor if guarded else p.unguarded_floor,
                          clip=p.clip if guarded else None, guarded=guarded, ckpt_every=p.ckpt_every,
                          bf16=ctx.profile == "full")
        t0 = time.perf_counter()
        r = train_one(kind, data, cfg, root / name, ctx.fingerprint, ctx.device)
        wall = time.perf_counter() - t0
        for k, v in r.items():
            if isinstance(v, np.ndarray):
                arrays[f"{name}/{k}"] = v
        runs[name] = {"loss": kind, "seed": s, "guarded": guarded, "wall_s": round(wall, 2),
                      "steps_per_epoch": r["steps_per_epoch"], "n_steps": r["n_steps"], "skipped": r["skipped"],
                      "failure": r["failure"]}
        acc = r["ep_test_acc"][-1] if len(r["ep_test_acc"]) else float("nan")
        ctx.log(f"{name}: test acc {acc:.4f}, {r['skipped']} skipped steps, {wall:.1f}s"
                + (f", FAILED at step {r['failure']['step']}" if r["failure"] else ""))
    save_npz(ctx.out("runs"), arrays)
    atomic_write_json(ctx.out("info"), {"train_info": {
        "dataset": p.dataset, "n_train": int(len(data[1])), "n_test": int(len(data[3])), "hidden": p.hidden,
        "depth": p.depth, "epochs": p.epochs, "lr": p.lr, "batch": p.batch, "n_nodes": p.n_nodes,
        "seeds": list(p.seeds), "losses": list(p.losses), "sigma_floor": p.sigma_floor, "clip": p.clip,
        "unguarded_probe": p.unguarded_probe, "unguarded_floor": p.unguarded_floor,
        "device": ctx.device, "runs": runs}})


def evaluate(ctx):
    import json

    from kexue.accuracy_eval import summarise
    from kexue.io import atomic_write_json

    info = json.loads(ctx.inp("info").read_text())["train_info"]
    atomic_write_json(ctx.out("metrics"), {"acc": summarise(ctx.inp("runs"), info)})


def figures(ctx):
    import json

    from kexue.exact_figures import draw_all

    info = json.loads(ctx.inp("info").read_text())["train_info"]
    draw_all(ctx.inp("toy"), ctx.inp("toy_metrics"), ctx.inp("runs"), info, ctx.out("figures"))
