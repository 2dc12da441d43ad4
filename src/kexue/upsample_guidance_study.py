"""Article 10055's study around kexue.upsample_guidance: data at two resolutions, the exact checks
(C1-C3), the denoisers and their checkpoints.

    data = image_data("fashion", path, n_train=20000, n_ref=2000, s=2, seed=0)   # low-res train, real refs
    m = exact_checks(schedule, seed, scales=(2, 4), n_pooled=10**6)                # C1, C2, C3 metrics
    model = build_denoiser({"arch": "unet", ...}); payload = to_payload(model)

Data conventions: images [n, 1, side, side] float32 in [-1, 1]; the low-res set is D (s x s average
pooling) of the high-res images, the value range of kexue.data.image_sets, so pooled samples and
pooled real images are comparable and FD28 compares like intensity statistics (card pitfall).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch

from kexue.errors import KexueError
from kexue.upsample_guidance import (approx_form, cost_ratio, guidance_form, matched_time, pool,
                                     upsample)

DATASETS = ("shapes", "fashion")


# ---------------------------------------------------------------------------------------- data
def _img(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    side = math.isqrt(a.shape[1])
    return np.ascontiguousarray(a.reshape(len(a), 1, side, side))


def image_data(dataset: str, path, *, n_train: int, n_ref: int, s: int, seed: int, side: int = 16) -> dict:
    """{"train_lo", "train_hi", "ytrain", "ref_hi", "ref_lo", "yref"}: training images (low res = D of
    high res) and held-out real references at both resolutions. shapes: rendered at `side` by code
    (references from another seed); fashion: Fashion-MNIST's official train / test parts, s must be 2."""
    if dataset == "shapes":
        from kexue.data.shapes import render_shapes

        if side % s:
            raise KexueError(f"shapes side = {side} is not divisible by s = {s}")
        Xtr, ytr = render_shapes(n_train, side, seed=seed)
        Xref, yref = render_shapes(n_ref, side, seed=seed + 7919)
        hi, ref_hi = _img(Xtr), _img(Xref)
    elif dataset == "fashion":
        from kexue.data.image_sets import image_set

        if s != 2:
            raise KexueError(f"fashion data: s = {s}, but the shared low-res set and metric net are 14x14 (s = 2)")
        Xtr, ytr, Xte, yref = image_set("fashion28", path, n_train=n_train, n_test=n_ref)
        lo14 = image_set("fashion14", path, n_train=n_train, n_test=n_ref)
        hi, ref_hi = _img(Xtr), _img(Xte)
        if not (np.allclose(_img(lo14[0]), pool(torch.from_numpy(hi), 2).numpy(), atol=1e-6)):
            raise KexueError("fashion14 is not the 2x2 average pooling of fashion28: the shared image sets disagree")
    else:
        raise KexueError(f"dataset = {dataset!r}: choose one of {DATASETS}")
    lo = pool(torch.from_numpy(hi), s).numpy()
    ref_lo = pool(torch.from_numpy(ref_hi), s).numpy()
    return {"train_lo": lo, "train_hi": hi, "ytrain": np.asarray(ytr, np.int64), "ref_hi": ref_hi,
            "ref_lo": ref_lo, "yref": np.asarray(yref, np.int64)}


# ---------------------------------------------------------------------------------------- exact checks
def pooled_noise_std(s: int, n_values: int, rng: np.random.Generator, chunk: int = 250_000) -> dict:
    """C1: std of the s x s averages of n_values N(0, 1) draws (n_values / s^2 pooled values; the mean is
    known to be 0), with the t-interval of the mean square mapped through sqrt (kexue.montecarlo.mean_ci)."""
    from kexue.montecarlo import mean_ci

    n_pooled = n_values // (s * s)
    if n_pooled < 2:
        raise KexueError(f"pooled_noise_std: n_values = {n_values} gives < 2 pooled values at s = {s}")
    sq = []
    left = n_pooled
    while left > 0:
        m = min(chunk, left)
        sq.append((rng.standard_normal((m, s * s)).mean(axis=1)) ** 2)
        left -= m
    est = mean_ci(np.concatenate(sq))
    return {"s": s, "n_values": n_values, "n": n_pooled, "std": math.sqrt(est["mean"]), "lo": math.sqrt(max(est["lo"], 0.0)),
            "hi": math.sqrt(est["hi"]), "target": 1 / s, "rel_err": abs(math.sqrt(est["mean"]) * s - 1)}


