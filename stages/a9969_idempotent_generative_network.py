"""kexue.fm/archives/9969 — the Idempotent Generative Network (IGN) is a GAN whose critic is the generator's
own reconstruction error.

Stages: grad_checks (C1, C2 exact gradient identities in float64; C9 parameter counts) | train (IGN paper form
x seeds, WGAN-GP x seeds, IGN article form, IGN with U-Net skips) -> evaluate (shared image metrics, ratios,
f^k(z)) -> figures. Computation: kexue.idempotent_gan*, networks: kexue.nn.mirrored_autoencoder.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage, Table
from stages.a9969_stages import D, evaluate, figures, grad_checks, train

FD = "FD (classifier features)"


class Params(BaseModel):
    """Resolved parameters of one profile."""

    model_config = ConfigDict(extra="forbid")
    grad_trials: int = Field(ge=1, le=1000, description="random float64 networks for C1 and C2")
    data: Literal["digits", "fashion28"]
    n_train: int = Field(ge=64, le=60_000)
    n_test: int = Field(ge=65, le=10_000, description="held-out real images for the metrics (FD needs > 64)")
    arch: Literal["mlp", "conv"]
    widths: list[int] = Field(min_length=1, max_length=4, description="hidden widths (mlp) / channels (conv)")
    latent: int = Field(ge=1, le=1024)
    steps: int = Field(ge=1, le=1_000_000)
    batch: int = Field(ge=2, le=4096)
    lr: float = Field(gt=0, le=1.0)
    betas: list[float] = Field(min_length=2, max_length=2)
    w_rec: float = Field(ge=0)
    w_idem: float = Field(ge=0)
    w_tight: float = Field(ge=0)
    clamp_a: float = Field(gt=0, description="tightness clamp tanh(L_t/(a L_rec)) a L_rec")
    gp_weight: float = Field(ge=0)
    ckpt_every: int = Field(ge=1, le=1_000_000)
    seeds_paper: int = Field(ge=1, le=20)
    seeds_gan: int = Field(ge=1, le=20)
    seeds_article: int = Field(ge=0, le=20)
    seeds_unet: int = Field(ge=0, le=20)
    n_samples: int = Field(ge=65, le=100_000, description="generated samples per run (FD on 64-d features)")
    k_max: int = Field(ge=3, le=20, description="largest k of f^k(z)")
    noise_sigma: float = Field(gt=0, le=2.0)

    @model_validator(mode="after")
    def _cross(self):
        if any(not 0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas {self.betas} must lie in [0, 1)")
        if min(self.widths) < 1:
            raise ValueError(f"widths {self.widths} must be positive")
        if self.arch == "conv" and len(self.widths) != 2:
            raise ValueError(f"arch 'conv' takes two channel widths; got {self.widths}")
        if self.data == "digits" and (self.n_train > 1500 or self.n_test > 297):
            raise ValueError(f"digits has 1500 train / 297 held-out images; got n_train {self.n_train}, "
                             f"n_test {self.n_test}")
        return self


# ------------------------------------------------------------------------ helpers for the checks
def _runs(m, prefix):
    runs = m["eval"]["runs"]
    ok = {k: v for k, v in runs.items() if k.startswith(prefix) and not v["diverged"]}
    if not ok:
        raise KeyError(f"no finished run named {prefix}*")
    return ok


def _median(vals):
    v = sorted(vals)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def _per_seed(runs, key, fmt="{:.3g}"):
    return ", ".join(fmt.format(r[key]) for r in runs.values())


MAIN = "ign_paper_bottleneck"


# ------------------------------------------------------------------------ claims
def _c1(m, profile):
    c = m["c1"]
    err = max(c["max_abs_diff_single_sg"], c["max_abs_diff_frozen_copies"])
    return Outcome(f"max |Δgrad| = {c['max_abs_diff_single_sg']:.1e} (stop-gradient loss), "
                   f"{c['max_abs_diff_frozen_copies']:.1e} (frozen-copy loss)", err < 1e-10,
                   f"{c['trials']} random float64 G/D pairs; largest gradient entry {c['max_abs_grad']:.2f}")


def _c2(m, profile):
    c = m["c2"]
    err = max(c["max_abs_diff"], c["max_abs_diff_frozen_copy_form"])
    return Outcome(f"max |Δgrad| = {c['max_abs_diff']:.1e} (single loss vs L_rec + L_tight + L_idem)", err < 1e-10,
                   f"{c['trials']} random float64 autoencoders (half with skips); frozen-copy form "
                   f"{c['max_abs_diff_frozen_copy_form']:.1e}; the pitfalls differ by ≥ "
                   f"{c['pitfall_detached_idem_target_min_diff']:.2g} (detached L_idem target) and ≥ "
                   f"{c['pitfall_undetached_tight_min_diff']:.2g} (un-detached L_tight input)")


def _c3(m, profile):
    runs = _runs(m, MAIN)
    r = _median([v["rec_ratio"] for v in runs.values()])
    return Outcome(f"median rec_ratio {r:.3g} (per seed: {_per_seed(runs, 'rec_ratio')})", 1e-4 < r < 0.2,
                   f"median over {len(runs)} seeds of the per-image median on held-out real; mean squared error "
                   f"{_per_seed(runs, 'rec_sq_error')}")


def _c4(m, profile):
    runs = _runs(m, MAIN)
    ratio = _median([v["idem_ratio"] for v in runs.values()])
    err = _median([v["idem_error"] for v in runs.values()])
    return Outcome(f"median idem_ratio {ratio:.3g}, median ‖f(f(z)) − f(z)‖² {err:.3g}",
                   ratio < 0.1 and err > 1e-6,
                   f"per seed idem_ratio {_per_seed(runs, 'idem_ratio')}; ‖f(z) − z‖² {_per_seed(runs, 'move_fz_z')}; "
                   f"{m['eval']['n_samples']} samples per seed")


def _c5(m, profile):
    runs = _runs(m, MAIN)
    n_all = m["eval"]["groups"][MAIN]["n_runs"]
    good = sum(v["fd_fz"] < 0.5 * v["fd_z"] for v in runs.values())
    need = math.ceil(2 * n_all / 3)
    return Outcome(f"FD(f(z)) < 0.5·FD(z) for {good}/{n_all} seeds", good >= need,
                   f"FD(f(z)) per seed {_per_seed(runs, 'fd_fz', '{:.1f}')} vs FD(z) {_per_seed(runs, 'fd_z', '{:.0f}')}; "
                   f"real-vs-real floor {next(iter(runs.values()))['fd_floor']:.1f}; needed ≥ {need} seeds")


def _c6(m, profile):
    runs = _runs(m, MAIN)
    H = _median([v["class_entropy"] for v in runs.values()])
    rec = _median([v["recall"] for v in runs.values()])
    sh = _median([v["sharpness_ratio"] for v in runs.values()])
    ok = (H < 0.95 * math.log(10) or rec < 0.5) and sh < 0.9
    return Outcome(f"median class entropy {H:.2f} nats (0.95 ln10 = {0.95 * math.log(10):.2f}), recall {rec:.2f}, "
                   f"sharpness ratio {sh:.2f}", ok,
                   f"per seed entropy {_per_seed(runs, 'class_entropy', '{:.2f}')}, recall "
                   f"{_per_seed(runs, 'recall', '{:.2f}')}, precision {_per_seed(runs, 'precision', '{:.2f}')}, "
                   f"sharpness {_per_seed(runs, 'sharpness_ratio', '{:.2f}')}")


def _c7(m, profile):
    g = m["eval"]["groups"]
    ign, gan = g[MAIN], g["gan_wgan_gp"]
    if ign.get("fd_cv") is None or gan.get("fd_cv") is None:
        raise KeyError("C7 needs at least two finished seeds of IGN and of the GAN")
    div = sum(v["diverged"] or v["exploded"] for v in m["eval"]["runs"].values())
    return Outcome(f"CV of final FD: IGN {ign['fd_cv']:.2f} (n = {len(ign['fd'])}) vs GAN {gan['fd_cv']:.2f} "
                   f"(n = {len(gan['fd'])})", ign["fd_cv"] >= gan["fd_cv"],
                   f"FD IGN {[round(x, 1) for x in ign['fd']]}, GAN {[round(x, 1) for x in gan['fd']]}; "
                   f"diverged/exploded runs: {div} of {len(m['eval']['runs'])}. With 3 seeds a CV is a very "
                   "rough estimate (no interval is meaningful at n = 3)")


def _c8(m, profile):
    unet, bott = _runs(m, "ign_paper_unet"), _runs(m, MAIN)
    u = unet[sorted(unet)[0]]
    b = bott[sorted(bott)[0]]
    ok = u["fd_fz"] > 2 * b["fd_fz"] or u["passthrough_ratio"] < 0.3
    return Outcome(f"FD(f(z)): U-Net {u['fd_fz']:.1f} vs bottleneck {b['fd_fz']:.1f}; pass-through ratio U-Net "
                   f"{u['passthrough_ratio']:.2f} (bottleneck {b['passthrough_ratio']:.2f})", ok,
                   f"same seed ({u['seed']}); U-Net rec_ratio {u['rec_ratio']:.2g}, idem_ratio {u['idem_ratio']:.2g}")


def _c9(m, profile):
    c = m["c9"]
    return Outcome(f"IGN {c['ign']} parameters vs G + D = {c['gan_G']} + {c['gan_D']}: ratio {c['ratio']:.4f}",
                   0.8 <= c["ratio"] <= 1.25, f"{c['arch']} widths {c['widths']}, latent {c['latent']}")


SUMMARY = r"""
The Idempotent Generative Network (Shocher et al., ICLR 2024) trains one network $f$ that maps noise
$z$ (shaped like an image) to images, with a reconstruction loss on real data, an idempotence loss
$\|f(f(z))-f(z)\|$ and a "tightness" loss that pushes $f(f(z))$ away from $f(z)$. The article shows it is a
GAN: writing the alternating WGAN updates as one loss with stop-gradient,
$D(x)-2D(\mathrm{sg}\,G(z))+D(G(z))$, and choosing the critic $D=\delta_\varphi(x)=\|f_\varphi(x)-x\|^2$ with the
generator $G=f_\varphi$ sharing its parameters gives exactly IGN's three terms. The critic scores fakes high.

