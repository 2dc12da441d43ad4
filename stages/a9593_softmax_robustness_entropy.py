"""kexue.fm/archives/9593 — two findings about attention and softmax: robustness and information content.

Stages: robustness (C1, C2: Monte Carlo error under logit noise vs n) ; entropy_bounds (C3, C5-C8:
closed forms, scipy optimisers, box search) ; jacobian_scale (C4 numeric part) ; init_train (C4
training part, torch) ; figures. This module declares the article; the stage functions live in
stages/a9593_stages.py and the computation in kexue.softmax_noise / softmax_entropy /
softmax_init_training / softmax_figures.
"""
from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9593_stages import A1_NOISES, D, entropy_bounds, figures, init_train, jacobian_scale, robustness

CARD_TAUS = (2.0, 1.0, 0.5, 0.2, 0.1, 0.05)
CARD_NS = (16, 256, 4096)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # robustness (C1, C2)
    rob_log2_n_min: int = Field(ge=1, le=10, description="smallest n = 2^this")
    rob_log2_n_max: int = Field(ge=3, le=22, description="largest n = 2^this")
    rob_fit_log2_min: int = Field(ge=1, le=20, description="power-law fit over n >= 2^this")
    rob_reps: int = Field(ge=5, le=100_000, description="replicates per (configuration, n)")
    rob_dim: int = Field(ge=1, le=1024, description="value dimension m")
    rob_sigmas: list[float] = Field(min_length=1, description="logit std sigma_s; the first is the baseline")
    rob_noises: list[str] = Field(min_length=1, description="gaussian | uniform | gumbel | gumbel@<scale>")
    rob_noise_std: float = Field(gt=0, le=10, description="std of the logit noise (not for gumbel@<scale>)")
    rob_controls: list[str] = Field(description="subset of prob, value, scaled")
    rob_boot: int = Field(ge=100, le=100_000, description="bootstrap resamples for the median CI")
    # entropy bounds (C3, C5-C8)
    c3_vectors: int = Field(ge=10, le=10**7, description="random logit vectors for C3")
    c3_n_max: int = Field(ge=2, le=10**5)
    brute_n: int = Field(ge=2, le=10**7, description="n of the integer vertex brute force (A4: 1000)")
    box_n_max: int = Field(ge=3, le=16, description="box search for n = 3..this")
    box_starts: int = Field(ge=1, le=100_000, description="random L-BFGS-B starts per n")
    box_taus: list[float] = Field(min_length=1, description="temperatures of the box search")
    taus: list[float] = Field(min_length=2, description="temperature grid of C7/C8")
    hmin_ns: list[int] = Field(min_length=1, description="n of the C7 grid")
    curve_n_max: int = Field(ge=20, le=10**6, description="H_min vs n figure up to this n")
    # jacobian_scale (C4)
    jac_n: int = Field(ge=2, le=10**5)
    jac_draws: int = Field(ge=2, le=10**6)
    jac_points_per_decade: int = Field(ge=1, le=100, description="c grid 10^(k/ppd), 0.1 <= c <= 100")
    # init_train (C4)
    init_scales: list[float] = Field(min_length=2, description="fixed logit multipliers c")
    init_seeds: int = Field(ge=1, le=100)
    init_steps: int = Field(ge=1, le=10**6)
    init_lr: float = Field(gt=0, le=1)
    init_batch: int = Field(ge=1, le=65536)
    init_n_keys: int = Field(ge=2, le=65536)
    init_d: int = Field(ge=1, le=4096)
    init_d_model: int = Field(ge=1, le=4096)
    init_n_values: int = Field(ge=2, le=100_000)
    init_ckpt_every: int = Field(ge=1, le=10**6)

    @field_validator("rob_sigmas", "box_taus", "taus", "init_scales")
    @classmethod
    def _positive(cls, v):
        bad = [x for x in v if not (x > 0 and math.isfinite(x))]
        if bad:
            raise ValueError(f"values must be finite and > 0; got {bad}")
        return v

    @field_validator("rob_sigmas")
    @classmethod
    def _card_sigmas(cls, v):
        if v[0] != 1.0 or not {3.0, 6.0} <= set(v):
            raise ValueError(f"must start with 1 (the C1 baseline) and include 3 and 6 (C2); got {v}")
        return v

    @field_validator("rob_noises")
    @classmethod
    def _noises(cls, v):
        for nm in v:
            fam, _, scale = nm.partition("@")
            try:
                good = (fam in ("gaussian", "uniform", "gumbel") and not scale) or (fam == "gumbel" and float(scale) > 0)
            except ValueError:
                good = False
            if not good:
                raise ValueError(f"noise {nm!r}: choose gaussian, uniform, gumbel or gumbel@<positive scale>")
        if len(set(v)) != len(v):
            raise ValueError(f"noise names must be distinct; got {v}")
        missing = [nm for nm in A1_NOISES if nm not in v]
        if missing:
            raise ValueError(f"must include {list(A1_NOISES)} (the card's A1 set); missing {missing}")
        return v

    @field_validator("rob_controls")
    @classmethod
    def _controls(cls, v):
        bad = [c for c in v if c not in ("prob", "value", "scaled")]
        if bad or len(set(v)) != len(v):
            raise ValueError(f"controls are distinct values from prob, value, scaled; got {v}")
        return v

    @field_validator("taus")
    @classmethod
    def _taus(cls, v):
        if list(v) != sorted(v, reverse=True) or len(set(v)) != len(v):
            raise ValueError(f"list the temperatures strictly decreasing; got {v}")
        if not set(CARD_TAUS) <= set(v):
            raise ValueError(f"must include the card's grid {list(CARD_TAUS)}; got {v}")
        return v

    @field_validator("hmin_ns")
    @classmethod
    def _ns(cls, v):
        if any(n < 2 for n in v) or not set(CARD_NS) <= set(v):
            raise ValueError(f"n >= 2 and must include {list(CARD_NS)} (A6); got {v}")
        return v

    @field_validator("init_scales")
    @classmethod
    def _scales(cls, v):
        if not {1.0, 100.0} <= set(v) or len(set(v)) != len(v):
            raise ValueError(f"distinct scales including 1 and 100 (A7 compares them); got {v}")
        return v

    @model_validator(mode="after")
    def _ranges(self):
        if self.rob_log2_n_max < self.rob_log2_n_min + 2:
            raise ValueError(f"rob_log2_n_max = {self.rob_log2_n_max} needs at least 3 n values above "
                             f"rob_log2_n_min = {self.rob_log2_n_min}")
        if not self.rob_log2_n_min <= self.rob_fit_log2_min <= self.rob_log2_n_max - 2:
            raise ValueError(f"rob_fit_log2_min = {self.rob_fit_log2_min} must leave >= 3 points in "
                             f"[{self.rob_log2_n_min}, {self.rob_log2_n_max}]")
        return self


