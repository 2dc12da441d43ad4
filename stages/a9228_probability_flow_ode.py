"""kexue.fm/archives/9228 — Diffusion models (6): the general framework, ODE side (probability-flow ODE).

Stages: exact_checks (C1 Fokker-Planck, C2/C3/C8 the SDE family on G1 and its negative controls) ‖ ode_tools
(C4 encode/decode, C5 exact-score likelihood, C6 continuous DDIM) ‖ solver_sweep (C3's D on G2, C7 D vs NFE)
‖ learned_score (the eps-model on G2 for C5's learned row; off at smoke) -> figures. All scores are exact
(Gaussian mixtures under the VP SDE) except the learned one. This module declares the article; the stage
functions live in stages/a9228_stages.py and the computation in kexue.pf_ode_checks, kexue.pf_ode_experiments
and kexue.diffusion_families.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9228_stages import D, exact_checks, figures, learned_score, ode_tools, solver_sweep

DEF = ("default", "full")
CARD_RATIOS = (1.0, 0.5, 0.0)
SNAP = (0.1, 0.3, 1.0)


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    beta_min: float = Field(gt=0, le=10, description="VP SDE beta(0) (Song et al.: 0.1)")
    beta_max: float = Field(gt=0, le=100, description="VP SDE beta(1) (Song et al.: 20)")
    t_min: float = Field(gt=0, lt=0.1, description="samplers stop at t_min and compare with p_{t_min}")
    # C1
    fp_grid_x: int = Field(ge=3, le=100_000)
    fp_grid_t: int = Field(ge=2, le=10_000)
    fp_h: float = Field(gt=0, le=1e-2, description="central-difference step in t")
    # C2 / C3 / C8
    particles_1d: int = Field(ge=100, le=10_000_000)
    particles_2d: int = Field(ge=100, le=10_000_000)
    sde_steps: int = Field(ge=10, le=100_000, description="Euler-Maruyama steps for C2/C3 (multiple of 10)")
    sigma_ratios: list[float] = Field(min_length=3, description="sigma_t/g_t of the family; must hold 1, 0.5, 0")
    d_ratios: list[float] = Field(min_length=3, description="ratios whose D on G2 is measured (C3)")
    control_ratio: float = Field(gt=0, le=1, description="noise ratio of the forward negative control")
    snapshot_times: list[float] = Field(min_length=1)
    ref_samples: int = Field(ge=1000, le=10_000_000, description="exact draws for E log p_{t_min} in D")
    trajectories: int = Field(ge=1, le=1000)
    # C4 / C5 / C6
    rk45_rtol: float = Field(gt=0, le=1e-3)
    rtol_sweep: list[float] = Field(min_length=2)
    recon_points: int = Field(ge=10, le=1_000_000)
    roundtrip_steps: list[int] = Field(min_length=1)
    encode_points: int = Field(ge=100, le=10_000_000)
    lik_points: int = Field(ge=2, le=100_000)
    lik_rtol: float = Field(gt=0, le=1e-3)
    relation_points: int = Field(ge=2, le=1_000_000)
    ddim_points: int = Field(ge=2, le=1_000_000)
    ddim_steps: list[int] = Field(min_length=3)
    ddim_ref_rtol: float = Field(gt=0, le=1e-6)
    # C7
    nfes: list[int] = Field(min_length=2)
    variant_max_nfe: int = Field(ge=1, description="DDIM and EDM-grid rows only up to this NFE")
    # learned score (0 steps = off)
    learned_steps: int = Field(ge=0, le=10_000_000)
    learned_hidden: int = Field(ge=8, le=8192)
    learned_blocks: int = Field(ge=1, le=16)
    learned_t_dim: int = Field(ge=2, le=4096)
    learned_batch: int = Field(ge=1, le=1_000_000)
    learned_lr: float = Field(gt=0, le=1.0)
    learned_ema: float = Field(gt=0, lt=1)
    learned_train_points: int = Field(ge=100, le=100_000_000)
    learned_particles: int = Field(ge=100, le=10_000_000)
    learned_nfes: list[int] = Field(min_length=1)
    learned_lik_rtol: float = Field(gt=0, le=1e-2)

    @model_validator(mode="after")
    def _rules(self):
        if self.beta_min > self.beta_max:
            raise ValueError(f"beta_min = {self.beta_min} must not exceed beta_max = {self.beta_max}")
        if self.sde_steps % 10:
            raise ValueError(f"sde_steps = {self.sde_steps} must be a multiple of 10 (snapshots at t = 0.1, 0.3)")
        for name in ("sigma_ratios", "d_ratios"):
            vals = getattr(self, name)
            if any(not 0 <= r <= 3 for r in vals) or len(set(vals)) != len(vals):
                raise ValueError(f"{name} = {vals}: distinct values in [0, 3]")
            if not all(r in vals for r in CARD_RATIOS):
                raise ValueError(f"{name} = {vals} must contain the card's 1, 0.5 and 0")
        if 1.5 not in self.sigma_ratios:
            raise ValueError(f"sigma_ratios = {self.sigma_ratios} must contain 1.5 (claim C8)")
        if not all(t in self.snapshot_times for t in SNAP):
            raise ValueError(f"snapshot_times = {self.snapshot_times} must contain the card's 0.1, 0.3, 1.0")
        for t in self.snapshot_times:
            if not 0 < t <= 1 or abs(t * self.sde_steps - round(t * self.sde_steps)) > 1e-6:
                raise ValueError(f"snapshot time {t} must lie in (0, 1] on the grid of sde_steps = {self.sde_steps}")
        for name in ("roundtrip_steps", "ddim_steps", "nfes", "learned_nfes"):
            vals = getattr(self, name)
            if any(v < 1 for v in vals) or len(set(vals)) != len(vals):
                raise ValueError(f"{name} = {vals}: distinct positive integers")
        if len(self.ddim_steps) < 3:
            raise ValueError("ddim_steps needs >= 3 step counts for the log-log slope")
        if not (25 in self.nfes and 50 in self.nfes):
            raise ValueError(f"nfes = {self.nfes} must contain 25 and 50 (claim C7)")
        if any(not 0 < r <= 1e-2 for r in self.rtol_sweep):
            raise ValueError(f"rtol_sweep = {self.rtol_sweep}: each in (0, 1e-2]")
        if 0 < self.learned_steps < 100:
            raise ValueError(f"learned_steps = {self.learned_steps}: 0 (off) or >= 100")
        if self.learned_particles > self.particles_2d:
            raise ValueError(f"learned_particles = {self.learned_particles} must not exceed particles_2d")
        return self


# ------------------------------------------------------------------------ claims
def _k(v):
    return f"{v:g}"


def _ks(r):
    return f"{r['ks']:.4f}"


def _c1(m, profile):
    c = m["c1"]
    ok = max(c["analytic"], c["autograd"]) < 1e-6 and c["finite_difference"] < 1e-3
    return Outcome(f"max |∂t p − RHS| / max |∂t p| on {c['grid'][0]} × {c['grid'][1]}: analytic {c['analytic']:.1e}, "
                   f"autograd {c['autograd']:.1e}, finite differences (h = {c['fd_h']:g}) {c['finite_difference']:.1e}",
                   ok, f"library score vs closed form {c['score_lib_vs_analytic']:.1e}, vs autograd "
                       f"{c['score_autograd_vs_analytic']:.1e}; Laplacian of log p autograd vs closed form "
                       f"{c['laplacian_autograd_vs_analytic']:.1e}; x in {c['x_range']}, t in "
                       f"[{c['t_range'][0]:g}, {c['t_range'][1]:g}]")


def _c2(m, profile):
    c = m["c2"]
    worst = max(c["forward"][_k(r)][_k(t)]["ks"] for r in CARD_RATIOS for t in SNAP)
    ctrl = c["control"][_k(1.0)]
    per = "; ".join(f"σ/g={_k(r)}: " + ", ".join(_ks(c["forward"][_k(r)][_k(t)]) for t in SNAP) for r in CARD_RATIOS)
    crit = c["forward"][_k(1.0)][_k(1.0)]["crit95"]
    return Outcome(f"max KS {worst:.4f} over σ/g ∈ {{1, 0.5, 0}}, t ∈ {{0.1, 0.3, 1}} ({per}); control "
                   f"(score term dropped, σ = {c['control_ratio']:g} g) KS at t = 1: {ctrl['ks']:.4f}",
                   worst <= 0.015 and ctrl["ks"] >= 0.04,
                   f"n = {c['n']} particles each, {c['steps']} Euler-Maruyama steps; the 95% KS null quantile at "
                   f"this n is {crit:.4f}; control p-value {ctrl['p_value']:.1e}")


def _c3(m, profile):
    c = m["c3"]
    ks = {r: c["reverse_ks"][_k(r)]["ks"] for r in CARD_RATIOS}
    c2d = m["c3_2d"]
    dd = {r: c2d["per_ratio"][_k(r)]["D"] for r in CARD_RATIOS}
    ctrl = c["control"]["ks"]
    ok = max(ks.values()) <= 0.015 and max(d["estimate"] for d in dd.values()) <= 0.06 and ctrl >= 0.04
    dtxt = "; ".join(f"σ/g={_k(r)}: {d['estimate']:.4f} [{d['lo']:.4f}, {d['hi']:.4f}]" for r, d in dd.items())
    return Outcome("G1 KS vs p_ε: " + ", ".join(f"σ/g={_k(r)}: {v:.4f}" for r, v in ks.items())
                   + f"; G2 D (95% CI, n = {c2d['n']}): {dtxt}; control (ODE drift + SDE noise) KS {ctrl:.4f}",
                   ok, f"n = {c['n_1d']} (1-D), {c['steps']} steps from N(0, I) at t = 1 to t = {c['t_end']:g}; "
                       f"the 95% KS null quantile is {c['reverse_ks']['1']['crit95']:.4f}; E log p_ε from "
                       f"{c2d['ref_log_density']['n']} exact draws; G2 per-mode spread ratio "
                       + ", ".join(f"{_k(r)}: {c2d['per_ratio'][_k(r)]['modes']['mean_ratio']:.3f}" for r in CARD_RATIOS))


def _c4(m, profile):
    c = m["c4"]
    e = c["encode_ks_normal"]
    ks_ok = e["p_value"] > 0.01 if profile == "smoke" else e["ks"] <= 0.015
    ok = c["roundtrip_max_err"] < 1e-4 and c["g3"]["max_err"] < 1e-4 and ks_ok
    sweep = ", ".join(f"{r['rtol']:g}: {r['max_err']:.1e}" for r in c["rtol_sweep"])
    return Outcome(f"round trip (RK45 rtol {c['rtol']:g}, {c['points']} points) max error G1 "
                   f"{c['roundtrip']['g1']['max_err']:.1e}, G2 {c['roundtrip']['g2']['max_err']:.1e}; G3 map vs "
                   f"closed form {c['g3']['max_err']:.1e}; encodings of {e['n']} G1 points vs N(0, 1): KS "
                   f"{e['ks']:.4f} (p = {e['p_value']:.3f})", ok,
                   f"round-trip error by rtol: {sweep}; card formula vs library flow map "
                   f"{c['g3']['card_formula_vs_library_flow_map']:.1e}; KS vs the exact p_1 "
                   f"{c['encode_ks_exact_p1']['ks']:.4f}; threshold "
                   + ("KS p-value > 0.01 (smoke)" if profile == "smoke" else "KS ≤ 0.015"))


def _c5(m, profile):
    c = m["c5"]
    ex = max(c["g1"]["mean_abs_err"], c["g2"]["mean_abs_err"])
    ex_txt = (f"exact score: mean |log p_ODE − log p_true| G1 {c['g1']['mean_abs_err']:.1e}, G2 "
              f"{c['g2']['mean_abs_err']:.1e} nats (n = {c['g1']['n']})")
    if not m["learned"]["run"]:
        raise KeyError(f"c5_learned ({m['learned']['reason']}; {ex_txt})")
    lr = m["c5_learned"]
    g = lr["gap"]
    rows = [r for r in m["learned"]["rows"] if r["solver"] == "euler"]
    top = max(rows, key=lambda r: r["nfe"]) if rows else None
    spread = (f"; learned Euler-ODE({top['nfe']}) samples: D {top['D']['estimate']:.3f}, per-mode spread ratio "
              f"{top['modes']['mean_ratio']:.2f} (1 = exact)") if top else ""
    return Outcome(f"{ex_txt}; learned score on G2: mean NLL {lr['mean_nll_learned']:.4f} vs true "
                   f"{lr['mean_nll_true']:.4f}, gap {g['mean']:+.4f} [{g['lo']:+.4f}, {g['hi']:+.4f}] "
                   f"(n = {g['n']}, 95%)", ex < 1e-3 and lr["abs_gap"] < 0.15,
                   f"exact prior log p_1 for the exact rows (with N(0, I) instead: G1 "
                   f"{c['g1']['mean_abs_err_std_normal_prior']:.1e}, G2 {c['g2']['mean_abs_err_std_normal_prior']:.1e}); "
                   f"learned row with N(0, I), {m['learned']['arch']}, {m['learned']['steps']} steps; median "
                   f"per-point gap {lr['median_gap']:+.3f}" + spread)


def _c6(m, profile):
    c = m["c6"]
    r, s, f = c["relations"], c["frozen_step"], c["ddim_fit"]
    ok = r["max"] < 1e-8 and s["max_err"] < 1e-10 and -1.3 <= f["slope"] <= -0.7
    return Outcome(f"relations max rel. error {r['max']:.1e} ({r['n_t']} t); frozen-ε DDIM step vs closed form "
                   f"{s['max_err']:.1e}; DDIM vs RK45 log-log slope {f['slope']:.3f} "
                   f"[{f['slope_ci'][0]:.3f}, {f['slope_ci'][1]:.3f}] (R² {f['r2']:.3f}, {f['n']} step counts)", ok,
                   f"f = d log ᾱ/dt {r['f_vs_dlog_abar']:.1e}, g² = 2ᾱβ̄ d(β̄/ᾱ)/dt {r['g2_vs_2ab_dsigma']:.1e}, "
                   f"s = −ε/β̄ {r['score_vs_minus_eps_over_bbar']:.1e}, continuous-DDIM velocity "
                   f"{r['ddim_form_vs_pf_velocity']:.1e}; step vs quadrature {s['max_err_quad']:.1e}, vs (x/ᾱ, β̄/ᾱ) "
                   f"form {s['max_err_sigma']:.1e}; RMS endpoint error on {c['ddim_points']} G2 points, "
                   f"RK45 reference rtol {c['ref_rtol']:g}")


def _c7(m, profile):
    c = m["c7"]
    o25, s25, o50 = c["euler_ode_25"], c["em_sde_25"], c["euler_ode_50"]
    if o25 is None or s25 is None or o50 is None:
        raise KeyError("c7 NFE 25/50 rows")
    f = lambda d: f"{d['estimate']:.4f} [{d['lo']:.4f}, {d['hi']:.4f}]"  # noqa: E731
    ok = o25["estimate"] <= 0.5 * s25["estimate"] and o50["estimate"] <= 0.05
    sde = {r["nfe_target"]: r["D"]["estimate"] for r in c["rows"] if r["solver"] == "sde" and r["grid"] == "uniform"}
    first = min((n for n, d in sorted(sde.items()) if d <= o25["estimate"]), default=None)
    return Outcome(f"D (95% CI, n = {c['n']}): Euler-ODE(25) {f(o25)}, EM-SDE(25) {f(s25)}, Euler-ODE(50) {f(o50)}",
                   ok, "EM-SDE first matches Euler-ODE(25)'s D at NFE "
                       + (f"{first}" if first else f"> {max(sde)}") + f"; exact score, G2, {c['grid']}")


def _c8(m, profile):
    c = m["c8"]
    fw, rv = c["forward"], c["reverse"]
    worst = max([fw[_k(t)]["ks"] for t in SNAP] + [rv["ks"]])
    return Outcome("σ = 1.5 g: forward KS " + ", ".join(f"t={_k(t)}: {_ks(fw[_k(t)])}" for t in SNAP)
                   + f"; reverse KS vs p_ε {_ks(rv)}", worst <= 0.015,
                   f"n = {rv['n']}; reported only, the card expects ≤ 0.015")


SUMMARY = r"""
Part 5 wrote diffusion as a forward SDE $dx=f_t(x)dt+g_t\,dw$ and its reverse, which needs the score
$\nabla_x\log p_t$. Here the article asks which other processes share the marginals $p_t$. Writing the density
as an expectation of a Dirac delta and expanding one Euler step gives the Fokker-Planck equation
$\partial_t p_t=-\nabla\cdot(f_tp_t)+\tfrac12g_t^2\Delta p_t$. Moving part of the diffusion term into the drift
gives a family with any noise level $\sigma_t\le g_t$:
$dx=(f_t-\tfrac12(g_t^2-\sigma_t^2)\nabla\log p_t)dt+\sigma_t\,dw$ forward and
$dx=(f_t-\tfrac12(g_t^2+\sigma_t^2)\nabla\log p_t)dt+\sigma_t\,dw$ in reverse. At $\sigma_t=0$ this is the
probability-flow ODE. It is deterministic and invertible like a flow model: it gives latent codes, exact
likelihoods, and can use high-order ODE solvers. With linear $f_t$ it is the continuous form of DDIM.

