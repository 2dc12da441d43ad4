"""The trained part of article 9152: data, eps-models and their variants, ancestral sampling, metrics, and the
two estimator studies (C3b merged vs two-noise loss, C10 gradient underflow of sum vs mean reduction).

Conventions (kexue.diffusion): the network eps_hat predicts the TOTAL noise of x_t = abar_t x0 + bbar_t eps;
the article's per-step eps_theta = (beta_t / bbar_t) eps_hat. Images live in [-1, 1].

    (data, schedule and model builders: kexue.ddpm_vae_models)
    X = sample_images(model, sched, n, shape, chunk=500, sigma="beta", seed=s)   # common random numbers
    grad_noise_study(model, data.train, sched, ts, n, chunk, seed)                # C3b
    underflow_fractions(model, data.train, sched, reduction, ...)                  # C10

Sampling uses common random numbers: chunk c of every model draws its x_T and step noise from a generator
seeded (seed, c), so two models (or two sigma choices) compared at the same n see the same noise and their
FD difference is not inflated by independent sampling noise. A chunk is also the batch that shares one t,
which is what BatchNorm in train mode normalises over (C8).
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch

from kexue.diffusion.samplers import ddpm
from kexue.diffusion.schedules import DiscreteSchedule
from kexue.errors import KexueError

UNDERFLOW = 6e-8  # the smallest fp16 subnormal is 2^-24 = 5.96e-8: below it a gradient entry becomes 0


# ------------------------------------------------------------------------------------------------- sampling
@torch.no_grad()
def sample_images(model: torch.nn.Module, sched: DiscreteSchedule, n: int, shape: tuple, *, chunk: int,
                  sigma: str = "beta", seed: int = 0, train_mode: bool = False, device: str = "cpu",
                  traj_times=(), traj_n: int = 0):
    """n ancestral samples (card 9152: all T steps, no noise at the last step), in chunks of `chunk`.

    train_mode: run the network in train mode (BatchNorm uses the statistics of the chunk, whose samples
    share one t); on a copy, so running statistics of `model` are untouched. traj_times: also return
    x_t at these t (T = the starting noise, 0 = the result) for the first traj_n samples of chunk 0."""
    if n < 1 or chunk < 1:
        raise KexueError(f"sample_images: n = {n}, chunk = {chunk}: both must be >= 1")
    net = copy.deepcopy(model).to(device)
    net.train(train_mode)
    want = {int(t) for t in traj_times}
    traj: dict[int, torch.Tensor] = {}
    record = bool(want and traj_n)

    def keep(t, x):  # the sampler's callback: x = x_t after each step
        if t in want:
            traj[t] = x[:traj_n].cpu().clone()

    out = []
    for c in range(math.ceil(n / chunk)):
        m = min(chunk, n - c * chunk)
        g = torch.Generator().manual_seed(int(seed) * 100_003 + c)
        x_T = torch.randn((m, *shape), generator=g).to(device)
        if c == 0 and record:
            keep(sched.T, x_T)
        x, _ = ddpm(lambda x, t: net(x, t), x_T, sched, sigma=sigma, generator=g,
                    callback=keep if c == 0 and record else None)
        out.append(x.cpu())
    X = torch.cat(out)
    if not torch.isfinite(X).all():
        raise KexueError("sampling produced NaN/inf: the model diverged (check its training loss)")
    if record:
        order = sorted(traj, reverse=True)
        return X, torch.stack([traj[t] for t in order], 1), order
    return X


# ------------------------------------------------------------------------------------------------- C3b
def _vmap_grads(model: torch.nn.Module):
    """Fallback for models PerSampleGradNorms does not cover (the U-Net of the full profile, on a GPU):
    returns f(xt, t, loss_fn) -> per-sample flat gradients [B, P] via torch.func."""
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def per_sample(xt, t, target, coef):
        def loss(p, x, y):
            e = functional_call(model, (p, buffers), (x[None], torch.full((1,), t, device=x.device)))[0]
            return ((y - coef * e.double()) ** 2).sum()
        G = vmap(grad(loss), (None, 0, 0))(params, xt, target)
        return torch.cat([v.reshape(v.shape[0], -1) for v in G.values()], 1).double()
    return per_sample


def grad_noise_study(model: torch.nn.Module, X: torch.Tensor, sched: DiscreteSchedule, ts, n: int, chunk: int,
                     seed: int) -> list[dict]:
    """At each t: per-sample losses and parameter gradients of the two estimators of the step-t VAE term,
    weighted with sigma_t = beta_t (weight beta_t^2/(alpha_t^2 sigma_t^2) = 1/alpha_t^2):

        two-noise  L2 = w ||eps_t - (beta_t/bbar_t) eps_hat(x_t)||^2,   x_t = abar_t x0 + alpha_t bbar_{t-1} ebar + beta_t eps_t
        merged     L1 = w (beta_t/bbar_t)^2 ||eps - eps_hat(x_t)||^2,    eps = (alpha_t bbar_{t-1} ebar + beta_t eps_t)/bbar_t

    on the SAME draws (so x_t is shared). Theory: L2 - L1 = w c^2 ||w'||^2 - 2 w r c w'.(eps - eps_hat) with
    r = beta_t/bbar_t, c = alpha_t bbar_{t-1}/bbar_t and w' ~ N(0, I) independent of (x0, eps): so
    E[L2 - L1] = w d c^2 (theta-free), equal expected gradients, and grad L2 = grad L1 + an uncorrelated zero-mean
    term, i.e. Var(grad L1) <= Var(grad L2) per parameter.

    Returns per t: the paired difference (mean, SE, prediction); the cosine of the two mean gradients; total
    gradient variances (sum over parameters) and per-chunk estimates (bootstrap unit); and, because the cosine of two
    Monte Carlo means is < 1 even when the expectations agree, the test statistic
    n ||mean(g2) - mean(g1)||^2 / tr Cov(g2 - g1) (about 1 when E g2 = E g1), the cosine expected under that
    equality at this n, and the n at which that expected cosine would reach 0.99."""
    from kexue.per_sample_grad_norms import PerSampleGradNorms

    if n < 2 * chunk or chunk < 2 or n % chunk:
        raise KexueError(f"grad_noise_study: n = {n} must be a multiple of chunk = {chunk} >= 2, with >= 2 chunks")
    model = model.eval()
    try:
        probe, vm = PerSampleGradNorms(model), None
    except KexueError:
        probe, vm = None, _vmap_grads(model)
    dev = next(model.parameters()).device
    d = X[0].numel()
    rows = []
    try:
        for k, t in enumerate(ts):
            t = int(t)
            if not 2 <= t <= sched.T:
                raise KexueError(f"grad_noise_study t = {t}: needs 2 <= t <= T (at t = 1 both estimators coincide)")
            al, be = float(sched.alpha_step(t)), float(sched.beta_step(t))
            ab_t, bb_t, bb1 = float(sched.abar(t)), float(sched.bbar(t)), float(sched.bbar(t - 1))
            w, r, c = 1 / al ** 2, be / bb_t, al * bb1 / bb_t
            g = torch.Generator().manual_seed(int(seed) * 7919 + k)
            S = {1: 0.0, 2: 0.0}                 # sums of per-sample gradients (flat, float64)
            Q = {1: 0.0, 2: 0.0, "d": 0.0}       # sums of per-sample squared norms
            chunk_var = {1: [], 2: []}
            diffs = []
            for _ in range(n // chunk):
                x0 = X[torch.randint(len(X), (chunk,), generator=g)].double()
                ebar = torch.randn(x0.shape, generator=g, dtype=torch.float64)
                et = torch.randn(x0.shape, generator=g, dtype=torch.float64)
                xt = ab_t * x0 + al * bb1 * ebar + be * et
                eps = (al * bb1 * ebar + be * et) / bb_t
                tv = torch.full((chunk,), float(t), device=dev)
                if probe is not None:
                    e = model(xt.float().to(dev), tv).double().cpu()
                    L1 = w * r * r * ((eps - e) ** 2).flatten(1).sum(1)
                    L2 = w * ((et - r * e) ** 2).flatten(1).sum(1)
                    (s1, q1), (s2, q2) = probe.grads(L1), probe.grads(L2)
                    _, qd = probe.grads(L2 - L1)
                else:
                    G1 = vm(xt.float().to(dev), float(t), (eps * math.sqrt(w) * r).to(dev), math.sqrt(w) * r)
                    G2 = vm(xt.float().to(dev), float(t), (et * math.sqrt(w)).to(dev), math.sqrt(w) * r)
                    s1, s2, q1, q2 = G1.sum(0), G2.sum(0), (G1 ** 2).sum(1), (G2 ** 2).sum(1)
                    qd = ((G2 - G1) ** 2).sum(1)
                    with torch.no_grad():
                        e = model(xt.float().to(dev), tv).double().cpu()
                    L1 = w * r * r * ((eps - e) ** 2).flatten(1).sum(1)
                    L2 = w * ((et - r * e) ** 2).flatten(1).sum(1)
                diffs.append((L2 - L1).detach().cpu().numpy())
                for key, s_, q_ in ((1, s1, q1), (2, s2, q2)):
                    S[key] = S[key] + s_.cpu()
                    Q[key] = Q[key] + float(q_.sum())
                    chunk_var[key].append((float(q_.sum()) - float(s_ @ s_) / chunk) / (chunk - 1))
                Q["d"] = Q["d"] + float(qd.sum())
            var = {key: (Q[key] - float(S[key] @ S[key]) / n) / (n - 1) for key in (1, 2)}
            SD = S[2] - S[1]
            var_d = (Q["d"] - float(SD @ SD) / n) / (n - 1)
            m1, m2 = S[1] / n, S[2] / n
            cos = float(m1 @ m2 / (m1.norm() * m2.norm()))
            # ||E g||^2 (unbiased) and the cosine expected if E g2 = E g1 exactly (g2 = g1 + uncorrelated noise)
            mu2 = float(m1 @ m1) - var[1] / n
            cos_h0 = math.sqrt(float(m1 @ m1) / (float(m1 @ m1) + max(var[2] - var[1], 0.0) / n))
            n_needed = ((0.9801 * var[2] - var[1]) / (0.0199 * mu2)) if mu2 > 0 else None
            dd = np.concatenate(diffs)
            rows.append({"t": t, "n": int(n), "weight": w, "diff_mean": float(dd.mean()),
                         "diff_se": float(dd.std(ddof=1) / math.sqrt(len(dd))), "diff_pred": w * d * c * c,
                         "cos_mean_grads": cos, "cos_expected_if_equal": cos_h0, "n_for_cos_0.99": n_needed,
                         "equal_means_stat": float(SD @ SD) / n / var_d, "mean_grad_sq_norm": mu2,
                         "var_merged": var[1], "var_two": var[2], "var_ratio": var[1] / var[2],
                         "chunk_var_merged": chunk_var[1], "chunk_var_two": chunk_var[2]})
    finally:
        if probe is not None:
            probe.close()
    return rows


def c3b_times(T: int, k: int) -> list[int]:
    """k distinct integer t, roughly log-spaced over [2, T] (t = 1 excluded: there bbar_0 = 0 and the two
    estimators are the same)."""
    if k < 1 or T < 2:
        raise KexueError(f"c3b_times: need k >= 1 and T >= 2, got k = {k}, T = {T}")
    k = min(k, T - 1)
    vals = sorted({int(round(v)) for v in np.geomspace(2, T, k)})
    extra = [v for v in range(2, T + 1) if v not in vals]
    while len(vals) < k:  # rounding merged some small t: fill with the smallest unused ones
        vals = sorted(vals + [extra.pop(0)])
    return vals


# ------------------------------------------------------------------------------------------------- C10
def underflow_fractions(model: torch.nn.Module, X: torch.Tensor, sched: DiscreteSchedule, reduction: str,
                        n_batches: int, batch: int, seed: int, scales=(1.0,)) -> dict:
    """Fraction of parameter-gradient entries with |g| < UNDERFLOW (fp16's smallest subnormal) for the
    training loss with `reduction`, over n_batches fresh batches (t ~ U{1..T}), fp32.

    scales: also the fraction of |g / s| < UNDERFLOW, i.e. what dividing this gradient by s would do (s = d is the
    sum -> mean change at this resolution, larger s mimics more pixels)."""
    from kexue.diffusion.losses import eps_loss, sample_t

    if n_batches < 2:
        raise KexueError(f"underflow_fractions n_batches = {n_batches}: need >= 2 for an interval")
    model = model.train()  # the training-time gradient (GroupNorm models behave the same in both modes)
    fr = {float(s): [] for s in scales}
    for b in range(n_batches):
        g = torch.Generator().manual_seed(int(seed) * 31337 + b)
        x0 = X[torch.randint(len(X), (batch,), generator=g)]
        t = sample_t(sched, batch, generator=g)
        eps = torch.randn(x0.shape, generator=g)
        model.zero_grad(set_to_none=True)
        eps_loss(model, x0, t, sched, eps=eps, reduction=reduction).backward()
        G = torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None]).abs()
        for s in fr:
            fr[s].append(float((G / s < UNDERFLOW).double().mean()))
    model.zero_grad(set_to_none=True)
    model.eval()
    return {"reduction": reduction, "n_batches": n_batches, "batch": batch,
            "fractions": {f"{s:g}": v for s, v in fr.items()}}
