"""C9 of article 10588: does Adam's sqrt(v_hat) track the Hessian diagonal near a real network minimum?

Recipe (card): a small tanh MLP regresses one-hot digit labels (MSE, mean over all outputs) with
an L2 penalty 1/2 * l2 * ||theta||^2 -- cross-entropy on separable data has no strict minimum, its
Hessian decays to ~1e-11. L-BFGS (strong Wolfe) converges to the minimum, the exact Hessian is
formed from autograd (all parameters, full batch, float64) and its smallest eigenvalue is checked,
then Adam starts from the minimum + N(0, noise^2) and sqrt(v_hat) is time-averaged over the second
half of the steps, once with the full batch and once with minibatches.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from kexue.errors import KexueError
from kexue.nn.mlp import MLP
from kexue.train import TrainLoop, batch_generator


def make_problem(X: np.ndarray, y: np.ndarray, n_train: int, hidden: int, seed: int, device: str = "cpu"):
    """The first `n_train` examples (float64 inputs, one-hot targets) and a seeded float64 MLP."""
    if n_train > len(y):
        raise KexueError(f"n_train = {n_train} exceeds the {len(y)} available examples")
    Xt = torch.tensor(X[:n_train], dtype=torch.float64, device=device)
    Yt = F.one_hot(torch.tensor(y[:n_train], device=device), 10).to(torch.float64)
    torch.manual_seed(seed)
    model = MLP(X.shape[1], hidden, 1, 10, activation="tanh").to(device=device, dtype=torch.float64)
    return Xt, Yt, model


def loss_fn(model: nn.Module, X, Y, l2: float, params=None):
    out = model(X) if params is None else functional_call(model, params, (X,))
    ps = model.parameters() if params is None else params.values()
    return F.mse_loss(out, Y) + 0.5 * l2 * sum((p * p).sum() for p in ps)


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def lbfgs_minimum(model, X, Y, l2: float, max_iter: int) -> dict:
    """Run L-BFGS (strong Wolfe) to the minimum; returns the final loss and gradient norm."""
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=max_iter, max_eval=2 * max_iter,
                            tolerance_grad=1e-12, tolerance_change=1e-16, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        L = loss_fn(model, X, Y, l2)
        L.backward()
        return L

    opt.step(closure)
    L = closure()
    g = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    n_iter = opt.state[opt._params[0]]["n_iter"]
    return {"loss": float(L.detach()), "grad_norm": float(g.norm()), "iterations": int(n_iter)}


def exact_hessian(model, X, Y, l2: float) -> np.ndarray:
    """Full Hessian of the loss over the flattened parameters (float64, full batch)."""
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]

    def f(v):
        parts = torch.split(v, sizes)
        return loss_fn(model, X, Y, l2, {n: t.reshape(s) for n, t, s in zip(names, parts, shapes)})

    H = torch.autograd.functional.hessian(f, flat(model), vectorize=True)
    H = H.cpu().numpy()
    return 0.5 * (H + H.T)


def hvp_fn(model, X, Y, l2: float):
    """v -> H v (flat float64 vectors) by double backward on the full batch."""
    params = list(model.parameters())
    sizes = [p.numel() for p in params]

    def hvp(v: torch.Tensor) -> torch.Tensor:
        g = torch.autograd.grad(loss_fn(model, X, Y, l2), params, create_graph=True)
        gv = sum((gi.reshape(-1) * vi).sum() for gi, vi in zip(g, torch.split(v, sizes)))
        return torch.cat([t.reshape(-1) for t in torch.autograd.grad(gv, params)]).detach()

    return hvp


def hutchinson_diag(model, X, Y, l2: float, probes: int, seed: int) -> dict:
    """diag(H) ~ mean_k z_k * (H z_k), z Rademacher (unbiased; the `full` profile's 100k-parameter
    network, where the exact Hessian does not fit). Returns the estimate and its standard error."""
    if probes < 2:
        raise KexueError(f"probes = {probes}: need at least 2 for a standard error")
    hvp = hvp_fn(model, X, Y, l2)
    n = sum(p.numel() for p in model.parameters())
    g = torch.Generator(device="cpu").manual_seed(seed)
    s1 = torch.zeros(n, dtype=torch.float64)
    s2 = torch.zeros(n, dtype=torch.float64)
    for _ in range(probes):
        z = (torch.randint(0, 2, (n,), generator=g, dtype=torch.float64) * 2 - 1).to(X.device)
        e = (z * hvp(z)).cpu()
        s1 += e
        s2 += e * e
    mean = s1 / probes
    se = torch.sqrt(torch.clamp(s2 / probes - mean ** 2, min=0) / (probes - 1))
    return {"diag": mean.numpy(), "se": se.numpy()}


def extreme_eigenvalues(model, X, Y, l2: float, maxiter: int) -> tuple[float, float]:
    """Largest and smallest Hessian eigenvalues by Lanczos on HVPs (scipy eigsh): the largest
    directly, the smallest as lam_max - (largest eigenvalue of lam_max I - H)."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    hvp = hvp_fn(model, X, Y, l2)
    dev = X.device
    n = sum(p.numel() for p in model.parameters())

    def mv(v):
        return hvp(torch.as_tensor(np.ravel(v), dtype=torch.float64, device=dev)).cpu().numpy()

    from scipy.sparse.linalg import ArpackNoConvergence

    def top(op, tol):
        try:
            return float(eigsh(op, k=1, which="LA", maxiter=maxiter, tol=tol, v0=v0, return_eigenvectors=False)[0])
        except ArpackNoConvergence:  # reported as NaN: the strict-minimum check then fails visibly
            return float("nan")

    v0 = np.random.default_rng(0).standard_normal(n)
    lam_max = top(LinearOperator((n, n), matvec=mv, dtype=np.float64), 1e-8)
    shifted = LinearOperator((n, n), matvec=lambda v: lam_max * np.ravel(v) - mv(v), dtype=np.float64)
    return lam_max - top(shifted, 1e-10), lam_max


