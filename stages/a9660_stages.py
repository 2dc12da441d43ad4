"""Stage functions of article 9660 (declared in stages/a9660_gradient_flow_wasserstein.py).

euclidean -> C1-C5 (GD vs flow, dissipation, steepest descent per norm, proximal and KL steps);
wasserstein_1d -> C6, C7, C10 (Fokker–Planck / Wasserstein flows on a grid) and C9 (Gaussian JKO);
particles -> C8 (Langevin / probability-flow particles against closed forms and the PDE);
figures -> the card's figures (a)-(f).
"""
from __future__ import annotations

import math

D = "data/9660"
# the card's mixture targets; q0 = N(-6, 1) for both
MIXTURE = {"weights": [0.5, 0.5], "means": [-1.5, 1.5], "sds": [1.0, 1.0]}
METASTABLE = {"weights": [0.3, 0.7], "means": [-2.0, 2.0], "sds": [0.5, 1.0]}
Q0_MEAN, Q0_VAR = -6.0, 1.0
# C10: the forward-KL mobility p/q needs q0 with tails at least as heavy as p's (see the claim's note)
FWD_Q0_MEAN, FWD_Q0_VAR = -3.0, 4.0
HIST_BINS = 160


def _r(v, d=6):
    return float(f"{float(v):.{d}g}")


