"""kexue.fm/archives/9046: does your language model have "unpredictable words" (unargmaxable tokens)?

synthetic -> C1-C7 on synthetic class vectors: exact LP (ground truth, after the card's pre-screen), the article's
  Frank-Wolfe min-norm with its argmaxable certificate, ConvexHull cross-checks, the minimax identity, sweeps;
lm -> C8/C9: low-rank word-level LMs trained on the KJV corpus (resumable), the LP on their output layers
  (and at `full` an optional user-supplied checkpoint);
figures -> the card's figures.
This module declares the article; the stage functions live in stages/a9046_stages.py.
"""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9046_stages import D, figures, lm, synthetic


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grid: int = Field(ge=11, le=4001, description="C1 grid points per axis over [-10, 10]^2")
    minimax_instances: int = Field(ge=1, le=10000)
    bias_instances: int = Field(ge=1, le=10000)
    bias_n: int = Field(ge=6, le=2000, description="classes per random (W, b) of C4")
    unit_ns: list[int] = Field(min_length=1)
    unit_ds: list[int] = Field(min_length=1)
    sweep_ns: list[int] = Field(min_length=1)
    sweep_ds: list[int] = Field(min_length=1)
    sweep_seeds: int = Field(ge=1, le=100)
    extra_cells: list[tuple[int, int]] = Field(default_factory=list, description="(n, d) cells without FW")
    fw_iters: int = Field(ge=1, le=10**6)
    fw_stop: float = Field(ge=0, lt=1e-2, description="FW stops when ||x|| < fw_stop * scale (0: never)")
    fw_max_n: int = Field(ge=2, le=10**5, description="run FW only on cells with n <= fw_max_n")
    hull_max_d: int = Field(ge=2, le=8)
    spreads: list[float] = Field(min_length=1)
    spread_n: int = Field(ge=8, le=10**5)
    spread_d: int = Field(ge=2, le=512)
    spread_seeds: int = Field(ge=1, le=100)
    vocab_size: int = Field(ge=16, le=65536, description="V including <unk>")
    lm_widths: list[int] = Field(description="bottleneck widths d of the LMs with output bias ([] = skip)")
    lm_nobias_widths: list[int] = Field(description="widths of the bias-free LMs")
    lm_ctx: int = Field(ge=1, le=16)
    lm_emb: int = Field(ge=1, le=4096)
    lm_hidden: int = Field(ge=1, le=65536)
    lm_steps: int = Field(ge=1, le=10**7)
    lm_batch: int = Field(ge=1, le=10**6)
    lm_lr: float = Field(gt=0, le=1.0)
    lm_ckpt_every: int = Field(ge=1)
    lm_box_sample: int = Field(ge=100, le=10**7, description="training positions added to the observed states")
    checkpoint: Optional[str] = Field(default=None, description="user-supplied output layer (.npz/.pt/.bin)")
    checkpoint_box: float = Field(gt=0, description="R of the feature box for a checkpoint with bias")

    @model_validator(mode="after")
    def _rules(self):
        for n in self.unit_ns + self.sweep_ns:
            if n < 4:
                raise ValueError(f"class counts must be >= 4, got {n}")
        for d in self.unit_ds + self.sweep_ds + [d for _, d in self.extra_cells]:
            if not 2 <= d <= 4096:
                raise ValueError(f"dimension d = {d}: need 2 <= d <= 4096")
        for n, d in self.extra_cells:
            if n < d + 2:
                raise ValueError(f"extra cell (n={n}, d={d}): need n >= d + 2")
        for d in self.lm_widths + self.lm_nobias_widths:
            if not 1 <= d < self.vocab_size:
                raise ValueError(f"LM width d = {d}: need 1 <= d < vocab_size = {self.vocab_size}")
        if any(s < 0 for s in self.spreads):
            raise ValueError(f"spreads {self.spreads}: the log-normal spread must be >= 0")
        from pathlib import Path

        if self.checkpoint is not None and not Path(self.checkpoint).is_file():
            raise ValueError(f"checkpoint {self.checkpoint!r} does not exist: give the path of a local .npz (W, b) "
                             "or torch state dict holding the output matrix, or set checkpoint: null")
        return self


