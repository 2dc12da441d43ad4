"""Shared metric networks: one feature classifier per image set, trained once on REAL training
images and cached. Every diffusion article's "FD (classifier features)", precision/recall and
class entropy go through these files, so two articles' numbers on one image set are comparable.

    data/metric_nets/<set>.pt     kexue.feature_classifier file (load_feature_classifier)
    data/metric_nets/<set>.json   its test accuracy on the held-out part (a metric net that cannot
                                  classify gives meaningless features: the stage refuses below min_accuracy)
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kexue.pipeline import Article, Stage

D = "data/metric_nets"
SOURCES = {"digits": "data/digits/digits.npz", "fashion28": "data/fashion_mnist/fashion_mnist.npz",
           "fashion14": "data/fashion_mnist/fashion_mnist.npz"}


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digits_steps: int = Field(ge=1, le=100_000)
    fashion_steps: int = Field(ge=1, le=100_000)
    batch: int = Field(ge=8, le=4096)
    lr: float = Field(gt=0, le=1.0)
    feat_dim: int = Field(ge=8, le=1024)
    min_accuracy: float = Field(ge=0, le=1)


def _train(ctx, name: str) -> None:
    from kexue.data.image_sets import image_set
    from kexue.errors import KexueError
    from kexue.feature_classifier import save_feature_classifier, train_feature_classifier
    from kexue.io import atomic_write_json

    p = ctx.p
    Xtr, ytr, Xte, yte = image_set(name, ctx.inp("data"))
    steps = p.digits_steps if name == "digits" else p.fashion_steps
    model, acc = train_feature_classifier(Xtr, ytr, Xte, yte, seed=ctx.seed, steps=steps, batch_size=p.batch,
                                          lr=p.lr, feat_dim=p.feat_dim, device=ctx.device)
    ctx.log(f"metric classifier {name}: {model.config['arch']}, test accuracy {acc:.4f} after {steps} steps")
    if acc < p.min_accuracy:
        raise KexueError(f"metric classifier for {name} reaches test accuracy {acc:.3f} < min_accuracy = "
                         f"{p.min_accuracy}: its features would not measure anything; raise "
                         f"metric_nets.{'digits' if name == 'digits' else 'fashion'}_steps in params.yaml")
    save_feature_classifier(model.cpu(), ctx.out("model"))
    atomic_write_json(ctx.out("metrics"), {f"metric_net_{name}": {
        "test_accuracy": acc, "arch": model.config["arch"], "steps": steps, "n_train": len(ytr),
        "n_test": len(yte), "side": model.config["side"], "feat_dim": model.config["feat_dim"]}})


def digits(ctx):
    _train(ctx, "digits")


def fashion28(ctx):
    _train(ctx, "fashion28")


def fashion14(ctx):
    _train(ctx, "fashion14")


def _stage(name, fn):
    return Stage(name, fn, deps={"data": SOURCES[name]},
                 outs={"model": f"{D}/{name}.pt", "metrics": f"{D}/{name}.json"},
                 params=("digits_steps" if name == "digits" else "fashion_steps", "batch", "lr", "feat_dim",
                         "min_accuracy"),
                 metrics="metrics", device=True, kind="train", mem_mb=2000, runtime_min=10)


ARTICLE = Article(
    id="metric_nets", slug="metric-networks", title="Shared metric classifiers (FD features)", key="metric_nets",
    report=False, params_model=Params,
    stages=(_stage("digits", digits), _stage("fashion28", fashion28), _stage("fashion14", fashion14)),
)
