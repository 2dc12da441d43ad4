"""Multitask sparse parity (Michaud et al. 2023, "The Quantization Model of Neural Scaling").

An input is `n_tasks` one-hot control bits followed by `n_bits` uniform random bits. The control
bit says which subtask the sample belongs to; subtask t's label is the parity of the bits in its
own k-subset S_t. Subtask t is drawn with probability p_t ∝ t^(-zipf_exponent) (t = 1..n_tasks),
so the subtasks play the role of the quanta: each needs its own small circuit, and frequent ones
are worth learning first. `zipf_exponent` is the paper code's `alpha` = gamma + 1 (not gamma).

    task = SparseParityTask.make(n_tasks=64, n_bits=16, k=2, zipf_exponent=1.4, seed=0)
    x, y, t = task.sample(512, generator)          # float32 [512, 80], int64 labels, int64 task ids
    xt, yt = task.per_task_set(128, seed=1)        # [64, 128, 80], [64, 128]: a fixed test set per subtask
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

from kexue.errors import KexueError

_ENUMERATE_MAX = 2_000_000  # enumerate all C(n, k) subsets below this many, else rejection-sample


def zipf_probs(n: int, exponent: float) -> np.ndarray:
    """p_t = t^(-exponent) / sum_{s<=n} s^(-exponent), t = 1..n (float64)."""
    if n < 1:
        raise KexueError(f"zipf_probs: n = {n}, need at least one subtask")
    if not exponent > 0:
        raise KexueError(f"zipf_probs: exponent = {exponent}; a decreasing Zipf law needs exponent > 0")
    w = np.arange(1, n + 1, dtype=np.float64) ** -float(exponent)
    return w / w.sum()


def distinct_subsets(n_bits: int, k: int, n_tasks: int, rng: np.random.Generator) -> np.ndarray:
    """n_tasks distinct sorted k-subsets of range(n_bits), int64 [n_tasks, k], in random order.

    C(n_bits, k) >= n_tasks is checked first: a rejection loop would never end otherwise."""
    if not 1 <= k <= n_bits:
        raise KexueError(f"distinct_subsets: k = {k} must lie in [1, n_bits = {n_bits}]")
    total = math.comb(n_bits, k)
    if total < n_tasks:
        raise KexueError(f"distinct_subsets: only C({n_bits}, {k}) = {total} distinct {k}-subsets exist but "
                         f"n_tasks = {n_tasks}; raise n_bits or k, or lower n_tasks")
    if total <= _ENUMERATE_MAX:
        combos = np.array(list(itertools.combinations(range(n_bits), k)), dtype=np.int64)
        return combos[rng.choice(total, size=n_tasks, replace=False)]
    seen: set[tuple[int, ...]] = set()
    out = []
    while len(out) < n_tasks:
        s = tuple(sorted(rng.choice(n_bits, size=k, replace=False).tolist()))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return np.array(out, dtype=np.int64)


@dataclass(frozen=True)
class SparseParityTask:
    n_tasks: int
    n_bits: int
    k: int
    zipf_exponent: float
    subsets: np.ndarray          # [n_tasks, k]; row t-1 belongs to the t-th most frequent subtask
    probs: np.ndarray            # [n_tasks], Zipf

    @classmethod
    def make(cls, n_tasks: int, n_bits: int, k: int, zipf_exponent: float, seed: int) -> "SparseParityTask":
        if n_tasks < 1:
            raise KexueError(f"SparseParityTask: n_tasks = {n_tasks}, need >= 1")
        subsets = distinct_subsets(n_bits, k, n_tasks, np.random.default_rng([seed, 9607, 1]))
        return cls(n_tasks, n_bits, k, float(zipf_exponent), subsets, zipf_probs(n_tasks, zipf_exponent))

    @property
    def in_dim(self) -> int:
        return self.n_tasks + self.n_bits

    def _build(self, tasks: torch.Tensor, bits: torch.Tensor):
        """Inputs and labels for given task ids [m] and random bits [m, n_bits] (0/1 int64)."""
        sub = torch.as_tensor(self.subsets)[tasks]                       # [m, k]
        y = bits.gather(1, sub).sum(1) % 2
        x = torch.cat([torch.nn.functional.one_hot(tasks, self.n_tasks), bits], 1).float()
        return x, y

    def sample(self, m: int, generator: torch.Generator, tasks: torch.Tensor | None = None):
        """m i.i.d. samples (task ids Zipf-distributed unless given): x float32, y int64, task ids int64."""
        if tasks is None:
            tasks = torch.multinomial(torch.as_tensor(self.probs), m, replacement=True, generator=generator)
        bits = torch.randint(0, 2, (m, self.n_bits), generator=generator)
        x, y = self._build(tasks, bits)
        return x, y, tasks

    def per_task_set(self, m_per_task: int, seed: int):
        """A fixed test set with m_per_task samples of every subtask: x [n_tasks, m, in_dim], y [n_tasks, m].
        Per-subtask losses come from it; the mean loss weights them by `probs` (the exact proportions)."""
        if m_per_task < 1:
            raise KexueError(f"per_task_set: m_per_task = {m_per_task}, need >= 1")
        g = torch.Generator().manual_seed(int(seed))
        tasks = torch.arange(self.n_tasks).repeat_interleave(m_per_task)
        x, y, _ = self.sample(tasks.numel(), g, tasks=tasks)
        return x.view(self.n_tasks, m_per_task, -1), y.view(self.n_tasks, m_per_task)