# ------------------------------------------------------------------------------------------ claims

def _rob(m, noise, sigma):
    return m["robustness"]["configs"][f"{noise}|sigma_s={sigma:g}"]


def _card_fit(c):
    """The card fits over 2^6..2^16: a run with another range did not measure A1/A2 (-> not-run)."""
    if c["fit_range"] != [64, 65536]:
        raise KeyError(f"fit range {c['fit_range']} is not the card's [2^6, 2^16]")
    return c["fit"]


def check_c1(m, profile):
    parts, ok = [], True
    for nm in A1_NOISES:
        c = _rob(m, nm, 1.0)
        fit, e = _card_fit(c), c["at"]["65536"]
        good = -0.6 <= fit["slope"] <= -0.35 and e["estimate"] < 0.05
        ok &= good
        parts.append(f"{nm}: slope {fit['slope']:.3f} [{fit['slope_ci'][0]:.3f}, {fit['slope_ci'][1]:.3f}], "
                     f"median error at 2^16 {e['estimate']:.4f} [{e['lo']:.4f}, {e['hi']:.4f}]")
    heavy = m["robustness"]["configs"].get("gumbel|sigma_s=1")
    extra = (f"Heavy-tailed Gumbel (std 1, scale 0.78, E[e^{{2ε}}] infinite): slope {heavy['fit']['slope']:.3f}, "
             f"error at 2^16 {heavy['at']['65536']['estimate']:.3f}. " if heavy else "")
    return Outcome("; ".join(parts) + f" (n = {m['robustness']['reps']} reps, 95% bootstrap CI)", ok,
                   extra + "Slopes are fits of the median error over n = 2^6..2^16 (t interval on the slope).")


