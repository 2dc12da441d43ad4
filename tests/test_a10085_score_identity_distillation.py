"""Unit tests for article 10085 (SiD): the loss variants, the identities (C1/C2), the batched MLP, the resumable
data-free loop, parameter validation and the bad-input errors."""
import numpy as np
import pytest
import torch
from pydantic import ValidationError

from kexue.diffusion.exact import GaussianData
from kexue.diffusion.schedules import VPSDE
from kexue.errors import KexueError
from kexue.mixture_metrics import ring_mixture
from kexue.nn.stacked_mlp import StackedMLP
from kexue.score_distillation import distill, identity_terms, paired_check, student_loss, variant_coefs

SCH = VPSDE(0.1, 20.0, t_min=1e-3)


def test_loss_variants_are_the_card_formulas():
    g = torch.Generator().manual_seed(0)
    ep, es, e = (torch.randn(1, 7, 2, generator=g) for _ in range(3))
    d, r = ep - es, ep - e
    want = {("sid", 1.2): (d * r).sum(-1) - 1.2 * (d * d).sum(-1), ("sid", 0.0): (d * r).sum(-1),
            ("l1_only", 0): (d * d).sum(-1), ("teacher_only", 0): (r * r).sum(-1),
            ("l3", 0): (r * r).sum(-1) + (es * es).sum(-1)}
    for (k, lam), w in want.items():
        got = student_loss(ep, es, e, torch.tensor([variant_coefs(k, lam)]))
        assert torch.allclose(got, w.mean(1)), k
    with pytest.raises(KexueError, match="variant 'l2'"):
        variant_coefs("l2")


