"""Unit tests for article 9588 (JL lemma and entropy-invariant attention): the article's arithmetic,
the Dasgupta-Gupta bound, the distortion and search helpers, the exact reduction of the retrieval
experiment, closed forms of the entropy/needle computations, and the bad-input errors."""
import math

import mpmath
import numpy as np
import pytest
import torch
from pydantic import ValidationError

from kexue.attention_entropy import entropy_of_logits, length_factor, needle_mass, sphere_cosines, summarize, sweep
from kexue.attention_length_extrapolation import ToyConfig, evaluate, train_and_evaluate
from kexue.errors import KexueError
from kexue.jl_dimension import (_smallest_passing, dg_bound, eight_log_rule, ideal_key_ratio, jl_min_dim, log_base,
                                max_distortion, retrieval_accuracy, retrieval_accuracy_bruteforce, retrieval_min_dim)
from kexue.params import load_raw, resolve_block
from stages import a9588_jl_entropy_invariant_attention as decl
from tests.conftest import ROOT


# ------------------------------------------------------------------------------------------ C1
def test_article_arithmetic():
    assert abs(eight_log_rule(1e5) - 92.10) < 0.01 and round(eight_log_rule(1e5)) == 92  # "about 92"
    assert abs(eight_log_rule(512) - 49.91) < 0.01 and round(eight_log_rule(512)) == 50  # "about 50"
    assert abs(eight_log_rule(1e5) - float(8 * mpmath.log(mpmath.mpf(10) ** 5))) < 1e-12
    assert log_base(512) == 1.0 and abs(log_base(8) - 1 / 3) < 1e-15  # 512 = 8^3
    for n in (2, 64, 1000, 10**5):
        assert abs(log_base(n) - math.log2(n) / 9) < 1e-12
        assert abs(ideal_key_ratio(n, 64) - log_base(n)) < 1e-12  # d_n/d = log_512 n, any d
        assert abs(ideal_key_ratio(n, 17) - log_base(n)) < 1e-12


def test_dg_bound_matches_card_range():
    # card: 4 ln n / (eps^2/2 - eps^3/3) is 133..333 for n = 16..1024 at eps = 0.5 (= 48 ln n)
    assert round(dg_bound(16, 0.5)) == 133 and round(dg_bound(1024, 0.5)) == 333
    assert abs(dg_bound(100, 0.5) - 48 * math.log(100)) < 1e-9


# ------------------------------------------------------------------------------------------ C2
def test_max_distortion_closed_forms():
    # identity points projected by c * I: every squared distance scales by c^2
    assert max_distortion(None, 1.5 * np.eye(5)) == pytest.approx(1.25)
    assert max_distortion(None, np.eye(5)) == 0.0
    x = np.random.default_rng(0).standard_normal((7, 4))
    assert max_distortion(x, 2.0 * np.eye(4)) == pytest.approx(3.0)
    # an orthogonal projection never changes distances
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((4, 4)))
    assert max_distortion(x, q) < 1e-12


def test_max_distortion_blocking_and_brute_force_agree():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((23, 6))
    r = rng.standard_normal((3, 6)) / math.sqrt(3)
    y = x @ r.T
    brute = max(abs(np.sum((y[i] - y[j]) ** 2) / np.sum((x[i] - x[j]) ** 2) - 1)
                for i in range(23) for j in range(i + 1, 23))
    assert max_distortion(x, r, block=4) == pytest.approx(brute, rel=1e-10)
    assert max_distortion(x, r, block=1024) == pytest.approx(brute, rel=1e-10)
    ri = rng.standard_normal((5, 23)) / math.sqrt(5)
    brute_i = max(abs(np.sum((ri[:, i] - ri[:, j]) ** 2) / 2 - 1) for i in range(23) for j in range(i + 1, 23))
    assert max_distortion(None, ri, block=5) == pytest.approx(brute_i, rel=1e-10)


