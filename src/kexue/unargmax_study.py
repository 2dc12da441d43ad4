"""The experiments of card 9046 on synthetic class vectors (claims C1-C7), built on kexue.unargmax.

Every verdict is the exact LP's (after the card's pre-screen, which only ever proves "argmaxable");
Frank-Wolfe and the convex hulls are compared against it.
"""
from __future__ import annotations

import time

import numpy as np

from kexue import unargmax as U


def example_2d(grid: int = 401, half: float = 10.0) -> dict:
    """C1: LP verdicts of the article's example and a grid check (ties broken against class 5)."""
    W = U.EXAMPLE_W
    lp = [U.is_argmaxable_lp(W, None, k) for k in range(5)]
    s = np.linspace(-half, half, grid)
    Z = np.stack(np.meshgrid(s, s, indexing="xy"), -1).reshape(-1, 2)
    L = Z @ W.T
    wins5 = L[:, 4] > L[:, :4].max(1)                       # strict: a tie does not count for class 5
    arg = L[:, :4].argmax(1)
    counts = np.bincount(np.where(wins5, 4, arg), minlength=5)
    ties5 = int(np.isclose(L[:, 4], L[:, :4].max(1)).sum())
    return {"lp": lp, "grid": grid, "half": half, "grid_wins": counts.tolist(), "grid_ties_with_5": ties5,
            "fw": {k: bool(v) for k, v in zip(range(1, 6), U.fw_min_norm_all(W, iters=2000)["certified"])}}


def minimax_instances(rng, count: int, n: int, d: int) -> dict:
    """C3: primal vs dual on random (W, b, r, k)."""
    rows = []
    for _ in range(count):
        W, b = rng.standard_normal((n, d)), rng.standard_normal(n)
        r = float(10 ** rng.uniform(-1, 1))
        rows.append(dict(U.minimax_value(W, b, int(rng.integers(n)), r), r=r))
    rel = np.array([x["rel_gap"] for x in rows])
    return {"count": count, "n": n, "d": d, "max_rel_gap": float(rel.max()),
            "min_signed_gap": float(min(x["gap"] for x in rows)), "rows": rows}


def bias_checks(rng, count: int, n: int, d_values) -> dict:
    """C4: the constructed case, the one-way implication at R = 1e4, and the lifted upper-hull rule at R = 1e6."""
    b5 = np.array([0, 0, 0, 0, 5.0])
    constructed = {"lp_bias_R1": U.is_argmaxable_lp(U.EXAMPLE_W, b5, 4, R=1.0),
                   "lp_nobias": U.is_argmaxable_lp(U.EXAMPLE_W, None, 4)}
    implication_viol, tested, hull_mis, hull_n, flips = 0, 0, 0, 0, 0
    for i in range(count):
        d = int(d_values[i % len(d_values)])
        W, b = rng.standard_normal((n, d)), 2.0 * rng.standard_normal(n)
        nob = U.lp_verdicts(W, None, 1.0)["argmaxable"]
        big = U.lp_verdicts(W, b, 1e4)["argmaxable"]
        implication_viol += int((nob & ~big).sum())
        flips += int((~nob & big).sum())                     # the converse failing: bias rescues a class
        tested += int(nob.sum())
        if d <= 4:
            hull = ~U.upper_hull_unargmaxable(W, b)
            hull_mis += int((U.lp_verdicts(W, b, 1e6)["argmaxable"] != hull).sum())
            hull_n += n
    return {"constructed": constructed, "instances": count, "n": n, "d_values": list(map(int, d_values)),
            "nobias_argmaxable_tested": tested, "implication_violations": implication_viol,
            "bias_rescued": flips, "upper_hull_mismatches": hull_mis, "upper_hull_classes": hull_n}


def unit_norm(rng, ns, ds) -> dict:
    """C5: centred-free unit vectors (a common shift changes no argmax, so unit norm = sphere about 0)."""
    out = {}
    for n in ns:
        for d in ds:
            W = U.unit_norm_classes(rng, n, d)
            c = U.count_unargmaxable(W)
            # LP "unargmaxable" within tolerance but with a positive margin for the article's witness z = w_k:
            # near-duplicate directions, a tie at the LP's 1e-9 resolution (reported separately, card pitfall)
            G = W @ W.T
            np.fill_diagonal(G, -np.inf)
            wit = 1.0 - G.max(1)
            un = c["unargmaxable"]
            out[f"n{n}_d{d}"] = {"lp_unargmaxable": int(un.sum()), "ties": int((un & (wit > 0)).sum()),
                                 "unargmaxable": int((un & ~(wit > 0)).sum()), "lp_classes": c["lp_classes"],
                                 "tie_witness_margins": [float(v) for v in wit[un]][:10]}
    return out


def analyse_cell(W, fw_iters: int, fw_stop: float, hull_max_d: int, fw_max_n: int) -> dict:
    """One sweep cell: pre-screen + LP (truth), Frank-Wolfe and (d <= hull_max_d) the hull, compared."""
    n, d = W.shape
    t0 = time.perf_counter()
    c = U.count_unargmaxable(W)
    un = c["unargmaxable"]
    r = {"n": n, "d": d, "unargmaxable": int(un.sum()), "fraction": float(un.mean()),
         "prescreened": c["prescreened"], "lp_classes": c["lp_classes"], "lp_s": time.perf_counter() - t0}
    if d <= hull_max_d:
        r["hull_mismatches"] = int((U.hull_unargmaxable(W) != un).sum())
    if n <= fw_max_n:
        t0 = time.perf_counter()
        f = U.fw_min_norm_all(W, iters=fw_iters, stop_rel=fw_stop)
        res = f["norm"] / f["scale"]
        r.update(fw_s=time.perf_counter() - t0, fw_missed_certificates=int((~un & ~f["certified"]).sum()),
                 fw_false_certificates=int((un & f["certified"]).sum()),
                 fw_missed_residuals=[round(float(v), 6) for v in res[~un & ~f["certified"]]],
                 fw_cert_iter_max=int(f["cert_iter"][f["certified"]].max()) if f["certified"].any() else -1,
                 fw_unarg_max_residual=float(res[un].max()) if un.any() else 0.0,
                 fw_unarg_below_1e3=int((res[un] < 1e-3).sum()), fw_unarg_below_1e2=int((res[un] < 1e-2).sum()))
    return r


def gaussian_sweep(seed, ns, ds, seeds: int, **kw) -> list[dict]:
    cells = []
    for s in range(seeds):
        for n in ns:
            for d in ds:
                rng = np.random.default_rng([seed, 9046, 6, s, n, d])
                cells.append(dict(analyse_cell(U.gaussian_classes(rng, n, d), **kw), seed=s))
    return cells


def spread_sweep(seed, spreads, n: int, d: int, seeds: int) -> list[dict]:
    cells = []
    for s in range(seeds):
        for sp_ in spreads:
            rng = np.random.default_rng([seed, 9046, 7, s])   # same directions/normals for every spread
            c = U.count_unargmaxable(U.spread_norm_classes(rng, n, d, float(sp_)))
            cells.append({"seed": s, "spread": float(sp_), "n": n, "d": d,
                          "unargmaxable": int(c["unargmaxable"].sum()),
                          "fraction": float(c["unargmaxable"].mean()), "lp_classes": c["lp_classes"]})
    return cells
