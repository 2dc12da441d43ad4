"""The full-profile generator of card 9687: a DDPM (U-Net eps-model) retrained from scratch every generation.

    gen = DdpmGenerator(p, run_dir=ctx.persist("ckpt"), fingerprint=ctx.fingerprint, device=ctx.device,
                        bf16=ctx.profile == "full" and ctx.device == "cuda")
    model = gen.fit(X_flat, tag="synthetic_l1_s0_g3", seed=...)      # kexue.diffusion.training.train_eps_model
    X = gen.sample(model, 60000, rng)                                 # flat [m, side*side] numpy in [-1, 1]

Every generation trains a fresh U-Net (the paper's setting, no fine-tuning) through the shared resumable loop, in
its own checkpoint folder, so a killed run resumes at the generation and step where it stopped (earlier
generations' training is skipped: their checkpoints are complete; their samples are redrawn from the same seeds).
Sampling: the card's ancestral DDPM over all T steps, or DDIM with `c_sample_steps` steps (a cheaper variant; say
which in the report). Samples are clipped to [-1, 1], the data range, before they become the next training set.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from kexue.diffusion.samplers import sample as run_sampler
from kexue.diffusion.schedules import linear
from kexue.diffusion.training import train_eps_model
from kexue.errors import KexueError
from kexue.nn.unet import UNet


class DdpmGenerator:
    def __init__(self, p, *, run_dir, fingerprint: str, device: str = "cpu", bf16: bool = False, log=print):
        self.p, self.run_dir, self.fingerprint = p, run_dir, fingerprint
        self.device, self.bf16, self.log = device, bf16, log
        self.schedule = linear(T=p.c_T)
        if p.c_sampler not in ("ddpm", "ddim"):
            raise KexueError(f"c_sampler = {p.c_sampler!r}: choose 'ddpm' (all T steps) or 'ddim'")

    def _side(self, X) -> int:
        side = math.isqrt(X.shape[1])
        if side * side != X.shape[1]:
            raise KexueError(f"DdpmGenerator: {X.shape[1]} pixels per row is not a square image")
        return side

    def fit(self, X, tag: str, seed: int):
        p = self.p
        X = np.asarray(X, dtype=np.float32)
        self.side = self._side(X)
        torch.manual_seed(seed)
        model = UNet(in_channels=1, widths=p.c_unet_widths, blocks=p.c_unet_blocks, t_dim=p.c_t_dim,
                     num_steps=p.c_T, groups=p.c_groups)
        res = train_eps_model(model, torch.from_numpy(X).view(-1, 1, self.side, self.side), self.schedule,
                              steps=p.c_steps, batch=p.c_batch, lr=p.c_lr, seed=seed, run_dir=self.run_dir / tag,
                              fingerprint=self.fingerprint, ema_decay=p.c_ema_decay or None, device=self.device,
                              bf16=self.bf16, desc=f"9687 {tag}")
        self.log(f"{tag}: {p.c_steps} steps, last loss {res['stats'][-1]['loss']:.3f}")
        return res["model"]

    @torch.no_grad()
    def sample(self, model, m: int, rng: np.random.Generator) -> np.ndarray:
        p, side = self.p, self.side
        g = torch.Generator(device=self.device).manual_seed(int(rng.integers(2**62)))
        out = []
        for i in range(0, int(m), p.c_sample_batch):
            b = min(p.c_sample_batch, int(m) - i)
            x_T = torch.randn((b, 1, side, side), generator=g, device=self.device)
            steps = None if p.c_sampler == "ddpm" else p.c_sample_steps
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.bf16):
                x, _ = run_sampler(p.c_sampler, model, x_T, self.schedule, steps=steps, generator=g)
            out.append(x.float().clamp(-1, 1).reshape(b, -1).cpu().numpy())
        return np.concatenate(out)
