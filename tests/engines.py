"""Helpers for the engine tests: a throw-away copy of the working tree, set to the smoke
profile, in its own git + DVC repository, and runners for both engines."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def make_clone(dst: Path, profile: str = "smoke") -> Path:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    params = dst / "params.yaml"
    params.write_text(re.sub(r"(?m)^profile:.*$", f"profile: {profile}", params.read_text()))
    # The committed dvc.lock records the default profile, which a smoke clone can never reuse; DVC re-parses
    # and rewrites the whole lock file after every stage, so starting from an empty lock halves its run time.
    if profile != "default":
        (dst / "dvc.lock").unlink(missing_ok=True)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-qm", "test clone")
    return dst


def env(clone: Path) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("SNAKEMAKE", "DVC_"))}
    e["PATH"] = f"{BIN}:{e.get('PATH', '')}"
    e["PYTHONPATH"] = f"{clone / 'src'}:{clone}"  # the clone's code, not the installed checkout
    e["OMP_NUM_THREADS"] = "1"
    return e


def git(clone: Path, *args) -> str:
    e = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
         "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=clone, check=True, capture_output=True, text=True, env=e).stdout


def run(clone: Path, *cmd, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    p = subprocess.run(list(cmd), cwd=clone, env=env(clone), capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-6000:]}")
    return p


def start(clone: Path, *cmd) -> tuple[subprocess.Popen, Path]:
    """Start a command in the background; its output goes to a file (a pipe would fill up and block it)."""
    log = clone.parent / f"{clone.name}.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(list(cmd), cwd=clone, env=env(clone), stdout=fh, stderr=subprocess.STDOUT, text=True)
    return proc, log


def finish(started: tuple[subprocess.Popen, Path], timeout: int = 1800) -> subprocess.CompletedProcess:
    proc, log = started
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    out = log.read_text()
    if rc != 0:
        raise AssertionError(f"{' '.join(proc.args)} failed ({rc}):\n{out[-8000:]}")
    return subprocess.CompletedProcess(proc.args, rc, out, "")


def snakemake(clone: Path, *args, **kw) -> subprocess.CompletedProcess:
    return run(clone, str(BIN / "snakemake"), *args, **kw)


def dvc(clone: Path, *args, **kw) -> subprocess.CompletedProcess:
    return run(clone, str(BIN / "dvc"), *args, **kw)


def snakemake_jobs(p: subprocess.CompletedProcess) -> set[str]:
    """Rules of the jobs a Snakemake run executed (or would, with -n)."""
    out = p.stdout + p.stderr
    return set(re.findall(r"^\s*(?:local)?rule (\w+):", out, re.M)) - {"all"}


def dvc_ran(p: subprocess.CompletedProcess) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", p.stdout + p.stderr))