# ------------------------------------------------------------------------------------------------ claims
def _cells(m):
    return m["sweep"]["cells"]


def check_c1(m, profile):
    c = m["c1"]
    ok = c["lp"] == [True, True, True, True, False] and c["grid_wins"][4] == 0
    return Outcome(f"LP verdicts {c['lp']}; {c['grid']}x{c['grid']} grid over [-10, 10]^2: class 5 wins "
                   f"{c['grid_wins'][4]} points (ties with 5: {c['grid_ties_with_5']}, broken against it); "
                   f"wins of classes 1-4: {c['grid_wins'][:4]}", ok)


def check_c2(m, profile):
    cells = _cells(m)
    hull = [c for c in cells if "hull_mismatches" in c]
    fw = [c for c in cells if "fw_missed_certificates" in c]
    hm = sum(c["hull_mismatches"] for c in hull)
    missed = sum(c["fw_missed_certificates"] for c in fw)
    false = sum(c["fw_false_certificates"] for c in fw)
    n_un = sum(c["unargmaxable"] for c in fw)
    below2 = sum(c["fw_unarg_below_1e2"] for c in fw)
    below3 = sum(c["fw_unarg_below_1e3"] for c in fw)
    maxres = max((c["fw_unarg_max_residual"] for c in fw), default=0.0)
    frac3 = below3 / n_un if n_un else 1.0
    miss_cells = [f"n={c['n']},d={c['d']},seed={c['seed']}: {c['fw_missed_certificates']} "
                  f"(residual {c['fw_missed_residuals'][:3]})" for c in fw if c["fw_missed_certificates"]]
    ok = hm == 0 and missed == 0 and false == 0 and below2 == n_un and frac3 >= 0.9
    return Outcome(f"LP vs ConvexHull: {hm} mismatches in {len(hull)} cells (d <= 6); FW ({m['sweep']['fw_iters']} "
                   f"iterations, {len(fw)} cells): {missed} LP-argmaxable classes without certificate, {false} false "
                   f"certificates; LP-unargmaxable residual ||x||/scale max {maxres:.2e}, {100 * frac3:.1f}% < 1e-3 "
                   f"(n = {n_un})", ok,
                   "Missed certificates: " + ("; ".join(miss_cells[:6]) if miss_cells else "none") +
                   ". A class just outside the hull of the others (distance delta) needs ||x - x*|| < ~delta^2/scale "
                   "before z = x separates it; plain FW converges like O(1/sqrt t) in x, so such near-boundary classes "
                   "can stay uncertified (the LP still decides them).")


def check_c3(m, profile):
    c = m["c3"]
    return Outcome(f"max |primal - dual| / scale = {c['max_rel_gap']:.1e} over {c['count']} random (W, b, r, k) "
                   f"with n = {c['n']}, d = {c['d']} (min signed dual - primal {c['min_signed_gap']:.1e})",
                   c["max_rel_gap"] < 1e-3)


def check_c4(m, profile):
    c = m["c4"]
    k = c["constructed"]
    ok = (k["lp_bias_R1"] and not k["lp_nobias"] and c["implication_violations"] == 0
          and c["upper_hull_mismatches"] == 0)
    return Outcome(f"constructed b5 = +5: argmaxable with bias (R = 1) {k['lp_bias_R1']}, without bias "
                   f"{k['lp_nobias']}; {c['implication_violations']} of {c['nobias_argmaxable_tested']} no-bias-argmaxable "
                   f"classes lost with bias at R = 1e4 ({c['instances']} random (W, b), n = {c['n']}); converse fails "
                   f"for {c['bias_rescued']} classes; LP (R = 1e6) vs lifted upper hull: {c['upper_hull_mismatches']} "
                   f"mismatches in {c['upper_hull_classes']} classes (d <= 4)", ok,
                   "The article's 'bias negligible for large r' holds one way only: a bias can make an interior class "
                   "argmaxable (the card's correction).")


