"""kexue.fm/archives/9152 — Diffusion models (2): DDPM = autoregressive VAE.

schedule_checks (C1, C2, C3a, C4 on the article's T = 1000 schedule, no training);
train (the DDPM eps-model, its BatchNorm / learned-embedding / mean-loss ablations and a one-step Gaussian
VAE of similar size, one after the other) -> evaluate (ancestral sampling with both sigma_t, FD/precision/
recall/sharpness, the C3b gradient study, the C10 underflow count) -> figures.
This module declares the article; stage functions are in stages/a9152_stages.py, the computation in
kexue.ddpm_vae_models / ddpm_vae_checks / ddpm_vae_study, kexue.nn.gaussian_vae and kexue.sample_diagnostics.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage, Table
from stages.a9152_stages import D, evaluate, figures, schedule_checks, train

DEF = ("default", "full")
FD = "FD (classifier features)"


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    # C1-C4 numerics (always on the article's T = 1000 schedule)
    c1_particles: int = Field(ge=1000, le=10_000_000, description="C1 scalar particles run through the chain")
    c3a_samples: int = Field(ge=10, le=1_000_000, description="C3a random (x0, noises, eps_theta, sigma, t) draws")
    c4_samples: int = Field(ge=1000, le=10_000_000, description="C4 Monte Carlo draws per (t, data) for the 1-D optimum")
    # data, schedule, model
    data: Literal["digits", "fashion28"] = Field(description="digits 8x8 (MLP) or Fashion-MNIST padded to 32x32 (U-Net)")
    n_train: int = Field(ge=64, le=60_000, description="training images (a prefix of the canonical train split)")
    T: int = Field(ge=2, le=10_000, description="diffusion steps of the trained models")
    var_end: float = Field(gt=0, lt=1, description="beta_T^2; beta_t^2 = var_end t / T (article: 0.02 at T = 1000)")
    arch: Literal["mlp", "unet"]
    hidden: int = Field(ge=8, le=8192, description="MLP width")
    blocks: int = Field(ge=1, le=16, description="residual blocks (MLP) or blocks per level (U-Net)")
    t_dim: int = Field(ge=2, le=2048, description="time-embedding size (even)")
    groups: int = Field(ge=1, le=512, description="GroupNorm groups")
    unet_widths: list[int] = Field(min_length=1, max_length=6)
    # training
    steps: int = Field(ge=10, le=10_000_000, description="main-model steps")
    ablation_steps: int = Field(ge=10, le=10_000_000, description="steps of each ablation (<= steps)")
    batch: int = Field(ge=2, le=8192)
    lr: float = Field(gt=0, le=1.0)
    ema_decay: float = Field(ge=0, lt=1, description="EMA of the weights; 0 = off")
    seeds: int = Field(ge=1, le=10, description="main-model seeds")
    # sampling / metrics
    n_samples: int = Field(ge=65, le=1_000_000, description="samples per main model and sigma (FD needs > 64)")
    n_samples_ablation: int = Field(ge=65, le=1_000_000, description="samples per ablation / checkpoint")
    sample_batch: int = Field(ge=2, le=100_000, description="sampling chunk = the batch that shares one t")
    fd_boot: int = Field(ge=2, le=100_000, description="bootstrap replicates of each FD interval")
    # VAE baseline
    vae_latent: int = Field(ge=1, le=1024)
    vae_depth: int = Field(ge=1, le=8, description="hidden layers of encoder and decoder")
    vae_steps: int = Field(ge=10, le=10_000_000)
    vae_batch: int = Field(ge=2, le=8192)
    vae_lr: float = Field(gt=0, le=1.0)
    # estimator studies
    c3b_times: int = Field(ge=1, le=1000, description="number of t values of the C3b study (card: 20)")
    c3b_samples: int = Field(ge=6, le=10_000_000, description="draws per t (a multiple of c3b_chunk, >= 3 chunks)")
    c3b_chunk: int = Field(ge=2, le=4096, description="per-sample-gradient chunk (one bootstrap unit)")
    c3b_snapshot: float = Field(ge=0, le=1, description="main-model training state of C3b (fraction; 0 = init)")
    c10_batches: int = Field(ge=2, le=10_000, description="batches over which the underflow fraction is averaged")

    @model_validator(mode="after")
    def _rules(self):
        if (self.data == "digits") != (self.arch == "mlp"):
            raise ValueError(f"data = {self.data!r} needs arch = {'mlp' if self.data == 'digits' else 'unet'!r} "
                             "(digits are flat 64-d vectors for the MLP, Fashion-MNIST 32x32 images for the U-Net)")
        if self.data == "digits" and self.n_train > 1500:
            raise ValueError(f"n_train = {self.n_train}: the digits train split has 1500 images")
        a = math.exp(0.5 * sum(math.log1p(-self.var_end * t / self.T) for t in range(1, self.T + 1)))
        if a / math.sqrt(1 - a * a) > 0.01:
            raise ValueError(f"T = {self.T}, var_end = {self.var_end}: abar_T = {a:.3g}, x_T still remembers x_0 "
                             f"(need abar_T/bbar_T <= 0.01); raise var_end (e.g. {0.02 * 1000 / self.T:g} = 0.02*1000/T)")
        if self.ablation_steps > self.steps:
            raise ValueError(f"ablation_steps = {self.ablation_steps} > steps = {self.steps}: the ablations are "
                             "compared with the main run's snapshot at ablation_steps")
        if self.t_dim % 2:
            raise ValueError(f"t_dim = {self.t_dim} must be even (sin/cos pairs)")
        widths = [self.hidden] if self.arch == "mlp" else self.unet_widths
        if any(w % self.groups for w in widths):
            raise ValueError(f"groups = {self.groups} must divide every width {widths} (GroupNorm)")
        for name in ("n_samples", "n_samples_ablation"):
            if getattr(self, name) % self.sample_batch:
                raise ValueError(f"{name} = {getattr(self, name)} must be a multiple of sample_batch = "
                                 f"{self.sample_batch} (common random numbers across models are per chunk)")
        if self.n_samples_ablation > self.n_samples:
            raise ValueError("n_samples_ablation must be <= n_samples (C7 reuses the main samples)")
        if self.c3b_samples % self.c3b_chunk or self.c3b_samples < 3 * self.c3b_chunk:
            raise ValueError(f"c3b_samples = {self.c3b_samples} must be a multiple of c3b_chunk = {self.c3b_chunk} "
                             "and at least 3 chunks (the variance-ratio interval bootstraps chunks)")
        if self.c3b_snapshot not in (0, 0.1, 0.25, 0.5, 1.0, self.ablation_steps / self.steps):
            raise ValueError(f"c3b_snapshot = {self.c3b_snapshot}: must be 0 (init) or a stored snapshot "
                             "(0.1, 0.25, 0.5, 1.0 or ablation_steps/steps)")
        return self


# ------------------------------------------------------------------------------------------------ claims
def _fd(m, name):
    s = m["samples"][name]
    return f"{s['FD']:.4g} [{s['fd_lo']:.4g}, {s['fd_hi']:.4g}] (n = {s['n_samples']})"


def _main_fd(m, sigma):
    seeds = sorted(k for k in m["samples"] if k.startswith("main_s") and k.endswith("_" + sigma))
    vals = [m["samples"][k]["FD"] for k in seeds]
    return sum(vals) / len(vals), seeds


def _similar(a, b):
    return abs(a - b) <= 0.3 * max(a, b)


def _c1(m, profile):
    c = m["c1"]
    ok = c["max_std_rel_err"] < 0.01 and c["max_mean_abs_err"] < 0.01
    rows = "; ".join(f"t={r['t']}: std {r['std']:.5f} vs {r['std_ref']:.5f}, mean {r['mean']:.5f} vs "
                     f"{r['mean_ref']:.5f}" for r in c["rows"])
    return Outcome(f"max rel. err of std {c['max_std_rel_err']:.2e}, max abs err of mean "
                   f"{c['max_mean_abs_err']:.2e} (n = {c['n']} particles from x0 = {c['x0']})", ok,
                   rows + f". Monte Carlo SE of the std ≈ {c['rows'][0]['std_rel_se']:.1e} relative.")


def _c2(m, profile):
    c = m["c2"]
    ok = 6.0e-3 <= c["abar_T"] <= 7.0e-3 and c["kl_max"] < 1e-4
    return Outcome(f"abar_T = {c['abar_T']:.4e} (abar_T² = {c['abar_T_sq']:.2e}); max KL over |x0| ≤ 1 = "
                   f"{c['kl_max']:.2e} per dim", ok,
                   f"mpmath (50 digits): abar_T = {c['abar_T_mpmath']:.6e}, KL at |x0| = 1 = {c['kl_max_mpmath']:.4e}")


def _c3a(m, profile):
    c = m["c3a"]
    return Outcome(f"max rel. diff {c['max_rel_diff']:.1e} over {c['n']} random draws (d = {c['d']}, float64)",
                   c["max_rel_diff"] < 1e-10,
                   f"x_t via one step vs via abar_t x0 + alpha_t bbar_(t-1) ebar + beta_t eps_t: max |diff| "
                   f"{c['max_abs_xt_diff']:.1e}")


def _c3b(m, profile):
    rows = m["c3b"]["rows"]
    z = [abs(r["diff_mean"] - r["diff_pred"]) / r["diff_se"] for r in rows]
    cos = [r["cos_mean_grads"] for r in rows]
    below = sum(r["var_ratio"] < 1 for r in rows)
    ok = max(z) <= 3 and min(cos) > 0.99 and below >= 0.9 * len(rows)
    ratios = [r["var_ratio"] for r in rows]
    mid = rows[len(rows) // 2]
    ci = mid["var_ratio_ci"]
    stats = [r["equal_means_stat"] for r in rows]
    need = [r["n_for_cos_0.99"] for r in rows if r["n_for_cos_0.99"] is not None]
    worst = min(rows, key=lambda r: r["cos_mean_grads"])
    where = "initialisation" if m["c3b"]["snapshot"] == 0 else f"{m['c3b']['snapshot']:g} of training"
    return Outcome(f"{len(rows)} t in [{rows[0]['t']}, {rows[-1]['t']}]: max |diff − predicted|/SE = {max(z):.2f}; "
                   f"cosine of mean gradients {min(cos):.3f}–{max(cos):.3f} (> 0.99 at "
                   f"{sum(c > 0.99 for c in cos)}/{len(rows)} t); variance ratio merged/two-noise < 1 at "
                   f"{below}/{len(rows)} t ({min(ratios):.3g}–{max(ratios):.3g})", ok,
                   f"main model at {where}, n = {rows[0]['n']} paired draws per t. The cosine of two Monte Carlo means "
                   f"stays < 1 when the expectations are equal: at t = {worst['t']} it is {worst['cos_mean_grads']:.3f} "
                   f"where exact equality predicts {worst['cos_expected_if_equal']:.3f}; the equality statistic "
                   f"n·‖Δmean‖²/tr Cov(Δg) lies in [{min(stats):.2f}, {max(stats):.2f}] (≈ 1 if equal); cos > 0.99 "
                   + (f"would need up to ~{max(need):.2g} draws per t" if need else "is out of reach at any n here") +
                   f". E.g. t = {mid['t']}: difference {mid['diff_mean']:.4g} ± {mid['diff_se']:.2g} vs predicted "
                   f"{mid['diff_pred']:.4g}, ratio {ci['estimate']:.3g} [{ci['lo']:.3g}, {ci['hi']:.3g}] "
                   f"(chunk bootstrap, 95%)")


def _c4(m, profile):
    c = m["c4"]
    exact = max(c["max_abs_diff_dirac"], c["max_abs_diff_normal"])
    num = max(r["rel_err"] for r in c["numeric"])
    ratios = ", ".join(f"t={k}: {v:.4g}" for k, v in c["ratio_posterior_to_beta"].items())
    return Outcome(f"conditioning vs formulas: max |diff| {exact:.1e}; numeric optimum max rel. err {num:.2e} "
                   f"({len(c['numeric'])} (t, data) pairs, n = {c['numeric'][0]['n']} each)",
                   exact < 1e-10 and num < 0.01,
                   f"posterior/beta ratio {ratios}; sigma_1 (posterior) = {c['sigma1_posterior']:g}")


def _c5(m, profile):
    fb, seeds = _main_fd(m, "beta")
    fp, _ = _main_fd(m, "posterior")
    return Outcome(f"{FD}: sigma=beta {fb:.3g}, sigma=posterior {fp:.3g}; |diff| = {abs(fb - fp):.3g} vs 0.3 × "
                   f"larger = {0.3 * max(fb, fp):.3g}", _similar(fb, fp),
                   f"seed 0: beta {_fd(m, 'main_s0_beta')}, posterior {_fd(m, 'main_s0_posterior')}; mean over "
                   f"{len(seeds)} seed(s); floor {m['samples']['main_s0_beta']['fd_floor']:.3g}")


def _c6(m, profile):
    fd, _ = _main_fd(m, "beta")
    v = m["samples"]["vae"]
    sr_d = sum(m["samples"][k]["sharpness_ratio"] for k in m["samples"] if k.startswith("main_s") and k.endswith("_beta"))
    sr_d /= len(_main_fd(m, "beta")[1])
    ok = fd <= 0.7 * v["FD"] and abs(1 - sr_d) < abs(1 - v["sharpness_ratio"])
    return Outcome(f"{FD}: DDPM {fd:.3g} vs VAE {v['FD']:.3g} (ratio {fd / v['FD']:.2f}); sharpness ratio to real: "
                   f"DDPM {sr_d:.3f}, VAE {v['sharpness_ratio']:.3f}", ok,
                   f"DDPM {_fd(m, 'main_s0_beta')}, VAE decoder mean {_fd(m, 'vae')}; VAE with decoder noise: FD "
                   f"{m['samples']['vae_noisy']['FD']:.4g}, sharpness ratio {m['samples']['vae_noisy']['sharpness_ratio']:.2f}; "
                   f"DDPM at {float(m['ablation_reference'][5:]):.0%} of its steps: {_fd(m, m['ablation_reference'])}; "
                   f"parameters DDPM {m['train']['runs']['main_s0']['n_params']}, VAE {m['train']['runs']['vae']['n_params']}")


def _c7(m, profile):
    runs = {k: v for k, v in m["loss_curves"].items() if k.startswith("main_s")}
    nonfinite = sum(v["nonfinite"] for v in runs.values()) + sum(
        v["nonfinite_losses"] for k, v in m["train"]["runs"].items() if k.startswith("main_s"))
    r0 = runs["main_s0"]
    ratio = r0["ratio_final_to_10pct"]
    f100, f25 = m["samples"]["ckpt_1"]["FD"], m["samples"]["ckpt_0.25"]["FD"]
    ok = nonfinite == 0 and ratio <= 0.7 and f100 <= f25
    ema, steps = m["train"].get("ema_decay", 0), r0["steps"]
    return Outcome(f"non-finite losses {nonfinite}; smoothed loss {r0['smoothed_at_10pct']:.3f} (step "
                   f"{r0['early_step']}) → {r0['smoothed_final']:.3f} (final), ratio {ratio:.3f}; {FD} at 100% "
                   f"{f100:.3g} vs 25% {f25:.3g}", ok,
                   f"100%: {_fd(m, 'ckpt_1')}; 25%: {_fd(m, 'ckpt_0.25')}; 10%: {_fd(m, 'ckpt_0.1')}; "
                   f"{float(m['ablation_reference'][5:]):.0%}: {_fd(m, m['ablation_reference'])} (same sampling noise). "
                   + (f"Snapshots hold the EMA weights (decay {ema:g}, started at the initial weights), which at 10% / "
                      f"25% still carry {ema ** (0.1 * steps):.0%} / {ema ** (0.25 * steps):.0%} of the initial "
                      f"weights. " if ema else "")
                   + f"Loss smoothing: bias-corrected EMA, decay {r0['decay']}")


def _ref(m):
    return m["ablation_reference"]


def _c8(m, profile):
    bn, gn = m["samples"]["batchnorm_train"]["FD"], m["samples"][_ref(m)]["FD"]
    ev = m["samples"]["batchnorm_eval"]["FD"]
    lc = m["loss_curves"]
    return Outcome(f"{FD}: BatchNorm, batch statistics {bn:.4g} vs GroupNorm {gn:.4g} (ratio {bn / gn:.2f}); "
                   f"BatchNorm eval mode {ev:.4g}", bn >= 2 * gn,
                   f"BN(train) {_fd(m, 'batchnorm_train')}, BN(eval) {_fd(m, 'batchnorm_eval')}, GN {_fd(m, _ref(m))}; "
                   f"smoothed training loss after {lc['batchnorm']['steps']} steps: BN "
                   f"{lc['batchnorm']['smoothed_final']:.3f} vs GN {lc['main_s0']['smoothed_at'][_ref(m)[5:]]:.3f}")


def _pair(name, label):
    def check(m, profile):
        a, b = m["samples"][name]["FD"], m["samples"][_ref(m)]["FD"]
        return Outcome(f"{FD}: {label} {a:.3g} vs reference {b:.3g}; |diff| {abs(a - b):.3g} vs 0.3 × larger "
                       f"{0.3 * max(a, b):.3g}", _similar(a, b), f"{label} {_fd(m, name)}; reference {_fd(m, _ref(m))}")
    return check


def _c10(m, profile):
    a, b = m["samples"]["mean"]["FD"], m["samples"][_ref(m)]["FD"]
    u = m["c10_underflow"]
    um, us = u["mean"], u["sum"]
    ratio = u["ratio_mean_to_sum"]
    ok = _similar(a, b) and um["mean"] > us["mean"]
    rtxt = f"{ratio:.3g}" if ratio is not None else "∞ (no sum-loss entry underflows)"
    return Outcome(f"{FD}: mean loss {a:.3g} vs sum loss {b:.3g}; underflow fraction (|g| < 6e-8) mean "
                   f"{um['mean']:.3e} vs sum {us['mean']:.3e}, ratio {rtxt}", ok,
                   f"mean {_fd(m, 'mean')}, sum {_fd(m, _ref(m))}; fractions mean {um['mean']:.3e} "
                   f"[{um['lo']:.3e}, {um['hi']:.3e}], sum {us['mean']:.3e} [{us['lo']:.3e}, {us['hi']:.3e}] "
                   f"(n = {um['n']} batches of {u['batch']}, 95%); the sum-model's own gradient divided by d = {u['dim']}: "
                   f"{u['sum_scaled_by_dim']['mean']:.3e}, by {u['celeba_dim']} (128×128×3 pixels): "
                   f"{u['sum_scaled_by_celeba_dim']['mean']:.3e}")


SUMMARY = r"""
Su reads DDPM as a VAE whose encoder and decoder each take $T$ small Gaussian steps instead of one big one. In
the blog's notation the fixed encoder is $p(x_t|x_{t-1})=\mathcal N(\alpha_t x_{t-1},\beta_t^2I)$ (stds, so the DDPM
paper's variance is $\beta_t^2$) and the learned decoder $q(x_{t-1}|x_t)=\mathcal N(\mu(x_t),\sigma_t^2 I)$. The KL between
the two joint distributions leaves one term per step; with $\mu(x_t)=(x_t-\beta_t\epsilon_\theta)/\alpha_t$ and the two
noises merged it becomes the usual regression $\mathbb E\|\varepsilon-\hat\epsilon(\bar\alpha_t x_0+\bar\beta_t\varepsilon,t)\|^2$.

