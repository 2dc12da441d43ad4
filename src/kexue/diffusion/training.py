"""Train an eps-prediction model on a fixed data tensor: the one loop every diffusion article uses.

    result = train_eps_model(model, X, schedule, steps=3000, batch=128, lr=1e-3, seed=ctx.seed,
                             run_dir=ctx.persist("ckpt") / "main", fingerprint=ctx.fingerprint,
                             ema_decay=0.999, snapshots=(0.1, 0.25, 0.5, 1.0), device=ctx.device)
    result["model"]        # the trained model (EMA weights when ema_decay is set), eval mode
    result["stats"]        # one dict per step: loss, grad_norm, lr (also in run_dir/stats.jsonl)
    result["snapshots"]    # {fraction: denoiser payload} (EMA weights when ema_decay is set)

Why one loop: the articles differ in data, schedule, loss reduction and time sampling, never in how a
step is taken, checkpointed or resumed. Built on kexue.train.TrainLoop, so a killed run resumes from its
last checkpoint and finishes bitwise identical on CPU (minibatch indices, t and eps are drawn from a
generator that depends only on (seed, step), see kexue.train.batch_generator).

- X: float tensor [n, ...] of training data (images in [-1, 1], or points); batches are drawn with
  replacement. The model maps (x_t, t) -> eps_hat of x_t's shape.
- reduction "sum" (card 9152: squared norm per sample) or "mean" (per element); see losses.eps_loss.
- continuous_t: draw t ~ U(t_min, t_max) on a discrete schedule (card 10055); the model must accept
  non-integer t (sinusoidal time embedding).
- bf16 autocast on CUDA when `bf16` (the full profile); exact fp32 on CPU.
- snapshots: fractions of `steps` at which a copy of the (EMA) weights is kept, e.g. for "sample quality
  improves with training" checks; they are stored in the checkpoint, so they survive a resume.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch

from kexue.diffusion.losses import eps_loss, sample_t
from kexue.diffusion.schedules import Schedule
from kexue.errors import KexueError


def snapshot_steps(steps: int, fractions) -> dict[int, float]:
    """{step count after which to snapshot: fraction}; every fraction must lie in (0, 1]."""
    out = {}
    for f in fractions:
        if not 0 < f <= 1:
            raise KexueError(f"snapshot fraction {f}: must be in (0, 1] (a fraction of the training steps)")
        out[max(1, round(f * steps))] = float(f)
    return out


class _Snapshots:
    """Holds snapshot state dicts so TrainLoop checkpoints them with everything else."""

    def __init__(self):
        self.saved: dict[str, dict] = {}

    def state_dict(self) -> dict:
        return {f"{k}|{n}": v for k, sd in self.saved.items() for n, v in sd.items()}

    def load_state_dict(self, sd: dict) -> None:
        self.saved = {}
        for key, v in sd.items():
            k, n = key.split("|", 1)
            self.saved.setdefault(k, {})[n] = v


def train_eps_model(model: torch.nn.Module, X: torch.Tensor, schedule: Schedule, *, steps: int, batch: int,
                    lr: float, seed: int, run_dir: str | Path, fingerprint: str, reduction: str = "sum",
                    ema_decay: float | None = None, continuous_t: bool = False, snapshots=(),
                    grad_clip: float | None = None, weight_decay: float = 0.0, warmup: int = 0,
                    device: str = "cpu", bf16: bool = False, ckpt_every: int | None = None,
                    desc: str = "train eps-model") -> dict:
    from kexue.nn.mlp_denoiser import denoiser_payload
    from kexue.train import EMA, TrainLoop, autocast, batch_generator

    if steps < 1 or batch < 1 or not lr > 0:
        raise KexueError(f"train_eps_model: steps = {steps}, batch = {batch}, lr = {lr}: all must be positive")
    if ema_decay is not None and not 0 < ema_decay < 1:
        raise KexueError(f"ema_decay = {ema_decay}: must be in (0, 1), or None for no EMA")
    if grad_clip is not None and not grad_clip > 0:
        raise KexueError(f"grad_clip = {grad_clip}: must be > 0, or None for no clipping")
    if not torch.is_tensor(X) or X.dim() < 2 or len(X) < 1 or not X.is_floating_point():
        raise KexueError("train_eps_model: X must be a float tensor [n, ...] with n >= 1")
    if not torch.isfinite(X).all():
        raise KexueError("train_eps_model: X contains NaN or inf; check the data stage")
    snap_at = snapshot_steps(steps, snapshots)
    X = X.to(device)
    model = model.to(device).train()
    # foreach: one fused update per step instead of a Python loop over tensors (the CPU default)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=True)
    # linear warmup, then constant (the articles' runs are short; no decay to tune)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) if warmup > 0 else 1.0)
    ema = EMA(model, ema_decay) if ema_decay is not None else None
    snaps = _Snapshots()

    def current_weights() -> dict:
        if ema is None:
            return {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}
        return {k: v.detach().clone().cpu() for k, v in ema.shadow.items()}

    def step_fn(step: int) -> dict:
        g = batch_generator(seed, step)
        idx = torch.randint(len(X), (batch,), generator=g).to(device)
        x0 = X[idx]
        t = sample_t(schedule, batch, generator=g, continuous=continuous_t).to(device)
        eps = torch.randn(x0.shape, generator=g, dtype=x0.dtype).to(device)
        with autocast(device, bf16):
            loss = eps_loss(model, x0, t, schedule, eps=eps, reduction=reduction)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip if grad_clip else float("inf"))
        opt.step()
        sched.step()
        if ema is not None:
            ema.update(model)
        if step + 1 in snap_at:
            snaps.saved[str(snap_at[step + 1])] = current_weights()
        return {"loss": float(loss.detach()), "grad_norm": float(gn), "lr": sched.get_last_lr()[0]}

    state = {"model": model, "opt": opt, "sched": sched, "snapshots": snaps}
    if ema is not None:  # updated inside step_fn so that a snapshot sees this step's average
        state["ema"] = ema
    loop = TrainLoop(state=state, step_fn=step_fn, total_steps=steps, run_dir=Path(run_dir),
                     fingerprint=fingerprint, ckpt_every=ckpt_every or max(1, steps // 10), desc=desc)
    stats = loop.run()
    final = copy.deepcopy(model)
    if ema is not None:
        ema.copy_to(final)
    final.eval()

    def payload(weights: dict) -> dict:
        p = denoiser_payload(final)
        p["state_dict"] = weights
        return p

    return {"model": final, "stats": stats, "n_params": sum(p.numel() for p in model.parameters()),
            "snapshots": {float(k): payload(v) for k, v in sorted(snaps.saved.items(), key=lambda kv: float(kv[0]))}}
