"""Noise schedules in the kexue.fm convention, with explicit conversions to the DDPM paper's.

Conventions (every number in kexue.diffusion follows them):
* Marginal: x_t = abar(t) x_0 + bbar(t) eps, eps ~ N(0, I). `abar`, `bbar` are STANDARD DEVIATIONS (the
  articles' \\bar\\alpha_t, \\bar\\beta_t). Variance-preserving (VP) schedules have abar^2 + bbar^2 = 1.
* Discrete schedules, integer t = 0..T (card 9152): one step x_t = alpha_t x_{t-1} + beta_t eps_t with
  per-step STDS alpha_t^2 + beta_t^2 = 1; abar_t = prod_{i<=t} alpha_i, abar_0 = 1, bbar_0 = 0.
* The DDPM paper (Ho et al. 2020) writes VARIANCES: its beta_t is beta_t^2 here, its alpha_t is alpha_t^2 and
  its \\bar\\alpha_t ("alphas_cumprod") is abar_t^2. `ddpm_betas()`, `alphas_cumprod()`, `from_ddpm_betas()`
  convert; using beta_t where beta_t^2 is meant gives a wrong sampler that still makes blobs (card 9152).
* Continuous t in [t_min, t_max]: the linear SDE dx = f(t) x dt + g(t) dw has these marginals when
  f = d log abar/dt and g^2 = d(bbar^2)/dt - 2 f bbar^2 = 2 abar bbar d/dt(bbar/abar) (card 9228). For VP
  g^2 = -d log abar^2/dt. Discrete schedules are made continuous by linear interpolation of log abar^2
  between integer t (card 10055), so non-integer t (upsample guidance's tau, ODE solvers) is defined.
* log_snr(t) = log(abar^2/bbar^2) decreases strictly in t; `t_for_log_snr` inverts it exactly.
* All methods take a float or a tensor t and return float64 tensors (on t's device). Use `float(...)`
  for a scalar coefficient and `expand_like(c, x)` to broadcast a per-sample (B,) coefficient over x.
"""
from __future__ import annotations

import math

import torch

from kexue.errors import KexueError

F64 = torch.float64


def _t(t) -> torch.Tensor:
    if isinstance(t, torch.Tensor):
        return t.to(F64)
    return torch.as_tensor(t, dtype=F64)


def expand_like(c, x: torch.Tensor) -> torch.Tensor:
    """A scalar or per-sample (B,) coefficient reshaped to (B, 1, ..., 1) in x's dtype and device."""
    c = torch.as_tensor(c).to(device=x.device, dtype=x.dtype)
    return c.reshape(c.shape + (1,) * (x.dim() - c.dim())) if c.dim() else c


class Schedule:
    """Base class: subclasses define abar, bbar, f, g2 and t_for_log_snr on [t_min, t_max]."""

    name = "schedule"
    discrete = False
    t_min = 0.0   # where samplers stop
    t_max = 1.0   # "T": where they start

    def abar(self, t) -> torch.Tensor:
        raise NotImplementedError

    def bbar(self, t) -> torch.Tensor:
        raise NotImplementedError

    def f(self, t) -> torch.Tensor:
        """Drift coefficient of the forward SDE dx = f x dt + g dw (= d log abar/dt)."""
        raise NotImplementedError

    def g2(self, t) -> torch.Tensor:
        """Squared diffusion coefficient g^2 of the forward SDE."""
        raise NotImplementedError

    def log_snr(self, t) -> torch.Tensor:
        return 2 * (torch.log(self.abar(t)) - torch.log(self.bbar(t)))

    def t_for_log_snr(self, lam) -> torch.Tensor:
        raise NotImplementedError

    def sigma(self, t) -> torch.Tensor:
        """bbar/abar: the noise level of x/abar (the DDIM / EDM variable; 0 at clean data)."""
        return self.bbar(t) / self.abar(t)

    def t_for_sigma(self, sigma) -> torch.Tensor:
        s = _t(sigma)
        return self.t_for_log_snr(-2 * torch.log(s))

    def prior_std(self) -> float:
        """Std of p_T for zero-mean unit-variance data: sqrt(abar_T^2 + bbar_T^2) (= 1 for VP)."""
        return math.sqrt(float(self.abar(self.t_max)) ** 2 + float(self.bbar(self.t_max)) ** 2)

    def check_terminal(self, terminal_tol: float, fix: str) -> None:
        """x_T must have forgotten x_0: abar_T / bbar_T <= terminal_tol, else sampling from the prior is biased."""
        a, b = float(self.abar(self.t_max)), float(self.bbar(self.t_max))
        if not (a / b <= terminal_tol):
            kl = 0.5 * a * a  # KL(p(x_T|x_0) || prior) per unit-scale dimension, leading order
            raise KexueError(
                f"schedule {self.name}: alpha_bar_T = {a:.4g} (signal std left at t = T; abar_T/bbar_T = {a / b:.4g}"
                f" > terminal_tol = {terminal_tol:g}, KL to the prior ~ {kl:.2g} per dim), so x_T still remembers"
                f" x_0 and sampling from N(0, I) is biased; fix: {fix} (or pass terminal_tol to accept it)")

    def __repr__(self) -> str:
        return f"<{self.name}: t in [{self.t_min:g}, {self.t_max:g}]>"


