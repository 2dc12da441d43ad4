"""Score identity Distillation (SiD, card 10085): the identity checks and the data-free distillation loop.

Notation (kexue.diffusion.schedules): x_t = abar_t x_0 + bbar_t eps, abar/bbar STDS, VP SDE beta(t) = 0.1 + 19.9 t.
Teacher eps_phi (exact mixture or trained net), fake denoiser eps_psi fitted to the student's samples, one-step
student x = g_theta(z), z ~ N(0, I). Per sample, with d = eps_phi - eps_psi at x_t^(g) = abar g(z) + bbar eps:

    sid (lambda)   <d, eps_phi - eps> - lambda |d|^2        (L2 - lambda L1; the card's sign: MINUS)
    l1_only        |d|^2                                    (the "initial form" L1)
    teacher_only   |eps_phi - eps|^2                        (no own denoiser: C6's mode-seeking control)
    l3             |eps_phi - eps|^2 + |eps_psi|^2          (C9: only the cross term of L1 converted)

The gradient reaches theta only through x_t (teacher and fake weights are not differentiated, card pitfall), and
eps is the SAME noise that built x_t (the identity needs it). Every run of a batch (variants x seeds) is one
member of a StackedMLP, so they train in one pass with independent Adam steps.

Data-free: `distill` gets a teacher callable and never sees a data tensor or a sampler; its stage declares only
the teacher weights file (C5 reads that declaration from the registry).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from kexue.errors import KexueError

VARIANTS = ("sid", "l1_only", "teacher_only", "l3")


def variant_coefs(kind: str, lam: float = 0.0) -> tuple[float, float, float, float]:
    """(a, lam, c, e) of the per-sample loss a <d, eps_phi - eps> - lam |d|^2 + c |eps_phi - eps|^2 + e |eps_psi|^2."""
    if kind == "sid":
        return 1.0, float(lam), 0.0, 0.0
    if kind == "l1_only":
        return 0.0, -1.0, 0.0, 0.0
    if kind == "teacher_only":
        return 0.0, 0.0, 1.0, 0.0
    if kind == "l3":
        return 0.0, 0.0, 1.0, 1.0
    raise KexueError(f"distillation variant {kind!r}: choose one of {VARIANTS}")


def student_loss(eps_phi, eps_psi, eps, coefs: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-run mean of the per-sample loss; eps_* [R, B, d], coefs [R, 4] (variant_coefs rows), optional
    per-sample weights [R, B] (detached) -> [R]."""
    d = eps_phi - eps_psi
    r = eps_phi - eps
    terms = torch.stack([(d * r).sum(-1), -(d * d).sum(-1), (r * r).sum(-1), (eps_psi * eps_psi).sum(-1)], dim=-1)
    per = (terms * coefs[:, None, :].to(terms.dtype)).sum(-1)
    return (per if weight is None else per * weight).mean(1)


def paper_weight(eps_phi, eps, sigma) -> torch.Tensor:
    """SiD's per-sample normalisation written in eps: its x0-form loss is sigma^2 times ours (sigma = bbar/abar)
    divided by the detached mean |x0_hat_phi - g(z)| = sigma mean|eps_phi - eps|, i.e. our loss times
    sigma / mean|eps_phi - eps| (detached)."""
    return (sigma / (eps_phi - eps).abs().mean(-1).clamp_min(1e-8)).detach()


