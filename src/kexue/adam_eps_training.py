"""Where Adam's ε sits relative to √v̂ after a short training run, as a function of model width.

C10 of kexue.fm/archives/10563 (background): gradient norms of stably trainable models are
roughly width-independent, so per-parameter gradients — and Adam's √v̂ — shrink as models grow,
and a fixed ε (1e-8 PyTorch, 1e-5 LLaMA-2) becomes relatively larger. We train an MLP
in-(n)-(n)-10 with torch.optim.Adam for a few epochs per width n and read the optimizer state:
√v̂ = √(v / (1 − β2^t)) per parameter (Adam's own bias-corrected second moment), its quantiles,
the fractions below 1e-8 / 1e-5, a histogram of log10 √v̂, and the global minibatch gradient
norm over the last steps (with its interval).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.errors import KexueError
from kexue.nn.mlp import MLP

THRESHOLDS = (1e-8, 1e-7, 1e-6, 1e-5)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HIST_EDGES = np.linspace(-12.0, 1.0, 131)  # log10 √v̂ bins; exact zeros are counted apart


@dataclass(frozen=True)
class WidthRun:
    hidden: int
    steps: int
    lr: float = 1e-3
    batch: int = 128
    depth: int = 2
    eps: float = 1e-8
    seed: int = 0
    ckpt_every: int = 100
    tail: int = 50          # last steps whose minibatch gradient norms are averaged
    bf16: bool = False


def load_split(name: str, path: Path, n_train: int, seed: int):
    """(Xtr, ytr, Xte, yte): a seeded subset of n_train training images (kexue.data.classification)."""
    from kexue.data.classification import classification_split

    return classification_split(name, path, n_train, subset_seed=[seed, 10563])

def steps_for(n_train: int, epochs: float, batch: int) -> int:
    if n_train < 1 or epochs <= 0 or batch < 1:
        raise KexueError(f"n_train = {n_train}, epochs = {epochs}, batch = {batch}: all must be positive")
    return int(math.ceil(epochs * n_train / batch))


def sqrt_vhat(opt: torch.optim.Adam) -> np.ndarray:
    """Adam's bias-corrected √v̂ for every parameter coordinate (float64 numpy, concatenated)."""
    beta2 = opt.param_groups[0]["betas"][1]
    out = []
    for group in opt.param_groups:
        for p in group["params"]:
            st = opt.state[p]
            t = float(st["step"])
            out.append(torch.sqrt(st["exp_avg_sq"].double() / (1 - beta2 ** t)).flatten().cpu().numpy())
    return np.concatenate(out)


def vhat_stats(s: np.ndarray) -> dict:
    pos = s[s > 0]
    hist, _ = np.histogram(np.log10(pos), bins=HIST_EDGES)
    return {"n_params": int(s.size), "n_zero": int((s == 0).sum()),
            "quantiles": {f"{q:g}": float(np.quantile(s, q)) for q in QUANTILES},
            "median": float(np.median(s)),
            "frac_below": {f"{t:g}": float((s < t).mean()) for t in THRESHOLDS},
            # the same without exact zeros (always-blank input pixels, dead ReLU units: no gradient ever)
            "frac_below_nonzero": {f"{t:g}": float((pos < t).mean()) if pos.size else 0.0 for t in THRESHOLDS},
            "hist": hist.tolist(), "hist_edges": HIST_EDGES.tolist(),
            "below_hist_range": int((pos < 10 ** HIST_EDGES[0]).sum())}


def train_width(data, cfg: WidthRun, device: str, run_dir: Path, fingerprint: str) -> dict:
    """Train one width with kexue.train.TrainLoop (resumable); return √v̂ and gradient-norm statistics."""
    from kexue.montecarlo import mean_ci
    from kexue.train import TrainLoop, autocast, batch_generator

    Xtr, ytr, Xte, yte = (t.to(device) for t in data)
    torch.manual_seed(cfg.seed)
    model = MLP(Xtr.shape[1], cfg.hidden, cfg.depth, int(ytr.max()) + 1).to(device)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=cfg.lr, eps=cfg.eps)

    def step(t: int) -> dict:
        idx = torch.randint(len(ytr), (cfg.batch,), generator=batch_generator(cfg.seed, t)).to(device)
        with autocast(device, cfg.bf16):
            logits = model(Xtr[idx])
        loss = F.cross_entropy(logits.float(), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params))
        opt.step()
        return {"loss": float(loss.detach()), "grad_norm": float(gnorm)}

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=cfg.steps, run_dir=run_dir,
                     fingerprint=f"{fingerprint}|n={cfg.hidden}", ckpt_every=cfg.ckpt_every,
                     desc=f"a10563 adam n={cfg.hidden}")
    recs = loop.run()
    if [r["step"] for r in recs] != list(range(cfg.steps)):
        raise RuntimeError(f"{run_dir}/stats.jsonl does not hold steps 0..{cfg.steps - 1}")
    gn = np.array([r["grad_norm"] for r in recs])
    tail = gn[-min(cfg.tail, len(gn)):]
    with torch.no_grad(), autocast(device, cfg.bf16):
        logits = model(Xte).float()
    s = sqrt_vhat(opt)
    return {"hidden": cfg.hidden, "steps": cfg.steps, "vhat": vhat_stats(s),
            "grad_norm_tail": mean_ci(tail) if tail.size >= 2 else {"mean": float(tail[0]), "n": 1},
            "grad_norm_trace": gn.tolist(), "loss_trace": [r["loss"] for r in recs],
            "test_acc": float((logits.argmax(1) == yte).float().mean()),
            "test_loss": float(F.cross_entropy(logits, yte))}


