"""The eps-prediction (denoising) loss and the x0 / eps / score conversions.

Conventions (see schedules.py): x_t = abar_t x_0 + bbar_t eps with abar, bbar STDS; the network predicts the
TOTAL noise eps (card 9152's \\hat\\epsilon; the article's per-step \\epsilon_\\theta is (beta_t/bbar_t) times it).
Since E[eps | x_t] = -bbar_t grad log p_t(x_t) (Tweedie), the three parameterisations convert exactly:

    score = -eps / bbar          x0 = (x_t - bbar eps) / abar          eps = (x_t - abar x0) / bbar

`t` is a float or a per-sample (B,) tensor everywhere; coefficients broadcast over the non-batch dims.
Bf16 autocast is the caller's business; the arithmetic here follows the input dtype.
"""
from __future__ import annotations

import torch

from kexue.diffusion.schedules import DiscreteSchedule, Schedule, expand_like
from kexue.errors import KexueError

REDUCTIONS = ("sum", "mean", "none")


def sample_t(schedule: Schedule, n: int, generator: torch.Generator | None = None,
             device=None, dtype=torch.float32, continuous: bool = False) -> torch.Tensor:
    """Training times: integers uniform in 1..T for a discrete schedule, U[t_min, t_max] for a continuous one
    (or for a discrete one with continuous=True: card 10055 trains on the interpolated schedule, t ~ U(0, T])."""
    gdev = generator.device if generator is not None else device
    if schedule.discrete and not continuous:
        t = torch.randint(1, schedule.T + 1, (n,), generator=generator, device=gdev).to(dtype)
    else:
        u = torch.rand(n, generator=generator, device=gdev, dtype=torch.float64)
        t = (schedule.t_min + u * (schedule.t_max - schedule.t_min)).to(dtype)
    return t.to(device) if device is not None else t


def noisy(schedule: Schedule, x0: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
    """x_t = abar_t x0 + bbar_t eps."""
    return expand_like(schedule.abar(t), x0) * x0 + expand_like(schedule.bbar(t), x0) * eps


def eps_loss(eps_model, x0: torch.Tensor, t, schedule: Schedule, eps: torch.Tensor | None = None,
             reduction: str = "sum", generator: torch.Generator | None = None) -> torch.Tensor:
    """E ||eps - eps_model(abar_t x0 + bbar_t eps, t)||^2 (the unweighted DDPM loss).

    reduction: "sum" = squared Euclidean norm per sample (summed over all non-batch dims), then the batch mean
    (card 9152's choice); "mean" = mean over every element (= "sum" / d exactly); "none" = per-sample sums (B,).
    Pass `eps` to reuse noise (common random numbers across models, card 9467 C3), else it is drawn here.
    """
    if reduction not in REDUCTIONS:
        raise KexueError(f"eps_loss reduction = {reduction!r}: choose one of {REDUCTIONS}")
    if eps is None:
        gdev = generator.device if generator is not None else x0.device
        eps = torch.randn(x0.shape, generator=generator, device=gdev, dtype=x0.dtype).to(x0.device)
    elif eps.shape != x0.shape:
        raise KexueError(f"eps_loss: eps has shape {tuple(eps.shape)}, x0 has {tuple(x0.shape)}; they must match")
    t = torch.as_tensor(t, device=x0.device)
    if t.dim() == 0:
        t = t.expand(x0.shape[0])
    pred = eps_model(noisy(schedule, x0, t, eps), t)
    if pred.shape != x0.shape:
        raise KexueError(f"eps_loss: eps_model returned shape {tuple(pred.shape)} for input {tuple(x0.shape)}")
    per = (pred - eps).pow(2).flatten(1).sum(1)
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.mean()
    return per.mean() / x0[0].numel()


def x0_from_eps(schedule: Schedule, x_t: torch.Tensor, t, eps: torch.Tensor) -> torch.Tensor:
    return (x_t - expand_like(schedule.bbar(t), x_t) * eps) / expand_like(schedule.abar(t), x_t)


def eps_from_x0(schedule: Schedule, x_t: torch.Tensor, t, x0: torch.Tensor) -> torch.Tensor:
    return (x_t - expand_like(schedule.abar(t), x_t) * x0) / expand_like(schedule.bbar(t), x_t)


def score_from_eps(schedule: Schedule, eps: torch.Tensor, t) -> torch.Tensor:
    return -eps / expand_like(schedule.bbar(t), eps)


def eps_from_score(schedule: Schedule, score: torch.Tensor, t) -> torch.Tensor:
    return -expand_like(schedule.bbar(t), score) * score


def x0_from_score(schedule: Schedule, x_t: torch.Tensor, t, score: torch.Tensor) -> torch.Tensor:
    """Tweedie: E[x0 | x_t] = (x_t + bbar_t^2 grad log p_t(x_t)) / abar_t."""
    return (x_t + expand_like(schedule.bbar(t) ** 2, x_t) * score) / expand_like(schedule.abar(t), x_t)


def article_eps_from_total(schedule: DiscreteSchedule, eps_total: torch.Tensor, t) -> torch.Tensor:
    """Card 9152's per-step \\epsilon_\\theta = (beta_t / bbar_t) \\hat\\epsilon (the total-noise predictor);
    with it the ancestral mean is (x_t - beta_t eps_theta)/alpha_t, with \\hat\\epsilon it is (x_t - beta_t^2/bbar_t eps)/alpha_t."""
    return expand_like(schedule.beta_step(t) / schedule.bbar(t), eps_total) * eps_total
