"""The metric classifier: a small net trained once per dataset on REAL images, whose
penultimate features feed the sample metrics of kexue.image_metrics (FD, precision/recall,
class entropy).

    model, acc = train_feature_classifier(Xtr, ytr, Xte, yte, seed=0, steps=1000)
    F = features(model, samples)            # float64 numpy [n, feat_dim]
    labels = predict(model, samples)        # int64 numpy [n]
    save_feature_classifier(model, path); model = load_feature_classifier(path, expect=cfg)

Conventions
- Images are square, one channel, in one of three layouts: flat [n, side*side] (what
  kexue.data.classification returns), [n, side, side] or [n, 1, side, side]; numpy or torch.
- Sides in use: 8 (digits), 14 (Fashion-MNIST pooled 2x2, article 10055), 28 (Fashion-MNIST).
  `avg_pool(X, s)` is the s x s average pooling that makes the 14x14 set (and is the
  operator D of article 10055, so pooled samples and pooled real data match exactly).
- `value_range` (default (-1, 1), the diffusion convention) is declared at training and
  checked: training data must span it (so [0, 1] digits given as (-1, 1) fail loudly instead
  of producing a classifier that sees every generated sample as out-of-distribution), and
  features() refuses inputs far outside it unless told (pure noise z of article 9969).
- arch "mlp" = in -> width -> feat_dim -> classes (64-128-64-10 on digits, as the cards
  say); arch "cnn" = two conv+maxpool blocks (width, 2*width channels) -> feat_dim -> classes.
  "auto" picks the MLP for side <= 8, the CNN above. Features = the ReLU output of the
  feat_dim layer, i.e. exactly what the final linear layer sees.
- Deterministic on CPU: the init uses a forked torch RNG seeded with `seed`, minibatches a
  private torch.Generator; the global RNG state is untouched.
"""
from __future__ import annotations

import io as _io
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from kexue.errors import KexueError
from kexue.io import atomic_write_bytes

FORMAT = "kexue.feature_classifier/1"
ARCHS = ("mlp", "cnn")
ARCH_KEYS = ("arch", "side", "n_classes", "feat_dim", "width", "value_range")


# ---------------------------------------------------------------------------- image layouts
def _side_of(X, name: str) -> int:
    """Side of the square images in X, whatever the layout."""
    shape = tuple(X.shape)
    if len(shape) == 2:
        side = math.isqrt(shape[1])
        if side * side != shape[1]:
            raise KexueError(f"{name} has {shape[1]} features per row, not a square image; "
                             "pass images as [n, side*side], [n, side, side] or [n, 1, side, side]")
        return side
    if len(shape) == 3 and shape[1] == shape[2]:
        return shape[1]
    if len(shape) == 4 and shape[1] == 1 and shape[2] == shape[3]:
        return shape[2]
    raise KexueError(f"{name} has shape {shape}; pass square one-channel images as "
                     "[n, side*side], [n, side, side] or [n, 1, side, side]")


def as_images(X, name: str = "X", device=None) -> torch.Tensor:
    """float32 tensor [n, 1, side, side] from any accepted layout (numpy or torch)."""
    side = _side_of(X, name)
    t = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X)
    return t.to(device=device, dtype=torch.float32).reshape(len(t), 1, side, side)


def avg_pool(X, s: int):
    """s x s average pooling, same layout and array type back (flat stays flat).

    This is article 10055's D: the mean of each s x s block, so a pooled unit-Gaussian
    image has std 1/s and pooling then nearest upsampling is a projection."""
    if not isinstance(s, int) or s < 1:
        raise KexueError(f"avg_pool factor s = {s!r}: must be a positive integer")
    side = _side_of(X, "X")
    if side % s:
        raise KexueError(f"avg_pool: side {side} is not divisible by s = {s}; crop or pad the images first")
    n, m = X.shape[0], side // s
    blocks = X.reshape(n, m, s, m, s)
    pooled = blocks.mean(axis=(2, 4)) if isinstance(X, np.ndarray) else blocks.mean(dim=(2, 4))
    if X.ndim == 2:
        return pooled.reshape(n, m * m)
    if X.ndim == 4:
        return pooled.reshape(n, 1, m, m)
    return pooled


