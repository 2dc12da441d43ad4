"""The declaration API: articles, claims and stages.

Every article module in `stages/` builds one `Article` out of these records. The
registry (`kexue.registry`) collects them; the Snakefile turns each `Stage` into a rule
and `kexue.dvcgen` writes the same stages into `dvc.yaml`. Nothing else declares the DAG.

A stage is a plain function `fn(ctx)`; its shell command is always
`python -m kexue stage <article> <stage>`, identical in both engines.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

PROFILES = ("smoke", "default", "full")
VERDICTS = ("pass", "fail", "not-run")


@dataclass(frozen=True)
class Outcome:
    """What a claim's check measured. `passed` is whether the article's statement held."""

    measured: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Claim:
    """One numbered claim of an article card.

    statement: the claim in our words (inline LaTeX between $...$ is rendered as MathML).
    reference: the article's (or card's) reference value, as text.
    check: `check(metrics, profile) -> Outcome`, computed from the stored metrics only.
    expected: the verdict the card predicts ("pass", or "fail" where the card says the
      article's statement does not hold as printed).
    expected_at: profiles at which the check is meaningful; at other profiles the report
      says "not expected at <profile>" next to the measured value instead of hiding it.
    """

    id: str
    statement: str
    reference: str
    check: Callable[[Mapping[str, Any], str], Outcome]
    expected: str = "pass"
    expected_at: tuple[str, ...] = PROFILES
    note: str = ""

    def __post_init__(self):
        if self.expected not in ("pass", "fail"):
            raise ValueError(f"claim {self.id}: expected must be 'pass' or 'fail'")
        bad = set(self.expected_at) - set(PROFILES)
        if bad:
            raise ValueError(f"claim {self.id}: unknown profiles in expected_at: {sorted(bad)}")


@dataclass(frozen=True)
class Figure:
    """A figure a figures stage writes: file name inside the figures folder, and the
    stage whose data it draws (named in the caption with that stage's params hash)."""

    file: str
    title: str
    caption: str
    source: str


@dataclass(frozen=True)
class Table:
    """A table the report shows from the metrics: `metrics[key]` is a list of rows (dicts);
    columns are (header, field) pairs; list values print as tuples."""

    key: str
    title: str
    caption: str
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Stage:
    """One node of the DAG.

    name: short name, unique within the article ("train"); the engines see
      `<article.key>_<name>` ("a9931_train").
    fn: the function run by `python -m kexue stage`; it receives a `StageContext`.
    deps: logical name -> path of a file/folder written by another stage.
    outs: logical name -> path this stage writes (a trailing "/" marks a folder).
    params: keys read from the article's params block (dotted keys in params.yaml are
      `<article.key>.<param>`). global_params: the global keys it reads (`profile`,
      `seed`; data stages read none); `device` is added when `device=True`.
    device: the stage uses torch: the runner resolves params.yaml's `device`, pins torch
      threads and seeds torch before calling it.
    persist: folders kept between runs for resumable checkpoints (DVC `persist: true`;
      not a Snakemake output, because Snakemake deletes outputs before a job runs).
    metrics: the out that holds this stage's metrics (listed as DVC metrics).
    code_modules: modules the stage runs besides those its function imports (code deps).
    threads / gpu / mem_mb / runtime_min: scheduling resources.
    """

    name: str
    fn: Callable[..., None]
    deps: Mapping[str, str] = field(default_factory=dict)
    outs: Mapping[str, str] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    global_params: tuple[str, ...] = ("profile", "seed")
    persist: Mapping[str, str] = field(default_factory=dict)
    metrics: str | None = None
    code_modules: tuple[str, ...] = ()
    device: bool = False
    threads: int = 1
    gpu: int = 0
    mem_mb: int = 1000
    runtime_min: int = 10
    kind: str = "compute"

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"stage name {self.name!r} must be a Python identifier")
        if not self.outs:
            raise ValueError(f"stage {self.name!r} declares no outputs")
        if self.metrics is not None and self.metrics not in self.outs:
            raise ValueError(f"stage {self.name!r}: metrics {self.metrics!r} is not one of its outs")
        bad = set(self.global_params) - {"profile", "seed"}
        if bad:
            raise ValueError(f"stage {self.name!r}: unknown global params {sorted(bad)}")
        if self.threads < 1:
            raise ValueError(f"stage {self.name!r}: threads must be >= 1")


@dataclass(frozen=True)
class Article:
    """An article of kexue.fm and the stages that reproduce it.

    key: the params.yaml block and stage-name prefix ("a9931"); `id` is the kexue.fm
    archive number. params_model: a pydantic model of the resolved parameters (one
    profile), whose field constraints are the schema. `summary` is Markdown.
    Shared data stages use an Article with `report=False`.
    """

    id: str
    slug: str
    title: str
    key: str
    stages: Sequence[Stage]
    title_zh: str = ""
    date: str = ""
    url: str = ""
    summary: str = ""
    claims: Sequence[Claim] = ()
    figures: Sequence[Figure] = ()
    tables: Sequence[Table] = ()
    params_model: Any = None
    report: bool = True

    def __post_init__(self):
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"article {self.id}: duplicate stage names {names}")
        makers = [s.name for s in self.stages if "figures" in s.outs]
        if self.figures and len(makers) != 1:
            raise ValueError(f"article {self.id}: figures need exactly one stage with a 'figures' out, found {makers}")
        for f in self.figures:
            if f.source not in names:
                raise ValueError(f"article {self.id}: figure {f.file} names unknown source stage {f.source!r}")
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"article {self.id}: duplicate claim ids {ids}")

    @property
    def dirname(self) -> str:
        return f"{self.id}-{self.slug}"

    @property
    def report_dir(self) -> str:
        return f"reports/{self.dirname}"

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.stages)
        raise KeyError(f"article {self.id} has no stage {name!r}; its stages are: {known}")


def replace(obj, **changes):
    return dataclasses.replace(obj, **changes)
