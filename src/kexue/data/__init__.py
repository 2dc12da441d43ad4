"""Datasets that work offline. Each prepare step writes one .npz / .txt under data/
with its SHA-256 recorded; the loaders read those files back:

    from kexue.data.digits import load_digits              # (X [n, 64] in [0, 1], y)
    from kexue.data.fashion_mnist import load_fashion_mnist  # (Xtr, ytr, Xte, yte)
    from kexue.data.kjv import load_kjv                    # str

Import the module you need, not this package: a stage's code dependencies follow its
imports, and this file deliberately imports nothing so no stage depends on every dataset.
"""
