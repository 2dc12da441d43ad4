"""Unargmaxable classes of a softmax layer (logits W z + b): exact LP test, Frank-Wolfe certificates, hulls.

Class k is argmaxable iff some feature z in the allowed region makes it the strict argmax:
    exists z:  <w_k - w_i, z> + (b_k - b_i) > 0  for all i != k.
Ground truth (`lp_margin`): maximise s subject to <w_i - w_k, z> + (b_i - b_k) + s <= 0, z in [-R, R]^d,
s <= 1, solved by HiGHS; argmaxable iff s* > eps (eps = 1e-9 of the problem's scale). Without bias the problem
is scale-free (z -> c z), so R does not matter; with bias it does, and every caller states its R.

`lp_verdicts` is the same LP for many classes at once, solved by constraint generation: a relaxation with a
few rows per class, batched as one block-diagonal LP per HiGHS call (one call per class costs ~10-20 ms of
overhead for n = 1024 rows). It is exact because
  - the relaxed optimum s_relax >= s*: s_relax <= eps proves "unargmaxable";
  - the relaxed solution z is a feasible witness: min_i margin_i(z) > eps proves "argmaxable";
  - otherwise the most violated rows are added and the LP re-solved (finitely many rows).
`is_argmaxable_lp` (one full LP per class) is kept as the reference the tests compare it with.

The article's own route (`fw_min_norm_all`): without bias, k is unargmaxable iff
min_{alpha in simplex} || sum_i alpha_i (w_k - w_i) || = 0, i.e. w_k in conv(others). Frank-Wolfe with exact line
search on ||x||^2, x = w_k - y, y in conv(others): the linear oracle is argmax_i <w_i, x>, so each iteration is
one matrix product for all classes at once. The same product tells whether z = x already makes k the strict
argmax -- an *argmaxable certificate*; for interior classes ||x|| -> 0 only like O(1/sqrt t), never a proof.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog, minimize
from scipy.spatial import ConvexHull

from kexue.errors import KexueError

REL_EPS = 1e-9
EXAMPLE_W = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # the article's 2-D example


def _check_wb(W, b=None):
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] < 2 or W.shape[1] < 1:
        raise KexueError(f"W has shape {W.shape}: need a 2-D array [n classes >= 2, d >= 1]")
    if not np.isfinite(W).all():
        raise KexueError("W holds NaN/inf values: check the checkpoint or generator")
    if b is None:
        return W, np.zeros(W.shape[0])
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if b.shape[0] != W.shape[0]:
        raise KexueError(f"b has {b.shape[0]} entries but W has {W.shape[0]} classes: pass one bias per class")
    if not np.isfinite(b).all():
        raise KexueError("b holds NaN/inf values")
    return W, b


def _check_R(R):
    if not (np.isfinite(R) and R > 0):
        raise KexueError(f"R = {R}: the feature box [-R, R]^d needs a finite R > 0")


def lp_scale(W, b, R) -> np.ndarray:
    """Per-class scale of the LP's numbers: an upper bound of |<w_i - w_k, z>| + |b_i - b_k| over the box."""
    l1 = np.abs(W).sum(1)
    return R * (l1 + l1.max()) + np.abs(b) + np.abs(b).max()


# ------------------------------------------------------------------------------------------------- exact LP
def lp_margin(W, b, k: int, R: float = 1.0) -> tuple[float, np.ndarray]:
    """(s*, z*) of the full LP for class k (all n - 1 rows)."""
    W, b = _check_wb(W, b)
    _check_R(R)
    n, d = W.shape
    if not 0 <= k < n:
        raise KexueError(f"class k = {k} out of range 0..{n - 1}")
    others = np.arange(n) != k
    A = np.hstack([W[others] - W[k], np.ones((n - 1, 1))])
    c = np.zeros(d + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A, b_ub=b[k] - b[others], bounds=[(-R, R)] * d + [(None, 1.0)], method="highs")
    if res.status != 0:
        raise KexueError(f"HiGHS failed on class {k}: {res.message}")
    return float(res.x[-1]), res.x[:d]


