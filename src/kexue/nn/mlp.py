"""A plain multilayer perceptron: Linear -> activation blocks (ReLU by default), then a Linear head."""
from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """in_dim -> [hidden] * depth -> out_dim; `depth` hidden layers (depth=0: linear model).

    Parameter tensors come in (weight, bias) pairs, 2 * (depth + 1) of them, which is
    what per-tensor statistics iterate over (`named_parameters()` order).
    """

    ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}

    def __init__(self, in_dim: int, hidden: int, depth: int, out_dim: int, activation: str = "relu"):
        super().__init__()
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"MLP activation {activation!r}: choose one of {sorted(self.ACTIVATIONS)}")
        dims = [in_dim] + [hidden] * depth + [out_dim]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(dims) - 2:
                layers.append(self.ACTIVATIONS[activation]())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))
