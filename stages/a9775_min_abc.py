"""kexue.fm/archives/9775: minimum of a + b + c when N = ab + c over the natural numbers.

prepare -> the N to test (an exhaustive range, seeded log-uniform large N, a timing grid);
run -> brute force, the naive guess and algorithms A, A-closed, B, C on all of them;
evaluate -> mismatches, bounds, exact identity checks, candidate-count slopes (metrics JSON);
figures -> the card's figures 1-4; figure 5, the reference table, is a report table.
This module declares the article (parameters, claims, figures); the stage functions live in
stages/a9775_stages.py, so editing a claim re-renders the report without rerunning anything.
"""
from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kexue.pipeline import Article, Claim, Figure, Outcome, Stage, Table
from stages.a9775_stages import D, evaluate, figures, prepare, run


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exhaustive_hi: int = Field(ge=1000, le=2 * 10**8, description="exhaustive range is N = 1..exhaustive_hi")
    n_random: int = Field(ge=1, le=10**5, description="seeded log-uniform random N")
    random_log10_lo: float = Field(ge=1, le=15)
    random_log10_hi: float = Field(ge=2, le=15)
    timing_log10_lo: float = Field(ge=1, le=15)
    timing_log10_hi: float = Field(ge=2, le=15.5)
    timing_points_per_decade: int = Field(ge=1, le=20)
    timing_repeats: int = Field(ge=1, le=50)
    c3_samples: int = Field(ge=10, le=10**6, description="random (N, a, b) for the C3 residuals")
    c3_log10_hi: float = Field(ge=2, le=15)

    @model_validator(mode="after")
    def _ranges(self):
        for lo, hi in (("random_log10_lo", "random_log10_hi"), ("timing_log10_lo", "timing_log10_hi")):
            if getattr(self, lo) >= getattr(self, hi):
                raise ValueError(f"{lo} = {getattr(self, lo)} must be below {hi} = {getattr(self, hi)}")
        return self


# ------------------------------------------------------------------------------------------ claims

def _fmt_list(lst, trunc=False, k=12):
    s = ", ".join(str(v) for v in lst[:k])
    return "[" + s + (", ..." if len(lst) > k or trunc else "") + "]"


def _exc_text(m, alg):
    ex = m["exceptions"]
    parts = [f"N={n}: {alg} {v[alg]} vs S* {v['brute']}" for n, v in ex.items() if v[alg] != v["brute"]]
    return "; exceptions " + ("; ".join(parts) if parts else "none") + " (N <= 3)"


def check_c1(m, profile):
    c = m["c1"]
    ok = c["S_star"] == 23 and [10, 13, 0] in c["optima"] and c["guess"][0] == 31
    return Outcome(f"S*(130) = {c['S_star']}, optima {c['optima']}; guess {tuple(c['guess'][1:])} gives S = {c['guess'][0]}", ok)


def check_c2(m, profile):
    c = m["c2"]
    return Outcome(f"{c['fail']} failures in {c['pairs']} (N, a) pairs (exact, times a); "
                   f"{c['fraction_fail']} in {c['fraction_samples']} Fraction samples",
                   c["pairs"] > 0 and c["fail"] == 0 and c["fraction_fail"] == 0)


def check_c3(m, profile):
    c = m["c3"]
    return Outcome(f"printed form: residual in [{c['printed_min']:.3g}, {c['printed_max']:.3g}] "
                   f"(|res - 1| <= {c['printed_max_abs_minus_1']:.1e}); corrected (+1) form: |res| <= "
                   f"{c['corrected_max_abs']:.1e} over {c['samples']} random (N, a, b)",
                   c["printed_max_abs"] < 1e-9,
                   "The printed identity is off by exactly 1; S = N + 1 - (sqrt(ab)-1)^2 + (sqrt a - sqrt b)^2 holds.")


def check_c3b(m, profile):
    c = m["c3"]
    return Outcome(f"printed form: max |res - 1| = {c['printed_max_abs_minus_1']:.1e}; corrected form: max |res| = "
                   f"{c['corrected_max_abs']:.1e} over {c['samples']} random (N, a, b)",
                   c["printed_max_abs_minus_1"] <= 1e-9 and c["corrected_max_abs"] < 1e-9)


def check_c4(m, profile):
    a = m["mismatch"]["A"]
    return Outcome(f"A wrong for {a['count_gt100']} N > 100 (of {a['n_tested']} tested N): "
                   f"{_fmt_list(a['list_gt100'], a['list_gt100_truncated'])} (largest {max(a['list_gt100'], default='-')}); "
                   f"candidates / sqrt N at N = {m['scaling']['N'][-1]:.3g}: {m['scaling']['A_over_sqrtN_at_max']:.4f} "
                   f"(1 - 1/sqrt 2 = {1 - 1 / math.sqrt(2):.4f})" + _exc_text(m, "A") + " (S = -1: empty interval)",
                   a["count_gt100"] == 0,
                   "The open left end misses optima at a = floor(sqrt(N/2)), e.g. N = 2k^2; for N = 2, 3, 8 "
                   "the interval holds no integer at all.")


