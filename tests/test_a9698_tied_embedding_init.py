"""Unit tests for article 9698 (tied output embeddings): closed forms against the card's reference table,
the Monte Carlo helpers, the step-0 model being exactly the bigram model, training resume, and bad input."""
import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from kexue.data.text_corpus import eval_windows, markov_corpus
from kexue.errors import KexueError
from kexue.tied_embedding_init import (bigram_losses, moment_mc, pred_fixed, pred_small, pred_tied_article,
                                       pred_tied_self, pred_tied_sharp, random_orthogonal, sigma_of)
from kexue.tied_embedding_training import (ALL_VARIANTS, ModelSpec, TrainSpec, build_model, lr_at, split_losses,
                                           train_variant)

# the card's Monte Carlo sanity table: (n, d, sigma rule) -> (tied, untied/orth/swap)
CARD = {(100, 128, "inv_sqrt_d"): (11.3, 5.1), (100, 128, "gpt2"): (4.74, 4.63),
        (100, 128, "log_n_over_d"): (5.35, 4.69), (5000, 256, "inv_sqrt_d"): (16.0, 9.0),
        (30000, 768, "inv_sqrt_d"): (27.7, 10.85), (30000, 768, "gpt2"): (15.4, 10.5)}


@pytest.mark.parametrize("key", sorted(CARD))
def test_closed_forms_match_card_table(key):
    n, d, rule = key
    s = sigma_of(rule, n, d)
    tied, fixed = CARD[key]
    assert abs(pred_tied_sharp(n, d, s) - tied) <= 0.1          # "matching C2 within 0.1 nat"
    assert abs(pred_fixed(n, d, s) - fixed) <= 0.1


def test_closed_form_identities():
    n, d = 1025, 128
    # sigma = log(n)/d makes e^{d sigma} = n, so the article's formula is log(2n - 1) (C4)
    assert pred_tied_article(n, d, math.log(n) / d) == pytest.approx(pred_small(n), abs=1e-12)
    # sigma^2 = 1/d: the tied loss is ~ sqrt(d) and the self loss ~ 0 (C3, C6)
    assert pred_tied_sharp(30000, 768, 768 ** -0.5) == pytest.approx(math.sqrt(768), abs=0.05)
    assert pred_tied_self(n, d, d ** -0.5) < 0.03
    # the sharper form is never below the article's (e^{d s^2/2} >= 1), no overflow at huge d sigma
    assert pred_tied_sharp(n, d, 0.1) >= pred_tied_article(n, d, 0.1)
    assert math.isfinite(pred_tied_sharp(50257, 4096, 1.0))


def test_moment_mc_c1():
    r = moment_mc(16, 0.3, 20000, np.random.default_rng(0))
    q = r["quantities"]
    assert q["E_sq"]["formula"] == pytest.approx(16 * 0.09)
    assert q["Var_sq"]["formula"] == pytest.approx(2 * 16 * 0.3**4)
    assert q["E_dot2"]["formula"] == pytest.approx(16 * 0.3**4)   # d sigma^4, not the article's 1/d^3 slip
    assert r["max_abs_z"] < 4.5


def test_bigram_mc_matches_card():
    n, d = 100, 128
    s = [sigma_of("inv_sqrt_d", n, d)]
    # 4 independent embedding draws of 100 tokens: the self logit |z_i| has sd 0.7, so SE ~ 0.05 nat
    res = [bigram_losses(n, d, s, 100, np.random.default_rng(k)) for k in range(4)]
    mean = lambda head, key: np.mean([r[head][0][key].mean() for r in res])  # noqa: E731
    assert abs(mean("tied", "other") - 11.3) < 0.2
    for head in ("untied", "tied_orth", "tied_swap"):
        assert abs(mean(head, "other") - 5.1) < 0.2
    assert mean("tied", "self") < 0.01


def test_random_orthogonal():
    P = random_orthogonal(32, np.random.default_rng(2))
    assert np.allclose(P @ P.T, np.eye(32), atol=1e-12)
    assert np.abs(np.trace(P)) < 10          # far from the identity (trace 32), which would be naive tying


def _corpus():
    return markov_corpus(64, 20000, seed=3)


