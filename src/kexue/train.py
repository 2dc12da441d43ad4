"""The training loop every article shares: resumable, deterministic, guarded.

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=600,
                     run_dir=ctx.persist("ckpt") / "lambda-0.2", fingerprint=ctx.fingerprint)
    records = loop.run()          # one dict per step, also appended to run_dir/stats.jsonl

- step_fn(step) does one optimisation step and returns floats (must include "loss").
  Draw minibatches with `batch_generator(seed, step)` so the data order depends only on
  the step, which makes resuming exact without saving a data-loader state.
- Every `ckpt_every` steps the loop saves model/optimizer/EMA states and the python, numpy
  and torch RNG states atomically (tmp + os.replace): a run killed with -9 and restarted
  finishes with bitwise the same metrics as an uninterrupted one (tests/test_train.py).
- A checkpoint written under other params or code (fingerprint) is ignored, not resumed.
- A non-finite metric stops the run with the step, the metric and what to try.
"""
from __future__ import annotations

import contextlib
import math
import random
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from kexue import io
from kexue.errors import KexueError


class NonFiniteError(KexueError):
    pass


def batch_generator(seed: int, step: int, device: str = "cpu") -> torch.Generator:
    """A generator whose stream depends only on (seed, step)."""
    g = torch.Generator(device="cpu")
    g.manual_seed((seed * 1_000_003 + step * 7_919 + 12_345) % (2**63 - 1))
    return g


def autocast(device: str, bf16: bool = True):
    """bf16 autocast on CUDA when asked (the `full` profile); exact fp32 otherwise, so the
    default profile gives the same numbers on a GPU as on a CPU up to kernel differences."""
    if device == "cuda" and bf16:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class EMA:
    """Exponential moving average of a model's parameters (and buffers copied)."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.999):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(self.decay).add_(v.detach(), alpha=1 - self.decay)
            else:
                self.shadow[k].copy_(v)

    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.shadow)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "shadow": self.shadow}

    def load_state_dict(self, sd: dict) -> None:
        self.decay = sd["decay"]
        self.shadow = sd["shadow"]


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    st = {"python": random.getstate(), "torch": torch.get_rng_state(),
          "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss,
                    "cached": cached}}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: dict) -> None:
    v, internal, gauss = st["python"]
    random.setstate((v, tuple(internal), gauss))
    torch.set_rng_state(st["torch"])
    n = st["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def save_checkpoint(path: Path, payload: dict) -> None:
    import io as _io

    buf = _io.BytesIO()
    torch.save(payload, buf)
    io.atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> dict:
    """Load with weights_only=True (no pickle code execution); a corrupt file is named."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, bad pickle, foreign file
        raise KexueError(f"checkpoint {path} is corrupt or unreadable ({type(e).__name__}: {str(e)[:120]}); "
                         f"delete it (`rm {path}`) to restart this run from step 0.") from None


class TrainLoop:
    def __init__(self, *, state: dict, step_fn: Callable[[int], dict], total_steps: int, run_dir: Path,
                 fingerprint: str, ckpt_every: int = 100, desc: str = "train", ema: EMA | None = None,
                 ema_model: torch.nn.Module | None = None):
        if total_steps < 1:
            raise KexueError(f"total_steps = {total_steps}: must be >= 1")
        self.state, self.step_fn, self.total = state, step_fn, total_steps
        self.dir = Path(run_dir)
        self.fingerprint, self.ckpt_every, self.desc = fingerprint, max(1, ckpt_every), desc
        self.ema, self.ema_model = ema, ema_model
        self.ckpt = self.dir / "ckpt.pt"
        self.stats = self.dir / "stats.jsonl"

    def _save(self, step: int) -> None:
        payload = {"step": step, "fingerprint": self.fingerprint, "rng": _rng_state(),
                   "state": {k: v.state_dict() for k, v in self.state.items()}}
        if self.ema is not None:
            payload["ema"] = self.ema.state_dict()
        save_checkpoint(self.ckpt, payload)

    def _resume(self) -> int:
        if not self.ckpt.exists():
            self.stats.unlink(missing_ok=True)
            return 0
        ck = load_checkpoint(self.ckpt)
        if ck.get("fingerprint") != self.fingerprint:
            print(f"[{self.desc}] checkpoint {self.ckpt} was made with other params or code; starting from step 0",
                  file=sys.stderr)
            self.ckpt.unlink()
            self.stats.unlink(missing_ok=True)
            return 0
        for k, v in self.state.items():
            v.load_state_dict(ck["state"][k])
        if self.ema is not None and "ema" in ck:
            self.ema.load_state_dict(ck["ema"])
        _set_rng_state(ck["rng"])
        step = int(ck["step"])
        # lines written after the checkpoint belong to steps that will be redone
        kept = [r for r in io.read_jsonl(self.stats) if r["step"] < step]
        io.write_jsonl(self.stats, kept)
        print(f"[{self.desc}] resumed from {self.ckpt} at step {step}", file=sys.stderr)
        return step

    def run(self) -> list[dict]:
        self.dir.mkdir(parents=True, exist_ok=True)
        start = self._resume()
        bar = tqdm(total=self.total, initial=start, desc=self.desc, mininterval=2.0, file=sys.stderr,
                   dynamic_ncols=True, leave=True)
        for step in range(start, self.total):
            rec = {k: float(v) for k, v in self.step_fn(step).items()}
            bad = [k for k, v in rec.items() if not math.isfinite(v)]
            if bad:
                bar.close()
                raise NonFiniteError(
                    f"{self.desc}: {', '.join(bad)} became {rec[bad[0]]} at step {step}. The run diverged: lower the "
                    f"learning rate or check the inputs; the last good checkpoint is {self.ckpt} "
                    f"(step {step // self.ckpt_every * self.ckpt_every}).")
            if self.ema is not None:
                self.ema.update(self.ema_model)
            rec["step"] = step
            io.append_jsonl(self.stats, rec)
            bar.update(1)
            if "loss" in rec:
                bar.set_postfix(loss=f"{rec['loss']:.4f}", refresh=False)
            if (step + 1) % self.ckpt_every == 0 or step + 1 == self.total:
                self._save(step + 1)
        bar.close()
        return io.read_jsonl(self.stats)
