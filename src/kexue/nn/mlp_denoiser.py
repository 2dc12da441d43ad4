"""An MLP epsilon-model for flattened small images (digits 8x8 = 64, Fashion-MNIST 14x14 = 196
or 28x28 = 784) and low-dimensional toy data (2-D mixtures): (x_t, t) -> eps prediction.

    model = MLPDenoiser(dim=64)                    # article 9152 default: ~0.5M parameters
    eps_hat = model(x_t, t)                        # x_t [B, 64] or [B, 1, 8, 8]; same shape back

Architecture (card 9152, "Model. default"):
    h = Linear(dim -> hidden)(x)
    repeat `blocks` times (pre-norm residual block, time added inside every block):
        u = Linear(SiLU(norm1(h)));  u = u + Linear(SiLU(temb));  h = h + Linear(SiLU(norm2(u)))
    eps_hat = Linear(hidden -> dim)(SiLU(norm_out(h)))

The time embedding enters as a per-feature bias right before norm2. That is deliberate: with
norm="batch" in train mode and a batch that shares one t (a sampler's batch), BatchNorm
subtracts that bias exactly, so the network cannot see t at all: the mechanism behind
card 9152 C8 (tests/test_denoisers.py checks f(x, t) is then independent of t).

Checkpoints: every denoiser here has a `config` dict (JSON-friendly, includes "arch") that
rebuilds it: `build_denoiser(config)`. Save `denoiser_payload(model)` and restore with
`load_denoiser(payload)`; `check_state_dict(model, state)` refuses a state_dict from another
architecture or size with CheckpointMismatchError naming the keys/shapes and the fix.
Conventions for t: see kexue.nn.time_embedding.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from kexue.errors import KexueError
from kexue.nn.time_embedding import TimeEmbedding, as_time_batch

NORMS = ("group", "batch", "layer", "none")


class CheckpointMismatchError(KexueError, ValueError):
    """A state_dict that does not belong to this model (a KexueError for the CLI, a ValueError for nn code)."""


def make_norm(kind: str, channels: int, groups: int, spatial: bool) -> nn.Module:
    """GroupNorm(groups) / BatchNorm / LayerNorm-like GroupNorm(1) / Identity over `channels`.

    GroupNorm and "layer" normalise each sample on its own; BatchNorm uses batch statistics in
    train mode (the article 9152 ablation: the author warns against it)."""
    if kind not in NORMS:
        raise ValueError(f"norm {kind!r}: choose one of {NORMS}")
    if kind == "group":
        if groups < 1 or channels % groups:
            raise ValueError(f"norm='group' with groups = {groups}: {channels} channels are not divisible by it; "
                             f"pick groups dividing every width (e.g. {math.gcd(channels, max(groups, 1))})")
        return nn.GroupNorm(groups, channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels) if spatial else nn.BatchNorm1d(channels)
    return nn.Identity()


class ResidualBlock(nn.Module):
    def __init__(self, hidden: int, t_dim: int, norm: str, groups: int):
        super().__init__()
        self.norm1 = make_norm(norm, hidden, groups, spatial=False)
        self.lin1 = nn.Linear(hidden, hidden)
        self.temb = nn.Linear(t_dim, hidden)
        self.norm2 = make_norm(norm, hidden, groups, spatial=False)
        self.lin2 = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        u = self.lin1(torch.nn.functional.silu(self.norm1(h)))
        u = u + self.temb(torch.nn.functional.silu(temb))
        return h + self.lin2(torch.nn.functional.silu(self.norm2(u)))


class MLPDenoiser(nn.Module):
    """(x_t [B, dim] or [B, *shape] with prod(shape) = dim, t) -> eps_hat of x_t's shape."""

    def __init__(self, dim: int = 64, hidden: int = 256, blocks: int = 3, t_dim: int = 128,
                 t_embed: str = "sinusoidal", num_steps: int = 1000, t_scale: float = 1.0,
                 norm: str = "group", groups: int = 32):
        super().__init__()
        for name, v in (("dim", dim), ("hidden", hidden), ("t_dim", t_dim)):
            if v < 1:
                raise ValueError(f"MLPDenoiser {name} = {v}: must be >= 1")
        if blocks < 0:
            raise ValueError(f"MLPDenoiser blocks = {blocks}: must be >= 0")
        self.config = {"arch": "mlp_denoiser", "dim": dim, "hidden": hidden, "blocks": blocks, "t_dim": t_dim,
                       "t_embed": t_embed, "num_steps": num_steps, "t_scale": float(t_scale), "norm": norm,
                       "groups": groups}
        self.time = TimeEmbedding(t_dim, t_embed, num_steps, t_scale)
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList([ResidualBlock(hidden, t_dim, norm, groups) for _ in range(blocks)])
        self.norm_out = make_norm(norm, hidden, groups, spatial=False)
        self.out = nn.Linear(hidden, dim)

    @classmethod
    def from_config(cls, config: dict) -> "MLPDenoiser":
        return cls(**{k: v for k, v in config.items() if k != "arch"})

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        dim = self.config["dim"]
        if x.dim() < 2 or x[0].numel() != dim:
            raise ValueError(f"MLPDenoiser(dim={dim}) got x of shape {tuple(x.shape)}: pass [batch, {dim}] or "
                             f"[batch, *image] with {dim} values per sample")
        temb = self.time(t, batch=x.shape[0], device=x.device)
        h = self.inp(x.flatten(1))
        for block in self.blocks:
            h = block(h, temb)
        return self.out(torch.nn.functional.silu(self.norm_out(h))).view_as(x)


