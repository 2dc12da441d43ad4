"""Summaries of the accuracy-loss training runs (kexue.fm/archives/9098, C5–C9).

Reads the per-run traces written by `kexue.accuracy_training` (an .npz keyed
"<loss>-seed<s>/<trace>") and the run list, and returns JSON-ready statistics: per loss
the final test accuracy of every seed with the mean (and a t interval when there are >= 2
seeds: with 2 seeds it is very wide, which is the honest statement), paired per-seed
differences between losses, stuck/confident fractions, and the CE-run statistics of C9.
numpy only, so re-summarising never imports torch or retrains.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.montecarlo import mean_ci


def _ci(values) -> dict:
    v = [float(x) for x in values]
    out = {"values": v, "mean": float(np.mean(v)) if v else float("nan"), "n": len(v)}
    if len(v) >= 2 and np.all(np.isfinite(v)):
        ci = mean_ci(v)
        out.update(lo=ci["lo"], hi=ci["hi"], level=ci["level"])
    return out


def log_gap_bounds(n: int = 1001, digits: int = 30) -> dict:
    """Check 0 <= -log p - (1 - p) <= (1 - p)^2 / (2 p) on a grid of p in (0, 1) in high precision
    (mpmath: near p = 1 the gap is ~(1-p)^2/2 and float64 cancellation would swamp it)."""
    import mpmath as mp

    mp.mp.dps = digits
    lo_viol = hi_viol = 0
    worst = mp.mpf(0)
    ps = [mp.mpf(10) ** (-12 + 12 * mp.mpf(i) / (n // 2)) for i in range(n // 2)]  # 1e-12 .. 1
    ps += [1 - mp.mpf(10) ** (-1 - 11 * mp.mpf(i) / (n - n // 2)) for i in range(n - n // 2)]  # 0.9 .. 1 - 1e-12
    for p in ps:
        gap = -mp.log(p) - (1 - p)
        bound = (1 - p) ** 2 / (2 * p)
        lo_viol += gap < 0
        hi_viol += gap > bound
        worst = max(worst, gap / bound)
    # gradient: d(-log p)/dp = -1/p = (1/p) * d(1-p)/dp, checked by numerical differentiation
    grad_err = max(abs(mp.diff(lambda t: -mp.log(t), p) - (1 / p) * mp.diff(lambda t: 1 - t, p))
                   for p in (mp.mpf("0.01"), mp.mpf("0.3"), mp.mpf("0.9"), mp.mpf("0.999")))
    return {"points": len(ps), "lower_violations": int(lo_viol), "upper_violations": int(hi_viol),
            "max_gap_over_bound": float(worst), "grad_identity_max_err": float(grad_err),
            "ratio_at_0.9": float(-mp.log(mp.mpf("0.9")) / mp.mpf("0.1"))}


def summarise(runs_npz, info: dict) -> dict:
    z = np.load(runs_npz)
    runs = info["runs"]
    seeds = info["seeds"]
    get = lambda name, k: z[f"{name}/{k}"]  # noqa: E731
    per = {}
    for kind in info["losses"]:
        names = [f"{kind}-seed{s}" for s in seeds]
        last = lambda k: [float(get(nm, f"ep_{k}")[-1]) for nm in names]  # noqa: E731
        per[kind] = {
            "test_acc": _ci(last("test_acc")), "train_acc": _ci(last("train_acc")),
            "own_stuck": _ci(last("own_stuck")), "own_conf": _ci(last("own_conf")),
            "sm_stuck": _ci(last("sm_stuck")), "sm_conf": _ci(last("sm_conf")),
            "test_acc_by_epoch": [get(nm, "ep_test_acc").tolist() for nm in names],
            "skipped": [runs[nm]["skipped"] for nm in names],
            "wall_s": [runs[nm]["wall_s"] for nm in names],
        }
        if kind == "exact_sigma":
            per[kind]["sigma_mean_final"] = last("sigma_mean")
            per[kind]["sigma_min_step"] = [float(np.nanmin(get(nm, "step_sigma"))) for nm in names]
    out = {"n_seeds": len(seeds), "seeds": seeds, "per_loss": per}

    def diff(a, b):  # paired per-seed difference of final test accuracy
        if a in per and b in per:
            return _ci(np.array(per[a]["test_acc"]["values"]) - np.array(per[b]["test_acc"]["values"]))
        return None

    out["diff"] = {"ce_minus_exact": diff("ce", "exact"), "exactlog_minus_exact": diff("exact_log", "exact"),
                   "ce_minus_softacc": diff("ce", "softacc"), "ce_minus_exact_sigma": diff("ce", "exact_sigma")}
    if "ce" in per:  # C9: the CE run
        ce_names = [f"ce-seed{s}" for s in seeds]
        conf = [get(nm, "ep_sm_conf").tolist() for nm in ce_names]
        ratio = [(get(nm, "ep_train_ce") / get(nm, "ep_train_1mp")).tolist() for nm in ce_names]
        sample = []
        for nm in ce_names:
            pfin = get(nm, "own_p_final")
            good = pfin[pfin >= 0.9]
            r = -np.log(good) / (1 - good) if good.size else np.array([np.nan])
            sample.append({"n_confident": int(good.size), "max_ratio": float(np.max(r)),
                           "mean_ratio": float(np.mean(r))})
        mean_conf = np.mean(np.array(conf), 0)
        out["c9"] = {"conf_by_epoch": conf, "conf_mean_by_epoch": mean_conf.tolist(),
                     "ce_over_1mp_by_epoch": ratio, "per_sample_ratio_confident": sample,
                     "analytic": log_gap_bounds()}
    unguarded = {nm: r for nm, r in runs.items() if not r["guarded"]}
    if unguarded:
        nm, r = next(iter(unguarded.items()))
        sig = get(nm, "step_sigma")
        acc = get(nm, "ep_test_acc")
        out["unguarded"] = {"run": nm, "failure": r["failure"], "n_steps": r["n_steps"],
                            "sigma_first": float(sig[0]) if sig.size else math.nan,
                            "sigma_min": float(np.nanmin(sig)) if np.isfinite(sig).any() else math.nan,
                            "test_acc_by_epoch": acc.tolist()}
    return out
