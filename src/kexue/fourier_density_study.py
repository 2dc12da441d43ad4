"""Article 10007's comparison: FBDM vs gradient-trained GMM, EM-GMM, DFP (matched P) and KDE on T1-T4.

One batched model per (n_train, family, P) holds every target x seed (x gamma for FBDM) fit
(kexue.batched_density_models); EM-GMM is scikit-learn, KDE is a Scott-bandwidth Gaussian KDE.
Every fit is scored on the same per-target grids (kexue.density_1d): KL(p||q), W1, test NLL,
mode recall / spurious modes; gamma (FBDM's regulariser) is picked per (target, n, P) by the
mean validation NLL over seeds. Rows are plain dicts (one per fit) for the metrics JSON.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np

from kexue import density_1d as d1
from kexue.errors import KexueError

GRAD_MODELS = ("FBDM", "GMM-GD", "DFP")
ALL_MODELS = GRAD_MODELS + ("GMM-EM",)


def _kde_logpdf(x: np.ndarray, y: np.ndarray, chunk: int = 500) -> np.ndarray:
    """Gaussian KDE, Scott bandwidth h = std n^{-1/5}, exact log density (shifted log-sum-exp)."""
    h = x.std(ddof=1) * x.size ** (-0.2)
    out = np.empty(y.size)
    for i in range(0, y.size, chunk):
        z2 = ((y[i:i + chunk, None] - x[None, :]) / h) ** 2
        m = z2.min(1)
        out[i:i + chunk] = np.log(np.mean(np.exp(-0.5 * (z2 - m[:, None])), 1)) - 0.5 * m
    return out - math.log(h * math.sqrt(2 * math.pi))


def _eval_torch(model, ys: dict, chunk: int = 6000) -> dict:
    """log q (T, R, M) in float64 on each named point set (T, M), evaluated in chunks of points."""
    import torch

    m64 = copy.deepcopy(model).double()
    out = {}
    with torch.no_grad():
        for k, y in ys.items():
            yt = torch.as_tensor(y, dtype=torch.float64)
            out[k] = torch.cat([m64.log_prob(yt[:, i:i + chunk]) for i in range(0, yt.shape[1], chunk)], -1).numpy()
    return out


class Scorer:
    """Per-target grids and truths: turns log q on the grids into one row of metrics."""

    def __init__(self, targets, G: int, mode_points: int, n_test: int, n_val: int, tol: float, prominence: float,
                 rng: np.random.Generator):
        self.targets, self.tol, self.prom = targets, tol, prominence
        q = [d1.quadrature_grid(t, G) for t in targets]
        self.quad_y, self.quad_w = np.stack([a for a, _ in q]), np.stack([b for _, b in q])
        self.logp = np.stack([t.logpdf(y) for t, y in zip(targets, self.quad_y)])
        self.cdfp = np.stack([t.cdf(y) for t, y in zip(targets, self.quad_y)])
        self.mode_y = np.stack([np.linspace(t.quantile(1e-3) - 0.5, t.quantile(1 - 1e-3) + 0.5, mode_points)
                                for t in targets])
        self.true_dens = np.stack([t.pdf(y) for t, y in zip(targets, self.mode_y)])
        self.true_modes = [d1.find_modes(y, p, prominence) for y, p in zip(self.mode_y, self.true_dens)]
        self.test = np.stack([t.sample(rng, n_test) for t in targets])
        self.val = np.stack([t.sample(rng, n_val) for t in targets])

    def point_sets(self):
        return {"quad": self.quad_y, "mode": self.mode_y, "test": self.test, "val": self.val}

    def row(self, t: int, lq: dict) -> dict:
        """lq: log q of ONE fit on each point set (1-D arrays)."""
        kl, w1 = d1.kl_w1(self.logp[t], self.cdfp[t], lq["quad"], self.quad_w[t])
        modes = d1.find_modes(self.mode_y[t], np.exp(lq["mode"]), self.prom)
        recall, spurious = d1.mode_scores(self.true_modes[t], modes, self.tol)
        out = {"target": self.targets[t].name, "kl": float(kl), "w1": float(w1),
               "mode_recall": recall, "spurious_modes": spurious, "test_nll": float(-np.mean(lq["test"]))}
        if "val" in lq:
            out["val_nll"] = float(-np.mean(lq["val"]))
        return out


def run_study(*, targets, n_trains, budgets, seeds, steps, gammas, models, n_val, n_test, lr_max, lr_min, G,
              mode_points, mode_tol, prominence, dead_weight, fig_budget, seed, ckpt_dir, fingerprint, log=print,
              kde_test_points=4000):
    import torch

    from kexue.batched_density_models import (FactorizedDensity, FourierDensity, GaussianMixture1D, dfp_widths,
                                              fourier_order, gmm_components, train_batched)

    for m in models:
        if m not in ALL_MODELS:
            raise KexueError(f"unknown model {m!r}: choose from {ALL_MODELS}")
    if "FBDM" not in models:
        raise KexueError("models must include FBDM: every claim compares against it")
    tg = [d1.make_target(name, seed) for name in targets]
    T, S = len(tg), seeds
    rng = np.random.default_rng([seed, 10007])
    sc = Scorer(tg, G, mode_points, n_test, n_val, mode_tol, prominence, rng)
    rows, curves, traces = [], {}, {}
    for n in n_trains:
        ytr = np.stack([t.sample(rng, n) for t in tg])
        mean, std = ytr.mean(1), ytr.std(1)
        y = torch.as_tensor(ytr, dtype=torch.float32)
        for fam in [m for m in models if m in GRAD_MODELS]:
            for P in budgets:
                gen = torch.Generator().manual_seed(int(seed * 1_000_003 + n * 101 + P * 7 + GRAD_MODELS.index(fam)))
                feats, gam = None, [0.0]
                if fam == "FBDM":
                    gam = list(gammas)
                    N = fourier_order(P)
                    # replica r = gamma index * S + seed index
                    model = FourierDensity(T, S * len(gam), N, mean, std, np.repeat(gam, S), gen)
                    with torch.no_grad():
                        feats = model.features(y)
                    size, n_par = f"N={N}", 2 * (N + 1) + 2
                elif fam == "GMM-GD":
                    K = gmm_components(P)
                    model = GaussianMixture1D(T, S, K, mean, std, gen)
                    size, n_par = f"K={K}", 3 * K
                else:
                    r, L, n_par = dfp_widths(P)
                    model = FactorizedDensity(T, S, r, L, mean, std, gen)
                    size = f"widths 1-{'-'.join([str(r)] * L)}-1"
                tag = f"{fam}-P{P}-n{n}"
                res = train_batched(model, y, steps=steps, lr_max=lr_max, lr_min=lr_min,
                                    run_dir=Path(ckpt_dir) / tag, fingerprint=f"{fingerprint}|{tag}",
                                    desc=f"a10007 {tag}", feats=feats)
                traces[tag] = res["trace"]
                lq = _eval_torch(model, sc.point_sets())
                w = model.weights().detach().numpy() if fam == "GMM-GD" else None
                for t in range(T):
                    for rr in range(model.a_re.shape[1] if fam == "FBDM" else S):
                        row = sc.row(t, {k: v[t, rr] for k, v in lq.items()})
                        row.update(model=fam, P=P, n_params=n_par, size=size, n=n, seed=rr % S,
                                   gamma=float(gam[rr // S]), train_obj=float(res["objective"][t, rr]))
                        if w is not None:
                            row["dead"] = int(np.sum(w[t, rr] < dead_weight))
                        rows.append(row)
                        if P == fig_budget and rr % S == 0:
                            curves[f"{fam}|{row['target']}|n{n}|g{gam[rr // S]:g}"] = np.exp(lq["mode"][t, rr])
                log(f"{tag} ({size}, {n_par} params): mean train objective {res['objective'].mean():.4f}")
        if "GMM-EM" in models:
            from sklearn.mixture import GaussianMixture

            for P in budgets:
                K = gmm_components(P)
                for t in range(T):
                    for s in range(S):
                        gm = GaussianMixture(K, random_state=int(seed * 1000 + s), max_iter=500, tol=1e-6)
                        gm.fit(ytr[t][:, None])
                        lq = {k: gm.score_samples(v[t][:, None]) for k, v in sc.point_sets().items()}
                        row = sc.row(t, lq)
                        row.update(model="GMM-EM", P=P, n_params=3 * K, size=f"K={K}", n=n, seed=s, gamma=0.0,
                                   dead=int(np.sum(gm.weights_ < dead_weight)))
                        rows.append(row)
                        if P == fig_budget and s == 0:
                            curves[f"GMM-EM|{tg[t].name}|n{n}|g0"] = np.exp(lq["mode"])
        for t in range(T):  # KDE reference: not parameter-matched; test NLL on a subset of the test points
            lq = {"quad": _kde_logpdf(ytr[t], sc.quad_y[t]), "mode": _kde_logpdf(ytr[t], sc.mode_y[t]),
                  "test": _kde_logpdf(ytr[t], sc.test[t][:kde_test_points])}
            row = sc.row(t, lq)
            row.update(model="KDE", P=0, n_params=n, size="Scott", n=n, seed=0, gamma=0.0)
            rows.append(row)
            curves[f"KDE|{tg[t].name}|n{n}|g0"] = np.exp(lq["mode"])
    arrays = {"mode_y": sc.mode_y, "true_dens": sc.true_dens, "target_names": np.array(targets)}
    for k, v in curves.items():
        arrays["curve|" + k] = v
    return rows, arrays, traces, {t.name: m.tolist() for t, m in zip(tg, sc.true_modes)}


# ------------------------------------------------------------------------------------ summaries
def _pick_gamma(rows):
    """FBDM's gamma per (target, n, P): smallest mean validation NLL over seeds (ties: smaller gamma)."""
    best = {}
    for key in {(r["target"], r["n"], r["P"]) for r in rows if r["model"] == "FBDM"}:
        by_g = {}
        for r in rows:
            if r["model"] == "FBDM" and (r["target"], r["n"], r["P"]) == key:
                by_g.setdefault(r["gamma"], []).append(r["val_nll"])
        best[key] = min(sorted(by_g), key=lambda g: np.mean(by_g[g]))
    return best