def is_argmaxable_lp(W, b=None, k: int = 0, R: float = 1.0, rel_eps: float = REL_EPS) -> bool:
    W, b = _check_wb(W, b)
    s, _ = lp_margin(W, b, k, R)
    return s > rel_eps * lp_scale(W, b, R)[k]


def _margins(W, b, k_idx, Z) -> np.ndarray:
    """min_{i != k} <w_k - w_i, z_k> + b_k - b_i for each (k, z_k) row; and the full margin rows."""
    S = Z @ W.T + b                                                  # [m, n] logits of z_k
    own = S[np.arange(len(k_idx)), k_idx].copy()
    S[np.arange(len(k_idx)), k_idx] = -np.inf
    return own - S.max(1), own[:, None] - S                           # margin, per-row slack (inf at k)


def _solve_blocks(W, b, k_idx, rows, R):
    """One HiGHS call: block-diagonal LP, block j = class k_idx[j] restricted to the rows rows[j]."""
    d = W.shape[1]
    r_i, c_i, v, rhs = [], [], [], []
    r0 = 0
    for j, (k, S) in enumerate(zip(k_idx, rows)):
        m = len(S)
        rr = r0 + np.repeat(np.arange(m), d + 1)
        cc = j * (d + 1) + np.tile(np.arange(d + 1), m)
        vv = np.hstack([W[S] - W[k], np.ones((m, 1))]).ravel()
        r_i.append(rr), c_i.append(cc), v.append(vv), rhs.append(b[k] - b[S])
        r0 += m
    B = len(k_idx)
    A = sp.csr_matrix((np.concatenate(v), (np.concatenate(r_i), np.concatenate(c_i))), shape=(r0, B * (d + 1)))
    c = np.zeros(B * (d + 1))
    c[d::d + 1] = -1.0                       # separable objective: each block reaches its own optimum
    res = linprog(c, A_ub=A, b_ub=np.concatenate(rhs), bounds=([(-R, R)] * d + [(None, 1.0)]) * B, method="highs")
    if res.status != 0:
        raise KexueError(f"HiGHS failed on a batch of {B} classes: {res.message}")
    x = res.x.reshape(B, d + 1)
    return x[:, d], x[:, :d]


def lp_verdicts(W, b=None, R: float = 1.0, classes=None, rel_eps: float = REL_EPS, init_rows: int | None = None,
                add_rows: int | None = None, batch: int = 128, max_rounds: int = 200) -> dict:
    """Exact LP verdicts for `classes` (default all) by batched constraint generation (see module doc).

    Returns arrays over `classes`: argmaxable (bool), s_upper (relaxed LP value, >= s*), margin (certified lower
    bound of s* from the witness z; -inf when unargmaxable), rounds (LP solves per class), and `z` witnesses."""
    W, b = _check_wb(W, b)
    _check_R(R)
    n, d = W.shape
    cls = np.arange(n) if classes is None else np.asarray(classes, dtype=np.int64)
    init_rows = init_rows or (n - 1 if n <= 200 else max(8, 4 * (d + 1)))   # small n: the full LP at once
    add_rows = add_rows or max(4, 2 * (d + 1))
    eps = rel_eps * lp_scale(W, b, R)
    out = {"argmaxable": np.zeros(len(cls), bool), "s_upper": np.full(len(cls), np.nan),
           "margin": np.full(len(cls), -np.inf), "rounds": np.zeros(len(cls), np.int64), "z": np.zeros((len(cls), d))}
    # initial rows: nearest classes and the strongest rivals in the pre-screen direction w_k - mean(W)
    rows = []
    for c0 in range(0, len(cls), 512):
        k = cls[c0:c0 + 512]
        D2 = (W[k] ** 2).sum(1)[:, None] - 2 * W[k] @ W.T + (W ** 2).sum(1)
        D2[np.arange(len(k)), k] = np.inf
        _, slack = _margins(W, b, k, np.clip(W[k] - W.mean(0), -R, R))
        m0 = min(init_rows, n - 1)
        near = np.argpartition(D2, m0 - 1, axis=1)[:, :m0]
        riv = np.argpartition(slack, m0 - 1, axis=1)[:, :m0]
        rows += [np.unique(np.concatenate([a, r])) for a, r in zip(near, riv)]
    todo = np.arange(len(cls))
    for _ in range(max_rounds):
        if todo.size == 0:
            break
        for s0 in range(0, todo.size, batch):
            j = todo[s0:s0 + batch]
            s_rel, Z = _solve_blocks(W, b, cls[j], [rows[t] for t in j], R)
            out["s_upper"][j], out["z"][j] = s_rel, Z
            out["rounds"][j] += 1
        j = todo
        marg, slack = _margins(W, b, cls[j], out["z"][j])
        out["margin"][j] = marg
        done_arg = marg > eps[cls[j]]
        done_un = out["s_upper"][j] <= eps[cls[j]]
        out["argmaxable"][j[done_arg]] = True
        out["margin"][j[done_un & ~done_arg]] = -np.inf
        open_ = ~(done_arg | done_un)
        for t, sl in zip(j[open_], slack[open_]):
            new = np.argsort(sl)[:add_rows]                          # most violated rows under the witness
            rows[t] = np.unique(np.concatenate([rows[t], new]))
        todo = j[open_]
    if todo.size:
        raise KexueError(f"constraint generation did not settle {todo.size} classes in {max_rounds} rounds; "
                         "raise max_rounds")
    return out


