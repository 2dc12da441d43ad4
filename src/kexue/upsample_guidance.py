"""Upsample guidance (kexue.fm/archives/10055; Hwang, Park & Jo 2024): sample at s times the training
resolution with an unchanged low-resolution eps-model, no training.

    ug = UpsampleGuidance(model, schedule, s=2, w=0.2)        # an eps_model(x, t) like any other
    x, info = ddim(ug, x_T_high, schedule, ts=grid)            # any sampler of kexue.diffusion.samplers
    ug.calls_high, ug.calls_low, ug.pixel_evals                # counted cost (C7)

Conventions (kexue.diffusion.schedules): x_t = abar_t x_0 + bbar_t eps, abar/bbar are STDS, VP.
- D = s x s AVERAGE pooling, U = NEAREST upsampling (repetition): D U = id and U D is the orthogonal
  projection onto block-constant images. Bilinear U would break both (card pitfall).
- SNR matching: D[x_t] = abar_t D[x_0] + (bbar_t/s) eps' (eps' unit Gaussian, C1), so its SNR is
  s^2 abar_t^2/bbar_t^2. The model is used at tau with SNR(tau) = s^2 SNR(t) (tau < t), on the input
  rescaled by rho_t = sqrt(abar_t^2 + bbar_t^2/s^2): D[x_t]/rho_t has exactly the marginal of a training
  input at tau (C2). tau needs non-integer times: the schedule interpolates log abar^2 (card 10055).
- The guided prediction, unguided = direct model e = eps(x_t, t), low-res l = eps(D[x_t]/rho_t, tau):
      eps_approx = U[l]/s + e - U D[e]                       (low frequencies from l, detail from e)
      eps_tilde  = (1 + w) eps_approx - w e = e + (1 + w) U[l/s - D e]        (C3: the same thing)
  The 1/s turns the low-res unit-variance noise estimate into the std of POOLED unit noise.
  w = -1 switches guidance off (then the low-res pass is skipped: no cost); the paper's scale is w + 1.
- eta (the paper's LDM variant): guidance only while t >= (1 - eta) T, i.e. the early eta fraction.
"""
from __future__ import annotations

import math
from fractions import Fraction

import torch
import torch.nn.functional as F

from kexue.errors import KexueError


# ---------------------------------------------------------------------------------------- operators
def _check_s(s) -> int:
    if isinstance(s, bool) or not isinstance(s, int) or s < 1:
        raise KexueError(f"scale factor s = {s!r}: must be a positive integer (2 for 14 -> 28 pixels)")
    return s


def pool(x: torch.Tensor, s: int) -> torch.Tensor:
    """D: s x s average pooling of [B, C, H, W] (H, W multiples of s)."""
    _check_s(s)
    if x.dim() != 4:
        raise KexueError(f"pool: x has shape {tuple(x.shape)}; pass images as [batch, channels, H, W]")
    if x.shape[-1] % s or x.shape[-2] % s:
        raise KexueError(f"pool: image size {tuple(x.shape[-2:])} is not divisible by s = {s}; crop or pad first")
    return F.avg_pool2d(x, s) if s > 1 else x


def upsample(x: torch.Tensor, s: int) -> torch.Tensor:
    """U: nearest-neighbour upsampling by repetition (each pixel becomes an s x s block)."""
    _check_s(s)
    return x.repeat_interleave(s, dim=-2).repeat_interleave(s, dim=-1)


def upsample_bilinear(x: torch.Tensor, s: int) -> torch.Tensor:
    """The bilinear baseline of the card (NOT a valid U for guidance: D of it is not the identity)."""
    return F.interpolate(x, scale_factor=float(_check_s(s)), mode="bilinear", align_corners=False)


# ---------------------------------------------------------------------------------------- SNR matching
def matched_time(schedule, t, s: int, round_tau: bool = False):
    """(tau, rho) float64 tensors: SNR(tau) = s^2 SNR(t), rho = sqrt(abar_t^2 + bbar_t^2/s^2).

    round_tau: the card's ablation, tau rounded to the nearest integer (a net with integer times)."""
    _check_s(s)
    t = torch.as_tensor(t, dtype=torch.float64)
    tau = schedule.t_for_log_snr(schedule.log_snr(t) + 2 * math.log(s))
    if round_tau:
        tau = torch.round(tau)
    rho = torch.sqrt(schedule.abar(t) ** 2 + schedule.bbar(t) ** 2 / s ** 2)
    return tau, rho


