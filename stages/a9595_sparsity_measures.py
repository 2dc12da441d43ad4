"""kexue.fm/archives/9595: how to measure the sparsity of data.

properties -> randomised tests of the six Hurley-Rickard desiderata for every measure, each
  violation confirmed in exact arithmetic (C2, C2g, C2b, C3, C4);
identities -> p-limit, ranges, cosine and SNR forms, Renyi entropy identities (C1, C5, C6);
attention_rows -> S*_(1,2), H, H_2 of softmax rows against the logit scale (figures, C6 curve);
regularise -> S*_(1,2) penalty against L1 / L2 penalties at matched residual (C7, C7b);
figures -> the card's four figures.
This module declares the article; the stage functions live in stages/a9595_stages.py.
"""
from __future__ import annotations

from typing import List

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage
from stages.a9595_stages import D, attention_rows, figures, identities, properties, regularise


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # properties
    trials: int = Field(ge=10, le=10**6, description="random trials per (measure, property)")
    robin_hood_trials: int = Field(ge=10, le=10**6, description="C2b: Robin Hood trials per 1 < q < p pair")
    property_n: List[int] = Field(min_length=1, description="vector lengths of the property tests (>= 2)")
    p_values: List[float] = Field(min_length=1, description="p of S_(1,p) and S*_(1,p), each > 1")
    qp_pairs: List[List[float]] = Field(min_length=1, description="(q, p) with 0 < q <= 1 < p: the article's claim")
    qp_bad_pairs: List[List[float]] = Field(min_length=1, description="(q, p) with 1 < q < p: the card's C2b")
    # identities
    identity_n: List[int] = Field(min_length=1)
    identity_vectors: int = Field(ge=4, le=10**5, description="random vectors per n and family group")
    log_identity_p: List[float] = Field(min_length=1, description="p of the C6 log-identity, each > 1")
    renyi_orders: List[float] = Field(min_length=1, description="Renyi orders checked for 0 <= H_p <= log n")
    # attention rows
    attention_n: List[int] = Field(min_length=1)
    attention_rows: int = Field(ge=2, le=10**6)
    logit_scale_min: float = Field(gt=0)
    logit_scale_max: float = Field(gt=0)
    logit_scales: int = Field(ge=2, le=1000)
    # regularise (C7)
    problems: int = Field(ge=1, le=10**4)
    m: int = Field(ge=2)
    n: int = Field(ge=3)
    s: int = Field(ge=1)
    noise: float = Field(ge=0, le=1, description="noise std relative to ||A x0|| / sqrt(m)")
    lam_rel_min: float = Field(gt=0, description="S* penalty weights are lam_rel * ||b||^2")
    lam_rel_max: float = Field(gt=0)
    lam_points: int = Field(ge=1, le=1000)
    adam_steps: int = Field(ge=10, le=10**6)
    adam_lr: float = Field(gt=0, le=1)
    smooth_delta: float = Field(gt=0, le=1, description="|x| ~ sqrt(x^2 + delta) in the S* penalty")
    fista_iters: int = Field(ge=10, le=10**6)

    @model_validator(mode="after")
    def _rules(self):
        for name in ("property_n", "identity_n", "attention_n"):
            if min(getattr(self, name)) < 2:
                raise ValueError(f"{name} = {getattr(self, name)}: every vector length must be >= 2")
        for name in ("p_values", "log_identity_p"):
            if min(getattr(self, name)) <= 1:
                raise ValueError(f"{name} = {getattr(self, name)}: the formulas need p > 1")
        if min(self.renyi_orders) <= 0:
            raise ValueError(f"renyi_orders = {self.renyi_orders}: Renyi orders must be > 0")
        for name, bad in (("qp_pairs", False), ("qp_bad_pairs", True)):
            for v in getattr(self, name):
                if len(v) != 2 or not 0 < v[0] < v[1]:
                    raise ValueError(f"{name} entry {v}: need [q, p] with 0 < q < p")
                if bad != (v[0] > 1):
                    raise ValueError(f"{name} entry {v}: q must be {'> 1' if bad else '<= 1'} in {name}")
        if self.logit_scale_min >= self.logit_scale_max:
            raise ValueError("logit_scale_min must be below logit_scale_max")
        if self.lam_rel_min > self.lam_rel_max:
            raise ValueError("lam_rel_min must not exceed lam_rel_max")
        if not self.s < self.m < self.n:
            raise ValueError(f"C7 needs an under-determined sparse problem: s = {self.s} < m = {self.m} < n = {self.n}")
        return self


