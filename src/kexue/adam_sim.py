"""Adam, RMSprop and AdaBelief in vectorised float64 numpy, on quadratics and on linear regression.

Written for the "adaptive learning rates as Hessian approximations" article (10588) and meant to
be reused by any optimizer-numerics article (e.g. Adam's epsilon):

    cfg = AdamConfig(lr=1e-3, beta1=0.9, beta2=0.99, eps=1e-12)          # validated on creation
    state = init_state(theta0.shape)
    theta = adam_step(theta, grad, state, cfg)                             # one step, in place on state
    res = run_quadratic(h, theta0, theta_star, steps, [cfg_a, cfg_b])      # several configs at once
    res = run_linreg(X, y, theta0, steps, cfg, batch=8, rng=rng)           # minibatch least squares

Variants (`AdamConfig.variant`):
- "adam": Kingma & Ba with bias correction of both moments; the update is
  lr * m_hat / (sqrt(v_hat) + eps).
- "rmsprop": Adam without momentum (m = g), v bias-corrected; beta1 is ignored.
- "adabelief": Zhuang et al. 2020, Algorithm 2 as published: m is updated first, then
  s_t = beta2 s_{t-1} + (1 - beta2) (g_t - m_t)^2 + eps (eps *inside* the recursion), s bias-corrected,
  update lr * m_hat / (sqrt(s_hat) + eps). Its "v" is the centred second moment, the covariance
  form of the Hessian estimate (no g_0 g_0^T bias away from a stationary point).

Several configurations (same variant) run side by side: theta has shape (R, n) and every
hyperparameter becomes an (R, 1) column, so one python loop serves R runs.

Statistics over the averaging window (default: the second half of the steps) are accumulated on
the fly: the time average of sqrt(v_hat) per coordinate, the per-coordinate std of theta (its
oscillation amplitude around the optimum) and the Newton ratio h * lr / <sqrt(v_hat)>, which is
constant across coordinates exactly when Adam's preconditioner is proportional to the Hessian.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from kexue.errors import KexueError

VARIANTS = ("adam", "rmsprop", "adabelief")


@dataclass(frozen=True)
class AdamConfig:
    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    variant: str = "adam"

    def __post_init__(self):
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise KexueError(f"AdamConfig: lr = {self.lr} must be a positive finite number (e.g. 1e-3)")
        if not (np.isfinite(self.eps) and self.eps > 0):
            raise KexueError(f"AdamConfig: eps = {self.eps} must be positive (e.g. 1e-12 for numerics studies)")
        for name in ("beta1", "beta2"):
            b = getattr(self, name)
            if not 0 <= b < 1:
                raise KexueError(f"AdamConfig: {name} = {b} must lie in [0, 1) (e.g. 0.9 or 0.999)")
        if self.variant not in VARIANTS:
            raise KexueError(f"AdamConfig: variant = {self.variant!r}; choose one of {VARIANTS}")


def init_state(shape) -> dict:
    """Zero moments and step counter; `v` is AdaBelief's s for that variant."""
    return {"m": np.zeros(shape), "v": np.zeros(shape), "t": 0}


def _cols(cfgs: Sequence[AdamConfig]) -> dict:
    """Hyperparameters as (R, 1) columns so R configurations broadcast against theta (R, n)."""
    if isinstance(cfgs, AdamConfig):
        return {k: getattr(cfgs, k) for k in ("lr", "beta1", "beta2", "eps")} | {"variant": cfgs.variant}
    cfgs = list(cfgs)
    if not cfgs:
        raise KexueError("no AdamConfig given")
    variants = {c.variant for c in cfgs}
    if len(variants) != 1:
        raise KexueError(f"configs run side by side must share one variant, got {sorted(variants)}")
    out = {k: np.array([getattr(c, k) for c in cfgs], dtype=np.float64)[:, None]
           for k in ("lr", "beta1", "beta2", "eps")}
    return out | {"variant": cfgs[0].variant}


