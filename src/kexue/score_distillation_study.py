"""Article 10085 (SiD) experiments on the card's 2-D ring: prepare (teacher B, C1/C2), distill, evaluate.

Teacher A is the exact eps of the noised 8-Gaussian ring (kexue.diffusion.exact.GaussianMixture), so a student's
error is distillation error alone; teacher B is an MLPDenoiser trained by DSM on samples of the ring
(kexue.diffusion.training.train_eps_model). Quality metrics use the true density (kexue.mixture_metrics) and the
exact-assignment W2 (kexue.optimal_transport.empirical_w2) against fresh draws of the ring.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from kexue.errors import KexueError

C1_TIMES = (0.05, 0.2, 0.4, 0.6, 0.8)


def schedule(p):
    from kexue.diffusion.schedules import VPSDE
    return VPSDE(p.beta_min, p.beta_max, t_min=p.t_min)


def ring(p):
    from kexue.mixture_metrics import ring_mixture
    return ring_mixture(p.modes, p.radius, p.mode_std)


def student_mixture(p, sch):
    """C1/C2's fixed 'student': a mixture unlike the teacher (5 unequal modes, other radius and spread)."""
    from kexue.mixture_metrics import ring_mixture
    return ring_mixture(5, 0.7 * p.radius, 1.6 * p.mode_std, weights=[0.35, 0.25, 0.2, 0.12, 0.08]).exact(sch)


def teacher_b_model(p):
    from kexue.nn.mlp_denoiser import MLPDenoiser
    return MLPDenoiser(dim=2, hidden=p.tb_hidden, blocks=p.tb_blocks, t_dim=p.tb_t_dim, t_scale=1000.0,
                       norm="none")  # the card's plain SiLU MLP; a norm layer saturates outside the data range and
    # made the reverse SDE run away at large t (seen at smoke with GroupNorm)


def random_h(seed: int, hidden: int = 32):
    """C1's test function h: R^2 -> R^2, a fixed random tanh MLP (float64)."""
    g = torch.Generator().manual_seed(seed)
    W1, b1 = torch.randn(2, hidden, generator=g, dtype=torch.float64), torch.randn(hidden, generator=g, dtype=torch.float64)
    W2 = torch.randn(hidden, 2, generator=g, dtype=torch.float64) / math.sqrt(hidden)
    return lambda x: torch.tanh(x @ W1 + b1) @ W2


# ------------------------------------------------------------------ prepare: C1 / C2 and teacher B
def identity_checks(p, seed: int, log=print) -> tuple[dict, dict]:
    from kexue.score_distillation import identity_terms, paired_check

    sch = schedule(p)
    teacher, student, h = ring(p).exact(sch), student_mixture(p, sch), random_h(seed + 1)
    g = torch.Generator().manual_seed(seed + 10085)
    rows, arrays = [], {}
    for i, t in enumerate(C1_TIMES):
        terms = identity_terms(student, teacher, h, sch, t, p.identity_draws, g)
        c1 = paired_check(terms["c1_lhs"], terms["c1_rhs"])
        c2 = paired_check(terms["l1"], terms["l2"])
        fresh = paired_check(terms["c1_lhs"], terms["c1_fresh_rhs"])
        rows.append({"t": t, "c1": c1, "c2": c2, "fresh_noise_control": fresh})
        log(f"t = {t}: C1 z = {c1['z']:.2f}, C2 z = {c2['z']:.2f}, fresh-noise z = {fresh['z']:.1f}")
        if i == len(C1_TIMES) // 2:  # running means vs n for the figure (log-spaced n)
            ns = np.unique(np.geomspace(100, p.identity_draws, 30).astype(int))
            for k in ("c1_lhs", "c1_rhs", "l1", "l2"):
                x = terms[k]
                cs, cs2 = np.cumsum(x), np.cumsum(x * x)
                m = cs[ns - 1] / ns
                sd = np.sqrt(np.maximum(cs2[ns - 1] / ns - m * m, 0) * ns / (ns - 1))
                arrays[f"run_{k}_mean"], arrays[f"run_{k}_se"] = m, sd / np.sqrt(ns)
            arrays["run_n"], arrays["run_t"] = ns, np.array(t)
    return {"identity": {"times": list(C1_TIMES), "draws": p.identity_draws, "rows": rows,
                         "c1_all_ok": all(r["c1"]["ok"] for r in rows), "c2_all_ok": all(r["c2"]["ok"] for r in rows),
                         "max_abs_z_c1": max(abs(r["c1"]["z"]) for r in rows),
                         "max_abs_z_c2": max(abs(r["c2"]["z"]) for r in rows),
                         "min_abs_z_fresh": min(abs(r["fresh_noise_control"]["z"]) for r in rows)}}, arrays


