"""RoPE as a base-beta number system (kexue.fm/archives/9675, claims C1-C4): exact checks, no model.

Everything is read from the shared implementation (kexue.nn.rope) in float64 and compared with the closed forms
of the article, so a change in the shared RoPE that broke the "digits" picture would show up here:
- C1: theta_m = beta^(-m) with beta = base^(2/d)  (position n's m-th "digit" is the phase n / beta^m);
- C2: NTK-aware scaling (base -> base * k^(d/(d-2))) multiplies frequency m by lambda^(-m), lambda = k^(2/(d-2));
  the lowest frequency then equals PI's exactly (the article's approximate base * k does not);
- C3: the decimal toy (integer arithmetic only);
- C4: per-position phase steps: PI shrinks every step by k, NTK keeps the high frequencies' steps.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from kexue.errors import KexueError
from kexue.nn.rope import RopeScaling, frequencies, ntk_base_factor, ntk_lambda


def digits(n: int, base: int, width: int | None = None) -> list[int]:
    """Base-`base` digits of the integer n >= 0, most significant first: the m-th from the right is
    floor(n / base^(m-1)) mod base (the article's formula)."""
    if base < 2 or n < 0 or int(n) != n:
        raise KexueError(f"digits(n={n}, base={base}): need an integer n >= 0 and base >= 2")
    out = []
    while n:
        n, r = divmod(n, base)
        out.append(r)
    out = out or [0]
    if width is not None:
        out += [0] * (width - len(out))
    return out[::-1]


def digit_phases(n: np.ndarray, beta: float, count: int) -> np.ndarray:
    """The continuous 'digits' n / beta^m (m = 0..count-1) that RoPE's cos/sin take modulo 2 pi."""
    return np.asarray(n, dtype=np.float64)[:, None] / beta ** np.arange(count)[None]


def phase_steps(head_dim: int, base: float, rule: str, k: float) -> np.ndarray:
    """Radians per position for each frequency m under a scaling rule (angle at n = 1 minus n = 0)."""
    ang = RopeScaling(rule, k).angles(torch.tensor([0.0, 1.0], dtype=torch.float64), head_dim, base)
    return (ang[1] - ang[0]).numpy()


def decimal_toy() -> dict:
    """C3: the article's number-encoding example, exact integers."""
    c = 2000
    cube_root_ceil = next(b for b in range(2, c) if b ** 3 >= c)          # smallest b with b^3 >= 2000
    return {
        "1749_base16": digits(1749, 16), "base16_max_3digits": 16 ** 3 - 1,
        "ceil_cuberoot_2000": cube_root_ceil, "cube_below": (cube_root_ceil - 1) ** 3, "cube_at": cube_root_ceil ** 3,
        "1999_base10_digits": len(digits(1999, 10)), "1999_base13": digits(1999, 13),
        "1749_half_digits": [8, 7, 4.5], "1749_half": 1749 / 2,
        "ok": (digits(1749, 16) == [6, 13, 5] and 16 ** 3 - 1 == 4095 and 4095 >= 1999 and cube_root_ceil == 13
               and len(digits(1999, 13)) == 3 and len(digits(1999, 10)) == 4),
    }


def identities(dims=(32, 64, 128), k: float = 8.0, base: float = 10000.0) -> dict:
    """C1, C2 and C4 for each head dimension d in dims at scale factor k; float64 residuals."""
    out = {}
    for d in dims:
        h = d // 2
        m = np.arange(h)
        beta = base ** (2.0 / d)
        f = frequencies(d, base).numpy()
        c1_beta = float(np.max(np.abs(f - beta ** (-m.astype(np.float64)))))
        c1_base = float(np.max(np.abs(f - base ** (-2.0 * m / d))))
        lam = ntk_lambda(d, k)
        factor = ntk_base_factor(d, k)
        f_ntk = frequencies(d, base * factor).numpy()
        ratio = f_ntk / f
        steps = {r: phase_steps(d, base, r, k) for r in ("extrapolate", "pi", "ntk", "ntk_article")}
        r_pi, r_ntk = steps["pi"] / steps["extrapolate"], steps["ntk"] / steps["extrapolate"]
        r_art = steps["ntk_article"] / steps["extrapolate"]
        inner = r_ntk[1:h - 1]
        out[str(d)] = {
            "beta": beta, "c1_err_beta": c1_beta, "c1_err_base": c1_base,
            "lambda": lam, "base_factor": factor, "base_factor_formula_err": abs(factor - lam ** (d / 2)),
            "c2_ratio_err": float(np.max(np.abs(ratio - lam ** (-m.astype(np.float64))))),
            "c2_ratio_m0": float(ratio[0]), "c2_ratio_m1": float(ratio[1]), "inv_lambda": 1 / lam,
            "c2_lowest_vs_pi": float(f_ntk[-1] / (f[-1] / k)),
            "article_lowest_vs_pi": float(r_art[-1] * k),    # base * k: lowest frequency misses PI's by this ratio
            "c4_pi_err": float(np.max(np.abs(r_pi - 1 / k))),
            "c4_ntk_step_err": float(np.max(np.abs(r_ntk - lam ** (-m.astype(np.float64))))),
            "c4_inner_strict": bool(np.all((inner > 1 / k) & (inner < 1))),
            "c4_min_first4": float(r_ntk[:4].min()), "c4_ratio_m1": float(r_ntk[1]),
            "c4_ratio_m15": float(r_ntk[15]) if h > 15 else None,
            "c4_lowest_times_k": float(r_ntk[-1] * k),
            "steps": {r: v.tolist() for r, v in steps.items()},
        }
    return {"k": k, "base": base, "dims": list(dims), "per_dim": out}


def spot_values(k: float = 8.0) -> dict:
    """The card's reference numbers at d = 128: lambda, base factor, steps at m = 1 and m = 15."""
    if k < 1:
        raise KexueError(f"k = {k}: the scale factor L_test / L_train must be >= 1")
    lam = ntk_lambda(128, k)
    return {"lambda": lam, "base_factor": ntk_base_factor(128, k), "m1": lam ** -1, "m15": lam ** -15,
            "approx_lambda": k ** (2 / 128), "approx_gap": lam / k ** (2 / 128) - 1,
            "float_eps": math.ulp(1.0)}
