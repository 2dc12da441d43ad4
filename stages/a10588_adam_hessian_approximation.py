"""kexue.fm/archives/10588 — adaptive learning-rate optimizers seen as Hessian approximations.

mc_checks (C1, C5-C8: Monte Carlo and closed forms) -> adam_quadratic (C2, C3: full-batch Adam on a
diagonal quadratic) -> linreg_batch (C4: minibatch vs full batch) -> network (C9: MLP on digits,
exact Hessian) -> figures. This module declares the article; the stage functions live in
stages/a10588_stages.py, the computation in kexue.adam_sim (shared optimizer simulator),
kexue.adam_hessian, kexue.adam_hessian_network and kexue.adam_hessian_figures.
"""
from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a10588_stages import D, adam_quadratic, figures, linreg_batch, mc_checks, network

Beta = Field(ge=0, lt=1)
BatchSpec = Union[Literal["full"], int]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # mc_checks
    c1_n: int = Field(ge=2, le=500, description="dimension of the rotated Hessian (C1, C7, C8 Newton)")
    c1_sigma: float = Field(gt=0, le=10, description="std of theta - theta* (C1, C6, C7, C8)")
    c1_K: list[int] = Field(min_length=3, description="C1 sample sizes, increasing, each >= 10")
    c1_reps: int = Field(ge=2, le=1000)
    c5_n: int = Field(ge=3, le=1000)
    c5_N: int = Field(ge=20000, le=10**7, description="C5 examples (card: N >= 20000)")
    c5_noise: float = Field(gt=0, le=100)
    h_log10_lo: float = Field(ge=-6, le=6, description="linear-regression curvature range (C4, C5)")
    h_log10_hi: float = Field(ge=-6, le=6)
    c6_n: int = Field(ge=1, le=10_000)
    c6_T: int = Field(ge=100, le=10**6)
    c6_reps: int = Field(ge=2, le=1000)
    c6_betas2: list[float] = Field(min_length=2)
    c6_betas1: list[float] = Field(min_length=2)
    c7_offsets: list[float] = Field(min_length=2, description="scales c of theta_0 - theta* = c u, each >= 0")
    c7_K: int = Field(ge=100, le=10**7)
    c7_reps: int = Field(ge=2, le=1000)
    c8_n: int = Field(ge=2, le=100_000)
    c8_steps: int = Field(ge=1, le=100_000)
    # adam_quadratic
    quad_n: int = Field(ge=3, le=10**6)
    quad_log10_lo: float = Field(ge=-8, le=8)
    quad_log10_hi: float = Field(ge=-8, le=8)
    quad_steps: int = Field(ge=100, le=10**7)
    quad_lr: float = Field(gt=0, le=1)
    quad_beta1: float = Beta
    quad_betas2: list[float] = Field(min_length=1)
    quad_eps: float = Field(gt=0, le=1e-3)
    quad_init_std: float = Field(gt=0, le=100)
    quad_noise_std: float = Field(gt=0, le=100, description="report-only run with i.i.d. gradient noise")
    quad_noise_beta2: float = Beta
    # linreg_batch
    lr_n: int = Field(ge=3, le=10_000)
    lr_N: int = Field(ge=10, le=10**7)
    lr_noise: float = Field(gt=0, le=100)
    lr_steps: int = Field(ge=100, le=10**7)
    lr_lr: float = Field(gt=0, le=1)
    lr_betas: list[float] = Field(min_length=2, max_length=2)
    lr_eps: float = Field(gt=0, le=1e-3)
    lr_init_std: float = Field(ge=0, le=100)
    lr_batches: list[BatchSpec] = Field(min_length=2)
    # network
    net_dataset: Literal["digits", "fashion_mnist"]
    net_n_train: int = Field(ge=50, le=60_000)
    net_hidden: int = Field(ge=2, le=256)
    net_l2: float = Field(gt=0, le=1, description="L2 penalty 1/2 l2 |theta|^2: makes the minimum strict")
    net_lbfgs_iters: int = Field(ge=10, le=100_000)
    net_steps: int = Field(ge=10, le=10**6)
    net_lr: float = Field(gt=0, le=1)
    net_betas: list[float] = Field(min_length=2, max_length=2)
    net_eps: float = Field(gt=0, le=1e-3)
    net_noise: float = Field(ge=0, le=1)
    net_batches: list[BatchSpec] = Field(min_length=1)
    net_hessian: Literal["exact", "hutchinson"] = Field(description="exact (autograd) or Hutchinson diagonal")
    net_probes: int = Field(ge=2, le=100_000, description="Hutchinson probes (net_hessian = hutchinson)")
    net_lanczos_iters: int = Field(ge=10, le=100_000, description="Lanczos iterations for the extreme eigenvalues")
    net_boot: int = Field(ge=100, le=100_000)
    net_ckpt_every: int = Field(ge=1, le=10**6)

    @field_validator("c6_betas2", "c6_betas1", "quad_betas2", "lr_betas", "net_betas")
    @classmethod
    def _betas(cls, v):
        bad = [b for b in v if not 0 <= b < 1]
        if bad:
            raise ValueError(f"betas must lie in [0, 1); got {bad}")
        return v

    @field_validator("c6_betas2", "c6_betas1", "c1_K")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:])):
            raise ValueError(f"must be strictly increasing (the checks compare neighbours); got {v}")
        return v

    @field_validator("c1_K")
    @classmethod
    def _k(cls, v):
        if min(v) < 10:
            raise ValueError(f"sample sizes must be >= 10; got {v}")
        return v

    @field_validator("c7_offsets")
    @classmethod
    def _offsets(cls, v):
        if min(v) < 0:
            raise ValueError(f"offsets must be >= 0; got {v}")
        return v

    @field_validator("lr_batches", "net_batches")
    @classmethod
    def _batches(cls, v):
        bad = [b for b in v if b != "full" and b < 1]
        if bad:
            raise ValueError(f"batch sizes must be >= 1 or 'full'; got {bad}")
        if "full" not in v:
            raise ValueError("must include 'full' (the noise-free reference the claims compare with)")
        return v

    @field_validator("quad_betas2")
    @classmethod
    def _card_b2(cls, v):
        missing = [b for b in (0.9, 0.99) if b not in v]
        if missing:
            raise ValueError(f"must include {missing}: the card's C2/C3 check is made at beta2 = 0.9 and 0.99")
        return v

    @model_validator(mode="after")
    def _cross(self):
        for lo, hi in (("h_log10_lo", "h_log10_hi"), ("quad_log10_lo", "quad_log10_hi")):
            if getattr(self, lo) >= getattr(self, hi):
                raise ValueError(f"{lo} = {getattr(self, lo)} must be below {hi} = {getattr(self, hi)}")
        if self.lr_N < self.lr_n:
            raise ValueError(f"lr_N = {self.lr_N} must be >= lr_n = {self.lr_n} (least squares needs N >= n)")
        if self.net_dataset == "digits" and self.net_n_train > 1797:
            raise ValueError(f"net_n_train = {self.net_n_train}: digits has 1797 examples")
        if self.net_hessian == "exact" and self.net_hidden > 64:
            raise ValueError(f"net_hidden = {self.net_hidden}: the exact Hessian is only formed for hidden <= 64; "
                             "use net_hessian: hutchinson")
        if self.c7_reps and max(self.c7_offsets) <= 0:
            raise ValueError("c7_offsets needs a positive offset (C7 is about a non-stationary point)")
        return self


