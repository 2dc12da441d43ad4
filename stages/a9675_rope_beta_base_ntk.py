"""kexue.fm/archives/9675 — RoPE is a base-beta encoding; NTK-aware scaling vs position interpolation.

Stages: train (KJV characters, fixed test windows, `std` and `logn` GPTs at L_train) -> evaluate (C1-C4 exact
identities in float64; C5-C8 accuracies of 3 position rules x 2 trainings x 4 test sets; the figures).
This module declares the article (parameters, claims, figures); the stage functions live in
stages/a9675_stages.py and the computation in kexue.rope_identities / kexue.rope_extrapolation.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9675_stages import evaluate, train


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    d: int = Field(ge=8, le=4096, description="model width")
    layers: int = Field(ge=1, le=64)
    heads: int = Field(ge=1, le=64)
    rope_base: float = Field(gt=1, le=1e9, description="RoPE base (10000 in the article); must be > 1")
    train_len: int = Field(ge=4, le=8192, description="training context L_train (even)")
    test_len: int = Field(ge=16, le=65536, description="test length L_test; k = L_test / L_train")
    batch: int = Field(ge=1, le=4096)
    steps: int = Field(ge=1, le=1_000_000, description="optimisation steps per training")
    lr: float = Field(gt=0, le=1.0, description="AdamW peak learning rate (cosine decay)")
    warmup: int = Field(ge=1, le=100_000)
    weight_decay: float = Field(ge=0, le=1.0)
    grad_clip: float = Field(gt=0, le=100.0)
    ckpt_every: int = Field(ge=1, le=1_000_000)
    eval_windows: int = Field(ge=3, le=100_000, description="windows per test set (confidence intervals need >= 3)")
    eval_batch: int = Field(ge=1, le=4096)
    bucket: int = Field(ge=1, le=65536, description="position bucket width of the accuracy-vs-position curves")
    identity_dims: list[int] = Field(min_length=1, description="head dimensions of the C1-C4 checks")

    @field_validator("identity_dims")
    @classmethod
    def _dims(cls, v):
        bad = [d for d in v if d < 8 or d % 2]
        if bad:
            raise ValueError(f"head dimensions must be even and >= 8; got {bad}")
        if 128 not in v:
            raise ValueError("must include 128, where the card's lambda = 1.03356 and base factor 8.2685 are checked")
        return v

    @model_validator(mode="after")
    def _shapes(self):
        if self.d % self.heads or (self.d // self.heads) % 2 or self.d // self.heads < 4:
            raise ValueError(f"d = {self.d} must split into {self.heads} heads of even size >= 4 (RoPE pairs; "
                             "NTK scaling needs head dim >= 4)")
        if self.train_len % 2:
            raise ValueError(f"train_len = {self.train_len} must be even (the copy test repeats L_train/2)")
        if self.test_len <= 2 * self.train_len:
            raise ValueError(f"test_len = {self.test_len} must exceed 2 * train_len = {2 * self.train_len} (the "
                             "repeated chunk of 2 L_train must occur at least twice)")
        if self.warmup >= self.steps and self.steps > 1:
            raise ValueError(f"warmup = {self.warmup} must be below steps = {self.steps}")
        if self.test_len % self.bucket:
            raise ValueError(f"bucket = {self.bucket} must divide test_len = {self.test_len}")
        return self


# ------------------------------------------------------------------------------------------ claims
TOL = 1e-12


def _c1(m, profile):
    per = m["ident"]["per_dim"]
    err = max(max(v["c1_err_beta"], v["c1_err_base"]) for v in per.values())
    return Outcome(f"max |θ_m − β^(−m)| = {err:.1e} over d ∈ {m['ident']['dims']}", err <= TOL,
                   "; ".join(f"d = {d}: β = {v['beta']:.6f}" for d, v in per.items()))


def _c2(m, profile):
    per, sp = m["ident"]["per_dim"], m["spot"]
    ok = abs(sp["lambda"] - 1.03356) <= 1e-5 and abs(sp["base_factor"] - 8.2685) <= 1e-4
    for v in per.values():
        ok &= (v["c2_ratio_err"] <= TOL and abs(v["c2_ratio_m0"] - 1) <= TOL
               and abs(v["c2_ratio_m1"] - v["inv_lambda"]) <= TOL and abs(v["c2_lowest_vs_pi"] - 1) <= TOL)
    worst = max(max(v["c2_ratio_err"], abs(v["c2_lowest_vs_pi"] - 1)) for v in per.values())
    v128 = per["128"]
    return Outcome(f"λ(128, 8) = {sp['lambda']:.5f}, base factor {sp['base_factor']:.4f}; max ratio error {worst:.1e}",
                   ok, f"with base·k instead (the article's approximation) the lowest frequency is "
                       f"{v128['article_lowest_vs_pi']:.4f} × PI's at d = 128 (not 1); k^(2/d) = "
                       f"{sp['approx_lambda']:.5f} vs λ = {sp['lambda']:.5f}")


def _c3(m, profile):
    t = m["toy"]
    return Outcome(f"1749 = {t['1749_base16']} in base 16; 16³−1 = {t['base16_max_3digits']}; "
                   f"⌈2000^(1/3)⌉ = {t['ceil_cuberoot_2000']} ({t['cube_below']} < 2000 ≤ {t['cube_at']})", t["ok"],
                   f"1999 needs {t['1999_base10_digits']} decimal digits but 3 in base 13: {t['1999_base13']}")


def _c4(m, profile):
    per = m["ident"]["per_dim"]
    ok = all(v["c4_pi_err"] <= TOL and v["c4_ntk_step_err"] <= TOL and v["c4_inner_strict"]
             and abs(v["c4_lowest_times_k"] - 1) <= TOL for v in per.values())
    v = per["128"]
    ok &= v["c4_min_first4"] >= 0.9
    return Outcome(f"d = 128, k = 8: NTK step ratio {v['c4_ratio_m1']:.3f} at m = 1, {v['c4_ratio_m15']:.3f} at "
                   f"m = 15, min over m ≤ 3 = {v['c4_min_first4']:.3f}, lowest × k = {v['c4_lowest_times_k']:.12f}; "
                   f"PI ratio = 1/k (max err {max(x['c4_pi_err'] for x in per.values()):.1e})", ok,
                   "NTK ratios strictly inside (1/k, 1) for 0 < m < d/2−1 at every d checked")


def _fmt(est):
    return f"{est['mean']:+.2f} [{est['lo']:+.2f}, {est['hi']:+.2f}] (n = {est['n']}, 95%)"


def _acc(m, tr, s, r, part="all"):
    return m["lm"]["acc"][tr][s][r][part]["mean"]


def _c5(m, profile):
    lm, c = m["lm"], m["lm"]["c5"]["std"]
    a = {r: _acc(m, "std", "natural", r) for r in ("ntk", "extrapolate", "pi")}
    margin = 5.0 if profile == "full" else 2.0
    ok = c["ntk_minus_baseline"]["mean"] > margin and c["baseline_minus_pi"]["mean"] > 1.0
    return Outcome(f"std, natural text at {lm['test_len']} (k = {lm['k']:g}): NTK {a['ntk']:.2f}% > baseline "
                   f"{a['extrapolate']:.2f}% > PI {a['pi']:.2f}%", ok,
                   f"NTK − baseline {_fmt(c['ntk_minus_baseline'])} (needs > {margin:g}); baseline − PI "
                   f"{_fmt(c['baseline_minus_pi'])} (needs > 1); logn training: NTK − baseline "
                   f"{_fmt(m['lm']['c5']['logn']['ntk_minus_baseline'])}; corpus {lm['corpus']}")


def _c6(m, profile):
    c6 = m["lm"]["c6"]
    worst = max(v["max_abs_acc_diff"] for v in c6.values())
    same = all(v["identical_predictions"] for v in c6.values())
    accs = {tr: _acc(m, tr, "train_len", "extrapolate") for tr in c6}
    return Outcome(f"max |accuracy difference| across rules at L_train = {worst:.1e}", worst < 1e-9 and same,
                   f"identical per-token predictions: {same}; accuracy at {m['lm']['train_len']}: "
                   + ", ".join(f"{tr} {v:.2f}%" for tr, v in accs.items()))


def _c7(m, profile):
    c7 = m["lm"]["c7"]
    ok = c7["natural"]["all"]["mean"] > 0 and c7["repeated"]["all"]["mean"] > 0
    return Outcome(f"NTK accuracy, logn − std: natural {c7['natural']['all']['mean']:+.2f}, repeated "
                   f"{c7['repeated']['all']['mean']:+.2f} points", ok,
                   f"natural {_fmt(c7['natural']['all'])}; repeated {_fmt(c7['repeated']['all'])}"
                   + ("" if ok or profile == "full" else "; not reproduced at this scale (as calibrated)"))


def _c8(m, profile):
    c8 = m["lm"]["c8"]
    pre, diff = c8["precondition"]["std"], c8["repeated_minus_natural"]["std"]
    cp = pre["copy_minus_natural"]
    pre_txt = (f"copy precondition (std): period-L_train/2 text − natural at L_train = {cp['mean']:+.2f} points "
               f"(needs ≥ +15)")
    rep_txt = f"NTK repeated − natural at positions ≥ L_train: {_fmt(diff)} (needs > +5)"
    if not pre["holds"]:
        return Outcome(f"untestable: copy precondition fails ({cp['mean']:+.2f} < +15 points); {rep_txt}", False,
                       f"{pre_txt}, {_fmt(cp)}: the model does not copy within its training length, so repeated "
                       f"text cannot beat natural text beyond it; logn: "
                       f"{c8['precondition']['logn']['copy_minus_natural']['mean']:+.2f} points")
    return Outcome(f"NTK repeated − natural (positions ≥ L_train) = {diff['mean']:+.2f} points", diff["mean"] > 5.0,
                   f"{pre_txt}: holds, {_fmt(cp)}; {rep_txt}")


SUMMARY = r"""
RoPE rotates pair $m$ of a head of size $d$ by $n\theta_m$ with $\theta_m=\beta^{-m}$, $\beta=10000^{2/d}$: the
phases $n/\beta^m$ are the "digits" of the position $n$ in base $\beta$, with cos/sin playing the role of the
periodic "mod". To read texts $k$ times longer than the training length there are three options, as for a
3-digit decimal code asked to reach 2000: extrapolate (change nothing; new high "digits" appear), interpolate
(PI: $n\to n/k$; neighbours crowd in every digit) or change the base (NTK-aware scaling: base $\to$ base$\cdot k^{d/(d-2)}$,
which keeps the highest frequencies and interpolates only the lowest one). The article's toy LM test at $k=8$ without
fine-tuning: NTK beats extrapolation, which beats PI; training with a $\log n$ attention scale helps NTK further,
and repeated texts are predicted better than natural ones.

