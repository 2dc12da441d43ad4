"""kexue.fm/archives/10563 — how Adam's ε changes the learning-rate / batch-size scaling law.

Stages: moments (C1–C5: closed forms, quadrature, the article's approximations) ->
lr_curves (C6–C9: η*(B) of the exact per-coordinate model, the mean-field formula, Monte Carlo,
SGD limits) -> eps_fraction (C10: Adam's √v̂ against ε across MLP widths, torch) -> figures.
This module declares the article; the stage functions live in stages/a10563_stages.py and the
computation in kexue.softsign_moments, kexue.adam_eps_lr, kexue.adam_eps_analysis and
kexue.adam_eps_training.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage, Table
from stages.a10563_stages import D, eps_fraction, figures, lr_curves, moments

C4_B = (0.3, 1.0, 3.0)  # the card's C4 monotonicity check runs over these b


def _has(values, x):
    return any(abs(v - x) <= 1e-12 * max(1.0, abs(x)) for v in values)


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    # moments (C1–C5)
    a_points: int = Field(ge=5, le=100_001, description="a grid on [−a_max, a_max]; odd, so a = 0 is on it")
    a_max: float = Field(gt=0, le=50)
    b_values: list[float] = Field(min_length=3, description="b = ε√B/σ values, each > 0; must hold 0.3, 1, 3")
    b_far: float = Field(gt=0, description="the large b at which the second-moment approximation must be ≤ 0.01")
    erf_points: int = Field(ge=11, le=10_000_001)
    erf_x_max: float = Field(gt=0, le=50)
    hermite_n: int = Field(ge=2, le=2000, description="Gauss–Hermite nodes for the comparison column")
    # lr_curves (C6–C9)
    toy_n: int = Field(ge=2, le=4096)
    random_n: int = Field(ge=2, le=4096)
    rank1: float = Field(ge=0, le=1e3, description="weight of the sign(g)-aligned rank-1 term of H")
    B_log10_lo: float = Field(ge=0, le=12)
    B_log10_hi: float = Field(ge=0, le=12)
    B_points: int = Field(ge=3, le=10_001, description="log-spaced batch sizes (at least 3)")
    eps_values: list[float] = Field(min_length=2, description="ε values (≥ 0): must hold 0, one ≥ 1 and eps_large")
    eps_large: float = Field(gt=0, description="the large ε of C8/C9 (η*/ε divides by it)")
    eps_scan_points: int = Field(ge=3, le=10_001, description="log-spaced ε in [1e-3, 10] for the C6 scan")
    mc_samples: int = Field(ge=10, le=10_000_000)
    mc_B: list[float] = Field(min_length=3, description="batch sizes of the Monte Carlo check (each > 0)")
    mc_eps: list[float] = Field(min_length=1, description="ε values of the Monte Carlo check (each ≥ 0)")
    # eps_fraction (C10)
    dataset: Literal["digits", "fashion_mnist"]
    n_train: int = Field(ge=100, le=60_000)
    epochs: float = Field(gt=0, le=100)
    batch: int = Field(ge=1, le=8192)
    widths: list[int] = Field(min_length=2, description="hidden widths n of the MLP in-n-n-10, increasing")
    lr: float = Field(gt=0, le=1.0)
    adam_eps: float = Field(gt=0, le=1.0, description="torch Adam's ε (> 0)")
    ckpt_every: int = Field(ge=1, le=1_000_000)
    # empirical η*(B) lr sweeps (the `full` profile; an empty sweep_batches skips them)
    sweep_batches: list[int] = Field(description="batch sizes of the lr sweep ([] = no sweep)")
    sweep_lrs: list[float] = Field(min_length=3, description="learning rates tried per (ε, B), increasing")
    sweep_eps: list[float] = Field(min_length=1, description="Adam ε values of the sweep (each > 0)")
    sweep_steps: int = Field(ge=1, le=1_000_000)
    sweep_seeds: int = Field(ge=1, le=100)
    sweep_hidden: int = Field(ge=1, le=16_384)

    @field_validator("b_values")
    @classmethod
    def _b(cls, v):
        bad = [x for x in v if not (math.isfinite(x) and x > 0)]
        if bad:
            raise ValueError(f"b must be > 0 (b = ε√B/σ; the clip model divides by b); got {bad}")
        missing = [x for x in C4_B if not _has(v, x)]
        if missing:
            raise ValueError(f"must include {list(C4_B)} (the card's C4 check); missing {missing}")
        return sorted(v)

    @field_validator("eps_values", "mc_eps")
    @classmethod
    def _eps(cls, v):
        bad = [x for x in v if not (math.isfinite(x) and x >= 0)]
        if bad:
            raise ValueError(f"ε must be finite and ≥ 0 (0 is the SignSGD limit); got {bad}")
        return v

    @field_validator("mc_B")
    @classmethod
    def _mcb(cls, v):
        if any(not x > 0 for x in v) or any(y <= x for x, y in zip(v, v[1:])):
            raise ValueError(f"batch sizes must be > 0 and strictly increasing; got {v}")
        return v

    @field_validator("sweep_batches")
    @classmethod
    def _sweep_b(cls, v):
        if v and (len(v) < 3 or any(x < 1 for x in v) or any(y <= x for x, y in zip(v, v[1:]))):
            raise ValueError(f"a batch-size grid needs at least 3 increasing sizes ≥ 1 (or [] for no sweep); got {v}")
        return v

    @field_validator("sweep_lrs", "sweep_eps")
    @classmethod
    def _sweep_pos(cls, v):
        if any(not (math.isfinite(x) and x > 0) for x in v):
            raise ValueError(f"values must be finite and > 0; got {v}")
        return v

    @field_validator("widths")
    @classmethod
    def _widths(cls, v):
        if any(x < 1 for x in v) or any(y <= x for x, y in zip(v, v[1:])):
            raise ValueError(f"widths must be ≥ 1 and strictly increasing; got {v}")
        return v

    # cross-field rules as field validators (fields validate in declaration order), so that an
    # error names its own key in params.yaml
    @field_validator("a_points")
    @classmethod
    def _odd(cls, v):
        if v % 2 == 0:
            raise ValueError(f"must be odd so that a = 0 lies on the grid (C5's argmin check); got {v}")
        return v

    @field_validator("B_log10_hi")
    @classmethod
    def _b_range(cls, v, info: ValidationInfo):
        lo = info.data.get("B_log10_lo")
        if lo is not None and v <= lo:
            raise ValueError(f"must exceed B_log10_lo = {lo}; got {v}")
        return v

    @field_validator("eps_values")
    @classmethod
    def _eps_card(cls, v):
        if not _has(v, 0.0) or max(v) < 1:
            raise ValueError(f"must include 0 and a value ≥ 1 (the card's C7 check); got {v}")
        return v

    @field_validator("eps_large")
    @classmethod
    def _eps_large_in(cls, v, info: ValidationInfo):
        ev = info.data.get("eps_values")
        if ev is not None and not _has(ev, v):
            raise ValueError(f"must be one of eps_values {ev} (C8/C9 read that curve); got {v}")
        return v


# ------------------------------------------------------------------------ claims
def _mo(m):
    return m["moments"]


def _c1(m, profile):
    c = _mo(m)["c1"]
    ok = c["max_rel_err_large_eps"] <= 1e-6 and c["max_dev_sign"] <= 1e-12
    return Outcome(f"max |ε·softsign(x, ε) − x|/|x| = {c['max_rel_err_large_eps']:.1e} at ε = 1e6|x|; "
                   f"max |softsign(x, 1e-12) − sign(x)| = {c['max_dev_sign']:.1e} for |x| ≥ 1e-6",
                   ok, f"{c['n_x']} x with |x| in [{c['x_range'][0]:g}, {c['x_range'][1]:g}]; the exact gap to sign "
                       f"is ε²/(2x²) ≤ 5e-13, so '= sign(x)' is checked to 1e-12 "
                       f"({c['sign_exact_count']} of {c['n_x']} equal in float64)")


def _per_b(m):
    """Per-b metrics ordered by b (the JSON file sorts its keys as strings)."""
    return dict(sorted(_mo(m)["per_b"].items(), key=lambda kv: kv[1]["b"]))


def _c2(m, profile):
    pb = _per_b(m)
    err = max(v["clip_closed_vs_quad"] for v in pb.values())
    slope = max(v["slope0_err"] for v in pb.values())
    odd = max(v["odd_err"] for v in pb.values())
    inc = all(v["increasing"] for v in pb.values())
    rng = max(v["max_abs"] for v in pb.values())
    ok = err <= 1e-7 and slope <= 1e-6 and odd <= 1e-12 and inc and rng < 1
    art = max(v["clip_article_form_vs_quad"] for v in pb.values())
    return Outcome(f"closed form vs quad max err {err:.1e}; slope at 0 vs erf(b/√2)/b max err {slope:.1e}; "
                   f"odd to {odd:.0e}; increasing: {inc}; max |E| = {rng:.9f}", ok,
                   f"b ∈ {[v['b'] for v in pb.values()]}; slope for b = 1: "
                   f"{pb['1']['slope0_numeric']:.6f}; the article's literal erf form: max err {art:.1e}")


def _c3(m, profile):
    c = _mo(m)["c3"]
    return Outcome(f"max |erf(x) − x/√(x²+π/4)| = {c['max_err']:.4f} (at |x| = {c['argmax_x']:.2f}); "
                   f"slope at 0 off 2/√π by {c['slope0_err']:.1e}",
                   c["max_err"] <= 0.12 and c["slope0_err"] <= 1e-9, "card: ≤ 0.12 and 1e-9; calibration 0.108")


def _c4(m, profile):
    pb = _per_b(m)
    errs = {v["b"]: v["mean_approx_vs_softsign"] for v in pb.values()}
    mid = [errs[b] for b in sorted(errs) if C4_B[0] - 1e-12 <= b <= C4_B[-1] + 1e-12]
    noninc = all(y <= x for x, y in zip(mid, mid[1:]))
    ok = max(errs.values()) <= 0.12 and noninc
    txt = ", ".join(f"{b:g}: {e:.3f}" for b, e in sorted(errs.items()))
    return Outcome(f"max |a/√(a²+b²+π/2) − E[softsign]| by b: {txt}; non-increasing over b = 0.3…3: {noninc}", ok,
                   "vs E[clip] instead: " + ", ".join(f"{v['mean_approx_vs_clip']:.3f}" for v in pb.values()) +
                   f"; "
                   f"b → 0 (vs erf(a/√2)): {_mo(m)['mean_approx_vs_sign_limit']:.3f}; calibration 0.107/0.089/0.043/0.012. "
                   f"E[softsign] by panel Gauss–Legendre: vs scipy quad max diff "
                   f"{max(v['softsign_panel_vs_quad'] for v in pb.values()):.1e}; plain 201-node Gauss–Hermite "
                   f"misses the kink by up to {max(v['softsign_hermite_vs_panel'] for v in pb.values()):.1e}")


def _c5(m, profile):
    mo = _mo(m)
    pb = _per_b(m)
    even = max(v["clip2_even_err"] for v in pb.values())
    le1 = max(v["clip2_max"] for v in pb.values())
    argmin0 = all(v["clip2_argmin_a"] == 0 for v in pb.values())
    at0 = [v["clip2_at0"] for v in pb.values()]
    ec = max(v["second_approx_vs_clip2"] for v in pb.values())
    es = max(v["second_approx_vs_softsign2"] for v in pb.values())
    ok = (even <= 1e-9 and le1 <= 1 and argmin0 and all(0 < x < 1 for x in at0)
          and mo["second_approx_b0_a0"] == 1 and mo["second_approx_bfar_a0"] <= 0.01 and ec <= 0.35 and es <= 0.35)
    return Outcome(f"E[clip²] even to {even:.0e}, max {le1:.6f}, argmin at a = 0: {argmin0}, value at 0 "
                   f"{', '.join(f'{x:.3f}' for x in at0)}; approx = {mo['second_approx_b0_a0']:g} at b = 0, "
                   f"{mo['second_approx_bfar_a0']:.1e} at b = {mo['b_far']:g}; max err vs E[clip²] {ec:.3f}, "
                   f"vs E[softsign²] {es:.3f}", ok,
                   "per b (clip², softsign²): " + "; ".join(
                       f"{v['b']:g}: {v['second_approx_vs_clip2']:.3f}, {v['second_approx_vs_softsign2']:.3f}"
                       for v in pb.values()) + " — rough, as the article says; calibration max 0.29 / 0.27")


def _lr(m):
    return m["lr"]


def _c6_rows(m):
    L = _lr(m)
    for name in ("toy", "random"):
        for e, v in L[name]["per_eps"].items():
            yield name, float(e), v["conditions"], "grid"
        for s in L[name]["scan"]:
            yield name, s["eps"], s, "scan"


def _c6_article(m, profile):
    rows = list(_c6_rows(m))
    bad = [(n, e, c, src) for n, e, c, src in rows if not c["article_ok"]]
    ex = "; ".join(f"{n} ε={e:.3g} ({src}): X/T = {c['X_over_T']:.2f}, monotone = {c['monotone']}"
                   for n, e, c, src in bad[:4])
    return Outcome(f"'surge ⇔ X > T' fails for {len(bad)} of {len(rows)} (problem, ε)" + (f", e.g. {ex}" if ex else ""),
                   not bad, "card: X > T is necessary, not sufficient — a peak needs β*² = T/(X−T) < 1, i.e. X > 2T "
                            "(and β* inside the β range of the B grid); see C6b")


def _c6_card(m, profile):
    rows = list(_c6_rows(m))
    bad = [(n, e, c) for n, e, c, _ in rows if not c["card_ok"]]
    L = _lr(m)
    thr = {n: L[n]["mf_threshold_eps"] for n in ("toy", "random")}
    xt = {n: ", ".join(f"{e}: {v['conditions']['X_over_T']:.2f}" for e, v in L[n]["per_eps"].items())
          for n in ("toy", "random")}
    return Outcome(f"monotone ⇔ (X ≤ 2T or β* ∉ (β(B_min), β(B_max))) holds for {len(rows) - len(bad)} of "
                   f"{len(rows)} (problem, ε), {len(bad)} exceptions", not bad,
                   f"grid ε plus {len(L['toy']['scan'])} scan ε in [1e-3, 10]; X/T toy: {xt['toy']}; X/T random: "
                   f"{xt['random']}; mean-field surge gone from ε = {thr['toy']} (toy), {thr['random']} (random)")


def _c7(m, profile):
    t = _lr(m)["toy"]
    pe = t["per_eps"]
    big = [e for e in pe if float(e) >= 1]
    ok = (not pe["0"]["exact_monotone"] and not pe["0"]["mf_monotone"]
          and all(pe[e]["exact_monotone"] and pe[e]["mf_monotone"] for e in big))
    peaks = "; ".join(f"ε={e}: exact {v['exact_peak_B'] and round(v['exact_peak_B'])}, "
                      f"mf {v['mf_peak_B'] and round(v['mf_peak_B'])}" for e, v in pe.items())
    mc = t["monte_carlo"]
    r = _lr(m)["random"]
    return Outcome(f"toy: surge gone from ε = {t['exact_threshold_eps']} (exact), {t['mf_threshold_eps']} (mean field); "
                   f"peak B {peaks}", ok,
                   f"random problem: gone from ε = {r['exact_threshold_eps']} (exact), {r['mf_threshold_eps']} (mean "
                   f"field). Monte Carlo ({mc['n_samples']} minibatches per point): exact η* inside the 95% interval "
                   f"at {mc['covered']} of {mc['total']} (ε, B), max |MC/exact − 1| = {mc['max_abs_rel_err']:.3f}; "
                   f"mean-field vs exact max rel err at ε=0: {pe['0']['mf_vs_exact_max_rel']:.2f} "
                   f"(median κ²: {pe['0']['mf_median_vs_exact_max_rel']:.2f})")


def _c8(m, profile):
    L = _lr(m)
    d = {n: L[n]["large_eps"]["mf_over_article_max_rel"] for n in ("toy", "random")}
    return Outcome(f"max |mean-field η*/ε ÷ article SGD form − 1| at ε = {L['eps_large']:g}: toy {d['toy']:.1e}, "
                   f"random {d['random']:.1e}", max(d.values()) <= 1e-4, "card threshold 1e-4 for all B")


def _c9_article(m, profile):
    L = _lr(m)
    d = {n: L[n]["large_eps"] for n in ("toy", "random")}
    r = d["toy"]["exact_over_article"]
    return Outcome(f"exact η*/ε ÷ the article's form (noise πσ²/(2B)): toy max rel diff "
                   f"{d['toy']['exact_over_article_max_rel']:.3f}, random {d['random']['exact_over_article_max_rel']:.3f}; "
                   f"toy ratio by B: " + ", ".join(f"{b}: {v:.3f}" for b, v in r.items()),
                   max(v["exact_over_article_max_rel"] for v in d.values()) <= 0.10,
                   "tolerance 10% (the card's C9 cut-off); the π/2 comes from erf(x) ≈ x/√(x²+π/4), which "
                   "gives b² + π/2 where the exact b²/erf(b/√2)² → b²; see C9b")


def _c9_card(m, profile):
    L = _lr(m)
    d = {n: L[n]["large_eps"] for n in ("toy", "random")}
    ok = all(v["exact_over_sgd_exact_max_rel"] <= 1e-3 and abs(v["exact_over_article_at_B1"] - 1) > 0.10
             for v in d.values())
    return Outcome(f"exact η*/ε vs SGD with noise σ²/B: max rel diff toy {d['toy']['exact_over_sgd_exact_max_rel']:.1e}, "
                   f"random {d['random']['exact_over_sgd_exact_max_rel']:.1e}; exact ÷ article at B = 1: "
                   f"toy {d['toy']['exact_over_article_at_B1']:.3f}, random {d['random']['exact_over_article_at_B1']:.3f}",
                   ok, f"ε = {L['eps_large']:g}; card calibration 1.559 at B = 1 (toy)")


def _ci(est):
    if "lo" not in est:
        return f"{est['mean']:.3g} (n = {est['n']})"
    return f"{est['mean']:.3g} [{est['lo']:.3g}, {est['hi']:.3g}] (n = {est['n']}, {round(100 * est['level'])}%)"


def _c10(m, profile):
    e = m["eps_fraction"]
    runs = sorted(e["runs"], key=lambda r: r["hidden"])
    med = [r["vhat"]["median"] for r in runs]
    frac = [r["vhat"]["frac_below"]["1e-05"] for r in runs]
    gn = [r["grad_norm_tail"]["mean"] for r in runs]
    ok = (all(y < x for x, y in zip(med, med[1:])) and all(y > x for x, y in zip(frac, frac[1:]))
          and max(gn) / min(gn) < 3)
    return Outcome("; ".join(f"n={r['hidden']}: median √v̂ {r['vhat']['median']:.2e}, <1e-5: "
                             f"{100 * r['vhat']['frac_below']['1e-05']:.2f}% (non-zero only "
                             f"{100 * r['vhat']['frac_below_nonzero']['1e-05']:.2f}%), <1e-8: "
                             f"{100 * r['vhat']['frac_below']['1e-08']:.3f}%" for r in runs)
                   + f"; grad-norm max/min {max(gn) / min(gn):.2f}", ok,
                   f"{e['dataset']}, {e['n_train']} images × {e['epochs']:g} epochs, batch {e['batch']} ({e['steps']} "
                   f"steps), Adam lr {e['lr']:g}, ε {e['adam_eps']:g}. Minibatch gradient norm over the last steps: "
                   + "; ".join(f"n={r['hidden']}: {_ci(r['grad_norm_tail'])}" for r in runs)
                   + "; test acc " + ", ".join(f"{r['test_acc']:.3f}" for r in runs)
                   + "; exact zeros (weights of always-blank pixels or dead ReLU units) " + ", ".join(str(r["vhat"]["n_zero"]) for r in runs)
                   + " of " + ", ".join(str(r["vhat"]["n_params"]) for r in runs) + " parameters")


SUMMARY = r"""
Adam is often analysed as SignSGD, ignoring $\epsilon$. Keeping it, the update per coordinate is
$\mathrm{softsign}(\tilde g,\epsilon)=\tilde g/\sqrt{\tilde g^2+\epsilon^2}$, which interpolates between SignSGD
($\epsilon\to0$) and SGD with learning rate $\eta/\epsilon$ ($\epsilon\to\infty$). With a minibatch gradient
$\tilde g=g+\sigma z/\sqrt B$ the article replaces softsign by a clip, computes its expectation in closed form
(with $a=g\sqrt B/\sigma$, $b=\epsilon\sqrt B/\sigma$), approximates it by $a/\sqrt{a^2+b^2+\pi/2}$, and derives a
mean-field optimal learning rate $\eta^*(B)$: the surge (η* falling again at large B) becomes less likely as
$\epsilon$ grows, and for large $\epsilon$ it reduces to the SGD law with noise $\pi\sigma^2/(2B)$.

