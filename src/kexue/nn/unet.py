"""A small U-Net epsilon-model for 1-channel images (8x8 digits, 14x14 / 28x28 Fashion-MNIST,
16x16 shapes, 32x32 padded Fashion-MNIST): (x_t [B, C, H, W], t) -> eps_hat [B, C, H, W].

    model = UNet(widths=(8, 16))           # article 10055's default: 2 resolutions (14 -> 7)
    eps_hat = model(x_t, t)                # t: number, 0-d or [B]; integer or continuous

Layout (DDPM-style, simplified as in article 9152: no attention, one skip per resolution,
skips added rather than concatenated by default):

    x -> conv3x3 -> level 0 ResBlocks ------------- skip0 -------------> (+) -> ResBlocks -> norm, SiLU, conv3x3
                      | conv3x3 stride 2                                   ^ nearest x2, conv3x3
                    level 1 ResBlocks ---- skip1 ----> (+) -> ResBlocks ---+
                      | conv3x3 stride 2                ^ nearest x2, conv3x3
                    level 2 ResBlocks -> mid ResBlock --+

    (widths = [w0, w1, w2] channels per level; `blocks` ResBlocks per level and direction;
    skip="concat" concatenates instead of adding, as in the DDPM paper.)

    ResBlock(x, temb) = shortcut(x) + conv(SiLU(norm2(conv(SiLU(norm1(x))) + Linear(SiLU(temb)))))

The time embedding is a per-channel bias added before norm2, so with norm="batch" in train
mode and one t shared by the batch, BatchNorm removes it exactly (card 9152 C8's failure mode).

Odd sizes. With L = len(widths) levels there are L-1 halvings, so H and W must be multiples of
2^(L-1) for the skips to line up. Other sizes are zero-padded symmetrically (the extra pixel,
if any, at the bottom/right) up to the next multiple and the output is cropped back: 14x14 with
widths of length 2 runs at 14 -> 7 unpadded, with length 3 it runs at 16 -> 8 -> 4; 28x28 with
length 3 runs unpadded (28 -> 14 -> 7). Padding rather than resizing keeps the net fully
convolutional (same local computation everywhere), which upsample guidance (card 10055)
relies on when a model trained at 14x14 is run at 28x28. Zeros match the convs' own padding.

The model is resolution-agnostic: the same weights run at any H, W (card 10055). Measured for
10055: a 3-resolution net trained at 14x14 pads to 16, its 4x4 bottleneck sees the border
everywhere, and at 28x28 its eps-MSE collapses to 0.98 (vs 0.48 at 14 px) even at t = 20; two
resolutions transfer (0.50 vs 0.55). Use 2 resolutions for train-small / sample-large.
Checkpoint helpers (config, check_state_dict, load_denoiser) live in kexue.nn.mlp_denoiser.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kexue.nn.mlp_denoiser import NORMS, make_norm
from kexue.nn.time_embedding import TimeEmbedding

SKIPS = ("add", "concat")


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, t_dim: int, norm: str, groups: int):
        super().__init__()
        self.norm1 = make_norm(norm, c_in, groups, spatial=True)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.temb = nn.Linear(t_dim, c_out)
        self.norm2 = make_norm(norm, c_out, groups, spatial=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()  # 1x1 when widths change

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        return self.shortcut(x) + self.conv2(F.silu(self.norm2(h)))


class UNet(nn.Module):
    def __init__(self, in_channels: int = 1, widths=(16, 32, 64), blocks: int = 1, t_dim: int = 64,
                 t_embed: str = "sinusoidal", num_steps: int = 1000, t_scale: float = 1.0,
                 norm: str = "group", groups: int = 8, skip: str = "add"):
        super().__init__()
        widths = [int(w) for w in widths]
        if not widths or min(widths) < 1:
            raise ValueError(f"UNet widths = {widths}: need at least one positive channel count, e.g. [16, 32, 64]")
        if blocks < 1 or in_channels < 1:
            raise ValueError(f"UNet blocks = {blocks}, in_channels = {in_channels}: both must be >= 1")
        if skip not in SKIPS:
            raise ValueError(f"UNet skip {skip!r}: choose one of {SKIPS}")
        if norm not in NORMS:
            raise ValueError(f"UNet norm {norm!r}: choose one of {NORMS}")
        self.config = {"arch": "unet", "in_channels": in_channels, "widths": widths, "blocks": blocks,
                       "t_dim": t_dim, "t_embed": t_embed, "num_steps": num_steps, "t_scale": float(t_scale),
                       "norm": norm, "groups": groups, "skip": skip}
        L = len(widths)
        self.multiple = 2 ** (L - 1)  # H, W are padded to a multiple of this
        res = lambda c_in, c_out: ResBlock(c_in, c_out, t_dim, norm, groups)  # noqa: E731

        self.time = TimeEmbedding(t_dim, t_embed, num_steps, t_scale)
        self.inp = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        ch = widths[0]
        for i, w in enumerate(widths):
            self.down.append(nn.ModuleList([res(ch if j == 0 else w, w) for j in range(blocks)]))
            ch = w
            if i < L - 1:
                self.downsample.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
        self.mid = res(ch, ch)
        # up path, coarsest first: level i = L-2 .. 0
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in reversed(range(L - 1)):
            w = widths[i]
            self.upsample.append(nn.Conv2d(widths[i + 1], w, 3, padding=1))
            c_first = 2 * w if skip == "concat" else w
            self.up.append(nn.ModuleList([res(c_first if j == 0 else w, w) for j in range(blocks)]))
        self.norm_out = make_norm(norm, widths[0], groups, spatial=True)
        self.out = nn.Conv2d(widths[0], in_channels, 3, padding=1)

    @classmethod
    def from_config(cls, config: dict) -> "UNet":
        return cls(**{k: v for k, v in config.items() if k != "arch"})

    def padding(self, h: int, w: int) -> tuple[int, int, int, int]:
        """(left, right, top, bottom) zero padding that makes h and w multiples of 2^(levels-1)."""
        m = self.multiple
        ph, pw = -h % m, -w % m
        return pw // 2, pw - pw // 2, ph // 2, ph - ph // 2

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        c = self.config["in_channels"]
        if x.dim() != 4 or x.shape[1] != c:
            raise ValueError(f"UNet(in_channels={c}) got x of shape {tuple(x.shape)}: pass [batch, {c}, H, W] "
                             f"(add the channel axis with x[:, None] for [batch, H, W] images)")
        H, W = x.shape[-2:]
        temb = self.time(t, batch=x.shape[0], device=x.device)
        pad = self.padding(H, W)
        h = self.inp(F.pad(x, pad) if any(pad) else x)
        skips = []
        for i, level in enumerate(self.down):
            for block in level:
                h = block(h, temb)
            if i < len(self.downsample):
                skips.append(h)
                h = self.downsample[i](h)
        h = self.mid(h, temb)
        for upsample, level in zip(self.upsample, self.up):
            h = upsample(F.interpolate(h, scale_factor=2.0, mode="nearest"))
            s = skips.pop()
            h = h + s if self.config["skip"] == "add" else torch.cat([h, s], dim=1)
            for block in level:
                h = block(h, temb)
        h = self.out(F.silu(self.norm_out(h)))
        left, _, top, _ = pad
        return h[..., top:top + H, left:left + W]