def main_rows(rows):
    """Every non-FBDM fit plus FBDM at its validated gamma (marked gamma_star)."""
    best = _pick_gamma(rows)
    return [r for r in rows if r["model"] != "FBDM" or r["gamma"] == best[(r["target"], r["n"], r["P"])]], best


def _vals(rows, model, target, n, P, key):
    v = [r[key] for r in rows if (r["model"], r["target"], r["n"], r["P"]) == (model, target, n, P)]
    if not v:
        raise KeyError(f"no {model} fits for {target}, n = {n}, P = {P}")
    return v


def summarize(rows, *, targets, n_trains, budgets, seeds, models) -> dict:
    from kexue.montecarlo import mean_ci

    main, best = main_rows(rows)
    n_big, n_small = max(n_trains), min(n_trains)
    Pmax = max(budgets)
    med = lambda m, t, n, P, k="kl": float(np.median(_vals(main, m, t, n, P, k)))  # noqa: E731
    out = {"n_big": n_big, "n_small": n_small, "seeds": seeds, "targets": list(targets),
           "gamma_star": {f"{t}|n{n}|P{P}": g for (t, n, P), g in sorted(best.items())}}
    out["median_kl"] = {m: {t: {str(P): med(m, t, n_big, P) for P in budgets} for t in targets}
                        for m in models}
    out["kde_kl"] = {t: _vals(main, "KDE", t, n_big, 0, "kl")[0] for t in targets}
    cmpP = [P for P in (20, 40) if P in budgets]
    for other, key in (("GMM-GD", "c5"), ("DFP", "c6")):
        if other in models and cmpP:
            per = {t: {str(P): [med("FBDM", t, n_big, P), med(other, t, n_big, P)] for P in cmpP} for t in targets}
            wins = [t for t in targets if all(a < b for a, b in per[t].values())]
            out[key] = {"P": cmpP, "n": n_big, "per_target": per, "targets_fbdm_lower": wins,
                        "count": len(wins), "of": len(targets)}
    if 40 in budgets:
        rec = {t: {m: float(np.mean(_vals(main, m, t, n_big, 40, "mode_recall"))) for m in models}
               for t in targets if t in ("T1", "T2")}
        spur = {t: {m: float(np.mean(_vals(main, m, t, n_big, 40, "spurious_modes"))) for m in models}
                for t in targets if t in ("T1", "T2")}
        out["c7"] = {"P": 40, "n": n_big, "recall": rec, "spurious": spur}
    if seeds >= 2 and "GMM-GD" in models:
        sd = {t: {m: float(np.mean([np.std(_vals(main, m, t, n_big, P, "test_nll"), ddof=1) for P in budgets]))
                  for m in ("FBDM", "GMM-GD")} for t in targets}
        dead = {m: int(sum(r.get("dead", 0) for r in main if r["model"] == m)) for m in ("GMM-GD", "GMM-EM")
                if m in models}
        comps = {m: int(sum(int(r["size"][2:]) for r in main if r["model"] == m)) for m in dead}  # "K=.."
        wins = [t for t in targets if sd[t]["GMM-GD"] > sd[t]["FBDM"]]
        out["c8"] = {"n": n_big, "std_test_nll": sd, "targets_gmm_wider": wins, "count": len(wins),
                     "of": len(targets), "dead": dead, "components": comps}
    c9 = {}
    for t in targets:
        g = best[(t, n_small, Pmax)]
        at = {r["seed"]: r["test_nll"] for r in rows if (r["model"], r["target"], r["n"], r["P"], r["gamma"])
              == ("FBDM", t, n_small, Pmax, g)}
        zero = {r["seed"]: r["test_nll"] for r in rows if (r["model"], r["target"], r["n"], r["P"], r["gamma"])
                == ("FBDM", t, n_small, Pmax, 0.0)}
        if not zero:
            raise KexueError("gamma = 0 must be among the gammas (C9 compares against it)")
        diff = [at[s] - zero[s] for s in sorted(at)]
        c9[t] = {"gamma_star": g, "nll_star": float(np.mean(list(at.values()))),
                 "nll_zero": float(np.mean(list(zero.values()))), "diff": float(np.mean(diff)),
                 "diff_ci": mean_ci(diff) if len(diff) >= 2 else None}
    out["c9"] = {"n": n_small, "P": Pmax, "N": Pmax // 2 - 2, "per_target": c9,
                 "not_worse": [t for t in targets if c9[t]["diff"] <= 0],
                 "strictly_better": [t for t in targets if c9[t]["diff"] < 0]}
    out["table"] = [{"target": t, "P": P, **{m: float(f"{med(m, t, n_big, P):.4g}") for m in models},
                     "KDE": float(f"{out['kde_kl'][t]:.4g}")} for t in targets for P in budgets]
    return out