# ------------------------------------------------------------------------------------------ claims
def _c1(m, profile):
    c = m["mc"]["c1"]
    e = c["err"]
    dec = all(b < a for a, b in zip(e["mean"], e["mean"][1:]))
    txt = "; ".join(f"K={k}: {mu:.4f} [{lo:.4f}, {hi:.4f}]" for k, mu, lo, hi in zip(c["K"], e["mean"], e["lo"], e["hi"]))
    ok = c["K"][-1] >= 100_000 and e["mean"][-1] <= 0.02 and dec
    return Outcome(f"relative Frobenius error (mean of {e['n']} repeats, 95% CI) {txt}", ok,
                   "Gate: error <= 0.02 at the largest K (card: K = 10^5) and decreasing in K.")


def _quad_text(q, b2):
    s = q["per_beta2"][f"{b2:g}"]
    return (f"β2={b2:g}: slope {s['slope']:.4f} [{s['fit']['slope_ci'][0]:.4f}, {s['fit']['slope_ci'][1]:.4f}], "
            f"R² {s['r2']:.4f}, CV(std θ) {s['std_theta_cv']:.4f}, CV(hη/√v̂) {s['newton_ratio_cv']:.4f}")


def _quad_ok(s):
    return (0.95 <= s["slope"] <= 1.05 and s["r2"] >= 0.98 and s["std_theta_cv"] <= 0.1
            and s["newton_ratio_cv"] <= 0.1)


