"""The shared eps-model training loop: it learns, snapshots, and resumes bitwise after a crash."""
import pytest
import torch

from kexue.diffusion import schedules
from kexue.diffusion.training import snapshot_steps, train_eps_model
from kexue.errors import KexueError
from kexue.nn.mlp_denoiser import MLPDenoiser, load_denoiser


def _data(n=256):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 2, generator=g) * 0.1 + torch.tensor([1.0, -0.5])


def _model():
    torch.manual_seed(0)
    return MLPDenoiser(dim=2, hidden=32, blocks=1, t_dim=16, groups=8)


class Crash(RuntimeError):
    pass


def crash_after(model, n):
    """Make the n-th forward call raise: a stand-in for kill -9 mid-run."""
    calls = []

    def hook(module, args):
        calls.append(1)
        if len(calls) == n:
            raise Crash()
    model.register_forward_pre_hook(hook)
    return model


def test_learns_snapshots_and_resumes(tmp_path):
    sch = schedules.linear(100, 1e-3, 0.2)
    kw = dict(steps=40, batch=32, lr=3e-3, seed=1, fingerprint="fp", ema_decay=0.9, snapshots=(0.25, 1.0),
              ckpt_every=10)
    ref = train_eps_model(_model(), _data(), sch, run_dir=tmp_path / "a", **kw)
    losses = [r["loss"] for r in ref["stats"]]
    assert len(losses) == 40
    assert sum(losses[-10:]) < 0.8 * sum(losses[:10])
    assert sorted(ref["snapshots"]) == [0.25, 1.0]
    final = load_denoiser(ref["snapshots"][1.0])
    for a, b in zip(final.state_dict().values(), ref["model"].state_dict().values()):
        assert torch.equal(a, b)
    # crash at step 25 (checkpoint at 20), rerun with a fresh model: same weights, same loss log
    with pytest.raises(Crash):
        train_eps_model(crash_after(_model(), 26), _data(), sch, run_dir=tmp_path / "b", **kw)
    res = train_eps_model(_model(), _data(), sch, run_dir=tmp_path / "b", **kw)
    assert [r["loss"] for r in res["stats"]] == losses
    for a, b in zip(res["model"].state_dict().values(), ref["model"].state_dict().values()):
        assert torch.equal(a, b)
    for f in (0.25, 1.0):
        for k, v in ref["snapshots"][f]["state_dict"].items():
            assert torch.equal(v, res["snapshots"][f]["state_dict"][k])


def test_bad_input(tmp_path):
    sch = schedules.linear(100, 1e-3, 0.2)
    with pytest.raises(KexueError, match="steps = 0"):
        train_eps_model(_model(), _data(), sch, steps=0, batch=8, lr=1e-3, seed=0, run_dir=tmp_path, fingerprint="x")
    with pytest.raises(KexueError, match="NaN"):
        X = _data()
        X[3, 0] = float("nan")
        train_eps_model(_model(), X, sch, steps=2, batch=8, lr=1e-3, seed=0, run_dir=tmp_path, fingerprint="x")
    with pytest.raises(KexueError, match="snapshot fraction"):
        snapshot_steps(100, (0.0,))
    assert snapshot_steps(1000, (0.1, 1.0)) == {100: 0.1, 1000: 1.0}