# --------------------------------------------------------------------------------------- pre-screen, hulls
def prescreen(W, b=None, Z=None, R: float = np.inf, chunk: int = 1024, rel_eps: float = REL_EPS) -> np.ndarray:
    """Classes proven argmaxable cheaply. Default witnesses z_k = w_k - mean(W) (the card's; clipped to the box
    [-R, R]^d, which matters only with bias); with Z given
    (observed hidden states, e.g. of a trained LM) a class is proven argmaxable if it wins on some row of Z."""
    W, b = _check_wb(W, b)
    n = W.shape[0]
    zmax = (np.abs(W).max() * 2 if Z is None else np.abs(Z).max())
    tol = rel_eps * (np.abs(W).sum(1).max() * 2 * zmax + 2 * np.abs(b).max())
    ok = np.zeros(n, bool)
    if Z is None:
        wbar = W.mean(0)
        for c0 in range(0, n, chunk):
            k = np.arange(c0, min(n, c0 + chunk))
            marg, _ = _margins(W, b, k, np.clip(W[k] - wbar, -R, R))
            ok[k] = marg > tol
        return ok
    for c0 in range(0, len(Z), chunk):
        S = Z[c0:c0 + chunk] @ W.T + b
        top2 = np.partition(S, -2, axis=1)[:, -2:]
        win = S.argmax(1)
        ok[win[top2[:, 1] - top2[:, 0] > tol]] = True
    return ok


def hull_unargmaxable(W) -> np.ndarray:
    """No bias: k is unargmaxable iff w_k is not a vertex of conv(W) (Qhull; generic points)."""
    W, _ = _check_wb(W)
    mask = np.ones(W.shape[0], bool)
    mask[ConvexHull(W).vertices] = False
    return mask


def upper_hull_unargmaxable(W, b, tol: float = 1e-12) -> np.ndarray:
    """With bias and unbounded z (Gordan's alternative, derived for the card): k is unargmaxable iff the lifted
    point (w_k, b_k) is not a vertex of the upper convex hull of {(w_i, b_i)} (facets whose normal has a
    positive last component)."""
    W, b = _check_wb(W, b)
    h = ConvexHull(np.column_stack([W, b]))
    upper = h.equations[:, W.shape[1]] > tol
    mask = np.ones(W.shape[0], bool)
    mask[np.unique(h.simplices[upper])] = False
    return mask


