"""Training throughput of the shared language model (kexue.nn.gpt), as tokens/s and model FLOPs utilisation.

    python bench/lm.py [--sizes default,full] [--steps 5] [--threads 1]

For each size: Adam training steps on random tokens (speed does not depend on the data), timed after one
warm-up step. Model FLOPs per token = 6 N (matmul parameters, forward + backward) + 12 L T d (attention
scores and values, forward + backward) -- the PaLM / nanoGPT accounting, without the embedding lookup.

Baseline measured in the same run: a dense fp32 (CPU) or bf16 (CUDA) matmul of the model width's largest
shape, whose FLOP rate is what this device actually delivers for the LM's biggest kernel. The printed ratio
`mfu_vs_matmul` = model FLOP rate / that rate (1.0 = the LM runs as fast as its largest matmul alone).
On CUDA also `mfu_vs_peak` against the device's nominal dense bf16 peak (H100/H200 SXM: 989 TFLOP/s).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import torch  # noqa: E402

from kexue.nn.gpt import GPT, GPTConfig  # noqa: E402
from kexue.train import autocast  # noqa: E402

# size -> (config, batch): `default` is the CPU profile of the LM cards (~1 M parameters), `full` a GPT-2-small shape
SIZES = {
    "smoke": (dict(vocab=256, d=64, layers=1, heads=2, ctx=32), 8),
    "default": (dict(vocab=1024, d=128, layers=3, heads=4, ctx=64), 16),
    "full": (dict(vocab=50304, d=768, layers=12, heads=12, ctx=1024), 16),
}
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def model_flops_per_token(cfg: GPTConfig, n_matmul: int) -> float:
    return 6 * n_matmul + 12 * cfg.layers * cfg.ctx * cfg.d


def bench_model(name: str, device: str, steps: int) -> dict:
    kw, batch = SIZES[name]
    cfg = GPTConfig(**kw)
    torch.manual_seed(0)
    model = GPT(cfg).to(device)
    n_matmul = sum(p.numel() for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith("emb"))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    idx = torch.randint(cfg.vocab, (batch, cfg.ctx + 1), device=device)

    def step():
        with autocast(device):
            _, loss = model(idx[:, :-1], idx[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    dt = (time.perf_counter() - t0) / steps
    tokens = batch * cfg.ctx
    return {"size": name, "params": model.n_params(), "tokens_per_s": tokens / dt,
            "flops_per_s": tokens * model_flops_per_token(cfg, n_matmul) / dt, "d": cfg.d, "batch": batch}


def bench_matmul(d: int, rows: int, device: str, repeats: int = 20) -> float:
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    a = torch.randn(rows, d, device=device, dtype=dtype)
    b = torch.randn(d, 4 * d, device=device, dtype=dtype)
    a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * rows * d * 4 * d * repeats / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="smoke,default")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, threads {a.threads}")
    for device in devices:
        gpu = torch.cuda.get_device_name() if device == "cuda" else ""
        peak = next((v for k, v in PEAK_BF16.items() if k in gpu), None)
        for name in a.sizes.split(","):
            if name == "full" and device == "cpu":
                print("cpu  full: skipped (a GPU-scale model; run it where CUDA is available)")
                continue
            r = bench_model(name, device, a.steps)
            kw, batch = SIZES[name]
            base = bench_matmul(r["d"], batch * kw["ctx"], device)
            line = (f"{device:4s} {name:8s} params {r['params'] / 1e6:7.2f} M  {r['tokens_per_s']:10.0f} tokens/s  "
                    f"model {r['flops_per_s'] / 1e9:9.2f} GFLOP/s  matmul baseline {base / 1e9:9.2f} GFLOP/s  "
                    f"mfu_vs_matmul {r['flops_per_s'] / base:.3f}")
            if peak:
                line += f"  mfu_vs_peak {r['flops_per_s'] / peak:.3f} ({gpu})"
            print(line)


if __name__ == "__main__":
    main()
