"""Shared language-model machinery: RoPE and its scaling rules, the GPT file, the corpus, the scaling fits."""
import math

import numpy as np
import pytest
import torch

from kexue.data.text_corpus import batch, char_corpus, check_vocab, eval_windows, markov_corpus, word_corpus
from kexue.errors import KexueError
from kexue.nn.gpt import GPT, GPTConfig
from kexue.nn.rope import RopeScaling, frequencies, ntk_base_factor, ntk_lambda, rotate
from kexue.scaling_fits import local_slopes, saturating_power_law_fit, zipf_fit


def test_rope_frequencies_are_a_base_beta_system_and_ntk_matches_card_numbers():
    for d in (32, 64, 128):
        beta = 10000 ** (2 / d)
        m = torch.arange(d // 2, dtype=torch.float64)
        assert torch.allclose(frequencies(d), beta ** -m, rtol=1e-12, atol=0)
    assert abs(ntk_lambda(128, 8) - 1.03356) < 1e-5
    assert abs(ntk_base_factor(128, 8) - 8.2685) < 1e-4
    # NTK: lowest frequency equals PI's lowest frequency, m = 0 untouched
    ang = RopeScaling("ntk", 8).angles(torch.tensor([1.0]), 128, 10000.0)[0]
    pi = RopeScaling("pi", 8).angles(torch.tensor([1.0]), 128, 10000.0)[0]
    assert abs(float(ang[0]) - 1.0) < 1e-12 and abs(float(ang[-1] / pi[-1]) - 1) < 1e-12


def test_rotation_preserves_norms_and_makes_scores_relative():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 1, 1, 16, generator=g, dtype=torch.float64), torch.randn(1, 1, 1, 16, generator=g, dtype=torch.float64)
    s = RopeScaling()

    def score(i, j):
        qi = rotate(q, s.angles(torch.tensor([float(i)]), 16, 100.0))
        kj = rotate(k, s.angles(torch.tensor([float(j)]), 16, 100.0))
        return float((qi * kj).sum())
    assert abs(score(5, 2) - score(13, 10)) < 1e-10
    assert abs(rotate(q, s.angles(torch.tensor([7.0]), 16, 100.0)).norm() - q.norm()) < 1e-12


def test_zero_init_residual_gpt_is_a_bigram_model_and_tying_survives_init():
    torch.manual_seed(0)
    cfg = GPTConfig(vocab=50, d=32, layers=2, heads=2, ctx=16, head="tied", emb_std=1 / math.sqrt(32))
    m = GPT(cfg)
    assert m.lm_head.weight is m.emb.weight
    assert abs(float(m.emb.weight.detach().std()) - 1 / math.sqrt(32)) < 0.02
    idx = torch.randint(50, (3, 16))
    h = m.hidden(idx)
    w = m.emb.weight[idx]
    assert torch.allclose(h, w * torch.rsqrt(w.pow(2).mean(-1, keepdim=True) + 1e-6), atol=1e-5)
    logits, loss = m(idx, idx)
    assert logits.dtype == torch.float32 and torch.isfinite(loss)
    assert GPT.from_config(m.config).config == m.config
    # swap permutes only the state: logits differ from naive tying
    sw = GPT(GPTConfig(**{**cfg.__dict__, "head": "tied_swap"}))
    sw.load_state_dict(m.state_dict(), strict=False)
    assert not torch.allclose(sw(idx), m(idx))


def test_gpt_refuses_long_context_without_rule_and_foreign_tokens():
    m = GPT(GPTConfig(vocab=20, d=16, layers=1, heads=2, ctx=8))
    with pytest.raises(KexueError, match="scaling=RopeScaling"):
        m(torch.zeros(1, 9, dtype=torch.long))
    assert m(torch.zeros(1, 32, dtype=torch.long), scaling=RopeScaling("ntk", 4)).shape == (1, 32, 20)
    with pytest.raises(KexueError, match="vocabulary"):
        m(torch.full((1, 4), 20, dtype=torch.long))
    with pytest.raises(KexueError, match="base"):
        GPTConfig(vocab=20, d=16, heads=2, rope_base=1.0)
    with pytest.raises(KexueError, match="rule"):
        RopeScaling("yarn", 2)


def test_corpora_split_deterministically_and_check_vocab():
    text = ("In the beginning God created the heaven and the earth. " * 2000)
    c = char_corpus(text, block=1000)
    assert c.name == "kjv:char" and c.n_vocab == len(set(text))
    assert 0.03 < len(c.val) / (len(c.val) + len(c.train)) < 0.07
    assert char_corpus(text, block=1000).vocab_sha == c.vocab_sha
    w = word_corpus(text, vocab_size=5, block=100)
    assert w.vocab[0] == "<unk>" and w.n_vocab == 6
    with pytest.raises(KexueError, match="vocabulary mismatch"):
        check_vocab(c, w.vocab_sha, w.n_vocab)
    s = markov_corpus(64, 20000, seed=1, self_p=0.02)
    assert abs(s.repeat_rate() - 0.02) < 0.005
    x, y = batch(c.train, 4, 16, torch.Generator().manual_seed(0))
    assert torch.equal(x[:, 1:], y[:, :-1])
    assert torch.equal(eval_windows(c.val, 3, 8, seed=2), eval_windows(c.val, 3, 8, seed=2))


def test_scaling_fits_recover_known_exponents():
    N = np.logspace(1, 5, 12)
    fit = saturating_power_law_fit(N, 1.7 + 30 * N ** -0.4)
    assert abs(fit["alpha"] - 0.4) < 1e-4 and abs(fit["E"] - 1.7) < 1e-3
    rng = np.random.default_rng(0)
    p = np.arange(1, 501) ** -1.2
    counts = rng.multinomial(200000, p / p.sum())
    z = zipf_fit(counts)
    assert z["s_ci"][0] < 1.2 < z["s_ci"][1] and z["s_ci"][1] - z["s_ci"][0] < 0.05
    assert np.allclose(local_slopes(N, 3 * N ** -0.5), -0.5)
    with pytest.raises(KexueError, match="> 0"):
        saturating_power_law_fit([1, 2, 3, 4], [1, 0, 1, 1])
