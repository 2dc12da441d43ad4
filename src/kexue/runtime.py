"""Device, threads and seeds: the three things that decide whether two runs agree."""
from __future__ import annotations

import os
import random

from kexue.errors import KexueError


def set_threads(n: int, torch_too: bool = True) -> None:
    """Pin torch (and BLAS) to the stage's declared threads.

    Why: on a 2-core machine two jobs that each use 2 torch threads run ~6x slower than
    two 1-thread jobs; Snakemake schedules by the declared `threads`, so we must obey it.
    """
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)  # read by torch/BLAS when they are first imported
    if not torch_too:
        return
    try:
        import torch
    except ImportError:  # pure-numpy stages
        return
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass


def set_seed(seed: int, torch_too: bool = True) -> None:
    """Seed python, numpy and torch; ask torch for deterministic kernels."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % (2**32))
    except ImportError:
        pass
    if not torch_too:
        return
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
    # Only CUDA has nondeterministic kernels to switch off; CPU kernels are deterministic already.
    # The switch imports torch._dynamo (~2 s per stage), so a CPU-only machine skips it.
    if torch.cuda.is_available():
        torch.use_deterministic_algorithms(True, warn_only=True)


def select_device(name: str) -> str:
    """Resolve `auto` | `cpu` | `cuda` to a torch device string."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise KexueError(
            "params.yaml: device = 'cuda' but no CUDA device is visible to torch; "
            "set `device: auto` (or cpu), or run on a GPU machine."
        )
    if name not in ("cpu", "cuda"):
        raise KexueError(f"params.yaml: device = {name!r}: must be one of auto, cpu, cuda")
    return name
