"""Unargmaxable tokens of a trained low-rank LM (card 9046, C8/C9).

Feature region: with a bias the verdict depends on where z may lie. We use the box [-R, R]^d with R = the largest
|coordinate| of the observed hidden states (all validation positions + a seeded sample of training positions),
so every observed state lies inside it. Pre-screen: a token that is the argmax on some observed state is
argmaxable (that state is the witness); the exact LP decides the rest.
"""
from __future__ import annotations

import numpy as np

from kexue import unargmax as U
from kexue.lowrank_lm import hidden_and_logits_stats, max_token_logprob, output_layer


def frequency_ranks(counts: np.ndarray) -> np.ndarray:
    """1 = most frequent training token; ties share the average rank."""
    from scipy.stats import rankdata

    return rankdata(-counts, method="average")


def analyse_lm(model, corpus, counts, device: str = "cpu", train_sample: int = 20000, seed: int = 0):
    model.eval()
    val = hidden_and_logits_stats(model, corpus.val, device)
    rng = np.random.default_rng([seed, 9046, 8])
    start = int(rng.integers(0, max(1, len(corpus.train) - train_sample - 4)))
    tr = hidden_and_logits_stats(model, corpus.train[start:start + train_sample + model.cfg.ctx], device)
    W, b = output_layer(model)
    Z = np.vstack([val["H"], tr["H"]])
    R = float(np.abs(Z).max())
    c = U.count_unargmaxable(W, b, R, Z=Z)
    un = c["unargmaxable"]
    ids = np.flatnonzero(un)
    ranks = frequency_ranks(counts)
    lp = max_token_logprob(W, b, val["H"], ids) if ids.size else np.zeros(0)
    res = {"d": model.cfg.d, "bias": model.cfg.bias, "vocab": int(W.shape[0]), "R": R,
           "val_positions": int(len(val["H"])), "box_states": int(len(Z)), "val_nll": val["nll"],
           "unargmaxable": int(ids.size), "prescreened": c["prescreened"], "lp_classes": c["lp_classes"],
           "argmax_violations": int(np.isin(val["argmax"], ids).sum()),
           "distinct_val_argmax": int(np.unique(val["argmax"]).size),
           "min_max_logprob": float(lp.min()) if ids.size else None,
           "max_max_logprob": float(lp.max()) if ids.size else None,
           "n_positive_prob": int((np.exp(lp) > 0).sum()),
           "median_rank_unarg": float(np.median(ranks[ids])) if ids.size else None,
           "median_rank_all": float(np.median(ranks)),
           "unarg_tokens": [corpus.vocab[i] for i in ids[:15]]}
    return res, {"unarg": un, "ranks": ranks, "max_logprob": lp}


def frequency_test(arrays: dict, names, min_count: int = 5) -> dict:
    """C8: pooled over the models with >= min_count unargmaxable tokens, are those tokens rarer than the vocabulary?
    One-sided Mann-Whitney of their frequency ranks against all tokens' ranks (each model contributes both)."""
    from scipy.stats import mannwhitneyu, spearmanr

    used = [k for k in names if arrays[f"{k}_unarg"].sum() >= min_count]
    spear = {}
    for k in names:
        u = arrays[f"{k}_unarg"]
        spear[k] = float(spearmanr(u.astype(float), arrays[f"{k}_ranks"]).statistic) if 0 < u.sum() < u.size else None
    if not used:
        return {"models": [], "n_unarg": 0, "p_value": None, "median_rank_unarg": None,
                "median_rank_all": None, "spearman": spear}
    un = np.concatenate([arrays[f"{k}_ranks"][arrays[f"{k}_unarg"]] for k in used])
    al = np.concatenate([arrays[f"{k}_ranks"] for k in used])
    p = float(mannwhitneyu(un, al, alternative="greater").pvalue)
    return {"models": used, "n_unarg": int(un.size), "p_value": p, "median_rank_unarg": float(np.median(un)),
            "median_rank_all": float(np.median(al)), "spearman": spear}
