"""One attention layer that must look a value up by its key — the smallest model in which
the softmax temperature (a logit scale, or a length-dependent factor) decides training.

Task: n random keys k_1..k_n in R^d, each carrying a value token v_i; the query is one of
the keys (plus optional noise) and the target is that key's value. The model scores
keys by a scaled dot product of learned projections, averages value embeddings with the
softmax weights and reads the value token out with a linear head:

    s_i = c * lambda(n) * <W_q q, W_k k_i> / sqrt(d_model),   o = sum_i softmax(s)_i E[v_i]

c is a fixed logit multiplier (article 9593: a large c starts training near one-hot);
lambda(n) is 1 ("O", the usual 1/sqrt(d) attention) or log_{base} n ("E", the
entropy-invariant factor of articles 8823/9588), so a model trained at one length can be
evaluated at others with the factor computed from the real number of keys.
"""
from __future__ import annotations

import math

import torch
from torch import nn

LENGTH_SCALES = ("none", "log")


def retrieval_batch(batch: int, n: int, d: int, n_values: int, generator: torch.Generator,
                    noise: float = 0.0, device: str = "cpu") -> dict[str, torch.Tensor]:
    """A batch of lookup problems; keys ~ N(0, I_d), the query is key `target_index` + noise."""
    if n < 1 or d < 1 or n_values < 2 or batch < 1:
        raise ValueError(f"retrieval_batch: need batch, n, d >= 1 and n_values >= 2, got {batch}, {n}, {d}, {n_values}")
    keys = torch.randn(batch, n, d, generator=generator)
    values = torch.randint(n_values, (batch, n), generator=generator)
    idx = torch.randint(n, (batch,), generator=generator)
    rows = torch.arange(batch)
    query = keys[rows, idx] + noise * torch.randn(batch, d, generator=generator)
    out = {"query": query, "keys": keys, "values": values, "target": values[rows, idx], "index": idx}
    return {k: v.to(device) for k, v in out.items()}


class RetrievalAttention(nn.Module):
    def __init__(self, d: int, d_model: int, n_values: int, logit_scale: float = 1.0,
                 length_scale: str = "none", base_len: int = 512):
        super().__init__()
        if length_scale not in LENGTH_SCALES:
            raise ValueError(f"length_scale {length_scale!r}: choose one of {LENGTH_SCALES}")
        if base_len < 2:
            raise ValueError(f"base_len = {base_len}: the log base must be at least 2")
        self.wq = nn.Linear(d, d_model, bias=False)
        self.wk = nn.Linear(d, d_model, bias=False)
        self.value_emb = nn.Embedding(n_values, d_model)
        self.head = nn.Linear(d_model, n_values)
        self.logit_scale, self.length_scale, self.base_len = logit_scale, length_scale, base_len
        self.d_model = d_model

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Attention logits [batch, n] (before the softmax)."""
        s = torch.einsum("bd,bnd->bn", self.wq(query), self.wk(keys)) / math.sqrt(self.d_model)
        s = s * self.logit_scale
        if self.length_scale == "log":  # n is the number of keys actually attended to
            s = s * (math.log(keys.shape[1]) / math.log(self.base_len))
        return s

    def forward(self, query, keys, values):
        """Returns (value logits [batch, n_values], attention weights [batch, n])."""
        p = torch.softmax(self.scores(query, keys), dim=-1)
        o = torch.einsum("bn,bnd->bd", p, self.value_emb(values))
        return self.head(o), p
