"""Stage functions of article 9467 (declared in stages/a9467_wasserstein_score_matching.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

D = "data/9467"
NOT_RUN = "Case B (learned score) is off at the smoke profile (card); run the default profile"


def _row(meta: dict, res: dict) -> dict:
    out = dict(meta)
    out.update({k: float(v) for k, v in res.items()})
    return out


def gaussian_bounds(ctx):
    """Case A (closed form, C1, C2, C4, C8), the card's calibration rows, and C5 (exact-score weight)."""
    import numpy as np

    from kexue import io
    from kexue import score_w2_gaussian as G

    p = ctx.p
    vp = G.VPCoefficients(p.beta_min, p.beta_max)  # = kexue.diffusion.schedules.VPSDE, without importing torch
    calib = G.calibration_cases()
    grid = G.make_grid(p.dims, p.deltas, p.etas, p.s0_sq, p.data_mean, seed=ctx.seed)
    rows, table = [], []
    for case, ref in calib:
        r = G.evaluate_case(case, vp, p.rtol)
        rows.append(_row(case.meta, r))
        table.append({"config": f"s0^2={case.meta['s0_sq']:g}, delta={case.meta['delta']:g}, eta={case.meta['eta']:g}",
                      **{k: f"{r[k]:.4f} (card {v:.4f})" for k, v in ref.items()},
                      "max_abs_diff": f"{max(abs(r[k] - v) for k, v in ref.items()):.1e}"})
    for case in grid:
        rows.append(_row(case.meta, G.evaluate_case(case, vp, p.rtol)))
    ctx.log(f"Case A: {len(rows)} configurations (dims {p.dims})")

    # integrand curves of the calibration rows (figure)
    t = np.linspace(0.0, vp.T, 201)
    curves = {}
    for i, (case, _) in enumerate(calib):
        c = G.bound_curves(case, vp, p.rtol, t_eval=t)
        for k in ("L", "I", "e", "integrand_half"):
            curves[f"calib{i}_{k}"] = c[k]
    # C5: exact score of 1-D data, weight g^2 I_t
    c5, c5_arr = [], {}
    for i, s2 in enumerate(p.c5_s0_sq):
        w = G.exact_weight(vp, s2, p.c5_points)
        c5.append({"s0_sq": s2, **{k: w[k] for k in ("I_T", "I_T_closed", "max_abs_err_I", "weight_increasing",
                                                    "min_weight_step", "bbar2_increasing")}})
        c5_arr[f"c5_{i}_weight"], c5_arr[f"c5_{i}_weight_closed"] = w["weight"], w["weight_closed"]
    c5_arr["c5_t"], c5_arr["c5_bbar2"], c5_arr["c5_s0_sq"] = w["t"], w["bbar2"], np.array(p.c5_s0_sq)

    cols = ("d", "s0_sq", "delta", "eta", "w2_ode", "w2_sde", "w2_tilde", "bound_half", "bound_g2")
    arrays = {f"row_{k}": np.array([r[k] for r in rows], dtype=np.float64) for k in cols}
    arrays["row_kind"] = np.array([r["kind"] for r in rows])
    io.save_npz(ctx.out("arrays"), {**arrays, **curves, **c5_arr, "t": t,
                                    "calib_labels": np.array([row["config"] for row in table])})
    io.atomic_write_json(ctx.out("metrics"), {
        "a9467_gauss": {"rows": rows, "n_configs": len(rows), "rtol": p.rtol, "dims": list(p.dims)},
        "a9467_calibration": table,
        "a9467_c5": {"per_s0_sq": c5, "n_points": p.c5_points}})


def counterexample(ctx):
    """C7: the SDE cross term under a rotation coupling, Monte Carlo against the closed form."""
    import math

    import numpy as np

    from kexue import io
    from kexue.montecarlo import fmt_ci, mean_ci
    from kexue.score_w2_gaussian import rotation_cross_term

    rng = np.random.default_rng([ctx.seed, 9467, 7])
    out = []
    for deg in ctx.p.c7_thetas_deg:
        r = rotation_cross_term(math.radians(deg), ctx.p.c7_draws, rng)
        ci = mean_ci(r["values"])
        out.append({"theta_deg": deg, "closed": r["closed"], "mc": ci, "mc_text": fmt_ci(ci),
                    "abs_diff": abs(ci["mean"] - r["closed"])})
    io.atomic_write_json(ctx.out("metrics"), {"a9467_c7": {"per_theta": out, "draws": ctx.p.c7_draws}})