def euclidean(ctx):
    import numpy as np

    from kexue import gradient_flow as gf
    from kexue.fits import convergence_order
    from kexue.io import atomic_write_json

    p = ctx.p
    rng = np.random.default_rng([ctx.seed, 9660])
    m, arr = {}, {}
    fns = {"quadratic": (gf.Quadratic((1.0, 10.0)), np.array([1.0, 1.0])), "logsumexp": (gf.lse_2d(), np.array([2.0, -1.5]))}

    # C1 / C2: GD against the flow on a fixed horizon; dissipation identity along RK45; GD monotone
    c1, c2 = {}, {}
    for name, (fn, x0) in fns.items():
        al = np.array(p.alphas_L) / fn.L
        err = [gf.gd_global_error(fn, x0, a, p.horizon) for a in al]
        fit = convergence_order(al, err)
        c1[name] = {"L": fn.L, "alpha": al.tolist(), "error": err, "order": fit["exponent"], "order_ci": fit["slope_ci"]}
        arr[f"c1_alpha_{name}"], arr[f"c1_err_{name}"] = al, np.array(err)
        mono = {f"{aL:g}/L": gf.gd_monotone(fn, x0, aL / fn.L, int(math.floor(p.mono_horizon * fn.L / aL)))
                for aL in sorted(set(p.alphas_L) | set(p.mono_alphas_L))}
        c2[name] = {"dissipation_rel_max": gf.dissipation_mismatch(fn, x0, p.horizon), "gd_strictly_decreasing": mono}
    m["c1"], m["c2"] = c1, c2
    q, x0 = fns["quadratic"]
    for aL in (0.1, 0.5, 1.5, 1.9):  # figure (a): GD iterates on the quadratic
        arr[f"fig_a_gd_{aL:g}"] = gf.gd(q, x0, aL / q.L, int(math.ceil(p.horizon * 3 * q.L / aL)))
    arr["fig_a_flow"] = q.flow(x0, np.linspace(0, 3 * p.horizon, 400))

    # C3: steepest descent per norm, 2-D brute force on the sphere and 5-D constrained solves
    M2 = np.array([[2.0, 0.6], [0.6, 1.0]])
    f2, x2 = gf.lse_2d(), np.array([0.3, -0.2])
    g2 = f2.grad(x2)
    c3 = {"2d": {}, "5d": {}, "eps": list(p.eps_values)}
    for nm, (sphere, pred) in gf.norms_2d(M2).items():
        ang, dirs = [], []
        for e in p.eps_values:
            d = gf.brute_force_2d(f2, x2, e, sphere, p.sphere_points)
            ang.append(gf.angle_deg(d, pred(g2)))
            dirs.append(d)
        entry = {"angle_deg": ang}
        if nm == "l1":
            entry["coord_match"] = [bool(np.argmax(np.abs(d)) == np.argmax(np.abs(g2))) for d in dirs]
        c3["2d"][nm] = entry
        pd = pred(g2)
        arr[f"fig_c_pred_{nm}"] = pd / (np.linalg.norm(pd) if nm in ("l2",) else 1.0)
        arr[f"fig_c_brute_{nm}"] = dirs[p.eps_values.index(1e-3)] if 1e-3 in p.eps_values else dirs[-1]
    arr["fig_c_grad"], arr["fig_c_M"] = g2, M2
    dim = 5
    f5, x5 = gf.lse_nd(dim, rng), rng.normal(size=dim)
    A = rng.normal(size=(dim, dim))
    M5 = A @ A.T / dim + np.eye(dim)
    g5 = f5.grad(x5)
    for nm in ("l2", "M", "linf", "l1"):
        ds = [gf.constrained_nd(f5, x5, e, nm, M5) for e in p.eps_values]
        entry = {"angle_deg": [gf.angle_deg(d, gf.predicted_nd(g5, nm, M5)) for d in ds]}
        if nm == "l1":
            entry["coord_match"] = [bool(np.argmax(np.abs(d)) == np.argmax(np.abs(g5))) for d in ds]
        c3["5d"][nm] = entry
    m["c3"] = c3

    # C4: proximal step vs GD, several starting points per function
    c4 = {}
    for name, (fn, x0) in fns.items():
        al = np.array(p.alphas_L) / fn.L
        big = np.array(p.prox_monotone_alphas_L) / fn.L
        orders, f_ok, n_trials = [], 0, 0
        starts = [x0] + [rng.normal(scale=2.0, size=2) for _ in range(p.prox_trials - 1)]
        for i, xs in enumerate(starts):
            gaps = [float(np.linalg.norm(gf.prox_step(fn, xs, a) - (xs - a * fn.grad(xs)))) for a in al]
            orders.append(convergence_order(al, gaps)["exponent"])
            if i == 0:
                arr[f"c4_gap_{name}"], arr[f"c4_alpha_{name}"] = np.array(gaps), al
            for a in np.concatenate([al, big]):
                n_trials += 1
                f_ok += bool(fn.f(gf.prox_step(fn, xs, a)) <= fn.f(xs))
        c4[name] = {"orders": orders, "order_min": min(orders), "order_max": max(orders),
                    "f_not_increased": f_ok, "trials": n_trials}
    m["c4"] = c4

    # C5: KL-penalised step vs natural gradient in (mu, log sigma)
    xt = np.array([p.c5_mu, math.log(p.c5_sigma)])
    al = np.geomspace(p.c5_alpha_lo, p.c5_alpha_hi, p.c5_alpha_n)
    gaps, rel = [], []
    for a in al:
        nat = gf.natural_step(xt, a)
        gap = float(np.linalg.norm(gf.kl_step(xt, a) - nat))
        gaps.append(gap)
        rel.append(gap / float(np.linalg.norm(nat - xt)))
    fit = convergence_order(al, gaps)
    g_fd, _ = gf.kl_derivatives_fd(xt, h=1e-5)
    _, H_fd = gf.kl_derivatives_fd(xt, h=1e-4)
    F = gf.fisher_gauss(xt)
    m["c5"] = {"x_t": xt.tolist(), "alpha": al.tolist(), "abs_gap": gaps, "rel_gap": rel,
               "rel_over_alpha": [r / a for r, a in zip(rel, al)], "order": fit["exponent"], "order_ci": fit["slope_ci"],
               "grad_analytic": float(np.max(np.abs(gf.gauss_kl_grad(xt, xt)))),
               "grad_fd": float(np.max(np.abs(g_fd))),
               "hess_rel_err": float(np.max(np.abs(H_fd - F)) / np.max(np.abs(F)))}
    arr["c5_alpha"], arr["c5_gap"] = al, np.array(gaps)
    atomic_write_json(ctx.out("metrics"), m)
    np.savez(ctx.out("arrays"), **arr)
    ctx.log(f"C1 orders {[round(v['order'], 3) for v in c1.values()]}, C5 order {fit['exponent']:.3f}")


