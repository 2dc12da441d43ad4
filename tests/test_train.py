"""The shared training loop: exact resume, kill -9, NaN guard, corrupt checkpoints."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from kexue.errors import KexueError
from kexue.train import NonFiniteError, TrainLoop, load_checkpoint
from tests._tiny_training import train
from tests.conftest import ROOT


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_resume_after_crash_is_bitwise_identical(tmp_path):
    ref, w_ref, ema_ref = train(tmp_path / "ref")
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(tmp_path / "run", crash_at=23)
    recs, w, ema = train(tmp_path / "run")
    assert [r["loss"] for r in recs] == [r["loss"] for r in ref]
    assert [r["step"] for r in recs] == list(range(40))
    assert _same(w, w_ref) and _same(ema, ema_ref)


def test_kill_9_then_rerun_finishes_with_same_result(tmp_path):
    ref, w_ref, _ = train(tmp_path / "ref", total=30)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    run = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "tests._tiny_training", str(run), "30", "0.05"], cwd=ROOT, env=env,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (run / "ckpt.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ck = load_checkpoint(run / "ckpt.pt")
    assert 0 < ck["step"] < 30, "the kill must land mid-run"
    recs, w, _ = train(run, total=30)
    assert [r["loss"] for r in recs] == [r["loss"] for r in ref]
    assert _same(w, w_ref)


def test_nan_guard_names_step_and_metric(tmp_path):
    lin = torch.nn.Linear(2, 2)
    loop = TrainLoop(state={"m": lin}, step_fn=lambda i: {"loss": float("nan") if i == 3 else 1.0}, total_steps=10,
                     run_dir=tmp_path, fingerprint="x", ckpt_every=2)
    with pytest.raises(NonFiniteError, match="loss became nan at step 3"):
        loop.run()


def test_corrupt_checkpoint_gets_clear_message(tmp_path):
    train(tmp_path, total=10)
    (tmp_path / "ckpt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(KexueError, match=r"ckpt.pt is corrupt.*rm .*ckpt.pt"):
        train(tmp_path, total=20)


def test_stale_fingerprint_restarts(tmp_path):
    lin = torch.nn.Linear(2, 2)
    TrainLoop(state={"m": lin}, step_fn=lambda i: {"loss": 1.0}, total_steps=4, run_dir=tmp_path, fingerprint="a").run()
    recs = TrainLoop(state={"m": lin}, step_fn=lambda i: {"loss": 2.0}, total_steps=4, run_dir=tmp_path,
                     fingerprint="b").run()
    assert [r["loss"] for r in recs] == [2.0] * 4