def check_c4b(m, profile):
    a = m["mismatch"]["A_closed"]
    return Outcome(f"closed lower end: {a['count_gt100']} mismatches for N > 100, {a['count_ge4']} for N >= 4 "
                   f"of {a['n_tested']} tested" + _exc_text(m, "A_closed"),
                   a["count_gt100"] == 0 and a["count_ge4"] == 0)


def check_c5(m, profile):
    c = m["c5"]
    n = sum(v["checked"] for v in c.values())
    f = sum(v["failures"] for v in c.values())
    return Outcome(f"{f} failures over {n} optimal triples (brute, B, C; "
                   f"{c['brute']['same_parity']} same-parity / {c['brute']['mixed_parity']} mixed among brute optima)",
                   n > 0 and f == 0)


def check_c6(m, profile):
    b = m["bounds"]
    return Outcome(f"max S* - loose bound = {b['max_S_minus_loose']:.3f} (N={b['argmax_loose']}); "
                   f"max S* - tight bound = {b['max_S_minus_tight']:.3f} (N={b['argmax_tight']}); "
                   f"max p* - tight = {b['max_p_minus_tight']:.3f}",
                   max(b["max_S_minus_loose"], b["max_S_minus_tight"], b["max_p_minus_tight"]) <= 0)


def _check_bc(alg):
    def check(m, profile):
        a = m["mismatch"][alg]
        return Outcome(f"{a['count_gt100']} mismatches for N > 100, {a['count_ge4']} for N >= 4, of "
                       f"{a['n_tested']} tested N {_fmt_list(a['list_ge4'])}" + _exc_text(m, alg),
                       a["count_gt100"] == 0 and a["count_ge4"] == 0)
    return check


def check_c9(m, profile):
    s = m["scaling"]
    ok = (0.22 <= s["slope_B"] <= 0.28 and 0.22 <= s["slope_C"] <= 0.28 and 0.47 <= s["slope_A"] <= 0.53
          and s["C_over_A_at_1e12"] < 0.01)
    return Outcome(f"slopes over N in [{s['fit_range'][0]:.3g}, {s['fit_range'][1]:.3g}] ({s['n_fit']} points): "
                   f"A {s['slope_A']:.3f}, B {s['slope_B']:.3f}, C {s['slope_C']:.3f}; at N = {s['N_at_1e12']} "
                   f"C/A = {100 * s['C_over_A_at_1e12']:.2f}%", ok)


def check_c10(m, profile):
    c = m["c10"]
    return Outcome(f"S* = 2k for {c['count'] - c['fail']} of {c['count']} squares k^2 (k >= 2) in range",
                   c["count"] > 0 and c["fail"] == 0)


SQ = r"$S^*(N) \le 2\sqrt N + 3 + 2\sqrt{1+2\sqrt N}$"
CLAIMS = (
    Claim("C1", "The guess “a, b next to $\\sqrt N$” is not optimal in general: for N = 130 the optimum is S = 23 "
          "at (10, 13, 0), the guess (11, 11, 9) gives S = 31.", "S*(130) = 23; guess 31", check_c1),
    Claim("C2", "With $b = \\lfloor N/a\\rfloor$: $S = (a-1)\\{N/a\\} + a + N/a$ exactly.", "identity", check_c2),
    Claim("C3", "As printed: $S = N - (\\sqrt{ab}-1)^2 + (\\sqrt a - \\sqrt b)^2$.",
          "residual 0 (card: it is +1)", check_c3, expected="fail"),
    Claim("C3b", "Companion (the card's diagnosis of C3): the printed residual is exactly $+1$ and the corrected "
          "$S = N + 1 - (\\sqrt{ab}-1)^2 + (\\sqrt a - \\sqrt b)^2$ holds.", "residual +1 (to 1e-9); corrected < 1e-9",
          check_c3b),
    Claim("C4", "Algorithm A (a over the integers of $(\\sqrt{N/2}, \\sqrt N]$, $b = \\lfloor N/a\\rfloor$) returns the "
          "minimum, with about $(1 - 1/\\sqrt 2)\\sqrt N$ iterations.", "N = 10^6+1: 293 iterations",
          check_c4, expected="fail"),
    Claim("C4b", "Companion (not in the article): scanning a from $\\lfloor\\sqrt{N/2}\\rfloor$ (closed lower end) "
          "returns the minimum.", "zero mismatches", check_c4b),
    Claim("C5", "Same parity: $N + y^2 = x^2 + c$, $S = 2x + c = N + y^2 + 1 - (x-1)^2$; mixed parity: "
          "$S = N + (y+1/2)^2 + 1 - (x-1/2)^2$.", "exact identities", check_c5),
    Claim("C6", SQ + " and the tighter $S^* \\le 2\\sqrt N + 2 + \\sqrt{1+4\\sqrt N}$, which also bounds $p^* = a^* + b^*$.",
          "max(S* - bound) <= 0", check_c6),
    Claim("C7", "Algorithm B returns the true minimum for every N > 100.", "0 mismatches", _check_bc("B")),
    Claim("C8", "Algorithm C returns the true minimum for every N > 100.", "0 mismatches", _check_bc("C")),
    Claim("C9", "B and C inspect $O(N^{1/4})$ candidates, A $O(\\sqrt N)$.",
          "N = 10^12+1: A 292894, B 1416, C 2002", check_c9),
    Claim("C10", "If N is a perfect square ($N \\ge 4$), a = b = $\\sqrt N$, c = 0 is optimal.", "S* = 2 sqrt N", check_c10),
)

