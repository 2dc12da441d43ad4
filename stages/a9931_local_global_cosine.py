"""kexue.fm/archives/9931 — if every local (group-wise) cosine is high, is the global one?

Stages: numerics (C1–C7, numpy) -> adam (C8 training) -> evaluate (C8 statistics) -> figures.
This module declares the article (parameters, claims and their checks, figures); the stage
functions live in stages/a9931_stages.py, so editing a claim re-renders the report without
retraining, and heavy code lives in kexue.groupwise_cosine and kexue.cosine_training.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9931_stages import SKIP_STEPS, TOL, adam, evaluate, figures, numerics


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    identity_draws: int = Field(ge=10, le=10_000_000, description="C2 random draws (D in [2,200], K in [2,10])")
    search_draws: int = Field(ge=60, le=100_000_000, description="random instances per sign class (C4/C5)")
    adv_starts: int = Field(ge=1, le=10_000, description="adversarial L-BFGS-B starts per bound and sign class")
    ce_lambdas: list[float] = Field(min_length=1, description="C3 local cosine levels, each in (0, 1)")
    eps_values: list[float] = Field(min_length=2, description="C3 epsilons, each in (0, 1)")
    simpson_n: int = Field(ge=3, le=1_000_000, description="points per Simpson group")
    dataset: Literal["digits", "fashion_mnist"]
    n_train: int = Field(ge=200, le=60_000, description="training images used by C8")
    hidden: int = Field(ge=4, le=16_384)
    depth: int = Field(ge=1, le=8, description="hidden layers of the MLP")
    steps: int = Field(ge=SKIP_STEPS + 2, le=1_000_000)
    lr: float = Field(gt=0, le=1.0)
    batch: int = Field(ge=1, le=8192)
    lambdas: list[float] = Field(min_length=1, description="C8 clipping thresholds, each in [-1, 1)")
    ckpt_every: int = Field(ge=1, le=1_000_000, description="C8 checkpoint interval in steps")

    @field_validator("ce_lambdas", "eps_values")
    @classmethod
    def _open_unit(cls, v):
        bad = [x for x in v if not 0 < x < 1]
        if bad:
            raise ValueError(f"values must lie in (0, 1); got {bad}")
        return v

    @field_validator("eps_values")
    @classmethod
    def _card_eps(cls, v):
        if not any(abs(x - 1e-6) <= 1e-18 for x in v):
            raise ValueError("must include 1e-6, the ε at which the card's C3 check is made")
        return v

    @field_validator("lambdas")
    @classmethod
    def _lam(cls, v):
        bad = [x for x in v if not -1 <= x < 1]
        if bad:
            raise ValueError(f"thresholds must lie in [-1, 1); got {bad}")
        if len(set(v)) != len(v):
            raise ValueError(f"thresholds must be distinct; got {v}")
        if 0.2 not in v:
            raise ValueError("must include 0.2, the λ of the card's C8 check")
        return v


# ------------------------------------------------------------------------ claims
def _c1(m, profile):
    c = m["c1"]
    ok = c["abs_err"] <= 1e-6 and all(abs(v - 1) <= 1e-12 for v in c["local"])
    return Outcome(f"cos = {c['cos']:.6f}, local = {c['local']}", ok, f"|cos − 3/√10| = {c['abs_err']:.1e}")


def _c2(m, profile):
    c = m["c2"]
    err = max(c["max_ident_err"], c["search_max_ident_err"])
    return Outcome(f"max identity error {err:.1e}", err <= 1e-10,
                   f"{c['draws']} partition draws (max err {c['max_ident_err']:.1e}, refinement "
                   f"cos(a,b)·c̄_w err {c['max_refine_err']:.1e}) + {c['search_instances']} search instances "
                   f"(max err {c['search_max_ident_err']:.1e})")


def _c3(m, profile):
    per = m["c3"]["per_lambda"]
    ok, parts = True, []
    for lam, r in per.items():
        at = min(range(len(r["eps"])), key=lambda i: abs(math.log(r["eps"][i] / 1e-6)))  # the card's ε = 1e-6
        good = (r["glob"][at] < 1e-4 and min(r["min_local"]) >= float(lam) - TOL and min(r["glob"]) > 0)
        ok &= good
        parts.append(f"λ={lam}: global {r['glob'][at]:.2e} at ε={r['eps'][at]:g}")
    ratio = [x for r in per.values() for x in r["ratio_to_2_lam_eps"]]
    return Outcome("; ".join(parts), ok,
                   f"global/(2λε) in [{min(ratio):.4f}, {max(ratio):.4f}]; all global > 0; locals ≥ λ − 1e-12")


def _c4(m, profile):
    c = m["c4"]
    rn, rm = c["random"]["nonneg"], c["random"]["mixed"]
    an, am = c["adversarial"]["nonneg_upper"], c["adversarial"]["mixed_upper"]
    viol = rn["upper_violations"] + rm["upper_violations"] + an["violations"] + am["violations"]
    refine = rn["refine_upper_violations"] + rn["refine_lower_violations"]
    excess = max(rn["upper_max_excess"], rm["upper_max_excess"], an["max_excess"], am["max_excess"])
    return Outcome(f"{viol} violations of cos ≤ max c_k in {rn['n'] + rm['n']} random + "
                   f"{an['starts'] + am['starts']} adversarial; refinement violations {refine}",
                   viol == 0 and refine == 0,
                   f"largest cos − max c_k found: {excess:.2e} (adversarial nonneg {an['max_excess']:.2e})")


def _c5(m, profile):
    c = m["c5"]
    rneg, rmix, adv = c["random"]["neg"], c["random"]["mixed"], c["adversarial"]
    neg_lower = rneg["lower_violations"] + adv["neg_lower"]["violations"]
    neg_upper = rneg["upper_violations"] + adv["neg_upper"]["violations"] + int(c["orthogonal_construction"]["upper_violated"])
    mixed = (rmix["upper_violations"] + rmix["lower_violations"] + adv["mixed_upper"]["violations"]
             + adv["mixed_lower"]["violations"])
    ok = neg_lower == 0 and neg_upper >= 1 and mixed == 0
    return Outcome(f"all-negative: {neg_lower} lower-bound violations, {neg_upper} upper-bound violations found; "
                   f"mixed: {mixed} violations", ok,
                   f"a ⊥ b construction: locals {c['orthogonal_construction']['local']}, global "
                   f"{c['orthogonal_construction']['glob']:.1e}; largest cos − max c_k (all negative): "
                   f"{max(rneg['upper_max_excess'], adv['neg_upper']['max_excess']):.3f}")


def _c6(m, profile):
    c = m["c6"]
    return Outcome(f"max |pearsonr − cos(centred)| = {c['max_abs_diff']:.1e}", c["max_abs_diff"] <= 1e-12,
                   f"{c['trials']} random data sets")


def _c7(m, profile):
    c = m["c7"]
    ok = min(c["r_group1"], c["r_group2"]) >= 0.999999 and c["r_pooled"] < 0 and c["slope_pooled"] < 0
    return Outcome(f"within r = {c['r_group1']:.6f}, {c['r_group2']:.6f}; pooled r = {c['r_pooled']:.3f}, "
                   f"pooled slope = {c['slope_pooled']:.3f}", ok,
                   f"uncentred cosine of the pooled data stays {c['cos_pooled_uncentred']:.3f}")


def _c8(m, profile):
    r = m["c8"]["per_lambda"]["0.2"]
    frac, n = r["frac_global_below_min_local"], r["n_global_below_min_local"]
    ok = n >= 1 if profile == "smoke" else frac >= 0.5
    return Outcome(f"λ=0.2: global < min local at {frac:.0%} of steps ({n}/{r['steps_counted']}) after step "
                   f"{m['c8']['skip_steps']}", ok,
                   f"min global {r['min_global']:.3f}; mean cos(a,b) {r['cos_ab']['mean']:.3f}; "
                   f"threshold {'≥ 1 step (smoke)' if profile == 'smoke' else '≥ 50% of steps'}")


SUMMARY = r"""
Split two vectors into groups (for a network: its parameter tensors). With group norms
$a_k=\|x_k\|$, $b_k=\|y_k\|$ and local cosines $c_k=\cos(x_k,y_k)$ the global cosine is
$\cos(x,y)=\sum_k c_k a_k b_k/(\|a\|\|b\|)=\cos(a,b)\,\bar c_w$, the $a_kb_k$-weighted mean of the
local cosines shrunk by the cosine of the two norm vectors. So high local cosines do not imply a
high global cosine: when the norm vectors point in different directions the global cosine can be
made arbitrarily small, while it never exceeds the largest local cosine if that one is
non-negative. The article met this when forcing per-parameter cosines of an optimizer's update
with the gradient above a threshold: the global cosine still fell below it. Pearson correlation is
the cosine of centred data, and there centring lets the sign flip (Simpson's paradox).

We check the identity, the counterexample, the bounds (with random and adversarial search), the
Pearson/Simpson link, and rerun the optimizer observation with Adam on an MLP whose per-tensor
update cosines are clipped to at least $\lambda$ (norm preserved).
"""

ARTICLE = Article(
    id="9931",
    slug="local-vs-global-cosine",
    key="a9931",
    title="If Local Cosine Similarity Is High, Must Global Cosine Similarity Also Be High?",
    title_zh="局部余弦相似度大,全局余弦相似度一定也大吗?",
    date="2024-01-09",
    url="https://kexue.fm/archives/9931",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("numerics", numerics,
              outs={"metrics": "data/9931/numerics.json", "arrays": "data/9931/numerics_arrays.npz"},
              params=("identity_draws", "search_draws", "adv_starts", "ce_lambdas", "eps_values", "simpson_n"),
              metrics="metrics", kind="eval", runtime_min=5),
        Stage("adam", adam,
              deps={"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz"},
              outs={"traces": "data/9931/adam_traces.npz", "summary": "data/9931/adam_summary.json"},
              params=("dataset", "n_train", "hidden", "depth", "steps", "lr", "batch", "lambdas", "ckpt_every"),
              persist={"ckpt": "data/9931/adam_ckpt/"}, metrics="summary", device=True, kind="train",
              mem_mb=3000, runtime_min=30),
        Stage("evaluate", evaluate, deps={"traces": "data/9931/adam_traces.npz"},
              outs={"metrics": "data/9931/evaluate.json"}, metrics="metrics", kind="eval", runtime_min=2),
        Stage("figures", figures,
              deps={"arrays": "data/9931/numerics_arrays.npz", "traces": "data/9931/adam_traces.npz"},
              outs={"figures": "data/9931/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=(
        Claim("C1", r"For $x=(1,1)$, $y=(1,2)$ both local (per-coordinate) cosines are 1 but "
                    r"$\cos(x,y)=3/\sqrt{10}<1$.",
              "3/√10 = 0.948683; local cosines 1", _c1),
        Claim("C2", r"For any partition into $K$ groups, $\cos(x,y)=\sum_k c_k a_k b_k/(\|a\|\|b\|)$.",
              "exact identity (max error ≤ 1e-10)", _c2),
        Claim("C3", r"No lower bound: all local cosines $\ge\lambda$ yet the global cosine is below any "
                    r"$\delta>0$ (and still positive).",
              "global ≈ 2λε → 0 as ε → 0", _c3),
        Claim("C4", r"If all $c_k\ge0$ then $\cos(x,y)\le\max_k c_k$; refinement "
                    r"$\cos(a,b)\min_k c_k\le\cos(x,y)\le\cos(a,b)\max_k c_k$.",
              "zero violations", _c4),
        Claim("C5", r"If all $c_k<0$ the upper bound can fail (e.g. $a\perp b$) while "
                    r"$\cos(x,y)\ge\min_k c_k$; with mixed signs $\min_k c_k\le\cos(x,y)\le\max_k c_k$.",
              "the article: the bound 'needs adjusting' for negative values", _c5),
        Claim("C6", r"Pearson's $r$ equals $\cos(x-\bar x,\,y-\bar y)$.", "exact identity", _c6),
        Claim("C7", r"Groups each with Pearson $r=1$ can pool to $r<0$ (Simpson's paradox).",
              "article figure: two rising groups, falling pooled fit", _c7),
        Claim("C8", r"During Adam training the global update–gradient cosine is frequently below the smallest "
                    r"per-tensor cosine, even with per-tensor cosines clipped to $\ge\lambda$.",
              "article: observed, no numbers; card pilot 87% of steps at λ = 0.2", _c8,
              note="Smoke (digits, 100 steps) only asks for at least one such step, as the card says."),
    ),
    figures=(
        Figure("eps_scaling.png", "Global cosine vs ε",
               "Counterexample of C3: both local cosines equal λ, the global cosine falls like 2λε.",
               "numerics"),
        Figure("bounds_scatter.png", "Global vs extreme local cosines",
               "Random instances (C4/C5) by sign class: global cosine against the largest (left) and smallest "
               "(right) local cosine; the line is y = x.", "numerics"),
        Figure("simpson.png", "Simpson's paradox",
               "C7: each group lies on a rising line (r = 1); the dashed pooled least-squares line falls.",
               "numerics"),
        Figure("training_cosines.png", "Adam: per-tensor vs global cosine",
               "C8: per-tensor update–gradient cosines after clipping (thin grey), global cosine (thick), the "
               "threshold λ (dashed) and cos(a, b) of the per-tensor norm vectors, which pulls the global "
               "cosine below the local ones.", "adam"),
    ),
)