# ------------------------------------------------------------------ C1 / C2: the identities by Monte Carlo
def identity_terms(student, teacher, h, schedule, t: float, n: int, generator: torch.Generator,
                   chunk: int = 200_000) -> dict[str, np.ndarray]:
    """Per-draw terms at time t for x_0 ~ student (an exact GaussianMixture), x_t = abar x_0 + bbar eps:

    c1_lhs = <h(x_t), bbar grad log p_t(x_t)> = -<h, eps_psi*>, c1_rhs = -<h(x_t), eps>          (C1)
    l1 = |eps_phi - eps_psi*|^2, l2 = <eps_phi - eps_psi*, eps_phi - eps>                           (C2)
    c1_fresh_rhs = -<h(x_t), eps'> with an independent eps' (the pitfall: the identity then fails).
    """
    if n < 2:
        raise KexueError(f"identity check with n = {n} draws: need at least 2 for a standard error")
    a, b = float(schedule.abar(t)), float(schedule.bbar(t))
    out = {k: [] for k in ("c1_lhs", "c1_rhs", "c1_fresh_rhs", "l1", "l2")}
    done = 0
    while done < n:
        m = min(chunk, n - done)
        x0 = student.sample(m, 0.0, generator=generator)
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
        eps2 = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
        xt = a * x0 + b * eps
        tv = torch.full((m,), t, dtype=torch.float64)
        with torch.no_grad():
            hv = h(xt).to(torch.float64)
            e_psi = student.eps(xt, tv)
            e_phi = teacher.eps(xt, tv)
        dd = e_phi - e_psi
        out["c1_lhs"].append((-(hv * e_psi).sum(1)).numpy())
        out["c1_rhs"].append((-(hv * eps).sum(1)).numpy())
        out["c1_fresh_rhs"].append((-(hv * eps2).sum(1)).numpy())
        out["l1"].append((dd * dd).sum(1).numpy())
        out["l2"].append((dd * (e_phi - eps)).sum(1).numpy())
        done += m
    return {k: np.concatenate(v) for k, v in out.items()}


def paired_check(x: np.ndarray, y: np.ndarray, n_se: float = 4.0) -> dict:
    """Mean of x - y, its standard error and whether |mean| <= n_se * SE (the card's paired test)."""
    d = np.asarray(x, np.float64) - np.asarray(y, np.float64)
    se = float(d.std(ddof=1) / np.sqrt(len(d)))
    m = float(d.mean())
    return {"mean_x": float(np.mean(x)), "mean_y": float(np.mean(y)), "diff": m, "se": se,
            "z": m / se if se > 0 else 0.0, "ok": bool(abs(m) <= n_se * se), "n": int(len(d))}


# ------------------------------------------------------------------ the distillation loop
class _Snapshots:
    """Student samples from a fixed z at chosen steps; part of the checkpoint so a resume keeps them."""

    def __init__(self):
        self.saved: dict[int, torch.Tensor] = {}

    def state_dict(self) -> dict:
        return {str(k): v for k, v in self.saved.items()}

    def load_state_dict(self, sd: dict) -> None:
        self.saved = {int(k): v for k, v in sd.items()}


def snapshot_steps(iters: int, every: int) -> list[int]:
    return sorted({0, *range(every, iters + 1, every), iters})


