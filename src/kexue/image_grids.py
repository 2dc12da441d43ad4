"""Image figures for the generative articles: sample grids and reverse-trajectory strips,
drawn through kexue.plots (figure, savefig) so they share the lab's theme.

    save_sample_grid("fig/samples.png", X, nrow=8, title="DDPM, sigma = beta")
    fig, axes = figure(1, 3); draw_grid(axes[0], X_real, 8, 8, title="real"); ...; savefig(fig, path)
    save_trajectory_strip("fig/traj.png", traj, times=[1000, 750, 500, 250, 0])

Conventions
- Images: [n, side*side] (flat, square), [n, side, side], [n, 1, side, side] (grey) or
  [n, 3, H, W] (RGB); numpy or torch, any side (8, 14, 28, 32, ...).
- Trajectories: [n_samples, n_times, *image] — one ROW per sample, one COLUMN per time step
  (left = first entry, usually t = T noise; right = t = 0 result).
- Display range is fixed (`value_range`, default [-1, 1], the diffusion convention) and
  values are clipped to it: no per-image autoscaling, so a grey blob stays grey and noisy
  early steps do not wash out the colour scale. Separators between tiles are white (NaN).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from kexue.errors import KexueError
from kexue.plots import figure, savefig


def _to_hwc(X, name: str = "X") -> np.ndarray:
    """float64 [n, H, W, C] (C = 1 or 3) from any accepted layout."""
    if hasattr(X, "detach"):
        X = X.detach().float().cpu().numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        side = math.isqrt(X.shape[1])
        if side * side != X.shape[1]:
            raise KexueError(f"{name} has {X.shape[1]} values per row, not a square image; "
                             "pass [n, side, side] or [n, C, H, W]")
        return X.reshape(len(X), side, side, 1)
    if X.ndim == 3:
        return X[..., None]
    if X.ndim == 4 and X.shape[1] in (1, 3):
        return X.transpose(0, 2, 3, 1)
    raise KexueError(f"{name} has shape {X.shape}; pass [n, side*side], [n, H, W] or [n, C, H, W] with C in (1, 3)")


def mosaic(X, nrow: int, ncol: int, pad: int = 1, value_range=(-1.0, 1.0)) -> np.ndarray:
    """One [nrow*(H+pad)-pad, ncol*(W+pad)-pad, C] array of the first nrow*ncol images, row by
    row, clipped to value_range and rescaled to [0, 1]; padding and missing tiles are NaN."""
    lo, hi = (float(v) for v in value_range)
    if not lo < hi:
        raise KexueError(f"value_range = {value_range!r}: need lo < hi")
    if nrow < 1 or ncol < 1 or pad < 0:
        raise KexueError(f"grid nrow = {nrow}, ncol = {ncol}, pad = {pad}: need nrow, ncol >= 1 and pad >= 0")
    imgs = _to_hwc(X)
    n, H, W, C = imgs.shape
    if n == 0:
        raise KexueError("no images to draw")
    if n > nrow * ncol:
        imgs = imgs[:nrow * ncol]
    out = np.full((nrow * (H + pad) - pad, ncol * (W + pad) - pad, C), np.nan)
    scaled = (np.clip(imgs, lo, hi) - lo) / (hi - lo)
    for i, img in enumerate(scaled):
        r, c = divmod(i, ncol)
        out[r * (H + pad):r * (H + pad) + H, c * (W + pad):c * (W + pad) + W] = img
    return out


def _imshow(ax, M: np.ndarray) -> None:
    import matplotlib

    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if M.shape[2] == 1:
        cmap = matplotlib.colormaps["gray"].with_extremes(bad="white")
        ax.imshow(np.ma.masked_invalid(M[..., 0]), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    else:  # RGB: imshow has no "bad" colour for RGB, so paint NaN padding white
        ax.imshow(np.nan_to_num(M, nan=1.0), interpolation="nearest")


def _grid_shape(n: int, nrow: int | None, ncol: int | None) -> tuple[int, int]:
    if nrow is None and ncol is None:
        ncol = math.ceil(math.sqrt(n))
    if ncol is None:
        ncol = math.ceil(n / nrow)
    if nrow is None:
        nrow = math.ceil(n / ncol)
    return nrow, ncol


def draw_grid(ax, X, nrow: int | None = None, ncol: int | None = None, *, title: str | None = None,
              value_range=(-1.0, 1.0), pad: int = 1) -> None:
    """Draw an nrow x ncol grid of images into `ax` (nearly square when both are None)."""
    nrow, ncol = _grid_shape(len(X), nrow, ncol)
    _imshow(ax, mosaic(X, nrow, ncol, pad=pad, value_range=value_range))
    if title:
        ax.set_title(title)


def save_sample_grid(path: str | Path, X, nrow: int | None = None, ncol: int | None = None, *,
                     title: str | None = None, value_range=(-1.0, 1.0), inches_per_tile: float = 0.45) -> None:
    """Write one sample grid as a PNG (size grows with the tile count, not the resolution)."""
    nrow, ncol = _grid_shape(len(X), nrow, ncol)
    height = nrow * inches_per_tile + (0.4 if title else 0.0)
    fig, ax = figure(figsize=(max(2.0, ncol * inches_per_tile), max(2.0, height)))
    draw_grid(ax, X, nrow, ncol, title=title, value_range=value_range)
    savefig(fig, path)


def draw_trajectory_strip(ax, traj, times=None, *, title: str | None = None, value_range=(-1.0, 1.0),
                          pad: int = 1) -> None:
    """traj [n_samples, n_times, *image]: one row per sample, one column per time step;
    `times` (length n_times) label the columns, e.g. t = T, 3T/4, T/2, T/4, 0."""
    if hasattr(traj, "detach"):
        traj = traj.detach().float().cpu().numpy()
    traj = np.asarray(traj)
    if traj.ndim < 3:
        raise KexueError(f"traj has shape {traj.shape}; expected [n_samples, n_times, *image]")
    n, T = traj.shape[:2]
    if times is not None and len(times) != T:
        raise KexueError(f"times has {len(times)} labels for {T} columns of traj; pass one label per time step")
    flat = traj.reshape(n * T, *traj.shape[2:])  # row-major: sample i's steps are tiles i*T .. i*T+T-1
    M = mosaic(flat, n, T, pad=pad, value_range=value_range)
    _imshow(ax, M)
    if times is not None:
        W = (M.shape[1] + pad) / T
        ax.set_xticks([W * j + (W - pad) / 2 - 0.5 for j in range(T)])
        ax.set_xticklabels([f"t={t:g}" if isinstance(t, (int, float, np.number)) else str(t) for t in times],
                           fontsize=8)
        ax.tick_params(length=0)
    if title:
        ax.set_title(title)


def save_trajectory_strip(path: str | Path, traj, times=None, *, title: str | None = None,
                          value_range=(-1.0, 1.0), inches_per_tile: float = 0.7) -> None:
    """Write a trajectory strip (rows = samples, columns = time steps) as a PNG."""
    shape = np.shape(traj)
    if len(shape) < 3:
        raise KexueError(f"traj has shape {shape}; expected [n_samples, n_times, *image]")
    n, T = shape[:2]
    fig, ax = figure(figsize=(max(2.5, T * inches_per_tile), max(1.5, n * inches_per_tile + 0.6)))
    draw_trajectory_strip(ax, traj, times, title=title, value_range=value_range)
    savefig(fig, path)
