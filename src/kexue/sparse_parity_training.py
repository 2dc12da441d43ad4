"""Train one-hidden-layer ReLU MLPs on multitask sparse parity and record per-subtask test losses.

As in the paper's code: MLP in_dim -> width -> 2 (`depth=2` there = one hidden layer), Adam,
cross-entropy reported in bits. Infinite data by default: every step draws a fresh minibatch
from (seed, step) only (kexue.train.batch_generator), so resuming is exact. With `data_size`
the run instead cycles through a fixed training set of that many samples (the D-sweep), and its
loss is the minimum over the evaluation steps (the paper's early stopping).

Each run is a kexue.train.TrainLoop in its own folder: a killed stage resumes every run from
its last checkpoint. Per-subtask losses are measured on fixed per-subtask test sets at the
evaluation steps and stored in the run's stats.jsonl (keys "t0", "t1", ...).
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.data.sparse_parity import SparseParityTask
from kexue.errors import KexueError
from kexue.nn.mlp import MLP

LN2 = math.log(2.0)


@dataclass(frozen=True)
class RunConfig:
    width: int
    steps: int
    batch: int
    lr: float
    seed: int
    eval_steps: tuple[int, ...]     # steps (1..steps) after which the test losses are measured
    data_size: int | None = None    # None: a fresh minibatch every step (infinite data)
    ckpt_every: int = 500
    bf16: bool = False


def eval_schedule(steps: int, n_log: int) -> tuple[int, ...]:
    """About n_log log-spaced evaluation steps in [1, steps], always including `steps`."""
    if steps < 1 or n_log < 2:
        raise KexueError(f"eval_schedule: steps = {steps} (need >= 1), n_log = {n_log} (need >= 2)")
    s = np.unique(np.round(np.geomspace(1, steps, n_log)).astype(int))
    return tuple(int(v) for v in s)


def n_params(in_dim: int, width: int, out_dim: int = 2) -> int:
    return in_dim * width + width + width * out_dim + out_dim


@torch.no_grad()
def per_task_loss_bits(model, xt: torch.Tensor, yt: torch.Tensor) -> np.ndarray:
    """Mean cross-entropy in bits of every subtask on its fixed test set: float64 [n_tasks]."""
    T, m, d = xt.shape
    logits = model(xt.view(T * m, d)).float()
    ce = F.cross_entropy(logits, yt.view(-1), reduction="none").view(T, m).mean(1)
    return (ce.double() / LN2).cpu().numpy()


def train_run(task: SparseParityTask, test, cfg: RunConfig, device: str = "cpu", run_dir: Path | None = None,
              fingerprint: str = "", desc: str = "sparse parity") -> dict:
    """Train one MLP; returns {"eval_steps", "task_loss" [n_eval, n_tasks] bits, "mean_loss" [n_eval] bits
    (frequency-weighted), "train_loss" [steps] bits, "n_params"}."""
    from kexue.train import TrainLoop, autocast, batch_generator

    if cfg.width < 1:
        raise KexueError(f"train_run: width = {cfg.width}, need >= 1")
    if not cfg.eval_steps or max(cfg.eval_steps) > cfg.steps or min(cfg.eval_steps) < 1:
        raise KexueError(f"train_run: eval_steps must lie in [1, steps = {cfg.steps}], got {cfg.eval_steps}")
    xt, yt = (t.to(device) for t in test)
    torch.manual_seed(cfg.seed)
    model = MLP(task.in_dim, cfg.width, 1, 2).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    evals = set(cfg.eval_steps)
    if cfg.data_size is not None:
        g = torch.Generator().manual_seed(cfg.seed * 7919 + 17)
        Xd, Yd, _ = task.sample(cfg.data_size, g)
        Xd, Yd = Xd.to(device), Yd.to(device)

    def step(t: int) -> dict:
        g = batch_generator(cfg.seed, t)
        if cfg.data_size is None:
            x, y, _ = task.sample(cfg.batch, g)
            x, y = x.to(device), y.to(device)
        else:
            idx = torch.randint(cfg.data_size, (min(cfg.batch, cfg.data_size),), generator=g).to(device)
            x, y = Xd[idx], Yd[idx]
        with autocast(device, cfg.bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        rec = {"loss": float(loss.detach()) / LN2}
        if t + 1 in evals:  # losses after t + 1 optimisation steps
            model.eval()
            with autocast(device, cfg.bf16):
                rec.update({f"t{i}": v for i, v in enumerate(per_task_loss_bits(model, xt, yt).tolist())})
            model.train()
        return rec

    tmp = None
    if run_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="a9607-")
        run_dir = Path(tmp.name)
    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=cfg.steps, run_dir=run_dir,
                     fingerprint=f"{fingerprint}|{cfg!r}", ckpt_every=cfg.ckpt_every, desc=desc)
    recs = loop.run()
    if tmp is not None:
        tmp.cleanup()
    if [r["step"] for r in recs] != list(range(cfg.steps)):
        raise KexueError(f"{desc}: {run_dir}/stats.jsonl does not hold steps 0..{cfg.steps - 1}; delete the "
                         f"folder to retrain")
    ev = [r for r in recs if r["step"] + 1 in evals]
    task_loss = np.array([[r[f"t{i}"] for i in range(task.n_tasks)] for r in ev])
    return {"eval_steps": np.array([r["step"] + 1 for r in ev]), "task_loss": task_loss,
            "mean_loss": task_loss @ task.probs, "train_loss": np.array([r["loss"] for r in recs]),
            "n_params": n_params(task.in_dim, cfg.width)}


def first_below(task_loss: np.ndarray, steps: np.ndarray, thr: float) -> np.ndarray:
    """Per subtask, the first evaluation step with loss < thr (NaN if never): the emergence step."""
    below = task_loss < thr
    idx = np.argmax(below, axis=0)
    out = np.asarray(steps, dtype=np.float64)[idx]
    out[~below.any(0)] = np.nan
    return out


def transition_width(task_loss: np.ndarray, steps: np.ndarray, hi: float = 0.9, lo: float = 0.1) -> np.ndarray:
    """Per subtask, log10(step where loss first < lo·L0) − log10(step where it first < hi·L0), with L0 the
    subtask's first evaluated loss: the decades an emergence takes (NaN if it did not finish)."""
    L0 = task_loss[0]
    a = first_below(task_loss / L0, steps, hi)
    b = first_below(task_loss / L0, steps, lo)
    return np.log10(b) - np.log10(a)