def check_c5(m, profile):
    c = m["c5"]
    tot = sum(v["unargmaxable"] for v in c.values())
    ties = sum(v["ties"] for v in c.values())
    marg = [x for v in c.values() for x in v["tie_witness_margins"]]
    return Outcome(f"{tot} unargmaxable classes over unit-norm cells {sorted(c)}; {ties} ties (LP margin below its "
                   f"1e-9 tolerance, witness z = w_k margin in [{min(marg, default=0):.1e}, {max(marg, default=0):.1e}])",
                   tot == 0, "Ties are near-duplicate directions: argmaxable in exact arithmetic (z = w_k), "
                   "indistinguishable at the LP tolerance (card pitfall: report ties separately).")


def _frac(cells, n, d):
    sel = [c for c in cells if c["n"] == n and c["d"] == d]
    if not sel:
        raise KeyError(f"cell n={n}, d={d} not measured")
    return sum(c["fraction"] for c in sel) / len(sel), sel


def check_c6(m, profile):
    cells = _cells(m)
    ns, ds = m["sweep"]["ns"], sorted(m["sweep"]["ds"])
    worst = 0.0
    rows = []
    for n in ns:
        f = [_frac(cells, n, d)[0] for d in ds]
        worst = max([worst] + [b - a for a, b in zip(f, f[1:])])
        rows.append(f"n={n}: " + ", ".join(f"{v:.3f}" for v in f))
    f2, s2 = _frac(cells, 1024, 2)
    f32, s32 = _frac(cells, 1024, 32)
    ci = m["c6_ci"]
    ok = worst <= 0.02 and f2 > 0.9 and f32 < 0.01
    text = (f"mean fraction over d = {ds} ({m['sweep']['seeds']} seeds): " + "; ".join(rows) +
            f"; largest rise with d {worst:+.3f}; n=1024: d=2 {ci['n1024_d2']}, d=32 {ci['n1024_d32']}")
    if profile == "full":
        big = [c for c in cells if c["n"] == 40000 and c["d"] == 200]
        if not big:
            raise KeyError("n = 40000, d = 200 not measured")
        ok = ok and big[0]["unargmaxable"] == 0
        text += f"; n=40000, d=200: {big[0]['unargmaxable']} unargmaxable"
    return Outcome(text, ok)


def check_c7(m, profile):
    sp = m["spread_summary"]
    keys = [0.0, 0.25, 0.5, 1.0, 2.0]
    if any(str(k) not in sp for k in keys):
        raise KeyError("the card's spreads 0, 0.25, 0.5, 1, 2 were not all measured")
    f = [sp[str(k)]["p"] for k in keys]
    ok = f[0] == 0 and all(b > a for a, b in zip(f[1:], f[2:]))
    return Outcome(f"n = {m['spread']['n']}, d = {m['spread']['d']}, {m['spread']['seeds']} seeds: fraction " +
                   ", ".join(f"s={k}: {sp[str(k)]['p']:.3f} [{sp[str(k)]['lo']:.3f}, {sp[str(k)]['hi']:.3f}]"
                             for k in keys) + " (Wilson 95%, pooled classes)", ok)


def check_c8(m, profile):
    L = m["lm"]
    if L["skipped"]:
        raise KeyError("no LM trained at this profile")
    c, mods = L["c8"], L["models"]
    counts = {k: v["unargmaxable"] for k, v in mods.items()}
    ok = c["p_value"] is not None and c["p_value"] < 0.05 and counts["d16"] <= counts["d2"]
    return Outcome(f"corpus {L['corpus']['corpus']} (V = {L['corpus']['vocab']}); unargmaxable counts {counts}; "
                   f"median frequency rank unargmaxable {c['median_rank_unarg']} vs all {c['median_rank_all']} "
                   f"(pooled over {c['models']}, n = {c['n_unarg']}); one-sided Mann-Whitney p = "
                   f"{c['p_value'] if c['p_value'] is None else format(c['p_value'], '.2g')}", ok)