# ------------------------------------------------------------------------------------------ claims

def _rate(cell, key="strict"):
    r = cell[f"{key}_rate"]
    return f"{cell[f'{key}_violations']}/{cell['n']} (95% Wilson [{r['lo']:.3g}, {r['hi']:.3g}])"


def check_c1(m, profile):
    c, r = m["a9595_identities"]["c1_limit"], m["a9595_identities"]["c1_ranges"]
    ok = (c["max_abs_diff_p512"] < 0.01 and r["max_below_lo"] <= 1e-12 and r["max_above_1"] <= 1e-12
          and r["max_one_hot_err"] <= 1e-12 and r["max_const_err"] <= 1e-12)
    return Outcome(f"max |S_(1,512) - S0| = {c['max_abs_diff_p512']:.2e} on {c['vectors']} vectors (n <= 64); "
                   f"over {r['rows']} (n, q, p) groups, n in {r['n_values']}: max below lower end "
                   f"{r['max_below_lo']:.1e}, max above 1 {r['max_above_1']:.1e}; one-hot - lower end "
                   f"{r['max_one_hot_err']:.1e}; constant - 1 {r['max_const_err']:.1e}", ok)


def check_c2(m, profile):
    t = m["a9595_properties"]
    tab, mis = t["table"], t["mismatches"]
    others = sum(tab[name][p]["strict_violations"] for name, row in t["expected"].items() for p, holds in row.items()
                 if holds and p in tab[name])
    cand = sum(tab[name][p]["float_candidates"] for name, row in t["expected"].items() for p, holds in row.items()
               if holds and p in tab[name])
    s1 = "; ".join(f"{k} D4 {_rate(tab[k]['D4'])}" for k in t["expected"] if k.startswith("S_1,"))
    return Outcome(f"S0 D1 strict {_rate(tab['S0']['D1'])}, non-strict {_rate(tab['S0']['D1'], 'nonstrict')}; {s1}; "
                   f"{others} violations in all 'yes' cells (float64 flagged {cand} candidates there, all refuted in exact "
                   f"arithmetic); {len(mis)} cells differ from the article's table"
                   + (f": {mis[:4]}" if mis else ""), not mis)


def check_c2g(m, profile):
    t = m["a9595_properties"]
    tab = t["table"]
    bad = [(k, p, tab[k][p]["strict_violations"], tab[k][p]["n"]) for k in t["good_pairs"] + t["bad_pairs"]
           for p in t["properties"] if tab[k][p]["strict_violations"]]
    txt = "; ".join(f"{k} {p}: {v}/{n}" for k, p, v, n in bad) or "none"
    return Outcome(f"violations among S*_(q,p) for {t['good_pairs'] + t['bad_pairs']}: {txt}", not bad,
                   "Card (C2b): for 1 < q < p the Robin Hood property D1 fails; only 0 < q <= 1 < p is covered "
                   "by the Schur-concavity of l_q (q <= 1) and Schur-convexity of l_p (p >= 1).")


