"""Unit tests of kexue.exact_loss, kexue.exact_toy, kexue.accuracy_training/eval (kexue.fm/archives/9098)."""
import math

import numpy as np
import pytest
import torch

from kexue import exact_loss as E
from kexue import exact_toy as T
from kexue.errors import KexueError


# ------------------------------------------------------------------------------------ toy (C1–C3)
def test_toy_ce_minimiser_matches_card():
    g = T.b_grid(-1, 2, 1e-4)
    r = T.minimiser("ce", 1.0, g)
    assert abs(r["b_star"] - 0.700088) < 2e-6 and abs(r["min_loss"] - 1.67339) < 1e-5
    assert r["acc_at_b_star"] == pytest.approx(2 / 3)


def test_toy_hinge_set_and_temperatures():
    g = T.b_grid(-1, 2, 1e-4)
    r = T.minimiser("hinge", 1.0, g)
    assert abs(r["set_lo"] - 0.75) < 1e-9 and abs(r["set_hi"] - 1.0) < 1e-9 and r["min_loss"] == pytest.approx(1.75)
    for k, lo, hi in ((2, 0.25, 0.5), (4, 0.0, 0.25), (8, 0.125, 0.125), (16, 0.0625, 0.1875)):
        r = T.minimiser("hinge", float(k), g)
        assert abs(r["set_lo"] - lo) < 1e-9 and abs(r["set_hi"] - hi) < 1e-9, k
    for k, b in ((2, 0.360), (4, 0.201), (8, 0.139), (16, 0.126)):  # card's grid values
        assert abs(T.minimiser("ce", float(k), g)["b_star"] - b) < 1e-3
    assert abs(T.minimiser("ce", 64.0, g)["b_star"] - 0.125) < 1e-4


def test_toy_exact_needs_a_temperature():
    g = T.b_grid(-1, 2, 1e-4)
    r1 = T.minimiser("exact", 1.0, g)
    assert r1["at_boundary"] and r1["acc_at_b_star"] == pytest.approx(2 / 3)
    assert abs(T.minimiser("exact", 4.0, g)["b_star"] - 0.302) < 1e-3
    assert T.minimiser("exact", 8.0, g)["acc_at_b_star"] == 1.0
    r = T.exact_learned_sigma(5000, 0.01)
    assert r["accuracy"] == 1.0 and abs(r["b"] - 0.125) < 1e-3 and r["sigma"] < 0.1


def test_toy_gradient_descent_wc_is_convex_route():
    for kind in ("ce", "hinge"):
        assert T.gd_wc(kind, 5000, 0.1)["accuracy"] == 1.0
    assert T.gd_kb("ce", 2000, 0.1)["accuracy"] == pytest.approx(2 / 3)  # card: (k, b) GD is stuck


def test_toy_gradients_match_finite_differences():
    for kind in T.LOSSES:
        w, c, h = 1.7, -0.3, 1e-6
        _, gw, gc = T._grad_wc(kind, w, c)
        f = lambda w_, c_: float(T.point_loss(kind, T.L * (w_ * T.X + c_)).sum())  # noqa: E731
        assert abs(gw - (f(w + h, c) - f(w - h, c)) / (2 * h)) < 1e-6
        assert abs(gc - (f(w, c + h) - f(w, c - h)) / (2 * h)) < 1e-6


def test_toy_bad_input():
    with pytest.raises(KexueError, match="loss = 'mse'"):
        T.point_loss("mse", 0.0)
    with pytest.raises(KexueError, match="step"):
        T.b_grid(0.0, 1.0, 0.0)
    with pytest.raises(KexueError, match="lo < hi"):
        T.b_grid(1.0, 0.0, 0.1)


# ----------------------------------------------------------------------------- EXACT probability (C4)
def test_probabilities_sum_to_one_and_torch_matches_numpy():
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 2, (5, 10))
    for s in (0.3, 1.0, 3.0):
        ref = E.exact_log_probs_np(mu, s, 64)
        assert np.allclose(np.exp(ref).sum(1), 1.0, atol=1e-10)
        t = E.exact_log_probs_all(torch.tensor(mu), s, 64).numpy()
        assert np.max(np.abs(t - ref)) < 1e-10


def test_binary_closed_form_and_mvn_reference():
    d = np.linspace(-5, 5, 21)
    q = np.exp(E.exact_log_probs_np(np.stack([d, np.zeros_like(d)], 1), 0.7, 64))[:, 0]
    assert np.max(np.abs(q - E.binary_prob(d, 0.0, 0.7))) < 1e-12
    mu = np.array([0.3, -0.5, 1.1])
    q = np.exp(E.exact_log_probs_np(mu, 1.0, 64))
    for y in range(3):
        assert abs(q[y] - E.mvn_orthant_prob(mu, y, 1.0)) < 1e-5
    # equal logits: every class wins with probability 1/C
    assert np.allclose(np.exp(E.exact_log_probs_np(np.zeros(4), 1.0, 32)), 0.25, atol=1e-12)


def test_monte_carlo_agrees_and_gumbel_gives_softmax():
    rng = np.random.default_rng(1)
    mu = np.array([1.0, 0.0, -0.5, 0.4])
    n = 100_000
    q = np.exp(E.exact_log_probs_np(mu, 1.0, 64))
    assert np.all(np.abs(E.argmax_mc(mu, 1.0, n, rng) / n - q) <= 4 * np.sqrt(q * (1 - q) / n))
    sm = np.exp(mu) / np.exp(mu).sum()
    assert np.all(np.abs(E.argmax_mc(mu, 1.0, n, rng, "gumbel") / n - sm) <= 4 * np.sqrt(sm * (1 - sm) / n))


