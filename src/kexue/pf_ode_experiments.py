"""Article 9228's experiments, one function per stage; each returns (metrics dict, arrays for the figures).

* exact_checks: C1 (Fokker-Planck residuals), C2 / C8 (forward family from data, KS vs exact p_t), C3 / C8
  (reverse family from N(0, I) with the exact score: KS on G1) and both negative controls.
* ode_tools:    C4 (encode/decode round trips, G3 closed-form map, encodings vs N(0, 1)), C5 with the exact
  score (ODE log-likelihood), C6 (VP relations, frozen-eps DDIM step, DDIM -> RK45 convergence order).
* solver_sweep: everything on G2 with the exact score: C3's D for the reverse family and C7's D vs NFE for
  Euler-ODE, Heun-ODE, EM-SDE, DDIM on uniform and EDM grids (the family's sigma = g and sigma = 0 runs ARE
  EM-SDE and Euler-ODE at NFE = sde_steps, so those two rows reuse them instead of recomputing).
* learned_score: where learned_steps > 0, an eps-model trained on G2: C5's learned row and learned sweep rows.
`p` is the stage's parameter view (attribute access); seeds are seed + k, one k per random stream.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
from scipy.special import ndtr

from kexue import pf_ode_checks as C
from kexue.diffusion import samplers as P
from kexue.diffusion.schedules import time_grid
from kexue.diffusion_families import forward_family, pf_ode_solve, pf_ode_steps, reverse_family
from kexue.errors import KexueError
from kexue.fits import power_law_fit
from kexue.montecarlo import mean_ci

F64 = torch.float64
HIST_BINS = np.linspace(-4.5, 4.5, 91)


def _gen(seed: int, k: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed) + k)


def _key(v: float) -> str:
    return f"{v:g}"


def _hist(x) -> np.ndarray:
    return np.histogram(np.asarray(x, np.float64).ravel(), HIST_BINS)[0]


def schedule_of(p):
    return C.vp_sde(p.beta_min, p.beta_max, p.t_min)


# ====================================================================== stage 1
def exact_checks(p, seed: int, log=print):
    t0 = time.perf_counter()
    v = schedule_of(p)
    eps_t = v.t_min
    m, arr = {}, {"hist_bins": HIST_BINS, "ratios": np.array(p.sigma_ratios), "snap_times": np.array(p.snapshot_times)}
    m["c1"] = C.fokker_planck_check(v, p.fp_grid_x, p.fp_grid_t, h=p.fp_h)
    log(f"C1 FP residual: analytic {m['c1']['analytic']:.2e}, autograd {m['c1']['autograd']:.2e}, "
        f"FD {m['c1']['finite_difference']:.2e}")

    # --- C2 / C8: forward family from exact data, KS against p_t at the snapshot times
    mix = C.g1(v)
    n1, steps = p.particles_1d, p.sde_steps
    ts_fwd = np.linspace(0.0, 1.0, steps + 1)
    x0 = mix.sample(n1, t=0.0, generator=_gen(seed, 1))
    cdf = {t: (lambda z, t=t: C.mixture_1d_cdf(z, t, v)) for t in p.snapshot_times}
    fwd = {}
    runs = [(_key(lam), lam, True) for lam in p.sigma_ratios] + [("control", p.control_ratio, False)]
    for j, (name, lam, corr) in enumerate(runs):
        _, rec, _ = forward_family(mix.score, x0, v, ts_fwd, lam, correction=corr, generator=_gen(seed, 10 + j),
                                   record=p.snapshot_times)
        fwd[name] = {_key(t): C.ks(rec[t][:, 0].numpy(), cdf[t]) for t in p.snapshot_times}
        for i, t in enumerate(p.snapshot_times):
            arr[f"fwd_hist_{name}_{i}"] = _hist(rec[t])
        log(f"forward {name}: KS " + ", ".join(f"t={k}: {r['ks']:.4f}" for k, r in fwd[name].items()))
    for i, t in enumerate(p.snapshot_times):
        arr[f"pdf_snap_{i}"] = C.mixture_1d_pdf(0.5 * (HIST_BINS[1:] + HIST_BINS[:-1]), t, v)
    m["c2"] = {"n": n1, "steps": steps, "grid": "uniform in t on [0, 1]", "forward": fwd,
               "control_ratio": p.control_ratio, "control": fwd["control"]}

    # --- C3 / C8: reverse family from N(0, 1) with the exact score, KS against p_eps (G1)
    ts_rev = time_grid(v, steps, "uniform")
    xT = torch.randn(n1, 1, generator=_gen(seed, 2), dtype=F64)
    cdf_eps = lambda z: C.mixture_1d_cdf(z, eps_t, v)  # noqa: E731
    rev = {}
    for j, (name, lam, corr) in enumerate(runs):
        if corr:
            x, _ = P.reverse_sde(mix, xT, v, ts=ts_rev, lam=lam, generator=_gen(seed, 30 + j))
        else:  # the control: ODE drift (lam = 0) with SDE noise (lam = 1)
            x, _ = reverse_family(mix, xT, v, ts_rev, drift_lam=0.0, noise_lam=1.0, generator=_gen(seed, 30 + j))
        rev[name] = C.ks(x[:, 0].numpy(), cdf_eps)
        arr[f"rev_hist_{name}"] = _hist(x)
        log(f"reverse {name}: KS {rev[name]['ks']:.4f}")
    arr["pdf_eps"] = C.mixture_1d_pdf(0.5 * (HIST_BINS[1:] + HIST_BINS[:-1]), eps_t, v)

    m["c3"] = {"n_1d": n1, "steps": steps, "t_end": eps_t, "reverse_ks": rev, "control": rev["control"],
               "control_kind": "drift of the ODE (lam = 0) with the noise of lam = 1"}
    m["c8"] = {"ratio": 1.5, "forward": fwd.get("1.5"), "reverse": rev.get("1.5")}

    # trajectories from the same starting noise: SDE (lam = 1) vs ODE (lam = 0), G1
    xs = torch.randn(p.trajectories, 1, generator=_gen(seed, 5), dtype=F64)
    for name, lam in (("sde", 1.0), ("ode", 0.0)):
        path = [xs[:, 0].numpy().copy()]
        P.reverse_sde(mix, xs, v, ts=ts_rev, lam=lam, generator=_gen(seed, 6),
                      callback=lambda s, x: path.append(x[:, 0].numpy().copy()))
        arr[f"traj_{name}"] = np.stack(path)
    arr["traj_t"] = np.array(ts_rev)
    gt, gx = np.linspace(eps_t, 1.0, 120), np.linspace(-4.5, 4.5, 181)
    arr["dens_t"], arr["dens_x"] = gt, gx
    arr["dens"] = np.stack([C.mixture_1d_pdf(gx, t, v) for t in gt], 1)  # (x, t)
    m["timing_exact_checks"] = {"wall_s": time.perf_counter() - t0}
    return m, arr


# ====================================================================== stage 2
def ode_tools(p, seed: int, log=print):
    t0 = time.perf_counter()
    v = schedule_of(p)
    eps_t = v.t_min
    mix1, mix2, gauss = C.g1(v), C.g2(v), C.g3(v)
    m, arr = {}, {}
    tol = p.rk45_rtol

    # --- C4: encode (t_min -> 1) and decode (1 -> t_min) with RK45, atol = rtol; on G1 also for every rtol of
    # the sweep (the card's rtol is one of them, run once)
    def round_trip(mix, x, r):
        z, ie = pf_ode_solve(mix, x, v, eps_t, 1.0, rtol=r, atol=r)
        xr, idec = pf_ode_solve(mix, z, v, 1.0, eps_t, rtol=r, atol=r)
        return {"rtol": r, "max_err": float((xr - x).abs().max()), "nfe_encode": ie["nfe"], "nfe_decode": idec["nfe"],
                "nfe": ie["nfe"] + idec["nfe"]}

    x = mix1.sample(p.recon_points, t=eps_t, generator=_gen(seed, 1))
    sweep = [round_trip(mix1, x, r) for r in sorted(set(p.rtol_sweep) | {tol}, reverse=True)]
    rt = {"g1": next(r for r in sweep if r["rtol"] == tol),
          "g2": round_trip(mix2, mix2.sample(p.recon_points, t=eps_t, generator=_gen(seed, 2)), tol)}
    fixed = []
    for steps in p.roundtrip_steps:
        grid = np.linspace(eps_t, 1.0, steps + 1)
        for method in ("euler", "heun"):
            z, ie = pf_ode_steps(mix1, x, v, grid, method)
            xr, idec = pf_ode_steps(mix1, z, v, grid[::-1], method)
            fixed.append({"method": method, "steps": steps, "nfe": ie["nfe"] + idec["nfe"],
                          "max_err": float((xr - x).abs().max())})
    log(f"C4 round trip RK45 rtol {tol:g}: G1 {rt['g1']['max_err']:.2e}, G2 {rt['g2']['max_err']:.2e}")

    xg = gauss.sample(p.recon_points, t=1.0, generator=_gen(seed, 4))
    dec, _ = pf_ode_solve(gauss, xg, v, 1.0, eps_t, rtol=tol, atol=tol)
    xe = gauss.sample(p.recon_points, t=eps_t, generator=_gen(seed, 5))
    enc, _ = pf_ode_solve(gauss, xe, v, eps_t, 1.0, rtol=tol, atol=tol)
    g3 = {"decode_err": float(np.abs(dec.numpy() - C.g3_map(xg.numpy(), 1.0, eps_t, v)).max()),
          "encode_err": float(np.abs(enc.numpy() - C.g3_map(xe.numpy(), eps_t, 1.0, v)).max()),
          "card_formula_vs_library_flow_map": float(np.abs(
              C.g3_to_data(xg.numpy(), 1.0, v) - gauss.flow_map(xg, 1.0, 0.0).numpy()).max())}
    g3["max_err"] = max(g3["decode_err"], g3["encode_err"])

    xk = mix1.sample(p.encode_points, t=eps_t, generator=_gen(seed, 6))
    zk, ik = pf_ode_solve(mix1, xk, v, eps_t, 1.0, rtol=tol, atol=tol)
    enc_ks = C.ks(zk[:, 0].numpy(), ndtr)
    enc_ks_p1 = C.ks(zk[:, 0].numpy(), lambda u: C.mixture_1d_cdf(u, 1.0, v))
    arr["enc_hist"] = _hist(zk)
    arr["hist_bins"] = HIST_BINS
    m["c4"] = {"rtol": tol, "atol": tol, "points": p.recon_points, "roundtrip": rt,
               "roundtrip_max_err": max(r["max_err"] for r in rt.values()), "rtol_sweep": sweep,
               "fixed_step": fixed, "g3": g3, "encode_ks_normal": enc_ks, "encode_ks_exact_p1": enc_ks_p1,
               "encode_nfe": ik["nfe"]}
    t4 = time.perf_counter() - t0
    log(f"C4 G3 map err {g3['max_err']:.2e}; encodings KS vs N(0,1) {enc_ks['ks']:.4f} (p {enc_ks['p_value']:.3f})")

    # --- C5 (exact score): log p_eps by the ODE and the divergence vs the true log-density
    c5 = {}
    for k, (name, mix) in enumerate((("g1", mix1), ("g2", mix2))):
        x = mix.sample(p.lik_points, t=eps_t, generator=_gen(seed, 7 + k))
        lp, info = P.pf_ode_log_likelihood(mix, x, v, prior_logp=lambda z, mix=mix: mix.log_prob(z, 1.0),
                                           rtol=p.lik_rtol, atol=p.lik_rtol)
        true = mix.log_prob(x, eps_t)
        d = x.shape[1]
        xe_ = info["x_end"].reshape(len(x), d)
        lp_std = lp - info["logp_end"] + (-0.5 * (xe_ ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi))
        err = (lp - true).abs()
        c5[name] = {"n": int(len(x)), "mean_abs_err": float(err.mean()), "max_abs_err": float(err.max()),
                    "mean_abs_err_std_normal_prior": float((lp_std - true).abs().mean()), "nfe": info["nfe"],
                    "mean_nll_true": float(-true.mean()), "mean_nll_ode": float(-lp.mean())}
        arr[f"lik_{name}_true"], arr[f"lik_{name}_ode"] = true.numpy(), lp.numpy()
    m["c5"] = {"rtol": p.lik_rtol, "prior": "exact log p_1", **c5}
    log(f"C5 exact: mean |err| G1 {c5['g1']['mean_abs_err']:.2e}, G2 {c5['g2']['mean_abs_err']:.2e}")

    t5 = time.perf_counter() - t0 - t4
    # --- C6: relations, frozen-eps step, DDIM -> RK45 with first-order error
    rel = C.vp_relations(v, p.relation_points, mix2, _gen(seed, 9))
    grid10 = time_grid(v, 10, "uniform")
    pairs = list(zip(grid10[:-1], grid10[1:])) + [(1.0, eps_t), (0.5, 0.49)]
    step = C.frozen_eps_step(v, pairs, _gen(seed, 10))
    xT = torch.randn(p.ddim_points, 2, generator=_gen(seed, 11), dtype=F64)
    ref, iref = P.pf_ode_adaptive(mix2, xT, v, rtol=p.ddim_ref_rtol, atol=p.ddim_ref_rtol)
    errs = []
    for n in p.ddim_steps:
        x, _ = P.ddim(mix2, xT, v, n)
        errs.append({"steps": n, "rms_err": float(((x - ref) ** 2).sum(1).mean().sqrt()),
                     "max_err": float((x - ref).abs().max())})
    fit = power_law_fit([e["steps"] for e in errs], [e["rms_err"] for e in errs])
    m["c6"] = {"relations": rel, "frozen_step": step, "ddim": errs, "ddim_fit": fit, "ddim_points": p.ddim_points,
               "ref_rtol": p.ddim_ref_rtol, "ref_nfe": iref["nfe"]}
    log(f"C6 relations {rel['max']:.1e}, step {step['max_err']:.1e}, DDIM slope {fit['slope']:.3f}")
    arr["ddim_steps"] = np.array(p.ddim_steps, np.float64)
    arr["ddim_rms"] = np.array([e["rms_err"] for e in errs])
    m["timing_ode_tools"] = {"c4_s": t4, "c5_s": t5, "c6_s": time.perf_counter() - t0 - t4 - t5}
    return m, arr


# ====================================================================== stage 3
def _run_solver(model, solver, grid, nfe, xT, v, gen):
    if solver == "euler":
        return P.pf_ode(model, xT, v, nfe, method="euler", grid=grid)
    if solver == "heun":
        return P.pf_ode(model, xT, v, max(1, nfe // 2), method="heun", grid=grid)
    if solver == "ddim":
        return P.ddim(model, xT, v, nfe, grid=grid)
    return P.reverse_sde(model, xT, v, nfe, lam=1.0, generator=gen, grid=grid)


def sweep(model, mix, v, xT, ref, data_ref, nfes, plan, seed, k0, log=print, label="exact", reuse=None):
    """D (with its interval) and per-mode spread ratios for each (solver, grid, NFE) in `plan`;
    `reuse` maps (solver, grid, NFE) to samples already drawn from the same x_T by the same computation."""
    centres = C.g2_centres() * float(v.abar(v.t_min))
    rows, samples = [], {}
    for j, (solver, grid, max_nfe) in enumerate(plan):
        for nfe in nfes:
            if nfe > max_nfe:
                continue
            key = (solver, grid, nfe)
            if reuse and key in reuse:
                x, info = reuse[key], {"nfe": nfe}
            else:
                x, info = _run_solver(model, solver, grid, nfe, xT, v, _gen(seed, k0 + 100 * j + nfe))
            d = C.density_gap(mix, x, v.t_min, ref)
            rows.append({"score": label, "solver": solver, "grid": grid, "nfe_target": nfe, "nfe": info["nfe"],
                         "D": d, "modes": C.mode_std_ratio(x.numpy(), data_ref, centres),
                         "reused_family_run": bool(reuse and key in reuse)})
            if nfe == 25 and grid == "uniform":
                samples[solver] = x.numpy()
            log(f"{label} {solver}/{grid} NFE {info['nfe']}: D {d['estimate']:.4f}")
    return rows, samples


def _g2_setup(p, seed):
    """What the two G2 stages share (same seeds: common random numbers): E log p_t_min, exact draws, x_T."""
    v = schedule_of(p)
    mix = C.g2(v)
    ref = C.reference_log_density(mix, v.t_min, p.ref_samples, _gen(seed, 1))
    data_ref = mix.sample(p.particles_2d, t=v.t_min, generator=_gen(seed, 2)).numpy()
    xT = torch.randn(p.particles_2d, 2, generator=_gen(seed, 3), dtype=F64)
    return v, mix, ref, data_ref, xT


def solver_sweep(p, seed: int, log=print):
    t0 = time.perf_counter()
    v, mix, ref, data_ref, xT = _g2_setup(p, seed)
    centres = C.g2_centres() * float(v.abar(v.t_min))
    # C3 on G2: the reverse family with sigma/g in d_ratios, sde_steps uniform steps
    ts = time_grid(v, p.sde_steps, "uniform")
    fam, reuse = {}, {}
    for j, lam in enumerate(p.d_ratios):
        x, _ = P.reverse_sde(mix, xT, v, ts=ts, lam=lam, generator=_gen(seed, 50 + j))
        fam[_key(lam)] = {"D": C.density_gap(mix, x, v.t_min, ref),
                          "modes": C.mode_std_ratio(x.numpy(), data_ref, centres)}
        if lam == 1.0:
            reuse[("sde", "uniform", p.sde_steps)] = x
        if lam == 0.0:  # reverse_sde with lam = 0 is the Euler step of the PF-ODE in t on the same grid
            reuse[("euler", "uniform", p.sde_steps)] = x
        log(f"C3 G2 sigma/g = {lam:g}: D {fam[_key(lam)]['D']['estimate']:.4f}")
    t_c3 = time.perf_counter() - t0
    m = {"c3_2d": {"n": p.particles_2d, "steps": p.sde_steps, "ref_log_density": ref, "per_ratio": fam}}
    plan = [("euler", "uniform", 10 ** 9), ("heun", "uniform", 10 ** 9), ("sde", "uniform", 10 ** 9),
            ("ddim", "uniform", p.variant_max_nfe), ("euler", "edm", p.variant_max_nfe),
            ("heun", "edm", p.variant_max_nfe), ("sde", "edm", p.variant_max_nfe)]
    rows, samples = sweep(mix, mix, v, xT, ref, data_ref, p.nfes, plan, seed, 1000, log, reuse=reuse)
    D = {(r["solver"], r["grid"], r["nfe_target"]): r["D"] for r in rows}
    m["c7"] = {"n": p.particles_2d, "nfes": p.nfes, "ref_log_density": ref, "rows": rows,
               "euler_ode_25": D.get(("euler", "uniform", 25)), "em_sde_25": D.get(("sde", "uniform", 25)),
               "euler_ode_50": D.get(("euler", "uniform", 50)), "grid": "uniform in t on [t_min, 1]; edm variant",
               "wall_s": {"c3": t_c3, "sweep": time.perf_counter() - t0 - t_c3}}
    arr = {"data_2d": data_ref[:4000], **{f"samples_{k}": s[:4000] for k, s in samples.items()}}
    return m, arr


def learned_score(p, seed: int, run_dir, fingerprint: str, device: str, bf16: bool, log=print):
    if p.learned_steps < 1:
        raise KexueError(f"learned_score: learned_steps = {p.learned_steps}; the stage skips the call when it is 0")
    from kexue.diffusion.training import train_eps_model
    from kexue.nn.mlp_denoiser import MLPDenoiser

    t0 = time.perf_counter()
    v, mix, ref, data_ref, xT = _g2_setup(p, seed)
    X = mix.sample(p.learned_train_points, t=0.0, generator=_gen(seed, 4)).float()
    net = MLPDenoiser(dim=2, hidden=p.learned_hidden, blocks=p.learned_blocks, t_dim=p.learned_t_dim,
                      t_scale=1000.0, norm="none")
    res = train_eps_model(net, X, v, steps=p.learned_steps, batch=p.learned_batch, lr=p.learned_lr, seed=seed,
                          run_dir=run_dir, fingerprint=fingerprint, reduction="mean", ema_decay=p.learned_ema,
                          device=device, bf16=bf16, desc="a9228 eps-model on G2")
    model = res["model"].to(device)
    t_train = time.perf_counter() - t0

    def f(x, t):  # float64 states in and out, the net in float32 on its device
        return model(x.to(device, torch.float32), t.to(device, torch.float32)).to("cpu", F64)

    xl = mix.sample(p.lik_points, t=v.t_min, generator=_gen(seed, 5))
    lp, info = P.pf_ode_log_likelihood(f, xl, v, rtol=p.learned_lik_rtol, atol=p.learned_lik_rtol)
    true = mix.log_prob(xl, v.t_min)
    gap = mean_ci((true - lp).numpy())  # = NLL_learned - NLL_true per point
    log(f"C5 learned: mean NLL {-lp.mean():.4f} vs true {-true.mean():.4f}")
    t_lik = time.perf_counter() - t0 - t_train
    plan = [("euler", "uniform", 10 ** 9), ("heun", "uniform", 10 ** 9), ("sde", "uniform", 10 ** 9)]
    with torch.no_grad():
        rows, samples = sweep(f, mix, v, xT[: p.learned_particles], ref, data_ref, p.learned_nfes, plan, seed, 5000,
                              log, "learned")
    m = {"learned": {"run": True, "steps": p.learned_steps, "n_params": res["n_params"], "rows": rows,
                     "final_loss": float(np.mean([s["loss"] for s in res["stats"][-100:]])),
                     "arch": f"MLPDenoiser(dim=2, hidden={p.learned_hidden}, blocks={p.learned_blocks}, sinusoidal t)",
                     "wall_s": {"train": t_train, "likelihood": t_lik,
                                "sweep": time.perf_counter() - t0 - t_train - t_lik}},
         "c5_learned": {"n": int(len(xl)), "mean_nll_learned": float(-lp.mean()), "mean_nll_true": float(-true.mean()),
                        "gap": gap, "abs_gap": abs(gap["mean"]), "median_gap": float(np.median((true - lp).numpy())),
                        "nfe": info["nfe"], "rtol": p.learned_lik_rtol, "prior": "N(0, I)"}}
    arr = {"lik_learned_true": true.numpy(), "lik_learned_ode": lp.numpy(),
           **{f"learned_samples_{k}": s[:4000] for k, s in samples.items()}}
    return m, arr
