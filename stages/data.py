"""Shared data stages: every dataset is prepared once, checksummed, and cached."""
from __future__ import annotations

from kexue.pipeline import Article, Stage


def digits(ctx):
    from kexue.data.digits import prepare_digits

    info = prepare_digits(ctx.out("digits"))
    ctx.log(f"digits: {info['n']} images, sha256 {info['sha256'][:12]}")


def fashion_mnist(ctx):
    from kexue.data.fashion_mnist import prepare_fashion_mnist

    info = prepare_fashion_mnist(ctx.out("fashion_mnist"))
    ctx.log(f"fashion-mnist: {info['n_train']}+{info['n_test']} images from {info['source']}")


def kjv(ctx):
    from kexue.data.kjv import prepare_kjv

    info = prepare_kjv(ctx.out("kjv"))
    ctx.log(f"kjv: {info['chars']} characters, {info['vocab']} distinct")


ARTICLE = Article(
    id="data", slug="datasets", title="Shared datasets", key="data", report=False,
    stages=(
        Stage("digits", digits, outs={"digits": "data/digits/digits.npz"}, kind="data", runtime_min=2, global_params=()),
        Stage("fashion_mnist", fashion_mnist, outs={"fashion_mnist": "data/fashion_mnist/fashion_mnist.npz"},
              kind="data", runtime_min=2, global_params=()),
        Stage("kjv", kjv, outs={"kjv": "data/kjv/kjv.txt"}, kind="data", runtime_min=2, global_params=()),
    ),
)
