"""kexue.fm/archives/9607 — scaling laws derived from the quantization hypothesis.

Stages: theory (C1–C7: exact tail sums and the idealised learner with the infinite Zipf tail, numpy/scipy)
-> sparse_parity (C8: one-hidden-layer MLPs on multitask sparse parity across widths and steps, torch,
resumable) -> figures. The declaration (parameters, claims, figures) lives here, the stage functions in
stages/a9607_stages.py, the computation in kexue.quanta_scaling(_study), kexue.data.sparse_parity and
kexue.sparse_parity_(training|study).
"""
from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9607_stages import D, figures, sparse_parity, theory

CARD_GAMMAS = (0.2, 0.4, 0.8)


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    # theory / idealised learner (C1–C7)
    gammas: list[float] = Field(min_length=1, description="Zipf gammas (p_k ∝ k^(-gamma-1)), each > 0")
    K: int = Field(ge=1000, le=100_000_000, description="explicit quanta before the exact zeta tail")
    C: int = Field(ge=1, le=1_000_000, description="parameters per quantum (n = floor(N / C))")
    tau: int = Field(ge=1, le=100_000, description="a quantum is learned once seen tau times")
    step_batch: int = Field(ge=1, le=10_000_000, description="batch B of the step law")
    d_lo: float = Field(gt=0, description="smallest data size D (and S·B)")
    d_hi: float = Field(gt=0, le=1e15)
    per_decade: int = Field(ge=1, le=50, description="D grid points per decade")
    learner_seeds: int = Field(ge=1, le=100, description="seeds of the sampled D- and S-laws")
    n_lo: int = Field(ge=1, description="N-law: smallest number of known quanta")
    n_hi: int = Field(ge=2, le=10**12)
    Q: int = Field(ge=10, le=10_000_000, description="finite number of quanta (C7)")
    exp_mu: float = Field(gt=0, le=10, description="exponential frequencies p_k ∝ exp(-mu k) (C6)")
    # multitask sparse parity (C8)
    sp_n_bits: int = Field(ge=2, le=4096)
    sp_k: int = Field(ge=1, le=64, description="bits per parity subset")
    sp_n_tasks: int = Field(ge=2, le=100_000)
    sp_zipf_exponent: float = Field(gt=1, le=5, description="subtask Zipf exponent = gamma + 1 (paper's `alpha`)")
    sp_widths: list[int] = Field(min_length=2, description="hidden widths, strictly increasing")
    sp_steps: int = Field(ge=2, le=10_000_000)
    sp_batch: int = Field(ge=1, le=1_000_000)
    sp_lr: float = Field(gt=0, le=1)
    sp_seeds: int = Field(ge=1, le=20)
    sp_test_per_task: int = Field(ge=8, le=1_000_000, description="fixed test samples per subtask")
    sp_eval_points: int = Field(ge=3, le=1000, description="log-spaced evaluation steps")
    sp_ckpt_every: int = Field(ge=1, le=10_000_000)
    sp_data_sizes: list[int] = Field(default_factory=list, description="D-sweep training-set sizes (full only)")
    sp_data_width: int = Field(ge=1, le=100_000)
    sp_data_steps: int = Field(ge=2, le=10_000_000)
    sp_sweep_exponents: list[float] = Field(default_factory=list, description="Zipf exponents of the gamma sweep")
    sp_sweep_widths: list[int] = Field(default_factory=list)
    sp_sweep_steps: int = Field(ge=2, le=10_000_000)

    @field_validator("gammas")
    @classmethod
    def _gammas(cls, v):
        bad = [g for g in v if not 0 < g <= 10]
        if bad:
            raise ValueError(f"gammas must lie in (0, 10]; got {bad}")
        miss = [g for g in CARD_GAMMAS if not any(abs(g - x) < 1e-12 for x in v)]
        if miss:
            raise ValueError(f"must include the card's gammas {list(CARD_GAMMAS)} (missing {miss})")
        return v

    @field_validator("sp_widths", "sp_data_sizes", "sp_sweep_widths")
    @classmethod
    def _increasing(cls, v):
        if any(x < 1 for x in v) or any(b <= a for a, b in zip(v, v[1:])):
            raise ValueError(f"must be positive and strictly increasing; got {v}")
        return v

    @field_validator("sp_sweep_exponents")
    @classmethod
    def _exps(cls, v):
        bad = [x for x in v if not 1 < x <= 5]
        if bad:
            raise ValueError(f"Zipf exponents must lie in (1, 5] (gamma > 0); got {bad}")
        return v

    @model_validator(mode="after")
    def _cross(self):
        if self.d_lo >= self.d_hi:
            raise ValueError(f"d_lo = {self.d_lo} must be below d_hi = {self.d_hi}")
        if self.d_lo < self.step_batch:
            raise ValueError(f"d_lo = {self.d_lo} must be >= step_batch = {self.step_batch} (at least one step)")
        if self.n_lo >= self.n_hi:
            raise ValueError(f"n_lo = {self.n_lo} must be below n_hi = {self.n_hi}")
        if self.K // 100 < 3:
            raise ValueError(f"K = {self.K}: the fit window 3 <= n_learned <= K/100 is empty")
        if self.sp_k > self.sp_n_bits:
            raise ValueError(f"sp_k = {self.sp_k} exceeds sp_n_bits = {self.sp_n_bits}")
        if math.comb(self.sp_n_bits, self.sp_k) < self.sp_n_tasks:
            raise ValueError(f"only C({self.sp_n_bits}, {self.sp_k}) = {math.comb(self.sp_n_bits, self.sp_k)} "
                             f"distinct subsets for sp_n_tasks = {self.sp_n_tasks}: raise sp_n_bits or sp_k")
        if bool(self.sp_sweep_exponents) != bool(self.sp_sweep_widths):
            raise ValueError("sp_sweep_exponents and sp_sweep_widths must be both empty or both given")
        return self


