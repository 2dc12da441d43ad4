"""Stage functions of article 9675 (declared in stages/a9675_rope_beta_base_ntk.py).

train (corpus, fixed test windows, std + logn GPTs) -> evaluate (C1-C4 identities, C5-C8 accuracies, figures).
Identities, accuracies and figures share one stage only to keep the smoke profile near its budget (each extra
process costs a Python start-up, a torch import or a matplotlib import); training stays apart so that editing the
evaluation never retrains.
"""
from __future__ import annotations

CARD_K = 8.0          # the card's reference scale factor for the identity numbers (d = 128, k = 8)


def _spec(ctx):
    from kexue.rope_extrapolation import TrainSpec

    p = ctx.p
    return TrainSpec(d=p.d, layers=p.layers, heads=p.heads, train_len=p.train_len, rope_base=p.rope_base,
                     batch=p.batch, steps=p.steps, lr=p.lr, warmup=p.warmup, weight_decay=p.weight_decay,
                     grad_clip=p.grad_clip, ckpt_every=p.ckpt_every, seed=ctx.seed,
                     bf16=ctx.profile == "full" and ctx.device == "cuda")


def train(ctx):
    import json
    import time

    import numpy as np

    from kexue import rope_extrapolation as rx
    from kexue.data.kjv import load_kjv
    from kexue.data.text_corpus import char_corpus
    from kexue.io import atomic_write_json, save_npz
    from kexue.train import save_checkpoint

    p = ctx.p
    corpus = char_corpus(load_kjv(ctx.inp("kjv")))
    ctx.log(f"corpus {corpus.summary()}")
    sets = rx.build_test_sets(corpus.val, p.eval_windows, p.train_len, p.test_len, ctx.seed + 9675)
    save_npz(ctx.out("sets"), {**sets, "vocab": np.array(json.dumps(corpus.vocab))})
    spec = _spec(ctx)
    info = {"corpus": corpus.summary(), "device": ctx.device}
    for name in rx.TRAININGS:
        t0, c0 = time.perf_counter(), time.process_time()
        res = rx.train(spec, corpus, name == "logn", ctx.persist("ckpt"), ctx.fingerprint, ctx.device)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        save_checkpoint(ctx.out(name), rx.payload(res["model"], corpus, res["loss"]))
        info[name] = {"n_params": res["n_params"], "steps": p.steps, "wall_s": wall, "cpu_s": cpu,
                      "final_loss": float(res["loss"][-max(1, p.steps // 20):].mean()),
                      "first_loss": float(res["loss"][0])}
        ctx.log(f"{name}: {res['n_params']} params, {p.steps} steps, final loss {info[name]['final_loss']:.3f}, "
                f"{wall:.0f} s wall / {cpu:.0f} s CPU")
    atomic_write_json(ctx.out("summary"), {"train": info})


def evaluate(ctx):
    import json

    import numpy as np

    from kexue import rope_extrapolation as rx
    from kexue import rope_identities as ri
    from kexue.io import atomic_write_json, save_npz
    from kexue.rope_extrapolation_figures import draw_all
    from kexue.train import load_checkpoint

    p = ctx.p
    m = {"ident": ri.identities(tuple(p.identity_dims), CARD_K), "toy": ri.decimal_toy(),
         "spot": ri.spot_values(CARD_K)}
    z = np.load(ctx.inp("sets"))
    sets = {s: z[s] for s in rx.TEST_SETS}
    vocab = json.loads(str(z["vocab"]))
    bf16 = ctx.profile == "full" and ctx.device == "cuda"
    acc, arrays, per_window = {}, {}, {}
    model_info = {}
    for tr in rx.TRAININGS:
        ck = load_checkpoint(ctx.inp(tr))
        model = rx.load_model(ck, vocab, "kjv", ctx.device)
        dh = model.cfg.d // model.cfg.heads
        model_info[tr] = {"head_dim": dh, "ctx": model.cfg.ctx, "logn": model.cfg.logn_attention}
        acc[tr], per_window[tr] = {}, {}
        for s in rx.TEST_SETS:
            rules = ("extrapolate",) if s == "copy" else rx.RULES
            acc[tr][s], per_window[tr][s] = {}, {}
            for rule in rules:
                hits, loss = rx.correct_matrix(model, sets[s], rule, ctx.device, p.eval_batch, bf16)
                summ = rx.summarize(hits, p.train_len)
                per_window[tr][s][rule] = hits
                acc[tr][s][rule] = {k: v for k, v in summ.items() if not k.startswith("per_window")}
                acc[tr][s][rule]["loss"] = float(loss.mean())
                if s in ("natural", "repeated"):
                    b = rx.bucket_accuracy(hits, p.bucket)
                    for key in ("centre", "mean", "lo", "hi"):
                        arrays[f"bucket_{tr}_{s}_{rule}_{key}"] = np.array(b[key])
        ctx.log(f"{tr}: natural " + ", ".join(f"{rx.LABELS[r]} {acc[tr]['natural'][r]['all']['mean']:.1f}%"
                                               for r in rx.RULES))

    def pw(tr, s, rule, part="all"):
        h = per_window[tr][s][rule]
        return 100 * (h if part == "all" else h[:, p.train_len:]).mean(1)

    c5, c6, c7, c8 = {}, {}, {}, {"precondition": {}, "repeated_minus_natural": {}}
    for tr in rx.TRAININGS:
        base_hits = per_window[tr]["train_len"]["extrapolate"]
        c6[tr] = {"max_abs_acc_diff": max(abs(acc[tr]["train_len"][r]["all"]["mean"]
                                              - acc[tr]["train_len"]["extrapolate"]["all"]["mean"]) for r in rx.RULES),
                  "identical_predictions": all(bool((per_window[tr]["train_len"][r] == base_hits).all())
                                               for r in rx.RULES)}
        c5[tr] = {"ntk_minus_baseline": rx.paired_diff(pw(tr, "natural", "ntk"), pw(tr, "natural", "extrapolate")),
                  "baseline_minus_pi": rx.paired_diff(pw(tr, "natural", "extrapolate"), pw(tr, "natural", "pi"))}
        pre = rx.paired_diff(pw(tr, "copy", "extrapolate"), pw(tr, "train_len", "extrapolate"))
        c8["precondition"][tr] = {"copy_minus_natural": pre, "holds": pre["mean"] >= 15.0}
        # repeated vs natural (NTK, positions >= L_train): same windows' first 2 L_train tokens, paired
        c8["repeated_minus_natural"][tr] = rx.paired_diff(pw(tr, "repeated", "ntk", "beyond"),
                                                          pw(tr, "natural", "ntk", "beyond"))
    for s in ("natural", "repeated"):
        c7[s] = {"all": rx.paired_diff(pw("logn", s, "ntk"), pw("std", s, "ntk")),
                 "beyond": rx.paired_diff(pw("logn", s, "ntk", "beyond"), pw("std", s, "ntk", "beyond"))}
    lm = {"corpus": "kjv:char", "train_len": p.train_len, "test_len": p.test_len, "k": p.test_len / p.train_len,
          "n_windows": p.eval_windows, "models": model_info, "acc": acc, "c5": c5, "c6": c6, "c7": c7, "c8": c8}
    m["lm"] = lm
    for d, v in m["ident"]["per_dim"].items():
        for r, st in v["steps"].items():
            arrays[f"steps_{d}_{r}"] = np.array(st)
    # the model's own head dimension at its test k, for the phase-step figure
    k = p.test_len / p.train_len
    for r in rx.RULES:
        arrays[f"steps_model_{r}"] = ri.phase_steps(model_info["std"]["head_dim"], p.rope_base, r, k)
    arrays["model_k"] = np.array(k)
    atomic_write_json(ctx.out("metrics"), m)
    save_npz(ctx.out("arrays"), arrays)
    draw_all(ctx.out("metrics"), ctx.out("arrays"), ctx.out("figures"))