def check_c2b(m, profile):
    t = m["a9595_properties"]
    ref, rh = t["c2b_reference"], t["robin_hood"]
    ok_ref = abs(ref["S_before"] - 0.83795) < 1e-4 and abs(ref["S_after"] - 0.82811) < 1e-4 and ref["valid_move"]
    counts = {k: rh[k]["strict_violations"] for k in t["bad_pairs"]}
    rates = "; ".join(f"{k} D1 {_rate(rh[k])}" for k in t["bad_pairs"])
    good = "; ".join(f"{k} D1 {tab_v['D1']['strict_violations']}/{tab_v['D1']['n']}"
                     for k, tab_v in ((k, t["table"][k]) for k in t["good_pairs"]))
    return Outcome(f"S*_(2,3): {ref['S_before']:.5f} -> {ref['S_after']:.5f} after the move (50 digits: "
                   f"{ref['S_before_exact']:.5f} -> {ref['S_after_exact']:.5f}); random Robin Hood moves "
                   f"(exactly confirmed): {rates}; for q <= 1: {good}",
                   ok_ref and all(v > 100 for v in counts.values()))


def check_c3(m, profile):
    c = m["a9595_properties"]["table"]["l1/l2"]["D3"]
    return Outcome(f"l1/l2 rising-tide violations {_rate(c)}", c["strict_violations"] == 0)


def check_c4(m, profile):
    row = m["a9595_properties"]["table"]["1-Gini"]
    bad = {p: c["strict_violations"] for p, c in row.items() if c["strict_violations"]}
    n = next(iter(row.values()))["n"]
    return Outcome(f"1 - Gini: {sum(bad.values())} violations in 6 x {n} trials"
                   + (f" ({bad})" if bad else "; rate per property < "
                      f"{max(c['strict_rate']['hi'] for c in row.values()):.2g} (95% Wilson upper end)"), not bad)


def check_c5(m, profile):
    c = m["a9595_identities"]["c5"]
    nz, wz, ce = c["no_zeros"], c["with_zeros"], c["counterexample"]
    ok = max(nz["cos"], nz["snr"], nz["snr_var"], wz["snr"], wz["snr_var"]) <= 1e-12 and wz["cos"] > 1e-6
    return Outcome(f"no zeros ({nz['vectors']} vectors): max |cos - S*| {nz['cos']:.1e}, |E|x|/sqrt(E x^2) - S*| "
                   f"{nz['snr']:.1e}, |1/sqrt(1+Var/E^2) - S*| {nz['snr_var']:.1e}; with zeros ({wz['vectors']}): "
                   f"SNR forms {max(wz['snr'], wz['snr_var']):.1e}, cosine form off by up to {wz['cos']:.3f} "
                   f"(x = {ce['x']}: S* = {ce['S*_1,2']:.4f}, cos = {ce['cos_sign']:.4f}); the printed Chinese "
                   f"form without sqrt is off by up to {nz['no_sqrt']:.3f}", ok)


def check_c6(m, profile):
    c, a = m["a9595_identities"]["c6"], m["a9595_attention"]
    ident = c["log_identity_max_err"]
    ok = (c["renyi_limit_max_err"] < 1e-4 and all(v < 1e-10 for v in ident.values())
          and c["min_H"] >= -1e-12 and c["max_H_minus_logn"] <= 1e-12)
    return Outcome(f"max |H_(1+-1e-6) - H| = {c['renyi_limit_max_err']:.1e}; log-identity max error "
                   + ", ".join(f"p={k}: {v:.1e}" for k, v in ident.items())
                   + f"; min H_p = {c['min_H']:.1e}, max H_p - log n = {c['max_H_minus_logn']:.1e} "
                   f"(orders {c['renyi_orders']}, {c['vectors']} probability vectors); on {a['rows']} attention "
                   f"rows S*_(1,2) = exp(-(log n - H_2)/2) to {a['c6_curve_max_err']:.1e}", ok)