def wasserstein_1d(ctx):
    import time

    import numpy as np

    from kexue import fokker_planck as fpk
    from kexue import gradient_flow as gf
    from kexue.fits import convergence_order
    from kexue.io import atomic_write_json

    p = ctx.p
    edges = np.linspace(p.x_lo, p.x_hi, p.cells + 1)
    x = 0.5 * (edges[1:] + edges[:-1])
    dx = float(x[1] - x[0])
    mu, s2 = p.gauss_mu, p.gauss_sd ** 2
    m0, v0 = p.gauss_m0, p.gauss_sd0 ** 2
    snap = sorted(set([0.0, *p.snapshot_times, *p.particle_times, p.w1_time, p.t_end]))
    targets = {"gaussian": fpk.gaussian_log_density(x, mu, s2),
               "mixture": fpk.mixture_log_density(x, **MIXTURE),
               "metastable": fpk.mixture_log_density(x, **METASTABLE)}
    q0s = {"gaussian": fpk.density_from_log(fpk.gaussian_log_density(x, m0, v0), dx),
           "far": fpk.density_from_log(fpk.gaussian_log_density(x, Q0_MEAN, Q0_VAR), dx)}
    runs = {"gaussian": ("gaussian", "gaussian", p.t_end), "gaussian_far": ("gaussian", "far", p.t_end),
            "mixture": ("mixture", "far", p.t_end), "metastable": ("metastable", "far", p.meta_t_end)}
    m, arr = {"grid": {"cells": p.cells, "dx": dx, "dt": p.dt}}, {"x": x}
    for name, (tg, q0, T) in runs.items():
        t0 = time.perf_counter()
        solver = fpk.FokkerPlanck1D(x, targets[tg])
        res = solver.run(q0s[q0], p.dt, T, snapshot_times=[s for s in snap if s <= T])
        wall = time.perf_counter() - t0
        kl = res["kl"]
        dkl = np.gradient(kl, p.dt)  # central differences inside, one-sided at the ends
        entry = {"wall_s": wall, "kl_0": kl[0], "kl_T": kl[-1], "T": T, "max_kl_increase": float(np.max(np.diff(kl))),
                 "mass_err": float(np.max(np.abs(res["mass"] - 1))), "min_q": float(res["min_q"].min()),
                 "fixed_point_residual": float(np.max(np.abs(solver.rhs(solver.p))) / np.max(solver.p))}
        sel = (res["t"] >= 10 * p.dt) & (kl > 1e-4)
        sel[-1] = False  # one-sided difference at the last step
        rel = np.abs(dkl + res["fisher"]) / res["fisher"]
        entry["dissipation_rel_max"] = float(rel[sel].max()) if sel.any() else None
        entry["dissipation_points"] = int(sel.sum())
        if tg == "gaussian":
            mt, vt = gf.gauss_flow(res["t"], mu, s2, *( (m0, v0) if q0 == "gaussian" else (Q0_MEAN, Q0_VAR)))
            klc = gf.gauss_kl_to_target(mt, vt, mu, s2)
            entry["closed_form_max_abs_err"] = float(np.max(np.abs(kl - klc)))
            arr[f"{name}_kl_closed"] = klc
        m[name] = entry
        arr[f"{name}_t"], arr[f"{name}_kl"], arr[f"{name}_fisher"] = res["t"], kl, res["fisher"]
        arr[f"{name}_p"] = solver.p
        for s, q in res["snapshots"].items():
            arr[f"{name}_snap_{s:g}"] = q
        ctx.log(f"{name}: KL {kl[0]:.3g} -> {kl[-1]:.3g} at T = {T}, {wall:.2f}s")

    # C10: forward-KL flow (mobility p/q) towards the mixture
    t0 = time.perf_counter()
    solver = fpk.FokkerPlanck1D(x, targets["mixture"])
    q0 = fpk.density_from_log(fpk.gaussian_log_density(x, FWD_Q0_MEAN, FWD_Q0_VAR), dx)
    res = solver.run(q0, p.dt, p.fwd_t_end, flow="forward_kl", snapshot_times=[0.0, 1.0, p.fwd_t_end])
    kf = res["kl_fwd"]
    m["forward"] = {"wall_s": time.perf_counter() - t0, "kl_fwd_0": kf[0], "kl_fwd_T": kf[-1], "T": p.fwd_t_end,
                    "max_increase": float(np.max(np.diff(kf))), "mass_err": float(np.max(np.abs(res["mass"] - 1))),
                    "q0": [FWD_Q0_MEAN, FWD_Q0_VAR]}
    arr["forward_t"], arr["forward_kl_fwd"] = res["t"], kf

    # C9: Gaussian-restricted JKO against the closed-form flow
    errs, devs = [], []
    for a in p.jko_alphas:
        t, mk, sdk, dev = gf.jko_path(a, p.jko_horizon, mu, s2, m0, v0)
        mt, vt = gf.gauss_flow(p.jko_horizon, mu, s2, m0, v0)
        errs.append(float(math.hypot(mk[-1] - mt, sdk[-1] - math.sqrt(vt))))
        devs.append(dev)
        arr[f"jko_{a:g}_t"], arr[f"jko_{a:g}_m"], arr[f"jko_{a:g}_sd"] = t, mk, sdk
    fit = convergence_order(p.jko_alphas, errs)
    m["jko"] = {"alpha": list(p.jko_alphas), "error": errs, "order": fit["exponent"], "order_ci": fit["slope_ci"],
                "max_dev_from_implicit_euler": max(devs), "T": p.jko_horizon}
    atomic_write_json(ctx.out("metrics"), {"wflow": m})
    np.savez(ctx.out("arrays"), **arr)