def _c23(m, profile):
    q = m["quad"]
    ok = all(_quad_ok(q["per_beta2"][f"{b:g}"]) for b in (0.9, 0.99))
    extra = [b for b in q["per_beta2"] if float(b) not in (0.9, 0.99)]
    rep = "; ".join(_quad_text(q, float(b)) for b in extra)
    nz = q["noisy"]
    return Outcome("; ".join(_quad_text(q, b) for b in (0.9, 0.99)), ok,
                   f"n = {q['n']}, {q['steps']} steps, averages over the last {q['window_steps']}; "
                   f"std θ ≈ {q['per_beta2']['0.99']['std_theta_mean']:.2e}, hη/√v̂ ≈ "
                   f"{q['per_beta2']['0.99']['newton_ratio_mean']:.3g} (β2 = 0.99). Report only: {rep or '-'}; "
                   f"with i.i.d. gradient noise std {nz['grad_noise_std']:g} (β2 = {nz['beta2']:g}) the slope is "
                   f"{nz['slope']:.3f} (noise dominates v).")


def _c4(m, profile):
    per = m["linreg"]["per_batch"]
    small = {k: per[k]["slope"] for k in sorted((k for k in per if k != "full"), key=int)}
    full = per["full"]["slope"]
    txt = ", ".join(f"B={k}: {v:.3f}" for k, v in small.items()) + f", full: {full:.3f}"
    if profile == "smoke":
        ok = "8" in small and small["8"] < 0.65 and full > 0.75
        gate = "smoke gate: batch-8 slope < 0.65 and full-batch slope > 0.75"
    else:
        ok = all(0.4 <= v <= 0.6 for k, v in small.items() if int(k) <= 64) and full >= 0.85
        gate = "gate: slope in [0.4, 0.6] for batch <= 64, >= 0.85 for the full batch"
    return Outcome(f"slope of log √v̂ vs log diag(XᵀX/N): {txt}", ok,
                   f"{gate}; N = {m['linreg']['N']}, {m['linreg']['steps']} steps, second-half averages.")


def _c5(m, profile):
    c = m["mc"]["c5"]
    return Outcome(f"diag of E[g gᵀ] vs s²h: vector relative error {c['diag_rel_err']:.4f} (N = {c['N']})",
                   c["N"] >= 20000 and c["diag_rel_err"] <= 0.05,
                   f"per-coordinate max {c['per_coord_max_rel_err']:.3f} (sd √(8/N) = {c['per_coord_sd_theory']:.3f}, "
                   f"not gated); whole matrix vs s²H {c['matrix_rel_err_vs_s2H']:.3f}, vs s²XᵀX/N "
                   f"{c['matrix_rel_err_vs_s2_empirical']:.3f}")


def _c6(m, profile):
    c = m["mc"]["c6"]
    e, r = c["v_rel_err"], c["m_ratio"]
    dv = all(b < a for a, b in zip(e["mean"], e["mean"][1:]))
    dm = all(b < a for a, b in zip(r["mean"], r["mean"][1:]))
    tv = "; ".join(f"β2={b:g}: {mu:.4f} [{lo:.4f}, {hi:.4f}] (theory {t:.4f})" for b, mu, lo, hi, t in
                   zip(c["betas2"], e["mean"], e["lo"], e["hi"], c["v_rel_mean_theory"]))
    tm = "; ".join(f"β1={b:g}: {mu:.4f} [{lo:.4f}, {hi:.4f}] (theory {t:.4f})" for b, mu, lo, hi, t in
                   zip(c["betas1"], r["mean"], r["lo"], r["hi"], c["m_ratio_theory"]))
    return Outcome(f"mean |√v̂/(σ|h|) − 1|: {tv}. RMS_i of m̂_i/RMS_t(g_i): {tm}", dv and dm,
                   f"after T = {c['T']} steps; v: n = {e['n']} (coordinates × repeats), m: n = {r['n']} repeats, 95% CI.")


