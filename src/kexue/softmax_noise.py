"""Monte Carlo: how much i.i.d. noise on the logits moves a softmax-attention output (article 9593, C1/C2).

Model (the card's): logits s_i = sigma_s z_i, z_i ~ N(0, 1); values v_i = u s_i + xi_i in R^m with
u, xi_i ~ N(0, I_m), so v is correlated with s and o = sum_i p_i v_i is far from 0 (with v
independent of s, o ~ 0 and a relative error means nothing). Noisy output:
    o~ = sum_i e^{s_i + eps_i} v_i / sum_i e^{s_i + eps_i}.
Metric: ||o~ - o|| / std(v) (std over all n m entries of V).

The article's argument: both sums are n times averages over i, and for eps independent of
(s, v) each average tends to its expectation times E[e^eps], which cancels. The error is then
a ratio-estimator fluctuation of order sqrt(sum_i p_i^2 Var(e^eps)) -> n^{-1/2} when the
weights are spread and E[e^{2 eps}] is finite; with sigma_s = 3 or 6 (lognormal weights with a
huge spread) a few terms dominate every practical sum and nothing averages out.

Noise types, all scaled to standard deviation `std` unless a Gumbel scale is given:
gaussian, uniform(-a, a) with a = sqrt(3) std, gumbel with scale sqrt(6) std / pi (for
std = 1, scale 0.78 > 1/2: E[e^{2 eps}] is infinite) and "gumbel@<scale>" with an explicit
scale (0.3: E[e^{2 eps}] = Gamma(0.4) finite).
Controls (for contrast, same eps): "prob" adds eps to the probabilities and renormalises,
"value" adds eps_i to every component of v_i, "scaled" uses logit noise s_i eps_i (not
independent of s, so E[e^eps] no longer factors out).

For common random numbers, one draw of (z, u, xi, standard noise) per (n, replicate) is
shared by every sigma_s and noise type: the curves differ only through the configuration.
"""
from __future__ import annotations

import math

import numpy as np

from kexue.errors import KexueError

CONTROLS = ("prob", "value", "scaled")


def parse_noise(name: str, std: float) -> tuple[str, float]:
    """(family, scale) for a noise name; scale is the family's natural scale parameter."""
    if std <= 0:
        raise KexueError(f"noise std = {std}: must be > 0")
    if name == "gaussian":
        return "gaussian", std
    if name == "uniform":
        return "uniform", math.sqrt(3) * std
    if name == "gumbel":
        return "gumbel", math.sqrt(6) * std / math.pi
    if name.startswith("gumbel@"):
        try:
            b = float(name.split("@", 1)[1])
        except ValueError:
            b = -1.0
        if not b > 0:
            raise KexueError(f"noise {name!r}: write gumbel@<scale> with a positive scale, e.g. gumbel@0.3")
        return "gumbel", b
    raise KexueError(f"noise {name!r}: choose gaussian, uniform, gumbel or gumbel@<scale>")


def _weights(x):
    w = np.exp(x - x.max())
    return w / w.sum()


def errors(ns, sigmas, noises, controls, reps: int, dim: int, std: float, seed: int) -> dict:
    """Relative errors [config, n, rep]; configs are (sigma_s, noise) pairs then controls at sigma_s
    = sigmas[0] with gaussian noise. Returns {"configs": [...], "err": array}."""
    ns = [int(n) for n in ns]
    if min(ns) < 2 or reps < 2 or dim < 1:
        raise KexueError(f"robustness: need n >= 2, reps >= 2, dim >= 1; got n {min(ns)}, reps {reps}, dim {dim}")
    bad = set(controls) - set(CONTROLS)
    if bad:
        raise KexueError(f"robustness controls {sorted(bad)}: choose from {CONTROLS}")
    fam = {nm: parse_noise(nm, std) for nm in noises}
    configs = [{"sigma_s": float(s), "noise": nm, "control": None} for s in sigmas for nm in noises]
    configs += [{"sigma_s": float(sigmas[0]), "noise": "gaussian", "control": c} for c in controls]
    err = np.empty((len(configs), len(ns), reps))
    for j, n in enumerate(ns):
        rng = np.random.default_rng([seed, 9593, n])
        for r in range(reps):
            z = rng.standard_normal(n)
            u = rng.standard_normal(dim)
            xi = rng.standard_normal((n, dim))
            base = {"gaussian": rng.standard_normal(n), "uniform": rng.uniform(-1, 1, n),
                    "gumbel": rng.gumbel(0, 1, n)}
            # V = sigma z u^T + xi is never formed: w @ V = sigma (w @ z) u + w @ xi, and std(V)
            # follows from a few sums (this keeps n = 2^16 x 200 replicates at seconds)
            zx, xs, xs2, zs, zz = z @ xi, xi.sum(), (xi ** 2).sum(), z.sum(), z @ z
            nm = n * dim

            def out(w, sig):
                return sig * (w @ z) * u + w @ xi

            cache = {}
            for k, cfg in enumerate(configs):
                sig = cfg["sigma_s"]
                s = sig * z
                if sig not in cache:
                    p = _weights(s)
                    mean = (sig * zs * u.sum() + xs) / nm
                    msq = (sig ** 2 * zz * (u @ u) + 2 * sig * (zx @ u) + xs2) / nm
                    cache = {sig: (p, out(p, sig), math.sqrt(max(msq - mean ** 2, 0.0)))}
                p, o, sd = cache[sig]
                if cfg["control"] is None:
                    f, b = fam[cfg["noise"]]
                    o2 = out(_weights(s + base[f] * b), sig)
                elif cfg["control"] == "prob":  # noise on the probabilities, renormalised
                    q = p + base["gaussian"] * std
                    o2 = out(q, sig) / q.sum()
                elif cfg["control"] == "value":  # the same scalar noise added to every component of v_i
                    o2 = o + (p @ base["gaussian"]) * std
                else:  # "scaled": logit noise proportional to s, not independent of it
                    o2 = out(_weights(s + s * base["gaussian"] * std), sig)
                err[k, j, r] = np.linalg.norm(o2 - o) / sd
    return {"configs": configs, "err": err}


def label(cfg: dict) -> str:
    if cfg["control"]:
        return f"control:{cfg['control']}"
    return f"{cfg['noise']}|sigma_s={cfg['sigma_s']:g}"


def summarise(ns, res: dict, fit_min: int, seed: int, n_boot: int = 1000) -> dict:
    """Per configuration: median error with a bootstrap CI at every n, and the power-law fit of
    the medians over n >= fit_min."""
    from kexue.fits import power_law_fit
    from kexue.montecarlo import bootstrap_ci

    ns = np.asarray(ns)
    out = {}
    for k, cfg in enumerate(res["configs"]):
        e = res["err"][k]
        cis = [bootstrap_ci(e[j], np.median, n_boot=n_boot, seed=seed + 31 * k + j) for j in range(len(ns))]
        med = np.array([c["estimate"] for c in cis])
        sel = ns >= fit_min
        fit = power_law_fit(ns[sel], med[sel]) if sel.sum() >= 3 and np.all(med[sel] > 0) else None
        out[label(cfg)] = {**cfg, "n": ns.tolist(), "median": med.tolist(),
                           "lo": [c["lo"] for c in cis], "hi": [c["hi"] for c in cis], "reps": int(e.shape[1]),
                           "at": {str(int(n)): cis[j] for j, n in enumerate(ns)},
                           "fit": fit, "fit_range": [int(ns[sel].min()), int(ns[sel].max())] if sel.any() else None}
    return out
