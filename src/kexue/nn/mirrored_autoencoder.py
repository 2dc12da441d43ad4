"""Small mirrored encoder/decoder networks, and the GAN generator / critic made from their halves.

    ae = MirroredAutoencoder(AEConfig(kind="mlp", dim=64, widths=(256, 256), latent=16, skip=False))
    G = Decoder(cfg)                       # z ~ N(0, I_latent) -> image, output tanh in [-1, 1]
    D = Critic(cfg)                        # image -> encoder half -> linear head -> one score
    n_params(ae), n_params(G) + n_params(D)

Why one file for all three: a GAN "matched" to an autoencoder should have G = the decoder half and
D = the encoder half plus a scalar head (article 9969's parameter comparison, C9), so they are built
from the same layer lists and their parameter counts are comparable by construction.

- kind "mlp": flat images [n, dim]; dim -> widths... -> latent -> reversed(widths)... -> dim, LeakyReLU(0.2)
  between layers, tanh on the output (images live in [-1, 1]). No normalisation layers: BatchNorm would give
  real, f(z) and f(f(z)) batches different statistics (IGN applies one network to all three).
- kind "conv" (DCGAN-like, square one-channel images, side divisible by 4): Conv 4x4 stride 2 twice
  (side -> side/2 -> side/4, channels widths[0], widths[1]), a linear map to the latent, mirrored by a linear map
  and two transposed convs. Inputs and outputs stay flat [n, side*side] so both kinds are interchangeable.
- skip=True adds each encoder layer's activation to the input of its mirror decoder layer (additive U-Net
  skips). With skips the identity map is easy to represent for every input — the point of article 9969's C8.
- Init: Kaiming-normal for LeakyReLU(slope), zero biases. PyTorch's default init shrinks the activation scale
  layer by layer, so an untrained 5-layer autoencoder maps every input to nearly the same image (output std
  ~0.01): IGN then starts at a collapsed point and its idempotence term keeps it there (DCGAN avoids this with
  BatchNorm, which this family deliberately has not). The variance-preserving init starts from diverse outputs.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from kexue.errors import KexueError


@dataclass(frozen=True)
class AEConfig:
    kind: str = "mlp"            # "mlp" | "conv"
    dim: int = 64                # flat image size (side*side)
    widths: tuple = (256, 256)   # hidden widths (mlp) or channels (conv), encoder order
    latent: int = 16
    skip: bool = False
    slope: float = 0.2           # LeakyReLU negative slope

    def __post_init__(self):
        if self.kind not in ("mlp", "conv"):
            raise KexueError(f"AEConfig kind = {self.kind!r}: choose 'mlp' or 'conv'")
        if self.dim < 1 or self.latent < 1 or not self.widths or min(self.widths) < 1:
            raise KexueError(f"AEConfig dim = {self.dim}, latent = {self.latent}, widths = {self.widths}: "
                             "all must be positive and widths non-empty")
        if self.kind == "conv":
            side = math.isqrt(self.dim)
            if side * side != self.dim or side % 4:
                raise KexueError(f"AEConfig kind='conv' needs a square image whose side is divisible by 4; "
                                 f"dim = {self.dim}")
            if len(self.widths) != 2:
                raise KexueError(f"AEConfig kind='conv' takes two channel widths, got {self.widths}")

    @property
    def side(self) -> int:
        return math.isqrt(self.dim)


def _encoder_layers(cfg: AEConfig) -> nn.ModuleList:
    if cfg.kind == "mlp":
        dims = [cfg.dim, *cfg.widths, cfg.latent]
        return nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
    c1, c2, s4 = cfg.widths[0], cfg.widths[1], cfg.side // 4
    return nn.ModuleList([nn.Conv2d(1, c1, 4, 2, 1), nn.Conv2d(c1, c2, 4, 2, 1),
                          nn.Sequential(nn.Flatten(), nn.Linear(c2 * s4 * s4, cfg.latent))])


def _decoder_layers(cfg: AEConfig) -> nn.ModuleList:
    if cfg.kind == "mlp":
        dims = [cfg.latent, *reversed(cfg.widths), cfg.dim]
        return nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
    c1, c2, s4 = cfg.widths[0], cfg.widths[1], cfg.side // 4
    return nn.ModuleList([nn.Sequential(nn.Linear(cfg.latent, c2 * s4 * s4), nn.Unflatten(1, (c2, s4, s4))),
                          nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ConvTranspose2d(c1, 1, 4, 2, 1)])


class _Net(nn.Module):
    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg = cfg
        self.act = nn.LeakyReLU(cfg.slope)

    @property
    def config(self) -> dict:
        return asdict(self.cfg)

    def _in(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.cfg.dim:
            raise KexueError(f"input has shape {tuple(x.shape)}; expected flat images [n, {self.cfg.dim}]")
        return x.view(-1, 1, self.cfg.side, self.cfg.side) if self.cfg.kind == "conv" else x

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations of every encoder layer; the last one (the latent) is linear."""
        hs, h = [], self._in(x)
        for i, layer in enumerate(self.enc):
            h = layer(h)
            if i < len(self.enc) - 1:
                h = self.act(h)
            hs.append(h)
        return hs

    def _decode(self, z: torch.Tensor, skips: list[torch.Tensor] | None = None) -> torch.Tensor:
        h = z
        for i, layer in enumerate(self.dec):
            if skips is not None and i > 0:
                h = h + skips[-i]               # decoder layer i-1's output mirrors encoder activation L-1-i
            h = layer(h)
            h = self.act(h) if i < len(self.dec) - 1 else torch.tanh(h)
        return h.reshape(len(h), -1)


class MirroredAutoencoder(_Net):
    """x -> encoder -> latent -> decoder -> tanh; same shape in and out (IGN's f)."""

    def __init__(self, cfg: AEConfig):
        super().__init__(cfg)
        self.enc, self.dec = _encoder_layers(cfg), _decoder_layers(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hs = self._encode(x)
        return self._decode(hs[-1], hs[:-1] if self.cfg.skip else None)


class Decoder(_Net):
    """GAN generator: the decoder half, z ~ N(0, I_latent) -> image."""

    def __init__(self, cfg: AEConfig):
        super().__init__(cfg)
        self.dec = _decoder_layers(cfg)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.cfg.latent:
            raise KexueError(f"latent has shape {tuple(z.shape)}; expected [n, {self.cfg.latent}]")
        return self._decode(z)


class Critic(_Net):
    """GAN discriminator / critic: the encoder half (activation on the latent too) plus a linear scalar head."""

    def __init__(self, cfg: AEConfig):
        super().__init__(cfg)
        self.enc = _encoder_layers(cfg)
        self.head = nn.Linear(cfg.latent, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.act(self._encode(x)[-1])).squeeze(-1)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build(name: str, cfg: AEConfig, seed: int, dtype=torch.float32) -> nn.Module:
    """A freshly initialised network ("autoencoder" | "decoder" | "critic") whose init depends only on seed."""
    cls = {"autoencoder": MirroredAutoencoder, "decoder": Decoder, "critic": Critic}
    if name not in cls:
        raise KexueError(f"network {name!r}: choose one of {', '.join(cls)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = cls[name](cfg)
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, a=cfg.slope)
                nn.init.zeros_(m.bias)
        return net.to(dtype)
