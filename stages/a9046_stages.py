"""Stage functions of article 9046 (declared in stages/a9046_unargmaxable_tokens.py).

synthetic: C1-C7 on synthetic class vectors (numpy/scipy) -> metrics + arrays;
lm: C8/C9, low-rank word LMs on the KJV corpus (torch, resumable), the LP on their output layers, and at `full`
    an optional user-supplied checkpoint's output layer;
figures: every figure from the two stages' files.
"""
from __future__ import annotations

D = "data/9046"


def synthetic(ctx):
    import time

    import numpy as np

    from kexue import unargmax_study as S
    from kexue.io import atomic_write_json, save_npz
    from kexue.montecarlo import fmt_ci

    p = ctx.p
    t0 = time.perf_counter()
    m = {"c1": S.example_2d(p.grid)}
    m["c3"] = S.minimax_instances(np.random.default_rng([ctx.seed, 9046, 3]), p.minimax_instances, 30, 3)
    m["c4"] = S.bias_checks(np.random.default_rng([ctx.seed, 9046, 4]), p.bias_instances, p.bias_n, (2, 3, 4))
    m["c5"] = S.unit_norm(np.random.default_rng([ctx.seed, 9046, 5]), p.unit_ns, p.unit_ds)
    ctx.log(f"examples done in {time.perf_counter() - t0:.1f}s")
    kw = dict(fw_iters=p.fw_iters, fw_stop=p.fw_stop, hull_max_d=p.hull_max_d, fw_max_n=p.fw_max_n)
    cells = S.gaussian_sweep(ctx.seed, p.sweep_ns, p.sweep_ds, p.sweep_seeds, **kw)
    for n, d in p.extra_cells:                       # `full`: large n, pre-screen + LP only
        cells += S.gaussian_sweep(ctx.seed, [n], [d], 1, **kw)
    ctx.log(f"gaussian sweep ({len(cells)} cells) done at {time.perf_counter() - t0:.1f}s")
    m["sweep"] = {"ns": p.sweep_ns, "ds": p.sweep_ds, "seeds": p.sweep_seeds, "fw_iters": p.fw_iters,
                  "fw_stop": p.fw_stop, "cells": cells}
    spread = S.spread_sweep(ctx.seed, p.spreads, p.spread_n, p.spread_d, p.spread_seeds)
    m["spread"] = {"n": p.spread_n, "d": p.spread_d, "seeds": p.spread_seeds, "cells": spread}
    m["spread_summary"] = {str(float(s)): _pooled([c for c in spread if c["spread"] == float(s)]) for s in p.spreads}
    m["c6_ci"] = {f"n{n}_d{d}": fmt_ci(_pooled([c for c in cells if c["n"] == n and c["d"] == d]))
                  for n in p.sweep_ns for d in p.sweep_ds}
    m["synthetic_wall_s"] = time.perf_counter() - t0
    ctx.log(f"spread sweep done at {m['synthetic_wall_s']:.1f}s")
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), {"example_W": S.U.EXAMPLE_W})


def _pooled(cells):
    """Pooled unargmaxable proportion over cells (classes of all seeds) with its Wilson 95% interval."""
    from kexue.montecarlo import proportion_ci

    return proportion_ci(sum(c["unargmaxable"] for c in cells), sum(c["n"] for c in cells))


def lm(ctx):
    import time

    import numpy as np

    from kexue import lowrank_lm as L
    from kexue.io import atomic_write_json, save_npz
    from kexue.unargmax_lm import analyse_lm

    p = ctx.p
    t0 = time.perf_counter()
    ckpt = ctx.persist("ckpt")  # created even at smoke (no LM): DVC refuses to commit a missing persistent out
    models = [(d, True) for d in p.lm_widths] + [(d, False) for d in p.lm_nobias_widths]
    m = {"lm": {"models": {}, "skipped": not models}}
    arrays = {}
    if models:
        from kexue.data.kjv import load_kjv
        from kexue.data.text_corpus import word_corpus

        corpus = word_corpus(load_kjv(ctx.inp("kjv")), p.vocab_size - 1)      # top words + <unk> = vocab_size
        m["lm"]["corpus"] = corpus.summary()
        counts = np.bincount(corpus.train, minlength=corpus.n_vocab)
        arrays["counts"] = counts
        ctx.log(f"corpus {corpus.summary()}")
        for d, bias in models:
            cfg = L.LMConfig(vocab=corpus.n_vocab, d=d, bias=bias, ctx=p.lm_ctx, emb=p.lm_emb, hidden=p.lm_hidden)
            name = f"d{d}" + ("" if bias else "_nobias")
            model, recs = L.train_lm(cfg, corpus.train, steps=p.lm_steps, batch=p.lm_batch, lr=p.lm_lr,
                                     seed=ctx.seed, run_dir=ckpt / name, fingerprint=ctx.fingerprint,
                                     device=ctx.device, bf16=ctx.profile == "full", vocab_sha=corpus.vocab_sha,
                                     ckpt_every=p.lm_ckpt_every, desc=f"a9046 lm {name}")
            res, arr = analyse_lm(model, corpus, counts, device=ctx.device, train_sample=p.lm_box_sample,
                                  seed=ctx.seed)
            res["final_train_loss"] = float(np.mean([r["loss"] for r in recs[-20:]]))
            m["lm"]["models"][name] = res
            arrays.update({f"{name}_{k}": v for k, v in arr.items()})
            ctx.log(f"{name}: {res['unargmaxable']} unargmaxable, val nll {res['val_nll']:.3f} "
                    f"({time.perf_counter() - t0:.0f}s)")
    if models:
        from kexue.unargmax_lm import frequency_test

        m["lm"]["c8"] = frequency_test(arrays, [f"d{d}" for d, _ in models[:len(p.lm_widths)]] +
                                       [f"d{d}_nobias" for d in p.lm_nobias_widths])
    if p.checkpoint:
        from kexue.unargmax import count_unargmaxable

        W, b, key = L.load_output_layer(p.checkpoint)
        R = 1.0 if b is None else p.checkpoint_box
        c = count_unargmaxable(W, b, R)
        m["checkpoint"] = {"path": p.checkpoint, "key": key, "vocab": int(W.shape[0]), "d": int(W.shape[1]),
                           "bias": b is not None, "R": R, "unargmaxable": int(c["unargmaxable"].sum()),
                           "ids": np.flatnonzero(c["unargmaxable"]).tolist()[:200], "lp_classes": c["lp_classes"]}
    m["lm"]["wall_s"] = time.perf_counter() - t0
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arrays or {"empty": np.zeros(0)})


def figures(ctx):
    from kexue.unargmax_figures import draw_all

    draw_all(ctx.inp("synthetic"), ctx.inp("lm"), ctx.inp("lm_arrays"), ctx.out("figures"))
