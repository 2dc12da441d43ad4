"""A tiny deterministic training run used by tests/test_train.py (also as a subprocess)."""
import sys
import time
from pathlib import Path

import torch

from kexue.runtime import set_seed, set_threads
from kexue.train import EMA, TrainLoop, batch_generator


def train(run_dir: Path, total: int = 40, crash_at: int | None = None, sleep: float = 0.0, ckpt_every: int = 5):
    set_threads(1)
    set_seed(0)
    X = torch.randn(256, 8, generator=torch.Generator().manual_seed(1))
    y = (X[:, 0] > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    ema = EMA(model, 0.9)

    def step(i):
        if crash_at is not None and i == crash_at:
            raise RuntimeError("simulated crash")
        time.sleep(sleep)
        idx = torch.randint(0, 256, (32,), generator=batch_generator(0, i))
        loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])  # dropout draws from torch's RNG
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=total, run_dir=run_dir,
                     fingerprint="fp", ckpt_every=ckpt_every, ema=ema, ema_model=model)
    records = loop.run()
    return records, model.state_dict(), ema.shadow


if __name__ == "__main__":
    train(Path(sys.argv[1]), total=int(sys.argv[2]), sleep=float(sys.argv[3]))