def test_identities_hold():
    """C1/C2 with exact scores: paired differences within 4 SE at two times."""
    teacher = ring_mixture(8, 2.0, 0.25).exact(SCH)
    student = ring_mixture(3, 1.0, 0.4, weights=[0.5, 0.3, 0.2]).exact(SCH)
    W = torch.randn(2, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    h = lambda x: torch.tanh(x @ W)  # noqa: E731
    for t in (0.1, 0.5):
        T = identity_terms(student, teacher, h, SCH, t, 20_000, torch.Generator().manual_seed(1))
        assert paired_check(T["c1_lhs"], T["c1_rhs"])["ok"]
        assert paired_check(T["l1"], T["l2"])["ok"]
    with pytest.raises(KexueError, match="n = 1"):
        identity_terms(student, teacher, h, SCH, 0.1, 1, torch.Generator())


def test_sid_gradient_with_exact_fake_points_to_the_teacher_and_teacher_only_shrinks_the_spread():
    """1-D: student N(m, s^2) (x = m + s z), teacher N(2, 0.5^2), exact fake score. Averaged over 40k draws, the SiD
    gradient (lambda 1.2) vanishes at the teacher and pushes m up from m = 1; the teacher-only loss still wants a
    smaller s at the teacher (mode seeking)."""
    T = GaussianData(torch.tensor([2.0]), torch.tensor(0.25), SCH)
    g = torch.Generator().manual_seed(0)
    n = 40_000
    z, e = torch.randn(1, n, 1, generator=g, dtype=torch.float64), torch.randn(1, n, 1, generator=g, dtype=torch.float64)
    t = 0.02 + 0.78 * torch.rand(1, n, generator=g, dtype=torch.float64)

    def grad(kind, lam, m0, s0):
        m = torch.tensor([m0], dtype=torch.float64, requires_grad=True)
        ls = torch.tensor([np.log(s0)], dtype=torch.float64, requires_grad=True)
        F = GaussianData(torch.tensor([m0]), torch.tensor(s0 ** 2), SCH)
        xt = SCH.abar(t)[..., None] * (m + torch.exp(ls) * z) + SCH.bbar(t)[..., None] * e
        f = lambda M: M.eps(xt.reshape(-1, 1), t.reshape(-1)).reshape(1, n, 1)  # noqa: E731
        student_loss(f(T), f(F), e, torch.tensor([variant_coefs(kind, lam)])).sum().backward()
        return float(m.grad), float(ls.grad)

    gm, gs = grad("sid", 1.2, 2.0, 0.5)
    assert abs(gm) < 0.05 and abs(gs) < 0.05
    assert grad("sid", 1.2, 1.0, 0.5)[0] < -0.1          # descent moves m towards 2
    assert grad("teacher_only", 0.0, 2.0, 0.5)[1] > 0.05  # descent shrinks s below the teacher's


def test_stacked_mlp_members_are_independent_and_validated():
    a = StackedMLP(3, 2, 2, 8, 2, t_features=4, seeds=[5, 6, 7])
    b = StackedMLP(1, 2, 2, 8, 2, t_features=4, seeds=[6])
    x, t = torch.randn(3, 4, 2), torch.rand(3, 4)
    assert torch.allclose(a(x, t)[1], b(x[1:2], t[1:2])[0])  # same seed, same member, whatever the stack
    with pytest.raises(KexueError, match="t_features = 3"):
        StackedMLP(1, 2, 2, 8, 2, t_features=3)
    with pytest.raises(KexueError, match="members"):
        a(torch.randn(2, 4, 2), torch.rand(2, 4))


def _tiny(run_dir, iters=20, crash_at=None):
    ex = ring_mixture(4, 1.0, 0.3).exact(SCH)
    calls = [0]

    def teacher(x, t):
        calls[0] += 1
        if crash_at is not None and calls[0] > crash_at:
            raise RuntimeError("killed")  # stands in for kill -9 between checkpoints
        return ex.eps(x, t.double())

    return distill(teacher, SCH, [{"variant": "sid", "lam": 1.2, "seed": 0}, {"variant": "l1_only", "seed": 1}],
                   iters=iters, batch=16, lr_g=1e-3, lr_f=1e-3, hidden=8, depth=1, t_features=4, warmup=2,
                   t_lo=0.02, t_hi=0.8, eval_z=torch.randn(2, 10, 2, generator=torch.Generator().manual_seed(0)),
                   snapshot_every=5, seed=0, weighting="paper", run_dir=run_dir, fingerprint="f")


def test_distill_resumes_to_the_same_result(tmp_path):
    full = _tiny(tmp_path / "a")
    with pytest.raises(RuntimeError, match="killed"):
        _tiny(tmp_path / "b", crash_at=13)  # dies in step 13; the last checkpoint is at step 10
    res = _tiny(tmp_path / "b")
    assert sorted(res["snapshots"]) == [0, 5, 10, 15, 20]
    for k in full["snapshots"]:
        assert np.array_equal(full["snapshots"][k], res["snapshots"][k])
    assert [r["loss"] for r in res["stats"]] == [r["loss"] for r in full["stats"]]


def test_distill_bad_input():
    with pytest.raises(KexueError, match="iters = 0"):
        distill(None, SCH, [{"variant": "sid", "seed": 0}], iters=0, batch=4, lr_g=1e-3, lr_f=1e-3, hidden=4,
                depth=1, t_features=2, warmup=0, t_lo=0.02, t_hi=0.8, eval_z=torch.zeros(1, 2, 2),
                snapshot_every=1, seed=0, run_dir="/nonexistent", fingerprint="f")
    with pytest.raises(KexueError, match="t_lo"):
        distill(None, SCH, [{"variant": "sid", "seed": 0}], iters=5, batch=4, lr_g=1e-3, lr_f=1e-3, hidden=4,
                depth=1, t_features=2, warmup=0, t_lo=0.9, t_hi=0.8, eval_z=torch.zeros(1, 2, 2),
                snapshot_every=1, seed=0, run_dir="/nonexistent", fingerprint="f")
    with pytest.raises(KexueError, match="std = 0"):
        ring_mixture(8, 2.0, 0.0)


def test_params_refuse_bad_input():
    from kexue.params import load_raw, resolve_block
    from stages.a10085_score_identity_distillation import Params

    base = resolve_block(load_raw()["a10085"], "smoke")
    Params(**base)
    for bad in ({"mode_std": 0.0}, {"mode_std": -0.25}, {"iters": 0}, {"seeds": 0}, {"t_lo": 0.9},
                {"variants_a": ["l1_only"]}, {"variants_a": ["sid", "l2"]}, {"fake_t_features": 3},
                {"weighting": "edm"}):
        with pytest.raises(ValidationError):
            Params(**{**base, **bad})