def adam_step(theta: np.ndarray, g: np.ndarray, state: dict, cfg) -> tuple[np.ndarray, np.ndarray]:
    """One step; updates `state` in place and returns (new theta, sqrt(v_hat)).

    `cfg` is an AdamConfig, a list of them (theta then has one row per config) or the dict
    `_cols` makes of them (what the runners pass, to avoid rebuilding it every step).
    """
    c = cfg if isinstance(cfg, dict) else _cols(cfg)
    b1, b2, variant = c["beta1"], c["beta2"], c["variant"]
    state["t"] += 1
    t = state["t"]
    if variant == "rmsprop":
        m_hat = g
    else:
        state["m"] = b1 * state["m"] + (1 - b1) * g
        m_hat = state["m"] / (1 - b1 ** t)
    if variant == "adabelief":
        d = g - state["m"]
        state["v"] = b2 * state["v"] + (1 - b2) * d * d + c["eps"]
    else:
        state["v"] = b2 * state["v"] + (1 - b2) * g * g
    root = np.sqrt(state["v"] / (1 - b2 ** t))
    return theta - c["lr"] * m_hat / (root + c["eps"]), root


# ------------------------------------------------------------------------------- validation
def check_hessian(H, require_pd: bool = False) -> np.ndarray:
    """A Hessian as a diagonal (1-D, the h_i) or dense symmetric matrix (2-D); returns float64."""
    H = np.asarray(H, dtype=np.float64)
    if H.ndim not in (1, 2) or H.size == 0:
        raise KexueError(f"Hessian must be a non-empty vector of diagonal entries or a square matrix, got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise KexueError("Hessian has non-finite entries")
    if H.ndim == 2:
        if H.shape[0] != H.shape[1]:
            raise KexueError(f"Hessian of shape {H.shape} is not square")
        asym = np.max(np.abs(H - H.T))
        if asym > 1e-12 * max(1.0, np.max(np.abs(H))):
            raise KexueError(f"Hessian is not symmetric (max |H - H^T| = {asym:.3g}); pass (H + H.T) / 2")
        if require_pd:
            lam = np.linalg.eigvalsh(H)[0]
            if lam <= 0:
                raise KexueError(f"Hessian is not positive definite (smallest eigenvalue {lam:.3g}); "
                                 "add a ridge or choose a convex problem")
    elif require_pd and np.min(H) <= 0:
        raise KexueError(f"diagonal Hessian has a non-positive entry ({np.min(H):.3g}); all h_i must be > 0")
    return H


def _steps_window(steps: int, avg_from: int | None) -> int:
    if steps < 2:
        raise KexueError(f"steps = {steps}: need at least 2 (statistics average over the second half)")
    a = steps // 2 if avg_from is None else avg_from
    if not 0 <= a < steps:
        raise KexueError(f"avg_from = {avg_from} must lie in [0, steps = {steps})")
    return a


class _Window:
    """Running sums over the averaging window: sqrt(v_hat), theta - centre, its square."""

    def __init__(self, shape, centre):
        self.centre = centre
        self.k = 0
        self.root = np.zeros(shape)
        self.d = np.zeros(shape)
        self.d2 = np.zeros(shape)

    def add(self, theta, root):
        d = theta - self.centre  # deviations are tiny (~1e-5): summing them, not theta, avoids cancellation
        self.k += 1
        self.root += root
        self.d += d
        self.d2 += d * d

    def result(self) -> dict:
        mean_d = self.d / self.k
        var = np.maximum(self.d2 / self.k - mean_d ** 2, 0.0)
        return {"mean_sqrt_vhat": self.root / self.k, "std_theta": np.sqrt(var), "mean_offset": mean_d,
                "window_steps": self.k}


def _trace_plan(steps, trace_coords, trace_every):
    if trace_coords is None:
        return None, 1
    return np.asarray(trace_coords, dtype=np.int64), max(1, int(trace_every))


def run_quadratic(H, theta0, theta_star, steps: int, cfgs, grad_noise: float = 0.0, rng=None,
                  avg_from: int | None = None, trace_coords=None, trace_every: int = 1) -> dict:
    """Full-batch optimisation of L = 1/2 (theta - theta*)^T H (theta - theta*).

    Pass theta_star = 0 (coordinates centred at the optimum) for long runs: with theta* ~ 1 an
    iterate can land *exactly* on theta* in floating point, the gradient is then exactly 0, the
    update decays below half an ulp and the coordinate freezes for ever -- a rounding artefact,
    not Adam dynamics (seen at beta2 = 0.99: a third of the coordinates froze).

    H: diagonal entries (n,) or a dense symmetric (n, n) matrix. theta0: (n,) or (R, n) with one row
    per config (a single (n,) start is shared). grad_noise: std of i.i.d. Gaussian noise added to
    every gradient entry (needs `rng`). Returns the window statistics with one row per config, the
    Newton ratio h * lr / <sqrt(v_hat)> (diagonal H only), the final theta and the loss at the end.
    """
    H = check_hessian(H)
    cfg_list = [cfgs] if isinstance(cfgs, AdamConfig) else list(cfgs)
    c = _cols(cfg_list)
    R = len(cfg_list)
    n = H.shape[0]
    theta_star = np.broadcast_to(np.asarray(theta_star, dtype=np.float64), (n,))
    theta = np.array(np.broadcast_to(np.asarray(theta0, dtype=np.float64), (R, n)))
    if grad_noise < 0 or (grad_noise > 0 and rng is None):
        raise KexueError(f"grad_noise = {grad_noise}: must be >= 0, and > 0 needs an rng")
    a = _steps_window(steps, avg_from)
    win = _Window((R, n), theta_star)
    idx, when = _trace_plan(steps, trace_coords, trace_every)
    trace = [] if idx is not None else None
    state = init_state((R, n))
    diag = H.ndim == 1
    for t in range(steps):
        d = theta - theta_star
        g = d * H if diag else d @ H  # H symmetric: (H d)^T = d^T H
        if grad_noise:
            g = g + grad_noise * rng.standard_normal(g.shape)
        theta, root = adam_step(theta, g, state, c)
        if t >= a:
            win.add(theta, root)
        if idx is not None and t % when == 0:
            trace.append(theta[:, idx] - theta_star[idx])
    out = win.result()
    d = theta - theta_star
    out["final_loss"] = 0.5 * np.sum(d * (d * H if diag else d @ H), axis=1)
    out["theta"] = theta
    if diag:
        out["newton_ratio"] = H * c["lr"] / out["mean_sqrt_vhat"]
    if idx is not None:
        out["trace"] = np.stack(trace, axis=1)  # (R, n_trace_steps, len(idx))
        out["trace_steps"] = np.arange(0, steps, when) + 1  # steps taken when recorded
    return out


def run_linreg(X, y, theta0, steps: int, cfg: AdamConfig, batch: int | None = None, rng=None,
               centre=None, avg_from: int | None = None) -> dict:
    """Adam on L = 1/(2N) ||X theta - y||^2 with minibatches of `batch` rows drawn with replacement
    (batch None or >= N: the full batch, whose gradient is A theta - b with A = X^T X / N).

    `centre` (default: the OLS solution) is where the oscillation std is measured from.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise KexueError(f"run_linreg: X must be (N, n) and y (N,), got {X.shape} and {y.shape}")
    N, n = X.shape
    if batch is not None and batch < 1:
        raise KexueError(f"batch = {batch} must be >= 1 (or None for the full batch)")
    full = batch is None or batch >= N
    if not full and rng is None:
        raise KexueError("minibatch run_linreg needs an rng")
    A, b = X.T @ X / N, X.T @ y / N
    if centre is None:
        centre = np.linalg.solve(A, b)
    theta = np.array(theta0, dtype=np.float64).reshape(n)
    a = _steps_window(steps, avg_from)
    win = _Window(n, np.asarray(centre, dtype=np.float64))
    c = _cols(cfg)
    state = init_state(n)
    for t in range(steps):
        if full:
            g = A @ theta - b
        else:
            i = rng.integers(0, N, batch)
            Xb = X[i]
            g = Xb.T @ (Xb @ theta - y[i]) / batch
        theta, root = adam_step(theta, g, state, c)
        if t >= a:
            win.add(theta, root)
    out = win.result()
    out["theta"] = theta
    out["hdiag"] = np.diag(A).copy()
    return out
