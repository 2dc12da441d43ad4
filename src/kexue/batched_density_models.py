"""Batched 1-D density models in torch: many independent fits trained as ONE model, full batch.

Every parameter has leading shape (T, R): T data sets (targets) times R replicas (seeds, and for
FBDM also regulariser weights). `log_prob(y)` takes y of shape (T, M) and returns (T, R, M).
The loss is the SUM over (t, r) of each fit's own mean NLL (+ penalty): gradients do not mix,
and Adam is elementwise, so the batch trains exactly like T*R separate runs, only faster.

Models (parameter counts P are the card's matched budgets):
- FourierDensity (FBDM): a_0..a_N complex (2(N+1) reals) + (mu, sigma) = P, so N = P/2 - 2.
  mu, sigma are fixed at the data mean/std (the article: "optionally trainable"): with them fixed
  the Fourier features of the training data are computed once and a step is a matrix product;
  trainable per-fit squashing costs ~30x more per step (measured), beyond the article's budget.
  Effective degrees of freedom are 2N + 2: |a| scale and global phase are redundant.
- GaussianMixture1D (GMM-GD): K = round((P + 1) / 3) components (logits, means, log-stds).
- FactorizedDensity (DFP, Balle et al. 2018): CDF = sigmoid(f_L o ... o f_1(u)), f_k(h) = g_k(H_k h + b_k),
  H_k = softplus(free), g_k(h) = h + tanh(a_k) * tanh(h); the density is dCDF/du, carried forward
  exactly alongside h (no double backward).
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from kexue.errors import KexueError

LOG4 = math.log(4.0)


def fourier_order(P: int) -> int:
    N = P // 2 - 2
    if P % 2 or N < 1:
        raise KexueError(f"FBDM budget P = {P}: need an even P >= 6 so that N = P/2 - 2 >= 1")
    return N


def gmm_components(P: int) -> int:
    K = int(math.floor((P + 1) / 3 + 0.5))
    if K < 1:
        raise KexueError(f"GMM budget P = {P}: need P >= 2 for one component")
    return K


def dfp_count(r: int, L: int) -> int:
    """Reals in DFP with widths (1, r x L, 1): matrices, biases, and the tanh factors of hidden layers."""
    return 2 * r + (L - 1) * r * r + (L * r + 1) + L * r


def dfp_widths(P: int, depths=(2, 3)) -> tuple[int, int, int]:
    """(r, L, count) with count closest to P (ties: deeper), L in `depths` (the card's reference is L = 3)."""
    if P < 5:
        raise KexueError(f"DFP budget P = {P}: the smallest factorized model has 8 parameters")
    best = min(((abs(dfp_count(r, L) - P), -L, r) for L in depths for r in range(1, 64)))
    r, L = best[2], -best[1]
    return r, L, dfp_count(r, L)


def log_sech2(u: torch.Tensor) -> torch.Tensor:
    au = u.abs()
    return LOG4 - 2 * au - 2 * torch.log1p(torch.exp(-2 * au))


class FourierDensity(torch.nn.Module):
    def __init__(self, T: int, R: int, N: int, mu, sigma, gammas, generator: torch.Generator, init_std=0.01):
        super().__init__()
        if N < 1:
            raise KexueError(f"Fourier order N = {N}: must be >= 1")
        if torch.as_tensor(sigma).min() <= 0:
            raise KexueError(f"squashing scale sigma = {sigma}: must be > 0")
        K = N + 1
        re = torch.randn(T, R, K, generator=generator) * init_std
        im = torch.randn(T, R, K, generator=generator) * init_std
        re[..., 0], im[..., 0] = 1.0, 0.0  # a_0 = 1: start near the uniform density on [-1, 1]
        self.a_re, self.a_im = torch.nn.Parameter(re), torch.nn.Parameter(im)
        self.register_buffer("mu", torch.as_tensor(mu, dtype=torch.float32).reshape(T, 1))
        self.register_buffer("sigma", torch.as_tensor(sigma, dtype=torch.float32).reshape(T, 1))
        g = torch.as_tensor(gammas, dtype=torch.float32).reshape(-1)
        if g.numel() != R or (g < 0).any():
            raise KexueError(f"gammas {g.tolist()}: need R = {R} values >= 0 (one per replica)")
        self.register_buffer("gammas", g)
        self.N = N

    def features(self, y: torch.Tensor):
        """(F, log-Jacobian) with F = [cos k theta, sin k theta] of x = tanh u, shape (T, M, 2K)."""
        u = (y.to(self.mu.dtype) - self.mu) / self.sigma
        th = math.pi * torch.tanh(u)[..., None] * torch.arange(self.N + 1, dtype=u.dtype, device=u.device)
        return torch.cat([torch.cos(th), torch.sin(th)], -1), log_sech2(u) - torch.log(self.sigma)

    def coeffs(self):
        """Re, Im of c_n = sum_k a_k conj(a_{k+n}), n = 0..N, shape (T, R, N+1) each (real arithmetic)."""
        ar, ai = self.a_re, self.a_im
        K = self.N + 1
        re = ar[..., :, None] * ar[..., None, :] + ai[..., :, None] * ai[..., None, :]  # [k, l] = a_k conj(a_l)
        im = ai[..., :, None] * ar[..., None, :] - ar[..., :, None] * ai[..., None, :]
        k, l = torch.triu_indices(K, K, device=ar.device)
        n = l - k
        out_re = torch.zeros(*ar.shape[:-1], K, dtype=ar.dtype, device=ar.device)
        out_im = torch.zeros_like(out_re)
        out_re = out_re.index_add(-1, n, re[..., k, l])
        out_im = out_im.index_add(-1, n, im[..., k, l])
        return out_re, out_im

    def penalty(self):
        """sum_{n=-N}^{N} 2 pi^2 n^2 |c_n / (2 c_0)|^2 on the NORMALISED coefficients (scale-invariant)."""
        cr, ci = self.coeffs()
        n2 = torch.arange(1, self.N + 1, dtype=cr.dtype, device=cr.device) ** 2
        c0 = cr[..., 0]
        return 4 * math.pi ** 2 * (n2 * (cr[..., 1:] ** 2 + ci[..., 1:] ** 2)).sum(-1) / (4 * c0 * c0)

    def log_prob(self, y: torch.Tensor, feats=None) -> torch.Tensor:
        Fm, ljac = self.features(y) if feats is None else feats
        ar, ai = self.a_re, self.a_im  # S = sum a_k e^{-ik theta} = sum (ar cos + ai sin) + i (ai cos - ar sin)
        s_re = Fm @ torch.cat([ar, ai], -1).transpose(-1, -2)  # (T, M, R)
        s_im = Fm @ torch.cat([ai, -ar], -1).transpose(-1, -2)
        logf = torch.log((s_re ** 2 + s_im ** 2).clamp_min(torch.finfo(s_re.dtype).tiny))
        log_c0 = torch.log((ar ** 2 + ai ** 2).sum(-1))  # (T, R)
        return (logf.transpose(-1, -2) - math.log(2.0) - log_c0[..., None] + ljac[:, None, :])

    def loss(self, y, feats=None):
        nll = -self.log_prob(y, feats).mean(-1)
        return nll + self.gammas * self.penalty(), nll


class GaussianMixture1D(torch.nn.Module):
    def __init__(self, T: int, R: int, K: int, mean, std, generator: torch.Generator):
        super().__init__()
        if K < 1:
            raise KexueError(f"mixture components K = {K}: must be >= 1")
        std = torch.as_tensor(std, dtype=torch.float32).reshape(T, 1, 1)
        if (std <= 0).any():
            raise KexueError(f"initial mixture std {std.flatten().tolist()}: must be > 0")
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(T, 1, 1)
        self.logits = torch.nn.Parameter(torch.zeros(T, R, K))
        self.means = torch.nn.Parameter(mean + std * torch.randn(T, R, K, generator=generator))
        # components start at the data std / sqrt(K): a typical component width, not a single blob
        self.log_stds = torch.nn.Parameter(torch.log(std / math.sqrt(K)).expand(T, R, K).clone())

    def log_prob(self, y: torch.Tensor, feats=None) -> torch.Tensor:
        lw = torch.log_softmax(self.logits, -1)[..., None, :]
        z = (y[:, None, :, None].to(self.means.dtype) - self.means[..., None, :]) * torch.exp(-self.log_stds)[..., None, :]
        return torch.logsumexp(lw - 0.5 * z * z - self.log_stds[..., None, :], -1) - 0.5 * math.log(2 * math.pi)

    def loss(self, y, feats=None):
        nll = -self.log_prob(y).mean(-1)
        return nll, nll

    def weights(self):
        return torch.softmax(self.logits, -1)


class FactorizedDensity(torch.nn.Module):
    def __init__(self, T: int, R: int, r: int, L: int, mean, std, generator: torch.Generator, init_scale=3.0):
        super().__init__()
        if r < 1 or L < 1:
            raise KexueError(f"DFP widths r = {r}, depth L = {L}: both must be >= 1")
        widths = (1,) + (r,) * L + (1,)
        scale = init_scale ** (1 / (len(widths) - 1))
        self.H, self.b, self.a = torch.nn.ParameterList(), torch.nn.ParameterList(), torch.nn.ParameterList()
        for i in range(len(widths) - 1):  # Balle's initialisation: constant matrices, uniform biases, zero factors
            init = math.log(math.expm1(1 / scale / widths[i + 1]))
            self.H.append(torch.nn.Parameter(torch.full((T, R, widths[i + 1], widths[i]), init)))
            self.b.append(torch.nn.Parameter(torch.rand(T, R, 1, widths[i + 1], generator=generator) - 0.5))
            if i < len(widths) - 2:
                self.a.append(torch.nn.Parameter(torch.zeros(T, R, 1, widths[i + 1])))
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(T, 1, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(T, 1, 1, 1))

    def log_prob(self, y: torch.Tensor, feats=None) -> torch.Tensor:
        h = ((y.to(self.mean.dtype)[:, None, :, None] - self.mean) / self.std).expand(-1, self.b[0].shape[1], -1, -1)
        dh = torch.ones_like(h)  # d h / d u, carried forward exactly (input is 1-D)
        for i, (H, b) in enumerate(zip(self.H, self.b)):
            W = F.softplus(H).transpose(-1, -2)
            z, dz = h @ W + b, dh @ W
            if i < len(self.a):
                t, fa = torch.tanh(z), torch.tanh(self.a[i])
                h, dh = z + fa * t, dz * (1 + fa * (1 - t * t))
            else:
                h, dh = z, dz
        z, dz = h[..., 0], dh[..., 0]
        logd = F.logsigmoid(z) + F.logsigmoid(-z) + torch.log(dz.clamp_min(torch.finfo(dz.dtype).tiny))
        return logd - torch.log(self.std[..., 0])

    def loss(self, y, feats=None):
        nll = -self.log_prob(y).mean(-1)
        return nll, nll


class Adam(torch.nn.Module):
    """Adam with torch.optim.Adam's update (defaults betas (0.9, 0.999), eps 1e-8), as a module so that
    TrainLoop checkpoints its moments. torch.optim's first use imports torch._dynamo (seconds per
    process), which would dominate the smoke profile of this article."""

    def __init__(self, params, betas=(0.9, 0.999), eps=1e-8):
        super().__init__()
        self.params, self.betas, self.eps = list(params), betas, eps
        for i, p in enumerate(self.params):
            self.register_buffer(f"m{i}", torch.zeros_like(p))
            self.register_buffer(f"v{i}", torch.zeros_like(p))
        self.register_buffer("t", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def step(self, lr: float) -> None:
        b1, b2 = self.betas
        self.t += 1
        t = int(self.t)
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            m, v = getattr(self, f"m{i}"), getattr(self, f"v{i}")
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.addcdiv_(m, (v.sqrt() / math.sqrt(bc2)).add_(self.eps), value=-lr / bc1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def train_batched(model: torch.nn.Module, y: torch.Tensor, *, steps: int, lr_max: float, lr_min: float,
                  run_dir: Path, fingerprint: str, desc: str, feats=None, ckpt_every: int = 500) -> dict:
    """Full-batch Adam, lr cosine from lr_max to lr_min, via kexue.train.TrainLoop (kill + rerun resumes).

    Returns the final per-fit training objective (T, R) and the mean-loss trace.
    """
    from kexue.train import TrainLoop

    if steps < 1:
        raise KexueError(f"steps = {steps}: must be >= 1")
    if not 0 < lr_min <= lr_max:
        raise KexueError(f"learning rates lr_min = {lr_min}, lr_max = {lr_max}: need 0 < lr_min <= lr_max")
    opt = Adam(model.parameters())

    def step(t: int) -> dict:
        obj, _ = model.loss(y, feats)
        opt.zero_grad()
        obj.sum().backward()  # each fit's gradient is its own: the sum only batches them
        opt.step(lr_min + (lr_max - lr_min) * 0.5 * (1 + math.cos(math.pi * t / steps)))
        return {"loss": float(obj.detach().mean())}

    loop = TrainLoop(state={"model": model, "opt": opt}, step_fn=step, total_steps=steps, run_dir=run_dir,
                     fingerprint=fingerprint, ckpt_every=ckpt_every, desc=desc)
    recs = loop.run()
    with torch.no_grad():
        obj, nll = model.loss(y, feats)
    return {"objective": obj.double().numpy(), "train_nll": nll.double().numpy(),
            "trace": [r["loss"] for r in recs]}