@pytest.mark.parametrize("start", [1, 5, 36, 37, 38, 200])
def test_galloping_search_finds_threshold(start):
    assert _smallest_passing(lambda k: k >= 37, start, 1000) == 37
    assert _smallest_passing(lambda k: k >= 1, start, 1000) == 1
    assert _smallest_passing(lambda k: k >= 2000, start, 1000) is None


def test_jl_min_dim_below_dg_and_grows():
    rng = np.random.default_rng(0)
    k16 = jl_min_dim(None, 16, 0.5, 3, rng)["k_min"]
    k256 = jl_min_dim(None, 256, 0.5, 3, rng)["k_min"]
    assert k16 <= dg_bound(16, 0.5) and k256 <= dg_bound(256, 0.5)
    assert k256 > k16


# ------------------------------------------------------------------------------------------ C3
def test_retrieval_reduction_matches_brute_force():
    # the eigenbasis reduction samples the same accuracy as projecting literal keys in R^D
    n, d, dim, noise, t = 32, 8, 96, 0.5, 2500
    a = retrieval_accuracy(n, d, dim, noise, t, np.random.default_rng(3)) / t
    b = retrieval_accuracy_bruteforce(n, d, dim, noise, t, np.random.default_rng(4)) / t
    se = math.sqrt(a * (1 - a) / t + b * (1 - b) / t)
    assert abs(a - b) < 4 * se, (a, b)
    # more key dimensions retrieve better (same draws otherwise)
    assert retrieval_accuracy(n, 32, dim, noise, 400, np.random.default_rng(5)) > \
        retrieval_accuracy(n, 4, dim, noise, 400, np.random.default_rng(5))


def test_retrieval_min_dim_grows_with_n():
    rng = np.random.default_rng(6)
    small = retrieval_min_dim(8, 256, 0.5, 200, 0.9, rng)["d_min"]
    large = retrieval_min_dim(512, 256, 0.5, 200, 0.9, rng)["d_min"]
    assert small < large


# ------------------------------------------------------------------------------------------ C4, C5
def test_entropy_and_needle_closed_forms():
    assert entropy_of_logits(np.zeros(100)) == pytest.approx(math.log(100))
    assert entropy_of_logits(np.array([1000.0, 0.0, 0.0])) < 1e-12
    p = np.array([0.5, 0.25, 0.25])
    assert entropy_of_logits(np.log(p)) == pytest.approx(-(p * np.log(p)).sum())
    assert needle_mass(np.array([0.0]), np.zeros((1, 9)))[0] == pytest.approx(0.1)
    assert needle_mass(np.array([800.0]), np.zeros((1, 9)))[0] == pytest.approx(1.0)  # no overflow


def test_sphere_cosine_moments():
    # cosine of uniform directions in R^d: mean 0, E[t^2] = 1/d
    t = sphere_cosines(200_000, 64, 1, np.random.default_rng(7))
    assert abs(t.mean()) < 0.002 and abs((t ** 2).mean() * 64 - 1) < 0.02
    assert length_factor(512, "E", 512) == 1.0 and length_factor(8192, "O", 512) == 1.0
    assert length_factor(64, "E", 512) == pytest.approx(2 / 3)


def test_sweep_reproduces_card_calibration():
    ns, reps = [64, 512, 8192], 200
    arr = sweep(ns, [64], [1], [0.5], reps, 512, np.random.default_rng(8))
    h_o, h_e = arr["H_64_1_O"].mean(0), arr["H_64_1_E"].mean(0)
    assert np.allclose(h_o, [3.69, 5.75, 8.52], atol=0.03) and np.allclose(h_e, [3.95, 5.75, 8.01], atol=0.03)
    assert np.array_equal(arr["H_64_1_O"][:, 1], arr["H_64_1_E"][:, 1])  # factor 1 at n = 512
    m_o, m_e = arr["M_64_1_0.5_O"].mean(0), arr["M_64_1_0.5_E"].mean(0)
    assert np.allclose(m_o, [0.346, 0.061, 0.0040], rtol=0.05) and np.allclose(m_e, [0.156, 0.061, 0.0139], rtol=0.05)
    s = summarize(arr, ns, [64], [1], [0.5], 512, 64, 8192, seed=0, n_boot=200)
    r = s["slopes"]["d64_b1"]
    assert 0.95 < r["point_O"] < 1.05 and r["ratio_E_over_O"]["lo"] <= r["point_E"] / r["point_O"] <= \
        r["ratio_E_over_O"]["hi"]


