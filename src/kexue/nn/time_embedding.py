"""Time embeddings for diffusion denoisers: t -> a vector the network adds to its features.

Conventions (shared by kexue.nn.mlp_denoiser and kexue.nn.unet):
- t is the diffusion time in whatever unit the caller trains with: an integer step
  (0..T-1 or 1..T, both fit) or a continuous value (article 10055 evaluates the model at a
  non-integer tau; articles 9228/9467 use t in [0, 1]). It may be a python number, a 0-d
  tensor (broadcast to the batch: every sample shares one t, as in a sampler) or a [batch]
  tensor, integer or float. The embedding sees `t * t_scale`, so t in [0, 1] with
  t_scale = 1000 gives the same features as integer steps of a T = 1000 schedule.
- "sinusoidal" (Transformer/DDPM): features [sin(t f_k), cos(t f_k)], f_k = max_period^(-k/half),
  k = 0..half-1. Defined for every real t; <e(t), e(s)> = sum_k cos((t - s) f_k) depends only
  on t - s, and |e(t)|^2 = half exactly (tests check both).
- "learned" (article 9152, C9: works as well as sinusoidal): a trainable table with one row per
  integer in [0, num_steps] (num_steps + 1 rows, so both 0..T-1 and 1..T indexing fit);
  a non-integer t linearly interpolates its two neighbouring rows, so UG's tau works too.
  t outside [0, num_steps] is an error (a table cannot extrapolate).
- Either feature map is followed by Linear -> SiLU -> Linear to `dim`, as in DDPM, so the
  two kinds differ only in the features (the fair comparison for C9).
"""
from __future__ import annotations

import math

import torch
from torch import nn

TIME_EMBEDDINGS = ("sinusoidal", "learned")


def as_time_batch(t, batch: int, device: torch.device | str) -> torch.Tensor:
    """t (number, 0-d or [batch] tensor) -> a float [batch] tensor on `device` (float64 kept, else float32)."""
    t = torch.as_tensor(t, device=device)
    if t.dim() == 0:
        t = t.expand(batch)
    if t.dim() != 1 or t.shape[0] != batch:
        raise ValueError(f"time t has shape {tuple(t.shape)}: pass a number, a 0-d tensor or a [batch] tensor "
                         f"with batch = {batch}")
    if not (t.dtype.is_floating_point or t.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8)):
        raise ValueError(f"time t has dtype {t.dtype}: pass integer steps or floating-point times")
    return t.to(torch.float64 if t.dtype == torch.float64 else torch.float32)


def sinusoidal_features(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """[batch] -> [batch, dim]: first half sin(t f_k), second half cos(t f_k). dim must be even."""
    if dim < 2 or dim % 2:
        raise ValueError(f"sinusoidal time features: dim = {dim} must be even and >= 2")
    half = dim // 2
    k = torch.arange(half, device=t.device, dtype=t.dtype)
    freqs = torch.exp(-math.log(max_period) * k / half)  # f_0 = 1 (finest), down to ~1/max_period
    arg = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)


class LearnedTimeTable(nn.Module):
    """A trainable row per integer time 0..num_steps; non-integer t interpolates linearly."""

    def __init__(self, num_steps: int, dim: int):
        super().__init__()
        if num_steps < 1:
            raise ValueError(f"learned time embedding: num_steps = {num_steps} must be >= 1")
        self.num_steps = num_steps
        self.table = nn.Embedding(num_steps + 1, dim)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        # one host sync per call to refuse out-of-range t before any work (a table cannot extrapolate)
        lo_t, hi_t = float(t.min()), float(t.max())
        if lo_t < 0 or hi_t > self.num_steps:
            raise ValueError(f"learned time embedding: t (after t_scale) spans [{lo_t:g}, {hi_t:g}] but the table "
                             f"covers [0, {self.num_steps}]; set num_steps >= {math.ceil(hi_t)} or fix t_scale")
        lo = t.floor().clamp(max=self.num_steps - 1).long()
        frac = (t - lo.to(t.dtype))[:, None].to(self.table.weight.dtype)
        return (1 - frac) * self.table(lo) + frac * self.table(lo + 1)  # exact row at integers


class TimeEmbedding(nn.Module):
    """t -> [batch, dim]: features (sinusoidal or learned table) then Linear -> SiLU -> Linear."""

    def __init__(self, dim: int, kind: str = "sinusoidal", num_steps: int = 1000, t_scale: float = 1.0,
                 max_period: float = 10000.0):
        super().__init__()
        if kind not in TIME_EMBEDDINGS:
            raise ValueError(f"time embedding kind {kind!r}: choose one of {TIME_EMBEDDINGS}")
        if dim < 2 or dim % 2:
            raise ValueError(f"time embedding dim = {dim}: must be even and >= 2")
        if not t_scale > 0:
            raise ValueError(f"time embedding t_scale = {t_scale}: must be > 0 (t_scale=1000 for t in [0, 1])")
        self.kind, self.dim, self.t_scale, self.max_period = kind, dim, float(t_scale), float(max_period)
        self.table = LearnedTimeTable(num_steps, dim) if kind == "learned" else None
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def features(self, t: torch.Tensor) -> torch.Tensor:
        """The raw features before the MLP ([batch] float t -> [batch, dim], parameter dtype)."""
        wdtype = self.mlp[0].weight.dtype
        t = t.to(torch.promote_types(t.dtype, wdtype)) * self.t_scale  # float64 models get float64 features
        if self.table is not None:
            return self.table(t)
        return sinusoidal_features(t, self.dim, self.max_period).to(wdtype)

    def forward(self, t, batch: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
        if batch is not None:
            t = as_time_batch(t, batch, device if device is not None else self.mlp[0].weight.device)
        return self.mlp(self.features(t))