# ------------------------------------------------------------------------ claims
def _g(m, key):
    return [(float(g), v) for g, v in m[key].items() if isinstance(v, dict)]


def _c1(m, profile):
    rows = _g(m, "c1")
    ok = all(abs(v["ratio_at_1e4"] - 1) <= 1e-3 and abs(v["slope_at_1e5"] + g) <= 0.01 for g, v in rows)
    return Outcome("; ".join(f"γ={g:g}: ratio(1e4) = {v['ratio_at_1e4']:.6f}, slope(1e5) = {v['slope_at_1e5']:.5f}"
                             for g, v in rows), ok,
                   "exact d log tail/d log n at 1e5: " + ", ".join(f"{v['exact_slope_at_1e5']:.6f}" for _, v in rows)
                   + "; tolerances 1e-3 (ratio), 0.01 (slope)")


def _c2(m, profile):
    rows = _g(m, "c2")
    ok = all(abs(v["slope"] + g) <= 0.02 for g, v in rows)
    v0 = rows[0][1]
    return Outcome("; ".join(f"γ={g:g}: N-slope {v['slope']:.4f}" for g, v in rows), ok,
                   f"n = floor(N/C), C = {v0['C']}, n in {v0['n_range']} ({v0['n_points']} points, exact ζ tail); "
                   f"tolerance 0.02")


def _sampled(key, what):
    def check(m, profile):
        tol = 0.05 if profile == "smoke" else 0.02
        rows = _g(m, key)
        ok, parts = True, []
        for g, v in rows:
            s = v["slope_mean"]
            ok &= s is not None and abs(s - v["theory"]) <= tol
            ci = v["slope_ci"]
            ci_s = f" [{ci['lo']:.4f}, {ci['hi']:.4f}]" if ci else ""
            parts.append(f"γ={g:g}: {s:.4f}{ci_s} vs {v['theory']:.4f}" if s is not None else f"γ={g:g}: no fit")
        v0 = rows[0][1]
        return Outcome(f"{what}-slope (seed mean, n = {v0['seeds']}): " + "; ".join(parts), ok,
                       f"K = {m[key]['K']}, τ = {m[key]['tau']}, window {m[key]['window'][0]} <= n_learned <= "
                       f"{m[key]['window'][1]}; expected-count slopes "
                       + ", ".join(f"{v['det_slope']:.4f}" for _, v in rows if v['det_slope'] is not None)
                       + f"; tolerance {tol}" + (" (smoke, coarser grid)" if profile == "smoke" else "")
                       + "; max mean count beyond K in the window "
                       + ", ".join(f"{v['max_mean_beyond_K_in_window']:.3g}" for _, v in rows))
    return check


