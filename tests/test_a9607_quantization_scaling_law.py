"""Unit tests of the quantization model of scaling (kexue.fm/archives/9607)."""

import mpmath
import numpy as np
import pytest
import torch

from kexue import quanta_scaling as qs
from kexue.data.sparse_parity import SparseParityTask, distinct_subsets, zipf_probs
from kexue.errors import KexueError
from kexue.scaling_shape import loglog_curvature, polynomial_fit, semilog_fit
from kexue.sparse_parity_training import RunConfig, eval_schedule, first_below, train_run, transition_width


# ------------------------------------------------------------------ exact tail (C1, C2)
@pytest.mark.parametrize("g", [0.2, 0.4, 0.8])
def test_hurwitz_tail_matches_mpmath(g):
    for n in (1, 7, 1000):
        ref = float(mpmath.zeta(g + 1, n + 1) / mpmath.zeta(g + 1))
        assert abs(qs.zipf_tail(n, g) - ref) <= 1e-12 * ref
    # head + tail: sum_{k<=20} p_k + tail(20) = 1
    p = qs.zipf(g, 20).p
    assert abs(p.sum() + qs.zipf_tail(20, g) - 1) < 1e-13


def test_card_reference_tail_ratio_and_slope():
    assert abs(qs.tail_ratio(1e4, 0.4) - 0.99998) < 5e-6        # card: 0.99998
    for g in (0.2, 0.4, 0.8):
        assert abs(qs.tail_ratio(1e4, g) - 1) < 1e-3
        assert abs(qs.tail_local_slope(1e5, g) + g) < 1e-4
        # the exact derivative agrees with a finite difference
        n, h = 50.0, 1e-4
        fd = (np.log(qs.zipf_tail(n * (1 + h), g)) - np.log(qs.zipf_tail(n * (1 - h), g))) / (2 * h)
        assert abs(fd - qs.tail_local_slope(n, g)) < 1e-6


def test_parameter_law_slope_card_calibration():
    from kexue.fits import power_law_fit

    n = qs.int_log_grid(3, 100_000, 40)
    fit = power_law_fit(n * 10, qs.loss_params(0.4, n * 10, 10))
    assert abs(fit["slope"] + 0.397) < 0.001                    # card: −0.397


def test_quanta_tails_exact():
    z = qs.zipf(0.4, 1000)
    assert abs(z.tail(0) - 1) < 1e-13 and z.tail(1000) == z.tail_mass
    e = qs.exponential(0.1, 500)
    n = np.array([0, 1, 10, 100, 500])
    assert np.allclose(e.tail(n), np.exp(-0.1 * n), rtol=1e-12, atol=0)
    f = qs.zipf_finite(0.4, 200)
    assert f.tail(200) == 0.0 and qs.loss_known(f, 200) == 0.0   # C7: L(Q) = a exactly
    assert abs(f.p[0] - 1 / (np.arange(1, 201) ** -1.4).sum()) < 1e-15


def test_sampled_data_law_small():
    q = qs.zipf(0.4, 100_000)
    D = qs.log_grid(1e4, 1e7, 3)
    r = qs.learned_by_counts(q, D, 20, np.random.default_rng(0))
    from kexue.fits import power_law_fit
    w = (r["n_learned"] >= 3) & (r["n_learned"] <= 1000)
    assert abs(power_law_fit(D[w], r["unlearned"][w])["slope"] + 0.4 / 1.4) < 0.05
    c = qs.learned_by_counts(q, D, 20, np.random.default_rng(1), cumulative=True)
    assert np.all(np.diff(c["n_learned"]) >= 0)                  # learned quanta stay learned
    assert np.all(np.diff(c["unlearned"]) <= 0)
    # deterministic version: learned iff D p_k >= tau
    assert r["det_n_learned"][0] == int((D[0] * q.p >= 20).sum())


def test_safe_mean_floor_bound():
    mu = qs.safe_mean_floor(20, 2_000_000, 1e-9)
    assert 0 < mu < 20
    assert 2_000_000 * qs._poisson_upper_bound(mu, 20) <= 1e-9


def test_emergence_curve_is_poisson_cdf():
    c = qs.emergence_curve(0.01, [100.0, 2000.0, 1e6], 20)
    assert abs(c[0] - 1.0) < 1e-12 and c[-1] < 1e-12
    assert abs(c[1] - float(mpmath.fsum(mpmath.exp(-20) * mpmath.mpf(20) ** j / mpmath.factorial(j)
                                         for j in range(20)))) < 1e-12


def test_bad_inputs():
    with pytest.raises(KexueError, match="gamma"):
        qs.zipf_tail(10, 0.0)
    with pytest.raises(KexueError, match="gamma"):
        qs.zipf(-1, 100)
    with pytest.raises(KexueError, match="mu"):
        qs.exponential(0, 10)
    with pytest.raises(KexueError, match="increasing"):
        qs.learned_by_counts(qs.zipf(0.4, 1000), [1e4, 1e3], 20, np.random.default_rng(0))
    with pytest.raises(KexueError, match="n must lie"):
        qs.zipf(0.4, 100).tail(101)


