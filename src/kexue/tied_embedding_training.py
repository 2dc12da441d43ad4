"""The real-model side of kexue.fm/archives/9698: step-0 losses and training curves of tied/untied output heads.

Variants (card 9698, stage `train`), all on the shared kexue.nn.gpt.GPT with zero-initialised residual branches
(so the step-0 network is exactly the bigram model the closed forms of kexue.tied_embedding_init describe):

    tied_naive  tied head, emb std 1/sqrt(d)       (the blow-up)
    tied_small  tied head, emb std log(n)/d        (fix a)
    untied      own output matrix, both std 1/sqrt(d)  (fix b)
    tied_orth   random orthogonal d x d map after the final norm, std 1/sqrt(d)  (fix c)
    tied_swap   swap the halves of the normalised state, std 1/sqrt(d)          (fix d)

Step-0 only (no training): tied_bert (dense+GELU+LayerNorm, std 1/sqrt(d)), tied_gpt2 (std 0.02) and
tied_naive_stdinit (GPT-2's non-zero residual init: the step-0 model is no longer the pure bigram model).
Losses are split by position into targets j != i (next token differs from the input token) and j = i.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.errors import KexueError
from kexue.nn.gpt import GPT, GPTConfig
from kexue.tied_embedding_init import sigma_of

# name -> (GPT head, sigma rule, zero-init residual)
VARIANTS = {
    "tied_naive": ("tied", "inv_sqrt_d", True),
    "tied_small": ("tied", "log_n_over_d", True),
    "untied": ("untied", "inv_sqrt_d", True),
    "tied_orth": ("tied_orth", "inv_sqrt_d", True),
    "tied_swap": ("tied_swap", "inv_sqrt_d", True),
}
EXTRA_VARIANTS = {
    "tied_bert": ("tied_bert", "inv_sqrt_d", True),
    "tied_gpt2": ("tied", "gpt2", True),
    "tied_naive_stdinit": ("tied", "inv_sqrt_d", False),
}
ALL_VARIANTS = {**VARIANTS, **EXTRA_VARIANTS}


@dataclass(frozen=True)
class ModelSpec:
    d: int
    layers: int
    heads: int
    ctx: int
    init_std: float = 0.02


@dataclass(frozen=True)
class TrainSpec:
    steps: int
    batch: int
    lr: float
    warmup_frac: float
    weight_decay: float
    grad_clip: float
    eval_every: int
    eval_windows: int
    ckpt_every: int
    bf16: bool = False


def build_model(variant: str, vocab: int, spec: ModelSpec, seed: int) -> GPT:
    """The same torch seed for every variant: the transformer blocks start identical wherever shapes agree."""
    if variant not in ALL_VARIANTS:
        raise KexueError(f"variant {variant!r}: choose one of {', '.join(ALL_VARIANTS)}")
    head, rule, zero = ALL_VARIANTS[variant]
    sigma = sigma_of(rule, vocab, spec.d)
    torch.manual_seed(seed)
    model = GPT(GPTConfig(vocab=vocab, d=spec.d, layers=spec.layers, heads=spec.heads, ctx=spec.ctx, head=head,
                          emb_std=sigma, init_std=spec.init_std, zero_init_residual=zero))
    # the card's pitfall: the tie must not be overwritten by nn.Linear's default init
    got = float(model.emb.weight.detach().std())
    if abs(got / sigma - 1) > 0.1:
        raise KexueError(f"variant {variant}: embedding std {got:.4g} is not the intended {sigma:.4g}")
    if head != "untied" and model.lm_head.weight is not model.emb.weight:
        raise KexueError(f"variant {variant}: the output matrix is not tied to the embedding")
    return model


@torch.no_grad()
def split_losses(model: GPT, windows: torch.Tensor, device: str = "cpu", bs: int = 64) -> dict:
    """Per-position cross-entropy on fixed windows [N, ctx+1], split into j != i and j = i (j target, i input)."""
    model.eval()
    losses, same, inp = [], [], []
    for a in range(0, len(windows), bs):
        w = windows[a:a + bs].to(device)
        x, y = w[:, :-1], w[:, 1:]
        logits = model(x)
        losses.append(F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").double().cpu())
        same.append((x == y).flatten().cpu())
        inp.append(x.flatten().cpu())
    model.train()
    loss, same, inp = torch.cat(losses).numpy(), torch.cat(same).numpy(), torch.cat(inp).numpy()
    # at step 0 the loss depends only on (i, j): j = i positions of one token share one value
    return {"all": loss, "other": loss[~same], "self": loss[same], "self_tokens": np.unique(inp[same])}


def _param_groups(model: GPT, wd: float) -> list[dict]:
    """Weight decay on the d x d (and wider) matrices only: not on embeddings / the untied head, gains, biases."""
    no_decay = {id(model.emb.weight), id(model.lm_head.weight)}
    decay = [p for p in model.parameters() if p.dim() >= 2 and id(p) not in no_decay]
    rest = [p for p in model.parameters() if not (p.dim() >= 2 and id(p) not in no_decay)]
    return [{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]


def lr_at(step: int, total: int, peak: float, warmup_frac: float) -> float:
    """Linear warmup over warmup_frac of the steps, then cosine to zero."""
    warm = max(1, round(warmup_frac * total))
    if step < warm:
        return peak * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


@torch.no_grad()
def val_loss(model: GPT, windows: torch.Tensor, device: str, bf16: bool) -> float:
    from kexue.train import autocast

    model.eval()
    tot, cnt = 0.0, 0
    for a in range(0, len(windows), 64):
        w = windows[a:a + 64].to(device)
        with autocast(device, bf16):
            _, loss = model(w[:, :-1], w[:, 1:])
        tot += float(loss) * w.shape[0]
        cnt += w.shape[0]
    model.train()
    return tot / cnt


def train_variant(variant: str, corpus, spec: ModelSpec, tr: TrainSpec, seed: int, run_dir: Path,
                  fingerprint: str, device: str = "cpu") -> dict:
    """Train one variant with kexue.train.TrainLoop (resumable); val loss every eval_every steps and at the end.

    The checkpoint fingerprint includes the corpus vocab_sha, so a checkpoint made on another vocabulary is never
    resumed (it is discarded and the run restarts)."""
    from kexue.data.text_corpus import batch, eval_windows
    from kexue.train import TrainLoop, autocast, batch_generator

    model = build_model(variant, corpus.n_vocab, spec, seed).to(device)
    opt = torch.optim.AdamW(_param_groups(model, tr.weight_decay), lr=tr.lr, betas=(0.9, 0.95))
    windows = eval_windows(corpus.val, tr.eval_windows, spec.ctx, seed + 1)

    def step(t: int) -> dict:
        rec = {}
        if t % tr.eval_every == 0:      # the loss *before* update t (t = 0: the initial model)
            rec["val_loss"] = val_loss(model, windows, device, tr.bf16)
        for g in opt.param_groups:
            g["lr"] = lr_at(t, tr.steps, tr.lr, tr.warmup_frac)
        x, y = batch(corpus.train, tr.batch, spec.ctx, batch_generator(seed, t))
        with autocast(device, tr.bf16):
            _, loss = model(x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), tr.grad_clip)
        opt.step()
        rec.update(loss=loss.item(), grad_norm=gn.item(), lr=opt.param_groups[0]["lr"])
        return rec

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=tr.steps, run_dir=run_dir,
                     fingerprint=f"{fingerprint}|{variant}|seed={seed}|vocab={corpus.vocab_sha}",
                     ckpt_every=tr.ckpt_every, desc=f"a9698 {variant} seed {seed}")
    recs = loop.run()
    if [r["step"] for r in recs] != list(range(tr.steps)):
        raise KexueError(f"{run_dir}/stats.jsonl does not hold steps 0..{tr.steps - 1}; delete {run_dir} and rerun")
    ev = [(r["step"], r["val_loss"]) for r in recs if "val_loss" in r]
    ev.append((tr.steps, val_loss(model, windows, device, tr.bf16)))
    return {"eval_steps": np.array([s for s, _ in ev]), "val_loss": np.array([v for _, v in ev]),
            "train_loss": np.array([r["loss"] for r in recs]), "grad_norm": np.array([r["grad_norm"] for r in recs]),
            "n_params": model.n_params()}