def _c7_text(r):
    def f(e):
        return f"{e['k']}/{e['n']} = {e['p']:.2f} [{e['lo']:.2f}, {e['hi']:.2f}]"
    return (f"{r['with_matches']} of {r['problems']} problems with matched residuals; S* penalty sparser than L2: "
            f"{f(r['beats_L2'])}; within 1.05x of L1: {f(r['within_1.05_L1'])} (95% Wilson)")


def check_c7(m, profile):
    r = m["a9595_regularise"]
    return Outcome(_c7_text(r), r["beats_L2"]["p"] >= 0.9)


def check_c7b(m, profile):
    r = m["a9595_regularise"]
    return Outcome(_c7_text(r), r["within_1.05_L1"]["p"] >= 0.7,
                   "Exploratory part of A7 (the card: failure is reported, not fatal).")


DEFAULT = ("default", "full")
CLAIMS = (
    Claim("C1", "$\\lim_{p\\to\\infty}S_{1,p}=S_0$; $S^*_{1,p}\\in[n^{(1-p)/p},1]$ and "
          "$S^*_{q,p}\\in[n^{1/p-1/q},1]$, the lower end at one-hot vectors and 1 at constant vectors.",
          "ranges $[n^{(1-p)/p},1]$, $[1/\\sqrt n,1]$, $[n^{1/p-1/q},1]$", check_c1),
    Claim("C2", "Property table (smaller = sparser): $S_0$ meets D2 D3 D4 P1 P2 and D1 only non-strictly; "
          "$S_{1,p}$ meets all but D4; $S^*_{1,p}$ and $S^*_{q,p}$ with $0<q\\le1<p$ meet all six.",
          "A2: p in {1.5, 2, 4}, (q, p) in {(0.5, 2), (0.5, 4), (1, 3)}", check_c2),
    Claim("C2g", "The article's general statement: every $S^*_{q,p}$ with $p>q>0$ meets all six desiderata.",
          "all six for every p > q > 0", check_c2g, expected="fail",
          note="The card's correction C2b: D1 (Robin Hood) fails for 1 < q < p."),
    Claim("C2b", "Correction (card): for $1<q<p$ D1 fails, e.g. $S^*_{2,3}([1.3,0.1,3.3,0.2])=0.83795$ but "
          "$0.82811$ after moving 0.43 from 1.3 to 0.2; random Robin Hood moves violate D1 often.",
          "0.83795 -> 0.82811; > 100 of 2000 moves violate D1", check_c2b),
    Claim("C3", "$l_1/l_2$ satisfies D3 (rising tide), contrary to the paper's proof.", "0 violations", check_c3),
    Claim("C4", "(Paper) $1-G$ (Gini index) satisfies all six desiderata.", "0 violations", check_c4,
          expected_at=DEFAULT),
    Claim("C5", "$S^*_{1,2}(x)=\\cos(\\mathrm{sign}(x),x)$ when no entry is 0, and "
          "$S^*_{1,2}=\\mathbb E|x|/\\sqrt{\\mathbb E x^2}=1/\\sqrt{1+\\mathrm{Var}|x|/(\\mathbb E|x|)^2}$ always.",
          "equal within 1e-12", check_c5),
    Claim("C6", "For probability vectors $\\lim_{p\\to1}H_p=H$, $0\\le H_p\\le\\log n$, and "
          "$\\log S^*_{1,p}=-\\frac{p-1}{p}(\\log n-H_p)$.", "identity error < 1e-10", check_c6),
    Claim("C7", "Penalising $S^*_{1,2}$ gives sparser solutions than an L2 penalty at matched residual.",
          "S* < L2 in >= 90% of problems", check_c7, expected_at=DEFAULT),
    Claim("C7b", "Penalising $S^*_{1,2}$ gives solutions at least as sparse as an L1 penalty at matched residual "
          "(within 1.05x).", "in >= 70% of problems (exploratory)", check_c7b, expected_at=DEFAULT,
          note="Exploratory per the card."),
)