# ------------------------------------------------------------------ shape fits (C6)
def test_shape_fits():
    x = np.linspace(1, 5, 12)
    f = polynomial_fit(x, 1 + 2 * x - 0.5 * x ** 2, 2)
    assert np.allclose(f["coef"], [1, 2, -0.5], atol=1e-10)
    n = np.geomspace(1, 200, 25)
    assert not loglog_curvature(n, 3 * n ** -0.4)["significant"]  # a power law is straight in log-log
    c = loglog_curvature(n, np.exp(-0.05 * n))
    assert c["significant"] and c["c2"] < -0.05
    assert semilog_fit(n, np.exp(-0.05 * n))["r2"] > 0.999999
    with pytest.raises(KexueError):
        polynomial_fit([1, 2, 3], [1, 2, 3], 2)


# ------------------------------------------------------------------ sparse parity (C8)
def test_sparse_parity_labels_and_frequencies():
    t = SparseParityTask.make(n_tasks=20, n_bits=8, k=3, zipf_exponent=1.4, seed=0)
    assert len({tuple(s) for s in t.subsets.tolist()}) == 20
    assert np.allclose(t.probs, zipf_probs(20, 1.4)) and abs(t.probs.sum() - 1) < 1e-14
    x, y, task = t.sample(4000, torch.Generator().manual_seed(0))
    assert x.shape == (4000, 28) and torch.equal(x[:, :20].argmax(1), task)
    assert torch.all(x[:, :20].sum(1) == 1)
    bits = x[:, 20:].long()
    for i in range(50):
        assert int(y[i]) == int(bits[i, t.subsets[int(task[i])]].sum()) % 2
    freq = np.bincount(task.numpy(), minlength=20) / 4000
    assert abs(freq[0] - t.probs[0]) < 0.03
    xt, yt = t.per_task_set(16, seed=1)
    assert xt.shape == (20, 16, 28) and torch.all(xt[3, :, 3] == 1)


def test_sparse_parity_bad_inputs():
    with pytest.raises(KexueError, match="C\\(5, 2\\) = 10"):
        distinct_subsets(5, 2, 11, np.random.default_rng(0))
    with pytest.raises(KexueError, match="k = 6"):
        distinct_subsets(5, 6, 1, np.random.default_rng(0))
    with pytest.raises(KexueError, match="exponent"):
        zipf_probs(10, 0.0)


def test_emergence_helpers():
    steps = np.array([1, 10, 100, 1000])
    L = np.array([[1.0, 1.0], [0.95, 1.0], [0.05, 1.0], [0.01, 0.5]])
    fb = first_below(L, steps, 0.1)
    assert fb[0] == 100 and np.isnan(fb[1])
    tw = transition_width(L, steps)
    assert abs(tw[0] - 0.0) < 1e-12 and np.isnan(tw[1])       # 0.9 and 0.1 crossed between the same evals
    assert eval_schedule(1000, 4) == (1, 10, 100, 1000)


def test_train_run_resumes(tmp_path):
    t = SparseParityTask.make(n_tasks=4, n_bits=6, k=2, zipf_exponent=1.4, seed=0)
    test = t.per_task_set(8, seed=1)
    cfg = RunConfig(width=8, steps=12, batch=32, lr=3e-3, seed=0, eval_steps=(4, 12), ckpt_every=4)
    a = train_run(t, test, cfg, run_dir=tmp_path / "a", fingerprint="x")
    b = train_run(t, test, cfg, run_dir=tmp_path / "a", fingerprint="x")   # rerun: resumes at the end
    c = train_run(t, test, cfg, run_dir=tmp_path / "c", fingerprint="x")
    assert np.array_equal(a["task_loss"], b["task_loss"]) and np.array_equal(a["task_loss"], c["task_loss"])
    assert a["task_loss"].shape == (2, 4) and abs(a["mean_loss"][0] - a["task_loss"][0] @ t.probs) < 1e-15
    with pytest.raises(KexueError, match="eval_steps"):
        train_run(t, test, RunConfig(width=8, steps=5, batch=4, lr=1e-3, seed=0, eval_steps=(9,)))


# ------------------------------------------------------------------ params
def test_params_validation():
    from pydantic import ValidationError

    from kexue.params import load_raw, resolve_block
    from stages.a9607_quantization_scaling_law import Params

    raw = load_raw()
    for prof in ("smoke", "default", "full"):
        Params(**resolve_block(raw["a9607"], prof))
    good = resolve_block(raw["a9607"], "smoke")
    for bad in ({"sp_n_tasks": 29},                      # C(8, 2) = 28 subsets only
                {"gammas": [0.4]},                       # the card's gammas are required
                {"sp_widths": [32, 8]}, {"sp_zipf_exponent": 1.0}, {"d_lo": 1e9}, {"K": 200},
                {"sp_k": 9}, {"tau": 0}):
        with pytest.raises(ValidationError):
            Params(**{**good, **bad})
