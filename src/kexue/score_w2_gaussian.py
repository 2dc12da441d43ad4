"""Article 9467, Case A: the score-matching bound on W2 for Gaussian data and affine score errors, in closed form.

Setting (the card's "VP setting", Song et al.): forward dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw on [0, T],
beta(t) = beta_min + (beta_max - beta_min) t, so abar_t^2 = exp(-B(t)), B(t) = int_0^t beta, g_t^2 = beta(t).
Data N(m, S) gives p_t = N(mu_t, Sigma_t), mu_t = abar_t m, Sigma_t = abar_t^2 S + bbar_t^2 I.
The approximate score is affine, s(x, t) = -A_t (x - b_t) with A_t = (I + Delta) Sigma_t^-1, b_t = abar_t m + eta
(Delta = 0, eta = 0 is the exact score).

Time runs backward. With tau = T - t every sampler is a linear flow in tau:
  exact PF-ODE        dx/dtau = 1/2 beta (x + grad log p_t(x)) = M_x x + c_x
  approximate PF-ODE  dy/dtau = 1/2 beta (y + s(y))             = M_y x + c_y,   M_y = 1/2 beta (I - A_t)
  approximate SDE     dy/dtau = 1/2 beta y + beta s(y) + sqrt(beta) dW          (covariance gains beta dtau)
so Gaussians stay Gaussian and their mean / covariance ODEs are integrated with solve_ivp (DOP853, rtol 1e-10).

The bound (the article's proof, reverse-time one-sided Lipschitz constant L_t of the APPROXIMATE velocity):
  W2[p_0, q_0] <= int_0^T c g_t^2 I_t e_t dt + I_T W2[p_T, q_T],  I_t = exp(int_0^t L_s ds),
  e_t^2 = E_{p_t} ||grad log p_t - s||^2 = tr(D Sigma D^T) + ||A (mu - b)||^2,  D = A - Sigma^-1,
  L_t = lambda_max(sym(1/2 beta (I - A_t))),
with c = 1/2 (what the ODE derivation gives) or c = 1 (the article's displayed g^2 form). I_t and the integral
are one augmented ODE in t (d log I/dt = L_t, dJ/dt = 1/2 beta I_t e_t), solved to the same tolerance as a
nested quad would give but in one pass. The synchronous distance W~2 couples x_T ~ p_T and y_T = the Gaussian
OT map of x_T (so W~2 starts at W2[p_T, q_T]) and propagates the joint (x, y) covariance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from kexue.errors import KexueError
from kexue.optimal_transport import gaussian_ot_map, gaussian_w2

SAMPLERS = ("ode", "sde")


class VPCoefficients:
    """float64 numpy mirror of kexue.diffusion.schedules.VPSDE(beta_min, beta_max) (tests check it equals the
    shared class): beta(t), B(t) = int_0^t beta, abar^2 = exp(-B), bbar^2 = 1 - exp(-B), g^2 = beta. Torch-free,
    because torch calls per ODE step cost more than the step and importing torch costs the closed-form stage
    seconds; build it from a VPSDE with `from_schedule`."""

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, T: float = 1.0):
        if not (0 < beta_min <= beta_max) or not T > 0:
            raise KexueError(f"VPCoefficients beta_min = {beta_min}, beta_max = {beta_max}, T = {T}: need "
                             "0 < beta_min <= beta_max and T > 0")
        self.b0, self.b1, self.T = float(beta_min), float(beta_max), float(T)

    @classmethod
    def from_schedule(cls, schedule) -> "VPCoefficients":
        for a in ("beta_min", "beta_max", "t_max"):
            if not hasattr(schedule, a):
                raise KexueError(f"VPCoefficients needs a VPSDE (beta_min, beta_max, t_max), got {schedule!r}")
        return cls(schedule.beta_min, schedule.beta_max, schedule.t_max)

    def beta(self, t):
        return self.b0 + (self.b1 - self.b0) * np.asarray(t, np.float64)

    def B(self, t):
        t = np.asarray(t, np.float64)
        return self.b0 * t + 0.5 * (self.b1 - self.b0) * t * t

    def abar2(self, t):
        return np.exp(-self.B(t))

    def bbar2(self, t):
        return -np.expm1(-self.B(t))


@dataclass(frozen=True)
class LinearScoreCase:
    """Data N(m, S), score error (Delta, eta), sampler start q_T = N(q_mean, q_cov) (default N(0, I))."""

    m: np.ndarray
    S: np.ndarray
    Delta: np.ndarray
    eta: np.ndarray
    q_mean: np.ndarray | None = None
    q_cov: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        m = np.atleast_1d(np.asarray(self.m, np.float64))
        d = m.size
        conv = {"m": m}
        for name, shape in (("S", (d, d)), ("Delta", (d, d)), ("eta", (d,))):
            v = np.asarray(getattr(self, name), np.float64)
            if v.size != math.prod(shape):
                raise KexueError(f"LinearScoreCase {name} has {v.size} entries; expected shape {shape} for d = {d}")
            conv[name] = v.reshape(shape)
        S = conv["S"]
        if np.abs(S - S.T).max() > 1e-12 or np.linalg.eigvalsh(S)[0] <= 0:
            raise KexueError("LinearScoreCase S must be a symmetric positive definite covariance")
        conv["q_mean"] = np.zeros(d) if self.q_mean is None else np.asarray(self.q_mean, np.float64).reshape(d)
        conv["q_cov"] = np.eye(d) if self.q_cov is None else np.asarray(self.q_cov, np.float64).reshape(d, d)
        for k, v in conv.items():
            object.__setattr__(self, k, v)

    @property
    def d(self) -> int:
        return self.m.size

    def marginal(self, vp: VPCoefficients, t: float):
        """(mu_t, Sigma_t) of p_t."""
        a2 = float(vp.abar2(t))
        return math.sqrt(a2) * self.m, a2 * self.S + (1.0 - a2) * np.eye(self.d)

    def score_params(self, vp: VPCoefficients, t: float):
        """(mu_t, Sigma_t, Sigma_t^-1, A_t, b_t)."""
        mu, Sig = self.marginal(vp, t)
        Si = np.linalg.inv(Sig)
        return mu, Sig, Si, (np.eye(self.d) + self.Delta) @ Si, mu + self.eta


# ------------------------------------------------------------------ pointwise quantities
def one_sided_lipschitz(case: LinearScoreCase, vp: VPCoefficients, t: float) -> float:
    """L_t = lambda_max(sym(J)), J = 1/2 beta (I - A_t): Jacobian of the reverse-time approximate velocity."""
    A = case.score_params(vp, t)[3]
    J = 0.5 * float(vp.beta(t)) * (np.eye(case.d) - 0.5 * (A + A.T))
    return float(np.linalg.eigvalsh(J)[-1])


def score_error(case: LinearScoreCase, vp: VPCoefficients, t: float) -> float:
    """e_t = (E_{p_t} ||grad log p_t(x) - s(x, t)||^2)^1/2; grad log p_t - s = (A - Sigma^-1)(x - mu) + A (mu - b)."""
    mu, Sig, Si, A, b = case.score_params(vp, t)
    D = A - Si
    r = A @ (mu - b)
    return math.sqrt(max(0.0, float(np.trace(D @ Sig @ D.T) + r @ r)))


def _ivp(fun, span, y0, rtol, t_eval=None):
    sol = solve_ivp(fun, span, y0, method="DOP853", rtol=rtol, atol=rtol * 1e-2, t_eval=t_eval)
    if not sol.success:
        raise KexueError(f"solve_ivp failed ({sol.message}); try a looser rtol than {rtol}")
    return sol


def _coeffs(case: LinearScoreCase, vp: VPCoefficients, t: float, who: str):
    """(M, c, noise variance rate) of dz/dtau = M z + c (+ noise) at forward time t."""
    mu, _, Si, A, b = case.score_params(vp, t)
    hb, I = 0.5 * float(vp.beta(t)), np.eye(case.d)
    if who == "exact":
        return hb * (I - Si), hb * Si @ mu, 0.0
    if who == "ode":
        return hb * (I - A), hb * A @ b, 0.0
    if who == "sde":
        return hb * I - 2 * hb * A, 2 * hb * A @ b, 2 * hb
    raise KexueError(f"sampler = {who!r}: choose one of {SAMPLERS}")


# ------------------------------------------------------------------ samplers and distances
def reverse_moments(case: LinearScoreCase, vp: VPCoefficients, sampler: str = "ode", rtol: float = 1e-10,
                    start: tuple | None = None):
    """Mean and covariance at t = 0 of the approximate sampler `sampler` started from q_T (or `start`)."""
    if sampler not in SAMPLERS:
        raise KexueError(f"sampler = {sampler!r}: choose one of {SAMPLERS}")
    d, T = case.d, vp.T
    m0, P0 = start if start is not None else (case.q_mean, case.q_cov)

    def rhs(tau, z):
        M, c, q = _coeffs(case, vp, T - tau, sampler)
        P = z[d:].reshape(d, d)
        return np.concatenate([M @ z[:d] + c, (M @ P + P @ M.T + q * np.eye(d)).ravel()])

    z = _ivp(rhs, (0.0, T), np.concatenate([m0, np.asarray(P0, np.float64).ravel()]), rtol).y[:, -1]
    P = z[d:].reshape(d, d)
    return z[:d], 0.5 * (P + P.T)


def synchronous_distance(case: LinearScoreCase, vp: VPCoefficients, rtol: float = 1e-10) -> dict:
    """W~2 = (E||x_0 - y_0||^2)^1/2 for x following the exact PF-ODE from p_T and y = the approximate PF-ODE from
    y_T = OT map of x_T onto q_T (the coupling in the article's proof). Also returns how far the exact flow lands
    from the data (a check of the integrator: x_0 ~ N(m, S) exactly)."""
    d, T = case.d, vp.T
    muT, SigT = case.marginal(vp, T)
    K = gaussian_ot_map(SigT, case.q_cov)
    P0 = np.block([[SigT, SigT @ K], [K @ SigT, K @ SigT @ K]])

    def rhs(tau, z):
        Mx, cx, _ = _coeffs(case, vp, T - tau, "exact")
        My, cy, _ = _coeffs(case, vp, T - tau, "ode")
        M = np.block([[Mx, np.zeros((d, d))], [np.zeros((d, d)), My]])
        P = z[2 * d:].reshape(2 * d, 2 * d)
        return np.concatenate([Mx @ z[:d] + cx, My @ z[d:2 * d] + cy, (M @ P + P @ M.T).ravel()])

    z = _ivp(rhs, (0.0, T), np.concatenate([muT, case.q_mean, P0.ravel()]), rtol).y[:, -1]
    mx, my, P = z[:d], z[d:2 * d], z[2 * d:].reshape(2 * d, 2 * d)
    Pxx, Pyy, Pxy = P[:d, :d], P[d:, d:], P[:d, d:]
    w2sq = float((mx - my) @ (mx - my) + np.trace(Pxx + Pyy - Pxy - Pxy.T))
    return {"w2_tilde": math.sqrt(max(w2sq, 0.0)),
            "exact_flow_err": float(max(np.abs(mx - case.m).max(), np.abs(Pxx - case.S).max()))}


def bound_curves(case: LinearScoreCase, vp: VPCoefficients, rtol: float = 1e-10, t_eval=None) -> dict:
    """I_T, the integral J = int_0^T 1/2 g^2 I_t e_t dt (augmented ODE in t) and, on t_eval, the curves
    L_t, I_t, e_t and the integrand 1/2 g^2 I_t e_t."""

    def rhs(t, z):
        return [one_sided_lipschitz(case, vp, t), 0.5 * float(vp.beta(t)) * math.exp(z[0]) * score_error(case, vp, t)]

    sol = _ivp(rhs, (0.0, vp.T), [0.0, 0.0], rtol)
    out = {"I_T": math.exp(sol.y[0, -1]), "J_half": float(sol.y[1, -1])}
    if t_eval is not None:
        t_eval = np.asarray(t_eval, np.float64)
        logI = _ivp(lambda t, z: [one_sided_lipschitz(case, vp, t)], (0.0, vp.T), [0.0], rtol, t_eval=t_eval).y[0]
        e = np.array([score_error(case, vp, t) for t in t_eval])
        out.update(t=t_eval, L=np.array([one_sided_lipschitz(case, vp, t) for t in t_eval]), I=np.exp(logI), e=e,
                   integrand_half=0.5 * vp.beta(t_eval) * np.exp(logI) * e)
    return out


def evaluate_case(case: LinearScoreCase, vp: VPCoefficients, rtol: float = 1e-10) -> dict:
    """Every Case A number for one configuration (distances to the data N(m, S) = p_0)."""
    muT, SigT = case.marginal(vp, vp.T)
    w2T = gaussian_w2(muT, SigT, case.q_mean, case.q_cov)
    b = bound_curves(case, vp, rtol)
    res = {"w2_T": w2T, "I_T": b["I_T"], "J_half": b["J_half"],
           "bound_half": b["J_half"] + b["I_T"] * w2T, "bound_g2": 2 * b["J_half"] + b["I_T"] * w2T}
    for s in SAMPLERS:
        mq, Pq = reverse_moments(case, vp, s, rtol)
        res[f"w2_{s}"] = gaussian_w2(case.m, case.S, mq, Pq)
    res.update(synchronous_distance(case, vp, rtol))
    res["ratio_half"] = res["bound_half"] / res["w2_ode"] if res["w2_ode"] > 0 else math.inf
    return res


# ------------------------------------------------------------------ configuration grids
def _rot(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def base_covariance(d: int, s0_sq: float, seed: int = 0) -> np.ndarray:
    """d = 1: s0^2; d = 2: s0^2 R(30 deg) diag(1, 0.25) R^T (the card); d > 2: s0^2 Q diag(1 .. 0.25) Q^T, Q a
    seeded random rotation."""
    if d == 1:
        return np.array([[s0_sq]])
    if d == 2:
        R = _rot(30.0)
        return s0_sq * R @ np.diag([1.0, 0.25]) @ R.T
    Q = np.linalg.qr(np.random.default_rng([seed, d, 1]).standard_normal((d, d)))[0]
    return s0_sq * (Q * np.geomspace(1.0, 0.25, d)) @ Q.T


def perturbation(d: int, kind: str, seed: int = 0) -> np.ndarray:
    """Unit-norm symmetric direction of Delta: "scalar" = I; "matrix" = eigenvalues spread over [-1, 1]
    (d = 2: R(60 deg) diag(1, -1) R^T), so I + delta P is no longer a multiple of I."""
    if kind == "scalar" or d == 1:
        return np.eye(d)
    if kind != "matrix":
        raise KexueError(f"perturbation kind = {kind!r}: choose 'scalar' or 'matrix'")
    if d == 2:
        R = _rot(60.0)
        return R @ np.diag([1.0, -1.0]) @ R.T
    Q = np.linalg.qr(np.random.default_rng([seed, d, 2]).standard_normal((d, d)))[0]
    return (Q * np.linspace(1.0, -1.0, d)) @ Q.T


def make_grid(dims, deltas, etas, s0_sq, data_mean: float = 0.5, seed: int = 0) -> list[LinearScoreCase]:
    """The Case A grid: data mean data_mean * 1, eta along 1/sqrt(d); d >= 2 adds "matrix" perturbations for
    delta != 0 (delta = 0 is the same case for both kinds)."""
    cases = []
    for d in dims:
        kinds = ("scalar",) if d == 1 else ("scalar", "matrix")
        u = np.ones(d) / math.sqrt(d)
        for kind in kinds:
            for s2 in s0_sq:
                for de in deltas:
                    if kind == "matrix" and de == 0:
                        continue
                    for et in etas:
                        cases.append(LinearScoreCase(
                            m=data_mean * np.ones(d), S=base_covariance(d, s2, seed),
                            Delta=de * perturbation(d, kind, seed), eta=et * u,
                            meta={"d": d, "kind": kind, "s0_sq": s2, "delta": de, "eta": et}))
    return cases


# The card's calibration rows (1-D data N(0.5, s0^2), start N(0, 1)): (s0^2, delta, eta) and its values.
CALIBRATION = (
    ((1.0, 0.1, 0.0), {"w2_ode": 0.3950, "bound_half": 0.3970, "w2_sde": 0.0871, "bound_g2": 0.7920}),
    ((0.25, 0.0, 0.1), {"w2_ode": 0.3140, "bound_half": 0.3173, "w2_sde": 0.1377, "bound_g2": 0.6329}),
    ((4.0, -0.1, 0.05), {"w2_ode": 1.1768, "bound_half": 1.1918, "w2_sde": 0.3028, "bound_g2": 2.3735}),
)


def calibration_cases() -> list[tuple[LinearScoreCase, dict]]:
    return [(LinearScoreCase(m=[0.5], S=[[s2]], Delta=[[de]], eta=[et],
                             meta={"d": 1, "kind": "calibration", "s0_sq": s2, "delta": de, "eta": et}), ref)
            for (s2, de, et), ref in CALIBRATION]


# ------------------------------------------------------------------ C5: the weight of the exact score
def exact_weight(vp: VPCoefficients, s0_sq: float, n_points: int = 2000, rtol: float = 1e-12) -> dict:
    """1-D data N(0.5, s0^2), exact score: I_t by integrating L_t = 1/2 beta (1 - 1/Sigma_t) on n_points t in
    [0, T], against the closed form I_t = s0 / sqrt(Sigma_t) (since L_t = -1/2 d log Sigma_t / dt)."""
    if not s0_sq > 0:
        raise KexueError(f"s0_sq = {s0_sq}: the data variance must be > 0")
    case = LinearScoreCase(m=[0.5], S=[[s0_sq]], Delta=[[0.0]], eta=[0.0])
    t = np.linspace(0.0, vp.T, n_points)
    logI = _ivp(lambda s, z: [one_sided_lipschitz(case, vp, s)], (0.0, vp.T), [0.0], rtol, t_eval=t).y[0]
    I_num = np.exp(logI)
    Sig = vp.abar2(t) * s0_sq + vp.bbar2(t)
    I_closed = math.sqrt(s0_sq) / np.sqrt(Sig)
    w = vp.beta(t) * I_num
    return {"t": t, "I": I_num, "I_closed": I_closed, "weight": w, "weight_closed": vp.beta(t) * I_closed,
            "bbar2": vp.bbar2(t),
            "I_T": float(I_num[-1]), "I_T_closed": float(I_closed[-1]),
            "max_abs_err_I": float(np.abs(I_num - I_closed).max()),
            "weight_increasing": bool(np.all(np.diff(w) > 0)), "min_weight_step": float(np.diff(w).min()),
            "bbar2_increasing": bool(np.all(np.diff(vp.bbar2(t)) > 0))}


# ------------------------------------------------------------------ C7: the SDE cross term can be negative
def rotation_cross_term(theta: float, n: int, rng: np.random.Generator) -> dict:
    """x ~ N(0, I_2), y = R_theta x, p_t = q_t = N(0, I): the cross term E[(x - y).(grad log p(x) - grad log q(y))]
    = -E||(I - R) x||^2 = -2 (2 - 2 cos theta); per-sample values for a Monte Carlo mean with its interval."""
    if n < 2:
        raise KexueError(f"rotation_cross_term n = {n}: needs >= 2 draws for an interval")
    x = rng.standard_normal((n, 2))
    c, s = math.cos(theta), math.sin(theta)
    y = x @ np.array([[c, -s], [s, c]]).T
    per = np.einsum("ij,ij->i", x - y, -x + y)
    return {"values": per, "closed": -2.0 * (2.0 - 2.0 * c)}