FIGURES = (
    Figure("property_matrix.png", "Property matrix: exactly confirmed violations",
           "Rows: measures (smaller = sparser), columns: the six desiderata; colour = strict violation rate, text = "
           "violations / trials (with the non-strict count where it differs). Green = no violation.", "properties"),
    Figure("s_star_vs_renyi.png", "S*_(1,2) of attention rows against Renyi entropy H_2",
           "Softmax rows of Gaussian logits (all scales c); black lines: the C6 identity "
           "S* = exp(-(log n - H_2)/2).", "attention_rows"),
    Figure("logit_scale.png", "Sparsity of softmax rows against the logit scale",
           "Mean S*_(1,2) (left) and normalised Shannon / Renyi-2 entropy (right) of softmax rows against the "
           "logit scale c, with 95% t-bands.", "attention_rows"),
    Figure("sparsity_vs_residual.png", "Sparsity against residual for three penalties",
           "Left: S*_(1,2) of the solution against relative residual along the L1, L2 and S*_(1,2) penalty paths "
           "(first problems). Right: the matched-residual solutions of every problem.", "regularise"),
)

ARTICLE = Article(
    id="9595", slug="sparsity-measures", key="a9595",
    title="How to measure the sparsity of data?",
    title_zh="如何度量数据的稀疏程度？",
    date="2023-05-05", url="https://kexue.fm/archives/9595",
    summary=(
        "The article looks for a sparsity measure (smaller = sparser) that meets the six desiderata of Hurley "
        "& Rickard: from $S_0$ = mean/max through $S_{1,p}=(l_1/n)/l_p$ to the normalised "
        "$S^*_{q,p}=n^{1/p-1/q}l_q/l_p$, with $S^*_{1,2}$ the cosine between $\\mathrm{sign}(x)$ and $x$, and a "
        "link to Rényi entropy for probability vectors. We test every desideratum on random vectors (each "
        "violation confirmed in exact arithmetic), verify the identities, measure attention rows, and try "
        "$S^*_{1,2}$ as a regulariser. The claim that every $S^*_{q,p}$ meets all six fails for $1<q<p$ "
        "(Robin Hood)."),
    params_model=Params,
    stages=(
        Stage("properties", properties, outs={"metrics": f"{D}/properties.json"},
              params=("trials", "robin_hood_trials", "property_n", "p_values", "qp_pairs", "qp_bad_pairs"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=10),
        Stage("identities", identities, outs={"metrics": f"{D}/identities.json"},
              params=("identity_n", "identity_vectors", "p_values", "qp_pairs", "qp_bad_pairs", "log_identity_p",
                      "renyi_orders"), metrics="metrics", kind="eval", mem_mb=2000, runtime_min=5),
        Stage("attention_rows", attention_rows,
              outs={"rows": f"{D}/attention_rows.npz", "curves": f"{D}/attention_curves.json",
                    "metrics": f"{D}/attention_metrics.json"},
              params=("attention_n", "attention_rows", "logit_scale_min", "logit_scale_max", "logit_scales"),
              metrics="metrics", kind="eval", mem_mb=2000, runtime_min=5),
        Stage("regularise", regularise, outs={"results": f"{D}/regularise.json", "metrics": f"{D}/regularise_metrics.json"},
              params=("problems", "m", "n", "s", "noise", "lam_rel_min", "lam_rel_max", "lam_points", "adam_steps",
                      "adam_lr", "smooth_delta", "fista_iters"), metrics="metrics", kind="eval", mem_mb=2000,
              runtime_min=20),
        Stage("figures", figures,
              deps={"properties": f"{D}/properties.json", "rows": f"{D}/attention_rows.npz",
                    "curves": f"{D}/attention_curves.json", "regularise": f"{D}/regularise.json"},
              outs={"figures": f"{D}/figures/"}, kind="figure", mem_mb=2000, runtime_min=5),
    ),
    claims=CLAIMS,
    figures=FIGURES,
)
