"""kexue.fm/archives/9687: self-consuming generative models ("Model Autophagy Disorder").

gaussian_chains -> A: the article's Gaussian refit loop in closed form (Wishart/Bartlett), many chains at once (C1-C3);
mixture_loops   -> B: EM mixtures on an 8-mode ring with unequal weights, fully synthetic / fixed-real / fresh-real
                   loops over generations, W2 / precision / recall / modes covered (C4-C7);
image_loops     -> C: PCA + GMM generator on digits (default), DDPM U-Net on Fashion-MNIST (full), scored with the
                   shared metric classifier (C4 images, C5);
figures.
This module declares the article; the stage functions live in stages/a9687_stages.py.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9687_stages import D, figures, gaussian_chains, image_loops, mixture_loops

Lam = Field(gt=0, le=1)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A: Gaussian chains
    a_chains: int = Field(ge=2, le=10**6, description="independent chains R")
    a_n: list[int] = Field(min_length=1, description="samples per generation (each >= 3: a 2-D covariance)")
    a_generations: int = Field(ge=1, le=10**4, description="generations of the loop (>= 1)")
    a_lambdas: list[float] = Field(min_length=1, description="truncation factors in (0, 1]")
    a_variances: list[float] = Field(min_length=2, max_length=2, description="eigenvalues of Sigma0")
    a_angle_deg: float = Field(ge=-180, le=180)
    # B: 2-D mixture loops
    b_modes: int = Field(ge=2, le=64)
    b_radius: float = Field(gt=0)
    b_std: float = Field(gt=0)
    b_weights: list[float] = Field(min_length=2)
    b_n: int = Field(ge=10, description="training samples per generation (fully synthetic)")
    b_n_real: int = Field(ge=1)
    b_n_syn: int = Field(ge=1)
    b_generations: int = Field(ge=1, le=1000)
    b_seeds: int = Field(ge=1, le=100)
    b_lambdas: list[float] = Field(min_length=1, description="sampling-bias factors in (0, 1]; must include 1")
    b_components: int = Field(ge=1, le=64)
    b_em_iters: int = Field(ge=1, le=10**4)
    b_em_restarts: int = Field(ge=1, le=100)
    b_n_eval: int = Field(ge=10, le=20000)
    b_k: int = Field(ge=1, le=50)
    b_eval_gens: list[int] = Field(min_length=1)
    b_scatter_gens: list[int] = Field(min_length=1)
    # C: image loops
    c_data: Literal["digits", "fashion28"]
    c_model: Literal["pca_gmm", "ddpm"]
    c_generations: int = Field(ge=1, le=1000)
    c_seeds: int = Field(ge=1, le=100)
    c_lambdas: list[float] = Field(min_length=1)
    c_loops: list[Literal["synthetic", "fixed", "fresh"]] = Field(min_length=1)
    c_n: int = Field(ge=10)
    c_n_real: int = Field(ge=1)
    c_n_syn: int = Field(ge=1)
    c_pca_dim: int = Field(ge=1, le=784)
    c_components: int = Field(ge=1, le=100)
    c_em_iters: int = Field(ge=1, le=10**4)
    c_em_restarts: int = Field(ge=1, le=100)
    c_n_eval: int = Field(ge=65, description="samples scored per generation (FD on 64-d features needs >= 65)")
    c_k: int = Field(ge=1, le=50)
    c_grid: int = Field(ge=1, le=256)
    c_T: int = Field(ge=10)
    c_unet_widths: list[int] = Field(min_length=1)
    c_unet_blocks: int = Field(ge=1)
    c_t_dim: int = Field(ge=8)
    c_groups: int = Field(ge=1)
    c_steps: int = Field(ge=1)
    c_batch: int = Field(ge=1)
    c_lr: float = Field(gt=0)
    c_ema_decay: float = Field(ge=0, lt=1)
    c_sampler: Literal["ddpm", "ddim"]
    c_sample_steps: int = Field(ge=1)
    c_sample_batch: int = Field(ge=1)

    @model_validator(mode="after")
    def _rules(self):
        for key in ("a_lambdas", "b_lambdas", "c_lambdas"):
            bad = [v for v in getattr(self, key) if not 0 < v <= 1]
            if bad:
                raise ValueError(f"{key} = {getattr(self, key)}: every lambda must lie in (0, 1] (1 = no truncation)")
        if any(n < 3 for n in self.a_n):
            raise ValueError(f"a_n = {self.a_n}: a 2-D covariance needs n >= 3 samples per generation")
        if any(v <= 0 for v in self.a_variances):
            raise ValueError(f"a_variances = {self.a_variances}: the variances of Sigma0 must be > 0")
        if len(self.b_weights) != self.b_modes or min(self.b_weights) <= 0 or abs(sum(self.b_weights) - 1) > 1e-9:
            raise ValueError(f"b_weights = {self.b_weights}: need {self.b_modes} positive weights summing to 1")
        if 1.0 not in self.b_lambdas:
            raise ValueError(f"b_lambdas = {self.b_lambdas}: must include 1 (the unbiased loop of C4, C6, C7)")
        for pre in ("b", "c"):
            n, nr, ns = (getattr(self, f"{pre}_{k}") for k in ("n", "n_real", "n_syn"))
            if nr + ns != n:
                raise ValueError(f"{pre}_n_real + {pre}_n_syn = {nr} + {ns} must equal {pre}_n = {n} "
                                 "(every loop trains on the same number of samples)")
        G, eg = self.b_generations, self.b_eval_gens
        if sorted(set(eg)) != eg or eg[0] != 1 or eg[-1] != G:
            raise ValueError(f"b_eval_gens = {eg}: must be increasing, start at 1 and end at b_generations = {G}")
        if not set(self.b_scatter_gens) <= set(eg):
            raise ValueError(f"b_scatter_gens = {self.b_scatter_gens}: must be a subset of b_eval_gens = {eg}")
        if self.b_components > self.b_n_syn:
            raise ValueError(f"b_components = {self.b_components} > b_n_syn = {self.b_n_syn}")
        if "synthetic" not in self.c_loops:
            raise ValueError(f"c_loops = {self.c_loops}: must include 'synthetic'")
        if self.c_data == "digits" and self.c_n > 1500:
            raise ValueError(f"c_n = {self.c_n}: the digits training pool has 1500 images")
        if self.c_model == "ddpm" and self.c_lambdas != [1.0]:
            raise ValueError(f"c_lambdas = {self.c_lambdas}: the DDPM loop has no covariance to scale; use [1.0]")
        if self.c_model == "pca_gmm" and self.c_pca_dim >= (64 if self.c_data == "digits" else 784):
            raise ValueError(f"c_pca_dim = {self.c_pca_dim}: must be below the pixel count")
        return self


# ------------------------------------------------------------------------------------------ claims
def _g(m):
    return m["a9687_gauss"]["configs"]


def _by_t(d):
    return sorted(d.items(), key=lambda kv: int(kv[0]))   # the metrics JSON sorts keys as strings


def _cfg(m, d, n, lam):
    key = f"d{d}_n{n}_l{lam:g}"
    if key not in _g(m):
        raise KeyError(f"chains {key} not simulated at this profile")
    return _g(m)[key]


def check_c1(m, profile):
    cs = {k: v for k, v in _g(m).items() if v["d"] == 2 and v["n"] == 100 and v["lam"] < 1}
    if not cs:
        raise KeyError("no d = 2, n = 100, lambda < 1 chains")
    ok, parts = True, []
    for v in cs.values():
        r = v["c1"]
        ok &= all(abs(c["ratio"] - 1) <= 0.05 for c in r.values())
        parts.append(f"λ = {v['lam']:g}: " + ", ".join(f"t = {t}: {c['ratio']:.3f} ± {1.96 * c['se']:.3f}"
                                                     for t, c in _by_t(r)))
    R = next(iter(cs.values()))["chains"]
    return Outcome(f"mean tr(λΣ_t) / (λ^t tr Σ0) over R = {R} chains (95% CI): " + "; ".join(parts), ok)


def check_c2(m, profile):
    v = _cfg(m, 2, 100, 1)
    k = _cfg(m, 2, 20, 1)
    kurt = k["kurtosis_last"]
    ok = all(abs(c["ratio"] - 1) <= 0.10 for c in v["c2"].values()) and kurt > 0
    return Outcome("tr Cov(μ_t) / ((t/n) tr Σ0), n = 100, R = " + f"{v['chains']}: "
                   + ", ".join(f"t = {t}: {c['ratio']:.3f} ± {1.96 * c['se']:.3f}" for t, c in _by_t(v["c2"]))
                   + f"; min excess kurtosis of μ_t (principal axes) at t = {k['generations']}, n = 20: {kurt:.1f}", ok)


def check_c3(m, profile):
    v = _cfg(m, 1, 20, 1)
    f, kap = v["c3_fit"], v["kappa"]
    mv = v["mean_var"]["20"]
    ok = abs(f["slope"] / -kap - 1) <= 0.10 and abs(mv["mean"] - 1) <= 0.10
    med = ", ".join(f"t = {t}: {x:.3g}" for t, x in _by_t(v["median_var"]))
    return Outcome(f"slope of median log σ_t² over t in [20, {v['generations']}]: {f['slope']:.4f} "
                   f"[{f['slope_ci'][0]:.4f}, {f['slope_ci'][1]:.4f}] vs -κ_20 = {-kap:.4f}; mean σ_20² = "
                   f"{mv['mean']:.3f} ± {1.96 * mv['se']:.3f} (σ0² = 1, R = {v['chains']}); median σ_t²: {med}", ok)


def _mix(m):
    return m["a9687_mix"]


def _ratio_text(a, b):
    from kexue.montecarlo import fmt_ci, mean_ci
    r = [x / y for x, y in zip(a, b)]
    return fmt_ci(mean_ci(r)) if len(r) >= 2 else f"{r[0]:.3f} (n = 1)"


def check_c4(m, profile):
    b = _mix(m)
    L = b["loops"]["synthetic_l1"]
    w1, wG = [r[0] for r in L["w2"]], [r[-1] for r in L["w2"]]
    m1, mG = [r[0] for r in L["modes"]], [r[-1] for r in L["modes"]]
    S, G = len(w1), b["eval_gens"][-1]
    up = sum(y > x for x, y in zip(w1, wG))
    mean_inc = sum(wG) / sum(w1) - 1
    modes_drop = sum(mG) / S < sum(m1) / S
    ok = (up >= math.ceil(0.8 * S) and mean_inc >= 0.20) or modes_drop
    return Outcome(f"fully synthetic, λ = 1: W2 gen 1 → gen {G} (mean over {S} seeds) {sum(w1) / S:.3f} → "
                   f"{sum(wG) / S:.3f} ({100 * mean_inc:+.0f}%), increased in {up}/{S} seeds; per-seed ratio "
                   f"{_ratio_text(wG, w1)}; modes covered {sum(m1) / S:.1f} → {sum(mG) / S:.1f}; real-vs-real W2 "
                   f"floor {sum(b['floor']['w2']) / S:.3f}", ok)


def _c5_part(loops, lam_name, g1, g5, what):
    L = loops[lam_name]
    r1, r5 = sum(r[g1] for r in L["recall"]), sum(r[g5] for r in L["recall"])
    p1, p5 = sum(r[g1] for r in L["precision"]), sum(r[g5] for r in L["precision"])
    S = len(L["recall"])
    ok = r5 <= 0.5 * r1 and p5 >= 0.8 * p1
    return ok, (f"{what} {lam_name}: recall {r1 / S:.3f} → {r5 / S:.3f} (ratio {r5 / r1:.2f}), precision "
                f"{p1 / S:.3f} → {p5 / S:.3f} (ratio {p5 / p1:.2f}), mean over {S} seeds")


def check_c5(m, profile):
    b = _mix(m)
    lamb = [k for k, lam in b["lambdas"].items() if lam < 1]
    if not lamb or 5 not in b["eval_gens"]:
        raise KeyError("no biased mixture loop evaluated at generation 5")
    ok1, t1 = _c5_part(b["loops"], min(lamb, key=lambda k: abs(b["lambdas"][k] - 0.8)), 0, b["eval_gens"].index(5),
                       "B (mixture)")
    c = m["a9687_img"]
    lamc = [k for k, lam in c["lambdas"].items() if lam < 1]
    if not lamc or 5 not in c["generations"]:
        raise KeyError("no biased image loop evaluated at generation 5")
    ok2, t2 = _c5_part(c["loops"], min(lamc, key=lambda k: abs(c["lambdas"][k] - 0.7)), 1, 5, "C (digits)")
    L = b["loops"][min(lamb, key=lambda k: abs(b["lambdas"][k] - 0.8))]["recall"]
    curve = ", ".join(f"g{g}: {sum(r[i] for r in L) / len(L):.2f}" for i, g in enumerate(b["eval_gens"]))
    return Outcome(f"gen 1 → gen 5: {t1}; {t2}", ok1 and ok2,
                   f"B mean recall per generation: {curve}. k-NN recall in 2-D stays high while the spread shrinks: "
                   "the sparse outer samples of a shrunken mode have large k-NN balls that still cover most real "
                   "points, so recall lags the variance collapse (λ^t).")


def check_c6(m, profile):
    from kexue.montecarlo import fmt_ci, mean_ci
    b = _mix(m)
    G = b["eval_gens"][-1]
    last = {k: [r[-1] for r in b["loops"][k]["w2"]] for k in ("fresh", "fixed", "synthetic_l1")}
    mean = {k: sum(v) / len(v) for k, v in last.items()}
    txt = "; ".join(f"{k}: " + (fmt_ci(mean_ci(v)) if len(v) >= 2 else f"{v[0]:.3f}") for k, v in last.items())
    fl = b["floor"]["w2"]
    return Outcome(f"W2 at generation {G}, mean over seeds: {txt}",
                   mean["fresh"] < mean["fixed"] < mean["synthetic_l1"],
                   f"Real-vs-real W2 at n = {b['n_eval']} spans [{min(fl):.3f}, {max(fl):.3f}] across seeds (mode-mass "
                   "fluctuations between modes 2.3 apart dominate the exact W2), so differences smaller than the "
                   "seed-to-seed spread are not resolved with this many seeds.")


def check_c7(m, profile):
    from kexue.fits import linear_fit
    b = _mix(m)
    gens = b["eval_gens"]
    if len(gens) < 3:
        raise KeyError("fewer than 3 evaluated generations: no slope")
    W = b["loops"]["fresh"]["w2"]
    x = [g for _ in W for g in gens]
    y = [v for r in W for v in r]
    f = linear_fit(x, y)
    return Outcome(f"fresh loop: slope of W2 over generations {gens[0]}..{gens[-1]} ({len(W)} seeds pooled, "
                   f"{f['n']} points) = {f['slope']:.2e} ± {f['slope_se']:.1e} (SE); first/last mean W2 "
                   f"{sum(r[0] for r in W) / len(W):.3f} / {sum(r[-1] for r in W) / len(W):.3f}",
                   f["slope"] - 2 * f["slope_se"] <= 0)


def check_c4b(m, profile):
    c = m["a9687_img"]
    L = c["loops"]["synthetic_l1"]
    G = c["generations"][-1]
    f1, fG = [r[1] for r in L["fd"]], [r[G] for r in L["fd"]]
    S = len(f1)
    return Outcome(f"{c['fd_name']} of {c['n_eval']} samples vs {c['n_heldout']} held-out images, fully synthetic "
                   f"λ = 1: gen 1 {sum(f1) / S:.2f} → gen {G} {sum(fG) / S:.2f} (ratio {sum(fG) / sum(f1):.2f}, "
                   f"mean over {S} seeds; per-seed ratio {_ratio_text(fG, f1)}); real training images "
                   f"{sum(r[0] for r in L['fd']) / S:.2f}", sum(fG) >= 1.2 * sum(f1))


DEF = ("default", "full")
CLAIMS = (
    Claim("C1", r"Gaussian loop with truncation, model $\mathcal N(\mu_t,\lambda\Sigma_t)$ refitted to $n$ samples of "
          r"generation $t-1$ (unbiased $\Sigma_t$): $\mathbb E[\lambda\Sigma_t]=\lambda^t\Sigma_0$, a geometric collapse.",
          "card: chain mean within 5% of λ^t for t in {1, 5, 10, 20}, n = 100, λ in {0.9, 0.7}", check_c1,
          note="Exact in expectation for every n >= d + 1 and λ in (0, 1]. The Monte Carlo check is only sharp for "
               "short horizons: tr Σ_t is a product of t random factors, so its chain average is carried by rare "
               "chains as t grows (the median falls faster than λ^t, dashed lines in the figure)."),
    Claim("C2", r"Without truncation the mean random-walks: $\mathrm{Cov}(\mu_t-\mu_0)=\frac tn\Sigma_0$ exactly, and "
          r"$\mu_t$ is a scale mixture of Gaussians, heavier-tailed than Gaussian when $t/n$ is not small.",
          "card: ratio within 10% for t in {1, 5, 10, 25} at n = 100, R = 20000; excess kurtosis > 0 at t = 200, "
          "n = 20", check_c2, expected_at=DEF,
          note="Range of validity of the Monte Carlo check: t <= n/4. Beyond, Var(μ_t) estimated over chains falls "
               "below t/n (card: 5.4 instead of 10 at t = 200, n = 20) because it is dominated by rare chains whose "
               "variance has not collapsed; the identity itself holds for all t."),
    Claim("C3", r"(derived, not in the article) Even with $\lambda=1$ the typical variance collapses: "
          r"$\mathbb E\sigma_t^2=\sigma_0^2$ but median $\log\sigma_t^2\approx\log\sigma_0^2-\kappa_n t$, "
          r"$\kappa_n=\log\frac{n-1}2-\psi(\frac{n-1}2)\approx\frac1{n-1}$.",
          "card: slope within 10% of -κ_20 = -0.0536 over t in [20, 200]; mean σ_20² within 10% of σ0²; "
          "median σ_t² 0.60 (t = 10), 0.068 (t = 50), 1.8e-5 (t = 200)", check_c3, expected_at=DEF,
          note="1-D, λ = 1. κ_n is exact (log σ_t² is a random walk with i.i.d. log χ² steps); 1/(n-1) is its "
               "large-n approximation. The mean is checked at t = 20 only: its relative spread "
               "((1 + 2/(n-1))^t - 1)^1/2 explodes at longer horizons."),
    Claim("C4", r"Fully synthetic loop with a learned model and no sampling bias: the distance to the real "
          r"distribution grows over generations (drift, lost small modes).",
          "card: W2(gen 20) > W2(gen 1) in >= 4/5 seeds and by >= 20% on average, or modes covered decreases",
          check_c4, expected_at=DEF,
          note="Range: 8-component EM mixtures on the card's unequal-weight ring, n = 1000 per generation, 20 "
               "generations. Parameter errors accumulate like a random walk (~ sqrt(t/n)), so the drift is slow at "
               "this n; the small modes (weights 0.04, 0.06) are the first to lose mass."),
    Claim("C4b", r"C4 on images: a fully synthetic digits loop (PCA + GMM generator, $\lambda=1$) drifts away from "
          r"the real digits: FD (classifier features) grows over generations.",
          "card: FD(gen 10) >= 1.2 FD(gen 1) (reported if not)", check_c4b, expected_at=("default",),
          note="Range: PCA(20) + 10-component GMM, 1500 images per generation, 10 generations, scored against the "
               "297 held-out digits (FD is 'FD (classifier features)', never FID)."),
    Claim("C5", r"Fully synthetic loop with sampling bias ($\lambda<1$): diversity (recall) collapses within a few "
          r"generations while quality (precision) stays high.",
          "card: recall(5) <= 0.5 recall(1) and precision(5) >= 0.8 precision(1); B at λ = 0.8, C at λ = 0.7",
          check_c5, expected_at=DEF,
          note="Range: 5 generations; the biased model's covariance shrinks by λ per generation (0.8^5 = 0.33, "
               "0.7^5 = 0.17 of the variance), so samples concentrate on the modes: precise, not diverse."),
    Claim("C6", r"Synthetic augmentation (a fixed real set + synthetic data) degrades more slowly than the fully "
          r"synthetic loop but ends worse than the fresh-data loop: at the last generation "
          r"$W_2(\text{fresh})<W_2(\text{fixed})<W_2(\text{fully synthetic})$.",
          "card: ordering of mean W2 at generation 20 (B)", check_c6, expected_at=DEF,
          note="Range: n_real = n_syn = 500 (half real), 20 generations, λ = 1; fixed and fresh differ only in "
               "whether the real half is redrawn."),
    Claim("C7", r"With fresh real data every generation there is no progressive degradation.",
          "card: slope of W2 over generations (fresh loop) not > 0 at 2 SE", check_c7, expected_at=DEF,
          note="Range: half of every training set is new real data; the synthetic half's error is diluted each "
               "generation, so the loop settles at a stationary error instead of drifting."),
)

FIGURES = (
    Figure("gaussian_chains.png", "Gaussian chains (A)",
           "Left: log of the chain-averaged model-covariance trace vs generation at n = 100 for each λ, with "
           "λ^t tr Σ0 (dotted) and the median (dashed). Middle: tr Cov(μ_t)/tr Σ0 vs t (λ = 1) with t/n; vertical "
           "lines mark t = n/4, the range where the chain average is reliable. Right: 1-D median log σ_t² "
           "(95% order-statistic band) with slope -κ_n, and the log of the mean (dashed), which stays near 0 "
           "until rare chains stop being sampled.", "gaussian_chains"),
    Figure("mixture_scatter.png", "Mixture loops: samples per generation (B)",
           "Samples of seed 0 at selected generations per loop type (rows), next to a real sample.", "mixture_loops"),
    Figure("mixture_curves.png", "Mixture loops: W2, precision, recall, modes covered (B)",
           "Mean over seeds with 95% Student-t bands (no band with one seed); dotted: real-vs-real floor at the "
           "same sample size.", "mixture_loops"),
    Figure("image_grids.png", "Image loops: samples per generation (C)",
           "16 samples of seed 0 per loop type (rows) at selected generations, and real training images.",
           "image_loops"),
    Figure("image_curves.png", "Image loops: FD (classifier features), precision, recall, class entropy (C)",
           "Mean over seeds with 95% Student-t bands; generation 0 = real training images scored the same way "
           "(the floor).", "image_loops"),
)

GA, MI, IM = f"{D}/gaussian_chains", f"{D}/mixture_loops", f"{D}/image_loops"
ARTICLE = Article(
    id="9687", slug="self-consuming-mad", key="a9687",
    title="When generative models run amok: will the internet get “mad cow disease”?",
    title_zh="当生成模型肆虐：互联网将有“疯牛病”之忧？",
    date="2023-07-14", url="https://kexue.fm/archives/9687",
    summary=(
        "Models trained on the output of earlier models degrade (Model Autophagy Disorder, Alemohammad et al. "
        "2023). The article explains it with a Gaussian refitted to its own samples: with truncation "
        "($\\lambda<1$) the variance decays like $\\lambda^t$; without it the mean random-walks, "
        "$\\mu_t\\sim\\mathcal N(\\mu_0,\\frac tn\\Sigma_0)$. We simulate many chains in closed form (and add "
        "that even at $\\lambda=1$ the typical variance collapses at rate $\\kappa_n$), then run the paper's three "
        "loop families — fully synthetic, fixed real + synthetic, fresh real + synthetic — with EM mixtures on a "
        "2-D ring with unequal modes and with a PCA + GMM digit generator (a DDPM on Fashion-MNIST at full scale)."),
    params_model=Params,
    stages=(
        Stage("gaussian_chains", gaussian_chains,
              outs={"arrays": f"{GA}.npz", "metrics": f"{GA}.json"},
              params=("a_chains", "a_n", "a_generations", "a_lambdas", "a_variances", "a_angle_deg"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=5),
        Stage("mixture_loops", mixture_loops,
              outs={"arrays": f"{MI}.npz", "metrics": f"{MI}.json"},
              params=("b_modes", "b_radius", "b_std", "b_weights", "b_n", "b_n_real", "b_n_syn", "b_generations",
                      "b_seeds", "b_lambdas", "b_components", "b_em_iters", "b_em_restarts", "b_n_eval", "b_k",
                      "b_eval_gens", "b_scatter_gens"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=30),
        Stage("image_loops", image_loops,
              deps={"digits": "data/digits/digits.npz", "fashion_mnist": "data/fashion_mnist/fashion_mnist.npz",
                    "metric_digits": "data/metric_nets/digits.pt", "metric_fashion28": "data/metric_nets/fashion28.pt"},
              outs={"arrays": f"{IM}.npz", "metrics": f"{IM}.json"},
              params=("c_data", "c_model", "c_generations", "c_seeds", "c_lambdas", "c_loops", "c_n", "c_n_real",
                      "c_n_syn", "c_pca_dim", "c_components", "c_em_iters", "c_em_restarts", "c_n_eval", "c_k",
                      "c_grid", "c_T", "c_unet_widths", "c_unet_blocks", "c_t_dim", "c_groups", "c_steps",
                      "c_batch", "c_lr", "c_ema_decay", "c_sampler", "c_sample_steps", "c_sample_batch"),
              persist={"ckpt": f"{D}/ckpt/"}, metrics="metrics", device=True, kind="train", mem_mb=4000,
              runtime_min=120),
        Stage("figures", figures,
              deps={"gauss": f"{GA}.npz", "mix": f"{MI}.npz", "img": f"{IM}.npz", "gauss_metrics": f"{GA}.json",
                    "mix_metrics": f"{MI}.json", "img_metrics": f"{IM}.json"},
              outs={"figures": f"{D}/figures/"}, kind="figure", mem_mb=2000, runtime_min=5),
    ),
    claims=CLAIMS,
    figures=FIGURES,
)
