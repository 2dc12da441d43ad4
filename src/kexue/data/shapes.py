"""Procedural "shapes" images: one filled ellipse, rectangle or triangle with sharp edges on a dark
background, rendered by code (no download). A smoke-sized image set with labels (the shape kind), so
an image article can train a denoiser AND a metric classifier in seconds.

    X, y = render_shapes(2000, side=16, seed=0)     # float32 [n, side*side] in [-1, 1], int64 kind
    KINDS[y[0]]                                     # "ellipse" | "rectangle" | "triangle"

Conventions
- Values follow the diffusion convention of kexue.data.image_sets: background -1, the shape a
  constant intensity drawn from U(0.2, 1.0) (so the set spans [-1, 1] up to the brightest shape).
- A pixel belongs to the shape if its CENTRE does: hard edges, no anti-aliasing. That is what
  "sharp" means for article 10055 (pooling to side/2 then blurs every edge, so the high-resolution
  detail energy of real images is large and measurable).
- The shape is centred in the middle 40% of the image with a size of 25-70% of the side and a
  random rotation (a large triangle may touch the frame); the kind stays recognisable at side 8 pooled.
- Deterministic: everything comes from np.random.default_rng(seed).
"""
from __future__ import annotations

import numpy as np

from kexue.errors import KexueError

KINDS = ("ellipse", "rectangle", "triangle")


def _inside_triangle(px, py, v):
    """px, py [n, P]; v [n, 3, 2] vertices: True where the point is inside (sign test of the three edges)."""
    def edge(a, b):
        return (b[:, None, 0] - a[:, None, 0]) * (py - a[:, None, 1]) - (b[:, None, 1] - a[:, None, 1]) * (px - a[:, None, 0])
    d1, d2, d3 = edge(v[:, 0], v[:, 1]), edge(v[:, 1], v[:, 2]), edge(v[:, 2], v[:, 0])
    neg = (d1 < 0) | (d2 < 0) | (d3 < 0)
    pos = (d1 > 0) | (d2 > 0) | (d3 > 0)
    return ~(neg & pos)


def render_shapes(n: int, side: int = 16, seed: int = 0, kinds=KINDS) -> tuple[np.ndarray, np.ndarray]:
    """n images [n, side*side] float32 in [-1, 1] and their kind labels (index into KINDS) int64."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise KexueError(f"render_shapes n = {n!r}: the number of images must be a positive integer")
    if not isinstance(side, (int, np.integer)) or side < 4:
        raise KexueError(f"render_shapes side = {side!r}: need an integer side >= 4 pixels")
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise KexueError(f"render_shapes kinds = {list(kinds)!r}: choose a non-empty subset of {KINDS}")
    rng = np.random.default_rng(seed)
    allowed = np.array([KINDS.index(k) for k in kinds])
    y = allowed[rng.integers(0, len(allowed), n)]
    # pixel centres in units of the side: (i + 0.5) / side
    g = (np.arange(side) + 0.5) / side
    px, py = (a.reshape(1, -1) for a in np.meshgrid(g, g, indexing="xy"))
    cx, cy = rng.uniform(0.3, 0.7, (2, n, 1))
    ang = rng.uniform(0, np.pi, (n, 1))
    a, b = rng.uniform(0.125, 0.35, (2, n, 1))  # half-sizes (radii)
    # coordinates in the shape's rotated frame
    dx, dy = px - cx, py - cy
    u, v = np.cos(ang) * dx + np.sin(ang) * dy, -np.sin(ang) * dx + np.cos(ang) * dy
    mask = np.zeros((n, side * side), dtype=bool)
    e = y == 0
    mask[e] = ((u / a) ** 2 + (v / b) ** 2 <= 1)[e]
    r = y == 1
    mask[r] = ((np.abs(u) <= 0.85 * a) & (np.abs(v) <= 0.85 * b))[r]
    t = np.flatnonzero(y == 2)
    if t.size:
        rad = 1.15 * np.maximum(a[t], b[t])  # circumradius of a roughly equilateral triangle
        phi = ang[t] + np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])[None] + rng.uniform(-0.35, 0.35, (t.size, 3))
        verts = np.stack([cx[t] + rad * np.cos(phi), cy[t] + rad * np.sin(phi)], axis=-1)  # [m, 3, 2]
        mask[t] = _inside_triangle(np.broadcast_to(px, (t.size, px.shape[1])),
                                   np.broadcast_to(py, (t.size, py.shape[1])), verts)
    level = rng.uniform(0.2, 1.0, (n, 1))
    X = np.where(mask, level, -1.0)
    return X.astype(np.float32), y.astype(np.int64)
