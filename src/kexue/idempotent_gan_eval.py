"""Evaluation of article 9969's runs: shared image metrics (kexue.image_metrics, FD in classifier features —
never FID), idempotence / reconstruction / pass-through ratios, repeated application f^k(z), sharpness.

Definitions (card):
- rec_ratio   = median over held-out real x of ||f(x) - x||^2 / ||x - xbar||^2   (xbar = mean training image)
- idem_ratio  = mean ||f(f(z)) - f(z)||^2 / mean ||f(z) - z||^2;  idem_error = mean ||f(f(z)) - f(z)||^2
- pass-through ratio = mean ||f(z) - z|| / ||z||  (small = the network passes the noise through)
- sharpness ratio = mean |4-neighbour Laplacian| of samples / that of held-out real images
"""
from __future__ import annotations

import numpy as np
import torch

from kexue.feature_classifier import features
from kexue.idempotent_gan_training import load_net
from kexue.image_metrics import FD_NAME, frechet_distance, sample_metrics


def laplacian_abs_mean(X: np.ndarray) -> float:
    """Mean |discrete Laplacian| over interior pixels of square images given flat [n, side*side]."""
    n, d = X.shape
    s = int(round(d ** 0.5))
    I = X.reshape(n, s, s).astype(np.float64)
    lap = I[:, 1:-1, :-2] + I[:, 1:-1, 2:] + I[:, :-2, 1:-1] + I[:, 2:, 1:-1] - 4 * I[:, 1:-1, 1:-1]
    return float(np.abs(lap).mean())


def _sq(a: torch.Tensor) -> torch.Tensor:
    return a.double().pow(2).sum(1)


@torch.no_grad()
def eval_ign(f, Xtr: torch.Tensor, Xte: torch.Tensor, clf, n: int, k_max: int, sigma: float, gen, floor_real,
             sharp_real: float, batch: int = 2000) -> tuple[dict, dict]:
    dim = Xte.shape[1]
    z = torch.randn(n, dim, generator=gen)
    chain = [z]
    for _ in range(k_max):
        chain.append(torch.cat([f(chain[-1][i:i + batch]) for i in range(0, n, batch)]))
    Fr = features(clf, Xte)
    fd_k = [frechet_distance(features(clf, c, check_range=(j > 0)), Fr) for j, c in enumerate(chain)]
    fz, ffz = chain[1], chain[2]
    sm = sample_metrics(clf, fz, Xte, floor_real=floor_real, k=5)
    fx = f(Xte)
    xbar = Xtr.mean(0, keepdim=True)
    rec = (_sq(fx - Xte) / _sq(Xte - xbar)).numpy()
    idem_err = float(_sq(ffz - fz).mean())
    move = float(_sq(fz - z).mean())
    xc = Xte + sigma * torch.randn(Xte.shape, generator=gen)
    fxc = f(xc)
    m = {**sm, "fd_k": fd_k, "fd_z": fd_k[0], "fd_fz": fd_k[1],
         "rec_ratio": float(np.median(rec)), "rec_ratio_mean": float(rec.mean()),
         "rec_sq_error": float(_sq(fx - Xte).mean()),
         "idem_ratio": idem_err / move, "idem_error": idem_err, "move_fz_z": move,
         "passthrough_ratio": float(((fz - z).double().norm(dim=1) / z.double().norm(dim=1)).mean()),
         "sharpness_ratio": laplacian_abs_mean(fz.numpy()) / sharp_real,
         "denoise_ratio": float((_sq(fxc - Xte) / _sq(xc - Xte)).mean().sqrt()),
         "fz_pixel_std": float(fz.double().std(0).mean())}
    arr = {"z": z[:32], "fz": fz[:32], "ffz": ffz[:32], "f3z": chain[3][:32] if k_max >= 3 else ffz[:32],
           "x": Xte[:16], "fx": fx[:16], "xc": xc[:16], "fxc": fxc[:16]}
    return m, {k: v.numpy() for k, v in arr.items()}


@torch.no_grad()
def eval_gan(G, Xte: torch.Tensor, clf, n: int, gen, floor_real, sharp_real: float) -> tuple[dict, dict]:
    s = G(torch.randn(n, G.cfg.latent, generator=gen))
    sm = sample_metrics(clf, s, Xte, floor_real=floor_real, k=5)
    m = {**sm, "fd_fz": sm[FD_NAME], "sharpness_ratio": laplacian_abs_mean(s.numpy()) / sharp_real,
         "fz_pixel_std": float(s.double().std(0).mean())}
    return m, {"fz": s[:32].numpy()}


def evaluate_all(runs: dict, Xtr: np.ndarray, Xte: np.ndarray, clf, n: int, k_max: int, sigma: float,
                 seed: int) -> tuple[dict, dict]:
    """Every run's metrics (diverged runs are listed with their flags only) and the arrays the figures draw."""
    xtr, xte = torch.from_numpy(Xtr), torch.from_numpy(Xte)
    floor_real = np.concatenate([Xtr, Xte])
    sharp_real = laplacian_abs_mean(Xte)
    per, arrays = {}, {}
    for i, (name, run) in enumerate(runs.items()):
        gen = torch.Generator().manual_seed(seed * 1000 + i)
        flags = {"diverged": run["diverged"], "exploded": run["exploded"], "n_params": run["n_params"],
                 "family": run["spec"]["family"], "form": run["spec"]["form"], "skip": run["spec"]["skip"],
                 "seed": run["spec"]["seed"], "wall_s": run["wall_s"]}
        if run["diverged"]:
            per[name] = flags
            continue
        if run["spec"]["family"] == "ign":
            m, a = eval_ign(load_net(run, "f"), xtr, xte, clf, n, k_max, sigma, gen, floor_real, sharp_real)
        else:
            m, a = eval_gan(load_net(run, "G"), xte, clf, n, gen, floor_real, sharp_real)
        per[name] = {**flags, **m}
        arrays.update({f"{name}__{k}": v for k, v in a.items()})
    return per, arrays


def group_summary(per: dict, prefix: str) -> dict:
    """Per-seed final FD of the runs named prefix*, their mean, CV (std ddof=1 / mean) and divergence count."""
    names = sorted(k for k in per if k.startswith(prefix))
    fd = [per[k][FD_NAME] for k in names if not per[k]["diverged"]]
    out = {"runs": names, "fd": fd, "n_runs": len(names),
           "diverged": sum(per[k]["diverged"] for k in names), "exploded": sum(per[k]["exploded"] for k in names)}
    if len(fd) >= 2:
        out["fd_mean"] = float(np.mean(fd))
        out["fd_cv"] = float(np.std(fd, ddof=1) / np.mean(fd))
    elif fd:
        out["fd_mean"], out["fd_cv"] = float(fd[0]), None
    return out