def check_c9(m, profile):
    L = m["lm"]
    if L["skipped"]:
        raise KeyError("no LM trained at this profile")
    mods = L["models"]
    viol = sum(v["argmax_violations"] for v in mods.values())
    n_un = sum(v["unargmaxable"] for v in mods.values())
    pos = sum(v["n_positive_prob"] for v in mods.values())
    lows = [v["min_max_logprob"] for v in mods.values() if v["min_max_logprob"] is not None]
    return Outcome(f"{viol} validation argmaxes on LP-unargmaxable tokens ({sum(v['val_positions'] for v in mods.values())}"
                   f" positions x {len(mods)} models); {pos} of {n_un} unargmaxable tokens get max probability > 0 "
                   f"(smallest max log-prob {min(lows) if lows else float('nan'):.1f})",
                   viol == 0 and pos == n_un and n_un > 0)


CLAIMS = (
    Claim("C1", r"In the 2-D example without bias ($w_{1..4} = (1,2),(2,1),(1,0),(0,1)$, $w_5 = (1,1)$) class 5 is "
                r"unargmaxable and classes 1-4 are argmaxable.", "[True, True, True, True, False]", check_c1),
    Claim("C2", r"Without bias, class $k$ is unargmaxable iff $\min_{\alpha}\|\sum_i\alpha_i(w_k-w_i)\| = 0$ (iff $w_k$ "
                r"lies in the convex hull of the others); Frank-Wolfe on this problem and the exact LP agree.",
          "0 hull mismatches; every LP-argmaxable class FW-certified within 2000 iterations; residuals < 1e-2 "
          "(>= 90% < 1e-3) of scale", check_c2,
          note="The card's calibration (n = 256, d = 2/4/8, one seed) found every certificate; the sweep checks all cells."),
    Claim("C3", r"Minimax: $\max_{\|z\|\le r}\min_i(\langle\Delta w_i,z\rangle+\Delta b_i) = "
                r"\min_{\alpha}(r\|\sum\alpha_i\Delta w_i\|+\sum\alpha_i\Delta b_i)$ for every $r > 0$.",
          "|primal - dual| < 1e-3 relative", check_c3),
    Claim("C4", r"With bias and large $r$ every class argmaxable without bias stays argmaxable; the converse can fail "
                r"(exact rule: $(w_k, b_k)$ must be a vertex of the upper hull of the lifted points).",
          "constructed case; 0 violations; 0 upper-hull mismatches", check_c4),
    Claim("C5", r"Distinct equal-norm class vectors without bias have no unargmaxable class ($z = w_k$ is a witness).",
          "0 unargmaxable", check_c5),
    Claim("C6", r"For Gaussian class vectors the unargmaxable fraction falls fast with $d$ at fixed $n$: large for "
                r"$n \gg d$ in 2-D, essentially zero at $n = 200d$ (40000 classes in 200-D).",
          "non-increasing in d; > 0.9 at (1024, 2); < 0.01 at (1024, 32); full: 0 at (40000, 200)", check_c6,
          expected_at=("default", "full")),
    Claim("C7", r"Spread in class-vector norms creates unargmaxable classes: random directions with norms "
                r"$e^{s\,\mathcal N(0,1)}$ give a fraction growing with $s$, zero at $s = 0$.",
          "card: 0 / 0.39 / 0.69 / 0.88 / 0.93 for s = 0 / .25 / .5 / 1 / 2", check_c7,
          expected_at=("default", "full")),
    Claim("C8", r"In trained (low-rank) LMs unargmaxable tokens are rare-frequency tokens, and fewer as $d$ grows.",
          "Mann-Whitney p < 0.05; count(d=16) <= count(d=2)", check_c8, expected_at=("default", "full"),
          note="Corpus: the KJV word corpus (V = 1024 incl. <unk>), not the fortunes package the card names."),
    Claim("C9", r"An unargmaxable token never wins argmax on any observed hidden state, yet gets positive probability "
                r"(sampling can emit it).", "0 violations; every max probability > 0", check_c9,
          expected_at=("default", "full")),
)

