"""What the Snakefile needs from the registry: one rule spec per stage.

Kept out of the Snakefile so that the Snakefile stays a short generic loop and so that
tests can compare these specs with dvc.yaml without running Snakemake."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kexue.errors import KexueError
from kexue.params import load_raw, stage_values, validate
from kexue.registry import load


@dataclass(frozen=True)
class RuleSpec:
    name: str
    cmd: str
    inputs: list[str]
    outputs: list[str]
    out_dirs: set[str]
    values: str  # resolved params as JSON: Snakemake's params trigger compares it
    threads: int
    gpu: int
    mem_mb: int
    runtime: int


@dataclass(frozen=True)
class Workflow:
    rules: list[RuleSpec]
    targets: list[str]


def build(config: dict, root: Path) -> Workflow:
    reg = load()
    raw = load_raw(root / "params.yaml")
    if config and config != raw:
        raise KexueError(
            "Snakemake's config differs from params.yaml (was --config or --configfile used?). Stage commands "
            "read params.yaml, so change parameters there (or with `dvc exp run -S key=value`)."
        )
    validate(raw, reg.articles)
    rules = []
    for n in reg.nodes:
        values = stage_values(raw, n.article, n.stage)
        rules.append(RuleSpec(
            name=n.name, cmd=n.cmd, inputs=n.deps(root), outputs=n.outs, out_dirs=n.out_dirs,
            values=json.dumps(values, sort_keys=True), threads=n.stage.threads, gpu=n.stage.gpu,
            mem_mb=n.stage.mem_mb, runtime=n.stage.runtime_min,
        ))
    return Workflow(rules=rules, targets=reg.targets())
