"""A small decoder-only language model in the style of nanoGPT, shared by the LM articles (9698, 9675, 9046, ...).

    cfg = GPTConfig(vocab=1024, d=128, layers=2, heads=4, ctx=64)
    model = GPT(cfg)
    logits, loss = model(idx, targets)                       # idx [B, T] int64; logits fp32
    logits = model(long_idx, scaling=RopeScaling("ntk", k=8))  # T > ctx needs a named rule

Design choices, each asked for by a card:
- Pre-norm blocks with RMSNorm (unit gain at init), causal multi-head attention with RoPE on q and k
  (kexue.nn.rope: interleaved pairs, configurable base, PI / NTK at test time), GELU MLP, no absolute positions.
- `zero_init_residual`: the attention and MLP output projections start at exactly zero, so the step-0 network is
  the identity plus the final norm -- a pure bigram model (card 9698: the tied-embedding initial-loss argument).
- Output head (card 9698): "untied" (its own matrix), "tied" (the embedding matrix), "tied_orth" (a random
  orthogonal d x d map after the final norm, then the tied matrix), "tied_swap" (swap the two halves of the
  normalised state, parameter-free), "tied_bert" (dense + bias + GELU + LayerNorm, then tied matrix + output bias).
  The tie is made AFTER initialisation, so nn.Linear's default init cannot overwrite the shared matrix.
- `logn_attention`: scale query i's logits by log_{ctx}(i+1) (card 9675's entropy-invariant log n factor, n = keys
  visible to the query).
- Logits and the loss are computed in float32 even under bf16 autocast (e^{d sigma} overflows in half precision).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from kexue.errors import KexueError
from kexue.nn.rope import RopeScaling, check_base

HEADS = ("untied", "tied", "tied_orth", "tied_swap", "tied_bert")


@dataclass
class GPTConfig:
    vocab: int
    d: int = 128
    layers: int = 2
    heads: int = 4
    ctx: int = 64                   # the training context length: longer inputs need a RopeScaling rule
    mlp_ratio: int = 4
    rope_base: float = 10000.0
    head: str = "untied"            # one of HEADS
    emb_std: float = 0.02           # N(0, emb_std^2) for the embedding (and the untied head)
    init_std: float = 0.02          # every other weight matrix
    zero_init_residual: bool = True
    logn_attention: bool = False

    def __post_init__(self):
        for name in ("vocab", "d", "layers", "heads", "ctx", "mlp_ratio"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise KexueError(f"GPTConfig.{name} = {v!r}: must be a positive integer")
        if self.d % self.heads or (self.d // self.heads) % 2:
            raise KexueError(f"GPTConfig: d = {self.d} must split into {self.heads} heads of even size (RoPE pairs)")
        if self.head not in HEADS:
            raise KexueError(f"GPTConfig.head = {self.head!r}: choose one of {', '.join(HEADS)}")
        if self.head == "tied_swap" and self.d % 2:
            raise KexueError("GPTConfig: the half swap needs an even d")
        if not (self.emb_std > 0 and self.init_std > 0):
            raise KexueError(f"GPTConfig: emb_std = {self.emb_std}, init_std = {self.init_std}; both must be > 0")
        check_base(self.rope_base)
        if self.logn_attention and self.ctx < 2:
            raise KexueError("GPTConfig: the log n attention scale needs ctx >= 2 (it is log base ctx)")


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.gain = nn.Parameter(torch.ones(d))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.gain


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg, self.h, self.dh = cfg, cfg.heads, cfg.d // cfg.heads
        self.qkv = nn.Linear(cfg.d, 3 * cfg.d, bias=False)
        self.out = nn.Linear(cfg.d, cfg.d, bias=False)

    def forward(self, x, angles):
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.h, self.dh).permute(2, 0, 3, 1, 4)   # each [B, h, T, dh]
        from kexue.nn.rope import rotate
        q, k = rotate(q, angles), rotate(k, angles)
        if self.cfg.logn_attention:   # log_{ctx}(i+1) per query: n = i+1 keys are visible to query i
            pos = torch.arange(1, T + 1, device=x.device, dtype=torch.float32)
            q = q * (torch.log(pos) / math.log(self.cfg.ctx)).to(q.dtype)[:, None]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n1, self.attn = RMSNorm(cfg.d), Attention(cfg)
        self.n2 = RMSNorm(cfg.d)
        self.mlp = nn.Sequential(nn.Linear(cfg.d, cfg.mlp_ratio * cfg.d, bias=False), nn.GELU(),
                                 nn.Linear(cfg.mlp_ratio * cfg.d, cfg.d, bias=False))

    def forward(self, x, angles):
        x = x + self.attn(self.n1(x), angles)
        return x + self.mlp(self.n2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.emb = nn.Embedding(cfg.vocab, cfg.d)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.d)
        if cfg.head == "tied_orth":
            self.proj = nn.Linear(cfg.d, cfg.d, bias=False)
        elif cfg.head == "tied_bert":
            self.proj = nn.Sequential(nn.Linear(cfg.d, cfg.d), nn.GELU(), nn.LayerNorm(cfg.d))
            self.out_bias = nn.Parameter(torch.zeros(cfg.vocab))
        self.lm_head = nn.Linear(cfg.d, cfg.vocab, bias=False)
        self._init()

    def _init(self):
        c = self.cfg
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=c.init_std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.emb.weight, std=c.emb_std)
        for b in self.blocks:
            for lin in (b.attn.out, b.mlp[2]):
                if c.zero_init_residual:
                    nn.init.zeros_(lin.weight)
                else:   # GPT-2's scaled residual init
                    nn.init.normal_(lin.weight, std=c.init_std / math.sqrt(2 * c.layers))
        if c.head == "tied_orth":
            nn.init.orthogonal_(self.proj.weight)      # random orthogonal, never the identity (= naive tying)
        elif c.head == "tied_bert":
            nn.init.orthogonal_(self.proj[0].weight)
        if c.head == "untied":
            nn.init.normal_(self.lm_head.weight, std=c.emb_std)
        else:
            self.lm_head.weight = self.emb.weight       # tie after init: one shared tensor

    @property
    def config(self) -> dict:
        return {"arch": "gpt", **asdict(self.cfg)}

    @classmethod
    def from_config(cls, config: dict) -> "GPT":
        if config.get("arch") != "gpt":
            raise KexueError(f"checkpoint architecture {config.get('arch')!r} is not 'gpt'")
        return cls(GPTConfig(**{k: v for k, v in config.items() if k != "arch"}))

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())   # a tied matrix counts once

    def hidden(self, idx: torch.Tensor, scaling: RopeScaling | None = None) -> torch.Tensor:
        """The state the output matrix reads: final norm, then the head's d x d map if it has one."""
        if idx.dim() != 2:
            raise KexueError(f"GPT input of shape {tuple(idx.shape)}: need token ids [batch, time]")
        T = idx.shape[1]
        if T > self.cfg.ctx and scaling is None:
            raise KexueError(f"context {T} > the {self.cfg.ctx} tokens this model was trained on: pass "
                             "scaling=RopeScaling(rule, k) with rule 'extrapolate', 'pi' or 'ntk' to say how")
        if int(idx.max()) >= self.cfg.vocab or int(idx.min()) < 0:
            raise KexueError(f"token id {int(idx.max())} outside the model's vocabulary of {self.cfg.vocab}: "
                             "the checkpoint and the corpus disagree (rebuild the corpus or retrain)")
        scaling = scaling or RopeScaling()
        pos = torch.arange(T, device=idx.device)
        angles = scaling.angles(pos, self.cfg.d // self.cfg.heads, self.cfg.rope_base).to(idx.device)
        x = self.emb(idx)
        for b in self.blocks:
            x = b(x, angles)
        h = self.norm(x)
        if self.cfg.head == "tied_swap":        # only the state is permuted; swapping the matrix too is a no-op
            half = self.cfg.d // 2
            h = torch.cat([h[..., half:], h[..., :half]], dim=-1)
        elif self.cfg.head in ("tied_orth", "tied_bert"):
            h = self.proj(h)
        return h

    def forward(self, idx, targets=None, scaling: RopeScaling | None = None):
        h = self.hidden(idx, scaling)
        logits = F.linear(h.float(), self.lm_head.weight.float())
        if self.cfg.head == "tied_bert":
            logits = logits + self.out_bias.float()
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss
