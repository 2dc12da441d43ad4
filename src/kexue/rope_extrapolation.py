"""Length extrapolation of a RoPE language model without fine-tuning (kexue.fm/archives/9675, C5-C8).

Train a small GPT at context L_train twice (`std`: attention scale 1/sqrt(d_h); `logn`: query i's logits also
multiplied by log_{L_train}(i+1), n = keys visible to the query, in training AND test), then read texts of
length L_test = k L_train under three position rules (kexue.nn.rope): baseline = extrapolate, PI = n / k,
NTK = base * k^(d_h/(d_h-2)) (and the article's approximate base * k). Nothing is fine-tuned.

Test sets (built once with a fixed seed, shared by every model and rule, so all comparisons are paired):
- `train_len`: natural windows of L_train (every rule applied with k = 1: identical by construction, C6);
- `copy`: a chunk of L_train/2 tiled to L_train: the copy PRECONDITION for C8 (a model that does not copy
  within its training length cannot show the repeated-text advantage beyond it);
- `natural`: windows of L_test;
- `repeated`: a chunk of 2 L_train tiled to L_test, so copying needs attention beyond the trained distance.
Accuracy is next-token top-1 accuracy, per window, over all positions and over positions >= L_train.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kexue.data.text_corpus import Corpus, batch, check_vocab, eval_windows
from kexue.errors import KexueError
from kexue.nn.gpt import GPT, GPTConfig
from kexue.nn.rope import RopeScaling

TRAININGS = ("std", "logn")
RULES = ("extrapolate", "pi", "ntk", "ntk_article")
LABELS = {"extrapolate": "baseline", "pi": "PI", "ntk": "NTK", "ntk_article": "NTK (base·k)"}
TEST_SETS = ("train_len", "copy", "natural", "repeated")


@dataclass(frozen=True)
class TrainSpec:
    d: int
    layers: int
    heads: int
    train_len: int
    rope_base: float
    batch: int
    steps: int
    lr: float
    warmup: int
    weight_decay: float
    grad_clip: float
    ckpt_every: int
    seed: int
    bf16: bool = False


def tile(chunk: np.ndarray, length: int) -> np.ndarray:
    """Repeat `chunk` until `length` tokens (the article's 'repeated' samples)."""
    reps = -(-length // len(chunk))
    return np.tile(chunk, reps)[:length]


def build_test_sets(val: np.ndarray, n: int, train_len: int, test_len: int, seed: int) -> dict[str, np.ndarray]:
    """Token windows of length+1 (inputs and next-token targets) for every test set, from the validation stream."""
    if train_len % 2 or train_len < 4:
        raise KexueError(f"train_len = {train_len}: must be even and >= 4 (the copy test repeats L_train/2)")
    if test_len <= 2 * train_len:
        raise KexueError(f"test_len = {test_len} must exceed 2 * train_len = {2 * train_len} so that the "
                         "repeated chunk of 2 L_train occurs at least twice")
    nat = eval_windows(val, n, test_len, seed).numpy()
    short = eval_windows(val, n, train_len, seed + 1).numpy()
    # chunks start where the natural windows start: repeated and natural share their first 2 L_train tokens
    rep = np.stack([tile(w[:2 * train_len], test_len + 1) for w in nat])
    cop = np.stack([tile(w[:train_len // 2], train_len + 1) for w in short])
    return {"train_len": short, "copy": cop, "natural": nat, "repeated": rep}


def lr_at(step: int, spec: TrainSpec) -> float:
    """Linear warm-up then cosine decay to 10 % of the peak."""
    if step < spec.warmup:
        return spec.lr * (step + 1) / spec.warmup
    t = (step - spec.warmup) / max(1, spec.steps - spec.warmup)
    return spec.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def make_model(spec: TrainSpec, vocab: int, logn: bool) -> GPT:
    cfg = GPTConfig(vocab=vocab, d=spec.d, layers=spec.layers, heads=spec.heads, ctx=spec.train_len,
                    rope_base=spec.rope_base, head="untied", logn_attention=logn)
    torch.manual_seed(spec.seed)            # same initial weights for std and logn (paired comparison)
    return GPT(cfg)


def train(spec: TrainSpec, corpus: Corpus, logn: bool, run_dir: Path, fingerprint: str, device: str = "cpu") -> dict:
    """Resumable training (kexue.train.TrainLoop): batches depend on (seed, step) only, the same for std and logn."""
    from kexue.train import TrainLoop, autocast, batch_generator

    model = make_model(spec, corpus.n_vocab, logn).to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": spec.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=spec.lr, betas=(0.9, 0.99))

    def step(t: int) -> dict:
        for g in opt.param_groups:
            g["lr"] = lr_at(t, spec)
        x, y = batch(corpus.train, spec.batch, spec.train_len, batch_generator(spec.seed, t))
        x, y = x.to(device), y.to(device)
        with autocast(device, spec.bf16):
            _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), spec.grad_clip)
        opt.step()
        return {"loss": loss.item(), "grad_norm": float(gn)}

    name = "logn" if logn else "std"
    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=spec.steps,
                     run_dir=Path(run_dir) / name, fingerprint=f"{fingerprint}|{name}", ckpt_every=spec.ckpt_every,
                     desc=f"a9675 {name}")
    recs = loop.run()
    if [r["step"] for r in recs] != list(range(spec.steps)):
        raise KexueError(f"a9675 {name}: {run_dir}/{name}/stats.jsonl does not hold steps 0..{spec.steps - 1}; "
                         f"delete {run_dir}/{name} and rerun")
    loss = np.array([r["loss"] for r in recs])
    return {"model": model, "loss": loss, "n_params": model.n_params()}


def payload(model: GPT, corpus: Corpus, loss: np.ndarray) -> dict:
    return {"config": model.config, "state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "vocab_sha": corpus.vocab_sha, "n_vocab": corpus.n_vocab, "corpus": corpus.name,
            "final_loss": float(loss[-50:].mean())}


def load_model(ck: dict, vocab: list[str], name: str, device: str = "cpu") -> GPT:
    """Rebuild a trained model; a checkpoint from another vocabulary is refused (check_vocab)."""
    ref = Corpus(name, list(vocab), np.empty(0, np.int64), np.empty(0, np.int64))
    check_vocab(ref, ck["vocab_sha"], ck["n_vocab"])
    model = GPT.from_config(ck["config"])
    model.load_state_dict(ck["state"])
    return model.to(device).eval()


@torch.no_grad()
def correct_matrix(model: GPT, windows: np.ndarray, rule: str, device: str = "cpu", eval_batch: int = 16,
                   bf16: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """[n, T] booleans (top-1 correct) and [n, T] token losses for windows of T + 1 tokens under `rule`
    with k = T / L_train (k = 1 at the training length: every rule is then the plain model)."""
    from kexue.train import autocast

    T = windows.shape[1] - 1
    k = max(1.0, T / model.cfg.ctx)
    scaling = RopeScaling(rule, k)
    hits, losses = [], []
    for i in range(0, len(windows), eval_batch):
        w = torch.from_numpy(windows[i:i + eval_batch]).to(device)
        with autocast(device, bf16):
            logits = model(w[:, :-1], scaling=scaling).float()
        hits.append((logits.argmax(-1) == w[:, 1:]).cpu().numpy())
        losses.append(F.cross_entropy(logits.transpose(1, 2), w[:, 1:], reduction="none").cpu().numpy())
    return np.concatenate(hits), np.concatenate(losses)


def summarize(hits: np.ndarray, train_len: int) -> dict:
    """Per-window accuracies over all positions and over positions >= L_train (percent)."""
    from kexue.montecarlo import mean_ci

    per_all = 100 * hits.mean(1)
    out = {"all": mean_ci(per_all), "per_window_all": per_all.tolist()}
    if hits.shape[1] > train_len:
        per_beyond = 100 * hits[:, train_len:].mean(1)
        out.update(beyond=mean_ci(per_beyond), per_window_beyond=per_beyond.tolist())
    return out


def paired_diff(a: list[float], b: list[float]) -> dict:
    """Mean of per-window differences a - b with a t-interval (the windows are shared, so pairs are exact)."""
    from kexue.montecarlo import mean_ci

    return mean_ci(np.asarray(a) - np.asarray(b))


def bucket_accuracy(hits: np.ndarray, width: int) -> dict:
    """Accuracy by position bucket [j w, (j+1) w): mean and 95 % CI over windows (percent)."""
    from kexue.montecarlo import mean_ci

    T = hits.shape[1]
    nb = T // width
    per = 100 * hits[:, :nb * width].reshape(len(hits), nb, width).mean(2)
    ci = mean_ci(per, axis=0)
    return {"centre": ((np.arange(nb) + 0.5) * width).tolist(), "mean": ci["mean"], "lo": ci["lo"], "hi": ci["hi"],
            "n": ci["n"]}
