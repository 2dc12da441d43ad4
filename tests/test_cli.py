"""The CLI: one clear message (exit 2, no traceback) for bad input, before any work."""
import os
import shutil
import subprocess
import sys

import pytest

from kexue.errors import KexueError
from kexue.runner import prepare
from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}


def kexue(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "kexue", *args], cwd=cwd, env=ENV, capture_output=True, text=True)


def test_unknown_article_and_stage_exit_2_with_message():
    p = kexue("stage", "1234", "train")
    assert p.returncode == 2 and "unknown article '1234'" in p.stderr and "Traceback" not in p.stderr
    p = kexue("stage", "9931", "nope")
    assert p.returncode == 2 and "has no stage 'nope'" in p.stderr


def test_unknown_profile_is_rejected_without_touching_params(tmp_path):
    before = (ROOT / "params.yaml").read_text()
    p = kexue("run", "9931", "--profile", "tiny")
    assert p.returncode == 2 and "unknown profile 'tiny'" in p.stderr
    assert (ROOT / "params.yaml").read_text() == before


def test_missing_input_names_producer(tmp_path):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    with pytest.raises(KexueError) as e:
        prepare("9931", "adam", root=tmp_path)
    msg = str(e.value)
    assert "data/fashion_mnist/fashion_mnist.npz" in msg and "dvc repro data_fashion_mnist" in msg


def test_invalid_params_stop_a_stage_before_work(tmp_path):
    text = (ROOT / "params.yaml").read_text().replace("seed: 0", "seed: -3")
    (tmp_path / "params.yaml").write_text(text)
    with pytest.raises(KexueError, match=r"seed = -3: Input should be greater than or equal to 0"):
        prepare("9775", "prepare", root=tmp_path)
    assert not (tmp_path / "data").exists()


def test_dag_check_and_list():
    assert kexue("dag", "--check").returncode == 0
    out = kexue("list").stdout
    assert "a9931_adam" in out and "python -m kexue stage 9775 run" in out
