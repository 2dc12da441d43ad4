"""Train short, test long: does the log_base n logit factor help a retrieval attention extrapolate?

C6 of kexue.fm/archives/9588 (the experiment itself is from 8823). The model is the shared
one-layer `kexue.nn.retrieval_attention.RetrievalAttention`: n keys with value tokens, the query
is one of the keys plus noise, the answer is that key's value. "O" scores with 1/sqrt(d), "E"
multiplies the logits by log_base n, n being the number of keys in the problem. Both are trained
at one length with the same initialisation and minibatch stream, then evaluated on the same
fixed test problems at longer lengths.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.errors import KexueError
from kexue.nn.retrieval_attention import RetrievalAttention, retrieval_batch

LENGTH_SCALE = {"O": "none", "E": "log"}


@dataclass(frozen=True)
class ToyConfig:
    train_len: int
    test_lens: tuple[int, ...]
    key_dim: int
    d_model: int
    n_values: int
    noise: float
    logit_scale: float
    base_len: int
    steps: int
    batch: int
    lr: float
    eval_problems: int
    ckpt_every: int
    bf16: bool = False  # autocast on CUDA; the stage sets it at the `full` profile only

    def __post_init__(self):
        if self.train_len < 2 or min(self.test_lens) < 2:
            raise KexueError(f"ToyConfig: train_len = {self.train_len} and test lengths {self.test_lens} must be >= 2")
        if self.eval_problems < 1 or self.steps < 1:
            raise KexueError(f"ToyConfig: steps = {self.steps}, eval_problems = {self.eval_problems} must be >= 1")


def _model(variant: str, cfg: ToyConfig) -> RetrievalAttention:
    if variant not in LENGTH_SCALE:
        raise KexueError(f"variant {variant!r}: choose 'O' (1/sqrt d) or 'E' (log_base n factor)")
    return RetrievalAttention(cfg.key_dim, cfg.d_model, cfg.n_values, logit_scale=cfg.logit_scale,
                              length_scale=LENGTH_SCALE[variant], base_len=cfg.base_len)


@torch.no_grad()
def evaluate(model: RetrievalAttention, cfg: ToyConfig, eval_seed: int, device: str) -> dict:
    """Accuracy, attention entropy, mass on the queried key and the accuracy of a hard lookup by
    the raw dot product (a reference) at each test length.

    The test problems depend only on (eval_seed, length): O, E and every training seed see the same ones.
    """
    model.eval()
    out = {}
    for n in cfg.test_lens:
        g = torch.Generator().manual_seed(eval_seed * 100_003 + n)
        correct, oracle, ent, mass, done = 0, 0, 0.0, 0.0, 0
        while done < cfg.eval_problems:
            b = min(1024, cfg.eval_problems - done)
            x = retrieval_batch(b, n, cfg.key_dim, cfg.n_values, g, cfg.noise, device)
            logits, p = model(x["query"], x["keys"], x["values"])
            correct += int((logits.argmax(-1) == x["target"]).sum())
            # reference: does a hard lookup by the raw dot product q.k_i rank the queried key first?
            oracle += int((torch.einsum("bd,bnd->bn", x["query"], x["keys"]).argmax(-1) == x["index"]).sum())
            ent += float(-(p * torch.log(p.clamp_min(1e-30))).sum(-1).sum())
            mass += float(p[torch.arange(b, device=p.device), x["index"]].sum())
            done += b
        out[int(n)] = {"correct": correct, "problems": done, "acc": correct / done, "dot_oracle_acc": oracle / done,
                       "entropy": ent / done, "target_mass": mass / done}
    model.train()
    return out


def train_and_evaluate(variant: str, seed: int, cfg: ToyConfig, device: str, run_dir: Path,
                       fingerprint: str, eval_seed: int) -> dict:
    """Train one model with kexue.train.TrainLoop (resumable in run_dir) and evaluate it."""
    from kexue.train import TrainLoop, autocast, batch_generator

    torch.manual_seed(seed)  # O and E of one seed start from the same weights
    model = _model(variant, cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    def step(i: int) -> dict:
        x = retrieval_batch(cfg.batch, cfg.train_len, cfg.key_dim, cfg.n_values, batch_generator(seed, i),
                            cfg.noise, device)
        with autocast(device, cfg.bf16):
            logits, _ = model(x["query"], x["keys"], x["values"])
        loss = F.cross_entropy(logits.float(), x["target"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "acc": float((logits.argmax(-1) == x["target"]).float().mean())}

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=cfg.steps,
                     run_dir=run_dir, fingerprint=f"{fingerprint}|{variant}|seed={seed}",
                     ckpt_every=cfg.ckpt_every, desc=f"toy {variant} seed {seed}")
    recs = loop.run()
    if len(recs) != cfg.steps:
        raise KexueError(f"toy {variant} seed {seed}: {run_dir}/stats.jsonl holds {len(recs)} of {cfg.steps} steps")
    loss = np.array([r["loss"] for r in recs])
    return {"eval": evaluate(model, cfg, eval_seed, device), "loss": loss,
            "final_train_loss": float(loss[-max(1, cfg.steps // 20):].mean())}
