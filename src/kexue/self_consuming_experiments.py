"""Card 9687's loop experiments: the 2-D mixture loops (B) and the image loops (C), scored every evaluated generation.

    metrics, arrays = mixture_study(p, seed, log)        # p: the article's params (b_* fields)
    metrics, arrays = image_study(p, seed, data, clf, log, ddpm=None)

Loops per seed: fully synthetic at each lambda ("synthetic_l1", "synthetic_l0.8", ...), and at lambda = 1 the
fixed-real and fresh-real loops. Every loop of one seed starts from the same random stream, so their first
generations are trained on identical real data (paired comparison). Evaluation draws come from a separate stream
and are scored against a real set that no loop ever trains on (the card's pitfall).

B metrics (kexue.mixture_metrics, optimal_transport, image_metrics): exact W2 to the fresh real set, k-NN
precision/recall (k = b_k), modes covered (>= 25% of the true weight), mean true log-density, mean per-mode std
ratio. The same numbers for a second real sample are the floor ("generation 0").
C metrics (metric classifier features): FD (classifier features) of n_eval samples vs the held-out images, k-NN
precision/recall against the held-out set with as many samples as held-out images, class entropy of the predicted
digits, mean pairwise pixel distance (diversity). Generation 0 = real training images scored the same way.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.self_consuming import PcaGmm, run_loop, scaled

B_KEYS = ("w2", "precision", "recall", "modes", "logdens", "std_ratio", "empty")
C_KEYS = ("fd", "precision", "recall", "entropy", "pairwise")


def loop_specs(lambdas, kinds=("synthetic", "fixed", "fresh")) -> list[tuple[str, str, float]]:
    """(name, kind, lambda): a fully synthetic loop per lambda, fixed/fresh at lambda = 1."""
    out = [(f"synthetic_l{lam:g}", "synthetic", float(lam)) for lam in lambdas] if "synthetic" in kinds else []
    return out + [(k, k, 1.0) for k in ("fixed", "fresh") if k in kinds]


# ------------------------------------------------------------------------------------------ B: 2-D mixture
def mixture_scores(X, real, truth, k: int) -> dict:
    from kexue.image_metrics import precision_recall
    from kexue.mixture_metrics import mean_log_density, mode_std_ratio, modes_covered
    from kexue.optimal_transport import empirical_w2

    pr = precision_recall(real, X, k=k)
    ratio = mode_std_ratio(X, truth)
    return {"w2": empirical_w2(X, real), "precision": pr["precision"], "recall": pr["recall"],
            "modes": modes_covered(X, truth, 0.25), "logdens": mean_log_density(X, truth),
            "std_ratio": float(np.nanmean(ratio)) if np.isfinite(ratio).any() else math.nan}


def mixture_study(p, seed: int, log=print) -> tuple[dict, dict]:
    from kexue.gmm_em import fit_gmm
    from kexue.mixture_metrics import ring_mixture

    truth = ring_mixture(p.b_modes, p.b_radius, p.b_std, p.b_weights)
    specs = loop_specs(p.b_lambdas)
    gens = list(p.b_eval_gens)
    res = {name: {key: np.full((p.b_seeds, len(gens)), np.nan) for key in B_KEYS} for name, _, _ in specs}
    floor = {key: [] for key in B_KEYS if key != "empty"}
    scatter = {}
    for s in range(p.b_seeds):
        erng = np.random.default_rng([seed, s, 99])
        real_eval, real_floor = truth.sample(p.b_n_eval, erng), truth.sample(p.b_n_eval, erng)
        for key, v in mixture_scores(real_floor, real_eval, truth, p.b_k).items():
            floor[key].append(v)
        if s == 0:
            scatter["real"] = real_floor
        for li, (name, kind, lam) in enumerate(specs):
            def fit(X, g):
                return fit_gmm(X, p.b_components, rng, iters=p.b_em_iters, restarts=p.b_em_restarts)

            def sample(model, m, r, lam=lam):
                return scaled(model[0], lam).sample(m, r)

            def evaluate(g, model, name=name, lam=lam, li=li):
                if g not in gens:
                    return
                res[name]["empty"][s, gens.index(g)] = model[1]["empty"]
                X = scaled(model[0], lam).sample(p.b_n_eval, np.random.default_rng([seed, s, li, g, 7]))
                for key, v in mixture_scores(X, real_eval, truth, p.b_k).items():
                    res[name][key][s, gens.index(g)] = v
                if s == 0 and g in p.b_scatter_gens:
                    scatter[f"{name}_g{g}"] = X

            rng = np.random.default_rng([seed, s])      # same stream for every loop of this seed
            run_loop(kind, generations=p.b_generations, n=p.b_n, n_real=p.b_n_real, n_syn=p.b_n_syn,
                     draw_real=lambda m, r: truth.sample(m, r), fit=fit, sample=sample, rng=rng, lam=lam,
                     on_generation=evaluate)
            last = res[name]
            log(f"B seed {s} {name}: W2 gen {gens[0]} {last['w2'][s, 0]:.3f} -> gen {gens[-1]} {last['w2'][s, -1]:.3f}, "
                f"recall {last['recall'][s, 0]:.2f} -> {last['recall'][s, -1]:.2f}, modes {last['modes'][s, -1]:.0f}")
    metrics = {"eval_gens": gens, "seeds": p.b_seeds, "loops": {n: {k: v.tolist() for k, v in d.items()}
                                                                for n, d in res.items()},
               "lambdas": {name: lam for name, _, lam in specs}, "floor": floor, "n_eval": p.b_n_eval}
    arrays = {f"scatter_{k}": v for k, v in scatter.items()}
    return metrics, arrays


# ------------------------------------------------------------------------------------------ C: images
def mean_pairwise(X) -> float:
    X = np.asarray(X, dtype=np.float64)
    sq = (X * X).sum(1)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None] - 2 * X @ X.T, 0))
    return float(D.sum() / (len(X) * (len(X) - 1)))


class ImageScorer:
    """Scores image samples against a fixed held-out set through the metric classifier."""

    def __init__(self, clf, real_eval, k: int):
        from kexue.feature_classifier import features

        self.clf, self.k = clf, k
        self.F_real = features(clf, real_eval)
        self.n_pr = len(real_eval)

    def __call__(self, X, rng) -> dict:
        from kexue.feature_classifier import features, predict
        from kexue.image_metrics import class_entropy, frechet_distance, precision_recall

        F = features(self.clf, X)
        sub = rng.choice(len(X), size=min(self.n_pr, len(X)), replace=False)
        pr = precision_recall(self.F_real[:len(sub)], F[sub], k=self.k)
        return {"fd": frechet_distance(F, self.F_real), "precision": pr["precision"], "recall": pr["recall"],
                "entropy": class_entropy(predict(self.clf, X), self.clf.config["n_classes"]),
                "pairwise": mean_pairwise(np.asarray(X)[sub[:1000]])}


def image_study(p, seed: int, Xtr, Xte, clf, log=print, ddpm=None) -> tuple[dict, dict]:
    """Image loops on the real pool Xtr (flat, [-1, 1]), scored against Xte. ddpm: a DdpmGenerator (full profile);
    None = the PCA + GMM generator."""
    specs = loop_specs(p.c_lambdas, p.c_loops)
    G = p.c_generations
    gens = list(range(1, G + 1))
    scorer = ImageScorer(clf, Xte, p.c_k)
    res = {name: {key: np.full((p.c_seeds, G + 1), np.nan) for key in C_KEYS} for name, _, _ in specs}
    grids = {}
    n0 = min(p.c_n_eval, len(Xtr))
    for s in range(p.c_seeds):
        base = scorer(Xtr[np.random.default_rng([seed, s, 5]).permutation(len(Xtr))[:n0]],
                      np.random.default_rng([seed, s, 6]))     # generation 0: real training images
        for li, (name, kind, lam) in enumerate(specs):
            for key, v in base.items():
                res[name][key][s, 0] = v

            def draw_real(m, r):
                if m > len(Xtr):
                    raise ValueError(f"asked for {m} real images, the pool has {len(Xtr)}")
                return Xtr[r.permutation(len(Xtr))[:m]]

            if ddpm is None:
                def fit(X, g):
                    return PcaGmm(X, p.c_pca_dim, p.c_components, rng, iters=p.c_em_iters, restarts=p.c_em_restarts)

                def sample(model, m, r, lam=lam):
                    return model.sample(m, r, lam)
            else:
                def fit(X, g, name=name, s=s):
                    return ddpm.fit(X, f"{name}_s{s}_g{g}", seed + 1000 * s + g)

                def sample(model, m, r):
                    return ddpm.sample(model, m, r)

            def evaluate(g, model, name=name, lam=lam, li=li):
                r = np.random.default_rng([seed, s, li, g, 7])
                X = sample(model, p.c_n_eval, r)
                for key, v in scorer(X, r).items():
                    res[name][key][s, g] = v
                if s == 0:
                    grids[f"{name}_g{g}"] = np.asarray(X[:p.c_grid], dtype=np.float32)

            rng = np.random.default_rng([seed, s])
            run_loop(kind, generations=G, n=p.c_n, n_real=p.c_n_real, n_syn=p.c_n_syn, draw_real=draw_real,
                     fit=fit, sample=sample, rng=rng, lam=lam, on_generation=evaluate)
            r = res[name]
            log(f"C seed {s} {name}: FD gen 1 {r['fd'][s, 1]:.2f} -> gen {G} {r['fd'][s, G]:.2f}, "
                f"recall {r['recall'][s, 1]:.2f} -> {r['recall'][s, G]:.2f}")
    grids["real"] = np.asarray(Xtr[:p.c_grid], dtype=np.float32)
    metrics = {"generations": [0] + gens, "seeds": p.c_seeds, "n_eval": p.c_n_eval, "n_heldout": len(Xte),
               "loops": {n: {k: v.tolist() for k, v in d.items()} for n, d in res.items()},
               "lambdas": {name: lam for name, _, lam in specs}}
    return metrics, {f"grid_{k}": v for k, v in grids.items()}
