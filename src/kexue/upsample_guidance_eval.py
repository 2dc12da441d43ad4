"""Sampling configurations and metrics of article 10055 (upsample guidance, kexue.upsample_guidance).

    cfgs = configs(ws=[-1, 0, 0.2, 0.5, 1], etas=[1.0], round_ablation=True)
    samples, info = sample_all(cfgs, models, schedule, s=2, n=256, side_hi=28, sampler="ddim", steps=50, seed=0)
    m, arrays = evaluate(samples, ref_hi, ref_lo, metric_hi, metric_lo, s=2, k=5, n_boot=500, seed=0)

Every configuration starts from the SAME high-resolution noise x_T (paired comparisons, card pitfall);
the low-resolution model starts from s * D[x_T], which is again exactly unit Gaussian (C1), so the
lowres samples and their upsamplings are the low-res twins of the high-res samples. Final samples are
clipped to [-1, 1] (the data range) before any metric.

Metrics (n samples per configuration, one seed):
- FD28 / FD14: kexue.image_metrics.sample_metrics (FD of metric-classifier features, never "FID") with
  its real-vs-real floor, precision/recall (k) and class entropy; FD14 is for pooled high-res samples
  and for the low-res samples. Intervals: a PAIRED percentile bootstrap over the n samples (the same
  resampled noise indices for every configuration), real statistics held fixed, so differences between
  configurations get their own interval.
- detail ratio: mean ||x - U D x||^2 of samples / the same for real high-res images (bootstrap interval
  resampling both sets); 0 for nearest upsampling by construction.
- cost: pixel evaluations per sample counted by the UpsampleGuidance wrapper, wall-clock per config.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from kexue.errors import KexueError
from kexue.upsample_guidance import (UpsampleGuidance, detail_energy, pool, radial_power_spectrum, upsample,
                                     upsample_bilinear)

LEVEL = 0.95


def ug_name(w: float, eta: float = 1.0, round_tau: bool = False, prefix: str = "") -> str:
    if w == -1:
        return f"{prefix}direct"
    name = f"{prefix}ug_w{w:g}"
    if eta != 1.0:
        name += f"_eta{eta:g}"
    if round_tau:
        name += "_round"
    return name


def configs(ws, etas=(1.0,), round_ablation: bool = False, oracle: bool = False, transformer: bool = False,
            w_ref: float = 0.2) -> list[dict]:
    """The card's configurations: lowres, its nearest / bilinear upsamplings, direct (w = -1), UG for each
    w, plus the ablations (tau rounded; eta < 1 with w_ref) and, at full, the oracle and the Transformer."""
    out = [{"name": "lowres", "kind": "lowres", "model": "cnn"},
           {"name": "up_nearest", "kind": "upsample", "of": "lowres"},
           {"name": "up_bilinear", "kind": "upsample", "of": "lowres"}]
    for w in ws:
        out.append({"name": ug_name(w), "kind": "ug", "model": "cnn", "w": float(w), "eta": 1.0, "round_tau": False})
    if round_ablation:
        out.append({"name": ug_name(w_ref, round_tau=True), "kind": "ug", "model": "cnn", "w": w_ref, "eta": 1.0,
                    "round_tau": True})
    for eta in etas:
        if eta != 1.0:
            out.append({"name": ug_name(w_ref, eta), "kind": "ug", "model": "cnn", "w": w_ref, "eta": float(eta),
                        "round_tau": False})
    if oracle:
        out.append({"name": "oracle", "kind": "oracle", "model": "oracle"})
    if transformer:
        for w in (-1.0, w_ref):
            out.append({"name": ug_name(w, prefix="tf_"), "kind": "ug", "model": "transformer", "w": w, "eta": 1.0,
                        "round_tau": False})
    names = [c["name"] for c in out]
    if len(set(names)) != len(names):
        raise KexueError(f"duplicate sampling configurations {names}: remove repeated w / eta values")
    return out


def _sampler(name: str, schedule, steps: int):
    from kexue.diffusion.samplers import ddim, ddpm
    from kexue.diffusion.schedules import time_grid

    if name == "ddim":
        grid = time_grid(schedule, steps, "uniform")   # explicit integer grid T, ..., 0 (eta = 0)
        return lambda eps, x, g: ddim(eps, x, schedule, ts=grid)[0]
    if name == "ddpm":
        return lambda eps, x, g: ddpm(eps, x, schedule, sigma="beta", generator=g)[0]
    raise KexueError(f"sampler = {name!r}: choose 'ddim' or 'ddpm'")


@torch.no_grad()
def sample_all(cfgs: list[dict], models: dict, schedule, *, s: int, n: int, side_hi: int, sampler: str, steps: int,
               seed: int, batch: int = 256, device: str = "cpu", log=print) -> tuple[dict, dict]:
    """{config: float32 numpy [n, 1, side, side]} and {config: cost and timing}."""
    run = _sampler(sampler, schedule, steps)
    x_T = torch.randn(n, 1, side_hi, side_hi, generator=torch.Generator().manual_seed(seed))
    samples, info = {}, {}
    for c in cfgs:
        t0 = time.perf_counter()
        if c["kind"] == "upsample":
            lo = torch.from_numpy(samples[c["of"]])
            up = upsample(lo, s) if c["name"] == "up_nearest" else upsample_bilinear(lo, s)
            samples[c["name"]] = up.clamp(-1, 1).numpy()
            info[c["name"]] = {"wall_s": time.perf_counter() - t0, "pixel_evals": 0, "res": side_hi}
            continue
        if c["model"] not in models:
            raise KexueError(f"configuration {c['name']} needs the {c['model']} model, which was not trained")
        model = models[c["model"]]
        if c["kind"] in ("lowres", "oracle"):
            eps = UpsampleGuidance(model, schedule, s=s, w=-1.0)   # w = -1: the bare model, counted
        else:
            eps = UpsampleGuidance(model, schedule, s=s, w=c["w"], eta=c["eta"], round_tau=c["round_tau"])
        out = []
        for i in range(0, n, batch):
            x0 = x_T[i:i + batch]
            if c["kind"] == "lowres":
                x0 = s * pool(x0, s)   # exactly unit Gaussian again, the low-res twin of x_T
            g = torch.Generator().manual_seed(seed + 1 + i)   # same ancestral noise in every config (ddpm)
            out.append(run(eps, x0.to(device), g).float().cpu())
        x = torch.cat(out).clamp(-1, 1)
        samples[c["name"]] = x.numpy()
        info[c["name"]] = {"wall_s": time.perf_counter() - t0, "pixel_evals": eps.pixel_evals // max(1, -(-n // batch)),
                           "calls_high": eps.calls_high, "calls_low": eps.calls_low, "res": int(x.shape[-1])}
        log(f"{c['name']}: {info[c['name']]['wall_s']:.1f}s, {eps.calls_high} + {eps.calls_low} model calls")
    return samples, info


# ---------------------------------------------------------------------------------------- bootstrap FD
def _sqrtm_psd(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def fd_replicates(F: np.ndarray, F_real: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """FD of F[idx[b]] against the fixed real Gaussian fit for each bootstrap row b (vectorised:
    Tr (S1 S2)^{1/2} from the eigenvalues of R S R, R = S_real^{1/2}, as kexue.image_metrics does)."""
    mu_r, S_r = F_real.mean(0), np.cov(F_real, rowvar=False, ddof=1)
    R = _sqrtm_psd(S_r)
    out = np.empty(len(idx))
    chunk = max(1, int(2e7) // (idx.shape[1] * F.shape[1]))   # ~160 MB of resampled features at most
    for a in range(0, len(idx), chunk):
        X = F[idx[a:a + chunk]]                                  # [b, n, d]
        mu = X.mean(1)
        Xc = X - mu[:, None]
        S = np.einsum("bni,bnj->bij", Xc, Xc) / (X.shape[1] - 1)
        ev = np.linalg.eigvalsh(R[None] @ S @ R[None])
        tr = np.trace(S, axis1=1, axis2=2) + np.trace(S_r) - 2 * np.sqrt(np.clip(ev, 0, None)).sum(1)
        out[a:a + chunk] = np.maximum(((mu - mu_r) ** 2).sum(1) + tr, 0.0)
    return out


def _ci(point: float, reps: np.ndarray, n: int, n_boot: int) -> dict:
    q = (1 - LEVEL) / 2
    return {"estimate": float(point), "lo": float(np.quantile(reps, q)), "hi": float(np.quantile(reps, 1 - q)),
            "n": int(n), "n_boot": int(n_boot), "level": LEVEL}


# ---------------------------------------------------------------------------------------- evaluation
def evaluate(samples: dict, ref_hi: np.ndarray, ref_lo: np.ndarray, metric_hi, metric_lo, *, s: int, k: int,
             n_boot: int, seed: int, w_ref: float = 0.2) -> tuple[dict, dict]:
    """Per-configuration metrics (FD28 or FD14, floors, precision/recall, class entropy, detail ratio),
    paired bootstrap intervals of the differences the claims compare, and arrays for the figures.
    metric_hi / metric_lo = None (no classifier for the data, e.g. the smoke shapes): FD-based metrics
    are left out and only the detail ratio, spectra and costs are measured."""
    from kexue.feature_classifier import features
    from kexue.image_metrics import FD_NAME, sample_metrics

    names = list(samples)
    n = len(next(iter(samples.values())))
    if any(len(v) != n for v in samples.values()):
        raise KexueError("every configuration must have the same number of samples (paired bootstrap)")
    rng = np.random.default_rng([seed, 10055, 1])
    idx = rng.integers(0, n, size=(n_boot, n))
    with_fd = metric_hi is not None and metric_lo is not None
    Fr_hi, Fr_lo = (features(metric_hi, ref_hi), features(metric_lo, ref_lo)) if with_fd else (None, None)
    real_detail = detail_energy(torch.from_numpy(ref_hi).double(), s).numpy()
    ridx = rng.integers(0, len(real_detail), size=(n_boot, len(real_detail)))
    real_detail_boot = real_detail[ridx].mean(1)
    per, reps, arrays = {}, {}, {}
    hi_side = ref_hi.shape[-1]
    for name in names:
        x = samples[name]
        row = {"res": int(x.shape[-1])}
        views = [("28", x, metric_hi, ref_hi, Fr_hi)] if x.shape[-1] == hi_side else []
        x_lo = x if x.shape[-1] != hi_side else pool(torch.from_numpy(x), s).numpy()
        views.append(("14", x_lo, metric_lo, ref_lo, Fr_lo))
        if not with_fd:
            views = []
        for tag, X, net, ref, Fr in views:
            m = sample_metrics(net, X, ref, k=k, seed=seed)
            Fs = features(net, X)
            r = fd_replicates(Fs, Fr, idx)
            reps[f"fd{tag}/{name}"] = r
            row[f"fd{tag}"] = _ci(m[FD_NAME], r, n, n_boot)
            row[f"floor{tag}"] = {"fd_floor": m["fd_floor"], "fd_floor_std": m["fd_floor_std"], "n": m["fd_floor_n"]}
            for key in ("precision", "recall", "class_entropy", "class_entropy_max", "k"):
                row[f"{key}{tag}"] = m[key]
        if x.shape[-1] == hi_side:
            e = detail_energy(torch.from_numpy(x).double(), s).numpy()
            ratio = e.mean() / real_detail.mean()
            row["detail_ratio"] = _ci(ratio, e[idx].mean(1) / real_detail_boot, n, n_boot)
            row["detail_ratio"]["n_real"] = int(len(real_detail))
            rad, pw = radial_power_spectrum(torch.from_numpy(x))
            arrays[f"spec_{name}"] = pw.numpy()
        per[name] = row
    rad, pw = radial_power_spectrum(torch.from_numpy(ref_hi))
    arrays["spec_radius"], arrays["spec_real"] = rad.numpy(), pw.numpy()
    m = {"configs": per, "n_samples": n, "n_ref": int(len(ref_hi)), "n_boot": n_boot, "level": LEVEL, "fd": with_fd,
         "real_detail_energy": float(real_detail.mean()), "paired": _paired(per, reps, n, n_boot, w_ref)}
    for key, r in reps.items():
        arrays["boot_" + key.replace("/", "__")] = r
    return m, arrays


def _paired(per: dict, reps: dict, n: int, n_boot: int, w_ref: float) -> dict:
    """Bootstrap intervals of the differences and ratios the claims compare (paired resamples)."""
    ug = ug_name(w_ref)
    out = {}

    def diff(a, b, tag="28"):
        ka, kb = f"fd{tag}/{a}", f"fd{tag}/{b}"
        if ka in reps and kb in reps:
            point = per[a][f"fd{tag}"]["estimate"] - per[b][f"fd{tag}"]["estimate"]
            out[f"fd{tag}:{a}-{b}"] = _ci(point, reps[ka] - reps[kb], n, n_boot)

    for other in ("direct", "up_nearest", "up_bilinear", "ug_w0", "ug_w0.5", "ug_w1", "oracle"):
        diff(other, ug)
    if "tf_direct" in per:
        diff("tf_direct", ug_name(w_ref, prefix="tf_"))
    if f"fd14/{ug}" in reps and "fd14/lowres" in reps:
        point = per[ug]["fd14"]["estimate"] / max(per["lowres"]["fd14"]["estimate"], 1e-300)
        out[f"fd14:{ug}/lowres"] = _ci(point, reps[f"fd14/{ug}"] / np.maximum(reps["fd14/lowres"], 1e-300), n, n_boot)
    # C8: how often the bootstrap argmin over the card's w grid falls in {0, 0.2, 0.5}
    grid = [("direct", -1.0), ("ug_w0", 0.0), ("ug_w0.2", 0.2), ("ug_w0.5", 0.5), ("ug_w1", 1.0)]
    if all(f"fd28/{c}" in reps for c, _ in grid):
        R = np.stack([reps[f"fd28/{c}"] for c, _ in grid])
        arg = np.array([w for _, w in grid])[R.argmin(0)]
        out["c8_argmin_in_0_0.2_0.5_frac"] = float(np.isin(arg, [0.0, 0.2, 0.5]).mean())
        out["c8_argmin_freq"] = {f"{w:g}": float((arg == w).mean()) for _, w in grid}
    return out


def grids(samples: dict, n_show: int) -> dict:
    """The first n_show samples of every configuration (same noise -> same row position), for the figures."""
    return {f"grid_{k}": v[:n_show] for k, v in samples.items()}