def check_c2(m, profile):
    r = m["robustness"]
    parts, ok = [], True
    for nm in A1_NOISES:
        base = _rob(m, nm, 1.0)["at"]["65536"]["estimate"]
        for sig in (3.0, 6.0):
            c = _rob(m, nm, sig)
            fit, e = _card_fit(c), c["at"]["65536"]
            good = fit["slope"] > -0.15 and e["estimate"] > 3 * base
            ok &= good
            parts.append(f"{nm} σ_s={sig:g}: slope {fit['slope']:.3f}, err(2^16) {e['estimate']:.3f} "
                         f"[{e['lo']:.3f}, {e['hi']:.3f}] = {e['estimate'] / base:.1f}x σ_s=1")
    at16 = {k: c["at"]["16"] for k, c in r["configs"].items() if not c["control"]}
    low = {k: v for k, v in at16.items() if not v["estimate"] > 0.05}
    ok &= not low
    worst = min(at16, key=lambda k: at16[k]["estimate"])
    w = at16[worst]
    parts.append(f"n = 16: smallest median error {w['estimate']:.3f} [{w['lo']:.3f}, {w['hi']:.3f}] ({worst}); "
                 f"{len(low)} of {len(at16)} configurations <= 0.05" + (f": {sorted(low)}" if low else ""))
    close = (f"The n = 16 margin of {worst} is not resolved: its 95% interval reaches below 0.05 (the card "
             f"checks the median). " if w["lo"] <= 0.05 else "")
    return Outcome("; ".join(parts) + f" (n = {r['reps']} reps, 95% bootstrap CI)", ok,
                   close + "Every configuration = every logit-noise type run (std-1 Gaussian, uniform, Gumbel and the "
                   "scale-0.3 Gumbel) at every σ_s; the controls are not counted.")


def check_c3(m, profile):
    c = m["entropy_bounds"]["c3"]
    ok = c["min_H"] >= -1e-12 and c["max_H_minus_logn"] <= 1e-12 and c["onehot_max_H"] == 0 \
        and c["uniform_max_err"] <= 1e-12
    return Outcome(f"{c['vectors']} random logit vectors (n <= {c['n_max']}, scales 1e-3..1e3): min H = "
                   f"{c['min_H']:.2e}, max(H − log n) = {c['max_H_minus_logn']:.2e}; one-hot H = "
                   f"{c['onehot_max_H']}; uniform |H − log n| <= {c['uniform_max_err']:.1e}", ok)


def check_c4(m, profile):
    j = m["jacobian_scale"]
    c, H, J = j["c"], j["H"]["mean"], j["J"]["mean"]
    h_dec = all(b < a for a, b in zip(H, H[1:]))
    i10 = min(i for i, x in enumerate(c) if x >= 10 - 1e-9)
    j_dec = all(b < a for a, b in zip(J[i10:], J[i10 + 1:]))
    i100 = c.index(min(c, key=lambda x: abs(x - 100)))
    jmax, ipk = max(J), J.index(max(J))
    j_ratio = J[i100] / jmax
    num_ok = h_dec and j_dec and abs(c[i100] - 100) < 1e-9 and j_ratio < 0.1
    pick = {x: i for i, x in enumerate(c) if any(abs(x - y) < 1e-9 for y in (0.1, 1, 10, 100))}
    txt = (f"n = {j['n']}, {j['draws']} draws: mean H " + "/".join(f"{H[i]:.3f}" for i in pick.values())
           + " and J " + "/".join(f"{J[i]:.3f}" for i in pick.values()) + " at c = 0.1/1/10/100; H strictly "
           f"decreasing: {h_dec}; J decreasing for c >= 10: {j_dec}; J peaks {jmax:.3f} at c = {c[ipk]:.2f}; "
           f"J(100)/max = {j_ratio:.3f}")
    tr = m.get("init_train")
    train_ok, ttxt = None, "training part not run"
    if tr is not None:
        pc = tr["per_c"]
        l1, l100 = pc["1"], pc["100"]
        train_ok = l100["mean_eval_loss"] > l1["mean_eval_loss"]
        wins = sum(a > b for a, b in zip(l100["eval_loss"], l1["eval_loss"]))

        def f(v):
            ci = v["eval_loss_ci"]
            return (f"{v['mean_eval_loss']:.3f}" + (f" [{ci['lo']:.3f}, {ci['hi']:.3f}]" if ci else "")
                    + f" (seeds {', '.join(f'{x:.3f}' for x in v['eval_loss'])})")
        ttxt = (f"eval loss after {tr['steps']} steps ({tr['seeds']} seeds, 95% t CI): "
                + "; ".join(f"c = {k}: {f(v)}" for k, v in pc.items())
                + f"; c = 100 above c = 1 in {wins} of {len(l1['eval_loss'])} seeds (same init and data)"
                + f"; initial attention entropy c = 1: {l1['initial_attn_entropy']:.2f}, c = 100: "
                f"{l100['initial_attn_entropy']:.2f} (log n = {tr['logn']:.2f})")
    if profile == "smoke":  # the card checks the training part at default only (A7)
        ok = num_ok
        detail = "Smoke: the card's A7 checks the numeric part only; training reported, not checked. "
    else:
        ok = num_ok and bool(train_ok)
        detail = ""
    return Outcome(txt + ". " + ttxt, ok, detail + "J = ‖diag(p) − pp^T‖_F; bands are t intervals over draws.")


