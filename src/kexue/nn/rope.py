"""Rotary position embeddings (RoPE) for 1-D sequences, and the rules that stretch them past the training length.

RoPE rotates each (even, odd) pair m of a head's q and k by the angle n * theta_m for position n, with
theta_m = base^(-2m/d) = beta^(-m), beta = base^(2/d) (card 9675, C1): position n written in a base-beta number
system whose "digits" are the phases n / beta^m (cos/sin play the role of the periodic mod). q_i . k_j then depends
on i - j only.

Past the training length L_train (k = L_test / L_train > 1) three rules are compared (card 9675):
- "extrapolate": change nothing (new, untrained "digits" appear in the low frequencies);
- "pi": position interpolation, n -> n / k (every frequency's phase step shrinks by k: neighbours get crowded);
- "ntk": NTK-aware scaling, base -> base * k^(d/(d-2)) so that theta_m -> theta_m * lambda^(-m) with
  lambda = k^(2/(d-2)): m = 0 is untouched, the lowest frequency m = d/2-1 becomes exactly PI's theta/k
  ("high-frequency extrapolation, low-frequency interpolation"); d is the HEAD dimension.
`RopeScaling` carries the rule and k; a model refuses a context longer than it was trained for unless the caller
names a rule (silent extrapolation is the common bug this guards against).

Pairs are interleaved (2m, 2m+1), as in RoFormer; mixing conventions between training and test silently destroys
accuracy, so this file is the only place that rotates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from kexue.errors import KexueError

RULES = ("extrapolate", "pi", "ntk", "ntk_article")


def check_base(base: float) -> float:
    if not (isinstance(base, (int, float)) and math.isfinite(base) and base > 1):
        raise KexueError(f"RoPE base = {base!r}: must be a finite number > 1 (10000 is the usual choice);"
                         " with base <= 1 the frequencies do not decrease and positions alias")
    return float(base)


def frequencies(head_dim: int, base: float = 10000.0, dtype=torch.float64) -> torch.Tensor:
    """theta_m = base^(-2m/d), m = 0 .. d/2-1 (float64 by default: the identity checks compare to 1e-12)."""
    if head_dim < 2 or head_dim % 2:
        raise KexueError(f"RoPE head dimension {head_dim}: must be even and >= 2 (pairs of channels rotate)")
    base = check_base(base)
    m = torch.arange(head_dim // 2, dtype=torch.float64)
    return (base ** (-2.0 * m / head_dim)).to(dtype)


def ntk_lambda(head_dim: int, k: float) -> float:
    """lambda = k^(2/(d-2)): the per-index frequency ratio of NTK-aware scaling."""
    if head_dim < 4:
        raise KexueError(f"NTK scaling needs a head dimension >= 4, got {head_dim}")
    return float(k) ** (2.0 / (head_dim - 2))


def ntk_base_factor(head_dim: int, k: float) -> float:
    """base multiplier k^(d/(d-2)) (= lambda^(d/2)); the article's approximate form is k."""
    return float(k) ** (head_dim / (head_dim - 2))


@dataclass(frozen=True)
class RopeScaling:
    """How to place positions at test time: rule in RULES and k = L_test / L_train (k = 1: no change)."""
    rule: str = "extrapolate"
    k: float = 1.0

    def __post_init__(self):
        if self.rule not in RULES:
            raise KexueError(f"RoPE scaling rule {self.rule!r}: choose one of {', '.join(RULES)}")
        if not (math.isfinite(self.k) and self.k >= 1):
            raise KexueError(f"RoPE scaling k = {self.k}: must be >= 1 (k = L_test / L_train)")

    def base_and_step(self, head_dim: int, base: float) -> tuple[float, float]:
        """(effective base, position multiplier) for this rule."""
        if self.rule == "pi":
            return base, 1.0 / self.k
        if self.rule == "ntk":
            return base * ntk_base_factor(head_dim, self.k), 1.0
        if self.rule == "ntk_article":
            return base * self.k, 1.0
        return base, 1.0

    def angles(self, positions: torch.Tensor, head_dim: int, base: float) -> torch.Tensor:
        """[N, d/2] rotation angles n * theta_m under this rule (float64 then cast by the caller)."""
        b, step = self.base_and_step(head_dim, base)
        pos = positions.detach().to("cpu", torch.float64)        # float64 on the CPU, then to the caller's device
        return (pos[:, None] * step * frequencies(head_dim, b)[None]).to(positions.device)


def rotate(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate interleaved pairs of x [..., N, d] by angles [N, d/2]."""
    c, s = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack([x1 * c - x2 * s, x1 * s + x2 * c], dim=-1)
    return out.flatten(-2)