We check the closed form against adaptive quadrature, measure every approximation against what Adam actually
averages (softsign, by quadrature), compute η*(B) exactly on synthetic quadratics (with Monte Carlo sanity checks)
and with the mean-field formula, and measure Adam's $\sqrt{\hat v}$ against $\epsilon$ on MLPs of growing width.
Two statements fail as written: the surge condition $X>T$ is necessary but not sufficient (the peak needs $X>2T$),
and the $\pi/2$ in the large-$\epsilon$ SGD limit is an artefact of the erf approximation (the exact limit has
noise $\sigma^2/B$).
"""

ARTICLE = Article(
    id="10563", slug="adam-epsilon-lr-scaling", key="a10563",
    title="How Does Adam's Epsilon Affect the Learning-Rate Scaling Law?",
    title_zh="Adam的epsilon如何影响学习率的Scaling Law?",
    date="2024-11-18", url="https://kexue.fm/archives/10563",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("moments", moments, outs={"metrics": f"{D}/moments.json", "arrays": f"{D}/moments.npz"},
              params=("a_points", "a_max", "b_values", "b_far", "erf_points", "erf_x_max", "hermite_n"),
              metrics="metrics", kind="eval", runtime_min=5),
        Stage("lr_curves", lr_curves, outs={"metrics": f"{D}/lr_curves.json", "arrays": f"{D}/lr_curves.npz"},
              params=("toy_n", "random_n", "rank1", "B_log10_lo", "B_log10_hi", "B_points", "eps_values",
                      "eps_large", "eps_scan_points", "mc_samples", "mc_B", "mc_eps"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=10),
        Stage("eps_fraction", eps_fraction,
              deps={"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz"},
              outs={"metrics": f"{D}/eps_fraction.json"},
              params=("dataset", "n_train", "epochs", "batch", "widths", "lr", "adam_eps", "ckpt_every",
                      "sweep_batches", "sweep_lrs", "sweep_eps", "sweep_steps", "sweep_seeds", "sweep_hidden"),
              persist={"ckpt": f"{D}/eps_fraction_ckpt/"}, metrics="metrics", device=True, kind="train",
              mem_mb=3000, runtime_min=20),
        Stage("figures", figures,
              deps={"moments": f"{D}/moments.npz", "lr": f"{D}/lr_curves.npz", "eps": f"{D}/eps_fraction.json"},
              outs={"figures": f"{D}/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=(
        Claim("C1", r"$\epsilon\,\mathrm{softsign}(x,\epsilon)\to x$ as $\epsilon\to\infty$, and "
                    r"$\mathrm{softsign}(x,\epsilon)\to\mathrm{sign}(x)$ as $\epsilon\to0$.", "limits", _c1),
        Claim("C2", r"$\mathbb E[\mathrm{clip}((a+z)/b,-1,1)]$ equals the article's erf closed form; it is odd, "
                    r"increasing in $a$, in $(-1,1)$, with slope $\mathrm{erf}(b/\sqrt2)/b$ at $a=0$.",
              "closed form; slope 0.682689 at b = 1", _c2),
        Claim("C3", r"$\mathrm{erf}(x)\approx x/\sqrt{x^2+\pi/4}$ is an S-curve with the right slope $2/\sqrt\pi$ at 0.",
              "calibration max error 0.108", _c3),
        Claim("C4", r"$a/\sqrt{a^2+b^2+\pi/2}$ approximates $\mathbb E[\mathrm{softsign}(g+\sigma z/\sqrt B,\epsilon)]$, "
                    r"the quantity Adam actually averages.", "calibration 0.107 (b→0) … 0.012 (b = 3)", _c4),
        Claim("C5", r"Exact $\mathbb E[\mathrm{clip}^2]$ is even in $a$, at most 1, smallest at $a=0$ with a value in "
                    r"$(0,1)$; the approximation $1-b^2/(a^2+b^2+\pi/2)$ is 1 at $b=0$, tends to 0 as $b\to\infty$, "
                    r"and is only rough.", "E[clip²](0) = 0.842 / 0.516 / 0.111 at b = 0.3 / 1 / 3", _c5),
        Claim("C6", r"As the article states it: with the mean-field formula, η*(B) surges (is not monotone in $B$) "
                    r"exactly when $X=\sum_{ij}u_iu_jH_{ij}>T=\sum_iH_{ii}$.", "surge condition X > T",
              _c6_article, expected="fail",
              note="The card: X > T is necessary, not sufficient; the peak β*² = T/(X−T) lies in (0, 1) iff X > 2T."),
        Claim("C6b", r"Companion (the card's correction): mean-field η*(B) is monotone increasing on the B grid iff "
                     r"$X\le2T$ or $\beta_*=\sqrt{T/(X-T)}$ lies outside $(\beta(B_{min}),\beta(B_{max}))$.",
              "peak at β*² = T/(X−T)", _c6_card),
        Claim("C7", r"Increasing $\epsilon$ removes the surge: beyond a threshold $\epsilon$, η*(B) is monotone, in "
                    r"the mean-field formula and in the exact (quadrature) model.",
              "calibration: exact monotone from ε = 0.3, mean field from 0.1", _c7),
        Claim("C8", r"For large $\epsilon$ the mean-field η*/ε tends to the SGD form "
                    r"$\sum_ig_i^2/(\sum_{ij}g_ig_jH_{ij}+\pi\sigma^2\sum_iH_{ii}/(2B))$.",
              "calibration ratio 1.000001 at B = 1", _c8),
        Claim("C9", r"As the article states it: for large $\epsilon$, Adam's η*/ε behaves like SGD with gradient noise "
                    r"$\pi\sigma^2/(2B)$ (checked against the exact per-coordinate model).",
              "noise πσ²/(2B)", _c9_article, expected="fail",
              note="The card: the exact model's limit has noise σ²/B; π/2 is an artefact of the erf approximation."),
        Claim("C9b", r"Companion (the card's correction): for $\epsilon\to\infty$ the exact η*/ε equals the SGD optimum "
                     r"with noise $\sigma^2/B$, and differs from the article's form by more than 10% at $B=1$.",
              "calibration: exact ÷ article 1.559 at B = 1; σ²/B form to 6 digits", _c9_card),
        Claim("C10", r"(Background) After a fixed training budget, wider models have smaller Adam $\sqrt{\hat v}$: the "
                     r"median falls and the fraction below $10^{-5}$ grows with width, while the global gradient norm "
                     r"changes little (less than 3×).",
              "calibration: median 2.6e-3 / 1.3e-3 / 3.8e-4, fraction 0.08% / 0.48% / 4.5%, |g| 2.9 / 2.4 / 1.5",
              _c10, expected_at=("default", "full"),
              note="Smoke trains tiny widths on digits for a few steps; the card gives this check at default."),
    ),
    tables=(Table("a10563_lr_sweep", "Empirical η*(B) from learning-rate sweeps (full profile)",
                  "Adam on the MLP in-n-n-10: for each (ε, B) every learning rate trains from the same "
                  "initialisation for a fixed number of steps; η* is the lr of the lowest mean training loss "
                  "(parabola in log lr through the best grid point). 'edge' marks an optimum at the grid's end. "
                  "Only the full profile runs the sweep.",
                  (("Adam ε", "eps"), ("B", "B"), ("η* (refined)", "lr_star"), ("grid best", "lr_grid_best"),
                   ("loss at best", "loss_at_best"), ("at grid edge", "edge"))),),
    figures=(
        Figure("erf_approx.png", "erf and its two S-curve approximations",
               "(a) erf(x), x/√(x²+π/4) and clip(2x/√π, −1, 1) — both with slope 2/√π at 0 — and their errors (C3).",
               "moments"),
        Figure("first_moment.png", "Expected update vs a",
               "(b) E[softsign] (quadrature), E[clip] (closed form; quadrature as dots) and the article's "
               "a/√(a²+b²+π/2) against a = g√B/σ for several b = ε√B/σ (C2, C4).", "moments"),
        Figure("second_moment.png", "Expected squared update vs a",
               "(c) E[softsign²], E[clip²] and the approximation 1 − b²/(a²+b²+π/2) (C5).", "moments"),
        Figure("eta_curves.png", "η*(B) for several ε",
               "(d) Optimal learning rate against batch size, exact per-coordinate model (solid) and mean field "
               "(dashed), toy and random problems; Monte Carlo estimates with 95% bands (C6, C7).", "lr_curves"),
        Figure("large_eps.png", "η*/ε at large ε and the SGD limits",
               "(e) Exact and mean-field η*/ε at the largest ε against the SGD forms with noise σ²/B and "
               "πσ²/(2B) (C8, C9), and their ratio to the article's form.", "lr_curves"),
        Figure("vhat_hist.png", "Adam's √v̂ per width",
               "(f) Histogram of log10 √v̂ over all parameters after training, per MLP width, with ε = 1e-8 and "
               "1e-5 marked (C10).", "eps_fraction"),
    ),
)