def check_c5(m, profile):
    c = m["entropy_bounds"]["c5"]
    ok = (abs(c["deficit"] - 0.4744746) <= 1e-6 and abs(c["t_star"] - 0.7944868) <= 1e-6
          and abs(c["t_star"] - c["t_star_closed"]) <= 1e-6 and abs(c["half_half"] - 0.3278133) <= 1e-6
          and abs(c["brute_deficit"] - 0.47447) <= 1e-4)
    small = ", ".join(f"{v:.5f} (n={k})" for k, v in c["brute_small"].items())
    return Outcome(f"large-n deficit {c['deficit']:.7f} at t* = {c['t_star']:.7f} (closed form "
                   f"{c['t_star_closed']:.7f}); half/half {c['half_half']:.7f}; vertex brute force at "
                   f"n = {c['brute_n']}: {c['brute_deficit']:.5f} ({c['brute_m_plus']} entries at +1)", ok,
                   f"integer vertex deficits {small}")


def check_c6(m, profile):
    c = m["entropy_bounds"]["c6"]
    ok = c["max_below_vertex"] <= 1e-9 and c["max_formula_vs_exhaustive"] <= 1e-12
    return Outcome(f"{c['runs_total']} L-BFGS-B runs (n = 3..{c['n_max']}, τ in {c['taus']}, {c['starts']} starts "
                   f"each): best found minus vertex minimum >= {-c['max_below_vertex']:.1e}; "
                   f"{c['runs_at_vertex']} of {c['runs_total']} runs end at a vertex", ok,
                   f"vertex formula vs all 2^n sign vectors: max difference {c['max_formula_vs_exhaustive']:.1e}")


def check_c7(m, profile):
    c = m["entropy_bounds"]["c7"]
    taus = c["taus"]  # strictly decreasing (validated)
    mono = {n: all(b <= a for a, b in zip(h, h[1:])) for n, h in c["hmin"].items()}
    h01 = c["hmin"]["4096"][taus.index(0.1)]
    ok = all(mono.values()) and h01 < 0.01
    rows = "; ".join(f"n = {n}: " + "/".join(f"{x:.4g}" for x in h) + f" (log n {c['logn'][n]:.3f})"
                     for n, h in c["hmin"].items())
    return Outcome(f"H_min at τ = {'/'.join(f'{t:g}' for t in taus)}: {rows}; H_min(0.1, 4096) = {h01:.2e}",
                   ok, f"non-increasing as τ decreases: {mono}")


def check_c8(m, profile):
    c = m["entropy_bounds"]["c8"]
    ok = c["max_abs_err"] <= 1e-12 and c["floor_256_tau1"] > c["log256"] - 2.1
    return Outcome(f"floor vs direct softmax: max |diff| = {c['max_abs_err']:.1e}; floor(256, τ=1) = "
                   f"{c['floor_256_tau1']:.4f} (log 256 − floor = {c['log256'] - c['floor_256_tau1']:.3f}); "
                   f"floor(256, τ=0.1) = {c['floor_256_tau01']:.2e}", ok,
                   f"{c['random_trials']} random cosine configurations: smallest loss − floor = "
                   f"{c['random_min_gap']:.3f} (never below)")


