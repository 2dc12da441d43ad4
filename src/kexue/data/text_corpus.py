"""Token streams for the language-model articles: one real English corpus, a tokenizer, a fixed split, batches.

The corpus is the King James Bible (data/kjv/kjv.txt, stage data_kjv: 4.1 MB, 73 characters, public domain).
Character-level by default (nanoGPT's shakespeare_char recipe); word-level keeps the top V words plus <unk>.
`synthetic` is a sparse Markov chain with Zipfian unigram frequencies for unit tests on machines without the
Debian package -- every result records which corpus produced it (`Corpus.name`).

Split: the text is cut into blocks of `block` characters and every `1/val_frac`-th block goes to validation,
so both sides sample the whole book (a tail split would validate on Revelation only) and the split is a pure
function of the text (no RNG).
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from kexue.errors import KexueError

UNK = "<unk>"
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[0-9]+|[^\sA-Za-z0-9]")


@dataclass
class Corpus:
    name: str               # "kjv:char", "kjv:word", "synthetic"
    vocab: list[str]        # id -> token
    train: np.ndarray       # int64 ids
    val: np.ndarray

    @property
    def n_vocab(self) -> int:
        return len(self.vocab)

    @property
    def vocab_sha(self) -> str:
        """Fingerprint of the vocabulary: a checkpoint stores it, and loading it on another corpus is refused."""
        return hashlib.sha256("\x00".join(self.vocab).encode()).hexdigest()[:16]

    def unigram(self) -> np.ndarray:
        return np.bincount(self.train, minlength=self.n_vocab) / len(self.train)

    def repeat_rate(self) -> float:
        """P(x_{t+1} = x_t) on the training stream (card 9698: tied models are judged on j != i)."""
        return float((self.train[1:] == self.train[:-1]).mean())

    def summary(self) -> dict:
        return {"corpus": self.name, "vocab": self.n_vocab, "train_tokens": int(len(self.train)),
                "val_tokens": int(len(self.val)), "repeat_rate": self.repeat_rate(), "vocab_sha": self.vocab_sha}


def _block_split(n: int, block: int, val_frac: float) -> np.ndarray:
    if not 0 < val_frac < 0.5:
        raise KexueError(f"val_frac = {val_frac}: need 0 < val_frac < 0.5")
    every = max(2, round(1 / val_frac))
    return (np.arange(n) // block) % every == every - 1          # True = validation


def char_corpus(text: str, name: str = "kjv", val_frac: float = 0.05, block: int = 4096) -> Corpus:
    if len(text) < 10 * block:
        raise KexueError(f"corpus {name!r} has {len(text)} characters, too few for blocks of {block}; "
                         "the text file is truncated: rerun its data stage")
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)   # one code point per character, vectorised
    points = np.unique(codes)
    vocab = [chr(c) for c in points]                                      # sorted by code point = sorted(set(text))
    ids = np.searchsorted(points, codes).astype(np.int64)
    is_val = _block_split(len(ids), block, val_frac)
    return Corpus(f"{name}:char", vocab, ids[~is_val], ids[is_val])


def word_corpus(text: str, vocab_size: int, name: str = "kjv", val_frac: float = 0.05, block: int = 1024) -> Corpus:
    """Top `vocab_size` words (by training-side frequency) plus <unk>; case is kept, punctuation is a token."""
    if vocab_size < 2:
        raise KexueError(f"vocab_size = {vocab_size}: need at least 2 words")
    words = _WORD.findall(text)
    is_val = _block_split(len(words), block, val_frac)
    counts = Counter(w for w, v in zip(words, is_val) if not v)
    vocab = [UNK] + [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:vocab_size]]
    lut = {w: i for i, w in enumerate(vocab)}
    ids = np.array([lut.get(w, 0) for w in words], dtype=np.int64)
    return Corpus(f"{name}:word", vocab, ids[~is_val], ids[is_val])


def markov_corpus(vocab_size: int, n_tokens: int, seed: int, zipf_s: float = 1.1, fanout: int = 8,
                  self_p: float = 0.02, val_frac: float = 0.05) -> Corpus:
    """A sparse first-order Markov chain: each token moves to `fanout` Zipf-drawn successors (or repeats itself
    with probability self_p). Only for tests and machines without the real corpus."""
    if vocab_size < 2 or n_tokens < 100 or fanout < 1 or not 0 <= self_p < 1:
        raise KexueError(f"markov_corpus(vocab_size={vocab_size}, n_tokens={n_tokens}, fanout={fanout}, "
                         f"self_p={self_p}): need vocab >= 2, n_tokens >= 100, fanout >= 1, 0 <= self_p < 1")
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, vocab_size) ** zipf_s
    zipf /= zipf.sum()
    succ = rng.choice(vocab_size - 1, size=(vocab_size, fanout), p=zipf)
    succ += succ >= np.arange(vocab_size)[:, None]       # skip the token itself: repeats come from self_p only
    ids = np.empty(n_tokens, dtype=np.int64)
    ids[0] = 0
    u, pick = rng.random(n_tokens), rng.integers(fanout, size=n_tokens)
    for t in range(1, n_tokens):
        ids[t] = ids[t - 1] if u[t] < self_p else succ[ids[t - 1], pick[t]]
    is_val = _block_split(n_tokens, 512, val_frac)
    return Corpus("synthetic", [f"t{i}" for i in range(vocab_size)], ids[~is_val], ids[is_val])


def check_vocab(corpus: Corpus, checkpoint_vocab_sha: str, checkpoint_vocab: int) -> None:
    if checkpoint_vocab_sha != corpus.vocab_sha or checkpoint_vocab != corpus.n_vocab:
        raise KexueError(f"vocabulary mismatch: the checkpoint was trained on {checkpoint_vocab} tokens "
                         f"(sha {checkpoint_vocab_sha}) but corpus {corpus.name} has {corpus.n_vocab} "
                         f"(sha {corpus.vocab_sha}); delete the checkpoint folder or rebuild the same corpus")


def batch(ids: np.ndarray, batch_size: int, ctx: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows: x = ids[s : s+ctx], y = ids[s+1 : s+ctx+1] (starts from the torch generator)."""
    if len(ids) <= ctx + 1:
        raise KexueError(f"a stream of {len(ids)} tokens is too short for windows of {ctx}")
    s = torch.randint(len(ids) - ctx - 1, (batch_size,), generator=generator).numpy()
    w = np.stack([ids[i:i + ctx + 1] for i in s])
    t = torch.from_numpy(w)
    return t[:, :-1], t[:, 1:]


def eval_windows(ids: np.ndarray, n: int, ctx: int, seed: int) -> torch.Tensor:
    """n fixed windows of ctx + 1 tokens (built once per seed, reused by every variant compared on them)."""
    if len(ids) <= ctx + 1:
        raise KexueError(f"a stream of {len(ids)} tokens is too short for evaluation windows of {ctx}")
    s = np.random.default_rng(seed).integers(len(ids) - ctx - 1, size=n)
    return torch.from_numpy(np.stack([ids[i:i + ctx + 1] for i in s]))
