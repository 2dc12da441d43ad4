"""Article 10085 evaluation: every distilled student and the teachers' own samplers against the true ring.

Per run (final snapshot, n = eval_samples fixed latents): modes covered (>= 25% of the 1/8 share, nearest centre),
mean per-mode std ratio, D = |mean true log-density - that of fresh data|, exact-assignment W2 on w2_points vs
w2_points fresh data draws. Curves: W2 and D at every 5% snapshot on curve_points. The teachers' reference values
use the same metrics on their 1000-step reverse SDE and 100-step Heun PF-ODE samples.
"""
from __future__ import annotations

import numpy as np

from kexue.io import read_json


def _summary(vals: list[dict]) -> dict:
    from kexue.montecarlo import mean_ci

    out = {"modes": [v["modes"] for v in vals], "n_full_coverage": sum(v["modes"] == 8 for v in vals),
           "n": len(vals), "all_finite": all(v["finite"] for v in vals)}
    for k in ("D", "W2", "std_ratio"):
        x = np.array([v[k] for v in vals], dtype=np.float64)
        out[k] = x.tolist()
        out[f"{k}_mean"] = float(np.mean(x))
        out[f"{k}_ci"] = mean_ci(x) if len(x) >= 2 and np.isfinite(x).all() else None
    return out


def evaluate(p, seed: int, distill_npz, distill_json, teacher_path, log=print) -> tuple[dict, dict]:
    from kexue import score_distillation_study as S
    from kexue.mixture_metrics import mean_log_density, mode_masses
    from kexue.nn.mlp_denoiser import load_denoiser
    from kexue.train import load_checkpoint

    mix = S.ring(p)
    rng = np.random.default_rng(seed + 99)
    data = mix.sample(p.eval_samples, rng)
    data_logp = mean_log_density(data, mix)
    n_w2 = min(p.w2_points, p.eval_samples)
    floor = S.quality(mix.sample(p.eval_samples, rng), mix, data, data_logp, n_w2)
    arr = dict(np.load(distill_npz))
    dm = read_json(distill_json)["distill"]
    m = {"eval": {"w2_points": n_w2, "eval_samples": p.eval_samples, "data_logp": data_logp,
                  "fresh_data": floor, "teachers": {}, "runs": [], "summary": {}, "curves": {}},
         "c5": {"declared_deps": dm["declared_deps"]}}
    E = m["eval"]
    plot = {"data": data[:2000], "mix_mu": mix.mu, "teachers": {}, "finals": {}, "masses": {}, "curves": {},
            "losses": {}, "fresh_W2": floor["W2"]}
    sch = S.schedule(p)
    teacher_b = load_denoiser(load_checkpoint(teacher_path))
    for name in ("A", "B"):
        model = mix.exact(sch) if name == "A" else teacher_b
        samples = teacher_samples(p, seed, model, p.eval_samples)
        E["teachers"][name] = {k: S.quality(v, mix, data, data_logp, n_w2) for k, v in samples.items()}
        plot["teachers"][name] = {k: v[:2000] for k, v in samples.items()}
        plot["masses"][f"teacher {name}"] = mode_masses(samples[f"sde{p.sde_steps}"], mix)
        log(f"teacher {name}: " + ", ".join(f"{k} W2 {v['W2']:.3f} D {v['D']:.3f}" for k, v in E["teachers"][name].items()))
    for name, g in dm["groups"].items():
        steps, snaps = arr[f"{name}_steps"], arr[f"{name}_snaps"]
        runs = g["runs"]
        by_variant: dict[str, list[int]] = {}
        for i, r in enumerate(runs):
            by_variant.setdefault(r["name"], []).append(i)
        for v, idx in by_variant.items():
            key = f"{name}/{v}"
            finals = [S.quality(snaps[-1, i], mix, data, data_logp, n_w2) for i in idx]
            for i, q in zip(idx, finals):
                E["runs"].append({**runs[i], **q})
            E["summary"][key] = _summary(finals) | {"variant": runs[idx[0]]["variant"], "lam": runs[idx[0]]["lam"]}
            nc = min(p.curve_points, p.eval_samples)
            qs = [[S.quality(snaps[s, i, :nc], mix, data, data_logp, nc) for s in range(len(steps))] for i in idx]
            E["curves"][key] = {"steps": steps.tolist(), "curve_points": nc,
                                "W2": [[q["W2"] for q in row] for row in qs], "D": [[q["D"] for q in row] for row in qs]}
            plot["finals"][key] = snaps[-1, idx[0]][:2000]
            plot["masses"][key] = mode_masses(snaps[-1, idx[0]], mix) if finals[0]["finite"] else np.zeros(mix.K)
            plot["curves"][key] = E["curves"][key]
            plot["losses"][key] = arr[f"{name}_loss"][:, idx]
            log(f"{key}: modes {E['summary'][key]['modes']}, W2 {E['summary'][key]['W2_mean']:.3f}, "
                f"D {E['summary'][key]['D_mean']:.3f}")
        plot["losses"][f"{name}/fake"] = arr[f"{name}_loss_fake"]
    return m, plot


def teacher_samples(p, seed: int, model, n: int) -> dict:
    """The teacher's own multi-step samplers (the reference the card compares students with)."""
    import torch

    from kexue import score_distillation_study as S
    from kexue.diffusion.samplers import pf_ode, reverse_sde

    sch = S.schedule(p)
    g = torch.Generator().manual_seed(seed + 777)
    xT = torch.randn(n, 2, generator=g, dtype=torch.float64)
    f = (lambda x, t: model(x.float(), t.float()).double()) if isinstance(model, torch.nn.Module) else model
    with torch.no_grad():
        sde, _ = reverse_sde(f, xT, sch, steps=p.sde_steps, lam=1.0, generator=g)
        ode, _ = pf_ode(f, xT, sch, steps=p.ode_steps, method="heun")
    return {f"sde{p.sde_steps}": sde.numpy(), f"ode{p.ode_steps}": ode.numpy()}