def _c7(m, profile):
    c = m["mc"]["c7"]
    j = max(range(len(c["offsets"])), key=lambda i: c["bias_ratio"]["mean"][i])
    cov, raw, br = c["cov_err"]["mean"][j], c["raw_err"]["mean"][j], c["bias_ratio"]["mean"][j]
    ok = cov <= 0.02 and raw >= 10 * cov and br >= 10
    return Outcome(f"at ‖g0‖²/‖σ²H²‖ = {br:.3g}: covariance error {cov:.4f} "
                   f"[{c['cov_err']['lo'][j]:.4f}, {c['cov_err']['hi'][j]:.4f}], raw-moment error {raw:.3g} "
                   f"[{c['raw_err']['lo'][j]:.3g}, {c['raw_err']['hi'][j]:.3g}] ({raw / cov:.0f}×)", ok,
                   f"n = {c['reps']} repeats of K = {c['K']} samples, 95% CI; the gate also requires "
                   "‖g0‖² ≫ σ²‖H‖² (ratio ≥ 10) at the offset examined.")


def _c8(m, profile):
    c = m["mc"]["c8"]
    nw, ia = c["newton"], c["ideal"]
    ok = nw["grad1"] <= 1e-10 and ia["adam_steps_to_1e-6"] is not None and ia["adam_steps_to_1e-6"] <= 100 \
        and ia["gd_ratio"][min(100, ia["steps"])] > 1e-6 and ia["steps"] >= 100
    return Outcome(f"Newton: |∇L(θ1)| = {nw['grad1']:.2e} (from {nw['grad0']:.3g}, cond {nw['cond']:.3g}); "
                   f"idealised Adam reaches loss ratio 1e-6 at step {ia['adam_steps_to_1e-6']}, GD (lr 1/max h) "
                   f"is at {ia['gd_ratio'][min(100, ia['steps'])]:.3g} after 100 steps", ok,
                   f"h spans {ia['h_decades']:.0f} decades; idealised Adam: no momentum, √v̂ frozen at σ|h|, "
                   "η = 0.5σ, i.e. step 0.5 g_i/|h_i| (damped Newton).")


def _c9(m, profile):
    n = m["net"]
    per = n["per_batch"]

    def one(k, r):
        s, f, b = r["spearman"], r["fit"], r["slope_bootstrap"]
        return (f"batch {k}: Spearman {s['estimate']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}], slope {f['slope']:.3f} "
                f"(bootstrap [{b['lo']:.3f}, {b['hi']:.3f}], R² {f['r2']:.3f}; without the "
                f"{r['n_at_l2_floor']} parameters at the L2 floor H_ii = l2: {r['fit_above_floor']['slope']:.3f})")

    ok = n["hessian_min_eig"] > 0 and all(r["spearman"]["estimate"] > 0.5 for r in per.values())
    return Outcome("; ".join(one(k, r) for k, r in per.items()), ok,
                   f"{n['dataset']}, {n['n_params']} parameters, n = {next(iter(per.values()))['spearman']['n']} pairs, "
                   f"{next(iter(per.values()))['spearman']['n_boot']} bootstrap resamples (95%); Hessian eigenvalues "
                   f"[{n['hessian_min_eig']:.3g}, {n['hessian_max_eig']:.3g}] ({n['hessian']}; strict minimum: min > 0 is gated); "
                   f"L-BFGS |grad| {n['lbfgs']['grad_norm']:.1e}. Slopes are exploratory (article 1, Gauss–Newton "
                   "0.5, card calibration ≈ 1.2).")


