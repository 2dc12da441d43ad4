"""1-D Fokker–Planck equations and Wasserstein gradient flows on a finite-volume grid.

The Wasserstein gradient flow of a functional F[q] is the continuity equation

    d/dt q = d/dx ( q d/dx dF/dq ).

Two functionals of a fixed target p = exp(-U) / Z are covered:

* reverse KL, F = KL(q || p), dF/dq = log(q/p) + 1: the Fokker–Planck equation of Langevin
  dynamics, d/dt q = d/dx ( dq/dx + q dU/dx ), flux J = -(dq/dx + q dU/dx);
* forward KL, F = KL(p || q), dF/dq = -p/q: d/dt q = -d/dx ( q d/dx (p/q) ), whose flux is the
  Fokker–Planck flux multiplied by the mobility r = p/q (because q d/dx r = -r (dq/dx + q dU/dx)).

Discretisation (why each choice):
* cell averages q_i on a uniform grid, fluxes on the n-1 interior interfaces and zero flux at
  both ends, so mass sum(q) dx is conserved to rounding (every column of the operator sums to 0);
* Scharfetter–Gummel flux J_{i+1/2} = -(1/dx) [B(-dU_i) q_{i+1} - B(dU_i) q_i], B(z) = z/(e^z - 1),
  dU_i = U_{i+1} - U_i: it vanishes exactly on q_i ∝ exp(-U_i), so the discrete target is an exact
  fixed point (a central flux is only O(dx^2) stationary), and it stays positive for any dU;
* backward Euler, (I - dt A) q^{n+1} = q^n, with a sparse LU: the diffusion part makes explicit
  steps need dt <= dx^2 / 2; the implicit matrix is an M-matrix, so q stays positive and the
  relative entropy decreases for any dt. For the forward-KL flow the mobility p/q is taken from
  the previous step (linearly implicit) and optionally refined by Picard iterations.

`FokkerPlanck2D` / `sg_operator_2d` apply the same flux along each axis of a 2-D grid (reverse KL only).

Typical use:

    fp = FokkerPlanck1D(x, log_p)              # uniform cell centres, log of the target (any constant)
    res = fp.run(q0, dt=0.005, t_end=20.0, snapshot_times=(0.5, 1, 5))
    res["kl"], res["fisher"], res["mass"], res["snapshots"][1.0]
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
from scipy import sparse
from scipy.linalg import solve_banded
from scipy.sparse.linalg import splu

from kexue.errors import KexueError

FLOOR = 1e-300  # q is clipped here before logs are taken (never changes the evolved q itself)
FLOWS = ("reverse_kl", "forward_kl")


# ------------------------------------------------------------------------ validation
def check_grid(x) -> float:
    """Uniform cell centres, at least 3 of them; returns dx."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 3:
        raise KexueError(f"grid x has {x.size} point(s): a finite-volume grid needs at least 3 cells "
                         f"(pass e.g. np.linspace(-10, 10, 400))")
    d = np.diff(x)
    dx = float(d.mean())
    if not np.all(np.isfinite(x)) or dx <= 0 or np.max(np.abs(d - dx)) > 1e-9 * max(1.0, abs(dx)):
        raise KexueError("grid x must be finite, increasing and uniformly spaced (cell centres of a uniform grid)")
    return dx


def check_density(q, dx: float, name: str = "q0", tol: float = 1e-8) -> np.ndarray:
    """A density on the grid: finite, non-negative and sum(q) dx = 1 within tol."""
    q = np.asarray(q, dtype=np.float64)
    if not np.all(np.isfinite(q)):
        raise KexueError(f"{name} has non-finite values: pass a finite density on the grid")
    if np.any(q < 0):
        raise KexueError(f"{name} has negative values (min {q.min():.3g}): a density must be >= 0")
    mass = float(q.sum() * dx)
    if abs(mass - 1.0) > tol:
        raise KexueError(f"{name} integrates to {mass:.12g}, not 1: normalise it with "
                         f"kexue.fokker_planck.normalise(values, dx)")
    return q


def normalise(values, dx: float) -> np.ndarray:
    """Scale non-negative values on the grid so that sum(q) dx = 1."""
    v = np.asarray(values, dtype=np.float64)
    s = float(v.sum() * dx)
    if not np.isfinite(s) or s <= 0:
        raise KexueError("normalise: the values must be finite, non-negative and not all zero")
    return v / s


