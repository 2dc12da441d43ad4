"""R independent small MLPs evaluated as one batched matmul: seeds x variants of a toy experiment in one pass.

    net = StackedMLP(members=6, d_in=2, d_out=2, hidden=128, depth=3, t_features=16, seeds=[0, 1, 2, 3, 4, 5])
    y = net(x, t)          # x [R, B, d_in], t [R, B] (or None when t_features = 0) -> [R, B, d_out]

Why: on a CPU a 2-D toy run is dominated by per-call overhead, not arithmetic. Stacking the R members' weights
(W_l: [R, in, out]) and using torch.baddbmm turns R tiny runs into one; since member r's output depends only on
its own weights, the sum of the members' losses has block-separate gradients, and an element-wise optimizer
(Adam) then takes exactly the R independent steps. Member r is initialised like torch.nn.Linear from its own
seed, so a run's initial weights do not depend on which other runs share the stack.

Time conditioning (for eps-models): t is mapped to sin/cos features at log-spaced frequencies in [1, max_freq]
(t in [0, 1]) and concatenated to the input. SiLU activations. `member(r)` returns the weights of one member.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from kexue.errors import KexueError


def fourier_time_features(t: torch.Tensor, n: int, max_freq: float = 100.0) -> torch.Tensor:
    """[..., n] features [sin(f_k t), cos(f_k t)], f_k log-spaced in [1, max_freq]; n even."""
    half = n // 2
    f = torch.exp(torch.linspace(0.0, math.log(max_freq), half, dtype=t.dtype, device=t.device))
    a = t[..., None] * f
    return torch.cat([torch.sin(a), torch.cos(a)], dim=-1)


class StackedMLP(nn.Module):
    def __init__(self, members: int, d_in: int, d_out: int, hidden: int, depth: int, t_features: int = 0,
                 seeds=None, max_freq: float = 100.0):
        super().__init__()
        for name, v, lo in (("members", members, 1), ("d_in", d_in, 1), ("d_out", d_out, 1),
                            ("hidden", hidden, 1), ("depth", depth, 1), ("t_features", t_features, 0)):
            if int(v) != v or v < lo:
                raise KexueError(f"StackedMLP {name} = {v}: must be an integer >= {lo}")
        if t_features % 2:
            raise KexueError(f"StackedMLP t_features = {t_features}: must be even (sin and cos pairs)")
        seeds = list(range(members)) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != members:
            raise KexueError(f"StackedMLP: {len(seeds)} seeds for {members} members; give one seed per member")
        self.members, self.t_features, self.max_freq = members, t_features, max_freq
        dims = [d_in + t_features] + [hidden] * depth + [d_out]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for li, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            W, c = torch.empty(members, a, b), torch.empty(members, 1, b)
            bound = 1 / math.sqrt(a)  # torch.nn.Linear's default init (kaiming_uniform(a=sqrt 5) -> U(+-1/sqrt(in)))
            for r, s in enumerate(seeds):
                g = torch.Generator().manual_seed(int(s) * 1009 + li)
                W[r] = (torch.rand(a, b, generator=g) * 2 - 1) * bound
                c[r] = (torch.rand(1, b, generator=g) * 2 - 1) * bound
            self.weights.append(nn.Parameter(W))
            self.biases.append(nn.Parameter(c))

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3 or x.shape[0] != self.members:
            raise KexueError(f"StackedMLP got x of shape {tuple(x.shape)}: pass [members={self.members}, batch, d_in]")
        if self.t_features:
            if t is None or t.shape != x.shape[:2]:
                raise KexueError(f"StackedMLP with time features needs t of shape {tuple(x.shape[:2])}")
            x = torch.cat([x, fourier_time_features(t.to(x.dtype), self.t_features, self.max_freq)], dim=-1)
        h = x
        n = len(self.weights)
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, W)
            if i < n - 1:
                h = torch.nn.functional.silu(h)
        return h

    def n_params_per_member(self) -> int:
        return sum(p[0].numel() for p in self.parameters())
