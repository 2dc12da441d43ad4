"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; MIT licence), 60k/10k 28x28 uint8.

Source, in order: a folder named by $KEXUE_FASHION_MNIST_DIR holding the four canonical
.gz files; the Debian package `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist);
else the canonical download, cached in ~/.cache/kexue/fashion-mnist.
The checksums are of the *decompressed* IDX files: Debian recompressed the archives, so
the .gz bytes differ from the canonical download while the contents are identical.
"""
from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import numpy as np

from kexue.data.checks import open_npz
from kexue.errors import KexueError
from kexue.io import atomic_write_bytes, sha256_bytes

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
CANONICAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
CACHE_DIR = Path.home() / ".cache" / "kexue" / "fashion-mnist"
FILES = {  # name -> (IDX header bytes, SHA-256 of decompressed content)
    "train-images-idx3-ubyte.gz": (16, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels-idx1-ubyte.gz": (8, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "t10k-images-idx3-ubyte.gz": (16, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "t10k-labels-idx1-ubyte.gz": (8, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
FIX = ("install it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put the four "
       "canonical .gz files in a folder and set KEXUE_FASHION_MNIST_DIR to it")


def source_dir() -> Path:
    """Where the .gz files are read from (the download cache when nothing else has them)."""
    if "KEXUE_FASHION_MNIST_DIR" in os.environ:
        return Path(os.environ["KEXUE_FASHION_MNIST_DIR"])
    if all((Path(DEBIAN_DIR) / f).exists() for f in FILES):
        return Path(DEBIAN_DIR)
    return CACHE_DIR


def download(folder: Path, base_url: str = CANONICAL_URL, timeout: float = 60.0) -> None:
    """Fetch the missing .gz files; each is checked (SHA-256 of its content) before it is kept."""
    import urllib.request

    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        target = folder / name
        if target.exists():
            continue
        url = base_url + name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                data = r.read()
        except OSError as e:
            raise KexueError(f"Fashion-MNIST: downloading {url} failed ({e}); {FIX}.") from None
        _verify(data, name, url)
        atomic_write_bytes(target, data)


def _verify(data: bytes, name: str, where) -> bytes:
    """Decompress and check one file; returns the raw IDX bytes."""
    digest = FILES[name][1]
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise KexueError(f"Fashion-MNIST file {where} is corrupt ({e}); reinstall: {FIX}.") from None
    if sha256_bytes(raw) != digest:
        raise KexueError(f"Fashion-MNIST file {where} fails its SHA-256 check (expected {digest[:16]}...); "
                         f"it is corrupt or a different dataset; reinstall: {FIX}.")
    return raw


def _read(folder: Path, name: str) -> np.ndarray:
    path = folder / name
    if not path.exists():
        raise KexueError(f"Fashion-MNIST file {path} is missing; {FIX}.")
    return np.frombuffer(_verify(path.read_bytes(), name, path), dtype=np.uint8, offset=FILES[name][0])


def prepare_fashion_mnist(out: Path, folder: Path | None = None) -> dict:
    if folder is None:
        folder = source_dir()
        if folder == CACHE_DIR:
            download(folder)
    xtr = _read(folder, "train-images-idx3-ubyte.gz").reshape(-1, 28, 28)
    ytr = _read(folder, "train-labels-idx1-ubyte.gz").astype(np.int64)
    xte = _read(folder, "t10k-images-idx3-ubyte.gz").reshape(-1, 28, 28)
    yte = _read(folder, "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    buf = io.BytesIO()
    np.savez(buf, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    atomic_write_bytes(out, buf.getvalue())
    return {"source": str(folder), "n_train": int(len(ytr)), "n_test": int(len(yte)),
            "sha256": {k: v[1] for k, v in FILES.items()}}


def load_fashion_mnist(path: str | Path = "data/fashion_mnist/fashion_mnist.npz"):
    """Return (x_train, y_train, x_test, y_test): float32 [n, 784] in [0, 1], int64 labels."""
    z = open_npz(path, ("x_train", "y_train", "x_test", "y_test"), "data_fashion_mnist")
    f = lambda x: x.reshape(len(x), -1).astype(np.float32) / 255.0  # noqa: E731
    return f(z["x_train"]), z["y_train"], f(z["x_test"]), z["y_test"]
