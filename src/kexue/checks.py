"""`kexue check`: params, datasets and tools, each with the fix when it is missing."""
from __future__ import annotations

import platform
import shutil

from kexue.errors import KexueError


def run_checks(verbose: bool = True) -> int:
    from kexue.registry import ROOT, load

    results: list[tuple[str, bool, str]] = []
    try:
        from kexue.params import load_raw, validate

        reg = load()
        gp = validate(load_raw(ROOT / "params.yaml"), reg.articles)
        results.append(("params.yaml", True, f"valid (profile {gp.profile}, device {gp.device}, seed {gp.seed})"))
    except KexueError as e:
        results.append(("params.yaml", False, str(e)))
    results.append(("python", platform.python_version_tuple()[:2] == ("3", "11"), platform.python_version() + " (3.11 expected)"))
    try:
        import torch

        results.append(("torch", True, f"{torch.__version__}, cuda available: {torch.cuda.is_available()}"))
    except ImportError:
        results.append(("torch", False, "not installed: run `make venv`"))
    for tool in ("snakemake", "dvc", "git"):
        results.append((tool, shutil.which(tool) is not None, shutil.which(tool) or "not on PATH: run `make venv` and activate .venv"))
    from kexue.data.fashion_mnist import CACHE_DIR, CANONICAL_URL, FILES, FIX as FM_FIX, source_dir

    missing = [f for f in FILES if not (source_dir() / f).exists()]
    if not missing:
        msg = str(source_dir())
    elif source_dir() == CACHE_DIR:
        msg = f"not installed; its data stage will download {CANONICAL_URL} (or: {FM_FIX})"
    else:
        msg = f"missing {missing} in {source_dir()}: {FM_FIX}"
    results.append(("fashion-mnist", not missing, msg))
    from kexue.data.kjv import FIX as KJV_FIX

    results.append(("kjv text", shutil.which("bible") is not None, "bible command found" if shutil.which("bible") else KJV_FIX))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    results.append(("chromium (tests only)", chromium is not None, chromium or "apt-get install chromium (report screenshot test)"))
    ok = True
    for name, good, msg in results:
        ok &= good or name.startswith("chromium")
        if verbose:
            print(f"{'ok ' if good else 'BAD'}  {name:<22} {msg}")
    return 0 if ok else 1
