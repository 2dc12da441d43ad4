"""A one-step Gaussian VAE on flattened data: the baseline that a diffusion model is "many of" (card 9152).

    vae = GaussianVAE(dim=64, latent=8, hidden=256, depth=2)
    loss = vae.neg_elbo(x).mean()                  # -ELBO per sample in nats (sum over dimensions)
    x = vae.sample(n, generator=g)                 # decoder MEAN at z ~ N(0, I) (the usual VAE output)
    x = vae.sample(n, generator=g, noise=True)     # a full draw from p(x|z): mean + sigma_x * noise
    out = train_gaussian_vae(vae, X, steps=3000, batch=128, lr=1e-3, seed=0, run_dir=..., fingerprint=...)

Model (the textbook VAE, one Gaussian step each way):
    encoder  q(z|x) = N(mu_e(x), diag exp(logvar_e(x)))     an MLP dim -> hidden x depth -> 2 latent
    decoder  p(x|z) = N(mu_d(z), sigma_x^2 I)                an MLP latent -> hidden x depth -> dim
    prior    p(z)   = N(0, I)
sigma_x is ONE learned scalar (log-parametrised): with it the ELBO is the true likelihood bound, and its
optimum sigma_x^2 = mean squared reconstruction error, so no reconstruction weight needs tuning.
The decoder mean is what a VAE is usually shown by and what card 9152 calls blurry: the average of all
images compatible with z. The noisy draw adds sigma_x per pixel, i.e. white noise, not detail.

`hidden_for_params(target, ...)` picks the width whose parameter count is closest to `target`, so the
baseline can be made "of similar size" to another model (card 9152 C6).
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from kexue.errors import KexueError


def _mlp(d_in: int, hidden: int, depth: int, d_out: int) -> nn.Sequential:
    dims = [d_in] + [hidden] * depth + [d_out]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


def count_params(dim: int, latent: int, hidden: int, depth: int) -> int:
    """Parameter count of GaussianVAE(dim, latent, hidden, depth) without building it."""
    def mlp(a, b):
        dims = [a] + [hidden] * depth + [b]
        return sum((x + 1) * y for x, y in zip(dims[:-1], dims[1:]))
    return mlp(dim, 2 * latent) + mlp(latent, dim) + 1


def hidden_for_params(target: int, dim: int, latent: int, depth: int) -> int:
    """The width h >= 1 for which count_params(dim, latent, h, depth) is closest to target."""
    if target < 1 or depth < 1:
        raise KexueError(f"hidden_for_params: target = {target}, depth = {depth}: both must be >= 1")
    lo, hi = 1, 1
    while count_params(dim, latent, hi, depth) < target:
        hi *= 2
    while hi - lo > 1:  # count is increasing in h: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count_params(dim, latent, mid, depth) < target else (lo, mid)
    return min((lo, hi), key=lambda h: abs(count_params(dim, latent, h, depth) - target))


class GaussianVAE(nn.Module):
    def __init__(self, dim: int, latent: int = 8, hidden: int = 256, depth: int = 2):
        super().__init__()
        for name, v in (("dim", dim), ("latent", latent), ("hidden", hidden), ("depth", depth)):
            if not isinstance(v, int) or v < 1:
                raise KexueError(f"GaussianVAE {name} = {v!r}: must be a positive integer")
        self.config = {"arch": "gaussian_vae", "dim": dim, "latent": latent, "hidden": hidden, "depth": depth}
        self.enc = _mlp(dim, hidden, depth, 2 * latent)
        self.dec = _mlp(latent, hidden, depth, dim)
        self.log_sigma_x = nn.Parameter(torch.zeros(()))

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        d = self.config["dim"]
        if x.dim() < 2 or x[0].numel() != d:
            raise KexueError(f"GaussianVAE(dim={d}) got x of shape {tuple(x.shape)}: pass [batch, {d}] "
                             f"or [batch, *image] with {d} values per sample")
        return x.flatten(1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.enc(self._flat(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-30, 20)  # keeps exp() finite early in training

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def neg_elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-sample -ELBO = E_q[-log p(x|z)] + KL(q(z|x) || N(0, I)), one reparametrised draw of z."""
        xf = self._flat(x)
        mu, logvar = self.encode(xf)
        noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        z = mu + torch.exp(0.5 * logvar) * noise
        d = xf.shape[1]
        rec = ((xf - self.decode(z)) ** 2).sum(1) / (2 * torch.exp(2 * self.log_sigma_x))
        rec = rec + d * (self.log_sigma_x + 0.5 * math.log(2 * math.pi))
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)
        return rec + kl

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, noise: bool = False) -> torch.Tensor:
        """[n, dim] decoder means at z ~ N(0, I) (noise=True adds sigma_x * N(0, I))."""
        if n < 1:
            raise KexueError(f"GaussianVAE.sample n = {n}: must be >= 1")
        dev = self.log_sigma_x.device
        z = torch.randn((n, self.config["latent"]), generator=generator).to(dev)
        x = self.decode(z)
        if noise:
            x = x + torch.exp(self.log_sigma_x) * torch.randn(x.shape, generator=generator).to(dev)
        return x

    @property
    def sigma_x(self) -> float:
        return float(torch.exp(self.log_sigma_x.detach()))


def train_gaussian_vae(vae: GaussianVAE, X: torch.Tensor, *, steps: int, batch: int, lr: float, seed: int,
                       run_dir: str | Path, fingerprint: str, device: str = "cpu", desc: str = "train VAE") -> dict:
    """Adam on the mean -ELBO; resumable through kexue.train.TrainLoop (minibatch and z noise depend only
    on (seed, step)). Returns {"model" (eval mode), "stats", "n_params"}."""
    from kexue.train import TrainLoop, batch_generator

    if steps < 1 or batch < 1 or not lr > 0:
        raise KexueError(f"train_gaussian_vae: steps = {steps}, batch = {batch}, lr = {lr}: all must be positive")
    if not torch.is_tensor(X) or X.dim() < 2 or not X.is_floating_point() or not torch.isfinite(X).all():
        raise KexueError("train_gaussian_vae: X must be a finite float tensor [n, ...]")
    X = X.to(device)
    vae = vae.to(device).train()
    opt = torch.optim.Adam(vae.parameters(), lr=lr)

    def step_fn(step: int) -> dict:
        g = batch_generator(seed, step)
        idx = torch.randint(len(X), (batch,), generator=g).to(device)
        loss = vae.neg_elbo(X[idx], generator=g).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": float(loss.detach()), "sigma_x": vae.sigma_x}

    loop = TrainLoop(state={"model": vae, "opt": opt}, step_fn=step_fn, total_steps=steps, run_dir=Path(run_dir),
                     fingerprint=fingerprint, ckpt_every=max(1, steps // 5), desc=desc)
    stats = loop.run()
    return {"model": vae.eval(), "stats": stats, "n_params": sum(p.numel() for p in vae.parameters())}