CLAIMS = (
    Claim("C1", r"For i.i.d. logit noise $\epsilon_i$ independent of $(s_i,\boldsymbol v_i)$ the attention output "
                r"moves by $\|\tilde{\boldsymbol o}-\boldsymbol o\|\to0$ as $n\to\infty$ when the weights are spread; "
                r"with finite $\mathbb E[e^{2\epsilon}]$ and mild logit spread the error falls like $n^{-1/2}$.",
          "card calibration (σ_s = 1, Gaussian std 1): 0.96, 0.38, 0.12, 0.032 at n = 16, 256, 4096, 65536; slope −0.46",
          check_c1, expected_at=("default", "full"),
          note="A1: Gaussian and uniform noise of std 1 and Gumbel noise of scale 0.3, σ_s = 1: slope of the median "
               "error over n = 2^6..2^16 in [−0.6, −0.35] and error at 2^16 < 0.05."),
    Claim("C2", r"At finite $n$, or when a few logits dominate (large logit spread $\sigma_s$, i.e. heavy-tailed "
                r"weights $e^{s_i}$), the noise error does not vanish over practical $n$.",
          "card calibration: σ_s = 3 and 6 give 0.2-0.5 at every n up to 65536",
          check_c2, expected_at=("default", "full"),
          note="A2: at σ_s ∈ {3, 6} slope over 2^6..2^16 > −0.15 and error at 2^16 > 3x the σ_s = 1 error "
               "(A1's noise set); at n = 16 every configuration has error > 0.05."),
    Claim("C3", r"$0\le H\le\log n$, with $H=0$ exactly at a one-hot $p$ and $H=\log n$ exactly at the uniform $p$.",
          "H ∈ [0, log n]", check_c3),
    Claim("C4", r"Scaling the logits up ($s=cz$) drives $H$ monotonically to 0 and the softmax Jacobian "
                r"$\mathrm{diag}(p)-pp^\top$ to 0 (its norm first grows, peaks, then collapses); a model started "
                r"with a large logit scale trains slower than one started near uniform.",
          "card calibration (n = 64): H 4.15/3.70/1.86/0.45/0.031, J 0.125/0.181/0.310/0.179/0.016 at c = 0.1/1/3/10/100",
          check_c4,
          note="A7: numeric part at every profile; training part (mean loss at c = 100 > at c = 1, 3 seeds) at "
               "default and full, as the card says."),
    Claim("C5", r"For cosine logits $x_i\in[-1,1]$ at $\tau=1$: $\min H=\log n-0.4744746\ldots$ for large $n$, with a "
                r"fraction $t^*=(e^4-3e^2)/(1-2e^2+e^4)=0.7944868$ of the entries at $-1$; half/half gives only "
                r"$\log n-0.3278133$.",
          "log n − 0.4744746; t* = 0.7944868; half/half log n − 0.3278133; n = 1000: 0.47447", check_c5),
    Claim("C6", r"The minimum of $H$ over the box $[-1,1]^n$ is attained at a vertex (all $x_i=\pm1$).",
          "from the comment thread", check_c6),
    Claim("C7", r"For fixed $n$, $H_{\min}(\tau,n)$ decreases monotonically as $\tau$ decreases and tends to 0 "
                r"(small once $e^{2/\tau}\gg n$).",
          "n = 256: 5.42, 5.07, 3.88, 0.126, 0.0, 0.0 at τ = 2..0.05; n = 4096: 1.63 (τ = 0.2), 0.0002 (τ = 0.1)",
          check_c7),
    Claim("C8", r"With one positive at cosine $+1$ and $n-1$ negatives at $-1$ the InfoNCE loss cannot go below "
                r"$\log(1+(n-1)e^{-2/\tau})$: within about 2 nats of $\log n$ at $\tau=1$, about 0 at $\tau=0.1$.",
          "floor(256, 1) > log 256 − 2.1", check_c8),
)

