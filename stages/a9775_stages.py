"""Stage functions of article 9775 (declared in stages/a9775_min_abc.py).

Kept apart from the claims so that a stage's code dependencies are its own code only.
"""
from __future__ import annotations

import math

D = "data/9775"
KINDS = ("brute", "guess", "A", "A_closed", "B", "C")


def prepare(ctx):
    import numpy as np

    p = ctx.p
    rng = np.random.default_rng(ctx.seed)
    rnd = np.sort(np.floor(10 ** rng.uniform(p.random_log10_lo, p.random_log10_hi, p.n_random)).astype(np.int64))
    n_pts = int(round((p.timing_log10_hi - p.timing_log10_lo) * p.timing_points_per_decade)) + 1
    timing = []
    for k in np.linspace(p.timing_log10_lo, p.timing_log10_hi, n_pts):
        n = int(math.floor(10 ** float(k))) + 1  # 10^k + 1: never a perfect square for integer k >= 1
        while math.isqrt(n) ** 2 == n:  # B and C stop at step (1) on squares: keep them off the grid
            n += 1
        timing.append(n)
    np.savez(ctx.out("ns"), exhaustive=np.array([1, p.exhaustive_hi], np.int64), random=rnd,
             timing=np.array(timing, np.int64))
    ctx.log(f"exhaustive 1..{p.exhaustive_hi}, {rnd.size} random N in [{rnd.min()}, {rnd.max()}], "
            f"{len(timing)} timing N")


def run(ctx):
    import time

    import numpy as np

    from kexue import io
    from kexue.min_abc import SOLVERS
    from kexue.min_abc_vector import solve_range

    ns = np.load(ctx.inp("ns"))
    lo, hi = (int(v) for v in ns["exhaustive"])
    res, wall = {}, {}
    for kind in KINDS:  # exhaustive range, vectorised over N
        t0 = time.perf_counter()
        r = solve_range(lo, hi, kind, **({"check_c2": True} if kind == "brute" else {}))
        wall[f"exhaustive_{kind}_s"] = time.perf_counter() - t0
        ctx.log(f"exhaustive {kind}: {wall[f'exhaustive_{kind}_s']:.1f}s")
        small = np.int32 if hi < 2**31 else np.int64  # S, a, b <= N: halve the file at `full`
        for name in ("S", "a", "b"):
            res[f"ex_{name}_{kind}"] = r[name].astype(small)
        res[f"ex_cand_{kind}"] = r["cand"].astype(np.int32)
        if kind == "brute":
            res["c2_pairs"], res["c2_fail"] = np.int64(r["c2_pairs"]), np.int64(r["c2_fail"])
    rnd = ns["random"]
    for kind in KINDS:  # large random N, one at a time with the exact scalar code
        out, t = [], []
        for n in rnd:
            t0 = time.perf_counter()
            out.append(SOLVERS[kind](int(n)))
            t.append(time.perf_counter() - t0)
        out = np.array(out, dtype=np.int64).reshape(-1, 5)
        for j, name in enumerate(("S", "a", "b", "c", "cand")):
            res[f"rnd_{name}_{kind}"] = out[:, j]
        res[f"rnd_t_{kind}"] = np.array(t)
        wall[f"random_{kind}_s"] = float(np.sum(t))
    for kind in ("A", "B", "C"):  # the timing grid: algorithms only, best of `timing_repeats`
        cand, t = [], []
        for n in ns["timing"]:
            best = math.inf
            for _ in range(ctx.p.timing_repeats):
                t0 = time.perf_counter()
                r = SOLVERS[kind](int(n))
                best = min(best, time.perf_counter() - t0)
            cand.append(r[4])
            t.append(best)
        res[f"tim_cand_{kind}"], res[f"tim_t_{kind}"] = np.array(cand, np.int64), np.array(t)
        wall[f"timing_{kind}_s"] = float(np.sum(t))
    np.savez_compressed(ctx.out("results"), **res)
    io.atomic_write_json(ctx.out("run_metrics"), {"a9775_run": {k: round(v, 4) for k, v in wall.items()}})


def evaluate(ctx):
    import numpy as np

    from kexue import io
    from kexue.min_abc_vector import evaluate_results

    ns, r = np.load(ctx.inp("ns")), np.load(ctx.inp("results"))
    m = evaluate_results(ns, r, seed=ctx.seed, c3_samples=ctx.p.c3_samples, c3_log10_hi=ctx.p.c3_log10_hi)
    io.atomic_write_json(ctx.out("metrics"), m)
    ctx.log(f"A mismatches N>100: {m['mismatch']['A']['count_gt100']}, B: {m['mismatch']['B']['count_ge4']}, "
            f"C: {m['mismatch']['C']['count_ge4']}")


def figures(ctx):
    from kexue.min_abc_figures import draw_all

    draw_all(ctx.inp("ns"), ctx.inp("results"), ctx.out("figures"))