We check the algebra exactly (C1–C4 on the article's schedule $\alpha_t=\sqrt{1-0.02t/T}$, $T=1000$), then train an
MLP $\epsilon$-model on 8×8 digits (1500 train / 297 held-out images, pixels in $[-1,1]$) with the article's summed loss,
its ablations (BatchNorm, learned $t$ embedding, mean loss) and a one-step Gaussian VAE of similar size, and compare
samples by FD in the feature space of a small digits classifier (**not** Inception FID), precision/recall ($k=5$),
sharpness (mean |Laplacian| relative to real digits) and nearest-neighbour distance to the training set.
Every sampling comparison uses common random numbers (same $x_T$ and step noise). Ablations are compared with the
main run's snapshot after the same number of steps (same seed and batches).

Departures from the card, for the 5-minute CPU budget of the default profile: one main seed instead of two (the
card's first cut), MLP width 128 instead of 256 (0.20M parameters) with GroupNorm(16), i.e. 8 channels per group as
the card's GroupNorm(32) at width 256 has (GroupNorm(32) at width 128 leaves 4 channels per group, and that MLP does
not learn: loss per dimension 0.11 at $t=T$ instead of 0.01, samples diverge). Smoke trains $T=100$ steps with
$\beta_t^2=0.2\,t/T$ ($\bar\alpha_T=4.4\times10^{-3}$; the article's formula at $T=100$ leaves
$\bar\alpha_T=0.60$ and is refused), on 256 digits, and uses 100 samples per set (FD on 64 features needs more
than 64). C1–C4 are always checked on the article's $T=1000$ schedule.
"""

ARTICLE = Article(
    id="9152",
    slug="ddpm-autoregressive-vae",
    key="a9152",
    title="Diffusion Models (2): DDPM = Autoregressive VAE",
    title_zh="生成扩散模型漫谈（二）：DDPM = 自回归式VAE",
    date="2022-07-06",
    url="https://kexue.fm/archives/9152",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("schedule_checks", schedule_checks,
              outs={"metrics": f"{D}/schedule_checks.json", "arrays": f"{D}/schedule.npz"},
              params=("c1_particles", "c3a_samples", "c4_samples", "T", "var_end"),
              metrics="metrics", kind="eval", runtime_min=2),
        Stage("train", train,
              deps={"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz"},
              outs={"models": f"{D}/models.pt", "losses": f"{D}/losses.npz", "metrics": f"{D}/train.json"},
              params=("data", "n_train", "T", "var_end", "arch", "hidden", "blocks", "t_dim", "groups", "unet_widths",
                      "steps", "ablation_steps", "batch", "lr", "ema_decay", "seeds", "vae_latent", "vae_depth",
                      "vae_steps", "vae_batch", "vae_lr"),
              persist={"ckpt": f"{D}/ckpt/"}, metrics="metrics", device=True, kind="train", mem_mb=3000,
              runtime_min=60),
        Stage("evaluate", evaluate,
              deps={"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz",
                    "metric_digits": "data/metric_nets/digits.pt", "metric_fashion28": "data/metric_nets/fashion28.pt",
                    "models": f"{D}/models.pt", "losses": f"{D}/losses.npz"},
              outs={"metrics": f"{D}/evaluate.json", "arrays": f"{D}/samples.npz"},
              params=("data", "n_train", "T", "var_end", "arch", "hidden", "blocks", "t_dim", "groups", "unet_widths",
                      "steps", "ablation_steps", "batch", "seeds", "n_samples", "n_samples_ablation", "sample_batch",
                      "fd_boot", "c3b_times", "c3b_samples", "c3b_chunk", "c3b_snapshot", "c10_batches"),
              metrics="metrics", device=True, kind="eval", mem_mb=4000, runtime_min=60),
        Stage("figures", figures,
              deps={"schedule": f"{D}/schedule.npz", "losses": f"{D}/losses.npz", "samples": f"{D}/samples.npz",
                    "evaluate": f"{D}/evaluate.json", "train": f"{D}/train.json"},
              outs={"figures": f"{D}/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=(
        Claim("C1", r"Composing the $T$ encoder steps with $\alpha_t^2+\beta_t^2=1$ gives exactly "
                    r"$x_t|x_0\sim\mathcal N(\bar\alpha_t x_0,\bar\beta_t^2 I)$.",
              "exact; check: 1e5 particles from x0 = 0.7, std rel. err < 1%, mean abs err < 0.01", _c1),
        Claim("C2", r"With $\alpha_t=\sqrt{1-0.02t/T}$, $T=1000$: $\bar\alpha_T\approx 6.5\times10^{-3}$, so "
                    r"$p(x_T|x_0)$ is essentially $\mathcal N(0,I)$ whatever $x_0$.",
              "abar_T = 6.48e-3, abar_T² = 4.2e-5; KL < 1e-4 per dim", _c2),
        Claim("C3a", r"The step-$t$ decoder term equals the weighted noise regression "
                     r"$\frac{\beta_t^2}{\alpha_t^2\sigma_t^2}\|\varepsilon_t-\epsilon_\theta(x_t,t)\|^2$ exactly.",
              "algebraic identity (max rel. diff < 1e-10)", _c3a),
        Claim("C3b", r"The merged-noise form has the same expected gradient as the two-noise form (they differ by the "
                     r"$\theta$-free constant $d\,\alpha_t^2\bar\beta_{t-1}^2/\bar\beta_t^2$ times the weight) and a "
                     r"lower gradient variance.",
              "constant within 3 SE; cosine of mean gradients > 0.99; ratio < 1 at ≥ 90% of t", _c3b,
              expected_at=DEF,
              note="Weights for sigma_t = beta_t; t = 1 is excluded (bbar_0 = 0 makes both forms identical). The cosine "
                   "criterion measures Monte Carlo noise, not the identity: the two-noise gradient is the merged one "
                   "plus a zero-mean term whose variance exceeds the mean gradient's square by orders of magnitude at "
                   "large t, so the cosine of the two sample means reaches 0.99 only with ~1e5–1e6+ draws per t. The "
                   "detail reports the cosine expected under exact equality and a test statistic of equal means."),
        Claim("C4", r"The optimal decoder std is $\sigma_t=\bar\beta_{t-1}\beta_t/\bar\beta_t$ for a one-point data "
                    r"set and $\sigma_t=\beta_t$ for $\mathcal N(0,I)$ data.",
              "ratio posterior/beta: 0.577 (t=2), 0.905 (t=10), 0.9905 (t=100), ~1 (t=1000); sigma_1 = 0", _c4),
        Claim("C5", r"Sampling with $\sigma_t=\beta_t$ or $\sigma_t=\bar\beta_{t-1}\beta_t/\bar\beta_t$ gives similar "
                    r"sample quality.", "article: both work about equally well; |ΔFD| ≤ 0.3 × larger", _c5,
              expected_at=DEF),
        Claim("C6", "The multi-step model beats a one-step Gaussian VAE of similar size: better sample metrics and "
                    "sharper samples.", "FD_DDPM ≤ 0.7 × FD_VAE and sharpness closer to real", _c6, expected_at=DEF,
              note="VAE samples are decoder means at z ~ N(0, I), the usual VAE output (with decoder noise reported too); "
                   "both models have ~0.2M parameters and 6000 steps. On 8×8 digits (64 dimensions) a one-step VAE "
                   "with an 8-d latent is already a strong model, and the DDPM is still improving at the end of the "
                   "CPU budget (compare its FD at half the steps in the detail): the gap the article describes for "
                   "128×128 faces after days of training need not show at this scale."),
        Claim("C7", "Training is a stable pure regression: the loss decreases without divergence and sample quality "
                    "improves with steps.", "final smoothed loss ≤ 0.7 × at 10%; FD_100 ≤ FD_25", _c7,
              expected_at=DEF),
        Claim("C8", "BatchNorm creates a train/inference mismatch that degrades generation although the training loss "
                    "looks fine (when sampling uses the statistics of a batch that shares one t).",
              "FD_BN(batch stats) ≥ 2 × FD_GN; eval-mode FD reported", _c8, expected_at=DEF,
              note="In train mode with one t per batch, BatchNorm subtracts the per-feature time bias exactly, so the "
                   "network cannot see t (kexue.nn.mlp_denoiser)."),
        Claim("C9", "A trainable embedding of t performs about as well as the sinusoidal encoding.",
              "|ΔFD| ≤ 0.3 × larger", _pair("learned", "learned embedding"), expected_at=DEF),
        Claim("C10", "Sum vs mean loss reduction: in fp32 with Adam both reach similar quality; the mean-reduced loss "
                     "puts more gradient entries in fp16's underflow range (a plausible mechanism for the article's "
                     "converge-then-diverge warning).",
              "|ΔFD| ≤ 0.3 × larger; underflow fraction(mean) > (sum), ratio reported", _c10, expected_at=DEF,
              note="Underflow: fraction of fp32 parameter-gradient entries with |g| < 6e-8 (fp16's smallest "
                   "subnormal), each model under its own loss. The same gradient divided by more pixels (d, "
                   "128×128×3) shows how it grows with resolution."),
    ),
    figures=(
        Figure("schedule.png", "The article's schedule",
               "Left: abar_t, bbar_t (stds) and log-SNR of alpha_t = sqrt(1 - 0.02 t/T), T = 1000. Right: the two "
               "decoder stds sigma_t = beta_t and bbar_(t-1) beta_t / bbar_t, and their ratio.", "schedule_checks"),
        Figure("samples.png", "Samples",
               "Held-out real digits; DDPM with sigma_t = beta_t and = posterior std (same noise); the one-step "
               "VAE (decoder means); the BatchNorm model sampled with batch statistics (one t per batch) and in eval "
               "mode. Pixels clipped to [-1, 1].", "evaluate"),
        Figure("trajectory.png", "Reverse trajectories",
               "x_t of six samples at t = T, 3T/4, T/2, T/4 and 0 (sigma_t = beta_t, main model).", "evaluate"),
        Figure("loss_fd.png", "Training loss and checkpoint FD",
               "Per-step training loss of the main model (summed over pixels): 200-step running mean with its 95% "
               "band, the bias-corrected EMA used by C7, and FD (classifier features) of the 10/25/50/100% "
               "checkpoints with bootstrap intervals (right, log axis). Checkpoints hold EMA weights (decay 0.999 from "
               "the initial weights), so the 10% and 25% ones are still dominated by the initialisation.", "evaluate"),
        Figure("variants.png", "Metrics per model",
               "FD (classifier features) with bootstrap 95% intervals, precision and recall (k = 5) and sharpness "
               "relative to real digits for every sample set; the dashed FD line is the real-vs-real floor (it "
               "depends on n: 1000 for the main model and VAE, 500 for checkpoints and ablations at default).",
               "evaluate"),
        Figure("grad_variance.png", "Merged vs two-noise estimator (C3b)",
               "Left: total gradient variance ratio merged/two-noise against t (log scales) with chunk-bootstrap 95% "
               "intervals. Right: mean loss difference two-noise minus merged with ±3 SE against the predicted "
               "constant d alpha_t^2 bbar_(t-1)^2 / bbar_t^2 (times the weight 1/alpha_t^2).", "evaluate"),
    ),
    tables=(
        Table("table_variants", "Sample metrics",
              "One row per sample set (main seeds, checkpoints, ablations, VAE). FD (classifier features) is not "
              "FID; fd_floor is real vs real at the same n (approximate when fd_floor_n < n).",
              (("set", "set"), ("n", "n_samples"), ("FD", "FD"), ("FD 95% lo", "fd_lo"), ("FD 95% hi", "fd_hi"),
               ("floor", "fd_floor"), ("precision", "precision"), ("recall", "recall"),
               ("class entropy", "class_entropy"), ("sharpness ratio", "sharpness_ratio"),
               ("NN-distance ratio", "nn_ratio"))),
    ),
)
