"""Unit tests of article 9675 (RoPE as a base-beta encoding; NTK vs PI): card reference values, exact identities,
the test-set construction, and the bad-input errors."""
import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from kexue import rope_extrapolation as rx
from kexue import rope_identities as ri
from kexue.data.text_corpus import markov_corpus
from kexue.errors import KexueError
from stages.a9675_rope_beta_base_ntk import ARTICLE, Params

GOOD = dict(d=32, layers=1, heads=2, rope_base=10000.0, train_len=16, test_len=64, batch=4, steps=10, lr=2e-3,
            warmup=2, weight_decay=0.01, grad_clip=1.0, ckpt_every=5, eval_windows=4, eval_batch=4, bucket=16,
            identity_dims=[32, 64, 128])


def test_identities_match_card_reference_values():
    out = ri.identities((32, 64, 128), 8.0)
    for v in out["per_dim"].values():
        assert v["c1_err_beta"] < 1e-12 and v["c2_ratio_err"] < 1e-12 and abs(v["c2_lowest_vs_pi"] - 1) < 1e-12
        assert v["c4_pi_err"] < 1e-12 and v["c4_inner_strict"] and abs(v["c4_lowest_times_k"] - 1) < 1e-12
    v = out["per_dim"]["128"]
    assert abs(v["lambda"] - 1.03356) < 1e-5 and abs(v["base_factor"] - 8.2685) < 1e-4
    assert abs(v["c4_ratio_m1"] - 0.968) < 5e-4 and abs(v["c4_ratio_m15"] - 0.61) < 5e-3 and v["c4_min_first4"] >= 0.9
    # the article's base * k is close to, but not, the exact NTK factor: its lowest frequency misses PI's
    assert 1.01 < v["article_lowest_vs_pi"] < 1.05


def test_decimal_toy_and_digits():
    t = ri.decimal_toy()
    assert t["ok"] and t["1749_base16"] == [6, 13, 5] and t["ceil_cuberoot_2000"] == 13
    assert ri.digits(1749, 10) == [1, 7, 4, 9] and ri.digits(0, 7) == [0] and ri.digits(5, 2, width=4) == [0, 1, 0, 1]
    # RoPE phases are the continuous version of the digits: floor(n / b^m) mod b
    ph = ri.digit_phases(np.array([1749]), 10.0, 4)[0]
    assert [int(math.floor(x)) % 10 for x in ph] == [9, 4, 7, 1]
    with pytest.raises(KexueError, match="base"):
        ri.digits(10, 1)


def test_test_sets_are_tiled_and_shared():
    val = np.arange(5000) % 97
    s = rx.build_test_sets(val, 3, 8, 40, seed=0)
    assert s["natural"].shape == (3, 41) and s["train_len"].shape == (3, 9) and s["copy"].shape == (3, 9)
    rep = s["repeated"]
    assert (rep[:, 16:] == rep[:, :-16]).all()                    # period 2 L_train
    assert (rep[:, :16] == s["natural"][:, :16]).all()            # same chunk starts as the natural windows
    assert (s["copy"][:, 4:] == s["copy"][:, :-4]).all()          # period L_train / 2
    with pytest.raises(KexueError, match="test_len"):
        rx.build_test_sets(val, 3, 8, 16, seed=0)
    with pytest.raises(KexueError, match="even"):
        rx.build_test_sets(val, 3, 7, 40, seed=0)


def test_rules_identical_at_train_length_and_differ_beyond():
    corpus = markov_corpus(20, 4000, seed=0)
    spec = rx.TrainSpec(d=16, layers=1, heads=2, train_len=8, rope_base=100.0, batch=4, steps=1, lr=1e-3, warmup=1,
                        weight_decay=0.0, grad_clip=1.0, ckpt_every=1, seed=0)
    model = rx.make_model(spec, corpus.n_vocab, logn=True).eval()
    torch.nn.init.normal_(model.blocks[0].attn.out.weight, std=0.2)   # make attention matter (zero-init residual)
    sets = rx.build_test_sets(corpus.train, 3, 8, 32, seed=1)
    short = [rx.correct_matrix(model, sets["train_len"], r)[1] for r in rx.RULES]
    assert all(np.array_equal(short[0], x) for x in short[1:])
    long = {r: rx.correct_matrix(model, sets["natural"], r)[1] for r in rx.RULES}
    assert not np.allclose(long["pi"], long["extrapolate"]) and not np.allclose(long["ntk"], long["extrapolate"])
    # a context past L_train without a rule is refused by the shared GPT
    with pytest.raises(KexueError, match="scaling"):
        model(torch.from_numpy(sets["natural"][:, :-1]))


def test_vocabulary_mismatch_is_refused():
    corpus = markov_corpus(20, 4000, seed=0)
    spec = rx.TrainSpec(d=16, layers=1, heads=2, train_len=8, rope_base=100.0, batch=4, steps=1, lr=1e-3, warmup=1,
                        weight_decay=0.0, grad_clip=1.0, ckpt_every=1, seed=0)
    ck = rx.payload(rx.make_model(spec, corpus.n_vocab, False), corpus, np.zeros(3))
    assert rx.load_model(ck, corpus.vocab, "synthetic").cfg.vocab == 20
    with pytest.raises(KexueError, match="vocabulary mismatch"):
        rx.load_model(ck, corpus.vocab[:-1], "synthetic")


def test_lr_schedule_and_summaries():
    spec = rx.TrainSpec(d=16, layers=1, heads=2, train_len=8, rope_base=100.0, batch=4, steps=100, lr=1.0, warmup=10,
                        weight_decay=0.0, grad_clip=1.0, ckpt_every=1, seed=0)
    assert rx.lr_at(0, spec) == pytest.approx(0.1) and rx.lr_at(10, spec) == pytest.approx(1.0)
    assert rx.lr_at(99, spec) == pytest.approx(0.1, abs=1e-3)
    hits = np.zeros((4, 32), bool)
    hits[:, 8:] = True
    s = rx.summarize(hits, 8)
    assert s["all"]["mean"] == pytest.approx(75.0) and s["beyond"]["mean"] == pytest.approx(100.0)
    b = rx.bucket_accuracy(hits, 8)
    assert b["mean"] == [0.0, 100.0, 100.0, 100.0] and b["centre"][0] == 4.0


def test_params_refuse_bad_input():
    Params(**GOOD)
    for bad in (dict(rope_base=1.0), dict(rope_base=0.5), dict(heads=3), dict(train_len=15), dict(test_len=32),
                dict(identity_dims=[32, 64]), dict(identity_dims=[31, 128]), dict(bucket=24), dict(eval_windows=2)):
        with pytest.raises(ValidationError):
            Params(**{**GOOD, **bad})


def test_declaration():
    assert [c.id for c in ARTICLE.claims] == ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"]
    ex = {c.id: c.expected_at for c in ARTICLE.claims}
    assert ex["C5"] == ("default", "full") and ex["C7"] == ("full",) and ex["C8"] == ("full",)
    assert len(ARTICLE.stages) <= 4
