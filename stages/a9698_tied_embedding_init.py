"""kexue.fm/archives/9698 — re-exploring shared (tied) embeddings at the output of language models.

Stages: init_stats (numpy: C1 moments, bigram-model Monte Carlo grid for C2-C6) -> train (torch: real-model
step-0 losses of every variant on KJV, then the five training runs) -> evaluate (C7/C8 statistics + figures).
Computation lives in kexue.tied_embedding_init / kexue.tied_embedding_training / kexue.tied_embedding_figures.
"""
from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage, Table
from stages.a9698_stages import evaluate, init_stats, train

Rule = Literal["inv_sqrt_d", "gpt2", "log_n_over_d"]


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    # init_stats
    c1_dims: list[int] = Field(min_length=1, description="C1 widths d (card: 64, 256, 1024)")
    c1_samples: int = Field(ge=1000, le=10_000_000, description="C1 draws per d (A1 needs >= 20000)")
    grid_n: list[int] = Field(min_length=1, description="vocabulary sizes of the Monte Carlo grid")
    grid_d: list[int] = Field(min_length=1, description="widths of the Monte Carlo grid (even)")
    grid_sigmas: list[Rule] = Field(min_length=1, description="init-std rules of the grid")
    grid_rows: int = Field(ge=2, le=100_000, description="input tokens i simulated per grid cell")
    # corpus and model
    corpus_chars: Optional[int] = Field(default=None, ge=100_000, description="KJV prefix length (null = all)")
    vocab_words: int = Field(ge=16, le=50_000, description="top-V words of KJV (+ <unk>)")
    d: int = Field(ge=8, le=4096)
    layers: int = Field(ge=1, le=48)
    heads: int = Field(ge=1, le=64)
    ctx: int = Field(ge=4, le=4096, description="training context (tokens)")
    step0_windows: int = Field(ge=2, le=100_000, description="validation windows for the step-0 losses")
    # training
    seeds: int = Field(ge=1, le=10)
    steps: int = Field(ge=10, le=1_000_000)
    batch: int = Field(ge=1, le=4096)
    lr: float = Field(gt=0, le=1.0)
    warmup_frac: float = Field(ge=0, lt=0.5)
    weight_decay: float = Field(ge=0, le=1.0)
    grad_clip: float = Field(gt=0)
    eval_every: int = Field(ge=1)
    eval_windows: int = Field(ge=2, le=100_000)
    ckpt_every: int = Field(ge=1)
    # evaluate
    early_frac: float = Field(gt=0, le=1, description="C7: area under the val curve over this fraction of steps")
    loss_targets: list[float] = Field(min_length=1, description="val-loss targets for steps-to-target")

    @field_validator("c1_dims", "grid_n", "grid_d")
    @classmethod
    def _ints(cls, v):
        if any(x < 2 for x in v):
            raise ValueError(f"every size must be >= 2; got {v}")
        if len(set(v)) != len(v):
            raise ValueError(f"sizes must be distinct; got {v}")
        return v

    @field_validator("grid_d")
    @classmethod
    def _even(cls, v):
        if any(x % 2 for x in v):
            raise ValueError(f"grid widths must be even (half swap); got {v}")
        return v

    @field_validator("loss_targets")
    @classmethod
    def _targets(cls, v):
        if any(not (0 < t < 50) for t in v):
            raise ValueError(f"loss targets are cross-entropies in nats, 0 < target < 50; got {v}")
        return v

    @model_validator(mode="after")
    def _cross(self):
        if self.d % self.heads or (self.d // self.heads) % 2:
            raise ValueError(f"d = {self.d} must split into {self.heads} heads of even size (RoPE pairs)")
        if self.eval_every > self.early_frac * self.steps:
            raise ValueError(f"eval_every = {self.eval_every} > early_frac * steps = {self.early_frac * self.steps}: "
                             "C7's early window would hold a single evaluation; evaluate more often")
        return self


# ------------------------------------------------------------------------ claims
def _s0(m, v, key="all"):
    return m["step0"][v][key]


def _fmt(e):
    return f"{e['mean']:.3f} [{e['lo']:.3f}, {e['hi']:.3f}] (n = {e['n']})"


def _c1(m, profile):
    c = m["c1"]
    ok = c["max_abs_z"] <= 4 and c["samples"] >= 20_000
    parts = [f"d={r['d']}: " + ", ".join(f"{k} {q['mc']:.4g} (z {q['z']:+.2f})" for k, q in r["quantities"].items())
             for r in c["per_d"]]
    return Outcome(f"max |z| = {c['max_abs_z']:.2f} over d ∈ {[r['d'] for r in c['per_d']]}", ok,
                   f"{c['samples']} draws per d at σ² = 1/d; " + "; ".join(parts))


def _c2(m, profile):
    e, pr = _s0(m, "tied_naive", "other"), m["step0"]["tied_naive"]["pred"]
    r_sharp, r_art = abs(e["mean"] / pr["sharp"] - 1), abs(e["mean"] / pr["article"] - 1)
    g = m["grid"]
    return Outcome(f"tied_naive step-0 loss on j ≠ i = {_fmt(e)}; sharp {pr['sharp']:.3f} (off {r_sharp:.1%}), "
                   f"article {pr['article']:.3f} (off {r_art:.1%})", r_sharp <= 0.03 and r_art <= 0.08,
                   f"corpus {m['corpus']['corpus']} (n = {m['model']['n']}, d = {m['model']['d']}, "
                   f"σ = 1/√d); bigram Monte Carlo grid ({g['cells']} cells, {g['rows_per_cell']} input tokens each): "
                   f"max |MC − sharp| = {g['tied_max_abs_err_sharp']:.3f}, max |MC − article| = "
                   f"{g['tied_max_abs_err_article']:.3f} nats")


def _c3(m, profile):
    a = m["grid"]["a3"]
    ok = a["n_big"] > 0 and a["n_small"] > 0 and not a["big_fail"] and not a["small_fail"]
    big = next((r for r in m["grid_table"] if r["n"] == max(m["grid"]["n"]) and r["d"] == max(m["grid"]["d"])
                and r["sigma"] == "inv_sqrt_d"), None)
    ex = (f"; e.g. n = {big['n']}, d = {big['d']}, σ = 1/√d: MC {big['mc_tied']} vs log n {big['log_n']}"
          if big else "")
    return Outcome(f"{a['n_big']} cells with dσ > log n + 3: min excess {a['min_big_excess']:.2f} nats (need > 2); "
                   f"{a['n_small']} cells with dσ < log n − 3: max excess {a['max_small_excess']:.3f} (need < 1)",
                   ok, f"failing cells: {a['big_fail'] + a['small_fail']}{ex}")


def _c4(m, profile):
    e, log_n = _s0(m, "tied_small"), m["step0"]["tied_small"]["pred"]["log_n"]
    lo, hi = log_n - 0.1, log_n + math.log(2) + 0.3
    return Outcome(f"tied_small (σ = log n/d) step-0 loss = {_fmt(e)}; interval [{lo:.3f}, {hi:.3f}]",
                   lo <= e["mean"] <= hi,
                   f"j ≠ i: {_s0(m, 'tied_small', 'other')['mean']:.3f}; log(2n − 1) = "
                   f"{math.log(2 * m['model']['n'] - 1):.3f}; sharp {m['step0']['tied_small']['pred']['sharp']:.3f}; "
                   f"grid max MC − log(2n − 1) = {m['grid']['small_sigma_max_excess_over_log_2n']:.3f}")


def _c5(m, profile):
    naive = _s0(m, "tied_naive")["mean"]
    ok, parts = True, []
    for v in ("untied", "tied_orth", "tied_swap"):
        e, pr = _s0(m, v), m["step0"][v]["pred"]
        lo, hi = pr["log_n"] - 0.1, pr["log_n"] + pr["half_d_sigma2"] + 0.3
        gap = naive - e["mean"]
        good = lo <= e["mean"] <= hi and (profile == "smoke" or gap >= 3)
        ok &= good
        parts.append(f"{v} {e['mean']:.3f} (gap {gap:.2f})")
    pr = m["step0"]["untied"]["pred"]
    return Outcome("; ".join(parts) + f"; interval [{pr['log_n'] - 0.1:.3f}, "
                   f"{pr['log_n'] + pr['half_d_sigma2'] + 0.3:.3f}]", ok,
                   f"tied_naive {naive:.3f}; gap ≥ 3 nats required at default/full (card), not at smoke "
                   f"(dσ − log n = {pr['d_sigma'] - pr['log_n']:.2f} there); tied_bert "
                   f"{_s0(m, 'tied_bert')['mean']:.3f}, tied_gpt2 {_s0(m, 'tied_gpt2')['mean']:.3f}; "
                   f"grid max |MC − (log n + dσ²/2)| = {m['grid']['fixes_max_abs_err']:.3f}")


def _c6(m, profile):
    s = m["step0"]["tied_naive"]
    e, pr = s["self"], s["pred"]
    if e is None:
        return Outcome(f"only {s['n_self']} positions with j = i: no estimate", False, "use more step0_windows")
    return Outcome(f"tied_naive step-0 loss on j = i = {_fmt(e)} (need < 1.0; dσ − log n = "
                   f"{pr['d_sigma'] - pr['log_n']:.2f})", e["mean"] < 1.0,
                   f"repeated input tokens {s['self_tokens'][:8]} (the step-0 loss depends on the token only, so "
                   f"the interval over positions is narrow); prediction log(1 + (n−1)e^(dσ²/2 − dσ)) = {pr['self']:.4f}; on j ≠ i {s['other']['mean']:.3f}; "
                   f"grid max |MC − prediction| = {m['grid']['tied_self_max_abs_err']:.3f}; standard (non-zero) "
                   f"residual init: j ≠ i {_s0(m, 'tied_naive_stdinit', 'other')['mean']:.3f}")


def _c7(m, profile):
    t = m["training"]
    per = t["per_variant"]
    ok = t["slowest_early"] == "tied_small" and t["fixes_auc_spread"] <= 0.05
    return Outcome(f"mean val loss over the first {t['early_frac']:.0%}: " + ", ".join(
        f"{v} {per[v]['auc_early']:.3f}" for v in ("tied_small", "untied", "tied_orth", "tied_swap"))
        + f"; slowest {t['slowest_early']}; spread of the other three {t['fixes_auc_spread']:.1%}", ok,
        f"{t['seeds']} seed(s); tied_naive {per['tied_naive']['auc_early']:.3f}; need tied_small largest and "
        "spread ≤ 5%")


def _c8(m, profile):
    t = m["training"]
    tol = 0.03 if profile == "full" else 0.10
    per = t["per_variant"]
    return Outcome(f"final val loss: " + ", ".join(f"{v} {per[v]['final']:.3f}" for v in per)
                   + f"; (max − min)/min = {t['final_spread']:.1%}", t["final_spread"] <= tol,
                   f"tolerance {tol:.0%} ({'full' if profile == 'full' else 'default'} per the card); "
                   f"{t['seeds']} seed(s), seed-averaged")


SUMMARY = r"""
Tying the output matrix to the input embedding saves an $n\times d$ matrix, but when the residual branches
start at zero the initial network is a *tied bigram model*: after input token $i$ the logit of token $k$ is
$\mathrm{RMSNorm}(\boldsymbol w_i)\cdot\boldsymbol w_k$. The self logit is about $d\sigma$, every other one is
$\mathcal N(0,d\sigma^2)$, and since real text rarely repeats a token the initial loss is about
$\log(e^{d\sigma}+(n-1)e^{d\sigma^2/2})$: with $\sigma=1/\sqrt d$ that is $\approx\sqrt d$, far above the
uniform $\log n$. Fixes: $\sigma=\log n/d$, untying, a random orthogonal map after the final norm, or swapping the
two halves of the normalised state.

We check the Gaussian moment facts and the closed forms by Monte Carlo on an $(n,d,\sigma)$ grid, measure the
step-0 loss of the shared GPT (zero-initialised residual branches) on the King James Bible at word level
(corpus `kjv:word`, top-$V$ words plus `<unk>`), split into positions whose target differs from the input
($j\ne i$) and equals it ($j=i$), and train the five variants to compare speed and final loss.
"""

ARTICLE = Article(
    id="9698",
    slug="tied-embedding-init",
    key="a9698",
    title="Re-exploring Shared Embeddings at the Output of Language Models",
    title_zh="语言模型输出端共享Embedding的重新探索",
    date="2023-07-20",
    url="https://kexue.fm/archives/9698",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("init_stats", init_stats,
              outs={"metrics": "data/9698/init_stats.json", "grid": "data/9698/grid.json"},
              params=("c1_dims", "c1_samples", "grid_n", "grid_d", "grid_sigmas", "grid_rows"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=5),
        Stage("train", train, deps={"kjv": "data/kjv/kjv.txt"},
              outs={"metrics": "data/9698/train.json", "curves": "data/9698/curves.npz"},
              params=("corpus_chars", "vocab_words", "d", "layers", "heads", "ctx", "step0_windows", "seeds",
                      "steps", "batch", "lr", "warmup_frac", "weight_decay", "grad_clip", "eval_every",
                      "eval_windows", "ckpt_every"),
              persist={"ckpt": "data/9698/ckpt/"}, metrics="metrics", device=True, kind="train",
              mem_mb=3000, runtime_min=30),
        Stage("evaluate", evaluate,
              deps={"curves": "data/9698/curves.npz", "grid": "data/9698/grid.json",
                    "init_metrics": "data/9698/init_stats.json", "train_metrics": "data/9698/train.json"},
              outs={"metrics": "data/9698/evaluate.json", "figures": "data/9698/figures/"},
              params=("early_frac", "loss_targets"), metrics="metrics", kind="figure", runtime_min=3),
    ),
    claims=(
        Claim("C1", r"For $\boldsymbol w,\boldsymbol v$ with i.i.d. $\mathcal N(0,\sigma^2)$ entries: "
                    r"$\mathbb E\|\boldsymbol w\|^2=d\sigma^2$, $\mathrm{Var}\|\boldsymbol w\|^2=2d\sigma^4$, "
                    r"$\mathbb E[\boldsymbol w\cdot\boldsymbol v]=0$, $\mathbb E[(\boldsymbol w\cdot\boldsymbol v)^2]=d\sigma^4$.",
              "article (its text says 1/d³ for the last at σ² = 1/d: a slip, d σ⁴ = 1/d)", _c1),
        Claim("C2", r"A tied model with zero residual branches has initial loss on $j\ne i$ of about "
                    r"$\log(e^{d\sigma}+(n-1))$; sharper: $\log(e^{d\sigma}+(n-1)e^{d\sigma^2/2})$.",
              "card: within 3% of the sharp and 8% of the article's formula", _c2),
        Claim("C3", r"With $\sigma^2=1/d$ the tied initial loss is $\approx\sqrt d$ and exceeds $\log n$ whenever "
                    r"$d\sigma>\log n$; with $d\sigma<\log n$ there is no blow-up.",
              "d = 768, n = 30000: about 27.7 vs 10.3", _c3),
        Claim("C4", r"With $\sigma=(\log n)/d$ the tied initial loss is of order $\log n$ "
                    r"(prediction $\log(2n-1)$).", "log n + log 2", _c4),
        Claim("C5", r"Untying, a random orthogonal projection after the final norm, and the half swap each bring "
                    r"the initial loss back to $\approx\log n+d\sigma^2/2$ at $\sigma=1/\sqrt d$.",
              "log n (+ d σ²/2)", _c5),
        Claim("C6", r"On targets equal to the input ($j=i$) the naive tied model's initial loss is small, "
                    r"$\approx\log(1+(n-1)e^{d\sigma^2/2-d\sigma})$.", "< 1 nat (card, derived)", _c6,
              expected_at=("default", "full"),
              note="The card's check needs dσ − log n > 3, which holds at default/full but not at smoke."),
        Claim("C7", r"Training speed: $\sigma=(\log n)/d$ is the slowest of the four fixes; untied, orthogonal "
                    r"projection and swap are similar.", "author's experience, unquantified", _c7,
              expected_at=("full",),
              note="The card asserts this at full only; default reports it (250 steps, 1 seed)."),
        Claim("C8", r"Final losses of all five variants are roughly equal (no gain over plain tying).",
              "author's experience; card tolerance 3% (full), 10% (default)", _c8,
              expected_at=("default", "full"),
              note="The card gives the check at full (3%) and at default (10%); a failure is a finding."),
    ),
    figures=(
        Figure("init_loss_heatmap.png", "Tied initial loss above log n",
               "Predicted tied step-0 loss on j ≠ i (sharp formula) minus log n over (d, σ), one panel per n; the "
               "dashed line is dσ = log n; circles are the Monte Carlo cells coloured on the same scale.",
               "init_stats"),
        Figure("c1_moments.png", "C1: Gaussian moment facts",
               "Left: Monte Carlo estimate (95% CI) against the formula for E|w|², Var|w|², E(w·v)² at σ² = 1/d. "
               "Right: the standardised error of all four estimates; the band is ±4 standard errors.",
               "init_stats"),
        Figure("step0_losses.png", "Step-0 loss per variant",
               "Step-0 validation cross-entropy of the shared GPT per variant, split into targets j ≠ i and j = i "
               "(95% CI); dashed: log n; dotted: the C2 prediction for tied_naive.", "train"),
        Figure("val_curves.png", "Validation loss during training",
               "Validation loss against step + 1 (log scale) per variant; bands are 95% intervals over seeds "
               "(none with one seed).", "train"),
    ),
    tables=(
        Table("grid_table", "Monte Carlo grid (tied head)",
              "Bigram-model Monte Carlo: mean loss over j ≠ i of the tied and untied heads next to the closed forms, "
              "and the tied loss on j = i.",
              (("n", "n"), ("d", "d"), ("σ rule", "sigma"), ("dσ", "d_sigma"), ("log n", "log_n"),
               ("MC tied", "mc_tied"), ("sharp", "sharp"), ("article", "article"), ("MC untied", "mc_untied"),
               ("MC tied j=i", "mc_self"))),
        Table("training_table", "Training summary (seed 0 steps-to-target)",
              "Step-0 and final validation loss, mean over the first early_frac of training, and the first "
              "evaluated step at which the val loss reached each target (seed 0; None = never).",
              (("variant", "variant"), ("step-0 val", "step0_val"), ("early mean", "auc_early"),
               ("final val", "final_val"))),
    ),
)