FIGURES = (
    Figure("example_regions.png", "Argmax regions of the 2-D example",
           "Winning class of z = (z1, z2) on a grid (no bias); the class vectors are drawn as points, class 5 "
           "(1, 1) marked: it wins nowhere (C1).", "synthetic"),
    Figure("sweep_heatmap.png", "Unargmaxable fraction of Gaussian class vectors",
           "Exact-LP unargmaxable fraction, mean over seeds, for each (n classes, d) (C6).", "synthetic"),
    Figure("norm_spread.png", "Unargmaxable fraction vs norm spread",
           "n random directions in d dimensions with norms exp(s N(0,1)); pooled fraction with its Wilson 95% band "
           "(C7).", "synthetic"),
    Figure("lm_frequency.png", "Frequency ranks of unargmaxable tokens",
           "Histogram of training-frequency ranks (1 = most frequent) of all tokens and of the LP-unargmaxable "
           "tokens of each trained low-rank LM (C8).", "lm"),
    Figure("lm_counts.png", "Unargmaxable tokens vs bottleneck width",
           "Count of LP-unargmaxable tokens of each trained LM against its bottleneck width d (C8).", "lm"),
)

ARTICLE = Article(
    id="9046", slug="unargmaxable-tokens", key="a9046",
    title='Does your language model have "unpredictable words"?',
    title_zh="你的语言模型有没有“无法预测的词”？",
    date="2022-04-20", url="https://kexue.fm/archives/9046",
    summary=(
        "A softmax layer with class vectors $w_i$ and biases $b_i$ can have a class that is never the argmax for any "
        "feature $z$, which needs many more classes than dimensions: exactly the shape of an LM output layer. The "
        "article reduces the test to a min-norm problem over the simplex (via von Neumann's minimax theorem) and "
        "solves it with Frank-Wolfe, arguing that such tokens are rare in practice. We decide every class with an "
        "exact linear program (HiGHS), compare Frank-Wolfe's certificates and the convex hull with it, check the "
        "minimax identity and the bias caveat, sweep Gaussian and norm-spread class vectors, and train low-rank "
        "word-level LMs on the King James Bible to see which tokens become unargmaxable."),
    params_model=Params,
    stages=(
        Stage("synthetic", synthetic, outs={"metrics": f"{D}/synthetic.json", "arrays": f"{D}/synthetic.npz"},
              params=("grid", "minimax_instances", "bias_instances", "bias_n", "unit_ns", "unit_ds", "sweep_ns",
                      "sweep_ds", "sweep_seeds", "extra_cells", "fw_iters", "fw_stop", "fw_max_n", "hull_max_d",
                      "spreads", "spread_n", "spread_d", "spread_seeds"),
              metrics="metrics", kind="eval", mem_mb=3000, runtime_min=30),
        Stage("lm", lm, deps={"kjv": "data/kjv/kjv.txt"},
              outs={"metrics": f"{D}/lm.json", "arrays": f"{D}/lm.npz"},
              params=("vocab_size", "lm_widths", "lm_nobias_widths", "lm_ctx", "lm_emb", "lm_hidden", "lm_steps",
                      "lm_batch", "lm_lr", "lm_ckpt_every", "lm_box_sample", "checkpoint", "checkpoint_box"),
              persist={"ckpt": f"{D}/lm_ckpt/"}, metrics="metrics", device=True, kind="train", mem_mb=4000,
              runtime_min=30),
        Stage("figures", figures, deps={"synthetic": f"{D}/synthetic.json", "lm": f"{D}/lm.json",
                                        "lm_arrays": f"{D}/lm.npz"},
              outs={"figures": f"{D}/figures/"}, kind="figure", runtime_min=3),
    ),
    claims=CLAIMS,
    figures=FIGURES,
)