# ---- checkpoints: config + state_dict, refused with a clear message when they do not fit ----

def denoiser_payload(model: nn.Module) -> dict:
    """What to torch.save: {"config": ..., "state_dict": ...} (loads with weights_only=True)."""
    return {"config": dict(model.config), "state_dict": model.state_dict()}


def build_denoiser(config: dict) -> nn.Module:
    """A fresh (untrained) model from a `config` dict, dispatching on config["arch"]."""
    from kexue.nn.unet import UNet  # here, not at the top: unet imports this module

    archs = {"mlp_denoiser": MLPDenoiser, "unet": UNet}
    arch = config.get("arch")
    if arch not in archs:
        raise CheckpointMismatchError(f"denoiser config has arch = {arch!r}: expected one of {sorted(archs)}; "
                                      f"the checkpoint was not written by kexue.nn (delete it and retrain)")
    try:
        return archs[arch].from_config(config)
    except TypeError as e:  # a key this version does not know (or lacks): written by other code
        raise CheckpointMismatchError(f"denoiser config {config} does not fit {archs[arch].__name__} ({e}); the "
                                      f"checkpoint was written by other code: delete it and retrain") from None


def check_state_dict(model: nn.Module, state: dict) -> None:
    """Raise CheckpointMismatchError unless `state` (a payload or a bare state_dict) fits `model`.

    Compares the saved config with model.config first (the clearest message), then the keys and
    tensor shapes. Run it before load_state_dict, whose strict error lists keys but not the fix."""
    cfg = getattr(model, "config", {})
    fix = ("rebuild the model from the checkpoint's own config (kexue.nn.mlp_denoiser.load_denoiser(payload)), "
           "or delete the checkpoint if the params changed on purpose")
    problems = []
    if "state_dict" in state and "config" in state:
        saved = state["config"]
        if saved.get("arch") != cfg.get("arch"):
            raise CheckpointMismatchError(
                f"checkpoint is a {saved.get('arch')!r} denoiser ({_brief(saved)}) but this model is a "
                f"{cfg.get('arch', type(model).__name__)!r} ({_brief(cfg)}): another architecture. Fix: {fix}.")
        diff = [f"{k}: checkpoint {saved.get(k)!r} vs model {cfg.get(k)!r}"
                for k in sorted(set(saved) | set(cfg)) if saved.get(k) != cfg.get(k)]
        if diff:
            problems.append("config differs (" + "; ".join(diff) + ")")
        state = state["state_dict"]
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
              if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    for label, items in (("missing keys", missing), ("unexpected keys", extra),
                         ("shape mismatches (checkpoint vs model)", shapes)):
        if items:
            more = f" ... (+{len(items) - 6} more)" if len(items) > 6 else ""
            problems.append(f"{label}: {', '.join(items[:6])}{more}")
    if problems:
        name = cfg.get("arch", type(model).__name__)
        raise CheckpointMismatchError(f"checkpoint does not fit this {name} model: " + " | ".join(problems)
                                      + f". Fix: {fix}.")


def _brief(config: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items() if k != "arch")


def load_denoiser(payload: dict, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild from payload["config"], check and load payload["state_dict"]; returns the model in eval mode."""
    if not isinstance(payload, dict) or "config" not in payload or "state_dict" not in payload:
        keys = sorted(payload)[:6] if isinstance(payload, dict) else "-"
        raise CheckpointMismatchError("denoiser payload must be a dict with 'config' and 'state_dict' "
                                      "(written by kexue.nn.mlp_denoiser.denoiser_payload); got "
                                      f"{type(payload).__name__} with keys {keys}")
    model = build_denoiser(payload["config"])
    check_state_dict(model, payload)
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval()


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MLPDenoiser", "CheckpointMismatchError", "check_state_dict", "build_denoiser", "load_denoiser",
           "denoiser_payload", "make_norm", "n_params", "NORMS", "as_time_batch"]