def _c5(m, profile):
    c = m["c5"]
    return Outcome(f"{c['violations_order']} violations of γ > γ/(γ+1), {c['violations_unit']} of "
                   f"0 < γ/(γ+1) < 1 on {c['grid'][2]} γ in [{c['grid'][0]}, {c['grid'][1]}]",
                   c["violations_order"] == 0 and c["violations_unit"] == 0,
                   f"max α_D = {c['max_alpha_D']:.4f}; min α_N − α_D = {c['min_gap']:.2e}")


def _c6(m, profile):
    c = m["c6"]
    ok = c["semilog_r2"] > 0.99 and abs(c["loglog_c2"]) > 0.05 and c["loglog_c2_significant"]
    lo, hi = c["loglog_c2_ci"]
    return Outcome(f"exponential μ = {c['mu']}: R² of log L vs n = {c['semilog_r2']:.6f}; log-log quadratic "
                   f"c2 = {c['loglog_c2']:.3f} [{lo:.3f}, {hi:.3f}]", ok,
                   f"n in {c['n_range']} ({c['n_points']} log-spaced points); Zipf γ = 0.4 on the same grid: "
                   f"c2 = {c['zipf_loglog_c2']:.4f}; thresholds R² > 0.99, |c2| > 0.05 with 95% CI excluding 0")


def _c7(m, profile):
    c = m["c7"]
    ok = c["L_at_Q"] == c["a"] and c["slope_at_0.8Q"] < c["threshold"]
    return Outcome(f"Q = {c['Q']}: L(Q) = {c['L_at_Q']!r} (a = 0); local slope at n = {c['n_at']}: "
                   f"{c['slope_at_0.8Q']:.3f} (< −2γ = {c['threshold']:.1f})", ok,
                   f"infinite-tail slope there {c['infinite_slope_at_0.8Q']:.3f}; one quantum's expected loss goes "
                   f"from 90% to 10% within " + ", ".join(f"{v:.2f}" for v in c["emergence_decades_90_to_10"].values())
                   + " decades of D (quanta 1, 10, 100; τ = 20)")


def _f2(x):
    return "n/a" if x is None else f"{x:.2f}"


def _c8(m, profile):
    c = m["c8"]
    nfit = c["n_slope_all_widths"]
    ntxt = "n/a" if nfit is None else f"{nfit['slope']:.3f} [{nfit['slope_ci'][0]:.3f}, {nfit['slope_ci'][1]:.3f}]"
    base = (f"mean loss by width {c['widths']}: {[round(x, 3) for x in c['mean_final_loss']]} bits; learned "
            f"{c['n_learned']}; widest: {c['widest_n_learned']} learned, Spearman(rank, emergence step) = "
            f"{'n/a' if c['spearman_rank_vs_first_step'] is None else round(c['spearman_rank_vs_first_step'], 3)}")
    detail = (f"N-slope (all widths, loss vs parameters) {ntxt}, γ = {c['task']['gamma']:.2f}; {c['steps']} steps, "
              f"batch {c['batch']}, {c['task']['n_tasks']} subtasks, n = {c['task']['n_bits']}, "
              f"k = {c['task']['k']}; median emergence width "
              f"{_f2(c['transition_decades_median'])} decades of steps (90% -> 10% of initial loss); seeds {c['seeds']}")
    if profile == "full":   # A8
        g = c["task"]["gamma"]
        w, ds, gs = c["n_slope_window"], c["d_sweep"], c["gamma_sweep"]
        aN = None if w is None else -w["slope"]
        aD = None if ds["slope"] is None else -ds["slope"]
        r = gs["pearson_r"]
        ok = (aN is not None and abs(aN - g) <= 0.35 * g and aD is not None
              and abs(aD - g / (g + 1)) <= 0.35 * g / (g + 1) and r is not None and r > 0.8)
        return Outcome(base + f"; α_N = {aN}, α_D = {aD}, Pearson(γ, α_N) = {r}", ok, detail)
    rho = c["spearman_rank_vs_first_step"]
    ok = (c["max_increase_with_width"] <= 0.01 and c["narrowest_minus_widest"] >= 0.05
          and c["widest_n_learned"] >= 6 and rho is not None and rho > 0.7)
    return Outcome(base, ok, detail + f"; largest loss increase with width {c['max_increase_with_width']:.4f} bits "
                   f"(≤ 0.01), narrowest − widest {c['narrowest_minus_widest']:.3f} bits (≥ 0.05)")