class VPSchedule(Schedule):
    """abar^2 + bbar^2 = 1; everything follows from L(t) = log abar(t)^2 (kept in logs: no 1 - abar^2 cancellation)."""

    def log_abar2(self, t) -> torch.Tensor:
        raise NotImplementedError

    def dlog_abar2(self, t) -> torch.Tensor:
        raise NotImplementedError

    def t_for_log_abar2(self, L) -> torch.Tensor:
        raise NotImplementedError

    def abar(self, t):
        return torch.exp(0.5 * self.log_abar2(t))

    def bbar(self, t):
        return torch.sqrt(-torch.expm1(self.log_abar2(t)))

    def log_snr(self, t):
        L = self.log_abar2(t)
        return L - torch.log(-torch.expm1(L))

    def t_for_log_snr(self, lam):
        # abar^2 = sigmoid(lam)  =>  L = log sigmoid(lam), then invert L(t)
        return self.t_for_log_abar2(torch.nn.functional.logsigmoid(_t(lam)))

    def f(self, t):
        return 0.5 * self.dlog_abar2(t)

    def g2(self, t):
        return -self.dlog_abar2(t)


class DiscreteSchedule(VPSchedule):
    """T integer steps given by per-step variances var_t = beta_t^2 (= the DDPM paper's beta_t), t = 1..T.

    Tables are indexed by t = 0..T (index 0 = clean data). Non-integer t interpolates log abar^2 linearly.
    """

    discrete = True

    def __init__(self, var, name: str = "discrete", terminal_tol: float = 0.01):
        var = torch.as_tensor(var, dtype=F64).flatten().cpu()
        if var.numel() < 1 or not bool(torch.all((var > 0) & (var < 1))):
            bad = var[~((var > 0) & (var < 1))][:3].tolist() if var.numel() else "[] (empty)"
            raise KexueError(f"schedule {name}: per-step variances beta_t^2 must lie in (0, 1), got {bad};"
                             " fix: pass DDPM-paper betas (variances), not stds or percentages")
        self.name, self.T = name, int(var.numel())
        self.t_min, self.t_max = 0.0, float(self.T)
        self.var = var
        self.L = torch.cat([torch.zeros(1, dtype=F64), torch.cumsum(torch.log1p(-var), 0)])  # log abar_t^2, t = 0..T
        self.check_terminal(terminal_tol, "use more steps T or larger variances, e.g. linear(T, 1e-4 * 1000 / T,"
                                          " 0.02 * 1000 / T) or cosine(T)")

    # --- conversions to the DDPM paper (variances) ---
    @classmethod
    def from_ddpm_betas(cls, betas, **kw) -> "DiscreteSchedule":
        """From the DDPM paper's beta_t (variances) = this convention's beta_t^2."""
        return cls(betas, **kw)

    @classmethod
    def from_alphas_cumprod(cls, alphas_cumprod, **kw) -> "DiscreteSchedule":
        """From the DDPM paper's \\bar\\alpha_t = abar_t^2, t = 1..T: beta^DDPM_t = 1 - abar_t^2 / abar_{t-1}^2."""
        ac = torch.as_tensor(alphas_cumprod, dtype=F64).flatten()
        prev = torch.cat([torch.ones(1, dtype=F64), ac[:-1]])
        return cls(1 - ac / prev, **kw)

    def ddpm_betas(self) -> torch.Tensor:
        """The DDPM paper's beta_t (a variance) for t = 1..T."""
        return self.var.clone()

    def alphas_cumprod(self) -> torch.Tensor:
        """The DDPM paper's \\bar\\alpha_t = abar_t^2 for t = 1..T."""
        return torch.exp(self.L[1:])

    # --- per-step stds (integer t = 1..T) ---
    def _idx(self, t) -> torch.Tensor:
        t = _t(t)
        i = torch.round(t).long()
        if bool(torch.any((t - i).abs() > 1e-9)) or bool(torch.any((i < 1) | (i > self.T))):
            raise KexueError(f"schedule {self.name}: per-step quantities need integer t in 1..{self.T}, got {t.tolist()}")
        return i - 1

    def alpha_step(self, t) -> torch.Tensor:
        i = self._idx(t)
        return torch.sqrt(1 - self.var.to(i.device)[i])

    def beta_step(self, t) -> torch.Tensor:
        i = self._idx(t)
        return torch.sqrt(self.var.to(i.device)[i])

    def posterior_sigma(self, t) -> torch.Tensor:
        """bbar_{t-1} beta_t / bbar_t: the optimal decoder std for one-point data (0 at t = 1; card 9152 C4)."""
        t = _t(t)
        return self.bbar(t - 1) * self.beta_step(t) / self.bbar(t)

    # --- continuous interpolation ---
    def _seg(self, t):
        t = _t(t)
        if bool(torch.any((t < -1e-12) | (t > self.T + 1e-9))):
            raise KexueError(f"schedule {self.name}: t = {t.min().item():g}..{t.max().item():g} outside [0, {self.T}]")
        t = t.clamp(0, self.T)
        i = torch.clamp(torch.ceil(t).long(), 1, self.T)  # segment (i-1, i]
        return t, i

    def log_abar2(self, t):
        t, i = self._seg(t)
        L = self.L.to(t.device)
        w = t - (i - 1)
        return L[i - 1] + w * (L[i] - L[i - 1])

    def dlog_abar2(self, t):
        t, i = self._seg(t)
        L = self.L.to(t.device)
        return L[i] - L[i - 1]

    def t_for_log_abar2(self, L):
        L = _t(L)
        tab = -self.L.to(L.device)  # increasing in t
        x = (-L).clamp(0, float(tab[-1]))
        i = torch.clamp(torch.searchsorted(tab, x.contiguous()), 1, self.T)
        w = (x - tab[i - 1]) / (tab[i] - tab[i - 1])
        return (i - 1) + w