def learned_score(ctx):
    """Case B: train the eps-model (resumable, snapshots), then per checkpoint the score error, L_t, the bound,
    empirical W2 of ODE samples (C6), and DSM vs SM with common random numbers (C3)."""
    import numpy as np

    from kexue import io

    p = ctx.p
    ckpt = ctx.persist("ckpt")  # created even when off, so DVC finds the declared persistent out
    if not p.case_b:  # no torch work at all: the claims that need Case B report not-run
        io.save_npz(ctx.out("arrays"), {"run": np.array(False)})
        io.atomic_write_json(ctx.out("metrics"), {"a9467_learned": {"run": False, "reason": NOT_RUN}})
        ctx.log(NOT_RUN)
        return

    import time

    import torch
    from scipy.stats import spearmanr

    from kexue import score_w2_learned as L
    from kexue.diffusion.schedules import VPSDE
    from kexue.diffusion.training import train_eps_model
    from kexue.montecarlo import mean_ci
    from kexue.nn.mlp_denoiser import MLPDenoiser, load_denoiser
    from kexue.optimal_transport import empirical_w2

    sch = VPSDE(p.beta_min, p.beta_max, t_min=p.t_min)
    mix = L.four_gaussians(sch)
    g = torch.Generator().manual_seed(ctx.seed)
    X = mix.sample(p.n_train, 0.0, generator=g).to(torch.float32)
    torch.manual_seed(ctx.seed)
    model = MLPDenoiser(dim=2, hidden=p.hidden, blocks=p.blocks, t_dim=p.t_dim, t_scale=1000.0, norm="none")
    fracs = [k / p.checkpoints for k in range(1, p.checkpoints + 1)]
    t0 = time.perf_counter()
    res = train_eps_model(model, X, sch, steps=p.steps, batch=p.batch, lr=p.lr, seed=ctx.seed,
                          run_dir=ckpt / "score", fingerprint=ctx.fingerprint,
                          ema_decay=p.ema_decay, snapshots=fracs, device=ctx.device,
                          bf16=(ctx.profile == "full" and ctx.device == "cuda"), desc="a9467 score model")
    train_s = time.perf_counter() - t0
    models = {f: load_denoiser(pl) for f, pl in res["snapshots"].items()}  # evaluated on CPU in float32

    ts = np.linspace(p.t_min, sch.t_max, p.t_points)
    ts_lip = np.linspace(p.t_min, sch.t_max, p.lip_t_points)
    beta = sch.beta(torch.tensor(ts)).numpy()
    w2T = L.w2_T_bound(mix)
    n, R = p.w2_samples, p.w2_repeats
    gz = torch.Generator().manual_seed(ctx.seed + 1)  # common random numbers across checkpoints
    z = torch.randn(R * n, 2, generator=gz)
    data = [mix.sample(n, p.t_min, generator=gz).numpy() for _ in range(R)]
    data2 = [mix.sample(n, p.t_min, generator=gz).numpy() for _ in range(R)]
    floor = [empirical_w2(a, b) for a, b in zip(data, data2)]
    draws = L.dsm_sm_draws(models, mix, p.c3_draws, seed=ctx.seed + 2)

    fl = mean_ci(floor)
    per, arr = [], {"ts": ts, "ts_lip": ts_lip, "beta": beta, "floor": np.array([fl["mean"], fl["lo"], fl["hi"]])}
    t1 = time.perf_counter()
    for k, (f, m) in enumerate(models.items()):
        e = L.score_error_curve(m, mix, ts, p.sm_samples, seed=ctx.seed + 3)
        Lc = np.interp(ts, ts_lip, L.lipschitz_curve(m, mix, ts_lip, p.lip_grid))
        b = L.bound_from_curves(ts, beta, Lc, e["e2"], w2T)
        b_lo = L.bound_from_curves(ts, beta, Lc, e["e2_lo"], w2T)
        b_hi = L.bound_from_curves(ts, beta, Lc, e["e2_hi"], w2T)
        x, nfe = L.ode_samples(m, z, sch, rtol=p.ode_rtol)
        w2 = [empirical_w2(x[r * n:(r + 1) * n], data[r]) for r in range(R)]
        d = draws[f]
        per.append({"fraction": f, "step": int(round(f * p.steps)), "nfe": nfe,
                    "w2": mean_ci(w2), "w2_values": w2,
                    "bound_half": b["bound_half"], "bound_half_lo": b_lo["bound_half"],
                    "bound_half_hi": b_hi["bound_half"], "bound_g2": b["bound_g2"], "J_half": b["J_half"],
                    "I_T": b["I_T"], "L_max": float(Lc.max()),
                    "sm": mean_ci(d["sm"]), "dsm": mean_ci(d["dsm"]), "gap": mean_ci(d["dsm"] - d["sm"]),
                    "sm_integral_half": float(np.trapezoid(0.5 * beta * np.sqrt(e["e2"]), ts))})
        for key, v in (("L", Lc), ("I", b["I"]), ("e2", e["e2"]), ("e2_lo", e["e2_lo"]), ("e2_hi", e["e2_hi"]),
                       ("integrand", b["integrand_half"]), ("integrand_lo", b_lo["integrand_half"]),
                       ("integrand_hi", b_hi["integrand_half"])):
            arr[f"k{k}_{key}"] = v
        ctx.log(f"checkpoint {f:.2f}: W2 {per[-1]['w2']['mean']:.4f} (floor {np.mean(floor):.4f}), bound "
                f"{b['bound_half']:.3f}, I_T {b['I_T']:.2f}, SM {per[-1]['sm']['mean']:.4f}, nfe {nfe}")
    # C3: the DSM - SM gap of the first and the last checkpoint on the same draws
    f0, f1 = min(draws), max(draws)
    gd = (draws[f0]["dsm"] - draws[f0]["sm"]) - (draws[f1]["dsm"] - draws[f1]["sm"])
    gdc = mean_ci(gd)
    sm = [q["sm"]["mean"] for q in per]
    w2m = [q["w2"]["mean"] for q in per]
    rho = float(spearmanr(sm, w2m).statistic)
    rho_int = float(spearmanr([q["sm_integral_half"] for q in per], w2m).statistic)
    for key in ("w2", "sm", "gap"):
        arr[f"{key}_mean"] = np.array([q[key]["mean"] for q in per])
        arr[f"{key}_lo"] = np.array([q[key]["lo"] for q in per])
        arr[f"{key}_hi"] = np.array([q[key]["hi"] for q in per])
    for key in ("bound_half", "bound_half_lo", "bound_half_hi", "bound_g2"):
        arr[key] = np.array([q[key] for q in per])
    arr["steps"] = np.array([q["step"] for q in per])
    arr["run"] = np.array(True)
    io.save_npz(ctx.out("arrays"), arr)
    io.atomic_write_json(ctx.out("metrics"), {"a9467_learned": {
        "run": True, "checkpoints": per, "floor": fl, "floor_values": floor, "w2_T_bound": w2T,
        "spearman_sm_w2": rho, "spearman_sm_integral_w2": rho_int, "n_w2": n, "w2_repeats": R,
        "c3": {"first": f0, "last": f1, "gap_diff": gdc, "z": gdc["mean"] / gdc["se"] if gdc["se"] > 0 else 0.0,
               "draws": p.c3_draws},
        "n_params": res["n_params"], "final_loss": res["stats"][-1]["loss"] if res["stats"] else None,
        "train_s": train_s, "eval_s": time.perf_counter() - t1, "device": ctx.device,
        "t_points": p.t_points, "lip_t_points": p.lip_t_points, "lip_grid": p.lip_grid}})


def figures(ctx):
    from kexue.score_w2_figures import draw_all

    draw_all(ctx.inp("gauss"), ctx.inp("learned"), ctx.out("figures"))
