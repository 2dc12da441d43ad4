"""Per-sample gradient norms of a network without materialising per-sample gradients ("ghost norms").

    probe = PerSampleGradNorms(model)            # hooks every Linear and GroupNorm
    y = model(x, t)                              # one batched forward; losses must be per-sample
    g_sum, sq = probe.grads(loss_vec)            # flat sum over the batch of the per-sample gradients,
                                                 # and ||grad L_i||^2 for every sample i
    g_sum2, sq2 = probe.grads(other_loss_vec)    # several losses may reuse the same forward
    probe.close()

Why: the total gradient variance sum_p Var(g_p) = E||g||^2 - ||E g||^2 needs only the per-sample squared norms
and the batch sum, and for a Linear layer with per-sample input a_i and output gradient d_i the per-sample
weight gradient d_i a_i^T has squared norm ||d_i||^2 ||a_i||^2 (Goodfellow 2015). A [128, 2e5] matrix of
per-sample gradients (torch.func.vmap) costs ~10x a backward pass on a CPU; this costs one backward pass.

Requirements (checked, KexueError otherwise): every parameter belongs to an nn.Linear applied to 2-D input
[batch, features] or to an nn.GroupNorm; each such module runs once per forward; samples do not interact
(no BatchNorm), so the batch gradient of sum_i L_i has rows = per-sample gradients. Covers
kexue.nn.mlp_denoiser.MLPDenoiser with norm="group" and a sinusoidal time embedding; for other models use
torch.func (vmap(grad(...))).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kexue.errors import KexueError


class PerSampleGradNorms:
    def __init__(self, model: nn.Module):
        self.model = model
        self.modules: list[nn.Module] = []
        covered = set()
        for mod in model.modules():
            own = [p for p in mod.parameters(recurse=False) if p.requires_grad]
            if not own:
                continue
            if not isinstance(mod, (nn.Linear, nn.GroupNorm)):
                raise KexueError(f"PerSampleGradNorms: module {type(mod).__name__} holds parameters; only Linear and "
                                 "GroupNorm are supported (use torch.func.vmap(grad(...)) for this model)")
            self.modules.append(mod)
            covered.update(id(p) for p in own)
        self.params = [p for p in model.parameters() if p.requires_grad]
        if not self.params or any(id(p) not in covered for p in self.params):
            raise KexueError("PerSampleGradNorms: the model has no trainable parameters or some outside its modules")
        self.saved: dict[nn.Module, list] = {}
        self.seen: set = set()
        self.handles = [model.register_forward_pre_hook(lambda *a: self.seen.clear())]
        self.handles += [m.register_forward_hook(self._hook) for m in self.modules]

    def _hook(self, mod, inputs, out):
        x = inputs[0]
        if mod in self.seen:
            raise KexueError(f"PerSampleGradNorms: {type(mod).__name__} ran twice in one forward (weight sharing)")
        self.seen.add(mod)
        if isinstance(mod, nn.Linear):
            if x.dim() != 2:
                raise KexueError(f"PerSampleGradNorms: Linear got input of shape {tuple(x.shape)}; only 2-D "
                                 "[batch, features] inputs are supported")
            extra = (x.detach() ** 2).sum(1)                       # ||a_i||^2
        else:
            extra = F.group_norm(x.detach(), mod.num_groups, eps=mod.eps)  # x_hat (before the affine map)
        self.saved[mod] = [out, extra]

    def grads(self, loss_vec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(sum over samples of the per-sample gradients, flat float64 [n_params]; ||grad L_i||^2, float64 [B])
        for per-sample losses `loss_vec` [B] of the last forward (which is kept for further calls)."""
        if loss_vec.dim() != 1:
            raise KexueError(f"PerSampleGradNorms.grads: loss_vec must be [batch], got {tuple(loss_vec.shape)}")
        missing = [type(m).__name__ for m in self.modules if m not in self.saved]
        if missing:
            raise KexueError(f"PerSampleGradNorms: no forward recorded for {missing[:3]}; run the model first")
        mods = self.modules
        outs = [self.saved[m][0] for m in mods]
        g = torch.autograd.grad(loss_vec.sum(), self.params + outs, retain_graph=True, allow_unused=True)
        gp, gout = g[:len(self.params)], g[len(self.params):]
        B = loss_vec.shape[0]
        sq = torch.zeros(B, dtype=torch.float64, device=loss_vec.device)
        for m, d in zip(mods, gout):
            if d is None:  # the module does not influence this loss
                continue
            d = d.detach().double()
            extra = self.saved[m][1].double()
            if isinstance(m, nn.Linear):
                dd = (d ** 2).sum(1)
                sq += dd * extra + (dd if m.bias is not None else 0)
            else:  # GroupNorm: weight grad_i = sum over positions of x_hat * d, bias grad_i = sum of d
                red = tuple(range(2, d.dim()))
                gw = (extra * d).sum(red) if red else extra * d
                gb = d.sum(red) if red else d
                if m.weight is not None:
                    sq += (gw ** 2).sum(1)
                if m.bias is not None:
                    sq += (gb ** 2).sum(1)
        flat = torch.cat([(x if x is not None else torch.zeros_like(p)).reshape(-1).double()
                          for x, p in zip(gp, self.params)])
        return flat, sq

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.saved.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