@pytest.mark.parametrize("variant", ["tied_naive", "tied_swap", "untied"])
def test_step0_is_the_bigram_model(variant):
    spec = ModelSpec(d=32, layers=2, heads=2, ctx=16)
    model = build_model(variant, 65, spec, seed=0)
    x = torch.randint(65, (3, 16), generator=torch.Generator().manual_seed(0))
    w = model.emb.weight.detach()
    h = w[x] * torch.rsqrt(w[x].pow(2).mean(-1, keepdim=True) + 1e-6)
    if variant == "tied_swap":
        h = torch.cat([h[..., 16:], h[..., :16]], -1)
    out = model.lm_head.weight.detach()
    with torch.no_grad():
        logits = model(x)
    assert torch.allclose(logits, h @ out.T, atol=1e-4)
    assert (model.lm_head.weight is model.emb.weight) == (variant != "untied")
    assert float(w.std()) == pytest.approx(32 ** -0.5, rel=0.1)


def test_split_losses_counts_repeats():
    c = _corpus()
    win = eval_windows(c.val, 8, 16, 0)
    s = split_losses(build_model("tied_naive", c.n_vocab, ModelSpec(32, 1, 2, 16), 0), win)
    same = int((win[:, :-1] == win[:, 1:]).sum())
    assert len(s["self"]) == same and len(s["other"]) + same == 8 * 16
    if same:
        assert s["self"].mean() < s["other"].mean()


def test_lr_schedule():
    assert lr_at(0, 100, 1.0, 0.05) == pytest.approx(0.2)
    assert lr_at(4, 100, 1.0, 0.05) == pytest.approx(1.0)
    assert lr_at(99, 100, 1.0, 0.05) < 0.01


def test_train_resume_is_exact(tmp_path):
    c = _corpus()
    spec = ModelSpec(16, 1, 2, 8)
    tr = TrainSpec(steps=6, batch=4, lr=3e-3, warmup_frac=0.05, weight_decay=0.01, grad_clip=1.0, eval_every=2,
                   eval_windows=4, ckpt_every=3)
    a = train_variant("tied_orth", c, spec, tr, 0, tmp_path / "a", "fp")
    b = train_variant("tied_orth", c, spec, tr, 0, tmp_path / "a", "fp")     # resumes at step 6: nothing to redo
    assert np.array_equal(a["val_loss"], b["val_loss"]) and np.array_equal(a["train_loss"], b["train_loss"])
    assert list(a["eval_steps"]) == [0, 2, 4, 6]


def test_bad_input():
    with pytest.raises(KexueError, match="sigma"):
        pred_tied_sharp(100, 64, 0.0)
    with pytest.raises(KexueError, match="n = 1"):
        pred_fixed(1, 64, 0.1)
    with pytest.raises(KexueError, match="rule"):
        sigma_of("xavier", 100, 64)
    with pytest.raises(KexueError, match="variant"):
        build_model("tied_magic", 10, ModelSpec(16, 1, 2, 8), 0)
    with pytest.raises(KexueError, match="samples"):
        moment_mc(8, 0.1, 10, np.random.default_rng(0))
    with pytest.raises(KexueError, match="swap"):
        bigram_losses(10, 7, [0.1], 4, np.random.default_rng(0))
    assert set(ALL_VARIANTS) >= {"tied_naive", "tied_small", "untied", "tied_orth", "tied_swap"}


def _params(**kw):
    from stages.a9698_tied_embedding_init import Params

    base = dict(c1_dims=[64], c1_samples=20000, grid_n=[128], grid_d=[64], grid_sigmas=["inv_sqrt_d"], grid_rows=8,
                corpus_chars=None, vocab_words=256, d=64, layers=1, heads=2, ctx=32, step0_windows=8, seeds=1,
                steps=20, batch=8, lr=3e-3, warmup_frac=0.05, weight_decay=0.01, grad_clip=1.0, eval_every=4,
                eval_windows=8, ckpt_every=20, early_frac=0.2, loss_targets=[5.0])
    return Params(**{**base, **kw})


def test_params_validate():
    _params()
    for bad in (dict(heads=3), dict(d=64, heads=64), dict(eval_every=10), dict(grid_d=[63]), dict(lr=0),
                dict(grid_sigmas=["he"]), dict(loss_targets=[-1.0]), dict(extra=1), dict(corpus_chars=10)):
        with pytest.raises(ValidationError):
            _params(**bad)