def density_from_log(log_q, dx: float) -> np.ndarray:
    """exp(log_q) normalised on the grid, computed without overflow."""
    lq = np.asarray(log_q, dtype=np.float64)
    return normalise(np.exp(lq - lq.max()), dx)


# ------------------------------------------------------------------------ functionals
def kl(q, p, dx: float) -> float:
    """KL(q || p) = sum q log(q/p) dx (terms with q = 0 contribute 0)."""
    q, p = np.asarray(q), np.asarray(p)
    m = q > 0
    return float(np.sum(q[m] * (np.log(q[m]) - np.log(np.maximum(p[m], FLOOR)))) * dx)


def relative_fisher(q, p, dx: float) -> float:
    """I(q | p) = ∫ q (d/dx log(q/p))^2 dx: log(q/p) differenced across interfaces, q averaged there."""
    q, p = np.asarray(q), np.asarray(p)
    g = np.diff(np.log(np.maximum(q, FLOOR)) - np.log(np.maximum(p, FLOOR))) / dx
    qm = 0.5 * (q[1:] + q[:-1])
    return float(np.sum(qm * g * g) * dx)


def moments(x, q, dx: float) -> tuple[float, float]:
    """Mean and variance of a grid density."""
    m = float(np.sum(x * q) * dx)
    return m, float(np.sum((x - m) ** 2 * q) * dx)


# ------------------------------------------------------------------------ the scheme
def bernoulli(z):
    """B(z) = z / (e^z - 1), with B(0) = 1 (series near 0 avoids the 0/0)."""
    z = np.asarray(z, dtype=np.float64)
    small = np.abs(z) < 1e-6
    zs = np.where(small, 1.0, z)
    return np.where(small, 1.0 - z / 2 + z * z / 12, zs / np.expm1(zs))


def sg_operator(U, dx: float, mobility=None) -> sparse.csc_matrix:
    """Matrix A with dq/dt = A q for the no-flux Scharfetter–Gummel discretisation of
    d/dt q = d/dx ( m (dq/dx + q dU/dx) ); `mobility` m lives on the n-1 interior interfaces (default 1)."""
    U = np.asarray(U, dtype=np.float64)
    dU = np.diff(U)
    m = np.ones_like(dU) if mobility is None else np.asarray(mobility, dtype=np.float64)
    a = m * bernoulli(-dU) / dx ** 2  # J_{k+1/2} / (-1/dx) coefficient of q_{k+1}, over dx
    b = m * bernoulli(dU) / dx ** 2  # coefficient of q_k
    n = U.size
    # dq_k/dt = -(J_{k+1/2} - J_{k-1/2})/dx, J_{k+1/2} = -(a q_{k+1} - b q_k) dx
    main = np.zeros(n)
    main[:-1] -= b  # outflow through the right interface of cell k
    main[1:] -= a  # outflow through the left interface of cell k+1
    return sparse.diags([main, a, b], [0, 1, -1], shape=(n, n), format="csc")


