import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("OMP_NUM_THREADS", "1")


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def engine_runs(tmp_path_factory):
    """The smoke profile of every article through both engines AT ONCE, each in its own clone: `dvc repro` (serial)
    in the background while `snakemake -j2` runs in the foreground. Run one after the other, DVC's serial run left a
    core idle; together they keep both CI cores busy, and the pair costs little more than the slower one alone."""
    from tests.engines import BIN, finish, make_clone, snakemake, start

    dvc_dir = make_clone(tmp_path_factory.mktemp("dvc"))
    snake_dir = make_clone(tmp_path_factory.mktemp("snake"))
    background = start(dvc_dir, str(BIN / "dvc"), "repro")
    try:
        snake_proc = snakemake(snake_dir, "-j2")
    except BaseException:
        background[0].kill()
        raise
    dvc_proc = finish(background)
    return (snake_dir, snake_proc), (dvc_dir, dvc_proc)


@pytest.fixture(scope="session")
def snake_clone(engine_runs):
    """Smoke profile of every article run by `snakemake -j2` (then `dvc commit` via onsuccess)."""
    return engine_runs[0]


@pytest.fixture(scope="session")
def dvc_clone(engine_runs):
    """Smoke profile of every article run by `dvc repro` alone."""
    return engine_runs[1]
