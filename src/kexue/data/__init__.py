"""Datasets that work offline. Each prepare step writes one .npz / .txt under data/
with its SHA-256 recorded; loaders here read those files back."""
from kexue.data.digits import load_digits
from kexue.data.fashion_mnist import load_fashion_mnist
from kexue.data.kjv import load_kjv

__all__ = ["load_digits", "load_fashion_mnist", "load_kjv"]