def test_log_space_keeps_tiny_probabilities_and_gradients():
    mu = torch.tensor([[0.0] + [8.0] * 9], dtype=torch.float64, requires_grad=True)
    y = torch.zeros(1, dtype=torch.long)
    lp = E.exact_log_prob(mu, y, 1.0, 48)
    ref = E.exact_log_probs_np(mu.detach().numpy(), 1.0, 200)[0, 0]
    assert torch.isfinite(lp).all() and abs(float(lp.detach()) - ref) < 1e-4 * abs(ref)  # p ~ 1e-17, 48 nodes
    lp.sum().backward()
    assert torch.isfinite(mu.grad).all() and float(mu.grad[0, 0]) > 0
    # learned sigma: gradient flows into sigma too
    s = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    E.exact_log_prob(torch.tensor([[1.0, 0.0, -1.0]], dtype=torch.float64), y, s, 32).sum().backward()
    assert torch.isfinite(s.grad).all() and float(s.grad) != 0


def test_exact_bad_input():
    with pytest.raises(KexueError, match="sigma"):
        E.exact_log_probs_np(np.zeros(3), sigma=0.0)
    with pytest.raises(KexueError, match="n_nodes"):
        E.exact_log_probs_np(np.zeros(3), n_nodes=1)
    with pytest.raises(KexueError, match="2 classes"):
        E.exact_log_probs_np(np.zeros(1))
    with pytest.raises(KexueError, match="noise"):
        E.argmax_mc(np.zeros(3), 1.0, 10, np.random.default_rng(0), "cauchy")
    with pytest.raises(KexueError, match="C = 8"):
        E.mvn_orthant_prob(np.zeros(8), 0)
    with pytest.raises(KexueError, match="batch"):
        E.exact_log_prob(torch.zeros(3), torch.zeros(3, dtype=torch.long))


# ----------------------------------------------------------------------------- training (C5–C9)
def test_losses_and_log_of_mean():
    from kexue.accuracy_training import loss_value

    torch.manual_seed(0)
    out = torch.randn(16, 4, dtype=torch.float64)
    y = torch.randint(0, 4, (16,))
    nodes = E.node_tensors(48)
    p = E.exact_log_prob(out, y, 1.0, nodes=nodes).exp()
    assert float(loss_value("exact", out, y, nodes, 0.1)) == pytest.approx(-float(p.mean()), rel=1e-12)
    assert float(loss_value("exact_log", out, y, nodes, 0.1)) == pytest.approx(-math.log(float(p.mean())), rel=1e-12)
    sm = torch.softmax(out, 1).gather(1, y.view(-1, 1))
    assert float(loss_value("softacc", out, y, nodes, 0.1)) == pytest.approx(-float(sm.mean()), rel=1e-12)
    out5 = torch.cat([out, torch.full((16, 1), -50.0, dtype=torch.float64)], 1)  # softplus(-50) ~ 0: sigma = floor
    ps = E.exact_log_prob(out, y, 0.1, nodes=nodes).exp()
    assert float(loss_value("exact_sigma", out5, y, nodes, 0.1)) == pytest.approx(-float(ps.mean()), rel=1e-9)


def test_tiny_training_run_and_resume(tmp_path):
    from kexue.accuracy_training import TrainConfig, train_one

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + 2 * (X[:, 1] > 0)
    data = tuple(torch.as_tensor(a) for a in (X[:200], y[:200], X[200:], y[200:]))
    cfg = TrainConfig(epochs=2, hidden=16, depth=1, lr=1e-2, batch=32, n_nodes=16, ckpt_every=3)
    a = train_one("exact_sigma", data, cfg, tmp_path / "r", "fp")
    assert a["n_steps"] == 14 and len(a["ep_test_acc"]) == 2 and a["failure"] is None
    b = train_one("exact_sigma", data, cfg, tmp_path / "r", "fp")  # completed run: resumes at the end
    assert np.array_equal(a["own_p_final"], b["own_p_final"]) and np.array_equal(a["step_loss"], b["step_loss"])
    with pytest.raises(KexueError, match="loss = 'mse'"):
        train_one("mse", data, cfg, tmp_path / "x", "fp")


def test_log_gap_bound_analytic():
    from kexue.accuracy_eval import log_gap_bounds

    r = log_gap_bounds(n=201, digits=30)
    assert r["lower_violations"] == 0 and r["upper_violations"] == 0
    assert abs(r["ratio_at_0.9"] - 1.0536) < 1e-4


def test_params_reject_bad_values_before_work():
    from pydantic import ValidationError

    from kexue.params import load_raw, resolve_block
    from stages.a9098_exact_accuracy_training import Params
    from tests.conftest import ROOT

    base = resolve_block(load_raw(ROOT / "params.yaml")["a9098"], "smoke")
    Params(**base)
    for change, msg in (({"ks": [1, 2, 4]}, "must include 1 and 64"), ({"b_step": 0.01}, "b_step"),
                        ({"losses": ["softacc", "exact"]}, "must include 'ce'"),
                        ({"unguarded_floor": 0.5}, "unguarded_floor"), ({"sigmas": [0.0]}, "noise scales"),
                        ({"seeds": [0, 0]}, "distinct"), ({"losses": ["ce", "mse"]}, "losses")):
        with pytest.raises(ValidationError, match=msg):
            Params(**{**base, **change})