def eye_minus_dt_A(U, dx: float, dt: float, mobility) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Diagonals (lower, main, upper) of I - dt A for `sg_operator(U, dx, mobility)`."""
    dU = np.diff(U)
    a = mobility * bernoulli(-dU) / dx ** 2
    b = mobility * bernoulli(dU) / dx ** 2
    main = np.ones(U.size)
    main[:-1] += dt * b
    main[1:] += dt * a
    return -dt * b, main, -dt * a


def _banded(diags) -> np.ndarray:
    lower, main, upper = diags
    ab = np.zeros((3, main.size))
    ab[0, 1:], ab[1], ab[2, :-1] = upper, main, lower
    return ab


class FokkerPlanck1D:
    """Wasserstein gradient flows of KL(q||p) ("reverse_kl") or KL(p||q) ("forward_kl") on a uniform grid."""

    def __init__(self, x, log_p):
        self.dx = check_grid(x)
        self.x = np.asarray(x, dtype=np.float64)
        log_p = np.asarray(log_p, dtype=np.float64)
        if log_p.shape != self.x.shape or not np.all(np.isfinite(log_p)):
            raise KexueError(f"log_p must be finite with one value per cell ({self.x.size}), got shape {log_p.shape}")
        self.U = -(log_p - log_p.max())  # the constant of U is irrelevant to the flux
        self.p = density_from_log(log_p, self.dx)  # the discrete target: exact fixed point of the scheme
        self.A = sg_operator(self.U, self.dx)

    def rhs(self, q) -> np.ndarray:
        """dq/dt of the reverse-KL flow (used by tests: A p = 0)."""
        return self.A @ np.asarray(q, dtype=np.float64)

    def _mobility(self, q) -> np.ndarray:
        r = self.p / np.maximum(q, FLOOR)
        return 0.5 * (r[1:] + r[:-1])

    def run(self, q0, dt: float, t_end: float, flow: str = "reverse_kl", snapshot_times: Iterable[float] = (),
            record_every: int = 1, picard: int = 0) -> dict:
        """Backward-Euler steps from q0 to t_end (rounded to whole steps).

        Returns t, kl (reverse), kl_fwd (KL(p||q)), fisher (relative Fisher information), mass,
        min_q on the recorded steps, and snapshots {time: q} at the requested times (nearest step).
        """
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise KexueError(f"dt = {dt!r}: the time step must be a positive number (e.g. 0.005)")
        if not (math.isfinite(t_end) and t_end >= 0):
            raise KexueError(f"t_end = {t_end!r}: must be a finite time >= 0")
        if flow not in FLOWS:
            raise KexueError(f"flow = {flow!r}: choose one of {FLOWS}")
        if record_every < 1 or picard < 0:
            raise KexueError(f"record_every = {record_every} must be >= 1 and picard = {picard} >= 0")
        q = check_density(q0, self.dx).copy()
        n_steps = int(round(t_end / dt))
        snap_steps = {int(round(float(s) / dt)): float(s) for s in snapshot_times}
        if any(k > n_steps or k < 0 for k in snap_steps):
            raise KexueError(f"snapshot_times must lie in [0, t_end = {t_end}]")
        eye = sparse.identity(self.x.size, format="csc")
        lu = splu(eye - dt * self.A) if flow == "reverse_kl" else None
        rec = {k: [] for k in ("t", "kl", "kl_fwd", "fisher", "mass", "min_q")}
        snaps = {}

        def record(k, q):
            rec["t"].append(k * dt)
            rec["kl"].append(kl(q, self.p, self.dx))
            rec["kl_fwd"].append(kl(self.p, q, self.dx))
            rec["fisher"].append(relative_fisher(q, self.p, self.dx))
            rec["mass"].append(float(q.sum() * self.dx))
            rec["min_q"].append(float(q.min()))

        for k in range(n_steps + 1):
            if k in snap_steps:
                snaps[snap_steps[k]] = q.copy()
            if k % record_every == 0 or k == n_steps:
                record(k, q)
            if k == n_steps:
                break
            if lu is not None:
                q = lu.solve(q)
            else:  # forward KL: mobility p/q lagged, then refined by Picard on the new q
                q_new = q
                for _ in range(picard + 1):  # tridiagonal: a banded solve is the sparse LU without overhead
                    with np.errstate(over="ignore", invalid="ignore"):
                        ab = _banded(eye_minus_dt_A(self.U, self.dx, dt, self._mobility(q_new)))
                    if not np.all(np.isfinite(ab)):
                        raise KexueError(f"forward-KL flow, step {k}: the mobility p/q overflowed; start from a q0 "
                                         f"whose tails are at least as heavy as p's (e.g. a wider Gaussian)")
                    q_new = solve_banded((1, 1), ab, q)
                if np.any(q_new < 0) or not np.all(np.isfinite(q_new)):
                    raise KexueError(f"forward-KL flow, step {k}: q lost positivity (mobility p/q too large); "
                                     f"use a q0 with tails at least as heavy as p's or a smaller dt")
                q = q_new
        out = {k: np.asarray(v) for k, v in rec.items()}
        out["snapshots"] = snaps
        out["dt"], out["steps"] = dt, n_steps
        return out


# ------------------------------------------------------------------------ 2-D (full profile)
def sg_operator_2d(U, dx: float, dy: float) -> sparse.csc_matrix:
    """No-flux Scharfetter–Gummel operator of d/dt q = div(grad q + q grad U) on an (nx, ny) grid
    (C order, q.ravel()); each axis contributes the 1-D interface fluxes, so A exp(-U) = 0 exactly."""
    U = np.asarray(U, dtype=np.float64)
    nx, ny = U.shape
    idx = np.arange(nx * ny).reshape(nx, ny)
    rows, cols, vals = [], [], []
    for axis, h in ((0, dx), (1, dy)):
        dU = np.diff(U, axis=axis).ravel()
        left = (idx[:-1, :] if axis == 0 else idx[:, :-1]).ravel()
        right = (idx[1:, :] if axis == 0 else idx[:, 1:]).ravel()
        a, b = bernoulli(-dU) / h ** 2, bernoulli(dU) / h ** 2  # coefficients of q_right, q_left
        rows += [left, left, right, right]
        cols += [right, left, left, right]
        vals += [a, -b, b, -a]
    n = nx * ny
    return sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


class FokkerPlanck2D:
    """Reverse-KL Wasserstein flow (Langevin Fokker–Planck) on a uniform 2-D grid of cell centres."""

    def __init__(self, x, y, log_p):
        self.dx, self.dy = check_grid(x), check_grid(y)
        self.x, self.y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        log_p = np.asarray(log_p, dtype=np.float64)
        if log_p.shape != (self.x.size, self.y.size) or not np.all(np.isfinite(log_p)):
            raise KexueError(f"log_p must be finite with shape ({self.x.size}, {self.y.size}), got {log_p.shape}")
        self.U = -(log_p - log_p.max())
        self.da = self.dx * self.dy
        self.p = density_from_log(log_p, self.da)
        self.A = sg_operator_2d(self.U, self.dx, self.dy)

    def run(self, q0, dt: float, t_end: float, snapshot_times: Iterable[float] = ()) -> dict:
        """Backward Euler with one sparse LU; records KL(q||p) and mass every step, snapshots at given times."""
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise KexueError(f"dt = {dt!r}: the time step must be a positive number (e.g. 0.005)")
        q = check_density(np.asarray(q0, np.float64).ravel(), self.da).copy()
        n_steps = int(round(t_end / dt))
        snap_steps = {int(round(float(s) / dt)): float(s) for s in snapshot_times}
        lu = splu((sparse.identity(q.size, format="csc") - dt * self.A).tocsc())
        p = self.p.ravel()
        t, kls, mass, snaps = [], [], [], {}
        for k in range(n_steps + 1):
            if k in snap_steps:
                snaps[snap_steps[k]] = q.reshape(self.p.shape).copy()
            t.append(k * dt)
            kls.append(kl(q, p, self.da))
            mass.append(float(q.sum() * self.da))
            if k < n_steps:
                q = lu.solve(q)
        return {"t": np.array(t), "kl": np.array(kls), "mass": np.array(mass), "snapshots": snaps}


def gaussian_log_density(x, mean: float, var: float):
    return -0.5 * (np.asarray(x) - mean) ** 2 / var - 0.5 * np.log(2 * np.pi * var)


def mixture_log_density(x, weights, means, sds):
    """log of sum_j w_j N(x; mean_j, sd_j^2), by log-sum-exp."""
    x = np.asarray(x, dtype=np.float64)[..., None]
    comp = np.log(np.asarray(weights)) + gaussian_log_density(x, np.asarray(means), np.asarray(sds) ** 2)
    mx = comp.max(axis=-1, keepdims=True)
    return (mx + np.log(np.exp(comp - mx).sum(axis=-1, keepdims=True)))[..., 0]


def mixture_score(x, weights, means, sds):
    """d/dx log p for a Gaussian mixture (used by Langevin particles)."""
    x = np.asarray(x, dtype=np.float64)[..., None]
    w, mu, s = np.asarray(weights), np.asarray(means), np.asarray(sds)
    comp = np.log(w) + gaussian_log_density(x, mu, s ** 2)
    resp = np.exp(comp - comp.max(axis=-1, keepdims=True))
    resp /= resp.sum(axis=-1, keepdims=True)
    return np.sum(resp * (mu - x) / s ** 2, axis=-1)
