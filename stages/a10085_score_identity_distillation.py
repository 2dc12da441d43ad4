"""kexue.fm/archives/10085 — Diffusion models (25): identity-based distillation (Score identity Distillation, SiD).

Stages: prepare (ring samples, teacher B trained by DSM, C1/C2 by Monte Carlo with exact mixture scores) ->
distill (one-step students for every loss variant x seed, teacher A = exact eps of the ring, teacher B = the
trained net; its ONLY declared input is the teacher weights file: the data-free claim C5 is read off the DAG) ->
evaluate (teacher samplers, metrics, figures). Computation: kexue.score_distillation (losses, identities, the
resumable loop), kexue.score_distillation_study / _eval / _figures; batched students: kexue.nn.stacked_mlp.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a10085_stages import D, TEACHER_B, TRAIN_DATA, distill, evaluate, prepare

DEF = ("default", "full")
_FIXED = ("sid", "sid0", "l1_only", "teacher_only", "l3")


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    beta_min: float = Field(gt=0, le=10, description="VP SDE beta(0) (card: 0.1)")
    beta_max: float = Field(gt=0, le=100, description="VP SDE beta(1) (card: 0.1 + 19.9 = 20)")
    t_min: float = Field(gt=0, lt=0.1, description="smallest diffusion time (card: 1e-3)")
    modes: int = Field(ge=2, le=64, description="Gaussians on the ring (card: 8)")
    radius: float = Field(gt=0, le=100)
    mode_std: float = Field(gt=0, le=100, description="std of every mode (card: 0.25); must be > 0")
    identity_draws: int = Field(ge=100, le=10_000_000, description="C1/C2 Monte Carlo draws per t")
    tb_train_points: int = Field(ge=100, le=10_000_000, description="ring samples teacher B is trained on")
    tb_hidden: int = Field(ge=8, le=4096)
    tb_blocks: int = Field(ge=1, le=16)
    tb_t_dim: int = Field(ge=8, le=1024)
    tb_steps: int = Field(ge=1, le=10_000_000)
    tb_batch: int = Field(ge=8, le=65_536)
    tb_lr: float = Field(gt=0, le=1)
    tb_ema: float = Field(gt=0, lt=1)
    variants_a: list[str] = Field(min_length=1, description="loss variants distilled from teacher A")
    variants_b: list[str] = Field(description="loss variants distilled from teacher B (may be empty)")
    seeds: int = Field(ge=1, le=64)
    iters: int = Field(ge=20, le=10_000_000, description="generator iterations (>= 20: snapshots every 5%)")
    batch: int = Field(ge=2, le=65_536)
    lr_g: float = Field(gt=0, le=1, description="generator (theta) learning rate")
    lr_f: float = Field(gt=0, le=1, description="fake denoiser (psi) learning rate")
    g_hidden: int = Field(ge=4, le=4096, description="width of generator and fake denoiser")
    g_depth: int = Field(ge=1, le=16)
    fake_t_features: int = Field(ge=2, le=256, description="Fourier time features of the fake denoiser (even)")
    fake_warmup: int = Field(ge=0, le=1_000_000, description="DSM steps fitting psi to the initial student")
    t_lo: float = Field(gt=0, lt=1, description="student-loss times t ~ U[t_lo, t_hi] (card: 0.02)")
    t_hi: float = Field(gt=0, le=1, description="(card: 0.8)")
    weighting: Literal["none", "paper"] = Field(description="per-sample weight of the student loss")
    eval_samples: int = Field(ge=100, le=10_000_000)
    w2_points: int = Field(ge=10, le=20_000, description="points per side of the exact-assignment W2")
    curve_points: int = Field(ge=10, le=20_000, description="points per side of W2 / D along training")
    sde_steps: int = Field(ge=1, le=100_000, description="teacher reference: reverse-SDE steps (card: 1000)")
    ode_steps: int = Field(ge=1, le=100_000, description="teacher reference: Heun PF-ODE steps (card: 100)")

    @field_validator("variants_a", "variants_b")
    @classmethod
    def _variants(cls, v):
        for x in v:
            if x in _FIXED:
                continue
            try:
                ok = x.startswith("sid@") and math.isfinite(float(x[4:]))
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"variant {x!r}: use one of {_FIXED} or sid@<lambda>")
        if len(set(v)) != len(v):
            raise ValueError(f"variants must be distinct; got {v}")
        return v

    @field_validator("fake_t_features", "tb_t_dim")
    @classmethod
    def _even(cls, v):
        if v % 2:
            raise ValueError(f"{v}: time features come in sin/cos pairs, must be even")
        return v

    @model_validator(mode="after")
    def _cross(self):
        if not self.t_lo < self.t_hi:
            raise ValueError(f"t_lo = {self.t_lo} must be < t_hi = {self.t_hi}")
        if not self.beta_min <= self.beta_max:
            raise ValueError(f"beta_min = {self.beta_min} must be <= beta_max = {self.beta_max}")
        if "sid" not in self.variants_a:
            raise ValueError("variants_a must include 'sid' (lambda = 1.2), the method of C3")
        return self


# ------------------------------------------------------------------------ claims
def _z_text(rows, key):
    return ", ".join(f"t={r['t']:g}: {r[key]['diff']:+.2e} ± {r[key]['se']:.1e}" for r in rows)


def _c1(m, profile):
    c = m["identity"]
    return Outcome(f"max |paired diff|/SE over {len(c['rows'])} t = {c['max_abs_z_c1']:.2f} (n = {c['draws']} per t)",
                   c["c1_all_ok"],
                   f"LHS − RHS: {_z_text(c['rows'], 'c1')}. Control with a fresh noise ε′: min |z| = "
                   f"{c['min_abs_z_fresh']:.1f} (the identity needs the noise that built x_t).")


def _c2(m, profile):
    c = m["identity"]
    return Outcome(f"max |L1 − L2|/SE over {len(c['rows'])} t = {c['max_abs_z_c2']:.2f} (n = {c['draws']} per t)",
                   c["c2_all_ok"], f"L1 − L2: {_z_text(c['rows'], 'c2')}")


def _s(m, key):
    return m["eval"]["summary"][key]


def _ci_txt(s, k):
    ci = s.get(f"{k}_ci")
    return (f"{s[f'{k}_mean']:.3f} [{ci['lo']:.3f}, {ci['hi']:.3f}] (n = {ci['n']})" if ci
            else f"{s[f'{k}_mean']:.3f} (n = {s['n']})")


def _teacher_w2(m):
    t = m["eval"]["teachers"]["A"]
    k = next(k for k in t if k.startswith("sde"))
    return k, t[k]["W2"]


def _c3(m, profile):
    s = _s(m, "A/sid")
    k, tw = _teacher_w2(m)
    need = math.ceil(2 * s["n"] / 3)
    ok = s["n_full_coverage"] >= need and s["D_mean"] <= 0.15 and s["W2_mean"] <= 2 * tw
    return Outcome(f"8/8 modes in {s['n_full_coverage']}/{s['n']} seeds; D = {_ci_txt(s, 'D')}; "
                   f"W2 = {_ci_txt(s, 'W2')} vs teacher A {k} W2 {tw:.3f}", ok,
                   f"thresholds: 8/8 in >= {need} seeds, D <= 0.15, W2 <= 2 x {tw:.3f} = {2 * tw:.3f}; "
                   f"fresh-data W2 floor {m['eval']['fresh_data']['W2']:.3f} (n = {m['eval']['w2_points']}); "
                   f"per-mode std ratio {_ci_txt(s, 'std_ratio')}")


def _c4(m, profile):
    s, l1 = _s(m, "A/sid"), _s(m, "A/l1_only")
    cov_lower = sum(l1["modes"]) / l1["n"] < sum(s["modes"]) / s["n"]
    ok = l1["W2_mean"] >= 1.5 * s["W2_mean"] or cov_lower
    return Outcome(f"W2(l1_only) = {_ci_txt(l1, 'W2')} vs W2(sid) = {_ci_txt(s, 'W2')}; modes {l1['modes']} vs "
                   f"{s['modes']}", ok, f"ratio {l1['W2_mean'] / s['W2_mean']:.2f} (threshold 1.5) or lower coverage")


def _c5(m, profile):
    from kexue.registry import load  # the declared DAG itself, not a copy

    reg = load()
    node = reg.node("10085", "distill")
    datasets = {o.rstrip("/") for n in reg.nodes if n.stage.kind == "data" for o in n.stage.outs.values()}
    datasets.add(TRAIN_DATA)
    bad = sorted(set(node.data_deps) & datasets)
    code = node.code_deps()
    samplers = [f for f in code if f.endswith("diffusion/samplers.py")]
    recorded = sorted(m["c5"]["declared_deps"].values())
    ok = not bad and not samplers and recorded == sorted(node.stage.deps.values())
    return Outcome(f"distill deps: {sorted(node.data_deps)}; dataset files among them: {bad or 'none'}; "
                   f"sampler code among its {len(code)} code deps: {samplers or 'none'}", ok,
                   f"{len(datasets)} dataset files in the DAG (outs of data stages, incl. the digits and Fashion-MNIST "
                   f"sets, and teacher B's training set {TRAIN_DATA}); the stage ran with deps {recorded}")


def _c6(m, profile):
    s, t = _s(m, "A/sid"), _s(m, "A/teacher_only")
    cs, ct = sum(s["modes"]) / s["n"], sum(t["modes"]) / t["n"]
    ok = ct < cs or t["std_ratio_mean"] < 0.7
    return Outcome(f"modes covered: teacher_only {t['modes']} vs sid {s['modes']}; std ratio teacher_only "
                   f"{_ci_txt(t, 'std_ratio')} vs sid {_ci_txt(s, 'std_ratio')}", ok,
                   "threshold: coverage(teacher_only) < coverage(sid) or std ratio < 0.7")


def _c7(m, profile):
    c = m["eval"]["curves"]["A/sid"]
    steps = c["steps"]
    q = min(range(len(steps)), key=lambda i: abs(steps[i] - 0.25 * steps[-1]))
    w0 = [r[0] for r in c["W2"]]
    wq = [r[q] for r in c["W2"]]
    ratio = sum(wq) / sum(w0)
    return Outcome(f"W2 at step {steps[q]} / at start = {ratio:.3f} (seed means {sum(wq) / len(wq):.3f} / "
                   f"{sum(w0) / len(w0):.3f})", ratio <= 0.3,
                   f"per seed {[round(a / b, 3) for a, b in zip(wq, w0)]}; threshold 0.3; W2 on {c['curve_points']} points")


def _c8(m, profile):
    summ = m["eval"]["summary"]
    rows = sorted((v["lam"], v) for k, v in summ.items() if k.startswith("A/") and v["variant"] == "sid")
    w0, w12 = summ["A/sid0"]["W2_mean"], summ["A/sid"]["W2_mean"]
    txt = "; ".join(f"λ={lam:g}: W2 {v['W2_mean']:.3f}, modes {v['modes']}" for lam, v in rows)
    return Outcome(txt, w12 <= 1.1 * w0, f"supported if W2(1.2) = {w12:.3f} <= 1.1 x W2(0) = {1.1 * w0:.3f}")


def _c9(m, profile):
    s = _s(m, "A/l3")
    return Outcome(f"l3: modes {s['modes']}, W2 = {_ci_txt(s, 'W2')}, D = {_ci_txt(s, 'D')}", True,
                   "Reported only (the card's check for C9, exploratory).")


def _teacher_b(m, profile):
    e = m["eval"]
    parts = [f"{k}: modes {v['modes']}, W2 {v['W2_mean']:.3f}, D {v['D_mean']:.3f}" for k, v in e["summary"].items()
             if k.startswith("B/")]
    tb = e["teachers"]["B"]
    return Outcome("; ".join(parts) + "; teacher B samplers: " + ", ".join(
        f"{k} W2 {v['W2']:.3f} D {v['D']:.3f}" for k, v in tb.items()), True,
        "Reported only: the learned-teacher variant (the card gives no threshold for it).")


SUMMARY = r"""
SiD distils a diffusion teacher $\epsilon_{\varphi^*}$ into a one-step generator $x=g_\theta(z)$ without data and
without sampling the teacher. A fake denoiser $\epsilon_\psi$ is fitted to the student's own samples; the
identity $\mathbb E\langle h(x_t),\bar\beta_t\nabla\log p_{\theta,t}(x_t)\rangle=-\mathbb E\langle h(x_t),\varepsilon\rangle$
turns $\mathcal L_1=\mathbb E\|\epsilon_{\varphi^*}-\epsilon_{\psi^*}\|^2$ into
$\mathcal L_2=\mathbb E\langle\epsilon_{\varphi^*}-\epsilon_{\psi^*},\epsilon_{\varphi^*}-\varepsilon\rangle$ (same value at the
optimal $\psi$); the student minimises $\mathcal L_2-\lambda\mathcal L_1$, $\lambda=1.2$.