def guidance_form(e_high: torch.Tensor, e_low: torch.Tensor, s: int, w: float) -> torch.Tensor:
    """eps_tilde = e + (1 + w) U[e_low/s - D e]  (the article's second, 'guidance' form)."""
    return e_high + (1 + w) * upsample(e_low / s - pool(e_high, s), s)


def approx_form(e_high: torch.Tensor, e_low: torch.Tensor, s: int, w: float) -> torch.Tensor:
    """eps_tilde = (1 + w) eps_approx - w e with eps_approx = U[e_low]/s + e - U D e (the first form)."""
    approx = upsample(e_low, s) / s + e_high - upsample(pool(e_high, s), s)
    return (1 + w) * approx - w * e_high


def cost_ratio(s: int) -> Fraction:
    """Exact per-step cost of UG relative to the direct model, counted in pixel evaluations: 1 + 1/s^2."""
    return 1 + Fraction(1, _check_s(s) ** 2)


# ---------------------------------------------------------------------------------------- the guided model
class UpsampleGuidance:
    """eps_model(x, t) for high-resolution x from a low-resolution eps-model (fully convolutional).

    w = -1 is the direct use of the model (no low-res pass). Counts every model call and the pixels it
    processed per sample, so the cost check (C7) counts what was actually run."""

    def __init__(self, model, schedule, s: int = 2, w: float = 0.2, eta: float = 1.0, round_tau: bool = False):
        self.model, self.schedule, self.s = model, schedule, _check_s(s)
        if not (math.isfinite(w) and w >= -1):
            raise KexueError(f"guidance weight w = {w}: must be >= -1 (w = -1 is no guidance; the paper's scale is w + 1)")
        if not 0 <= eta <= 1:
            raise KexueError(f"eta = {eta}: the guided fraction of the sampling time must lie in [0, 1]")
        self.w, self.eta, self.round_tau = float(w), float(eta), bool(round_tau)
        self.calls_high = self.calls_low = 0
        self.pixel_evals = 0  # per sample: sum over calls of H * W

    def weight(self, t: float) -> float:
        """w_t = w for t >= (1 - eta) T, else -1 (eta = 1: guidance on every step)."""
        T = self.schedule.t_max
        return self.w if t >= (1 - self.eta) * T - 1e-9 else -1.0

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e = self.model(x, t)
        self.calls_high += 1
        self.pixel_evals += x.shape[-2] * x.shape[-1]
        t0 = float(t.reshape(-1)[0])
        if not bool((t == t.reshape(-1)[0]).all()):
            raise KexueError("UpsampleGuidance expects one time per batch (as every sampler passes)")
        w = self.weight(t0)
        if w == -1.0:
            return e
        tau, rho = matched_time(self.schedule, t0, self.s, self.round_tau)
        xl = pool(x, self.s) / float(rho)
        el = self.model(xl, torch.full_like(t, float(tau)))
        self.calls_low += 1
        self.pixel_evals += xl.shape[-2] * xl.shape[-1]
        return guidance_form(e, el, self.s, w)


# ---------------------------------------------------------------------------------------- image statistics
def detail_energy(x: torch.Tensor, s: int) -> torch.Tensor:
    """Per-sample ||x - U D x||^2: the energy above the low-res Nyquist band (0 for nearest upsampling)."""
    return (x - upsample(pool(x, s), s)).pow(2).flatten(1).sum(1)


def radial_power_spectrum(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(radius 1..R, mean power): |FFT2|^2 / (H W) of each image (its mean removed), averaged over the
    images and over rings of integer frequency radius; the DC ring (0) is left out."""
    if x.dim() != 4 or x.shape[-1] != x.shape[-2]:
        raise KexueError(f"radial_power_spectrum: x has shape {tuple(x.shape)}; pass square [B, C, n, n] images")
    n = x.shape[-1]
    xc = x.to(torch.float64) - x.to(torch.float64).mean(dim=(-2, -1), keepdim=True)
    p = torch.fft.fft2(xc).abs().pow(2).mean(dim=(0, 1)) / (n * n)
    f = torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64)
    r = torch.sqrt(f[:, None] ** 2 + f[None, :] ** 2).round().long()
    R = n // 2
    rad = torch.arange(1, R + 1)
    power = torch.stack([p[r == k].mean() for k in rad.tolist()])
    return rad, power
