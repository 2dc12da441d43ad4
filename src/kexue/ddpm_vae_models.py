"""What training needs for article 9152: the schedule, the image data in model space, the denoiser builder.

Kept apart from the evaluation code (kexue.ddpm_vae_evaluation, kexue.ddpm_vae_study) so that editing an
evaluation never changes the training stage's code fingerprint (which would retrain every model).

    sched = article_schedule(T=1000, var_end=0.02)     # beta_t^2 = var_end t / T  (= kexue_linear(1000))
    data = load_data("digits", path, n_train)          # model-space train/held-out + metric-space views
    model = build_model(cfg, norm="group", t_embed="sinusoidal", seed=0)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from kexue.diffusion.schedules import DiscreteSchedule
from kexue.errors import KexueError

# ablation name -> (norm, t_embed, loss reduction); the reference is the main run (group, sinusoidal, sum)
# at the same number of steps, i.e. its snapshot at ablation_steps / steps (same seed, same batches)
VARIANTS = {"batchnorm": ("batch", "sinusoidal", "sum"), "learned": ("group", "learned", "sum"),
            "mean": ("group", "sinusoidal", "mean")}
SOURCE = {"digits": "digits", "fashion28": "fashion_mnist"}  # image set -> dep name of its data file
CKPT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)  # the card's checkpoints
LOSS_SMOOTHING = 0.99                   # C7: bias-corrected EMA of the per-step training loss
CELEBA_DIM = 128 * 128 * 3              # the article's images, for the C10 "more pixels" illustration


def fkey(f: float) -> str:
    return f"{f:g}"


def model_cfg(p) -> dict:
    """The builder config of kexue.ddpm_vae_models.build_model from the article's resolved params."""
    dim = 64 if p.data == "digits" else 32 * 32
    return {"arch": p.arch, "dim": dim, "hidden": p.hidden, "blocks": p.blocks, "t_dim": p.t_dim,
            "groups": p.groups, "unet_widths": list(p.unet_widths), "T": p.T}


def snapshot_fractions(p) -> list[float]:
    """The main run's snapshot fractions: the card's checkpoints plus ablation_steps / steps (the reference)."""
    return sorted(set(CKPT_FRACTIONS) | {p.ablation_steps / p.steps})


def article_schedule(T: int, var_end: float, terminal_tol: float = 0.01) -> DiscreteSchedule:
    """beta_t^2 = var_end * t / T, t = 1..T: the article's alpha_t = sqrt(1 - 0.02 t/T) when var_end = 0.02.

    At T = 1000 this is kexue_linear(1000). With fewer steps (the smoke profile, T = 100) the same shape
    needs a larger var_end (0.2 = 0.02 * 1000/T keeps sum beta_t^2 and so abar_T about the same); the
    article's own var_end = 0.02 at T = 100 leaves abar_T = 0.60 and is refused by the terminal check."""
    if not isinstance(T, int) or T < 1:
        raise KexueError(f"T = {T!r}: the number of diffusion steps must be a positive integer (e.g. 1000)")
    if not 0 < var_end < 1:
        raise KexueError(f"var_end = {var_end}: the last per-step variance beta_T^2 must lie in (0, 1), e.g. 0.02")
    var = var_end * np.arange(1, T + 1, dtype=np.float64) / T
    return DiscreteSchedule(var, name=f"article(T={T}, beta_T^2={var_end:g})", terminal_tol=terminal_tol)


@dataclass
class ImageData:
    train: torch.Tensor        # model space: [n, 64] (digits, MLP) or [n, 1, 32, 32] (Fashion-MNIST padded)
    held_out: torch.Tensor
    shape: tuple               # per-sample shape in model space
    metric_set: str            # the metric classifier's image set
    pad: int                   # pixels of padding added on each side (cropped off for metrics)

    def to_metric(self, X) -> np.ndarray:
        """Model-space images -> flat metric-space images in [-1, 1] (clipped, padding cropped)."""
        X = torch.as_tensor(X).detach().float().cpu().clamp(-1, 1)
        if self.pad:
            X = X[..., self.pad:-self.pad, self.pad:-self.pad]
        return X.reshape(len(X), -1).numpy()


def load_data(name: str, path, n_train: int | None) -> ImageData:
    """digits: flat 64-d vectors (the card's MLP); fashion28: 28x28 padded with background (-1) to 32x32
    (the card's full profile U-Net), in the canonical split of kexue.data.image_sets."""
    from kexue.data.image_sets import image_set

    Xtr, _, Xte, _ = image_set(name, path, n_train=n_train)
    if name == "digits":
        return ImageData(torch.from_numpy(Xtr), torch.from_numpy(Xte), (64,), "digits", 0)
    if name == "fashion28":
        pad = lambda A: torch.nn.functional.pad(torch.from_numpy(A).view(-1, 1, 28, 28), (2, 2, 2, 2), value=-1.0)  # noqa: E731
        return ImageData(pad(Xtr), pad(Xte), (1, 32, 32), "fashion28", 2)
    raise KexueError(f"data = {name!r}: choose 'digits' (default/smoke) or 'fashion28' (full)")


# ------------------------------------------------------------------------------------------------- models
def build_model(cfg: dict, norm: str, t_embed: str, seed: int) -> torch.nn.Module:
    """The card's denoiser: an MLP on flattened digits, or a U-Net with additive skips (full). The init is
    seeded so variants differing only in norm start from identical weights."""
    from kexue.nn.mlp_denoiser import MLPDenoiser
    from kexue.nn.unet import UNet

    torch.manual_seed(seed)
    if cfg["arch"] == "mlp":
        return MLPDenoiser(dim=cfg["dim"], hidden=cfg["hidden"], blocks=cfg["blocks"], t_dim=cfg["t_dim"],
                           t_embed=t_embed, num_steps=cfg["T"], norm=norm, groups=cfg["groups"])
    if cfg["arch"] == "unet":
        return UNet(in_channels=1, widths=cfg["unet_widths"], blocks=cfg["blocks"], t_dim=cfg["t_dim"],
                    t_embed=t_embed, num_steps=cfg["T"], norm=norm, groups=cfg["groups"], skip="add")
    raise KexueError(f"arch = {cfg['arch']!r}: choose 'mlp' or 'unet'")
