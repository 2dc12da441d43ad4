"""params.yaml: loading, profile resolution and schema validation.

Layout: global keys `profile`, `device`, `seed`, then one block per article (its `key`).
Inside a block each parameter is either one value for every profile, or a mapping
`{smoke: v, default: v, full: v}` (the profile overlay). DVC tracks the dotted key
(`a9931.draws`), Snakemake the value resolved for the active profile; both rerun the
stages that read a changed key.

Validation happens before any stage runs (Snakefile parse, `kexue check`, every stage
invocation): each problem is reported with the key, the value and what is allowed.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kexue.errors import KexueError
from kexue.pipeline import PROFILES

PARAMS_FILE = "params.yaml"
GLOBAL_KEYS = ("profile", "device", "seed")


class GlobalParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: Literal["smoke", "default", "full"]
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = Field(0, ge=0, le=2**31 - 1)


def load_raw(path: str | Path = PARAMS_FILE) -> dict:
    p = Path(path)
    if not p.exists():
        raise KexueError(f"{p}: not found; run from the repository root (where params.yaml lives).")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise KexueError(f"{p}: not valid YAML ({e}); fix the syntax or `git checkout {p}`.") from None
    if not isinstance(raw, dict):
        raise KexueError(f"{p}: must be a mapping of keys to values, got {type(raw).__name__}.")
    return raw


def _is_overlay(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= set(PROFILES)


def resolve_block(block: dict, profile: str) -> dict:
    """Values of one article block for one profile."""
    out = {}
    for k, v in block.items():
        out[k] = v[profile] if _is_overlay(v) and profile in v else v
    return out


def _fmt_value(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _pydantic_problems(err: ValidationError, prefix: str, raw_block: dict, profile: str | None) -> list[str]:
    problems = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        top = str(e["loc"][0]) if e["loc"] else ""
        key = f"{prefix}{loc}" if loc else prefix.rstrip(".")
        where = ""
        if profile and top in raw_block and _is_overlay(raw_block[top]):
            where = f" (profile {profile})"
        if e["type"] == "missing":
            problems.append(f"{key} is missing{where}: add it to params.yaml")
        elif e["type"] == "extra_forbidden":
            problems.append(f"{key} is not a known parameter: remove it or check its spelling")
        else:
            problems.append(f"{key} = {_fmt_value(e.get('input'))}{where}: {e['msg']}")
    return problems


def validate(raw: dict, articles) -> GlobalParams:
    """Check globals and every article block at every profile; raise one KexueError
    listing all problems."""
    problems: list[str] = []
    glob = {k: raw[k] for k in GLOBAL_KEYS if k in raw}
    gp = None
    try:
        gp = GlobalParams(**glob)
    except ValidationError as e:
        problems += _pydantic_problems(e, "", glob, None)
    known = set(GLOBAL_KEYS)
    for art in articles:
        if art.params_model is None:
            continue
        known.add(art.key)
        block = raw.get(art.key)
        if block is None:
            problems.append(f"{art.key} (article {art.id}) is missing: restore its block in params.yaml")
            continue
        if not isinstance(block, dict):
            problems.append(f"{art.key} = {_fmt_value(block)}: must be a mapping of parameters")
            continue
        for k, v in block.items():
            if isinstance(v, dict) and not _is_overlay(v) and set(v) & set(PROFILES):
                extra = sorted(set(v) - set(PROFILES))
                problems.append(f"{art.key}.{k}: profile overlay has unknown profile(s) {extra}; allowed: {', '.join(PROFILES)}")
            elif _is_overlay(v) and set(v) != set(PROFILES):
                missing = [p for p in PROFILES if p not in v]
                problems.append(f"{art.key}.{k}: profile overlay lacks {', '.join(missing)}; give a value for every profile")
        for prof in PROFILES:
            try:
                art.params_model(**resolve_block(block, prof))
            except ValidationError as e:
                for msg in _pydantic_problems(e, f"{art.key}.", block, prof):
                    if msg not in problems:
                        problems.append(msg)
    for k in raw:
        if k not in known:
            problems.append(f"{k} is not a known top-level key of params.yaml (articles: {', '.join(sorted(known - set(GLOBAL_KEYS)))})")
    if problems:
        lines = "\n  - ".join(problems)
        raise KexueError(f"params.yaml is invalid:\n  - {lines}\nFix these values in params.yaml (allowed values are named above).")
    return gp


def stage_param_keys(article, stage) -> list[str]:
    """The dotted params.yaml keys a stage reads (what DVC records and diffs)."""
    keys = list(stage.global_params)
    if stage.device:
        keys.append("device")
    keys += [f"{article.key}.{k}" for k in stage.params]
    return keys


def stage_values(raw: dict, article, stage) -> dict:
    """Resolved values of the stage's params for the active profile (what Snakemake
    compares, what the stage sees, what the params hash covers)."""
    profile = raw["profile"]
    block = resolve_block(raw.get(article.key) or {}, profile)
    glob = {"profile": profile, "seed": raw.get("seed", 0)}
    vals: dict[str, Any] = {k: glob[k] for k in stage.global_params}
    if stage.device:
        vals["device"] = raw.get("device", "auto")
    for k in stage.params:
        if k not in block:
            raise KexueError(f"stage {article.key}_{stage.name} reads {article.key}.{k}, which params.yaml lacks")
        vals[k] = block[k]
    return vals


def params_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


class ParamView:
    """Read-only view of a stage's declared params. Reading an undeclared key is an
    error: otherwise the engines would not rerun the stage when that key changes."""

    def __init__(self, values: dict, stage_name: str):
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_stage", stage_name)

    def __getitem__(self, key: str):
        if key not in self._values:
            raise KexueError(
                f"stage {self._stage} reads param {key!r} but does not declare it in its `params=`; "
                "declare it in the stage so both engines track it."
            )
        return self._values[key]

    def __getattr__(self, key: str):
        if key.startswith("__"):
            raise AttributeError(key)
        return self[key]

    def __setattr__(self, key, value):
        raise AttributeError("params are read-only")

    def __contains__(self, key):
        return key in self._values

    def as_dict(self) -> dict:
        return dict(self._values)
