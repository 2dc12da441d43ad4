"""The shared one-layer retrieval model (articles 9588 and 9593)."""
import math

import pytest
import torch

from kexue.nn.mlp import MLP
from kexue.nn.retrieval_attention import RetrievalAttention, retrieval_batch


def test_batch_targets_are_the_queried_keys_values():
    b = retrieval_batch(16, 8, 4, 10, torch.Generator().manual_seed(0))
    rows = torch.arange(16)
    assert torch.equal(b["query"], b["keys"][rows, b["index"]])
    assert torch.equal(b["target"], b["values"][rows, b["index"]])


def test_log_factor_scales_logits_by_log_base_n():
    torch.manual_seed(0)
    m_o = RetrievalAttention(4, 8, 10)
    m_e = RetrievalAttention(4, 8, 10, length_scale="log", base_len=512)
    m_e.load_state_dict(m_o.state_dict())
    b = retrieval_batch(3, 64, 4, 10, torch.Generator().manual_seed(1))
    ratio = m_e.scores(b["query"], b["keys"]) / m_o.scores(b["query"], b["keys"])
    assert torch.allclose(ratio, torch.full_like(ratio, math.log(64) / math.log(512)))
    logits, p = m_e(b["query"], b["keys"], b["values"])
    assert logits.shape == (3, 10) and torch.allclose(p.sum(-1), torch.ones(3))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="length_scale"):
        RetrievalAttention(4, 8, 10, length_scale="sqrt")
    with pytest.raises(ValueError, match="activation"):
        MLP(4, 8, 1, 2, activation="swish")
    assert isinstance(MLP(4, 8, 1, 2, activation="tanh").net[1], torch.nn.Tanh)