class WindowAccumulator(nn.Module):
    """Sum of sqrt(v_hat) over the averaging window; a module so TrainLoop checkpoints it."""

    def __init__(self, n_params: int, device):
        super().__init__()
        self.register_buffer("root", torch.zeros(n_params, dtype=torch.float64, device=device))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64, device=device))


def adam_from_minimum(model, theta_min: torch.Tensor, X, Y, l2: float, *, batch: int | None, steps: int,
                      lr: float, betas, eps: float, noise: float, seed: int, run_dir, fingerprint: str,
                      ckpt_every: int) -> dict:
    """Adam (torch.optim.Adam) from theta_min + N(0, noise^2); time average of sqrt(v_hat) over the
    second half. batch None = full batch; minibatches are drawn with replacement from
    batch_generator(seed, step), so a resumed run draws the same batches."""
    N = X.shape[0]
    with torch.no_grad():
        g = torch.Generator(device="cpu").manual_seed(seed)
        start = theta_min + noise * torch.randn(theta_min.shape, generator=g, dtype=torch.float64).to(theta_min.device)
        torch.nn.utils.vector_to_parameters(start, model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=tuple(betas), eps=eps)
    acc = WindowAccumulator(theta_min.numel(), theta_min.device)
    b2 = betas[1]

    def step_fn(step):
        if batch is None or batch >= N:
            Xb, Yb = X, Y
        else:
            i = torch.randint(0, N, (batch,), generator=batch_generator(seed, step)).to(X.device)
            Xb, Yb = X[i], Y[i]
        opt.zero_grad()
        L = loss_fn(model, Xb, Yb, l2)
        L.backward()
        opt.step()
        if step >= steps // 2:
            with torch.no_grad():
                t = opt.state[next(iter(model.parameters()))]["step"]
                bc = 1 - b2 ** float(t)
                v = torch.cat([opt.state[p]["exp_avg_sq"].reshape(-1) for p in model.parameters()])
                acc.root += torch.sqrt(v / bc)
                acc.count += 1
        return {"loss": float(L.detach())}

    TrainLoop(state={"model": model, "opt": opt, "acc": acc}, step_fn=step_fn, total_steps=steps,
              run_dir=run_dir, fingerprint=fingerprint, ckpt_every=ckpt_every,
              desc=f"adam batch {batch or 'full'}").run()
    with torch.no_grad():
        dist = float((flat(model) - theta_min).norm())
        full_loss = float(loss_fn(model, X, Y, l2))
    return {"mean_sqrt_vhat": (acc.root / acc.count).cpu().numpy(), "window_steps": int(acc.count),
            "final_distance": dist, "final_full_loss": full_loss}


def compare(hdiag: np.ndarray, root: np.ndarray, n_boot: int, seed: int) -> dict:
    """Spearman rank correlation (paired bootstrap CI) and the log-log slope (t and bootstrap CI)."""
    from scipy.stats import spearmanr

    from kexue.fits import power_law_fit
    from kexue.montecarlo import paired_bootstrap_ci

    x, y = np.abs(hdiag), np.asarray(root)
    keep = (x > 0) & (y > 0)
    x, y = x[keep], y[keep]
    rho = paired_bootstrap_ci(x, y, lambda a, b: spearmanr(a, b).statistic, n_boot=n_boot, seed=seed)
    fit = power_law_fit(x, y)
    slope_bs = paired_bootstrap_ci(np.log(x), np.log(y), lambda a, b: np.polyfit(a, b, 1)[0], n_boot=n_boot,
                                   seed=seed + 1)
    return {"spearman": rho, "fit": fit, "slope_bootstrap": slope_bs, "n_used": int(keep.sum())}