def train_teacher_b(p, seed: int, X: np.ndarray, *, run_dir, fingerprint, device, bf16, log=print) -> dict:
    from kexue.diffusion.training import train_eps_model

    res = train_eps_model(teacher_b_model(p), torch.as_tensor(X, dtype=torch.float32), schedule(p),
                          steps=p.tb_steps, batch=p.tb_batch, lr=p.tb_lr, seed=seed, run_dir=run_dir,
                          fingerprint=fingerprint, ema_decay=p.tb_ema, device=device, bf16=bf16,
                          desc="teacher B (DSM)")
    losses = [r["loss"] for r in res["stats"]]
    k = max(1, len(losses) // 10)
    return {"model": res["model"], "n_params": res["n_params"], "loss_first": float(np.mean(losses[:k])),
            "loss_last": float(np.mean(losses[-k:]))}


# ------------------------------------------------------------------ distill
def run_groups(p):
    """[(teacher, [run dicts])]: teacher A with p.variants_a, teacher B with p.variants_b, each x p.seeds."""
    out = []
    for teacher, variants in (("A", p.variants_a), ("B", p.variants_b)):
        runs = []
        for v in variants:
            kind, lam = parse_variant(v)
            for s in range(p.seeds):
                runs.append({"teacher": teacher, "name": v, "variant": kind, "lam": lam, "seed": s})
        if runs:
            out.append((teacher, runs))
    return out


def parse_variant(v: str) -> tuple[str, float]:
    """'sid' (lambda 1.2, the card's default), 'sid0' (lambda 0), 'sid@0.5' (any lambda), 'l1_only', 'teacher_only', 'l3'."""
    if v == "sid":
        return "sid", 1.2
    if v == "sid0":
        return "sid", 0.0
    if v.startswith("sid@"):
        try:
            return "sid", float(v[4:])
        except ValueError:
            pass
    if v in ("l1_only", "teacher_only", "l3"):
        return v, 0.0
    raise KexueError(f"variant {v!r}: use sid, sid0, sid@<lambda>, l1_only, teacher_only or l3")


def eval_z(p, seed: int) -> torch.Tensor:
    """The fixed latent draws every student is evaluated on (common random numbers across runs)."""
    return torch.randn(p.eval_samples, 2, generator=torch.Generator().manual_seed(seed + 4242))


def distill_group(p, seed: int, teacher_name: str, runs: list[dict], teacher_b, *, run_dir, fingerprint, device,
                  log=print) -> dict:
    from kexue.score_distillation import distill

    sch = schedule(p)
    if teacher_name == "A":
        exact = ring(p).exact(sch)
        teacher = lambda x, t: exact.eps(x, t.to(torch.float64))  # noqa: E731  (float64 inside, float32 out)
    else:
        teacher_b.eval()
        teacher = teacher_b
    ez = eval_z(p, seed)
    every = max(1, p.iters // 20)  # checkpoints and snapshots every 5% of iterations (card)
    return distill(teacher, sch, runs, iters=p.iters, batch=p.batch, lr_g=p.lr_g, lr_f=p.lr_f, hidden=p.g_hidden,
                   depth=p.g_depth, t_features=p.fake_t_features, warmup=p.fake_warmup, t_lo=p.t_lo, t_hi=p.t_hi,
                   eval_z=ez[None].expand(len(runs), -1, -1).contiguous(), snapshot_every=every,
                   seed=seed + (0 if teacher_name == "A" else 1), weighting=p.weighting, run_dir=run_dir,
                   fingerprint=fingerprint, device=device, desc=f"distill teacher {teacher_name} ({len(runs)} runs)")


# ------------------------------------------------------------------ evaluate
def quality(x: np.ndarray, mix, data: np.ndarray, data_logp: float, n_w2: int) -> dict:
    from kexue.mixture_metrics import mean_log_density, mode_std_ratio, modes_covered
    from kexue.optimal_transport import empirical_w2

    x = np.asarray(x, np.float64)
    if not np.isfinite(x).all():  # a diverged run is a result, not a crash
        return {"modes": 0, "std_ratio": float("nan"), "D": float("inf"), "W2": float("inf"), "finite": False}
    sr = mode_std_ratio(x, mix)
    return {"modes": modes_covered(x, mix), "std_ratio": float(np.nanmean(sr)) if np.isfinite(sr).any() else float("nan"),
            "D": abs(mean_log_density(x, mix) - data_logp), "W2": empirical_w2(x[:n_w2], data[:n_w2]), "finite": True}
