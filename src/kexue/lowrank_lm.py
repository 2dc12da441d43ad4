"""Low-rank word-level language models for the unargmaxable-token claims (card 9046, C8/C9).

Model: the previous `ctx` words -> embeddings (concatenated) -> Linear + ReLU -> Linear to a bottleneck of width d
(no activation: this is the feature z the output layer reads) -> Linear(d, V) with or without bias. With d much
smaller than V the output layer is a low-rank softmax, where some tokens may be unargmaxable.

Training is `kexue.train.TrainLoop` (checkpoint/resume, NaN guard); minibatches depend only on (seed, step).
The final weights are saved with the corpus vocab_sha and reloading them on another vocabulary is refused.
Also: `load_output_layer` reads a user-supplied checkpoint's output matrix (+ bias) for the `full` profile.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from kexue.errors import KexueError


@dataclass(frozen=True)
class LMConfig:
    vocab: int
    d: int                   # bottleneck width = rank of the logits
    bias: bool = True
    ctx: int = 3
    emb: int = 64
    hidden: int = 256

    def __post_init__(self):
        if self.vocab < 2 or self.d < 1 or self.ctx < 1 or self.emb < 1 or self.hidden < 1:
            raise KexueError(f"LMConfig{self}: need vocab >= 2 and d, ctx, emb, hidden >= 1")


class LowRankLM(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.cfg = cfg
        self.emb = nn.Embedding(cfg.vocab, cfg.emb)
        self.mlp = nn.Sequential(nn.Linear(cfg.ctx * cfg.emb, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.d))
        self.head = nn.Linear(cfg.d, cfg.vocab, bias=cfg.bias)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.emb(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(x))


def windows(ids: np.ndarray, ctx: int, positions: np.ndarray | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ids[t-ctx:t] and targets ids[t] for the given target positions t (default: all t >= ctx)."""
    if len(ids) <= ctx:
        raise KexueError(f"a stream of {len(ids)} tokens is too short for a context of {ctx}")
    t = np.arange(ctx, len(ids)) if positions is None else np.asarray(positions)
    X = np.stack([ids[t - ctx + j] for j in range(ctx)], 1)
    return torch.from_numpy(X), torch.from_numpy(ids[t])


def train_lm(cfg: LMConfig, train_ids: np.ndarray, *, steps: int, batch: int, lr: float, seed: int,
             run_dir: Path, fingerprint: str, device: str = "cpu", bf16: bool = False, vocab_sha: str = "",
             ckpt_every: int = 100, desc: str = "lowrank-lm") -> tuple[LowRankLM, list[dict]]:
    from kexue.train import TrainLoop, autocast, batch_generator

    torch.manual_seed(seed)
    model = LowRankLM(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n_pos = len(train_ids) - cfg.ctx

    def step(t: int) -> dict:
        pos = torch.randint(n_pos, (batch,), generator=batch_generator(seed, t)).numpy() + cfg.ctx
        x, y = (v.to(device) for v in windows(train_ids, cfg.ctx, pos))
        with autocast(device, bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": float(loss.detach())}

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=steps, run_dir=run_dir,
                     fingerprint=f"{fingerprint}|{cfg}|{vocab_sha}", ckpt_every=ckpt_every, desc=desc)
    recs = loop.run()
    torch.save({"config": cfg.__dict__, "state": model.state_dict(), "vocab_sha": vocab_sha},
               Path(run_dir) / "model.pt")
    return model, recs


@torch.no_grad()
def hidden_and_logits_stats(model: LowRankLM, ids: np.ndarray, device: str = "cpu", chunk: int = 8192) -> dict:
    """Hidden states of every position of `ids` (float64), argmax token, and mean cross-entropy."""
    X, y = windows(ids, model.cfg.ctx)
    H, win, nll = [], [], 0.0
    for s in range(0, len(y), chunk):
        h = model.hidden(X[s:s + chunk].to(device)).double()
        logits = h @ model.head.weight.double().T
        if model.head.bias is not None:
            logits = logits + model.head.bias.double()
        nll += float(F.cross_entropy(logits, y[s:s + chunk].to(device), reduction="sum"))
        H.append(h.cpu().numpy())
        win.append(logits.argmax(1).cpu().numpy())
    return {"H": np.concatenate(H), "argmax": np.concatenate(win), "nll": nll / len(y)}


def output_layer(model: LowRankLM) -> tuple[np.ndarray, np.ndarray | None]:
    W = model.head.weight.detach().double().cpu().numpy()
    b = None if model.head.bias is None else model.head.bias.detach().double().cpu().numpy()
    return W, b


def max_token_logprob(W, b, H, tokens, chunk: int = 4096) -> np.ndarray:
    """max over the rows of H of log softmax(W h + b)[token], float64 (a probability can underflow; a log cannot)."""
    best = np.full(len(tokens), -np.inf)
    b = np.zeros(W.shape[0]) if b is None else b
    for s in range(0, len(H), chunk):
        L = H[s:s + chunk] @ W.T + b
        m = L.max(1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(L - m).sum(1))
        best = np.maximum(best, (L[:, tokens] - lse[:, None]).max(0))
    return best


HEAD_KEYS = ("lm_head.weight", "transformer.wte.weight", "wte.weight", "embed_out.weight", "output.weight",
             "head.weight", "W")
BIAS_KEYS = ("lm_head.bias", "final_logits_bias", "head.bias", "b")


def load_output_layer(path: str | Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    """A user-supplied checkpoint's output layer: .npz with W [V, d] (and optional b), or a torch state dict
    (.pt/.pth/.bin) holding one of HEAD_KEYS (and optionally BIAS_KEYS). Returns (W, b, key used)."""
    p = Path(path)
    if not p.is_file():
        raise KexueError(f"checkpoint {p} does not exist; give the path of a local .npz (W, b) or torch state "
                         "dict (e.g. GPT-2's pytorch_model.bin), or set checkpoint: null")
    if p.suffix == ".npz":
        z = np.load(p)
        sd = {k: z[k] for k in z.files}
    elif p.suffix in (".pt", ".pth", ".bin"):
        sd = torch.load(p, map_location="cpu", weights_only=True)
        sd = sd.get("state_dict", sd.get("model", sd)) if isinstance(sd, dict) else sd
    else:
        raise KexueError(f"checkpoint {p}: unknown format {p.suffix!r}; use .npz, .pt, .pth or .bin")
    key = next((k for k in HEAD_KEYS if k in sd), None)
    if key is None:
        raise KexueError(f"checkpoint {p} holds none of the output-matrix keys {HEAD_KEYS}; "
                         f"its keys start with {list(sd)[:8]}")
    W = np.asarray(torch.as_tensor(sd[key]).double().numpy())
    bkey = next((k for k in BIAS_KEYS if k in sd), None)
    b = None if bkey is None else np.asarray(torch.as_tensor(sd[bkey]).double().numpy()).reshape(-1)
    if W.ndim != 2:
        raise KexueError(f"checkpoint {p}: {key} has shape {W.shape}, expected [vocab, d]")
    if W.shape[0] < W.shape[1]:
        W = W.T                                     # stored as [d, V]
    return W, b, key
