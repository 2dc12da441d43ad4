"""Which project files a stage's code runs — computed from the import graph.

Both engines only rerun a stage for code that is listed among its inputs, and listing
files by hand rots. So we parse imports (no execution):
- the stage function's own module: its module-level imports, the imports inside the stage
  function, and inside the same-module helpers that the function calls (transitively);
- every project module reached that way: all its imports (module level and local).
Modules may name non-Python files they read (templates, CSS) in a module-level tuple
`CODE_ASSETS = ("templates/x.j2",)`, paths relative to the module.

The harness that only dispatches (CLI, registry, params loader, this file) is left out on
purpose: it decides which command runs and with which parameters — both tracked on their
own — and changing it must not retrain every model. `kexue.runtime` and `kexue.io`, which
the runner calls to seed and to write outputs, are included for every stage.
"""
from __future__ import annotations

import ast
import inspect
from functools import lru_cache
from pathlib import Path

HARNESS = {
    "kexue", "kexue.cli", "kexue.__main__", "kexue.registry", "kexue.params", "kexue.runner",
    "kexue.pipeline", "kexue.dvcgen", "kexue.codedeps", "kexue.errors", "stages",
}
ALWAYS = ("kexue.runtime", "kexue.io")
PROJECT_PACKAGES = ("kexue", "stages")


def _package_roots() -> dict[str, Path]:
    import kexue

    here = Path(kexue.__file__).resolve().parent
    return {"kexue": here, "stages": here.parents[1] / "stages"}


_ROOTS = _package_roots()


@lru_cache(maxsize=None)
def _module_file(name: str) -> Path | None:
    """The file of a project module, found by path (importing it would pull in torch)."""
    head, *rest = name.split(".")
    base = _ROOTS.get(head)
    if base is None:
        return None
    for cand in (base.joinpath(*rest).with_suffix(".py") if rest else None, base.joinpath(*rest, "__init__.py")):
        if cand is not None and cand.is_file():
            return cand.resolve()
    return None


def _is_module(name: str) -> bool:
    return _module_file(name) is not None


def _import_targets(nodes, current: str, is_pkg: bool) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                out.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = current.split(".")
                base_parts = parts if is_pkg else parts[:-1]
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            for a in node.names:
                if _is_module(f"{base}.{a.name}"):
                    out.add(f"{base}.{a.name}")
    return {t for t in out if t}


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@lru_cache(maxsize=None)
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _assets(path: Path, tree: ast.Module) -> list[Path]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CODE_ASSETS" for t in node.targets):
            return [(path.parent / p).resolve() for p in ast.literal_eval(node.value)]
    return []


def _all_imports(name: str) -> set[str]:
    path = _module_file(name)
    tree = _parse(path)
    return _import_targets(ast.walk(tree), name, path.name == "__init__.py")


def _function_imports(module_name: str, func_name: str, path: Path) -> set[str]:
    """Imports at module level + inside `func_name` and the module's helpers it calls."""
    tree = _parse(path)
    is_pkg = path.name == "__init__.py"
    funcs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    targets = _import_targets(top, module_name, is_pkg)
    seen, todo = set(), [func_name]
    while todo:
        f = todo.pop()
        if f in seen or f not in funcs:
            continue
        seen.add(f)
        body = list(ast.walk(funcs[f]))
        targets |= _import_targets(body, module_name, is_pkg)
        todo += [n.id for n in body if isinstance(n, ast.Name) and n.id in funcs]
    return targets


def closure(start: set[str], root: Path) -> list[str]:
    """Project files (relative to root) reached from the module names in `start`."""
    files: set[Path] = set()
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in HARNESS or _module_file(name) is None:
            continue
        path = _module_file(name)
        files.add(path)
        files.update(_assets(path, _parse(path)))
        todo += [t for t in _all_imports(name) if t not in seen]
    rel = sorted(str(f.relative_to(root.resolve())) for f in files if f.is_relative_to(root.resolve()))
    return rel


def stage_code_files(fn, root: Path, extra_modules: tuple[str, ...] = ()) -> list[str]:
    """Files whose code the stage function runs (relative paths, sorted)."""
    module = inspect.getmodule(fn)
    spec = getattr(module, "__spec__", None)
    mod = spec.name if spec is not None else module.__name__  # `python -m x` runs x as __main__
    own = Path(module.__file__).resolve()
    start = _function_imports(mod, fn.__name__, own) | set(ALWAYS) | set(extra_modules)
    files = set(closure(start, root))
    if own.is_relative_to(root.resolve()):
        files.add(str(own.relative_to(root.resolve())))
    return sorted(files)
