"""Training with accuracy-like losses vs cross-entropy (kexue.fm/archives/9098, C5–C9).

One MLP per (loss, seed), same initialisation, same data order (an epoch-wise permutation
drawn from `batch_generator(seed, epoch)`), Adam. Losses on logits mu (C classes):

    ce           softmax cross-entropy, -log softmax_y
    softacc      softmax smoothed accuracy, -mean softmax_y
    exact        EXACT with sigma = 1: -mean p(y|x), p from kexue.exact_loss (log-space quadrature)
    exact_sigma  EXACT with a learned scale sigma(x) = floor + softplus(head(x)) (an extra scalar
                 output of the same MLP); guarded: sigma floored, gradients clipped, and steps
                 with a non-finite loss or gradient skipped (counted)
    exact_log    -log(batch mean of p(y|x)): the log of the average, not the average of -log p

At the end of each epoch the model is evaluated on the whole training and test sets: test
accuracy, train CE, train 1 - E[softmax_y], and the share of training samples with p_y < 0.01
("stuck") and p_y > 0.9 ("confident"), both for the loss's own probability model (softmax for
ce/softacc, EXACT's p for the exact variants) and for softmax of the logits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.errors import KexueError
from kexue.exact_loss import exact_log_prob, node_tensors
from kexue.nn.mlp import MLP

LOSSES = ("ce", "softacc", "exact", "exact_sigma", "exact_log")
EXACT_KINDS = ("exact", "exact_sigma", "exact_log")
EPOCH_KEYS = ("test_acc", "train_acc", "train_ce", "train_1mp", "own_stuck", "own_conf", "sm_stuck", "sm_conf",
              "own_mean_p", "sigma_mean")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    hidden: int
    depth: int
    lr: float = 1e-3
    batch: int = 128
    seed: int = 0
    n_nodes: int = 48
    sigma_floor: float = 0.1
    clip: float | None = 1.0      # gradient-norm clip for exact_sigma (None: off)
    guarded: bool = True          # skip non-finite steps (False: let the run fail, as an observation)
    ckpt_every: int = 100
    bf16: bool = False


def load_data(name: str, path: Path, n_train: int, n_test: int):
    """(Xtr, ytr, Xte, yte): the first n_train training / first n_test test images
    (digits: the first n_train images train, the next n_test test)."""
    from kexue.data.classification import classification_split

    return classification_split(name, path, n_train, n_test)

def split_output(kind: str, out: torch.Tensor, floor: float):
    """Logits mu and the EXACT scale sigma (None for the softmax losses, 1 for plain EXACT)."""
    if kind == "exact_sigma":
        return out[:, :-1], floor + F.softplus(out[:, -1].double())
    return out, (1.0 if kind in EXACT_KINDS else None)


def loss_value(kind: str, out: torch.Tensor, y: torch.Tensor, nodes, floor: float) -> torch.Tensor:
    mu, sigma = split_output(kind, out, floor)
    if kind == "ce":
        return F.cross_entropy(mu, y)
    if kind == "softacc":
        return -F.softmax(mu, 1).gather(1, y.view(-1, 1)).mean()
    # EXACT in float64: the quadrature sums ~C log Phi terms per node
    logp = exact_log_prob(mu.double(), y, sigma, nodes=nodes)
    if kind == "exact_log":
        return -(torch.logsumexp(logp, 0) - math.log(len(y)))
    return -logp.exp().mean()


@torch.no_grad()
def evaluate(kind: str, model, data, nodes, floor: float, chunk: int = 4096) -> tuple[dict, np.ndarray]:
    """Epoch-end statistics on the full train/test sets, and the own p_y of every training sample."""
    Xtr, ytr, Xte, yte = data

    def parts(X, y):
        own, sm, ce, correct, sig = [], [], [], [], []
        for i in range(0, len(y), chunk):
            out = model(X[i:i + chunk]).double()
            yy = y[i:i + chunk]
            mu, sigma = split_output(kind, out, floor)
            lsm = F.log_softmax(mu, 1).gather(1, yy.view(-1, 1)).squeeze(1)
            sm.append(lsm.exp())
            ce.append(-lsm)
            correct.append(mu.argmax(1) == yy)
            own.append(exact_log_prob(mu, yy, sigma, nodes=nodes).exp() if kind in EXACT_KINDS else lsm.exp())
            sig.append(sigma if torch.is_tensor(sigma) else torch.full((len(yy),), float(sigma or 1.0)))
        return (torch.cat(own).numpy(), torch.cat(sm).numpy(), torch.cat(ce).numpy(),
                torch.cat(correct).numpy(), torch.cat(sig).numpy())

    own, sm, ce, cor, sig = parts(Xtr, ytr)
    te_cor = parts(Xte, yte)[3]
    stats = {"test_acc": te_cor.mean(), "train_acc": cor.mean(), "train_ce": ce.mean(), "train_1mp": 1 - sm.mean(),
             "own_stuck": (own < 0.01).mean(), "own_conf": (own > 0.9).mean(), "sm_stuck": (sm < 0.01).mean(),
             "sm_conf": (sm > 0.9).mean(), "own_mean_p": own.mean(), "sigma_mean": sig.mean()}
    return {k: float(v) for k, v in stats.items()}, own


def train_one(kind: str, data, cfg: TrainConfig, run_dir: Path, fingerprint: str, device: str = "cpu") -> dict:
    """Train one model with `TrainLoop` (checkpoint/resume in run_dir). Returns per-step and
    per-epoch traces, the final own p_y of every training sample, and — when an unguarded run
    diverges — the step and message of the failure instead of raising."""
    from kexue.train import NonFiniteError, TrainLoop, autocast, batch_generator

    if kind not in LOSSES:
        raise KexueError(f"loss = {kind!r}: choose one of {LOSSES}")
    Xtr, ytr, Xte, yte = (t.to(device) for t in data)
    n, C = len(ytr), int(max(ytr.max(), yte.max())) + 1
    spe = math.ceil(n / cfg.batch)  # steps per epoch (last batch smaller)
    torch.manual_seed(cfg.seed)  # the same hidden-layer initialisation for every loss
    model = MLP(Xtr.shape[1], cfg.hidden, cfg.depth, C + (kind == "exact_sigma")).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    nodes = node_tensors(cfg.n_nodes, torch.float64, device)
    floor = cfg.sigma_floor
    finals = {}

    def step(t: int) -> dict:
        ep, i = divmod(t, spe)
        perm = torch.randperm(n, generator=batch_generator(cfg.seed, ep)).to(device)
        idx = perm[i * cfg.batch:(i + 1) * cfg.batch]
        model.train()
        with autocast(device, cfg.bf16):
            out = model(Xtr[idx])
        out = out.float()
        loss = loss_value(kind, out, ytr[idx], nodes, floor)
        opt.zero_grad(set_to_none=True)
        rec = {"skipped": 0.0}
        ok = bool(torch.isfinite(loss))
        if ok or not cfg.guarded:
            loss.backward()
            clip = cfg.clip if (kind == "exact_sigma" and cfg.clip) else float("inf")  # the card clips exact_sigma only
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            ok = ok and bool(torch.isfinite(gnorm))
            if ok or not cfg.guarded:
                opt.step()
            rec["grad_norm"] = float(gnorm)
        if not ok:
            rec["skipped"] = 1.0
        with torch.no_grad():
            mu, sigma = split_output(kind, out.detach(), floor)
            lsm = F.log_softmax(mu.double(), 1).gather(1, ytr[idx].view(-1, 1))
            rec.update(loss=float(loss), batch_ce=float(-lsm.mean()), batch_1mp=float(1 - lsm.exp().mean()))
            if kind == "exact_sigma":
                rec["sigma_mean"] = float(sigma.mean())
        if cfg.guarded:  # a skipped step leaves only finite numbers in the record
            rec = {k: v for k, v in rec.items() if math.isfinite(v)}
        if (t + 1) % spe == 0:
            model.eval()
            st, own = evaluate(kind, model, (Xtr, ytr, Xte, yte), nodes, floor)
            rec.update({f"ep_{k}": v for k, v in st.items()})
            finals["own"] = own
        return rec

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=spe * cfg.epochs,
                     run_dir=run_dir, fingerprint=f"{fingerprint}|{kind}|{cfg!r}", ckpt_every=cfg.ckpt_every,
                     desc=f"a9098 {kind} seed {cfg.seed}")
    failure = None
    try:
        recs = loop.run()
    except NonFiniteError as e:
        from kexue.io import read_jsonl

        failure = {"message": str(e)[:300], "step": len(read_jsonl(loop.stats))}
        recs = read_jsonl(loop.stats)
    if "own" not in finals or failure is not None:  # resumed past the last epoch end, or diverged
        model.eval()
        st, finals["own"] = evaluate(kind, model, (Xtr, ytr, Xte, yte), nodes, floor)
        if failure is not None:
            failure["test_acc_after"] = st["test_acc"]
    epochs = [r for r in recs if "ep_test_acc" in r]
    res = {"steps_per_epoch": spe, "n_steps": len(recs), "failure": failure,
           "step_loss": np.array([r.get("loss", np.nan) for r in recs]),
           "step_ce": np.array([r.get("batch_ce", np.nan) for r in recs]),
           "step_1mp": np.array([r.get("batch_1mp", np.nan) for r in recs]),
           "step_sigma": np.array([r.get("sigma_mean", np.nan) for r in recs]),
           "skipped": int(sum(r.get("skipped", 0) for r in recs)),
           "own_p_final": finals["own"].astype(np.float64)}
    for k in EPOCH_KEYS:
        res[f"ep_{k}"] = np.array([r[f"ep_{k}"] for r in epochs])
    return res
