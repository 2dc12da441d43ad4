"""Speed of the diffusion denoisers (kexue.nn.mlp_denoiser, kexue.nn.unet), as ratios to a plain
MLP classifier with the same parameter count measured in the same run (so machine speed cancels).

    python bench/diffusion.py [--steps 10] [--evals 50] [--sample-batch 64] [--models mlp8,unet14]

- train: Adam steps/s at batch 128 on the eps-prediction MSE, x_t = abar_t x0 + bbar_t eps with
  t ~ U{1..T} on the linear schedule of card 9152 (alpha_t = sqrt(1 - 0.02 t/T), T = 1000).
  Baseline: the same-size MLP classifier (kexue.nn.mlp.MLP), cross-entropy, batch 128.
- sample: images/s for `--evals` denoiser evaluations per image (deterministic DDIM updates,
  eta = 0, on an even grid), batch `--sample-batch`, no_grad. Baseline: the same number of
  forward passes of the classifier.
- ratio = baseline time / denoiser time per step (1.0 = as fast as a plain MLP of that size).
CPU always; CUDA too where present, with bf16 autocast (kexue.train.autocast). The data are
random in [-1, 1] (speed does not depend on them). Default run: well under 1 minute on 2 cores.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from kexue.nn.mlp import MLP  # noqa: E402
from kexue.nn.mlp_denoiser import MLPDenoiser, n_params  # noqa: E402
from kexue.nn.unet import UNet  # noqa: E402
from kexue.train import autocast  # noqa: E402

T = 1000
BATCH = 128

# name -> (builder, per-sample shape); defaults are the cards' default-profile models
MODELS = {
    "mlp8": (lambda: MLPDenoiser(dim=64), (64,)),                                   # card 9152, digits 8x8
    "unet8": (lambda: UNet(widths=(16, 32, 64)), (1, 8, 8)),
    "unet14": (lambda: UNet(widths=(8, 16)), (1, 14, 14)),                         # article 10055 default, low res
    "unet28": (lambda: UNet(widths=(8, 16)), (1, 28, 28)),                         # article 10055, UG target
    "mlp28": (lambda: MLPDenoiser(dim=784), (784,)),
    "unet32full": (lambda: UNet(widths=(64, 128), blocks=2), (1, 32, 32)),         # card 9152 full (GPU)
}


def abar_table(T: int) -> torch.Tensor:
    """abar_t for t = 0..T (a std; abar_0 = 1) of the shared kexue schedule (card 9152's)."""
    from kexue.diffusion.schedules import kexue_linear

    return kexue_linear(T).abar(torch.arange(T + 1)).float()


def same_size_classifier(n_target: int, in_dim: int, depth: int = 3, classes: int = 10) -> MLP:
    """The MLP(in_dim -> hidden x depth -> classes) whose parameter count is closest to n_target."""
    # params = (in_dim + 1) h + (depth - 1)(h + 1) h + (h + 1) classes: solve the quadratic in h
    a, b, c = depth - 1, in_dim + 1 + (depth - 1) + classes, classes - n_target
    h = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a) if a else -c / b
    return MLP(in_dim, max(1, round(h)), depth, classes)


def timed(fn, n: int, device: str) -> float:
    """Seconds per call (median of 3 rounds of n calls) after one warm-up call."""
    fn()
    rounds = []
    for _ in range(3):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if device == "cuda":
            torch.cuda.synchronize()
        rounds.append((time.perf_counter() - t0) / n)
    return sorted(rounds)[1]


def bench_pair(name: str, steps: int, evals: int, sample_batch: int, device: str) -> dict:
    build, shape = MODELS[name]
    torch.manual_seed(0)
    model = build().to(device)
    D = math.prod(shape)
    base = same_size_classifier(n_params(model), D).to(device)
    abar = abar_table(T).to(device)
    g = torch.Generator(device=device).manual_seed(0)
    x0 = torch.rand(BATCH, *shape, device=device, generator=g) * 2 - 1
    labels = torch.randint(0, 10, (BATCH,), device=device, generator=g)
    opt, opt_b = torch.optim.Adam(model.parameters(), 1e-3), torch.optim.Adam(base.parameters(), 1e-3)

    def train_step():
        t = torch.randint(1, T + 1, (BATCH,), device=device)
        eps = torch.randn_like(x0)
        a = abar[t].view(-1, *[1] * len(shape))
        with autocast(device):
            loss = F.mse_loss(model(a * x0 + (1 - a**2).sqrt() * eps, t).float(), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def base_step():
        with autocast(device):
            loss = F.cross_entropy(base(x0).float(), labels)
        opt_b.zero_grad(set_to_none=True)
        loss.backward()
        opt_b.step()

    grid = torch.linspace(T, 0, evals + 1, device=device).round().long()  # T = t_0 > ... > t_K = 0
    xT = torch.randn(sample_batch, *shape, device=device, generator=g)
    xs = xT.flatten(1)

    @torch.no_grad()
    def sample():  # DDIM eta = 0: x_s = abar_s x0_hat + bbar_s eps_hat
        x = xT
        for i in range(evals):
            t, s = grid[i], grid[i + 1]
            a_t, a_s = abar[t], abar[s]
            with autocast(device):
                eps = model(x, t).float()
            x0_hat = (x - (1 - a_t**2).sqrt() * eps) / a_t
            x = a_s * x0_hat + (1 - a_s**2).sqrt() * eps
        return x

    @torch.no_grad()
    def base_eval():
        for _ in range(evals):
            with autocast(device):
                base(xs)

    model.train()
    tr, tr_b = timed(train_step, steps, device), timed(base_step, steps, device)
    model.eval()
    sa, sa_b = timed(sample, 1, device), timed(base_eval, 1, device)
    return {"name": name, "device": device, "params": n_params(model), "params_b": n_params(base),
            "train": 1 / tr, "train_b": 1 / tr_b, "sample": sample_batch / sa, "sample_b": sample_batch / sa_b}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10, help="timed Adam steps per round (3 rounds)")
    ap.add_argument("--evals", type=int, default=50, help="denoiser evaluations per sampled image")
    ap.add_argument("--sample-batch", type=int, default=64)
    ap.add_argument("--models", default="mlp8,unet14", help=f"comma list from {','.join(MODELS)}")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    args = ap.parse_args()
    names = args.models.split(",")
    bad = [n for n in names if n not in MODELS]
    if bad or args.steps < 1 or args.evals < 1 or args.sample_batch < 1:
        ap.error(f"unknown models {bad} (choose from {list(MODELS)}) or a count < 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, devices {devices} "
          f"(cuda: bf16 autocast); batch {BATCH}, {args.evals} evals/image, sample batch {args.sample_batch}")
    hdr = (f"{'model':<12}{'dev':<6}{'params':>9}{'base params':>12}{'train it/s':>12}{'base it/s':>11}{'ratio':>7}"
           f"{'sample img/s':>14}{'base img/s':>12}{'ratio':>7}")
    print(hdr)
    for device in devices:
        for name in names:
            r = bench_pair(name, args.steps, args.evals, args.sample_batch, device)
            print(f"{r['name']:<12}{r['device']:<6}{r['params']:>9,}{r['params_b']:>12,}"
                  f"{r['train']:>12.1f}{r['train_b']:>11.1f}{r['train'] / r['train_b']:>7.3g}"
                  f"{r['sample']:>14.1f}{r['sample_b']:>12.1f}{r['sample'] / r['sample_b']:>7.3g}")
    print("base = MLP classifier (3 hidden layers) with the denoiser's parameter count; "
          "ratio = denoiser speed / base speed")


if __name__ == "__main__":
    main()
