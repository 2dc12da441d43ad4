"""scikit-learn's bundled 8x8 handwritten digits (1797 images, values 0..16).

Always available offline (the data ships inside the scikit-learn wheel), so it is the
dataset of every smoke run."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.data.checks import open_npz
from kexue.errors import KexueError
from kexue.io import atomic_write_bytes, sha256_bytes

# SHA-256 of the raw uint8 image bytes + label bytes as shipped in scikit-learn.
DIGITS_SHA256 = "65e5b4619795efb40c1082f4c350c049e4ad552200d369b6ae99e21eef5e72c5"


def prepare_digits(out: Path) -> dict:
    """Copy the bundled digits into `out` (.npz: X uint8 [1797, 64], y int64)."""
    import io

    from sklearn.datasets import load_digits as sk_load

    d = sk_load()
    X = d.data.astype(np.uint8)
    y = d.target.astype(np.int64)
    digest = sha256_bytes(X.tobytes() + y.tobytes())
    if digest != DIGITS_SHA256:
        raise KexueError(f"scikit-learn's digits fail their SHA-256 check (got {digest[:16]}...); "
                         "reinstall scikit-learn (`make venv`) — the bundled data file is corrupt or changed.")
    buf = io.BytesIO()
    np.savez_compressed(buf, X=X, y=y)
    atomic_write_bytes(out, buf.getvalue())
    return {"n": int(len(y)), "sha256": digest}


def load_digits(path: str | Path = "data/digits/digits.npz"):
    """Return (X float32 [n, 64] scaled to [0, 1], y int64)."""
    z = open_npz(path, ("X", "y"), "data_digits")
    return (z["X"].astype(np.float32) / 16.0), z["y"].astype(np.int64)