# ------------------------------------------------------------------------------------------ C6
def _toy(**kw):
    base = dict(train_len=8, test_lens=(8, 16), key_dim=4, d_model=8, n_values=4, noise=0.0, logit_scale=1.0,
                base_len=512, steps=3, batch=8, lr=1e-2, eval_problems=20, ckpt_every=2)
    return ToyConfig(**{**base, **kw})


def test_toy_training_runs_and_resumes(tmp_path):
    r1 = train_and_evaluate("E", 0, _toy(), "cpu", tmp_path / "a", "fp", eval_seed=0)
    assert set(r1["eval"]) == {8, 16} and r1["loss"].shape == (3,)
    r2 = train_and_evaluate("E", 0, _toy(), "cpu", tmp_path / "a", "fp", eval_seed=0)  # resumes the finished run
    assert r1["eval"] == r2["eval"]


def test_toy_eval_problems_shared_by_variants():
    torch.manual_seed(0)
    from kexue.nn.retrieval_attention import RetrievalAttention

    cfg = _toy(test_lens=(512,), base_len=512)
    m_o = RetrievalAttention(4, 8, 4, length_scale="none")
    m_e = RetrievalAttention(4, 8, 4, length_scale="log", base_len=512)
    m_e.load_state_dict(m_o.state_dict())
    assert evaluate(m_o, cfg, 1, "cpu") == evaluate(m_e, cfg, 1, "cpu")  # factor 1 at n = base


# ------------------------------------------------------------------------------------------ bad input
def test_bad_inputs_are_named():
    with pytest.raises(KexueError, match="eps = 1.5"):
        dg_bound(10, 1.5)
    with pytest.raises(KexueError, match="trials = 0"):
        jl_min_dim(None, 8, 0.5, 0, np.random.default_rng(0))
    with pytest.raises(KexueError, match="d = 600"):
        retrieval_accuracy(8, 600, 512, 0.5, 10, np.random.default_rng(0))
    with pytest.raises(KexueError, match="d = 1"):
        sphere_cosines(4, 1, 2, np.random.default_rng(0))
    with pytest.raises(KexueError, match="variant 'X'"):
        length_factor(4, "X", 512)
    with pytest.raises(KexueError, match="train_len = 1"):
        _toy(train_len=1)
    with pytest.raises(KexueError, match="target accuracy = 1.2"):
        retrieval_min_dim(8, 64, 0.5, 10, 1.2, np.random.default_rng(0))


@pytest.mark.parametrize("key, value, msg", [
    ("jl_eps", [0.3], "must include 0.5"),
    ("jl_ns", [64, 16, 32], "strictly increasing"),
    ("ent_betas", [1, 2], "missing [4]"),
    ("ent_ns", [64, 128, 1024], "factor_base = 512"),
    ("toy_test_lens", [64, 128], "toy_train_len = 32"),
    ("ent_ds", [32], "d = 64"),
    ("ret_target", 1.0, "less than 1"),
])
def test_params_schema_rejects(key, value, msg):
    vals = resolve_block(load_raw(ROOT / "params.yaml")["a9588"], "default")
    decl.Params(**vals)  # the committed values are valid
    with pytest.raises(ValidationError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        decl.Params(**{**vals, key: value})


def test_c6_check_not_run_without_8x_length():
    m = {"toy": {"train_len": 32, "mean_acc": {"O": {"32": 0.9, "64": 0.8}, "E": {"32": 0.9, "64": 0.8}},
                 "runs": {}, "seeds": [0], "eval_problems": 10, "steps": 1}}
    with pytest.raises(KeyError):
        decl.check_c6(m, "smoke")