def snr_matching_check(schedule, s: int) -> dict:
    """C2 on every integer t = 1..T: |abar(tau) - abar_t/rho_t|, |bbar(tau) - bbar_t/(s rho_t)|, tau < t."""
    t = torch.arange(1, int(schedule.T) + 1, dtype=torch.float64)
    tau, rho = matched_time(schedule, t, s)
    da = (schedule.abar(tau) - schedule.abar(t) / rho).abs()
    db = (schedule.bbar(tau) - schedule.bbar(t) / (s * rho)).abs()
    below = tau < t
    # and exactly on the SNR: log SNR(tau) - log SNR(t) = 2 log s
    dl = (schedule.log_snr(tau) - schedule.log_snr(t) - 2 * math.log(s)).abs()
    return {"s": s, "n_t": int(t.numel()), "max_abs_diff_abar": float(da.max()), "max_abs_diff_bbar": float(db.max()),
            "max_abs_diff_log_snr": float(dl.max()), "frac_tau_below_t": float(below.double().mean()),
            "n_tau_below_t": int(below.sum()), "tau_at_T": float(tau[-1]), "tau_at_1": float(tau[0]),
            "max_t_minus_tau": float((t - tau).max()), "min_t_minus_tau": float((t - tau).min())}


def forms_check(rng_seed: int, s: int, ws=(-1.0, 0.0, 0.2, 0.5, 1.0), batch: int = 16, side_lo: int = 14) -> dict:
    """C3: the two written forms of eps_tilde on random float64 tensors, and D U x = x."""
    g = torch.Generator().manual_seed(rng_seed)
    e = torch.randn(batch, 1, side_lo * s, side_lo * s, generator=g, dtype=torch.float64)
    el = torch.randn(batch, 1, side_lo, side_lo, generator=g, dtype=torch.float64)
    x = torch.randn(batch, 1, side_lo, side_lo, generator=g, dtype=torch.float64)
    forms = max(float((guidance_form(e, el, s, w) - approx_form(e, el, s, w)).abs().max()) for w in ws)
    du = float((pool(upsample(x, s), s) - x).abs().max())
    # the projection property the decomposition rests on: U D (U D e) = U D e
    P = upsample(pool(e, s), s)
    proj = float((upsample(pool(P, s), s) - P).abs().max())
    return {"s": s, "ws": list(ws), "max_abs_diff_forms": forms, "max_abs_DU_minus_id": du,
            "max_abs_projection": proj, "n_values": int(e.numel())}


def exact_checks(schedule, seed: int, scales=(2, 4), n_values: int = 10**6) -> dict:
    rng = np.random.default_rng([seed, 10055])
    return {
        "c1": {str(s): pooled_noise_std(s, n_values, rng) for s in scales},
        "c2": {str(s): snr_matching_check(schedule, s) for s in scales},
        "c3": {str(s): forms_check(seed + s, s) for s in scales},
        "c7_exact": {str(s): str(cost_ratio(s)) for s in scales},
    }


def tau_rho_curves(schedule, scales=(2, 4)) -> dict:
    """Arrays for the tau(t), rho_t figure on the integer grid t = 1..T."""
    t = torch.arange(1, int(schedule.T) + 1, dtype=torch.float64)
    out = {"t": t.numpy()}
    for s in scales:
        tau, rho = matched_time(schedule, t, s)
        out[f"tau_s{s}"], out[f"rho_s{s}"] = tau.numpy(), rho.numpy()
    return out


# ---------------------------------------------------------------------------------------- denoisers
def build_denoiser(config: dict) -> torch.nn.Module:
    """U-Net (kexue.nn.unet) or the 2-D RoPE Transformer (kexue.nn.rope_transformer) from a config dict."""
    arch = config.get("arch")
    if arch == "unet":
        from kexue.nn.unet import UNet

        return UNet.from_config(config)
    if arch == "rope_transformer":
        from kexue.nn.rope_transformer import RoPETransformer

        return RoPETransformer.from_config(config)
    raise KexueError(f"denoiser arch = {arch!r}: expected 'unet' or 'rope_transformer'")


def load_payload(payload: dict, device: str = "cpu") -> torch.nn.Module:
    """Rebuild a denoiser from {"config", "state_dict"}; a state dict from another architecture is refused."""
    if not isinstance(payload, dict) or "config" not in payload or "state_dict" not in payload:
        raise KexueError("denoiser checkpoint must be a dict with 'config' and 'state_dict'; rerun train_lowres")
    model = build_denoiser(payload["config"])
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in payload["state_dict"].items()}
    if want != got:
        raise KexueError(f"checkpoint does not fit its config {payload['config']}: rerun train_lowres")
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval()


def cost_fraction(pixel_evals_ug: int, pixel_evals_direct: int) -> Fraction:
    return Fraction(int(pixel_evals_ug), int(pixel_evals_direct))
