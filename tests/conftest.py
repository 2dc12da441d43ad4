import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("OMP_NUM_THREADS", "1")


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def snake_clone(tmp_path_factory):
    """Smoke profile of every article run by `snakemake -j2` (then `dvc commit` via onsuccess)."""
    from tests.engines import make_clone, snakemake

    clone = make_clone(tmp_path_factory.mktemp("snake"))
    proc = snakemake(clone, "-j2")
    return clone, proc


@pytest.fixture(scope="session")
def dvc_clone(tmp_path_factory):
    """Smoke profile of every article run by `dvc repro` alone."""
    from tests.engines import dvc, make_clone

    clone = make_clone(tmp_path_factory.mktemp("dvc"))
    proc = dvc(clone, "repro")
    return clone, proc