CLAIMS = (
    Claim("C1", r"For a quadratic loss with Hessian $H$ and $\theta-\theta^*\sim\mathcal N(0,\sigma^2I)$, "
          r"$\mathbb E[gg^\top]=\sigma^2H^2$; the Monte Carlo error falls like $K^{-1/2}$.",
          "exact; card pilot: relative error 0.005 at 2·10^5 samples (n = 20)", _c1),
    Claim("C2", r"Hence $\sqrt{\mathbb E[g_i^2]}=\sigma|h_i|$ for a diagonal $H$: the log-log slope of "
          r"$\sqrt{v_i}$ against $h_i$ is 1, not 0.5.",
          "card pilot: slope 1.000, R² 1.000 at β2 = 0.9, 0.99", _c23,
          note="Checked on real full-batch Adam dynamics (the card's adam_quadratic stage), with the C3 gate."),
    Claim("C3", r"Full-batch Adam on a diagonal quadratic keeps oscillating around $\theta^*$ with nearly equal "
          r"amplitude in every coordinate, so $\sqrt{\hat v}\propto h$ and the step $\eta/\sqrt{\hat v_i}\propto "
          r"1/h_i$ is Newton-like.",
          "card pilot: std θ ≈ 3.0e-5 everywhere, hη/√v̂ ≈ 33 (CV 2e-6 at β2 = 0.9, 0.006 at 0.99)", _c23,
          note="β2 = 0.999 is reported only: deterministic gradients with a long v memory damp the oscillation."),
    Claim("C4", r"With per-example gradient noise (minibatches) the relation becomes Gauss–Newton-like, "
          r"$\hat v\propto H$ (slope 0.5), while the full batch (long-term average of the oscillation) gives slope 1.",
          "card calibration: 0.500 / 0.502 / 0.505 / 0.891 (batch 1, 8, 64, full)", _c4,
          note="Smoke uses the card's smoke thresholds (batch 8 < 0.65, full > 0.75)."),
    Claim("C5", r"Linear regression at $\theta^*$ with noise variance $s^2$: the per-example gradient second "
          r"moment is $s^2\,\mathbb E[xx^\top]=s^2H$.", "exact (Gauss–Newton relation)", _c5),
    Claim("C6", r"An EMA with $\beta_2$ closer to 1 estimates $\mathbb E[g^2]$ with smaller relative error "
          r"($\propto\sqrt{(1-\beta_2)/(1+\beta_2)}$), while a long momentum average of gradients around "
          r"$\theta^*$ shrinks toward 0.", "monotone in β2 and β1", _c6),
    Claim("C7", r"Around a non-stationary point the raw second moment is biased by $g_0g_0^\top$, while the "
          r"covariance (as AdaBelief centres) still equals $\sigma^2H^2$.", "covariance error ≤ 0.02, raw ≥ 10×", _c7),
    Claim("C8", r"Newton's step $-H^{-1}g$ solves a quadratic in one step; Adam with $\hat v$ replaced by its "
          r"idealised value $\sigma^2h^2$ behaves like damped Newton.",
          "residual ≤ 1e-10; loss ratio ≤ 1e-6 within 100 steps (GD does not)", _c8),
    Claim("C9", r"Near a strict minimum of a small network, $\sqrt{\hat v}$ tracks $|\mathrm{diag}\,H|$ "
          r"(rank correlation); the fitted slope is exploratory.",
          "card calibration: Spearman 0.978 / 0.958, slope 1.24 / 1.15 (full / batch 32)", _c9,
          expected_at=("default", "full"),
          note="Smoke runs a tiny network only to exercise the stage; the card gives the check at default."),
)

FIGURES = (
    Figure("quadratic_scatter.png", "(a) √v̂ against the curvature, full-batch Adam",
           "Time-averaged √v̂_i over the second half against h_i for each β2 (diagonal quadratic, full batch), "
           "with slope-1 (dashed) and slope-0.5 (dotted) guides (C2, C3).", "adam_quadratic"),
    Figure("oscillation.png", "(b) Iterates circling the optimum",
           "θ_i − θ*_i for four coordinates across the h range (β2 = 0.99); the grey band is ± the mean "
           "per-coordinate std of θ over the second half: equal amplitude in every coordinate (C3).",
           "adam_quadratic"),
    Figure("batch_slope.png", "(c) Slope of log √v̂ vs log h against batch size",
           "Linear regression from the OLS solution; error bars are the fit's 95% slope intervals; guides at 1 "
           "(Hessian) and 0.5 (Gauss–Newton) (C4).", "linreg_batch"),
    Figure("ema.png", "(d) EMA error against β2; momentum shrinkage against β1",
           "Left: mean relative error of √v̂ against σ|h| after 10^4 i.i.d. draws, with 95% band and theory. "
           "Right: the RMS over coordinates of m̂_i/RMS_t(g_i) with band and theory √((1−β1)/(1+β1)) (C6).", "mc_checks"),
    Figure("moments.png", "(e) Monte Carlo second moments; raw vs centred",
           "Left: C1 relative Frobenius error against K with 95% band and a K^−1/2 guide. Right: C7 errors of "
           "the raw moment and the covariance against σ²H² as the expansion point moves off the optimum, with "
           "95% bands.", "mc_checks"),
    Figure("newton.png", "Idealised Adam is damped Newton",
           "C8: loss ratio of Adam with √v̂ frozen at σ|h| (step 0.5 g_i/|h_i|) and of GD with lr 1/max h; "
           "the dotted line is 1e-6.", "mc_checks"),
    Figure("network.png", "(f) Network: √v̂ against the exact Hessian diagonal",
           "MLP on digits near its L-BFGS minimum: time-averaged √v̂_i against |H_ii| for full batch and "
           "minibatches, with slope-1 and slope-0.5 guides (C9). The vertical column at H_ii = l2 = 1e-3 holds "
           "weights from always-blank pixels, which feel only the L2 penalty.", "network"),
)

