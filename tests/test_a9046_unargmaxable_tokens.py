"""Unit tests for kexue.unargmax (article 9046): the article's example, LP vs hull vs constraint generation,
Frank-Wolfe certificates, the minimax identity, the bias rules, and the bad-input errors."""
import numpy as np
import pytest

from kexue import unargmax as U
from kexue.errors import KexueError


def test_article_example():
    assert [U.is_argmaxable_lp(U.EXAMPLE_W, None, k) for k in range(5)] == [True, True, True, True, False]
    f = U.fw_min_norm_all(U.EXAMPLE_W, iters=500)
    assert f["certified"].tolist() == [True, True, True, True, False]
    assert f["norm"][4] < 1e-12          # w5 = (w1 + w2 + w3 + w4) / 4 ... lies inside the hull: min-norm 0


def test_bias_rescues_interior_class():
    b = np.array([0, 0, 0, 0, 5.0])
    assert U.is_argmaxable_lp(U.EXAMPLE_W, b, 4, R=1.0)
    assert not U.upper_hull_unargmaxable(U.EXAMPLE_W, b)[4]


@pytest.mark.parametrize("n,d,bias", [(40, 2, False), (60, 3, False), (50, 3, True), (300, 4, False)])
def test_lp_constraint_generation_equals_full_lp_and_hull(n, d, bias):
    rng = np.random.default_rng(n + d)
    W = rng.standard_normal((n, d))
    b = rng.standard_normal(n) if bias else None
    R = 1e6 if bias else 1.0
    v = U.lp_verdicts(W, b, R, init_rows=8 if n > 100 else None)
    ks = range(n) if n <= 60 else rng.choice(n, 40, replace=False)
    for k in ks:
        assert v["argmaxable"][k] == U.is_argmaxable_lp(W, b, int(k), R)
    ref = U.upper_hull_unargmaxable(W, b) if bias else U.hull_unargmaxable(W)
    assert np.array_equal(~v["argmaxable"], ref)


def test_prescreen_only_proves_argmaxable():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((200, 2))
    ok = U.prescreen(W)
    assert not (ok & U.hull_unargmaxable(W)).any() and ok.any()


def test_fw_certificates_are_witnesses():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((100, 3))
    f = U.fw_min_norm_all(W, iters=300)
    un = U.hull_unargmaxable(W)
    assert not (f["certified"] & un).any()
    assert (f["norm"][un] / f["scale"][un]).max() < 1e-2


def test_unit_norm_no_unargmaxable():
    rng = np.random.default_rng(5)
    c = U.count_unargmaxable(U.unit_norm_classes(rng, 200, 3))
    assert c["unargmaxable"].sum() == 0


@pytest.mark.parametrize("seed", range(4))
def test_minimax_identity(seed):
    rng = np.random.default_rng(seed)
    W, b = rng.standard_normal((30, 3)), rng.standard_normal(30)
    r = U.minimax_value(W, b, 0, float(10 ** rng.uniform(-1, 1)))
    assert r["gap"] > -1e-9 and r["rel_gap"] < 1e-6


def test_minimax_no_bias_is_r_times_min_norm():
    # without bias the dual is r * min-norm: 0 for the interior class 5 of the example
    r = U.minimax_value(U.EXAMPLE_W, np.zeros(5), 4, 3.0)
    assert abs(r["primal"]) < 1e-8 and abs(r["dual"]) < 1e-8


def test_bad_inputs():
    W = np.eye(3)
    with pytest.raises(KexueError, match="R ="):
        U.lp_verdicts(W, None, R=0.0)
    with pytest.raises(KexueError, match="one bias per class"):
        U.lp_margin(W, np.zeros(2), 0)
    with pytest.raises(KexueError, match="out of range"):
        U.lp_margin(W, None, 5)
    with pytest.raises(KexueError, match="shape"):
        U.prescreen(np.zeros(3))
    with pytest.raises(KexueError, match="NaN"):
        U.hull_unargmaxable(np.full((4, 2), np.nan))
    with pytest.raises(KexueError, match="r = "):
        U.minimax_value(W, np.zeros(3), 0, 0.0)
    with pytest.raises(KexueError, match="spread"):
        U.spread_norm_classes(np.random.default_rng(0), 10, 2, -1.0)


def test_params_reject_missing_checkpoint_and_bad_widths():
    from pydantic import ValidationError

    import yaml

    from stages.a9046_unargmaxable_tokens import Params

    raw = yaml.safe_load(open("params.yaml"))["a9046"]
    base = {k: (v["default"] if isinstance(v, dict) else v) for k, v in raw.items()}
    Params(**base)
    with pytest.raises(ValidationError, match="does not exist"):
        Params(**{**base, "checkpoint": "/nonexistent/model.bin"})
    with pytest.raises(ValidationError, match="LM width"):
        Params(**{**base, "lm_widths": [2048]})
    with pytest.raises(ValidationError):
        Params(**{**base, "fw_stop": 0.5})


def test_load_output_layer_errors(tmp_path):
    from kexue.lowrank_lm import load_output_layer

    with pytest.raises(KexueError, match="does not exist"):
        load_output_layer(tmp_path / "missing.npz")
    np.savez(tmp_path / "x.npz", foo=np.zeros((3, 2)))
    with pytest.raises(KexueError, match="none of the output-matrix keys"):
        load_output_layer(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", W=np.zeros((2, 5)), b=np.ones(5))
    W, b, key = load_output_layer(tmp_path / "y.npz")
    assert W.shape == (5, 2) and b.shape == (5,) and key == "W"


def test_lowrank_lm_trains_and_analyses(tmp_path):
    from kexue.data.text_corpus import markov_corpus
    from kexue.lowrank_lm import LMConfig, train_lm
    from kexue.unargmax_lm import analyse_lm

    corpus = markov_corpus(64, 20000, seed=0)
    model, recs = train_lm(LMConfig(vocab=64, d=2, emb=8, hidden=16), corpus.train, steps=30, batch=64, lr=3e-3,
                           seed=0, run_dir=tmp_path / "r", fingerprint="t", vocab_sha=corpus.vocab_sha)
    assert recs[-1]["loss"] < recs[0]["loss"]
    counts = np.bincount(corpus.train, minlength=64)
    res, arr = analyse_lm(model, corpus, counts, train_sample=500)
    assert res["argmax_violations"] == 0 and res["n_positive_prob"] == res["unargmaxable"]
