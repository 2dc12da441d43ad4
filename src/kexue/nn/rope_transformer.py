"""A small DiT-like Transformer eps-model with 2-D rotary position embeddings (card 10055, C9):
(x_t [B, C, H, W], t) -> eps_hat [B, C, H, W], patch p x p tokens, no absolute positions.

    model = RoPETransformer(dim=128, depth=4, heads=4, patch=2)
    eps_hat = model(x_t, t)          # any H, W divisible by the patch: same weights at 14 and 28 px

Why RoPE: with relative (rotary) positions the net has no position table tied to one resolution, so
it runs at 2x the training size like the U-Net does; card 10055 reports that upsample guidance
nevertheless does nothing for such a model (the author's DiT + 2-D RoPE test) — the U-Net's
translation-invariant convolutional prior is what makes the low-res prediction transfer.

2-D RoPE: each head's dimension is split in two halves; the first half is rotated by the token's row
index, the second by its column index (frequencies base^(-2k/half)), so q.k depends on the row and
column offsets only. Time: the shared sinusoidal TimeEmbedding, applied as adaLN (scale, shift and
gate per block, zero-initialised gates as in DiT), so the eps head starts at zero.
The `config` dict (arch "rope_transformer") rebuilds the model: `RoPETransformer.from_config`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kexue.nn.time_embedding import TimeEmbedding


def rope_2d(q: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, base: float = 100.0) -> torch.Tensor:
    """Rotate q [B, heads, N, d] (d divisible by 4) by token rows / cols [N]: first d/2 by row, rest by col."""
    d = q.shape[-1]
    if d % 4:
        raise ValueError(f"2-D RoPE: head dim {d} must be divisible by 4")
    quarter = d // 4
    freqs = base ** (-torch.arange(quarter, device=q.device, dtype=torch.float32) / quarter)

    def rot(x, pos):  # x [..., N, 2*quarter] as quarter complex pairs
        ang = pos.to(torch.float32)[:, None] * freqs[None]          # [N, quarter]
        c, s = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
        x1, x2 = x[..., :quarter], x[..., quarter:]
        return torch.cat([x1 * c - x2 * s, x1 * s + x2 * c], dim=-1)

    half = d // 2
    return torch.cat([rot(q[..., :half], rows), rot(q[..., half:], cols)], dim=-1)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, t_dim: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.ada = nn.Linear(t_dim, 6 * dim)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, temb, rows, cols):
        B, N, D = x.shape
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(F.silu(temb))[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + sc1) + sh1
        q, k, v = self.qkv(h).reshape(B, N, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        q, k = rope_2d(q, rows, cols), rope_2d(k, rows, cols)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, N, D)
        x = x + g1 * self.proj(a)
        return x + g2 * self.mlp(self.norm2(x) * (1 + sc2) + sh2)


class RoPETransformer(nn.Module):
    def __init__(self, in_channels: int = 1, dim: int = 128, depth: int = 4, heads: int = 4, patch: int = 2,
                 t_dim: int = 128, t_scale: float = 1.0):
        super().__init__()
        if dim % heads or (dim // heads) % 4:
            raise ValueError(f"RoPETransformer dim = {dim}, heads = {heads}: dim/heads must be a multiple of 4")
        if patch < 1 or depth < 1 or in_channels < 1:
            raise ValueError(f"RoPETransformer patch = {patch}, depth = {depth}, in_channels = {in_channels}: all >= 1")
        self.config = {"arch": "rope_transformer", "in_channels": in_channels, "dim": dim, "depth": depth,
                       "heads": heads, "patch": patch, "t_dim": t_dim, "t_scale": float(t_scale)}
        self.time = TimeEmbedding(t_dim, "sinusoidal", t_scale=t_scale)
        self.embed = nn.Linear(in_channels * patch * patch, dim)
        self.blocks = nn.ModuleList([Block(dim, heads, t_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.ada = nn.Linear(t_dim, 2 * dim)
        self.head = nn.Linear(dim, in_channels * patch * patch)
        for lin in (self.ada, self.head):  # eps_hat = 0 at init (DiT)
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    @classmethod
    def from_config(cls, config: dict) -> "RoPETransformer":
        return cls(**{k: v for k, v in config.items() if k != "arch"})

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        c, p = self.config["in_channels"], self.config["patch"]
        if x.dim() != 4 or x.shape[1] != c or x.shape[-1] % p or x.shape[-2] % p:
            raise ValueError(f"RoPETransformer(in_channels={c}, patch={p}) got x of shape {tuple(x.shape)}: "
                             f"pass [batch, {c}, H, W] with H, W divisible by {p}")
        B, _, H, W = x.shape
        h, w = H // p, W // p
        tok = x.reshape(B, c, h, p, w, p).permute(0, 2, 4, 1, 3, 5).reshape(B, h * w, c * p * p)
        rows = torch.arange(h, device=x.device).repeat_interleave(w)
        cols = torch.arange(w, device=x.device).repeat(h)
        temb = self.time(t, batch=B, device=x.device)
        z = self.embed(tok)
        for blk in self.blocks:
            z = blk(z, temb, rows, cols)
        shift, scale = self.ada(F.silu(temb))[:, None].chunk(2, dim=-1)
        out = self.head(self.norm(z) * (1 + scale) + shift)
        return out.reshape(B, h, w, c, p, p).permute(0, 3, 1, 4, 2, 5).reshape(B, c, H, W)