We verify both gradient identities exactly (float64 autograd), then train IGN (paper form: L1, weights
20/20/2.5, tanh clamp; article form: squared L2, unit weights) on 8×8 digits with a bottleneck MLP
autoencoder and a skip-connected one, next to a WGAN-GP whose generator and critic are the autoencoder's
two halves, trained with the same single loss. Samples are scored in the features of the shared digits
classifier (FD is not FID).
"""

ARTICLE = Article(
    id="9969",
    slug="idempotent-generative-network",
    key="a9969",
    title="Idempotent Generative Network IGN: a GAN that tries to merge discriminator and generator",
    title_zh="幂等生成网络IGN：试图将判别和生成合二为一的GAN",
    date="2024-01-31",
    url="https://kexue.fm/archives/9969",
    summary=SUMMARY.strip(),
    params_model=Params,
    stages=(
        Stage("grad_checks", grad_checks, outs={"metrics": f"{D}/grad_checks.json"},
              params=("grad_trials", "data", "arch", "widths", "latent"), metrics="metrics", device=True,
              kind="eval", runtime_min=2),
        Stage("train", train,
              deps={"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz"},
              outs={"models": f"{D}/models.pt", "curves": f"{D}/curves.npz", "metrics": f"{D}/train.json"},
              params=("data", "n_train", "arch", "widths", "latent", "steps", "batch", "lr", "betas", "w_rec",
                      "w_idem", "w_tight", "clamp_a", "gp_weight", "ckpt_every", "seeds_paper", "seeds_gan",
                      "seeds_article", "seeds_unet"),
              persist={"ckpt": f"{D}/ckpt/"}, metrics="metrics", device=True, kind="train", mem_mb=3000,
              runtime_min=60),
        Stage("evaluate", evaluate,
              deps={"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz",
                    "metric_digits": "data/metric_nets/digits.pt", "metric_fashion28": "data/metric_nets/fashion28.pt",
                    "models": f"{D}/models.pt"},
              outs={"metrics": f"{D}/evaluate.json", "arrays": f"{D}/samples.npz"},
              params=("data", "n_train", "n_test", "n_samples", "k_max", "noise_sigma"),
              metrics="metrics", device=True, kind="eval", mem_mb=3000, runtime_min=20),
        Stage("figures", figures,
              deps={"arrays": f"{D}/samples.npz", "curves": f"{D}/curves.npz", "evaluate": f"{D}/evaluate.json"},
              outs={"figures": f"{D}/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=(
        Claim("C1", r"The stop-gradient loss $D_\theta(x)-2D_\theta(\mathrm{sg}\,G_\varphi(z))+D_\theta(G_\varphi(z))$ "
                    r"has $\partial_\theta$ = the critic gradient of $D(x)-D(G(z))$ and $\partial_\varphi$ = the "
                    r"generator gradient of $D(G(z))$.", "exact (max abs diff < 1e-10, float64)", _c1),
        Claim("C2", r"With $D=\delta_\varphi$ and shared parameters the single-loss gradient equals that of "
                    r"$L_{rec}+L_{tight}+L_{idem}$ (unit weights, squared L2, no clamp).",
              "exact (max abs diff < 1e-10, float64)", _c2),
        Claim("C3", r"Trained IGN: real data are approximate but not exact fixed points, "
                    r"$10^{-4}<$ rec_ratio $<0.2$ on held-out digits.", "article: δ never reaches 0", _c3,
              expected_at=("default", "full")),
        Claim("C4", r"Samples are approximately idempotent: $\|f(f(z))-f(z)\|^2/\|f(z)-z\|^2<0.1$, yet the "
                    r"idempotence error stays $>10^{-6}$.", "article: not exactly idempotent", _c4,
              expected_at=("default", "full")),
        Claim("C5", r"IGN generates digit-like samples in one step: FD$(f(z))<0.5\,$FD$(z)$ for at least 2 of 3 "
                    r"seeds.", "article: works (no numbers)", _c5, expected_at=("default", "full")),
        Claim("C6", r"IGN is prone to mode collapse and blur: (class entropy $<0.95\ln 10$ or recall $<0.5$) and "
                    r"sharpness ratio $<0.9$.", "author's opinion (simple experiment)", _c6,
              expected_at=("default", "full")),
        Claim("C7", r"IGN training is unstable: the coefficient of variation of the final FD across seeds is at "
                    r"least that of a matched WGAN-GP.", "author's opinion", _c7, expected_at=("default", "full")),
        Claim("C8", r"A skip-connected (U-Net) autoencoder fails as IGN (FD $>2\times$ the bottleneck's, or it "
                    r"passes noise through: $\|f(z)-z\|/\|z\|<0.3$) while the bottleneck one works.",
              "author's comment (2024-03-02)", _c8, expected_at=("default", "full")),
        Claim("C9", r"IGN's single network has about as many parameters as the matched GAN's G plus D "
                    r"(ratio in [0.8, 1.25]).", "article: no parameter saving", _c9),
    ),
    tables=(
        Table("runs_table", "Runs", "Every trained run: FD in classifier features vs the held-out digits, "
              "precision/recall (k = 5), class entropy (max ln 10 = 2.30), ratios; blank = not applicable.",
              (("run", "run"), (FD, "fd"), ("FD(z)", "fd_z"), ("precision", "precision"), ("recall", "recall"),
               ("entropy", "class_entropy"), ("sharpness", "sharpness_ratio"), ("rec_ratio", "rec_ratio"),
               ("idem_ratio", "idem_ratio"), ("pass-through", "passthrough_ratio"), ("diverged", "diverged"))),
    ),
    figures=(
        Figure("samples.png", "Samples and repeated application",
               "Rows: seed-0 run of each IGN variant (noise z, f(z), f(f(z)), f³(z)); last row: WGAN-GP samples "
               "per seed.", "evaluate"),
        Figure("reconstructions.png", "Real and corrupted inputs",
               "Held-out real x and f(x); x plus Gaussian noise (σ = 0.3) and f of it, per IGN run.", "evaluate"),
        Figure("loss_curves.png", "Training curves",
               "IGN's three terms per run (running means; the paper form's terms are L1 means, the article "
               "form's squared L2) and the WGAN-GP critic gap D(G z) − D(x).", "train"),
        Figure("fd_vs_k.png", "FD of f^k(z) against k",
               "FD (classifier features) of k-fold applications against held-out digits; lines are seed means, "
               "bands the min–max over seeds; grey: real-vs-real floor ± 2 sd.", "evaluate"),
        Figure("comparison.png", "IGN variants vs WGAN-GP",
               "FD, recall, class entropy and sharpness ratio per variant (bars: mean; dots: seeds; dashed: "
               "real-data floor / ln 10 / 1).", "evaluate"),
    ),
)