def linear(T: int = 1000, var_start: float = 1e-4, var_end: float = 0.02, **kw) -> DiscreteSchedule:
    """DDPM paper: variances beta^DDPM_t linear from var_start to var_end (abar_T = 6.4e-3 at T = 1000)."""
    _check_T(T)
    return DiscreteSchedule(torch.linspace(var_start, var_end, T, dtype=F64), name=f"linear(T={T})", **kw)


def kexue_linear(T: int = 1000, **kw) -> DiscreteSchedule:
    """Card 9152: alpha_t = sqrt(1 - 0.02 t / T), i.e. beta_t^2 = 0.02 t / T (abar_T = 6.48e-3 at T = 1000)."""
    _check_T(T)
    return DiscreteSchedule(0.02 * torch.arange(1, T + 1, dtype=F64) / T, name=f"kexue_linear(T={T})", **kw)


def cosine(T: int = 1000, s: float = 0.008, max_var: float = 0.999, **kw) -> DiscreteSchedule:
    """Nichol & Dhariwal: abar_t^2 = cos^2((t/T + s)/(1 + s) pi/2) / (same at t = 0), variances clipped at max_var."""
    _check_T(T)
    t = torch.arange(0, T + 1, dtype=F64)
    c = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    var = (1 - c[1:] / c[:-1]).clamp(max=max_var)
    return DiscreteSchedule(var, name=f"cosine(T={T})", **kw)


def _check_T(T) -> None:
    if not isinstance(T, int) or T < 1:
        raise KexueError(f"T = {T!r}: the number of diffusion steps must be a positive integer (e.g. 1000)")