def particles(ctx):
    import numpy as np
    from scipy.stats import wasserstein_distance

    from kexue import fokker_planck as fpk
    from kexue import gradient_flow as gf
    from kexue import langevin
    from kexue.io import atomic_write_json
    from kexue.montecarlo import bootstrap_ci, mean_ci

    p = ctx.p
    pde = np.load(ctx.inp("pde"))
    x = pde["x"]
    dx = float(x[1] - x[0])
    mu, s2 = p.gauss_mu, p.gauss_sd ** 2
    m0, v0 = p.gauss_m0, p.gauss_sd0 ** 2
    edges = np.linspace(p.x_lo, p.x_hi, HIST_BINS + 1)
    m, arr = {}, {"hist_edges": edges}

    def moment_checks(samples, t):
        mt, vt = gf.gauss_flow(t, mu, s2, m0, v0)
        mean = mean_ci(samples)
        var = mean_ci((samples - mt) ** 2)  # E (x - m_t)^2 = v_t: a plain mean with a t interval
        return {"t": t, "mean": mean, "mean_true": float(mt), "mean_z": (mean["mean"] - mt) / mean["se"],
                "var": var, "var_true": float(vt), "var_z": (var["mean"] - vt) / var["se"]}

    def w1(samples, q):
        return float(wasserstein_distance(samples, x, v_weights=q))

    # Gaussian target: exact OU transition and the probability-flow ODE, same q0 sample
    rng = np.random.default_rng([ctx.seed, 9660, 1])
    x0 = m0 + math.sqrt(v0) * rng.standard_normal(p.n_particles)
    sde = langevin.ou_exact(x0, p.particle_times, mu, s2, rng)
    ode = langevin.gaussian_flow_ode(x0, p.particle_times, mu, s2, m0, v0)
    m["gaussian"] = {"n": p.n_particles, "ou": [moment_checks(sde[t], t) for t in p.particle_times],
                     "ode": [moment_checks(ode[t], t) for t in p.particle_times],
                     "w1_ou_vs_pde": {f"{t:g}": w1(sde[t], pde[f"gaussian_snap_{t:g}"]) for t in p.particle_times}}
    for t in p.particle_times:
        arr[f"gauss_ou_hist_{t:g}"] = np.histogram(sde[t], edges, density=True)[0]
        arr[f"gauss_ode_hist_{t:g}"] = np.histogram(ode[t], edges, density=True)[0]

    # mixture target: ULA from q0 = N(-6, 1), W1 against the PDE at w1_time (bootstrap interval)
    rng = np.random.default_rng([ctx.seed, 9660, 2])
    x0 = Q0_MEAN + math.sqrt(Q0_VAR) * rng.standard_normal(p.n_particles)
    times = sorted(set([*p.snapshot_times, p.w1_time]))
    out = langevin.ula(x0, times, lambda z: fpk.mixture_score(z, **MIXTURE), p.ula_h, rng)
    q_pde = pde[f"mixture_snap_{p.w1_time:g}"]
    xs = out[p.w1_time]

    def w1_stat(a, axis=0):  # bootstrap_ci evaluates resamples row-wise
        a = np.asarray(a)
        return w1(a, q_pde) if a.ndim == 1 else np.array([w1(r, q_pde) for r in a])

    boot_n = min(p.n_particles, p.w1_boot_subsample)  # resample a subsample when n is huge (full)
    est = bootstrap_ci(xs[:boot_n], w1_stat, n_boot=p.n_boot, seed=ctx.seed)
    # noise floor: W1 of exact n-samples of the PDE density itself (inverse CDF of the piecewise-constant
    # density), i.e. what W1 would be with no ULA bias at all; a percentile bootstrap of a distance is biased up
    cdf = np.concatenate([[0.0], np.cumsum(q_pde) * dx])
    cdf /= cdf[-1]
    edges_pde = np.concatenate([x - dx / 2, [x[-1] + dx / 2]])
    rng_null = np.random.default_rng([ctx.seed, 9660, 3])
    null = [w1(np.interp(rng_null.random(p.n_particles), cdf, edges_pde), q_pde) for _ in range(p.n_null)]
    m_pde, v_pde = fpk.moments(x, q_pde, dx)
    m["mixture"] = {"n": p.n_particles, "h": p.ula_h, "T": p.w1_time, "w1": w1(xs, q_pde), "w1_boot": est,
                    "w1_exact_sample_floor": mean_ci(null),
                    "mean": mean_ci(xs), "mean_pde": m_pde, "var_pde": v_pde,
                    "w1_by_time": {f"{t:g}": w1(out[t], pde[f"mixture_snap_{t:g}"]) for t in times if t > 0}}
    for t in times:
        arr[f"mix_ula_hist_{t:g}"] = np.histogram(out[t], edges, density=True)[0]
    atomic_write_json(ctx.out("metrics"), {"particles": m})
    np.savez(ctx.out("arrays"), **arr)
    ctx.log(f"W1(ULA, PDE) at T = {p.w1_time}: {m['mixture']['w1']:.4f}")