We check both identities by Monte Carlo with exact mixture scores, then distil the card's 2-D ring of 8
Gaussians from an exact analytic teacher (so the student's error is distillation error alone) and from a trained
MLP teacher, with the card's loss variants (SiD with several $\lambda$, the initial form $\mathcal L_1$, the
teacher-only loss and the article's open variant), scoring samples against the true density. The distillation
stage declares only the teacher weights as input, so the data-free claim is visible in the DAG.
"""

_P = f"{D}/prepare.json"
_PA = f"{D}/identity.npz"
_DJ = f"{D}/distill.json"
_DA = f"{D}/distill.npz"
_E = f"{D}/evaluate.json"
_VP = ("beta_min", "beta_max", "t_min", "modes", "radius", "mode_std")

ARTICLE = Article(
    id="10085",
    slug="score-identity-distillation",
    key="a10085",
    title="Diffusion Models (25): Identity-Based Distillation, Part 1",
    title_zh="生成扩散模型漫谈（二十五）：基于恒等式的蒸馏（上）",
    date="2024-05-01",
    url="https://kexue.fm/archives/10085",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("prepare", prepare,
              outs={"metrics": _P, "arrays": _PA, "teacher": TEACHER_B, "train_data": TRAIN_DATA},
              params=_VP + ("identity_draws", "tb_train_points", "tb_hidden", "tb_blocks", "tb_t_dim", "tb_steps",
                            "tb_batch", "tb_lr", "tb_ema"),
              persist={"ckpt": f"{D}/prepare_ckpt/"}, metrics="metrics", device=True, kind="train",
              mem_mb=3000, runtime_min=20),
        # data-free: the teacher weights and params only (C5 reads this declaration from the registry)
        Stage("distill", distill, deps={"teacher": TEACHER_B},
              outs={"metrics": _DJ, "arrays": _DA},
              params=_VP + ("variants_a", "variants_b", "seeds", "iters", "batch", "lr_g", "lr_f", "g_hidden",
                            "g_depth", "fake_t_features", "fake_warmup", "t_lo", "t_hi", "weighting",
                            "eval_samples"),
              persist={"ckpt": f"{D}/distill_ckpt/"}, metrics="metrics", device=True, kind="train",
              mem_mb=3000, runtime_min=60),
        Stage("evaluate", evaluate,
              deps={"distill": _DA, "distill_metrics": _DJ, "teacher": TEACHER_B, "identity": _PA},
              outs={"metrics": _E, "figures": f"{D}/figures/"},
              params=_VP + ("eval_samples", "w2_points", "curve_points", "sde_steps", "ode_steps"),
              metrics="metrics", device=True, kind="eval", mem_mb=3000, runtime_min=15),
    ),
    claims=(
        Claim("C1", r"For any $h$, $\mathbb E\langle h(x_t^{(g)}),\bar\beta_t\nabla\log p_{\theta,t}(x_t^{(g)})\rangle"
                    r"=-\mathbb E_{z,\varepsilon}\langle h(x_t^{(g)}),\varepsilon\rangle$.",
              "exact identity; paired MC difference within 4 SE at 5 t", _c1),
        Claim("C2", r"With the exact optimal fake denoiser, $\mathcal L_1$ and $\mathcal L_2$ have the same value.",
              "exact identity; paired MC difference within 4 SE at 5 t", _c2),
        Claim("C3", r"Alternating fake-denoiser fits with the student loss $\mathcal L_2-1.2\,\mathcal L_1$ distils a "
                    r"one-step generator close to the teacher's multi-step samples (all modes, right spread).",
              "card: 8/8 modes in ≥ 2 of 3 seeds, D ≤ 0.15, W2 ≤ 2 × W2(teacher sampler)", _c3, expected_at=DEF,
              note="Default is reduced to fit 4 CPU-minutes (see params.yaml): fewer iterations and smaller batch "
                   "and networks than the card's 4000 / 1024 / 4 x 256."),
        Claim("C4", r"The initial form (student loss $\mathcal L_1$ only) fails or is clearly worse.",
              "card: W2(l1_only) ≥ 1.5 × W2(sid) or lower coverage", _c4, expected_at=DEF),
        Claim("C5", r"The distillation uses no real data and no teacher sampling.",
              "card: the distill stage's DAG deps contain no dataset file", _c5),
        Claim("C6", r"Optimising only the teacher term $\mathbb E\|\epsilon_{\varphi^*}(x_t^{(g)},t)-\varepsilon\|^2$ "
                    r"seeks modes / collapses, while SiD covers all modes.",
              "card: coverage(teacher_only) < coverage(sid) or std ratio < 0.7", _c6, expected_at=DEF),
        Claim("C7", r"The sample-quality metric falls very fast early in distillation.",
              "card: W2 at 25% of iterations ≤ 0.3 × initial (paper: 'exponentially fast')", _c7, expected_at=DEF),
        Claim("C8", r"All $\lambda\in\{0,0.5,1,1.2\}$ work and $\lambda>0$ is at least as good as $\lambda=0$.",
              "paper: α = 1.2 default; supported if W2(1.2) ≤ 1.1 × W2(0)", _c8, expected_at=DEF),
        Claim("C9", r"The open variant $\mathbb E[\|\epsilon_{\varphi^*}-\varepsilon\|^2+\|\epsilon_{\psi^*}\|^2]$ also "
                    r"trains a generator (exploratory).", "reported only", _c9, expected_at=DEF),
        Claim("C3b", r"Learned teacher (teacher B): SiD and the initial form distilled from a trained MLP teacher.",
              "reported only (card: sid + l1_only with teacher B)", _teacher_b, expected_at=DEF),
    ),
    figures=(
        Figure("samples.png", "Samples: data, teachers, students",
               "Ring data, the teachers' 1000-step reverse-SDE samples and every student variant's one-step "
               "samples (seed 0); crosses mark the mode centres.", "evaluate"),
        Figure("quality_vs_iteration.png", "W2 and D vs iteration",
               "Exact-assignment W2 to fresh ring draws and D = |mean true log-density − data's| at every 5% of "
               "training: seed mean with 95% t-interval band; dashed: W2 of fresh data (finite-sample floor).",
               "evaluate"),
        Figure("mode_histogram.png", "Mode masses",
               "Fraction of samples per mode (nearest centre) for the teachers and every student (seed 0).",
               "evaluate"),
        Figure("identity_check.png", "Identity checks C1 and C2",
               "Running Monte Carlo means of both sides of C1 (left) and of L1, L2 (right) vs the number of draws, "
               "with 95% bands, at the middle time.", "prepare"),
        Figure("losses.png", "Loss curves", "Student (theta) loss per variant (seed mean, moving average) and the "
               "fake denoiser's DSM loss.", "distill"),
    ),
)
