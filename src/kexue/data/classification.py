"""Train/test tensors for the image-classification stages (digits, Fashion-MNIST).

One function for every article that trains a classifier, so "which images did it see"
is decided in one place:

- `subset_seed=None`: the first n_train training images (and the first n_test test images);
- `subset_seed=[seed, article]`: a seeded subset — digits (no official split) is permuted
  and split, Fashion-MNIST keeps a sorted random subset of its 60k training images.

digits has no official test set: what is left after the training images (or the next
n_test of them) is the test set. Fashion-MNIST uses its official 10k test images.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from kexue.errors import KexueError

DATASETS = ("digits", "fashion_mnist")


def classification_split(name: str, path: str | Path, n_train: int, n_test: int | None = None,
                         subset_seed: Sequence[int] | int | None = None):
    """(Xtr, ytr, Xte, yte) as torch tensors: float32 [n, features] in [0, 1], int64 labels."""
    import torch

    if n_train < 1 or (n_test is not None and n_test < 1):
        raise KexueError(f"n_train = {n_train}, n_test = {n_test}: both must be positive")
    rng = None if subset_seed is None else np.random.default_rng(subset_seed)
    if name == "digits":
        from kexue.data.digits import load_digits

        X, y = load_digits(path)
        n_te = len(y) - n_train if n_test is None else n_test
        if n_train + n_te > len(y) or n_te < 1:
            raise KexueError(f"digits has {len(y)} images; n_train = {n_train} and n_test = {n_test} "
                             "leave no (or too small a) test set: lower n_train")
        order = np.arange(len(y)) if rng is None else rng.permutation(len(y))
        tr, te = order[:n_train], order[n_train:n_train + n_te]
        Xtr, ytr, Xte, yte = X[tr], y[tr], X[te], y[te]
    elif name == "fashion_mnist":
        from kexue.data.fashion_mnist import load_fashion_mnist

        Xtr, ytr, Xte, yte = load_fashion_mnist(path)
        if n_train > len(ytr) or (n_test is not None and n_test > len(yte)):
            raise KexueError(f"fashion_mnist has {len(ytr)} training / {len(yte)} test images; "
                             f"asked for n_train = {n_train}, n_test = {n_test}")
        tr = np.arange(n_train) if rng is None else np.sort(rng.permutation(len(ytr))[:n_train])
        Xtr, ytr = Xtr[tr], ytr[tr]
        if n_test is not None:
            Xte, yte = Xte[:n_test], yte[:n_test]
    else:
        raise KexueError(f"dataset = {name!r}: choose one of {', '.join(DATASETS)}")
    f = lambda a: torch.as_tensor(np.ascontiguousarray(np.asarray(a, dtype=np.float32).reshape(len(a), -1)))  # noqa: E731
    g = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64))  # noqa: E731
    return f(Xtr), g(ytr), f(Xte), g(yte)