SUMMARY = r"""
The quantization hypothesis: a perfect model is a collection of discrete skills ("quanta"); each
sample needs one; ranked by use, quanta follow Zipf's law $p_k\propto k^{-\gamma-1}$. A model that
knows the $n$ most frequent quanta has loss $L=a+(b-a)\sum_{k>n}p_k\approx a+\frac{b-a}{\gamma Z_\gamma}n^{-\gamma}$.
With $n\propto N$ this gives $L\sim N^{-\gamma}$; if a quantum is learned only after $\tau$ examples,
$n\propto D^{1/(\gamma+1)}$ and $L\sim D^{-\gamma/(\gamma+1)}$, and the same for steps $S$ at fixed batch.

We evaluate the tail exactly (Hurwitz zeta), run the idealised learner on sampled counts with the
infinite tail kept exactly, test the exponential alternative and a finite number of quanta, and train
one-hidden-layer MLPs on multitask sparse parity (Michaud et al. 2023) to see subtasks emerge in
frequency order. Losses of the idealised learner are in nats ($a=0$, $b=\ln 2$); neural losses in bits.
"""

ARTICLE = Article(
    id="9607",
    slug="quantization-scaling-law",
    key="a9607",
    title="Deriving Model Scaling Laws Based on the Quantization Hypothesis",
    title_zh="基于量子化假设推导模型的尺度定律（Scaling Law）",
    date="2023-05-18",
    url="https://kexue.fm/archives/9607",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("theory", theory, outs={"metrics": f"{D}/theory.json", "arrays": f"{D}/theory_arrays.npz"},
              params=("gammas", "K", "C", "tau", "step_batch", "d_lo", "d_hi", "per_decade", "learner_seeds",
                      "n_lo", "n_hi", "Q", "exp_mu"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=5),
        Stage("sparse_parity", sparse_parity,
              outs={"metrics": f"{D}/sparse_parity.json", "arrays": f"{D}/sparse_parity_arrays.npz"},
              params=("sp_n_bits", "sp_k", "sp_n_tasks", "sp_zipf_exponent", "sp_widths", "sp_steps", "sp_batch",
                      "sp_lr", "sp_seeds", "sp_test_per_task", "sp_eval_points", "sp_ckpt_every", "sp_data_sizes",
                      "sp_data_width", "sp_data_steps", "sp_sweep_exponents", "sp_sweep_widths", "sp_sweep_steps"),
              persist={"ckpt": f"{D}/sparse_parity_ckpt/"}, metrics="metrics", device=True, kind="train",
              mem_mb=3000, runtime_min=30),
        Stage("figures", figures,
              deps={"theory": f"{D}/theory_arrays.npz", "neural": f"{D}/sparse_parity_arrays.npz"},
              outs={"figures": f"{D}/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=(
        Claim("C1", r"The Zipf tail obeys $\sum_{k>n}k^{-\gamma-1}\big/\big(n^{-\gamma}/\gamma\big)\to1$, so "
                    r"$L(n)-a=(b-a)\,\mathrm{tail}(n)$ has local log-log slope $\to-\gamma$.",
              "ratio → 1, slope → −γ (card: ratio at 1e4 = 0.99998 for γ = 0.4)", _c1),
        Claim("C2", r"Parameter scaling: with $n=\lfloor N/C\rfloor$ known quanta, $L\propto N^{-\gamma}$.",
              "α_N = γ (card calibration: −0.397 over n = 3..1e5 at γ = 0.4)", _c2),
        Claim("C3", r"Data scaling: a quantum is learned iff it occurs at least $\tau$ times among $D$ i.i.d. "
                    r"samples; then $L\propto D^{-\gamma/(\gamma+1)}$.",
              "α_D = γ/(γ+1) (card calibration −0.2858 vs −0.2857 at γ = 0.4)", _sampled("c3", "D")),
        Claim("C4", r"Step scaling: with batch $B$ and the same threshold on cumulative counts, "
                    r"$L\propto S^{-\gamma/(\gamma+1)}$.", "α_S = γ/(γ+1)", _sampled("c4", "S")),
        Claim("C5", r"$\alpha_N>\alpha_D=\alpha_S$ and $\alpha_D\in(0,1)$ for every $\gamma>0$.",
              "γ > γ/(γ+1) ∈ (0, 1)", _c5),
        Claim("C6", r"With exponential frequencies $p_k\propto e^{-\mu k}$ the loss falls exponentially in $n$, "
                    r"not as a power law.", "the author's reason for choosing Zipf", _c6),
        Claim("C7", r"With finitely many quanta $Q$, $L(n)$ reaches the floor $a$ at $n=Q$ (the power law bends down "
                    r"before $Q$), and each quantum's loss drops abruptly when it is learned (emergence).",
              "finite-size cutoff; emergence", _c7),
        Claim("C8", r"MLPs on multitask sparse parity with Zipfian subtask frequencies learn subtasks roughly in "
                    r"frequency order, each with a sharp transition, and the mean loss follows $N^{-\gamma}$ and "
                    r"$D^{-\gamma/(\gamma+1)}$ approximately.",
              "source paper: α_N ≈ 0.4, α_D ≈ 0.286 at γ = 0.4 (paper scale)", _c8,
              expected_at=("default", "full"),
              note="Default (2-core CPU) is qualitative as the card says: loss non-increasing in width, widest run "
                   "≥ 0.05 bits below the narrowest, emergence order (Spearman > 0.7 over ≥ 6 learned subtasks); "
                   "the N-slope is reported without a threshold. The exponents (A8) are checked at full only."),
    ),
    figures=(
        Figure("ideal_learner.png", "Idealised learner: L vs N, D and S",
               "Loss (nats, a = 0, b = ln 2) of the quantized learner with the infinite Zipf tail against parameters "
               "N (n = N/C), data D and steps S (batch B, cumulative counts), for each γ; D and S curves are seed "
               "means with the seeds' range as a band; dashed: theory slopes −γ and −γ/(γ+1) through the fit "
               "window's first point; grey dots mark points outside the window 3 ≤ n_learned ≤ K/100.", "theory"),
        Figure("tail_ratio.png", "Tail ratio and local slope (C1)",
               "Left: Σ_{k>n} k^{−γ−1} / (n^{−γ}/γ) against n. Right: local log-log slope of the tail (central "
               "differences) against n, with −γ dashed.", "theory"),
        Figure("shapes.png", "Zipf vs exponential frequencies; finite Q (C6, C7)",
               "Left: L(n) for Zipf (γ = 0.4) and exponential (μ) frequencies in log-log; the exponential curve bends. "
               "Middle: finite Q = 200 quanta vs the infinite tail: the loss drops to a = 0 at n = Q. Right: expected "
               "loss fraction of quanta 1, 10 and 100 against the number of samples D (Poisson, τ = 20): "
               "each quantum emerges within a fraction of a decade.", "theory"),
        Figure("emergence.png", "Sparse parity: subtask × width and subtask × step",
               "Per-subtask test loss (bits) of the MLPs, subtasks in frequency order: left, final loss against width; "
               "right, loss of the widest model against training step (log-spaced evaluations): the emergence "
               "staircase of the paper's Figure 2.", "sparse_parity"),
        Figure("neural_scaling.png", "Sparse parity: mean loss vs parameters and steps",
               "Left: frequency-weighted mean test loss (bits) against parameter count, with an N^{−γ} guide line "
               "through the narrowest model. Right: mean loss against steps for each width.", "sparse_parity"),
        Figure("exponents.png", "Fitted exponents vs γ",
               "Ideal-learner exponents α_N (N-law) and α_D, α_S (seed means) against γ with y = γ and y = γ/(γ+1); "
               "neural α_N of the γ sweep where it was run (full profile).", "theory"),
    ),
)