FIGURES = (
    Figure("robustness_error.png", "Attention error under logit noise vs n",
           "Median relative error ‖õ − o‖/std(v) with 95% bootstrap bands against the number of keys n, one panel "
           "per logit spread σ_s and noise type (std 1 unless a Gumbel scale is given), and the controls (noise "
           "on the probabilities, on the values, or proportional to the logits); dashed: slope −1/2 (C1, C2).",
           "robustness"),
    Figure("hmin_vs_n.png", "Minimal entropy vs n",
           "Lowest entropy of softmax(cos θ/τ) over all cosine vectors (the vertex formula) for τ = 1, 0.5, 0.2, "
           "0.1, with log n (C5, C7).", "entropy_bounds"),
    Figure("deficit_t.png", "Entropy deficit at τ = 1",
           "Large-n deficit log n − H with a fraction t of cosines at −1 and the rest at +1; the optimum "
           "t* = 0.7945 and the half/half point (C5).", "entropy_bounds"),
    Figure("jacobian_scale.png", "Entropy and Jacobian vs logit scale",
           "Mean entropy and mean Frobenius norm of the softmax Jacobian of softmax(c z), z ~ N(0, I_64), with 95% "
           "bands (C4).", "jacobian_scale"),
    Figure("init_training.png", "Training from different logit scales",
           "Retrieval attention (32 keys) trained with Adam from logit scales c = 1, 10, 100: training loss and "
           "attention entropy (10-step moving average), thin lines per seed, thick the mean with its 95% t band "
           "over seeds (wide with 3 seeds; cut at 0) (C4).", "init_train"),
)

SUMMARY = r"""
Softmax attention $\boldsymbol o=\sum_i e^{s_i}\boldsymbol v_i/\sum_i e^{s_i}$ is a ratio of two averages over
the keys, so i.i.d. noise on the logits multiplies both by the same $\mathbb E[e^\epsilon]$ and cancels in the
large-$n$ limit; the author adds that at finite $n$ noise still matters. We measure the error by Monte Carlo
for three noise types and three logit spreads (with controls), and find that it falls like $n^{-1/2}$ only when
the weights are spread and $e^{2\epsilon}$ has a finite mean.
The second finding concerns entropy: $H\in[0,\log n]$; large initial logits give a near one-hot start
with vanishing softmax Jacobian (checked numerically and with a small retrieval-attention training run), and
for cosine logits at temperature 1 the entropy can never fall below $\log n-0.4744746$ (closed form from the
comments, checked by brute force and a continuous box search), so a low temperature is needed to gain
information, which is the InfoNCE floor $\log(1+(n-1)e^{-2/\tau})$ of contrastive learning.
"""

ARTICLE = Article(
    id="9593", slug="softmax-robustness-entropy", key="a9593",
    title="Two Interesting Findings about Attention and Softmax: Robustness and Information Content",
    title_zh="注意力和Softmax的两点有趣发现：鲁棒性和信息量",
    date="2023-04-25", url="https://kexue.fm/archives/9593",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("robustness", robustness, outs={"metrics": f"{D}/robustness.json"},
              params=("rob_log2_n_min", "rob_log2_n_max", "rob_fit_log2_min", "rob_reps", "rob_dim", "rob_sigmas",
                      "rob_noises", "rob_noise_std", "rob_controls", "rob_boot"),
              metrics="metrics", kind="eval", mem_mb=1500, runtime_min=5),
        Stage("entropy_bounds", entropy_bounds,
              outs={"metrics": f"{D}/entropy_bounds.json", "arrays": f"{D}/entropy_bounds.npz"},
              params=("c3_vectors", "c3_n_max", "brute_n", "box_n_max", "box_starts", "box_taus", "taus",
                      "hmin_ns", "curve_n_max"),
              metrics="metrics", kind="eval", runtime_min=5),
        Stage("jacobian_scale", jacobian_scale, outs={"metrics": f"{D}/jacobian_scale.json"},
              params=("jac_n", "jac_draws", "jac_points_per_decade"), metrics="metrics", kind="eval",
              runtime_min=2),
        Stage("init_train", init_train,
              outs={"traces": f"{D}/init_traces.npz", "metrics": f"{D}/init_train.json"},
              params=("init_scales", "init_seeds", "init_steps", "init_lr", "init_batch", "init_n_keys", "init_d",
                      "init_d_model", "init_n_values", "init_ckpt_every"),
              persist={"ckpt": f"{D}/init_ckpt/"}, metrics="metrics", device=True, kind="train",
              mem_mb=2000, runtime_min=10),
        Stage("figures", figures,
              deps={"robustness": f"{D}/robustness.json", "bounds_arrays": f"{D}/entropy_bounds.npz",
                    "jacobian": f"{D}/jacobian_scale.json", "traces": f"{D}/init_traces.npz"},
              outs={"figures": f"{D}/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=CLAIMS,
    figures=FIGURES,
)