FIGURES = (
    Figure("gap_and_bounds.png", "S*(N) - 2 sqrt N and the two upper bounds",
           "Optimal S minus 2 sqrt N for the exhaustive range and the random large N, with the article's and "
           "the reader's upper bounds (C6).", "run"),
    Figure("candidates.png", "Candidates inspected per query",
           "Integers in each algorithm's search interval (A: a, B: m, C: p) against N, with reference slopes "
           "1/2 and 1/4 (C9).", "run"),
    Figure("failures.png", "Where algorithm A and the naive guess fail",
           "S - S* for every tested N where the method is wrong; A fails only for a few N below a few thousand "
           "(C4), the guess almost everywhere (C1).", "run"),
    Figure("runtime.png", "Runtime per query",
           "Best-of-repeats wall time per query of the exact Python implementations (A scans a with numpy; "
           "B, C are pure Python loops), and brute force on the random N.", "run"),
)

ARTICLE = Article(
    id="9775", slug="min-a-plus-b-plus-c", key="a9775",
    title="Minimum of a+b+c when N = ab + c over the natural numbers",
    title_zh="自然数集中 N = ab + c 时 a + b + c 的最小值",
    date="2023-09-20", url="https://kexue.fm/archives/9775",
    summary=(
        "Given an integer $N$, choose natural numbers $a, b, c$ with $N = ab + c$ so that $S = a + b + c$ is "
        "smallest. Putting $a, b$ next to $\\sqrt N$ is wrong ($N = 130$). The article first scans "
        "$a \\in (\\sqrt{N/2}, \\sqrt N]$ ($O(\\sqrt N)$), then writes $a = x - y$, $b = x + y$ to bound the "
        "optimum by $2\\sqrt N + O(N^{1/4})$ and search only $O(N^{1/4})$ candidates; a reader's parity-free "
        "variant ($p = a + b$) tightens the bound. We check every algorithm against brute force on an exhaustive "
        "range and on random large $N$, verify the identities exactly, and measure how many candidates each "
        "inspects. Two statements fail as printed: one identity misses a $+1$, and the open left end of the "
        "first interval misses optima such as $N = 2k^2$."),
    params_model=Params,
    stages=(
        Stage("prepare", prepare, outs={"ns": f"{D}/ns.npz"},
              params=("exhaustive_hi", "n_random", "random_log10_lo", "random_log10_hi", "timing_log10_lo",
                      "timing_log10_hi", "timing_points_per_decade"), kind="data", runtime_min=1),
        Stage("run", run, deps={"ns": f"{D}/ns.npz"},
              outs={"results": f"{D}/results.npz", "run_metrics": f"{D}/run_metrics.json"},
              params=("timing_repeats",), metrics="run_metrics", kind="eval", mem_mb=4000, runtime_min=30),
        Stage("evaluate", evaluate, deps={"ns": f"{D}/ns.npz", "results": f"{D}/results.npz"},
              outs={"metrics": f"{D}/metrics.json"}, params=("c3_samples", "c3_log10_hi"), metrics="metrics",
              kind="eval", mem_mb=4000, runtime_min=10),
        Stage("figures", figures, deps={"ns": f"{D}/ns.npz", "results": f"{D}/results.npz"},
              outs={"figures": f"{D}/figures/"}, kind="figure", mem_mb=4000, runtime_min=5),
    ),
    claims=CLAIMS,
    figures=FIGURES,
    tables=(Table("reference_table", "Reference values (card figure 5)",
                  "Each cell is (S, a, b, c) as returned; several (a, b, c) can share the optimum S*, so compare S. "
                  "A returns S = -1 when its interval holds no integer.",
                  (("N", "N"), ("card S*", "card_S"), ("brute force", "brute"), ("naive guess", "guess"),
                   ("A", "A"), ("A closed", "A_closed"), ("B", "B"), ("C", "C"))),),
)
