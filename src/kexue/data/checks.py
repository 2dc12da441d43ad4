"""Opening prepared data files with a clear message when they are missing or corrupt."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from kexue.errors import KexueError


def open_npz(path: str | Path, keys: tuple[str, ...], made_by: str) -> dict:
    p = Path(path)
    fix = f"rerun its stage: `snakemake {p} -j1` or `dvc repro {made_by}`"
    if not p.exists():
        raise KexueError(f"{p} is missing; {fix}")
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise KexueError(f"{p} lacks arrays {missing}; it is corrupt or stale; delete it and {fix}")
            return {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise KexueError(f"{p} is corrupt ({e}); delete it and {fix}") from None