class VPSDE(VPSchedule):
    """Song et al. VP SDE: beta(t) = beta_min + t (beta_max - beta_min) on [0, 1]; f = -beta/2, g^2 = beta,
    abar = exp(-B(t)/2), B(t) = int_0^t beta. Samplers stop at t_min (card 9228: 1e-3, compare with p_{t_min})."""

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, t_min: float = 1e-3,
                 terminal_tol: float = 0.01):
        if not (0 < beta_min <= beta_max):
            raise KexueError(f"VPSDE beta_min = {beta_min}, beta_max = {beta_max}: need 0 < beta_min <= beta_max")
        if not (0 <= t_min < 1):
            raise KexueError(f"VPSDE t_min = {t_min}: must lie in [0, 1) (e.g. 1e-3)")
        self.beta_min, self.beta_max, self.t_min, self.t_max = float(beta_min), float(beta_max), float(t_min), 1.0
        self.name = f"VPSDE({beta_min:g}, {beta_max:g})"
        self.check_terminal(terminal_tol, "raise beta_max (Song et al.: 20)")

    def beta(self, t) -> torch.Tensor:
        return self.beta_min + _t(t) * (self.beta_max - self.beta_min)

    def log_abar2(self, t):
        t = _t(t)
        return -(self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t)

    def dlog_abar2(self, t):
        return -self.beta(t)

    def t_for_log_abar2(self, L):
        B, d, b0 = -_t(L), self.beta_max - self.beta_min, self.beta_min
        if d == 0:
            return B / b0
        return 2 * B / (b0 + torch.sqrt(b0 * b0 + 2 * d * B))  # root of d/2 t^2 + b0 t - B, cancellation-free


class VESDE(Schedule):
    """Song et al. VE SDE: abar = 1, bbar = sigma(t) = sigma_min (sigma_max/sigma_min)^t, f = 0,
    g^2 = d sigma^2/dt = 2 sigma^2 log(sigma_max/sigma_min). Not VP: the prior is N(0, sigma_max^2 I)."""

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 100.0, t_min: float = 0.0,
                 terminal_tol: float = 0.01):
        if not (0 < sigma_min < sigma_max):
            raise KexueError(f"VESDE sigma_min = {sigma_min}, sigma_max = {sigma_max}: need 0 < sigma_min < sigma_max")
        self.sigma_min, self.sigma_max, self.t_min, self.t_max = float(sigma_min), float(sigma_max), float(t_min), 1.0
        self.log_ratio = math.log(sigma_max / sigma_min)
        self.name = f"VESDE({sigma_min:g}, {sigma_max:g})"
        self.check_terminal(terminal_tol, "raise sigma_max to >= 1/terminal_tol times the data scale")

    def abar(self, t):
        return torch.ones_like(_t(t))

    def bbar(self, t):
        return self.sigma_min * torch.exp(_t(t) * self.log_ratio)

    def f(self, t):
        return torch.zeros_like(_t(t))

    def g2(self, t):
        return 2 * self.bbar(t) ** 2 * self.log_ratio

    def log_snr(self, t):
        return -2 * (math.log(self.sigma_min) + _t(t) * self.log_ratio)

    def t_for_log_snr(self, lam):
        return (-0.5 * _t(lam) - math.log(self.sigma_min)) / self.log_ratio


def time_grid(schedule: Schedule, steps: int, kind: str = "uniform", rho: float = 7.0) -> list[float]:
    """steps + 1 decreasing times from t_max to t_min.

    uniform: evenly spaced in t (rounded to integers for discrete schedules, so trained nets with a t-embedding
    table get valid indices; needs steps <= T); edm: Karras et al. rho-spacing in sigma = bbar/abar (denser near
    the data; non-integer t for discrete schedules). A uniform t grid handicaps Heun near t -> 0 (card 9228).
    """
    if not isinstance(steps, int) or steps < 1:
        raise KexueError(f"steps = {steps!r}: a sampler needs a positive integer number of steps")
    t0, t1 = schedule.t_max, schedule.t_min
    if kind == "uniform":
        ts = torch.linspace(t0, t1, steps + 1, dtype=F64)
        if schedule.discrete:
            if steps > schedule.T:
                raise KexueError(f"steps = {steps} > T = {schedule.T}: a uniform integer grid has at most T steps")
            ts = torch.round(ts)
    elif kind == "edm":
        s0, s1 = float(schedule.sigma(t0)), float(schedule.sigma(t1))
        u = torch.linspace(0, 1, steps + 1, dtype=F64)
        sig = (s0 ** (1 / rho) + u * (s1 ** (1 / rho) - s0 ** (1 / rho))) ** rho
        ts = schedule.t_for_sigma(sig)
        ts[0], ts[-1] = t0, t1
    else:
        raise KexueError(f"time grid kind = {kind!r}: choose 'uniform' or 'edm'")
    return [float(v) for v in ts]