# ------------------------------------------------------------------ empirical η*(B) (full profile)
@dataclass(frozen=True)
class SweepConfig:
    hidden: int
    steps: int
    batches: tuple
    lrs: tuple
    eps_list: tuple
    seeds: tuple
    eval_n: int = 5000
    bf16: bool = False


def _final_loss(model, X, y, device, bf16) -> float:
    from kexue.train import autocast

    with torch.no_grad(), autocast(device, bf16):
        return float(F.cross_entropy(model(X).float(), y))


def lr_sweep(data, cfg: SweepConfig, device: str, run_dir: Path, fingerprint: str, log=print) -> list[dict]:
    """The measurement the theory targets: for each (ε, B) train from the same initialisation with each
    learning rate for a fixed number of steps and take η*(B) = the lr of the lowest training loss
    (mean over seeds; refined by a parabola in log lr through the best grid point and its neighbours).
    Every run is a TrainLoop with its own folder, so a killed sweep resumes run by run."""
    from kexue.train import TrainLoop, autocast, batch_generator

    Xtr, ytr = data[0].to(device), data[1].to(device)
    Xev, yev = Xtr[:cfg.eval_n], ytr[:cfg.eval_n]
    rows = []
    for eps in cfg.eps_list:
        for B in cfg.batches:
            loss = np.zeros((len(cfg.seeds), len(cfg.lrs)))
            for si, seed in enumerate(cfg.seeds):
                for li, lr in enumerate(cfg.lrs):
                    torch.manual_seed(seed)
                    model = MLP(Xtr.shape[1], cfg.hidden, 2, int(ytr.max()) + 1).to(device)
                    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=eps)

                    def step(t, model=model, opt=opt, seed=seed, B=B):
                        idx = torch.randint(len(ytr), (B,), generator=batch_generator(seed, t)).to(device)
                        with autocast(device, cfg.bf16):
                            out = model(Xtr[idx])
                        lo = F.cross_entropy(out.float(), ytr[idx])
                        opt.zero_grad(set_to_none=True)
                        lo.backward()
                        opt.step()
                        return {"loss": float(lo.detach())}

                    name = f"eps{eps:g}-B{B}-lr{lr:.3g}-s{seed}"
                    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=cfg.steps,
                                     run_dir=Path(run_dir) / name, fingerprint=f"{fingerprint}|{name}",
                                     ckpt_every=cfg.steps, desc=f"a10563 sweep {name}")
                    try:
                        loop.run()
                        loss[si, li] = _final_loss(model, Xev, yev, device, cfg.bf16)
                    except KexueError:  # diverged (NaN guard): this lr is too large
                        loss[si, li] = np.inf
            mean = loss.mean(0)
            i = int(np.argmin(mean))
            lx = np.log10(np.asarray(cfg.lrs, dtype=np.float64))
            best = lx[i]
            if 0 < i < len(lx) - 1 and np.all(np.isfinite(mean[i - 1:i + 2])):
                c = np.polyfit(lx[i - 1:i + 2], mean[i - 1:i + 2], 2)
                if c[0] > 0:
                    best = float(np.clip(-c[1] / (2 * c[0]), lx[i - 1], lx[i + 1]))
            rows.append({"eps": float(eps), "B": int(B), "lr_grid_best": float(cfg.lrs[i]), "lr_star": float(10 ** best),
                         "loss_at_best": float(mean[i]), "edge": bool(i in (0, len(lx) - 1)),
                         "losses": [float(v) for v in mean]})
            log(f"sweep ε={eps:g} B={B}: η* ≈ {10 ** best:.2e} (grid best {cfg.lrs[i]:.2e}, loss {mean[i]:.4f})")
    return rows
