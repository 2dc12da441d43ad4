"""The registry: every article module listed in `stages/__init__.py`, expanded into the
stages both engines run. This is the single source of truth for the DAG.

Besides each article's own stages the registry adds, for every reported article, a
generic `report` stage (kexue.report.stage) and one site-wide `site_index` stage. Every
stage also writes a run record `data/runinfo/<stage>.json` (runtime, device, commit,
params hash) that the report reads.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kexue.errors import KexueError
from kexue.params import stage_param_keys
from kexue.pipeline import Article, Stage

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Node:
    """A stage as the engines see it."""

    article: Article
    stage: Stage

    @property
    def name(self) -> str:
        return f"{self.article.key}_{self.stage.name}"

    @property
    def cmd(self) -> str:
        return f"python -m kexue stage {self.article.id} {self.stage.name}"

    @property
    def runinfo(self) -> str:
        return f"data/runinfo/{self.name}.json"

    @property
    def outs(self) -> list[str]:
        return [p.rstrip("/") for p in self.stage.outs.values()] + [self.runinfo]

    @property
    def out_dirs(self) -> set[str]:
        return {p.rstrip("/") for p in self.stage.outs.values() if p.endswith("/")}

    @property
    def data_deps(self) -> list[str]:
        return [p.rstrip("/") for p in self.stage.deps.values()]

    @property
    def persist(self) -> list[str]:
        return [p.rstrip("/") for p in self.stage.persist.values()]

    @property
    def param_keys(self) -> list[str]:
        return stage_param_keys(self.article, self.stage)

    def code_deps(self, root: Path = ROOT) -> list[str]:
        from kexue.codedeps import stage_code_files

        return stage_code_files(self.stage.fn, root, tuple(self.stage.code_modules))

    def deps(self, root: Path = ROOT) -> list[str]:
        return self.data_deps + self.code_deps(root)


@dataclass(frozen=True)
class Registry:
    articles: tuple[Article, ...]
    nodes: tuple[Node, ...]

    def article(self, ident: str) -> Article:
        for a in self.articles:
            if ident in (a.id, a.key, a.slug, a.dirname):
                return a
        known = ", ".join(a.id for a in self.articles)
        raise KexueError(f"unknown article {ident!r}; known articles: {known} (see `kexue list`)")

    def node(self, article_id: str, stage: str) -> Node:
        art = self.article(article_id)
        for n in self.nodes:
            if n.article is art and n.stage.name == stage:
                return n
        known = ", ".join(n.stage.name for n in self.nodes if n.article is art)
        raise KexueError(f"article {art.id} has no stage {stage!r}; its stages: {known}")

    def producer(self, path: str) -> Node | None:
        path = path.rstrip("/")
        for n in self.nodes:
            if path in n.outs:
                return n
        return None

    @property
    def reported(self) -> list[Article]:
        return [a for a in self.articles if a.report]

    def targets(self) -> list[str]:
        """What `snakemake` builds by default: every output nobody consumes."""
        consumed = {d for n in self.nodes for d in n.data_deps}
        return [o for n in self.nodes for o in n.outs if o not in consumed]


def _with_report(article: Article, module: str) -> Article:
    from kexue.report.stage import report

    deps = {}
    for s in article.stages:
        if s.metrics:
            deps[f"{s.name}_metrics"] = s.outs[s.metrics]
        if "figures" in s.outs:
            deps[f"{s.name}_figures"] = s.outs["figures"]
        deps[f"{s.name}_runinfo"] = f"data/runinfo/{article.key}_{s.name}.json"
    # the claims' checks run in the report stage but live in the article module
    stage = Stage(name="report", fn=report, deps=deps, outs={"report": article.report_dir + "/"},
                  code_modules=(module,), kind="report", mem_mb=500, runtime_min=2, global_params=("profile",))
    from kexue.pipeline import replace

    return replace(article, stages=tuple(article.stages) + (stage,))


def _site(articles: list[Article]) -> Article:
    from kexue.report.site import index

    deps = {a.key: a.report_dir + "/" for a in articles if a.report}
    stage = Stage(name="index", fn=index, deps=deps,
                  outs={"index": "reports/index.html", "search": "reports/search-index.json"},
                  kind="report", mem_mb=500, runtime_min=2, global_params=())
    return Article(id="site", slug="index", title="Site index and search", key="site",
                   stages=(stage,), report=False)


@lru_cache(maxsize=None)
def load() -> Registry:
    import sys

    if str(ROOT) not in sys.path:  # the `kexue` script, unlike `python -m kexue`, lacks the cwd
        sys.path.insert(0, str(ROOT))
    import stages as pkg

    articles: list[Article] = []
    for modname in pkg.ARTICLE_MODULES:
        mod = importlib.import_module(modname)
        art: Article = mod.ARTICLE
        articles.append(_with_report(art, modname) if art.report else art)
    articles.append(_site(articles))
    nodes = tuple(Node(a, s) for a in articles for s in a.stages)
    _check_graph(nodes)
    return Registry(tuple(articles), nodes)


def _check_graph(nodes) -> None:
    owner: dict[str, str] = {}
    for n in nodes:
        for o in n.outs + n.persist:
            if o in owner:
                raise ValueError(f"{o} is written by both {owner[o]} and {n.name}")
            owner[o] = n.name
    for n in nodes:
        for d in n.data_deps:
            if d not in owner:
                raise ValueError(f"stage {n.name} needs {d}, which no stage writes")
