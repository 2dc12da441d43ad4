"""The image sets of the diffusion articles, in the diffusion convention: values in [-1, 1].

One place decides which images are "train" and which are "held-out", so the metric classifier
(stages/metric_nets.py), the generative models and the FD references all agree:

- "digits":    scikit-learn's 8x8 digits, a fixed permutation (seed SPLIT_SEED), the first 1500
               train, the other 297 held out (card 9152). Pixel 0..16 -> x/8 - 1.
- "fashion28": Fashion-MNIST 28x28, the official 60k train / 10k test split. Pixel 0..255 -> x/127.5 - 1.
- "fashion14": the same images 2x2 average-pooled to 14x14 (card 10055's low resolution; the pooling
               is kexue.feature_classifier.avg_pool, the operator D of that article).

    Xtr, ytr, Xte, yte = image_set("digits", "data/digits/digits.npz")     # float32 [n, side*side], int64
    Xtr, ytr, Xte, yte = image_set("digits", path, n_train=256)             # the first 256 train images
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kexue.errors import KexueError

SETS = {"digits": 8, "fashion28": 28, "fashion14": 14}   # name -> side
SOURCE = {"digits": "digits", "fashion28": "fashion_mnist", "fashion14": "fashion_mnist"}
DIGITS_TRAIN = 1500
SPLIT_SEED = 9152


def image_set(name: str, path: str | Path, n_train: int | None = None, n_test: int | None = None):
    """(Xtr, ytr, Xte, yte): float32 [n, side*side] in [-1, 1] and int64 labels; n_train / n_test take
    the first images of each part (a prefix, so a smaller profile sees a subset of a larger one)."""
    if name not in SETS:
        raise KexueError(f"image set {name!r}: choose one of {', '.join(SETS)}")
    if name == "digits":
        from kexue.data.digits import load_digits

        X, y = load_digits(path)            # [0, 1]
        order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
        tr, te = order[:DIGITS_TRAIN], order[DIGITS_TRAIN:]
        Xtr, ytr, Xte, yte = 2 * X[tr] - 1, y[tr], 2 * X[te] - 1, y[te]
    else:
        from kexue.data.fashion_mnist import load_fashion_mnist
        from kexue.feature_classifier import avg_pool

        Xtr, ytr, Xte, yte = load_fashion_mnist(path)   # [0, 1], official split
        Xtr, Xte = 2 * Xtr - 1, 2 * Xte - 1
        if name == "fashion14":
            Xtr, Xte = (np.asarray(avg_pool(A, 2)).reshape(len(A), -1) for A in (Xtr, Xte))
    for what, n, have in (("n_train", n_train, len(ytr)), ("n_test", n_test, len(yte))):
        if n is not None and not 1 <= n <= have:
            raise KexueError(f"{what} = {n} for image set {name!r}: it has {have} images in that part; "
                             f"choose 1..{have}")
    Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    Xte, yte = Xte[:n_test], yte[:n_test]
    f = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    return f(Xtr), ytr.astype(np.int64), f(Xte), yte.astype(np.int64)