# ------------------------------------------------------------------------------------------- Frank-Wolfe
def fw_min_norm_all(W, classes=None, iters: int = 2000, stop_rel: float = 0.0, cert_rel: float = 1e-12,
                    chunk: int = 512) -> dict:
    """The article's Frank-Wolfe (no bias) for many classes at once, with the early argmaxable certificate.

    Start: y = mean of the other classes (so iteration 0 tests the card's pre-screen direction).
    Each iteration: scores <w_i, x> for all i; certificate if <w_k, x> - max_{i != k} <w_i, x> > cert_rel *
    ||x|| * scale; else step y <- y + gamma (w_j - y) with the exact line search. stop_rel > 0 also stops when
    ||x|| < stop_rel * scale (declared "small", the article's 'norm ~ 0' verdict). scale = max_i ||w_k - w_i||.
    Returns per class: certified, cert_iter (-1 if none), norm (final ||x||), gap (FW gap), scale, iters."""
    W, _ = _check_wb(W)
    n, d = W.shape
    cls = np.arange(n) if classes is None else np.asarray(classes, dtype=np.int64)
    if iters < 1:
        raise KexueError(f"iters = {iters}: Frank-Wolfe needs at least 1 iteration")
    out = {k: np.zeros(len(cls), t) for k, t in (("certified", bool), ("norm", float), ("gap", float),
                                                   ("scale", float), ("iters", np.int64))}
    out["cert_iter"] = np.full(len(cls), -1, np.int64)
    sq = (W ** 2).sum(1)
    for c0 in range(0, len(cls), chunk):
        k = cls[c0:c0 + chunk]
        sl = slice(c0, c0 + len(k))
        D2 = sq[k][:, None] - 2 * W[k] @ W.T + sq
        scale = np.sqrt(np.maximum(D2.max(1), 0))
        out["scale"][sl] = scale
        Y = (W.sum(0) - W[k]) / (n - 1)
        act = np.arange(len(k))                                     # rows of this chunk still running
        norm = np.zeros(len(k))
        gap = np.full(len(k), np.inf)
        for t in range(iters):
            if act.size == 0:
                break
            ka = k[act]
            X = W[ka] - Y[act]
            S = X @ W.T
            r = np.arange(act.size)
            own = S[r, ka].copy()
            S[r, ka] = -np.inf
            j = S.argmax(1)
            xn = np.sqrt((X ** 2).sum(1))
            norm[act] = xn
            cert = own - S[r, j] > cert_rel * xn * scale[act]
            out["certified"][c0 + act[cert]] = True
            out["cert_iter"][c0 + act[cert]] = t
            V = W[j] - Y[act]
            xv = (X * V).sum(1)
            gap[act] = 2 * xv
            small = xn < stop_rel * scale[act]
            keep = ~(cert | small)
            gam = np.clip(xv / np.maximum((V ** 2).sum(1), 1e-300), 0.0, 1.0)
            Y[act[keep]] += gam[keep, None] * V[keep]
            out["iters"][c0 + act] = t + 1
            act = act[keep]
        if act.size:                                               # ran out of iterations: final residual
            X = W[k[act]] - Y[act]
            norm[act] = np.sqrt((X ** 2).sum(1))
        out["norm"][sl], out["gap"][sl] = norm, gap
    return out


def fw_min_norm(W, k: int, iters: int = 2000) -> dict:
    """Single-class form of `fw_min_norm_all` (the card's `fw_min_norm(W, k, iters)`)."""
    r = fw_min_norm_all(W, [k], iters)
    return {key: v[0] for key, v in r.items()}