def distill(teacher, schedule, runs: list[dict], *, iters: int, batch: int, lr_g: float, lr_f: float,
            hidden: int, depth: int, t_features: int, warmup: int, t_lo: float, t_hi: float, eval_z: torch.Tensor,
            snapshot_every: int, seed: int, weighting: str = "none", run_dir: str | Path, fingerprint: str, device: str = "cpu",
            desc: str = "distill", log=None) -> dict:
    """Distil `teacher` (callable (x [N, d], t [N]) -> eps, frozen) into one-step generators, one per run.

    runs: [{"variant": kind, "lam": float, "seed": int}, ...]. Per iteration: one Adam step of the fake denoiser
    on DETACHED student samples (DSM, t ~ U[t_min, 1]), then one Adam step of the generator on the variant's
    loss (t ~ U[t_lo, t_hi]). Before the loop `warmup` DSM steps fit the fake denoiser to the initial student.
    Resumable (kexue.train.TrainLoop, checkpoint every `snapshot_every` steps). Returns the generators, the
    per-step stats and the snapshots {step: samples [R, n_eval, d]} of g(eval_z).
    """
    from kexue.nn.stacked_mlp import StackedMLP
    from kexue.train import TrainLoop, batch_generator

    if iters < 1 or batch < 1 or not lr_g > 0 or not lr_f > 0 or warmup < 0:
        raise KexueError(f"distill: iters = {iters}, batch = {batch}, lr = ({lr_g}, {lr_f}), warmup = {warmup}: "
                         "iterations, batch and learning rates must be positive, warmup >= 0")
    if not 0 < t_lo < t_hi <= 1:
        raise KexueError(f"distill: student times U[{t_lo}, {t_hi}] must satisfy 0 < t_lo < t_hi <= 1")
    if weighting not in ("none", "paper"):
        raise KexueError(f"distill weighting = {weighting!r}: choose 'none' (the card's loss) or 'paper' (SiD's normaliser)")
    if not runs:
        raise KexueError("distill: no runs given")
    R, d = len(runs), eval_z.shape[-1]
    coefs = torch.tensor([variant_coefs(r["variant"], r.get("lam", 0.0)) for r in runs], dtype=torch.float32)
    seeds = [int(r["seed"]) for r in runs]
    gen = StackedMLP(R, d, d, hidden, depth, seeds=[s * 2 + 1 for s in seeds]).to(device)
    fake = StackedMLP(R, d, d, hidden, depth, t_features=t_features, seeds=[s * 2 + 2 for s in seeds]).to(device)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr_g, foreach=True)
    opt_f = torch.optim.Adam(fake.parameters(), lr=lr_f, foreach=True)
    snaps = _Snapshots()
    snap_at = set(snapshot_steps(iters, snapshot_every))
    ez = eval_z.to(device=device, dtype=torch.float32)
    t_min = float(schedule.t_min)

    def coef(t):
        return schedule.abar(t).float()[..., None], schedule.bbar(t).float()[..., None]

    def fake_step(g: torch.Generator) -> float:
        z = torch.randn(R, batch, d, generator=g).to(device)
        with torch.no_grad():
            x = gen(z)                                   # detached student samples
        t = (t_min + (1 - t_min) * torch.rand(R, batch, generator=g)).to(device)
        eps = torch.randn(R, batch, d, generator=g).to(device)
        a, b = coef(t)
        loss = ((fake(a * x + b * eps, t) - eps) ** 2).sum(-1).mean(1).sum()
        opt_f.zero_grad(set_to_none=True)
        loss.backward()
        opt_f.step()
        return float(loss.detach()) / R

    def record(step: int) -> None:
        if step in snap_at and step not in snaps.saved:
            with torch.no_grad():
                snaps.saved[step] = gen(ez).cpu()

    def step_fn(step: int) -> dict:
        g = batch_generator(seed, step)
        if step == 0:
            record(0)
            for w in range(warmup):  # fit psi to the initial student first (card: 500 DSM steps)
                fake_step(batch_generator(seed + 7_777, w))
        lf = fake_step(g)
        z = torch.randn(R, batch, d, generator=g).to(device)
        t = (t_lo + (t_hi - t_lo) * torch.rand(R, batch, generator=g)).to(device)
        eps = torch.randn(R, batch, d, generator=g).to(device)
        a, b = coef(t)
        xt = a * gen(z) + b * eps
        e_phi = teacher(xt.reshape(R * batch, d), t.reshape(-1)).reshape(R, batch, d).to(xt.dtype)
        e_psi = fake(xt, t)
        w = paper_weight(e_phi, eps, (b / a)[..., 0]) if weighting == "paper" else None
        per_run = student_loss(e_phi, e_psi, eps, coefs.to(device), w)
        grads = torch.autograd.grad(per_run.sum(), list(gen.parameters()))  # theta only: psi, phi stay fixed
        for p, gr in zip(gen.parameters(), grads):
            p.grad = gr
        opt_g.step()
        opt_g.zero_grad(set_to_none=True)
        record(step + 1)
        rec = {"loss": float(per_run.detach().mean()), "loss_fake": lf}
        rec.update({f"g{r}": float(v) for r, v in enumerate(per_run.detach().cpu())})
        return rec

    for p in getattr(teacher, "parameters", lambda: [])():
        p.requires_grad_(False)
    state = {"gen": gen, "fake": fake, "opt_g": opt_g, "opt_f": opt_f, "snapshots": snaps}
    loop = TrainLoop(state=state, step_fn=step_fn, total_steps=iters, run_dir=Path(run_dir), fingerprint=fingerprint,
                     ckpt_every=snapshot_every, desc=desc)
    stats = loop.run()
    return {"gen": gen.eval(), "fake": fake.eval(), "stats": stats,
            "snapshots": {k: v.numpy() for k, v in sorted(snaps.saved.items())},
            "n_params_gen": gen.n_params_per_member(), "n_params_fake": fake.n_params_per_member()}