The data are Gaussian mixtures under the VP SDE of Song et al., so $p_t$ and the score are exact. We check the
Fokker-Planck equation on a grid. We simulate the family forward and in reverse against the exact marginals,
including two negative controls. We encode and decode with RK45, compute exact ODE likelihoods and show that
DDIM is the Euler discretisation of the ODE in $(x/\bar\alpha,\bar\beta/\bar\alpha)$. Finally we compare
few-step ODE solvers with Euler-Maruyama at equal NFE, and (at default) repeat the likelihood and sampling
rows with a learned score on the 2-D ring.
"""

_J = f"{D}/exact_checks.json"
_JA = f"{D}/exact_checks.npz"
_O = f"{D}/ode_tools.json"
_OA = f"{D}/ode_tools.npz"
_S = f"{D}/solver_sweep.json"
_SA = f"{D}/solver_sweep.npz"
_L = f"{D}/learned_score.json"
_LA = f"{D}/learned_score.npz"
_VP = ("beta_min", "beta_max", "t_min")

ARTICLE = Article(
    id="9228", slug="probability-flow-ode", key="a9228",
    title="Diffusion Models (6): General Framework, the ODE Side",
    title_zh="生成扩散模型漫谈（六）：一般框架之ODE篇",
    date="2022-08-08", url="https://kexue.fm/archives/9228",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("exact_checks", exact_checks, outs={"metrics": _J, "arrays": _JA},
              params=_VP + ("fp_grid_x", "fp_grid_t", "fp_h", "particles_1d", "sde_steps", "sigma_ratios",
                            "control_ratio", "snapshot_times", "trajectories"),
              metrics="metrics", device=True, kind="eval", mem_mb=3000, runtime_min=10),
        Stage("ode_tools", ode_tools, outs={"metrics": _O, "arrays": _OA},
              params=_VP + ("rk45_rtol", "rtol_sweep", "recon_points", "roundtrip_steps", "encode_points",
                            "lik_points", "lik_rtol", "relation_points", "ddim_points", "ddim_steps", "ddim_ref_rtol"),
              metrics="metrics", device=True, kind="eval", mem_mb=3000, runtime_min=10),
        Stage("solver_sweep", solver_sweep, outs={"metrics": _S, "arrays": _SA},
              params=_VP + ("particles_2d", "sde_steps", "d_ratios", "ref_samples", "nfes", "variant_max_nfe"),
              metrics="metrics", device=True, kind="eval", mem_mb=3000, runtime_min=15),
        Stage("learned_score", learned_score, outs={"metrics": _L, "arrays": _LA},
              params=_VP + ("particles_2d", "ref_samples", "lik_points", "learned_steps", "learned_hidden",
                            "learned_blocks", "learned_t_dim", "learned_batch", "learned_lr", "learned_ema",
                            "learned_train_points", "learned_particles", "learned_nfes", "learned_lik_rtol"),
              persist={"ckpt": f"{D}/ckpt/"}, metrics="metrics", device=True, kind="train", mem_mb=3000,
              runtime_min=30),
        Stage("figures", figures,
              deps={"exact": _JA, "exact_metrics": _J, "ode": _OA, "ode_metrics": _O, "sweep": _SA,
                    "sweep_metrics": _S, "learned": _LA, "learned_metrics": _L},
              outs={"figures": f"{D}/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=(
        Claim("C1", r"The marginal density of the forward SDE solves the Fokker-Planck equation "
                    r"$\partial_t p_t=-\nabla\cdot(f_t p_t)+\tfrac12 g_t^2\Delta p_t$.",
              "residual < 1e-6 (analytic), < 1e-3 (finite differences)", _c1),
        Claim("C2", r"For every $\sigma_t\in[0,g_t]$ the forward SDE "
                    r"$dx=(f_t-\tfrac12(g_t^2-\sigma_t^2)\nabla\log p_t)dt+\sigma_t dw$ has the marginals $p_t$.",
              "KS ≤ 0.015 (n = 20000, 1000 steps); control KS ≥ 0.04 (card calibration: ≤ 0.0091, control 0.16)",
              _c2, expected_at=DEF),
        Claim("C3", r"The reverse family $dx=(f_t-\tfrac12(g_t^2+\sigma_t^2)\nabla\log p_t)dt+\sigma_t dw$, "
                    r"$\sigma_t\in[0,g_t]$, started from $p_T$ with the exact score reproduces $p_0$.",
              "KS ≤ 0.015; D ≤ 0.06 (n = 10000, 1000 steps); ODE drift with SDE noise KS ≥ 0.04", _c3,
              expected_at=DEF),
        Claim("C4", r"With $\sigma_t=0$ the data-to-noise map is deterministic and invertible (encode then decode "
                    r"returns the input), and encodings of data are approximately $\mathcal N(0,I)$ at $t=T$.",
              "max error < 1e-4; affine G3 map < 1e-4; KS ≤ 0.015 (smoke: p > 0.01 on 2000 points)", _c4),
        Claim("C5", r"The ODE gives exact log-likelihoods, $\log p_0(x_0)=\log p_T(x_T)+\int_0^T\nabla\cdot v_t\,dt$: "
                    r"equal to the true log-density with the exact score, close with a learned one.",
              "mean |error| < 1e-3 nats (exact); mean NLL within 0.15 nats (learned)", _c5, expected_at=DEF,
              note="Smoke trains no score model, so the learned half is not run there. Where the learned half "
                   "fails, the per-mode spread ratio in the detail says why: a learned eps error that is small "
                   "in absolute terms becomes a large score error near the data (score = −ε/β̄, β̄ ≈ 0.01 at "
                   "t_min, where the optimal ε itself is tiny), so the model's density is too wide and flat-topped "
                   "(see the likelihood scatter); the exact-score half isolates the ODE likelihood itself."),
        Claim("C6", r"DDIM ($\eta=0$) discretises the ODE: $f_t=\dot{\bar\alpha}_t/\bar\alpha_t$, "
                    r"$g_t^2=2\bar\alpha_t\bar\beta_t\frac{d}{dt}(\bar\beta_t/\bar\alpha_t)$, $s=-\epsilon/\bar\beta_t$; "
                    r"a frozen-$\epsilon$ DDIM step solves the ODE exactly; DDIM converges to the ODE solution "
                    r"at first order.",
              "relations < 1e-8; step < 1e-10; slope in [−1.3, −0.7]", _c6),
        Claim("C7", r"Because sampling is an ODE, a few-step deterministic solver reaches a quality the SDE sampler "
                    r"(Euler-Maruyama) needs many more steps for.",
              "D_ODE(25) ≤ 0.5 D_SDE(25) and D_ODE(50) ≤ 0.05 (card calibration 0.009 vs 0.28)", _c7,
              expected_at=DEF),
        Claim("C8", r"(Card, not the article) $\sigma_t\le g_t$ is not needed for C2/C3: $\sigma_t=1.5g_t$ also "
                    r"keeps the marginals.", "reported only (expected KS ≤ 0.015)", _c8, expected_at=DEF),
    ),
    figures=(
        Figure("density_snapshots.png", "Forward and reverse family vs the exact density (G1)",
               "Top: histograms of particles for σ/g = 1, 0.5, 0, 1.5 over the exact p_t (black, with the 95% band of "
               "a histogram of as many exact draws), forward from data at t = 0.1, 0.3, 1 and in reverse from N(0, 1) "
               "at t = t_min. Bottom: the negative controls (forward without the score term at σ = 0.5 g; reverse "
               "with the ODE drift and the SDE noise).",
               "exact_checks"),
        Figure("trajectories.png", "SDE vs ODE paths from the same starting noise",
               "G1, exact score: reverse SDE (σ = g) and probability-flow ODE (σ = 0) paths from the same x_T "
               "over the exact density p_t (shading).", "exact_checks"),
        Figure("d_vs_nfe.png", "Sample quality D vs number of score evaluations",
               "D = |mean log p(samples) − E log p| on G2 with its 95% interval, per solver and time grid; "
               "right: the learned score (default and full only).", "solver_sweep"),
        Figure("samples_2d.png", "Samples at NFE = 25",
               "G2: exact draws, Euler-ODE(25) and EM-SDE(25) with the exact score, same starting noise.",
               "solver_sweep"),
        Figure("loglik_scatter.png", "ODE log-likelihood vs true log-density",
               "log p from the ODE and its divergence against the exact log p_{t_min}: exact score on G1 and G2, "
               "and the learned score on G2 where trained.", "ode_tools"),
        Figure("ddim_error.png", "DDIM and round-trip errors",
               "Left: RMS distance of DDIM(η = 0) endpoints to an RK45 solution vs steps (log-log, fitted slope). "
               "Right: encode-decode round-trip error vs NFE for RK45 (rtol sweep), Euler and Heun.", "ode_tools"),
    ),
)
