"""Exact eps-predictors, scores and posterior means for point, Gaussian and Gaussian-mixture data, any t.

Under x_t = abar_t x_0 + bbar_t eps (schedules.py; abar, bbar STDS) a Gaussian mixture stays a mixture:
component k becomes N(abar_t mu_k, abar_t^2 Sigma_k + bbar_t^2 I) (card 9228). Each Sigma_k is diagonalised
once, Sigma_k = U_k diag(lam_k) U_k^T, so for every t the noised covariance is U_k diag(abar^2 lam_k + bbar^2) U_k^T:
densities, scores and posterior means at per-sample t cost two rotations, with no per-t factorisation.
A point mass is the lam = 0 case (valid for bbar_t > 0, i.e. t > 0).

All arithmetic is float64 on x's device; results come back in x's dtype. Every model is itself a denoiser
`model(x, t) -> eps` (= -bbar_t grad log p_t), so it plugs into samplers.py exactly like a trained net.
Responsibilities use log-sum-exp (no underflow at small t, card 9228 pitfall).
"""
from __future__ import annotations

import math

import torch

from kexue.diffusion.schedules import F64, Schedule
from kexue.errors import KexueError


class GaussianMixture:
    """sum_k w_k N(mu_k, Sigma_k), means (K, *event_shape), d = prod(event_shape); covs: a scalar variance
    (all isotropic), (K,) variances (isotropic per component), (K, d) diagonals or (K, d, d) matrices."""

    def __init__(self, weights, means, covs, schedule: Schedule):
        w = torch.as_tensor(weights, dtype=F64).flatten().cpu()
        mu = torch.as_tensor(means, dtype=F64).cpu()
        K = w.numel()
        if K < 1 or mu.shape[0] != K:
            raise KexueError(f"GaussianMixture: {K} weights but means of shape {tuple(mu.shape)}; need means (K, *event_shape)")
        if bool(torch.any(w < 0)) or abs(float(w.sum()) - 1) > 1e-9:
            raise KexueError(f"GaussianMixture weights = {w.tolist()}: must be non-negative and sum to 1")
        self.event_shape = tuple(mu.shape[1:])
        self.d = d = int(math.prod(self.event_shape))
        self.schedule, self.K = schedule, K
        self.w, self.mu = w, mu.reshape(K, d)
        self.lam, self.U = self._eig(covs, K, d)
        self.diagonal = bool(torch.equal(self.U, torch.eye(d, dtype=F64).expand(K, d, d)))  # skip the rotations
        self._dev = {}

    @staticmethod
    def _eig(covs, K: int, d: int):
        c = torch.as_tensor(covs, dtype=F64).cpu()
        if c.dim() == 0:
            c = c.expand(K)
        if c.dim() == 1 and c.numel() == K:
            c = c[:, None].expand(K, d)                                   # isotropic variance per component
        if c.dim() == 2 and c.shape == (K, d):                            # diagonal per component
            lam, U = c.clone(), torch.eye(d, dtype=F64).expand(K, d, d).clone()
        elif c.dim() == 3 and c.shape == (K, d, d):
            if float((c - c.transpose(1, 2)).abs().max()) > 1e-10 * max(1.0, float(c.abs().max())):
                raise KexueError("GaussianMixture covs: covariance matrices must be symmetric")
            lam, U = torch.linalg.eigh(c)
        else:
            raise KexueError(f"GaussianMixture covs of shape {tuple(c.shape)}: give a scalar, (K,) variances,"
                             f" (K, d) diagonals or (K, d, d) matrices with K = {K}, d = {d}")
        if float(lam.min()) < -1e-12 * max(1.0, float(lam.abs().max())):
            raise KexueError(f"GaussianMixture covs: smallest eigenvalue {float(lam.min()):.3g} < 0; covariances must be PSD")
        return lam.clamp(min=0), U

    def _p(self, device):
        key = str(device)
        if key not in self._dev:
            self._dev[key] = tuple(a.to(device) for a in (self.w, self.mu, self.lam, self.U))
        return self._dev[key]

    # ---------------------------------------------------------------- core
    def _in(self, U, y):   # (B, K, d) into each component's eigenbasis: U_k^T y_k
        return y if self.diagonal else torch.einsum("kij,bki->bkj", U, y)

    def _back(self, U, y):  # and back: U_k y_k
        return y if self.diagonal else torch.einsum("kij,bkj->bki", U, y)

    def _coef(self, t, x: torch.Tensor):
        """abar, bbar as (B, 1, 1) float64 (per-sample t) or 0-d tensors (shared t)."""
        t = torch.as_tensor(t, device=x.device).to(F64)
        a, b = self.schedule.abar(t), self.schedule.bbar(t)
        if t.dim() == 1:
            a, b = a.reshape(-1, 1, 1), b.reshape(-1, 1, 1)
        return a, b

    def _stats(self, x: torch.Tensor, t):
        """Per component: z = U^T (x - abar mu) in the eigenbasis, v = abar^2 lam + bbar^2, responsibilities r."""
        if tuple(x.shape[1:]) != self.event_shape:
            raise KexueError(f"x has shape {tuple(x.shape)}; this model's samples are (B, *{self.event_shape})")
        w, mu, lam, U = self._p(x.device)
        xf = x.reshape(x.shape[0], self.d).to(F64)
        a, b = self._coef(t, x)
        diff = xf[:, None, :] - a * mu[None]                     # (B, K, d)
        z = self._in(U, diff)                                    # (B, K, d)
        v = a * a * lam[None] + b * b                            # (B, K, d) or (1, K, d)
        v = v.expand_as(z)
        logn = -0.5 * ((z * z / v).sum(-1) + torch.log(v).sum(-1) + self.d * math.log(2 * math.pi))
        logj = torch.log(w)[None] + logn                         # (B, K)
        logp = torch.logsumexp(logj, dim=1)
        r = torch.exp(logj - logp[:, None])
        return a, b, z, v, r, logp

    def _out(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return y.reshape(x.shape).to(x.dtype)

    def log_prob(self, x: torch.Tensor, t) -> torch.Tensor:
        """log p_t(x), shape (B,), float64."""
        return self._stats(x, t)[-1]

    def score(self, x: torch.Tensor, t) -> torch.Tensor:
        """grad_x log p_t(x) = -sum_k r_k C_k^{-1} (x - abar mu_k)."""
        _, _, z, v, r, _ = self._stats(x, t)
        U = self._p(x.device)[3]
        s = -self._back(U, r[..., None] * z / v).sum(1)
        return self._out(s, x)

    def eps(self, x: torch.Tensor, t) -> torch.Tensor:
        """E[eps | x_t = x] = -bbar_t grad log p_t(x): the optimal eps-predictor."""
        _, b, z, v, r, _ = self._stats(x, t)
        U = self._p(x.device)[3]
        e = self._back(U, r[..., None] * z * b / v).sum(1)
        return self._out(e, x)

    __call__ = eps

    def x0_mean(self, x: torch.Tensor, t) -> torch.Tensor:
        """E[x_0 | x_t = x] = sum_k r_k (mu_k + abar Sigma_k C_k^{-1} (x - abar mu_k)); no 1/abar, so fine at t = T."""
        a, _, z, v, r, _ = self._stats(x, t)
        _, mu, lam, U = self._p(x.device)
        m = mu[None] + self._back(U, a * lam[None] * z / v)
        return self._out((r[..., None] * m).sum(1), x)

    # ---------------------------------------------------------------- moments and samples
    def mean_cov(self, t=0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (d,) and covariance (d, d) of p_t (flattened), float64 on CPU."""
        a, b = float(self.schedule.abar(t)), float(self.schedule.bbar(t))
        m = a * self.mu
        C = a * a * (self.U * self.lam[:, None, :]) @ self.U.transpose(1, 2) + b * b * torch.eye(self.d, dtype=F64)
        mean = (self.w[:, None] * m).sum(0)
        second = (self.w[:, None, None] * (C + m[:, :, None] * m[:, None, :])).sum(0)
        return mean, second - mean[:, None] * mean[None, :]

    def sample(self, n: int, t=0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """n exact draws of x_t (shared scalar t; t = 0: the data), float64 on the generator's device (CPU default)."""
        dev = generator.device if generator is not None else torch.device("cpu")
        w, mu, lam, U = self._p(dev)
        a, b = float(self.schedule.abar(t)), float(self.schedule.bbar(t))
        k = torch.multinomial(w, n, replacement=True, generator=generator) if self.K > 1 else torch.zeros(n, dtype=torch.long, device=dev)
        xi = torch.randn(n, self.d, generator=generator, device=dev, dtype=F64)
        sd = torch.sqrt(a * a * lam[k] + b * b)
        x = a * mu[k] + torch.einsum("nij,nj->ni", U[k], sd * xi)
        return x.reshape((n,) + self.event_shape)


class GaussianData(GaussianMixture):
    """N(mean, cov) data; cov a scalar, (d,) diagonal or (d, d) matrix. Adds the exact probability-flow map."""

    def __init__(self, mean, cov, schedule: Schedule):
        mean = torch.as_tensor(mean, dtype=F64)
        c = torch.as_tensor(cov, dtype=F64)
        super().__init__([1.0], mean[None], c[None] if c.dim() else c, schedule)

    def flow_map(self, x: torch.Tensor, t_from, t_to) -> torch.Tensor:
        """Exact probability-flow ODE transport of x from time t_from to t_to (card 9228 G3):
        along the PF-ODE each eigen-coordinate z_i = U^T(x - abar mu) scales like sqrt(v_i(t)), v_i = abar^2 lam_i + bbar^2,
        so x_to = abar_to mu + U diag(sqrt(v_to / v_from)) U^T (x - abar_from mu)."""
        _, mu, lam, U = self._p(x.device)
        xf = x.reshape(x.shape[0], self.d).to(F64)
        a0, b0 = float(self.schedule.abar(t_from)), float(self.schedule.bbar(t_from))
        a1, b1 = float(self.schedule.abar(t_to)), float(self.schedule.bbar(t_to))
        ratio = torch.sqrt((a1 * a1 * lam[0] + b1 * b1) / (a0 * a0 * lam[0] + b0 * b0))
        z = (xf - a0 * mu[0]) @ U[0]
        return self._out(a1 * mu[0] + (z * ratio) @ U[0].T, x)


class PointData(GaussianData):
    """All data at one point x*: eps(x, t) = (x - abar_t x*)/bbar_t; the posterior mean is x* for every t > 0."""

    def __init__(self, point, schedule: Schedule):
        point = torch.as_tensor(point, dtype=F64)
        super().__init__(point, torch.zeros(point.numel(), dtype=F64), schedule)
