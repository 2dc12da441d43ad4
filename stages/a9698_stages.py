"""Stage functions of article 9698 (declared in stages/a9698_tied_embedding_init.py).

init_stats (numpy: C1 moments, the bigram-model Monte Carlo grid for C2-C6) -> train (torch: real-model step-0
losses of every variant split into j != i / j = i, then the five training runs) -> evaluate (C7/C8 statistics and
all figures). Heavy imports live inside the functions so that each stage's code dependencies are its own.
"""
from __future__ import annotations

import math


def _corpus(ctx):
    from kexue.data.kjv import load_kjv
    from kexue.data.text_corpus import word_corpus

    text = load_kjv(ctx.inp("kjv"))
    if ctx.p.corpus_chars:
        text = text[:ctx.p.corpus_chars]
    return word_corpus(text, ctx.p.vocab_words)


def init_stats(ctx):
    import numpy as np

    from kexue.io import atomic_write_json
    from kexue.tied_embedding_init import grid_study, moment_mc

    p = ctx.p
    c1 = [moment_mc(d, 1 / math.sqrt(d), p.c1_samples, np.random.default_rng([ctx.seed, 9698, d]))
          for d in p.c1_dims]
    rows = grid_study(p.grid_n, p.grid_d, p.grid_sigmas, p.grid_rows, ctx.seed)
    tied = [r for r in rows if r["head"] == "tied"]
    # A3: blow-up where d sigma > log n + 3, none where d sigma < log n - 3
    big = [r for r in tied if r["d_sigma"] > r["log_n"] + 3]
    small = [r for r in tied if r["d_sigma"] < r["log_n"] - 3]
    a3 = {"n_big": len(big), "n_small": len(small),
          "big_fail": [(r["n"], r["d"], r["rule"]) for r in big if not r["mc_other"] > r["log_n"] + 2],
          "small_fail": [(r["n"], r["d"], r["rule"]) for r in small if not r["mc_other"] < r["log_n"] + 1],
          "min_big_excess": min((r["mc_other"] - r["log_n"] for r in big), default=None),
          "max_small_excess": max((r["mc_other"] - r["log_n"] for r in small), default=None)}
    fixes = [r for r in rows if r["head"] != "tied"]
    summary = {
        "cells": len(tied), "rows_per_cell": tied[0]["rows"], "n": p.grid_n, "d": p.grid_d, "rules": p.grid_sigmas,
        "a3": a3,
        "tied_max_abs_err_sharp": max(abs(r["mc_other"] - r["sharp"]) for r in tied),
        "tied_max_abs_err_article": max(abs(r["mc_other"] - r["article"]) for r in tied),
        "tied_self_max_abs_err": max(abs(r["mc_self"] - r["self"]) for r in tied),
        "fixes_max_abs_err": max(abs(r["mc_other"] - r["fixed"]) for r in fixes),
        "small_sigma_max_excess_over_log_2n": max(r["mc_other"] - math.log(2 * r["n"] - 1) for r in tied
                                                  if r["rule"] == "log_n_over_d"),
    }
    table = [{"n": r["n"], "d": r["d"], "sigma": r["rule"], "d_sigma": round(r["d_sigma"], 2),
              "log_n": round(r["log_n"], 2), "mc_tied": round(r["mc_other"], 2), "sharp": round(r["sharp"], 2),
              "article": round(r["article"], 2), "mc_untied": round(next(
                  q["mc_other"] for q in rows if q["head"] == "untied" and q["n"] == r["n"] and q["d"] == r["d"]
                  and q["rule"] == r["rule"]), 2), "mc_self": round(r["mc_self"], 3)} for r in tied]
    atomic_write_json(ctx.out("metrics"), {"c1": {"samples": p.c1_samples, "per_d": c1,
                                                  "max_abs_z": max(c["max_abs_z"] for c in c1)},
                                           "grid": summary, "grid_table": table})
    atomic_write_json(ctx.out("grid"), rows)