# ------------------------------------------------------------------------------------- minimax (claim C3)
def minimax_value(W, b, k: int, r: float) -> dict:
    """Both sides of max_{||z|| <= r} min_i <dw_i, z> + db_i = min_{alpha} r ||sum alpha_i dw_i|| + sum alpha_i db_i.

    The 2-norm ball makes both sides second-order cone programs; both are solved with SLSQP (primal in epigraph
    form, dual on the simplex directly). Weak duality (min_i g_i(z) <= sum alpha_i g_i(z) <= right side) makes
    dual - primal >= 0 for any feasible pair, so a small gap proves both values."""
    W, b = _check_wb(W, b)
    if not r > 0:
        raise KexueError(f"r = {r}: the ball radius must be > 0")
    others = np.arange(W.shape[0]) != k
    dW, db = W[k] - W[others], b[k] - b[others]
    m, d = dW.shape
    opts = {"ftol": 1e-14, "maxiter": 1000}
    # primal: maximise t s.t. dW z + db >= t, r^2 - |z|^2 >= 0
    x0 = np.zeros(d + 1)
    x0[-1] = db.min()
    p = minimize(lambda v: -v[-1], x0, jac=lambda v: np.r_[np.zeros(d), -1.0], method="SLSQP", options=opts,
                 constraints=[{"type": "ineq", "fun": lambda v: dW @ v[:d] + db - v[-1],
                               "jac": lambda v: np.hstack([dW, -np.ones((m, 1))])},
                              {"type": "ineq", "fun": lambda v: np.array([r * r - v[:d] @ v[:d]]),
                               "jac": lambda v: np.r_[-2 * v[:d], 0.0][None]}])
    z = p.x[:d] * min(1.0, r / max(np.linalg.norm(p.x[:d]), 1e-300))   # exactly feasible
    primal = float((dW @ z + db).min())
    # dual: minimise r |dW^T alpha| + db.alpha over the simplex (smooth away from dW^T alpha = 0); an epigraph
    # form u^2 >= |dW^T alpha|^2 was tried and stalls (its constraint gradient vanishes at u = 0). Two starts.
    def f(a):
        return r * np.sqrt(np.sum((dW.T @ a) ** 2) + 1e-300) + db @ a

    def g(a):
        v = dW.T @ a
        return r * dW @ v / np.sqrt(v @ v + 1e-300) + db

    dual = np.inf
    for a0 in (np.full(m, 1.0 / m), 0.5 * np.eye(m)[np.argmin(db)] + 0.5 / m):
        q = minimize(f, a0, jac=g, method="SLSQP", bounds=[(0, None)] * m, options=opts,
                     constraints=[{"type": "eq", "fun": lambda a: np.array([a.sum() - 1]),
                                   "jac": lambda a: np.ones((1, m))}])
        a = np.clip(q.x, 0, None)
        dual = min(dual, float(f(a / a.sum())))                    # exactly feasible alpha
    scale = r * np.linalg.norm(dW, axis=1).max() + np.abs(db).max()
    return {"primal": primal, "dual": dual, "gap": dual - primal, "rel_gap": abs(dual - primal) / scale}


# ------------------------------------------------------------------------------------------ generators
def gaussian_classes(rng, n: int, d: int) -> np.ndarray:
    return rng.standard_normal((n, d))


def unit_norm_classes(rng, n: int, d: int) -> np.ndarray:
    W = rng.standard_normal((n, d))
    return W / np.linalg.norm(W, axis=1, keepdims=True)


def spread_norm_classes(rng, n: int, d: int, spread: float) -> np.ndarray:
    """Random directions with log-normal norms exp(spread * N(0, 1)) (claim C7)."""
    if spread < 0:
        raise KexueError(f"spread = {spread}: the log-normal norm spread must be >= 0")
    return unit_norm_classes(rng, n, d) * np.exp(spread * rng.standard_normal(n))[:, None]


def count_unargmaxable(W, b=None, R: float = 1.0, Z=None) -> dict:
    """Pre-screen (card) then the exact LP on the rest. Returns the unargmaxable mask and the LP workload."""
    W, b = _check_wb(W, b)
    ok = prescreen(W, b, Z, R)
    rest = np.flatnonzero(~ok)
    un = np.zeros(W.shape[0], bool)
    rounds = 0
    if rest.size:
        v = lp_verdicts(W, b, R, rest)
        un[rest] = ~v["argmaxable"]
        rounds = int(v["rounds"].max())
    return {"unargmaxable": un, "prescreened": int(ok.sum()), "lp_classes": int(rest.size), "lp_rounds": rounds}