We check the identities exactly (float64, no model), then train two small character-level GPTs on the King James
Bible (`std` and `logn` attention scale) at a short context and test them at $k$ times that length under every rule,
on natural and on repeated text, with the copy precondition that makes the repeated-text comparison meaningful.
"""

ARTICLE = Article(
    id="9675",
    slug="rope-beta-base-ntk",
    key="a9675",
    title="Transformer Upgrade Path 10: RoPE Is a β-Base Encoding",
    title_zh="Transformer升级之路：10、RoPE是一种β进制编码",
    date="2023-07-06",
    url="https://kexue.fm/archives/9675",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("train", train, deps={"kjv": "data/kjv/kjv.txt"},
              outs={"std": "data/9675/model_std.pt", "logn": "data/9675/model_logn.pt",
                    "sets": "data/9675/test_sets.npz", "summary": "data/9675/train.json"},
              params=("d", "layers", "heads", "rope_base", "train_len", "test_len", "batch", "steps", "lr", "warmup",
                      "weight_decay", "grad_clip", "ckpt_every", "eval_windows"),
              persist={"ckpt": "data/9675/ckpt/"}, metrics="summary", device=True, kind="train",
              mem_mb=3000, runtime_min=30),
        Stage("evaluate", evaluate,
              deps={"std": "data/9675/model_std.pt", "logn": "data/9675/model_logn.pt",
                    "sets": "data/9675/test_sets.npz"},
              outs={"metrics": "data/9675/evaluate.json", "arrays": "data/9675/evaluate_arrays.npz",
                    "figures": "data/9675/figures/"},
              params=("train_len", "test_len", "eval_windows", "eval_batch", "bucket", "identity_dims", "rope_base"),
              metrics="metrics", device=True, kind="eval", mem_mb=3000, runtime_min=10),
    ),
    claims=(
        Claim("C1", r"RoPE's $m$-th frequency is $\theta_m=\beta^{-m}$, $m=0..d/2-1$, with $\beta=10000^{2/d}$ "
                    r"(the same as $10000^{-2m/d}$): the phases $n/\beta^m$ are base-$\beta$ digits of $n$.",
              "exact identity (≤ 1e-12, d ∈ {32, 64, 128})", _c1),
        Claim("C2", r"NTK scaling with $\lambda=k^{2/(d-2)}$ multiplies frequency $m$ by $\lambda^{-m}$: $m=0$ is "
                    r"untouched, $m=1$ changes by $1/\lambda$, the lowest becomes exactly PI's $\theta_{d/2-1}/k$; "
                    r"i.e. base $10000\to10000\,k^{d/(d-2)}$ (not $10000k$).",
              "λ(d=128, k=8) = 1.03356; base factor 8.2685", _c2),
        Claim("C3", r"Base-conversion arithmetic: 1749 in base 16 is [6, 13, 5]; $16^3-1=4095\ge1999$; "
                    r"$\lceil 2000^{1/3}\rceil=13$.", "exact integers", _c3),
        Claim("C4", r"PI shrinks every frequency's per-position phase step by $k$; NTK keeps the high frequencies' "
                    r"steps nearly intact and shrinks only the low ones (to $1/k$ at the lowest).",
              "d = 128, k = 8: NTK ratio 0.968 at m = 1, 0.61 at m = 15, ≥ 0.9 for m ≤ 3", _c4),
        Claim("C5", r"Without fine-tuning, at $k$ times the training length: NTK accuracy > extrapolation (baseline) "
                    r"accuracy > PI accuracy.",
              "author (k = 8, 4096 non-repeated): NTK 39.27% > baseline 23.16% > PI 13.54%; card toy: "
              "28.3 / 23.1 / 18.4", _c5, expected_at=("default", "full"),
              note="Checked on the std training's natural text at L_test: NTK > baseline + 2 points and baseline > "
                   "PI + 1 point at default (full: NTK > baseline + 5). Smoke models are too small to extrapolate."),
        Claim("C6", r"At the training length all inference variants (baseline, PI, NTK, with $k=1$) give identical "
                    r"accuracy.", "author: 49.41% for all three (std), 49.40% (log n)", _c6),
        Claim("C7", r"Training with the $\log n$ attention scale and testing with NTK beats NTK without it at "
                    r"$k$ times the training length (natural and repeated text).",
              "author: 43.75% vs 39.27% (non-repeated), 61.71% vs 51.28% (repeated); card toy: 27.4 vs 28.3 "
              "(not reproduced)", _c7, expected_at=("full",),
              note="The card asserts C7 only at full; at default it is reported (calibration: log n gave no gain "
                   "at toy scale). n = keys visible to query i: factor log_{L_train}(i+1), in training and test."),
        Claim("C8", r"NTK accuracy on repeated long samples exceeds that on natural long samples (global dependence "
                    r"survives the rescaling).",
              "author: 51.28% repeated vs 39.27% non-repeated (NTK)", _c8, expected_at=("full",),
              note="Meaningful only if the model copies: precondition = text repeated with period L_train/2 at the "
                   "training length beats natural text by ≥ 15 points. If it fails the claim is reported "
                   "untestable (verdict fail with that text), never hidden; the card's toy runs never passed it. "
                   "Asserted at full; at default it counts only if the precondition holds."),
    ),
    figures=(
        Figure("accuracy_table.png", "Accuracy table (article layout)",
               "Token accuracy over all positions for the 6 model/rule pairs (rows) on natural text at the training "
               "length and on repeated and natural text at k times it (columns); KJV characters.", "evaluate"),
        Figure("accuracy_vs_position.png", "Accuracy vs position",
               "Accuracy per position bucket (mean over test windows, 95% CI band) for each rule; dotted line = "
               "training length. Extrapolation collapses past it, PI degrades everywhere, NTK degrades slowly.",
               "evaluate"),
        Figure("phase_steps.png", "Per-frequency phase step",
               "Radians per position for each frequency index under baseline, PI, NTK and the article's base·k "
               "(log scale): PI lowers every step by k, NTK only the low frequencies (C4).", "evaluate"),
        Figure("decimal_toy.png", "The decimal toy",
               "Codes of n for a 3-digit decimal code trained on n < 1000, extended to 2000 by extrapolation (a 4th "
               "digit), interpolation (n/2: a fractional last digit, e.g. 1749 -> [8, 7, 4.5]) or base 13 (3 digits, "
               "each digit's range stretched to 12); shaded orange: outside what training saw.", "evaluate"),
    ),
)