def train(ctx):
    import time

    import numpy as np
    import torch

    from kexue.data.text_corpus import eval_windows
    from kexue.io import atomic_write_json, save_npz
    from kexue.montecarlo import mean_ci
    from kexue.tied_embedding_init import predictions, sigma_of
    from kexue.tied_embedding_training import (ALL_VARIANTS, VARIANTS, ModelSpec, TrainSpec, build_model,
                                               split_losses, train_variant)

    p = ctx.p
    corpus = _corpus(ctx)
    n, d = corpus.n_vocab, p.d
    ctx.log(f"corpus {corpus.summary()}")
    spec = ModelSpec(d=d, layers=p.layers, heads=p.heads, ctx=p.ctx)
    # real-model step-0 losses on fixed validation windows (forward only, fp32)
    win = eval_windows(corpus.val, p.step0_windows, p.ctx, ctx.seed)
    step0 = {}
    for v, (head, rule, zero) in ALL_VARIANTS.items():
        model = build_model(v, n, spec, ctx.seed).to(ctx.device)
        s = split_losses(model, win, ctx.device)
        sig = sigma_of(rule, n, d)
        step0[v] = {"head": head, "sigma_rule": rule, "sigma": sig, "zero_init_residual": zero,
                    "all": mean_ci(s["all"]), "other": mean_ci(s["other"]),
                    "self": mean_ci(s["self"]) if len(s["self"]) >= 2 else None,
                    "n_other": int(len(s["other"])), "n_self": int(len(s["self"])),
                    "self_tokens": [corpus.vocab[t] for t in s["self_tokens"]],
                    "pred": predictions(n, d, sig)}
        ctx.log(f"step 0 {v}: all {s['all'].mean():.3f}, j!=i {s['other'].mean():.3f}, "
                f"j=i {s['self'].mean() if len(s['self']) else float('nan'):.3f} ({len(s['self'])} positions)")
    tr = TrainSpec(steps=p.steps, batch=p.batch, lr=p.lr, warmup_frac=p.warmup_frac, weight_decay=p.weight_decay,
                   grad_clip=p.grad_clip, eval_every=p.eval_every, eval_windows=p.eval_windows,
                   ckpt_every=p.ckpt_every, bf16=ctx.profile == "full" and ctx.device == "cuda")
    arrays, walls, n_params = {}, {}, {}
    for seed in range(ctx.seed, ctx.seed + p.seeds):
        for v in VARIANTS:
            t0 = time.perf_counter()
            r = train_variant(v, corpus, spec, tr, seed, ctx.persist("ckpt") / f"{v}-seed{seed}",
                              ctx.fingerprint, ctx.device)
            walls[f"{v}-seed{seed}"] = time.perf_counter() - t0
            n_params[v] = r["n_params"]
            for k in ("eval_steps", "val_loss", "train_loss"):
                arrays[f"{v}__{seed}__{k}"] = r[k]
            ctx.log(f"{v} seed {seed}: val {r['val_loss'][0]:.3f} -> {r['val_loss'][-1]:.3f}")
    arrays["variants"] = np.array(list(VARIANTS))
    arrays["seeds"] = np.arange(ctx.seed, ctx.seed + p.seeds)
    save_npz(ctx.out("curves"), arrays)
    atomic_write_json(ctx.out("metrics"), {
        "corpus": corpus.summary(), "model": {"n": n, "d": d, "layers": p.layers, "heads": p.heads, "ctx": p.ctx,
                                              "n_params": n_params, "torch_threads": torch.get_num_threads()},
        "step0": step0,
        "train_run": {"steps": p.steps, "batch": p.batch, "seeds": p.seeds, "device": ctx.device,
                      "wall_s": walls}})


def evaluate(ctx):
    import numpy as np

    from kexue.io import atomic_write_json, read_json
    from kexue.tied_embedding_figures import draw_all

    p = ctx.p
    z = np.load(ctx.inp("curves"))
    variants, seeds = [str(v) for v in z["variants"]], [int(s) for s in z["seeds"]]
    per = {}
    for v in variants:
        auc, final, hit = [], [], {str(t): [] for t in p.loss_targets}
        for s in seeds:
            st, vl = z[f"{v}__{s}__eval_steps"], z[f"{v}__{s}__val_loss"]
            horizon = p.early_frac * st[-1]
            keep = st <= horizon + 1e-9
            # mean val loss over the first early_frac of training (trapezoid area / length)
            auc.append(float(np.trapezoid(vl[keep], st[keep]) / (st[keep][-1] - st[0])))
            final.append(float(vl[-1]))
            for t in p.loss_targets:
                idx = np.nonzero(vl <= t)[0]
                hit[str(t)].append(int(st[idx[0]]) if len(idx) else None)
        per[v] = {"auc_early": float(np.mean(auc)), "auc_early_per_seed": auc, "final": float(np.mean(final)),
                  "final_per_seed": final, "final_std": float(np.std(final, ddof=1)) if len(final) > 1 else None,
                  "step0_val": float(np.mean([z[f"{v}__{s}__val_loss"][0] for s in seeds])),
                  "steps_to_target": hit}
    finals = [per[v]["final"] for v in variants]
    fixes = ["untied", "tied_orth", "tied_swap"]
    aucs = [per[v]["auc_early"] for v in fixes]
    table = [{"variant": v, "step0_val": round(per[v]["step0_val"], 3), "auc_early": round(per[v]["auc_early"], 3),
              "final_val": round(per[v]["final"], 3),
              **{f"steps_to_{t}": per[v]["steps_to_target"][str(t)][0] for t in p.loss_targets}} for v in variants]
    m = {"training": {"per_variant": per, "early_frac": p.early_frac, "seeds": len(seeds),
                      "final_spread": (max(finals) - min(finals)) / min(finals),
                      "fixes_auc_spread": (max(aucs) - min(aucs)) / min(aucs),
                      "slowest_early": max(["tied_small", *fixes], key=lambda v: per[v]["auc_early"])},
         "training_table": table}
    atomic_write_json(ctx.out("metrics"), m)
    draw_all(read_json(ctx.inp("grid")), read_json(ctx.inp("init_metrics")), read_json(ctx.inp("train_metrics")),
             z, ctx.out("figures"))
