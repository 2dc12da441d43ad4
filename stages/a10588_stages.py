"""Stage functions of article 10588 (declared in stages/a10588_adam_hessian_approximation.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/10588"


def _rng(ctx, k: int):
    import numpy as np

    return np.random.default_rng([ctx.seed, 10588, k])


def mc_checks(ctx):
    """C1, C5, C6, C7, C8: Monte Carlo and closed-form checks (numpy)."""
    import numpy as np

    from kexue import adam_hessian as ah
    from kexue.io import atomic_write_json

    p = ctx.p
    H = ah.random_spd(p.c1_n, _rng(ctx, 1))
    c1 = ah.second_moment_error(H, p.c1_sigma, p.c1_K, p.c1_reps, _rng(ctx, 2))
    c5 = ah.gauss_newton_check(p.c5_n, p.c5_N, p.c5_noise, p.h_log10_lo, p.h_log10_hi, _rng(ctx, 3))
    h6 = 10.0 ** _rng(ctx, 4).uniform(-2, 2, p.c6_n)
    c6 = ah.ema_study(h6, p.c1_sigma, p.c6_betas2, p.c6_betas1, p.c6_T, p.c6_reps, _rng(ctx, 5))
    c7 = ah.centred_study(H, p.c1_sigma, p.c7_offsets, p.c7_K, p.c7_reps, _rng(ctx, 6))
    c8n = ah.newton_one_step(ah.random_spd(p.c1_n, _rng(ctx, 7)), _rng(ctx, 8))
    h8 = np.logspace(-2, 2, p.c8_n)  # the card's "h spanning 4 decades"
    c8a = ah.idealised_adam(h8, p.c1_sigma, p.c8_steps, _rng(ctx, 9))
    ctx.log(f"C1 err at K={c1['K'][-1]}: {c1['err']['mean'][-1]:.4f}; C5 diag err {c5['diag_rel_err']:.4f}; "
            f"C7 cov {c7['cov_err']['mean'][-1]:.4f} raw {c7['raw_err']['mean'][-1]:.3g}; "
            f"C8 Newton residual {c8n['grad1']:.1e}")
    atomic_write_json(ctx.out("metrics"), {"mc": {"c1": c1, "c5": c5, "c6": c6, "c7": c7,
                                                  "c8": {"newton": c8n, "ideal": c8a}}})


def adam_quadratic(ctx):
    """C2, C3: full-batch Adam on a diagonal quadratic, one run per beta2 (side by side), plus a
    report-only run with i.i.d. gradient noise."""
    import numpy as np

    from kexue.adam_sim import AdamConfig, run_quadratic
    from kexue.fits import power_law_fit
    from kexue.io import atomic_write_json

    p = ctx.p
    rng = _rng(ctx, 10)
    h = 10.0 ** rng.uniform(p.quad_log10_lo, p.quad_log10_hi, p.quad_n)
    d0 = p.quad_init_std * rng.standard_normal(p.quad_n)
    # theta* = 0: coordinates centred at the optimum (see run_quadratic on exact-zero freezing)
    cfgs = [AdamConfig(p.quad_lr, p.quad_beta1, b2, p.quad_eps) for b2 in p.quad_betas2]
    tr = np.argsort(h)[np.linspace(0, p.quad_n - 1, 4).astype(int)]  # 4 coordinates across the h range
    r = run_quadratic(h, d0, 0.0, p.quad_steps, cfgs, trace_coords=tr, trace_every=1)
    noisy_cfg = AdamConfig(p.quad_lr, p.quad_beta1, p.quad_noise_beta2, p.quad_eps)
    rn = run_quadratic(h, d0, 0.0, p.quad_steps, noisy_cfg, grad_noise=p.quad_noise_std, rng=_rng(ctx, 11))

    def summary(root, std, ratio):
        fit = power_law_fit(h, root)
        return {"fit": fit, "slope": fit["slope"], "r2": fit["r2"],
                "std_theta_mean": float(std.mean()), "std_theta_cv": float(std.std() / std.mean()),
                "newton_ratio_mean": float(ratio.mean()), "newton_ratio_cv": float(ratio.std() / ratio.mean())}

    per = {f"{b2:g}": summary(r["mean_sqrt_vhat"][i], r["std_theta"][i], r["newton_ratio"][i])
           for i, b2 in enumerate(p.quad_betas2)}
    noisy = summary(rn["mean_sqrt_vhat"][0], rn["std_theta"][0], rn["newton_ratio"][0])
    for k, v in per.items():
        ctx.log(f"beta2={k}: slope {v['slope']:.4f} R2 {v['r2']:.4f} std-CV {v['std_theta_cv']:.4f} "
                f"ratio-CV {v['newton_ratio_cv']:.4f}")
    np.savez(ctx.out("arrays"), h=h, betas2=np.array(p.quad_betas2), mean_sqrt_vhat=r["mean_sqrt_vhat"],
             std_theta=r["std_theta"], newton_ratio=r["newton_ratio"], trace=r["trace"],
             trace_steps=r["trace_steps"], trace_h=h[tr], noisy_sqrt_vhat=rn["mean_sqrt_vhat"][0])
    atomic_write_json(ctx.out("metrics"), {"quad": {
        "n": p.quad_n, "steps": p.quad_steps, "window_steps": int(r["window_steps"]), "lr": p.quad_lr,
        "beta1": p.quad_beta1, "eps": p.quad_eps, "per_beta2": per,
        "noisy": {"grad_noise_std": p.quad_noise_std, "beta2": p.quad_noise_beta2, **noisy}}})


def linreg_batch(ctx):
    """C4: Adam on linear regression from the OLS solution, per batch size."""
    import numpy as np

    from kexue.adam_hessian import make_linreg
    from kexue.adam_sim import AdamConfig, run_linreg
    from kexue.fits import power_law_fit
    from kexue.io import atomic_write_json

    p = ctx.p
    d = make_linreg(p.lr_n, p.lr_N, p.lr_noise, p.h_log10_lo, p.h_log10_hi, _rng(ctx, 20))
    X, y = d["X"], d["y"]
    A = X.T @ X / p.lr_N
    ols = np.linalg.solve(A, X.T @ y / p.lr_N)
    start = ols + p.lr_init_std * _rng(ctx, 21).standard_normal(p.lr_n)
    cfg = AdamConfig(p.lr_lr, p.lr_betas[0], p.lr_betas[1], p.lr_eps)
    per, roots = {}, []
    for j, b in enumerate(p.lr_batches):
        batch = None if b == "full" else int(b)
        r = run_linreg(X, y, start, p.lr_steps, cfg, batch=batch, rng=_rng(ctx, 30 + j), centre=ols)
        fit = power_law_fit(r["hdiag"], r["mean_sqrt_vhat"])
        per[str(b)] = {"fit": fit, "slope": fit["slope"], "r2": fit["r2"],
                       "std_theta_mean": float(r["std_theta"].mean())}
        roots.append(r["mean_sqrt_vhat"])
        ctx.log(f"batch {b}: slope {fit['slope']:.4f} (R2 {fit['r2']:.3f})")
    np.savez(ctx.out("arrays"), hdiag=np.diag(A), batches=np.array([str(b) for b in p.lr_batches]),
             mean_sqrt_vhat=np.array(roots))
    atomic_write_json(ctx.out("metrics"), {"linreg": {
        "n": p.lr_n, "N": p.lr_N, "steps": p.lr_steps, "noise": p.lr_noise, "per_batch": per}})


def network(ctx):
    """C9: MLP on digits: L-BFGS minimum, exact Hessian, Adam from the minimum (full batch, minibatch)."""
    import time

    import numpy as np

    from kexue import adam_hessian_network as an
    from kexue.data.digits import load_digits
    from kexue.data.fashion_mnist import load_fashion_mnist
    from kexue.fits import power_law_fit
    from kexue.io import atomic_write_json

    p = ctx.p
    t0 = time.perf_counter()
    if p.net_dataset == "digits":
        X, y = load_digits(ctx.inp("digits"))
    else:
        X, y, _, _ = load_fashion_mnist(ctx.inp("fashion_mnist"))
    perm = _rng(ctx, 40).permutation(len(y))
    Xt, Yt, model = an.make_problem(X[perm], y[perm], p.net_n_train, p.net_hidden, ctx.seed, ctx.device)
    lb = an.lbfgs_minimum(model, Xt, Yt, p.net_l2, p.net_lbfgs_iters)
    theta_min = an.flat(model)
    if p.net_hessian == "exact":
        H = an.exact_hessian(model, Xt, Yt, p.net_l2)
        eig = np.linalg.eigvalsh(H)
        hdiag, hse = np.diag(H).copy(), np.zeros(H.shape[0])
        lo, hi = float(eig[0]), float(eig[-1])
    else:
        hd = an.hutchinson_diag(model, Xt, Yt, p.net_l2, p.net_probes, ctx.seed + 300)
        hdiag, hse = hd["diag"], hd["se"]
        lo, hi = an.extreme_eigenvalues(model, Xt, Yt, p.net_l2, p.net_lanczos_iters)
        eig = np.array([lo, hi])
    ctx.log(f"{theta_min.numel()} params; L-BFGS loss {lb['loss']:.6g}, |grad| {lb['grad_norm']:.2e}; "
            f"Hessian ({p.net_hessian}) eig [{lo:.3g}, {hi:.3g}]")
    per, roots = {}, []
    for j, b in enumerate(p.net_batches):
        batch = None if b == "full" else int(b)
        r = an.adam_from_minimum(model, theta_min, Xt, Yt, p.net_l2, batch=batch, steps=p.net_steps, lr=p.net_lr,
                                 betas=p.net_betas, eps=p.net_eps, noise=p.net_noise, seed=ctx.seed + 100 + j,
                                 run_dir=ctx.persist("ckpt") / f"batch-{b}", fingerprint=ctx.fingerprint,
                                 ckpt_every=p.net_ckpt_every)
        c = an.compare(hdiag, r["mean_sqrt_vhat"], p.net_boot, ctx.seed + 200 + j)
        # weights from always-blank pixels see only the L2 term: H_ii = l2 exactly (the vertical
        # column at the left of the figure); the slope without them is reported too
        above = hdiag > p.net_l2 * (1 + 1e-6)
        fit_above = power_law_fit(hdiag[above], r["mean_sqrt_vhat"][above])
        per[str(b)] = {**c, "n_at_l2_floor": int((~above).sum()), "fit_above_floor": fit_above, "final_distance": r["final_distance"], "final_full_loss": r["final_full_loss"],
                       "window_steps": r["window_steps"]}
        roots.append(r["mean_sqrt_vhat"])
        ctx.log(f"batch {b}: Spearman {c['spearman']['estimate']:.3f}, slope {c['fit']['slope']:.3f}")
    np.savez(ctx.out("arrays"), hdiag=hdiag, batches=np.array([str(b) for b in p.net_batches]),
             mean_sqrt_vhat=np.array(roots), eig=eig, hdiag_se=hse)
    atomic_write_json(ctx.out("metrics"), {"net": {
        "n_params": int(theta_min.numel()), "n_train": p.net_n_train, "hidden": p.net_hidden, "steps": p.net_steps,
        "dataset": p.net_dataset, "hessian": p.net_hessian, "lbfgs": lb, "hessian_min_eig": lo,
        "hessian_max_eig": hi, "hdiag_min": float(hdiag.min()),
        "hdiag_rel_se_median": float(np.median(hse / np.maximum(np.abs(hdiag), 1e-300))), "per_batch": per, "device": ctx.device,
        "wall_s": time.perf_counter() - t0}})


def figures(ctx):
    from kexue.adam_hessian_figures import draw_all

    draw_all(ctx.inp("mc"), ctx.inp("quad"), ctx.inp("quad_arrays"), ctx.inp("linreg"), ctx.inp("net"),
             ctx.inp("net_arrays"), ctx.out("figures"))
