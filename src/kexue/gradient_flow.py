"""Finite-dimensional gradient flows (kexue.fm/archives/9660): GD vs the flow, steepest descent under
other norms, proximal and KL-penalised (natural-gradient) steps, and the Gaussian-restricted JKO step.

Every function is small and deterministic; the stage code (stages/a9660_stages.py) strings them
together and the tests check them against closed forms.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import linprog, minimize

from kexue.errors import KexueError


# ------------------------------------------------------------------------ test functions
class Quadratic:
    """f(x) = x^T H x / 2; its flow is x(t) = exp(-H t) x0 (H diagonal here)."""

    name = "quadratic"

    def __init__(self, h=(1.0, 10.0)):
        self.h = np.asarray(h, dtype=np.float64)
        self.L = float(self.h.max())

    def f(self, x):
        x = np.asarray(x)
        return 0.5 * np.sum(self.h * x * x, axis=-1)

    def grad(self, x):
        return self.h * np.asarray(x)

    def hess(self, x):
        return np.diag(self.h)

    def flow(self, x0, t):
        return np.exp(-np.outer(t, self.h)) * np.asarray(x0)


class LogSumExp:
    """f(x) = log sum_j exp(a_j.x + b_j) + mu |x|^2 / 2 (smooth, strongly convex, not quadratic).

    L = max_j |a_j|^2 + mu bounds the Hessian A^T (diag(pi) - pi pi^T) A + mu I."""

    name = "logsumexp"

    def __init__(self, A, b, mu=0.5):
        self.A, self.b, self.mu = np.asarray(A, float), np.asarray(b, float), float(mu)
        self.L = float(np.max(np.sum(self.A ** 2, axis=1)) + self.mu)

    def _z(self, x):
        return np.asarray(x) @ self.A.T + self.b

    def f(self, x):
        z = self._z(x)
        zm = z.max(axis=-1, keepdims=True)
        return (zm + np.log(np.exp(z - zm).sum(axis=-1, keepdims=True)))[..., 0] + 0.5 * self.mu * np.sum(
            np.asarray(x) ** 2, axis=-1)

    def grad(self, x):
        z = self._z(x)
        pi = np.exp(z - z.max(axis=-1, keepdims=True))
        pi /= pi.sum(axis=-1, keepdims=True)
        return pi @ self.A + self.mu * np.asarray(x)

    def hess(self, x):
        z = self._z(x)
        pi = np.exp(z - z.max())
        pi /= pi.sum()
        return self.A.T @ (np.diag(pi) - np.outer(pi, pi)) @ self.A + self.mu * np.eye(self.A.shape[1])

    def flow(self, x0, t):
        return rk45(self, x0, float(np.max(t))).sol(np.asarray(t, float)).T


def rk45(fn, x0, t_end: float, rtol: float = 1e-10):
    """Reference solution of x' = -grad f(x) (RK45, the card's rtol 1e-10), with dense output."""
    return solve_ivp(lambda _, x: -fn.grad(x), (0.0, t_end), np.asarray(x0, float), method="RK45",
                     rtol=rtol, atol=rtol * 1e-2, dense_output=True)


def lse_2d():
    return LogSumExp([[2.0, 1.0], [-1.0, 3.0], [-1.0, -2.0]], [0.0, 0.5, -0.5], mu=0.5)


def lse_nd(dim: int, rng) -> LogSumExp:
    return LogSumExp(rng.normal(size=(dim + 2, dim)), rng.normal(size=dim + 2) * 0.5, mu=0.5)


# ------------------------------------------------------------------------ C1, C2: GD vs flow
def gd(fn, x0, alpha: float, steps: int) -> np.ndarray:
    if alpha <= 0 or steps < 0:
        raise KexueError(f"gd: alpha = {alpha} must be > 0 and steps = {steps} >= 0")
    xs = [np.asarray(x0, float)]
    for _ in range(steps):
        xs.append(xs[-1] - alpha * fn.grad(xs[-1]))
    return np.array(xs)


def gd_global_error(fn, x0, alpha: float, horizon: float) -> float:
    """max over k alpha <= T of |x_k - x(k alpha)| (fixed horizon, not a fixed step count)."""
    k = int(math.floor(horizon / alpha + 1e-9))
    xs = gd(fn, x0, alpha, k)
    return float(np.max(np.linalg.norm(xs - fn.flow(x0, alpha * np.arange(k + 1)), axis=1)))


def dissipation_mismatch(fn, x0, horizon: float, n_t: int = 200, h: float = 1e-3) -> float:
    """max over t of |df/dt + |grad f|^2| / |grad f|^2 along the RK45 (rtol 1e-10) solution; df/dt by a
    central difference of f along the dense output (h = 1e-3: O(h^2) truncation, O(rtol/h) noise)."""
    sol = rk45(fn, x0, horizon + h)
    t = np.linspace(h, horizon, n_t)
    dfdt = (fn.f(sol.sol(t + h).T) - fn.f(sol.sol(t - h).T)) / (2 * h)
    g2 = np.sum(fn.grad(sol.sol(t).T) ** 2, axis=1)
    return float(np.max(np.abs(dfdt + g2) / g2))


def gd_monotone(fn, x0, alpha: float, steps: int) -> bool:
    fs = fn.f(gd(fn, x0, alpha, steps))
    return bool(np.all(np.diff(fs) < 0))


# ------------------------------------------------------------------------ C3: steepest descent per norm
def norms_2d(M):
    """Unit-sphere parametrisations (angle -> unit vector of that norm) and the predicted direction."""
    M = np.asarray(M, float)
    return {
        "l2": (lambda u: u / np.linalg.norm(u, axis=1, keepdims=True), lambda g: -g / np.linalg.norm(g)),
        "linf": (lambda u: u / np.max(np.abs(u), axis=1, keepdims=True), lambda g: -np.sign(g)),
        "l1": (lambda u: u / np.sum(np.abs(u), axis=1, keepdims=True),
               lambda g: -np.sign(g) * (np.arange(g.size) == np.argmax(np.abs(g)))),
        "M": (lambda u: u / np.sqrt(np.einsum("ni,ij,nj->n", u, M, u))[:, None],
              lambda g: -np.linalg.solve(M, g)),
    }


def angle_deg(a, b) -> float:
    c = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    return math.degrees(math.acos(min(1.0, max(-1.0, c))))


def brute_force_2d(fn, x, eps: float, sphere, n: int = 100000):
    """argmin of the true f over x + eps * (n points of a unit sphere); n divisible by 8 puts the
    vertices of the l1 and l_inf spheres (angles k pi/4) on the grid."""
    th = 2 * np.pi * np.arange(n) / n
    d = sphere(np.stack([np.cos(th), np.sin(th)], axis=1))
    return d[int(np.argmin(fn.f(x + eps * d)))]


def constrained_nd(fn, x, eps: float, norm: str, M=None):
    """5-D argmin: SLSQP on the true f with the norm as an equality (l2, M); an LP on the linear
    model g.d over the unit ball (l1, l_inf: the minimiser is a vertex)."""
    g = fn.grad(x)
    dim = g.size
    if norm in ("l2", "M"):
        Mm = np.eye(dim) if norm == "l2" else np.asarray(M, float)
        f0 = float(fn.f(x))
        obj = lambda d: (float(fn.f(x + eps * d)) - f0) / eps  # noqa: E731  O(1) scale for the optimiser
        jac = lambda d: fn.grad(x + eps * d)  # noqa: E731
        d0 = np.ones(dim) / math.sqrt(float(np.ones(dim) @ Mm @ np.ones(dim)))
        r = minimize(obj, d0, jac=jac, method="SLSQP", options={"ftol": 1e-15, "maxiter": 500},
                     constraints=[{"type": "eq", "fun": lambda d: d @ Mm @ d - 1.0, "jac": lambda d: 2 * Mm @ d}])
        return r.x
    if norm == "linf":
        return linprog(g, bounds=[(-1, 1)] * dim, method="highs").x
    if norm == "l1":  # d = u - v, u, v >= 0, sum(u + v) <= 1
        r = linprog(np.concatenate([g, -g]), A_ub=np.ones((1, 2 * dim)), b_ub=[1.0], bounds=[(0, None)] * (2 * dim),
                    method="highs")
        return r.x[:dim] - r.x[dim:]
    raise KexueError(f"norm = {norm!r}: choose l2, linf, l1 or M")


def predicted_nd(g, norm: str, M=None):
    g = np.asarray(g)
    if norm == "l2":
        return -g / np.linalg.norm(g)
    if norm == "linf":
        return -np.sign(g)
    if norm == "l1":
        return -np.sign(g) * (np.arange(g.size) == np.argmax(np.abs(g)))
    return -np.linalg.solve(M, g)


# ------------------------------------------------------------------------ C4: proximal step
def prox_step(fn, x, alpha: float) -> np.ndarray:
    """argmin_y |y - x|^2 / (2 alpha) + f(y), solved as min alpha f(y) + |y - x|^2 / 2 (Hessian ~ I,
    well conditioned for small alpha) by BFGS with gtol 1e-12, started at x (not at the GD step)."""
    x = np.asarray(x, float)

    def obj(y):
        d = y - x
        return alpha * float(fn.f(y)) + 0.5 * float(d @ d), alpha * fn.grad(y) + d

    r = minimize(obj, x.copy(), jac=True, method="BFGS", options={"gtol": 1e-13, "maxiter": 1000})
    return r.x


# ------------------------------------------------------------------------ C5: KL step vs natural gradient
def gauss_kl(x, xt):
    """KL(N(mu, s^2) || N(mu_t, s_t^2)) in x = (mu, log s): log(s_t/s) + (s^2 + (mu - mu_t)^2)/(2 s_t^2) - 1/2."""
    mu, ls = x
    mut, lst = xt
    return (lst - ls) + (math.exp(2 * ls) + (mu - mut) ** 2) / (2 * math.exp(2 * lst)) - 0.5


def gauss_kl_grad(x, xt):
    mu, ls = x
    mut, lst = xt
    v = math.exp(2 * lst)
    return np.array([(mu - mut) / v, -1.0 + math.exp(2 * ls) / v])


def loss_c5(x, target: float = 3.0):
    """f(x) = E_{y ~ N(mu, s^2)} (y - target)^2 = (mu - target)^2 + s^2."""
    return (x[0] - target) ** 2 + math.exp(2 * x[1])


def loss_c5_grad(x, target: float = 3.0):
    return np.array([2 * (x[0] - target), 2 * math.exp(2 * x[1])])


def fisher_gauss(x):
    """Fisher matrix of N(mu, s^2) in (mu, log s): diag(1/s^2, 2)."""
    return np.diag([math.exp(-2 * x[1]), 2.0])


def natural_step(x, alpha: float):
    x = np.asarray(x, float)
    return x - alpha * np.linalg.solve(fisher_gauss(x), loss_c5_grad(x))


def kl_step(x, alpha: float):
    """argmin_y KL(p_y || p_x) / alpha + f(y) (the article's direction), as min KL + alpha f by BFGS."""
    x = np.asarray(x, float)

    def obj(y):
        return gauss_kl(y, x) + alpha * loss_c5(y), gauss_kl_grad(y, x) + alpha * loss_c5_grad(y)

    return minimize(obj, x.copy(), jac=True, method="BFGS", options={"gtol": 1e-14, "maxiter": 1000}).x


def kl_derivatives_fd(xt, h: float = 1e-4):
    """Central-difference gradient and Hessian of y -> KL(p_y || p_xt) at y = xt."""
    xt = np.asarray(xt, float)
    e = np.eye(2) * h
    g = np.array([(gauss_kl(xt + e[i], xt) - gauss_kl(xt - e[i], xt)) / (2 * h) for i in range(2)])
    H = np.array([[(gauss_kl(xt + e[i] + e[j], xt) - gauss_kl(xt + e[i] - e[j], xt) - gauss_kl(xt - e[i] + e[j], xt)
                    + gauss_kl(xt - e[i] - e[j], xt)) / (4 * h * h) for j in range(2)] for i in range(2)])
    return g, H


# ------------------------------------------------------------------------ C9: Gaussian-restricted JKO
def gauss_flow(t, mu, s2, m0, v0):
    """Closed-form Fokker–Planck solution for p = N(mu, s2), q0 = N(m0, v0): (m_t, v_t)."""
    t = np.asarray(t, float)
    return mu + (m0 - mu) * np.exp(-t / s2), s2 + (v0 - s2) * np.exp(-2 * t / s2)


def gauss_kl_to_target(m, v, mu, s2):
    """KL(N(m, v) || N(mu, s2)) = log(s / sqrt v) + (v + (m - mu)^2) / (2 s^2) - 1/2."""
    return 0.5 * np.log(s2 / v) + (v + (m - mu) ** 2) / (2 * s2) - 0.5


def jko_step(m_k, sd_k, alpha: float, mu: float, s2: float):
    """argmin over (m, sd > 0) of [(m - m_k)^2 + (sd - sd_k)^2] / (2 alpha) + KL(N(m, sd^2) || N(mu, s2))."""
    def obj(z):
        m, sd = z
        val = ((m - m_k) ** 2 + (sd - sd_k) ** 2) / (2 * alpha) + gauss_kl_to_target(m, sd * sd, mu, s2)
        grad = np.array([(m - m_k) / alpha + (m - mu) / s2, (sd - sd_k) / alpha - 1 / sd + sd / s2])
        return float(val), grad

    r = minimize(obj, np.array([m_k, sd_k]), jac=True, method="L-BFGS-B", bounds=[(None, None), (1e-8, None)],
                 options={"ftol": 1e-15, "gtol": 1e-13, "maxiter": 1000})
    return r.x


def jko_implicit_euler(m_k, sd_k, alpha: float, mu: float, s2: float):
    """Implicit Euler of m' = -(m - mu)/s^2, sd' = 1/sd - sd/s^2 (the positive root of the quadratic)."""
    c = 1 + alpha / s2
    return (m_k + alpha * mu / s2) / c, (sd_k + math.sqrt(sd_k ** 2 + 4 * alpha * c)) / (2 * c)


def jko_path(alpha: float, horizon: float, mu: float, s2: float, m0: float, v0: float):
    """Iterated JKO steps to t = horizon (an integer number of steps); returns t, m, sd and the max
    deviation from the implicit-Euler recursion."""
    n = int(round(horizon / alpha))
    if abs(n * alpha - horizon) > 1e-9:
        raise KexueError(f"jko_path: alpha = {alpha} does not divide the horizon {horizon}")
    ms, sds, dev = [m0], [math.sqrt(v0)], 0.0
    for _ in range(n):
        m, sd = jko_step(ms[-1], sds[-1], alpha, mu, s2)
        me, sde = jko_implicit_euler(ms[-1], sds[-1], alpha, mu, s2)
        dev = max(dev, abs(m - me), abs(sd - sde))
        ms.append(m)
        sds.append(sd)
    return alpha * np.arange(n + 1), np.array(ms), np.array(sds), dev