# ---------------------------------------------------------------------------- the model
def classifier_config(side: int, *, arch: str = "auto", n_classes: int = 10, feat_dim: int = 64,
                      width: int | None = None, value_range=(-1.0, 1.0)) -> dict:
    """The architecture dict stored with the weights (and compared on load)."""
    if arch == "auto":
        arch = "mlp" if side <= 8 else "cnn"
    if arch not in ARCHS:
        raise KexueError(f"classifier arch = {arch!r}: choose one of {', '.join(ARCHS)} or 'auto'")
    if side < 4:
        raise KexueError(f"image side = {side}: the classifier needs at least 4x4 images")
    if n_classes < 2 or feat_dim < 1:
        raise KexueError(f"n_classes = {n_classes}, feat_dim = {feat_dim}: need n_classes >= 2, feat_dim >= 1")
    lo, hi = (float(v) for v in value_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise KexueError(f"value_range = {value_range!r}: must be finite (lo, hi) with lo < hi")
    if width is None:
        width = 128 if arch == "mlp" else 16
    return {"arch": arch, "side": int(side), "n_classes": int(n_classes), "feat_dim": int(feat_dim),
            "width": int(width), "value_range": [lo, hi]}


class FeatureClassifier(nn.Module):
    """Classifier whose `features(x)` (penultimate ReLU layer) is the metric embedding."""

    def __init__(self, config: dict):
        super().__init__()
        missing = [k for k in ARCH_KEYS if k not in config]
        if missing:
            raise ValueError(f"FeatureClassifier config lacks {missing}; build it with classifier_config()")
        self.config = {k: config[k] for k in ARCH_KEYS}
        c, s, w = config, config["side"], config["width"]
        if c["arch"] == "mlp":
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(s * s, w), nn.ReLU(),
                                      nn.Linear(w, c["feat_dim"]), nn.ReLU())
        else:  # two conv blocks; maxpool floors odd sides (14 -> 7 -> 3)
            self.body = nn.Sequential(
                nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(2 * w * (s // 4) ** 2, c["feat_dim"]), nn.ReLU())
        self.head = nn.Linear(c["feat_dim"], c["n_classes"])
        self.train_info: dict = {}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def check_state_dict(state: dict, config: dict) -> None:
    """KexueError unless `state` has exactly the tensors (names, shapes) `config` builds."""
    want = {k: tuple(v.shape) for k, v in FeatureClassifier(config).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if want != got:
        diff = sorted(set(want) ^ set(got)) or [k for k in want if want[k] != got[k]]
        raise KexueError(f"classifier weights do not fit config {config} (first differences: {diff[:4]}); "
                         "the file comes from another architecture: retrain it (rerun its stage)")


# ---------------------------------------------------------------------------- checks
def _check_labels(y, n: int, n_classes: int, name: str) -> torch.Tensor:
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long().reshape(-1)
    if len(y) != n:
        raise KexueError(f"{name} has {len(y)} labels for {n} images; pass one label per image")
    if n and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise KexueError(f"{name} holds labels in [{int(y.min())}, {int(y.max())}]; expected 0..{n_classes - 1} "
                         "(set n_classes)")
    return y


def _check_values(x: torch.Tensor, config: dict, name: str, *, span: bool, slack: float) -> None:
    if len(x) == 0:
        raise KexueError(f"{name} is empty; pass at least one image")
    if not torch.isfinite(x).all():
        raise KexueError(f"{name} contains NaN or inf ({int((~torch.isfinite(x)).sum())} values); "
                         "the generator diverged or the data are corrupt")
    lo, hi = config["value_range"]
    w, xmin, xmax = hi - lo, float(x.min()), float(x.max())
    if xmin < lo - slack * w or xmax > hi + slack * w:
        raise KexueError(f"{name} spans [{xmin:.3g}, {xmax:.3g}] but the classifier's value_range is [{lo}, {hi}]: "
                         "rescale the images (e.g. 2x-1 for [0, 1] data), clip the samples, or pass "
                         "check_range=False for deliberately off-range inputs such as pure noise")
    if span and (xmin > lo + 0.25 * w or xmax < hi - 0.25 * w):
        raise KexueError(f"{name} spans only [{xmin:.3g}, {xmax:.3g}] of value_range [{lo}, {hi}]: the data use "
                         "another convention; rescale them or declare value_range=(min, max) of the data")


# ---------------------------------------------------------------------------- training
def train_feature_classifier(Xtr, ytr, Xte, yte, *, seed: int, steps: int, arch: str = "auto",
                             batch_size: int = 128, lr: float = 1e-3, feat_dim: int = 64,
                             width: int | None = None, n_classes: int = 10, value_range=(-1.0, 1.0),
                             weight_decay: float = 0.0, device: str = "cpu"):
    """Train on real (Xtr, ytr) with Adam + cross-entropy; return (model in eval mode, test accuracy).

    Minibatches are drawn with replacement from a generator seeded by `seed`, so the result
    depends only on (data, seed, steps, hyper-parameters): rerunning the stage is bitwise
    identical on CPU."""
    if steps < 1 or batch_size < 1 or not lr > 0:
        raise KexueError(f"steps = {steps}, batch_size = {batch_size}, lr = {lr}: all must be positive")
    config = classifier_config(_side_of(Xtr, "Xtr"), arch=arch, n_classes=n_classes, feat_dim=feat_dim,
                               width=width, value_range=value_range)
    xtr, xte = as_images(Xtr, "Xtr", device), as_images(Xte, "Xte", device)
    if xte.shape[-1] != config["side"]:
        raise KexueError(f"Xte has side {xte.shape[-1]}, Xtr side {config['side']}: use one resolution")
    _check_values(xtr, config, "Xtr", span=True, slack=1e-6)
    _check_values(xte, config, "Xte", span=False, slack=1e-6)
    ytr_t = _check_labels(ytr, len(xtr), n_classes, "ytr").to(device)
    yte_t = _check_labels(yte, len(xte), n_classes, "yte").to(device)

    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
        torch.manual_seed(seed)
        model = FeatureClassifier(config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(xtr), (batch_size,), generator=gen).to(device)
        loss = nn.functional.cross_entropy(model(xtr[idx]), ytr_t[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    acc = float((_logits(model, xte).argmax(1) == yte_t).double().mean())
    model.train_info = {"seed": int(seed), "steps": int(steps), "batch_size": int(batch_size), "lr": float(lr),
                        "weight_decay": float(weight_decay), "n_train": int(len(xtr)), "n_test": int(len(xte)),
                        "test_accuracy": acc, "final_loss": float(loss.detach())}
    return model, acc


@torch.no_grad()
def _logits(model: FeatureClassifier, x: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def _prepare(model: FeatureClassifier, X, check_range: bool) -> torch.Tensor:
    dev = next(model.parameters()).device
    x = as_images(X, "X", dev)
    if x.shape[-1] != model.config["side"]:
        s = model.config["side"]
        raise KexueError(f"images are {x.shape[-1]}x{x.shape[-1]} but this classifier was trained at {s}x{s}: "
                         "avg_pool the samples or use the classifier of their resolution")
    _check_values(x, model.config, "X", span=False, slack=0.5 if check_range else math.inf)
    return x


@torch.no_grad()
def features(model: FeatureClassifier, X, *, check_range: bool = True, batch: int = 2048) -> np.ndarray:
    """Penultimate features, float64 numpy [n, feat_dim] (computed in the model's dtype, eval mode)."""
    was_training = model.training
    model.eval()
    x = _prepare(model, X, check_range)
    out = torch.cat([model.features(x[i:i + batch]) for i in range(0, len(x), batch)])
    model.train(was_training)
    return out.double().cpu().numpy()


@torch.no_grad()
def predict(model: FeatureClassifier, X, *, check_range: bool = True) -> np.ndarray:
    """Predicted class labels, int64 numpy [n]."""
    was_training = model.training
    model.eval()
    labels = _logits(model, _prepare(model, X, check_range)).argmax(1)
    model.train(was_training)
    return labels.cpu().numpy().astype(np.int64)


# ---------------------------------------------------------------------------- save / load
def save_feature_classifier(model: FeatureClassifier, path: str | Path) -> None:
    """Atomic torch.save of {format, config, train_info, state_dict} (CPU tensors, no pickled code)."""
    payload = {"format": FORMAT, "config": dict(model.config), "train_info": dict(model.train_info),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    buf = _io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_feature_classifier(path: str | Path, expect: dict | None = None, device: str = "cpu") -> FeatureClassifier:
    """Load with weights_only=True; `expect` (any subset of config or train_info keys, e.g. the
    stage's params) must match what the file was trained with, else KexueError naming the key."""
    p = Path(path)
    fix = "rerun the stage that trains the metric classifier"
    if not p.exists():
        raise KexueError(f"metric classifier {p} is missing; {fix}")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, foreign pickle
        raise KexueError(f"metric classifier {p} is corrupt or unreadable ({type(e).__name__}); "
                         f"delete it and {fix}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise KexueError(f"{p} is not a {FORMAT} file; delete it and {fix}")
    config, info = payload["config"], payload.get("train_info", {})
    for key, want in (expect or {}).items():
        have = config.get(key, info.get(key, "<absent>"))
        if key == "value_range" and have != "<absent>":
            have, want = [float(v) for v in have], [float(v) for v in want]
        if have != want:
            raise KexueError(f"metric classifier {p} has {key} = {have!r} but {want!r} is expected; "
                             f"it is stale: {fix}")
    check_state_dict(payload["state_dict"], config)
    model = FeatureClassifier(config)
    model.load_state_dict(payload["state_dict"])
    model.train_info = dict(info)
    return model.to(device).eval()