def figures(ctx):
    from kexue.gradient_flow_figures import draw_all

    draw_all(ctx.inp("euclid"), ctx.inp("pde"), ctx.inp("particles"), ctx.inp("fp2d"), ctx.out("figures"),
             snapshot_times=ctx.p.snapshot_times, particle_times=ctx.p.particle_times,
             gauss=(ctx.p.gauss_mu, ctx.p.gauss_sd ** 2, ctx.p.gauss_m0, ctx.p.gauss_sd0 ** 2))


# 2-D target of the fp2d stage: a correlated two-component mixture, q0 = N((-4, -4), I)
MIX2D = {"weights": [0.4, 0.6], "means": [[-1.5, -0.5], [1.5, 1.0]],
         "covs": [[[1.0, 0.5], [0.5, 1.0]], [[0.6, -0.2], [-0.2, 0.8]]]}
Q0_2D = [-4.0, -4.0]


def fp2d(ctx):
    """2-D Fokker–Planck (Scharfetter–Gummel, backward Euler, one sparse LU) with ULA particles;
    skipped when fp2d_cells = 0 (smoke), the card's 200 x 200 at `full`."""
    import time

    import numpy as np
    from scipy.stats import wasserstein_distance

    from kexue import fokker_planck as fpk
    from kexue import langevin
    from kexue.io import atomic_write_json
    from kexue.montecarlo import mean_ci

    p = ctx.p
    if p.fp2d_cells == 0:
        atomic_write_json(ctx.out("metrics"), {"fp2d": {"measured": False}})
        np.savez(ctx.out("arrays"), measured=np.array(False))
        ctx.log("skipped (fp2d_cells = 0)")
        return
    e = np.linspace(p.fp2d_lo, p.fp2d_hi, p.fp2d_cells + 1)
    x = 0.5 * (e[1:] + e[:-1])
    dx = float(x[1] - x[0])
    X, Y = np.meshgrid(x, x, indexing="ij")
    P = np.stack([X, Y], axis=-1)
    log_p, _ = langevin.gaussian_mixture_nd(P, **MIX2D)
    log_q0, _ = langevin.gaussian_mixture_nd(P, [1.0], [Q0_2D], [np.eye(2)])
    t0 = time.perf_counter()
    fp = fpk.FokkerPlanck2D(x, x, log_p)
    res = fp.run(fpk.density_from_log(log_q0, fp.da), p.dt, p.fp2d_t_end, snapshot_times=[p.fp2d_particle_time])
    wall_pde = time.perf_counter() - t0
    kl = res["kl"]
    m = {"measured": True, "cells": p.fp2d_cells, "dt": p.dt, "T": p.fp2d_t_end, "wall_pde_s": wall_pde,
         "kl_0": kl[0], "kl_T": kl[-1], "max_kl_increase": float(np.max(np.diff(kl))),
         "mass_err": float(np.max(np.abs(res["mass"] - 1))),
         "fixed_point_residual": float(np.max(np.abs(fp.A @ fp.p.ravel())) / np.max(fp.p))}
    # ULA particles to fp2d_particle_time; compare marginals (W1) and means with the PDE snapshot
    rng = np.random.default_rng([ctx.seed, 9660, 4])
    z = np.array(Q0_2D) + rng.standard_normal((p.fp2d_particles, 2))
    n_steps = int(round(p.fp2d_particle_time / p.fp2d_ula_h))
    c = math.sqrt(2 * p.fp2d_ula_h)
    t0 = time.perf_counter()
    for _ in range(n_steps):
        z += p.fp2d_ula_h * langevin.gaussian_mixture_nd(z, **MIX2D)[1] + c * rng.standard_normal(z.shape)
    q = res["snapshots"][p.fp2d_particle_time]
    marg = {"x": q.sum(axis=1) * dx, "y": q.sum(axis=0) * dx}
    m["particles"] = {"n": p.fp2d_particles, "h": p.fp2d_ula_h, "t": p.fp2d_particle_time,
                      "wall_s": time.perf_counter() - t0,
                      "w1_marginal": {k: float(wasserstein_distance(z[:, i], x, v_weights=marg[k]))
                                      for i, k in enumerate(("x", "y"))},
                      "mean": {k: mean_ci(z[:, i]) for i, k in enumerate(("x", "y"))},
                      "mean_pde": {k: float(np.sum(x * marg[k]) * dx) for k in ("x", "y")}}
    atomic_write_json(ctx.out("metrics"), {"fp2d": m})
    H = np.histogram2d(z[:, 0], z[:, 1], bins=[e, e], density=True)[0]
    np.savez(ctx.out("arrays"), measured=np.array(True), x=x, t=res["t"], kl=kl, q=q, p=fp.p, hist=H,
             particles=z[:2000])
    ctx.log(f"2-D: KL {kl[0]:.3g} -> {kl[-1]:.3g} at T = {p.fp2d_t_end} ({wall_pde:.1f}s); particles "
            f"{m['particles']['wall_s']:.1f}s")
