"""Training demo for the initialisation argument of kexue.fm/archives/9593 (C4).

One attention layer (kexue.nn.retrieval_attention, shared with 9588) must return the value of
the key that matches the query among n random keys. Its logits are multiplied by a fixed
scale c: with c = 100 the initial attention is nearly one-hot (entropy ~ 0, softmax Jacobian
~ 0), with c = 1 it is nearly uniform. Same data stream, same Adam learning rate and the same
initial weights for every c (seeded per seed only), so the only difference is c.

Minibatches come from `kexue.train.batch_generator(seed, step)`; the loop is TrainLoop, so a
run killed mid-way resumes from its checkpoint with identical numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.nn.retrieval_attention import RetrievalAttention, retrieval_batch


@dataclass(frozen=True)
class InitConfig:
    n_keys: int = 32
    d: int = 32
    d_model: int = 32
    n_values: int = 16
    batch: int = 64
    steps: int = 500
    lr: float = 1e-3
    eval_batch: int = 2048
    ckpt_every: int = 100


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(torch.special.xlogy(p, p)).sum(-1).mean()


def train_one(c: float, seed: int, cfg: InitConfig, run_dir: Path, fingerprint: str, device: str = "cpu") -> dict:
    """Train one model at logit scale c; returns per-step loss / attention entropy and the
    loss on a fixed evaluation batch after the last step."""
    from kexue.train import TrainLoop, batch_generator

    torch.manual_seed(seed)  # the same initial weights for every c
    model = RetrievalAttention(cfg.d, cfg.d_model, cfg.n_values, logit_scale=float(c)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    def step(t: int) -> dict:
        b = retrieval_batch(cfg.batch, cfg.n_keys, cfg.d, cfg.n_values, batch_generator(seed, t), device=device)
        logits, p = model(b["query"], b["keys"], b["values"])
        loss = F.cross_entropy(logits, b["target"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            acc = (logits.argmax(-1) == b["target"]).float().mean()
        return {"loss": loss.item(), "attn_entropy": _entropy(p.detach()).item(), "acc": acc.item()}

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=cfg.steps,
                     run_dir=run_dir, fingerprint=f"{fingerprint}|c={c!r}|seed={seed}",
                     ckpt_every=cfg.ckpt_every, desc=f"a9593 init c={c:g} seed={seed}")
    recs = loop.run()
    if [r["step"] for r in recs] != list(range(cfg.steps)):
        raise RuntimeError(f"a9593 init c={c}: {run_dir}/stats.jsonl does not hold steps 0..{cfg.steps - 1}")
    # a fixed evaluation set, the same for every c and seed (its own generator stream)
    g = torch.Generator().manual_seed(9593_000 + 1)
    b = retrieval_batch(cfg.eval_batch, cfg.n_keys, cfg.d, cfg.n_values, g, device=device)
    with torch.no_grad():
        logits, p = model(b["query"], b["keys"], b["values"])
        eval_loss = float(F.cross_entropy(logits, b["target"]))
        eval_acc = float((logits.argmax(-1) == b["target"]).float().mean())
        eval_entropy = float(_entropy(p))
    return {"loss": np.array([r["loss"] for r in recs]), "attn_entropy": np.array([r["attn_entropy"] for r in recs]),
            "eval_loss": eval_loss, "eval_acc": eval_acc, "eval_entropy": eval_entropy,
            "chance_loss": math.log(cfg.n_values)}


def run(scales, seeds, cfg: InitConfig, ckpt_dir: Path, fingerprint: str, device: str = "cpu") -> dict:
    """{(c, seed): train_one(...)}; each run's folder is ckpt_dir/c-<c>-seed-<seed>."""
    return {(float(c), int(s)): train_one(float(c), int(s), cfg, Path(ckpt_dir) / f"c-{c:g}-seed-{s}", fingerprint,
                                          device)
            for c in scales for s in seeds}
