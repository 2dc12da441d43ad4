"""C8 of kexue.fm/archives/9931: per-tensor vs global cosine of Adam's update and the gradient.

Each step t (minibatch drawn deterministically from (seed, t), the same stream for every λ):
  g = minibatch gradient (read before stepping), θ_before = θ, optimizer.step(),
  u = θ_before − θ_after per tensor (Adam's realised increment, incl. momentum and bias
  correction), clip each tensor's cos(u_k, g_k) up to ≥ λ keeping |u_k|
  (`groupwise_cosine.clip_cosine`, shared with the numerics), θ = θ_before − u_clipped.
Recorded per step: local cosines before/after clipping, global cosine before/after,
a_k = |u_k|, b_k = |g_k|, cos(a, b), the a_k b_k weighted mean of local cosines, the scalar
granularity (sign agreement, cos(|u|,|g|), |u_i||g_i| weighted mean sign) and the loss.
Adam's moments are not told about the clipping (the clipped step is applied on top).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.groupwise_cosine import clip_cosine
from kexue.nn.mlp import MLP

# per-step scalar series (the per-tensor ones are local_raw, local, a, b, clipped)
SCALARS = ("loss", "glob_raw", "glob", "cos_ab", "cbar_w", "ident_err",
           "sign_frac", "cos_abs", "wmean_sign", "scalar_ident_err")
PER_TENSOR = ("local_raw", "local", "a", "b")


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    hidden: int
    depth: int
    lr: float = 1e-3
    batch: int = 128
    seed: int = 0
    ckpt_every: int = 200
    bf16: bool = False  # autocast on CUDA; the stage sets it for the `full` profile only


def load_dataset(name: str, path: Path, n_train: int, seed: int):
    """(Xtr, ytr, Xte, yte): a seeded subset of n_train training images (kexue.data.classification)."""
    from kexue.data.classification import classification_split

    return classification_split(name, path, n_train, subset_seed=[seed, 9931])

def _cos(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    den = x.norm() * y.norm()
    return torch.where(den > 0, (x * y).sum() / torch.where(den > 0, den, 1.0), torch.zeros_like(den))


def step_stats(us, gs, us_raw):
    """One float64 vector: SCALARS[1:] then local_raw, local, a, b (K each)."""
    K = len(us)
    c_raw = torch.stack([_cos(u, g) for u, g in zip(us_raw, gs)])
    c = torch.stack([_cos(u, g) for u, g in zip(us, gs)])
    a = torch.stack([u.norm() for u in us])
    b = torch.stack([g.norm() for g in gs])
    U, G, Ur = torch.cat(us), torch.cat(gs), torch.cat(us_raw)
    glob, glob_raw = _cos(U, G), _cos(Ur, G)
    cos_ab = _cos(a, b)
    w = a * b
    cbar = (w * c).sum() / w.sum().clamp_min(1e-300)
    ident = (c * a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-300)
    s = torch.sign(U * G)
    nz = (s != 0).sum().clamp_min(1)
    sign_frac = (s > 0).sum() / nz
    wi = U.abs() * G.abs()
    wmean = (wi * s).sum() / wi.sum().clamp_min(1e-300)
    cabs = _cos(U.abs(), G.abs())
    head = torch.stack([glob_raw, glob, cos_ab, cbar, (glob - ident).abs(),
                        sign_frac.double(), cabs, wmean, (glob - cabs * wmean).abs()])
    assert head.numel() == len(SCALARS) - 1 and K > 0
    return torch.cat([head, c_raw, c, a, b])


def train_one(lam: float, data, cfg: TrainConfig, device: str = "cpu",
              run_dir: Path | None = None, fingerprint: str = "") -> dict:
    """Train one MLP with per-tensor cosine clipping at `lam`; returns numpy traces.

    The loop is `kexue.train.TrainLoop`: checkpoint/resume in `run_dir` (ignored when
    written under another fingerprint), per-step records in run_dir/stats.jsonl, tqdm,
    and a guard that stops with the step number when any recorded value is not finite.
    """
    import tempfile

    from kexue.train import TrainLoop, autocast, batch_generator

    Xtr, ytr, Xte, yte = (t.to(device) for t in data)
    torch.manual_seed(cfg.seed)  # same initialisation for every λ
    model = MLP(Xtr.shape[1], cfg.hidden, cfg.depth, int(ytr.max()) + 1).to(device)
    named = list(model.named_parameters())
    names, params = [n for n, _ in named], [p for _, p in named]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    K = len(params)
    cols = list(SCALARS[1:]) + [f"{k}_{i}" for k in PER_TENSOR for i in range(K)]

    def step(t: int) -> dict:
        # minibatch: a function of (seed, step) only -> same data for every λ and on resume
        idx = torch.randint(len(ytr), (cfg.batch,), generator=batch_generator(cfg.seed, t)).to(device)
        with autocast(device, cfg.bf16):
            logits = model(Xtr[idx])
        loss = F.cross_entropy(logits.float(), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            gs = [p.grad.detach().double().flatten() for p in params]  # read before stepping
            before = [p.detach().clone() for p in params]
            opt.step()
            us_raw = [(b0 - p).double().flatten() for b0, p in zip(before, params)]
            us = [clip_cosine(u, g, lam) for u, g in zip(us_raw, gs)]
            for p, b0, u in zip(params, before, us):
                p.copy_(b0 - u.view_as(p).to(p.dtype))
            vec = torch.cat([loss.detach().double().view(1), step_stats(us, gs, us_raw)])
        return dict(zip(("loss", *cols), vec.cpu().tolist()))

    tmp = None
    if run_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="a9931-")
        run_dir = Path(tmp.name)
    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=cfg.steps,
                     run_dir=run_dir, fingerprint=f"{fingerprint}|lam={lam!r}", ckpt_every=cfg.ckpt_every,
                     desc=f"a9931 adam λ={lam:g}")
    recs = loop.run()
    if tmp is not None:
        tmp.cleanup()
    with torch.no_grad(), autocast(device, cfg.bf16):
        logits = model(Xte).float()
    out = {k: np.array([r[k] for r in recs]) for k in SCALARS}
    for k in PER_TENSOR:
        out[k] = np.array([[r[f"{k}_{i}"] for i in range(K)] for r in recs])
    if len(recs) != cfg.steps or [r["step"] for r in recs] != list(range(cfg.steps)):
        raise RuntimeError(f"a9931 adam λ={lam}: {run_dir}/stats.jsonl does not hold steps 0..{cfg.steps - 1}")
    out["clipped"] = out["local_raw"] < lam
    out["test_loss"] = float(F.cross_entropy(logits, yte))
    out["test_acc"] = float((logits.argmax(1) == yte).float().mean())
    out["tensor_names"] = names
    return out


def run(lams, data, cfg: TrainConfig, device="cpu", ckpt_dir: Path | None = None, fingerprint=""):
    """Per-λ traces: {lam: train_one(...)}; λ's run folder is ckpt_dir/lambda-<λ>."""
    res = {}
    for lam in lams:
        rd = None if ckpt_dir is None else Path(ckpt_dir) / f"lambda-{lam:g}"
        res[lam] = train_one(float(lam), data, cfg, device, rd, fingerprint)
    return res
