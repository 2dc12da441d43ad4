"""Run one stage: `python -m kexue stage <article> <stage>` (the command both engines run).

Order of work, so that bad input fails before any work and no half-written output
survives:
1. load the registry and params.yaml, validate every parameter (all profiles);
2. check that every input exists (naming the stage that makes a missing one);
3. pin threads, seed, pick the device;
4. run the stage function with outputs pointed at a staging folder;
5. on success only, move each output into place (os.replace) and write the run record.
"""
from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from kexue import io, runtime
from kexue.errors import KexueError
from kexue.params import ParamView, load_raw, params_hash, resolve_block, stage_values, validate
from kexue.registry import ROOT, Node, load

STAGING = ".kexue-staging"


class StageContext:
    """What a stage function sees (README, "Adding an article")."""

    def __init__(self, node: Node, root: Path, values: dict, resolved: dict, device: str, staging: Path,
                 fingerprint: str):
        self.node, self.article, self.stage = node, node.article, node.stage
        self.root = root
        self._values = values
        self.device = device
        self.threads = node.stage.threads
        self.fingerprint = fingerprint
        self.p = ParamView({k: resolved[k] for k in node.stage.params}, node.name)
        self._staging = staging

    @property
    def profile(self) -> str:
        return self._global("profile")

    @property
    def seed(self) -> int:
        return self._global("seed")

    def _global(self, key: str):
        if key not in self._values:
            raise KexueError(f"stage {self.node.name} reads the global param {key!r} without declaring it "
                             f"in `global_params=`")
        return self._values[key]

    def inp(self, name: str) -> Path:
        if name not in self.stage.deps:
            raise KexueError(f"stage {self.node.name} reads input {name!r} that it does not declare in `deps=`")
        return self.root / self.stage.deps[name].rstrip("/")

    def out(self, name: str) -> Path:
        if name not in self.stage.outs:
            raise KexueError(f"stage {self.node.name} writes output {name!r} that it does not declare in `outs=`")
        return self._staging / self.stage.outs[name].rstrip("/")

    def persist(self, name: str) -> Path:
        if name not in self.stage.persist:
            raise KexueError(f"stage {self.node.name} uses persist folder {name!r} that it does not declare")
        p = self.root / self.stage.persist[name].rstrip("/")
        p.mkdir(parents=True, exist_ok=True)
        return p

    def log(self, msg: str) -> None:
        print(f"[{self.node.name}] {msg}", file=sys.stderr, flush=True)


def git_commit(root: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def code_hash(root: Path, files: list[str]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.encode())
        h.update(io.sha256_file(root / f).encode())
    return h.hexdigest()[:12]


def data_hash(root: Path, paths: list[str]) -> str:
    """Content hash of a stage's data inputs (files, and folders walked in order), so a
    checkpoint made from other data is never resumed."""
    h = hashlib.sha256()
    for p in paths:
        target = root / p
        files = sorted(f for f in target.rglob("*") if f.is_file()) if target.is_dir() else [target]
        for f in files:
            h.update(str(f.relative_to(root)).encode())
            h.update(io.sha256_file(f).encode())
    return h.hexdigest()[:12]


def _place(staged: Path, final: Path) -> None:
    """Move a staged file or folder over the final path as atomically as the OS allows."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if staged.is_dir():
        trash = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            os.replace(final, trash)
        os.replace(staged, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        if final.is_dir():
            shutil.rmtree(final)
        os.replace(staged, final)


def prepare(article_id: str, stage_name: str, root: Path = ROOT):
    """Everything that can fail on bad input, before any work:
    returns (node, values, resolved article params, active profile)."""
    reg = load()
    node = reg.node(article_id, stage_name)
    raw = load_raw(root / "params.yaml")
    validate(raw, reg.articles)
    values = stage_values(raw, node.article, node.stage)
    resolved = {}
    if node.article.params_model is not None:
        model = node.article.params_model(**resolve_block(raw[node.article.key], raw["profile"]))
        resolved = model.model_dump()
    missing = [d for d in node.data_deps if not (root / d).exists()]
    if missing:
        lines = []
        for d in missing:
            prod = reg.producer(d)
            how = f"made by stage {prod.name}: `snakemake {d} -j1` or `dvc repro {prod.name}`" if prod else "no stage makes it"
            lines.append(f"{d} ({how})")
        raise KexueError(f"stage {node.name} cannot start, inputs missing:\n  - " + "\n  - ".join(lines))
    return node, values, resolved, raw["profile"]


def run_stage(article_id: str, stage_name: str, root: Path = ROOT) -> dict:
    node, values, resolved, profile = prepare(article_id, stage_name, root)
    return execute(node, values, resolved, root, profile)


def execute(node: Node, values: dict, resolved: dict, root: Path, profile: str = "") -> dict:
    """Run a prepared stage; outputs appear only if the function returns normally."""
    device = runtime.select_device(values.get("device", "auto")) if node.stage.device else "cpu"
    # torch costs ~2 s to import: only stages that declare a device (torch stages) pay it here;
    # others still get OMP/MKL thread variables and python/numpy seeds.
    runtime.set_threads(node.stage.threads, torch_too=node.stage.device)
    runtime.set_seed(values.get("seed", 0), torch_too=node.stage.device)
    files = node.code_deps(root)
    chash = code_hash(root, files)
    phash = params_hash(values)
    for old in (root / STAGING).glob(f"{node.name}-*"):  # left by a killed run of this stage
        shutil.rmtree(old, ignore_errors=True)
    staging = root / STAGING / f"{node.name}-{os.getpid()}"
    for p in node.stage.outs.values():
        target = staging / p.rstrip("/")
        (target if p.endswith("/") else target.parent).mkdir(parents=True, exist_ok=True)
    fingerprint = f"{phash}-{chash}-{data_hash(root, node.data_deps)}" if node.stage.persist else f"{phash}-{chash}"
    ctx = StageContext(node, root, values, resolved, device, staging, fingerprint=fingerprint)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    try:
        node.stage.fn(ctx)
        absent = [p for p in node.stage.outs.values() if not (staging / p.rstrip("/")).exists()]
        if absent:
            raise KexueError(f"stage {node.name} finished without writing its declared output(s) {absent}")
        wall = time.perf_counter() - t0
        for p in node.stage.outs.values():
            _place(staging / p.rstrip("/"), root / p.rstrip("/"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    info = {
        "stage": node.name, "article": node.article.id, "command": node.cmd,
        "started": started.isoformat(timespec="seconds"), "wall_s": round(wall, 3),
        "device": device, "threads": node.stage.threads, "profile": profile or values.get("profile", ""),
        "params": values, "params_hash": phash, "code_files": files, "code_hash": chash,
        "git_commit": git_commit(root), "python": platform.python_version(), "host": platform.node(),
        "torch": _torch_version(),
    }
    io.atomic_write_json(root / node.runinfo, info)
    ctx.log(f"done in {wall:.1f}s (params {phash}, code {chash})")
    return info


def _torch_version() -> str:
    mod = sys.modules.get("torch")
    return getattr(mod, "__version__", "not imported")