SUMMARY = r"""
Newton's method minimises the local quadratic model and needs no learning rate; read this way, SGD
assumes $\mathcal H_t=\eta^{-1}I$ and Adam assumes $\mathcal H_t=\eta^{-1}\mathrm{diag}(\sqrt{\hat v_t}+\epsilon)$.
Following Molybog et al., the article argues that near a minimum, with $\theta-\theta^*$ fluctuating like
$\mathcal N(0,\sigma^2I)$, $\mathbb E[gg^\top]\approx\sigma^2\mathcal H^2$, so $\sqrt{\hat v}$ estimates
$\sigma|\mathrm{diag}\,\mathcal H|$ — the square root of a squared Hessian — which also explains why $\beta_2$
should be close to 1 while momentum stays local. The Gauss–Newton view instead gives a second moment
linear in $\mathcal H$; the article reconciles the two as a long-time average against an instantaneous relation.

We check the Monte Carlo identities, run full-batch Adam on diagonal quadratics (slope 1: the iterates
circle the optimum with equal amplitude), show how minibatch noise moves the slope to 0.5 in linear
regression, check the AdaBelief-style centred moment away from a stationary point, and compare
$\sqrt{\hat v}$ with the exact Hessian diagonal of a small MLP near a strict minimum.
"""

_NET_DEPS = {"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz"}

ARTICLE = Article(
    id="10588", slug="adam-hessian-approximation", key="a10588",
    title="Viewing Adaptive Learning-Rate Optimizers Through Hessian Approximation",
    title_zh="从Hessian近似看自适应学习率优化器",
    date="2024-11-29", url="https://kexue.fm/archives/10588",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("mc_checks", mc_checks, outs={"metrics": f"{D}/mc_checks.json"},
              params=("c1_n", "c1_sigma", "c1_K", "c1_reps", "c5_n", "c5_N", "c5_noise", "h_log10_lo", "h_log10_hi",
                      "c6_n", "c6_T", "c6_reps", "c6_betas2", "c6_betas1", "c7_offsets", "c7_K", "c7_reps",
                      "c8_n", "c8_steps"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=5),
        Stage("adam_quadratic", adam_quadratic,
              outs={"metrics": f"{D}/quadratic.json", "arrays": f"{D}/quadratic.npz"},
              params=("quad_n", "quad_log10_lo", "quad_log10_hi", "quad_steps", "quad_lr", "quad_beta1",
                      "quad_betas2", "quad_eps", "quad_init_std", "quad_noise_std", "quad_noise_beta2"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=10),
        Stage("linreg_batch", linreg_batch,
              outs={"metrics": f"{D}/linreg.json", "arrays": f"{D}/linreg.npz"},
              params=("lr_n", "lr_N", "lr_noise", "h_log10_lo", "h_log10_hi", "lr_steps", "lr_lr", "lr_betas",
                      "lr_eps", "lr_init_std", "lr_batches"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=10),
        Stage("network", network, deps=_NET_DEPS,
              outs={"metrics": f"{D}/network.json", "arrays": f"{D}/network.npz"},
              params=("net_dataset", "net_n_train", "net_hidden", "net_hessian", "net_probes", "net_lanczos_iters", "net_l2", "net_lbfgs_iters", "net_steps", "net_lr", "net_betas",
                      "net_eps", "net_noise", "net_batches", "net_boot", "net_ckpt_every"),
              persist={"ckpt": f"{D}/network_ckpt/"}, metrics="metrics", device=True, kind="train",
              mem_mb=3000, runtime_min=15),
        Stage("figures", figures,
              deps={"mc": f"{D}/mc_checks.json", "quad": f"{D}/quadratic.json", "quad_arrays": f"{D}/quadratic.npz",
                    "linreg": f"{D}/linreg.json", "net": f"{D}/network.json", "net_arrays": f"{D}/network.npz"},
              outs={"figures": f"{D}/figures/"}, kind="figure", mem_mb=2000, runtime_min=5),
    ),
    claims=CLAIMS,
    figures=FIGURES,
)
