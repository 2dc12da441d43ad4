"""No-op overhead of the two engines on the real DAG, as a ratio to a trivial one-stage
pipeline measured in the same run (so machine speed cancels out).

    python bench/overhead.py [--repeats 5]

Steps: copy the working tree to a temporary git+DVC repo at the smoke profile, run it once
with Snakemake (which records DVC's lock), then time no-op `dvc repro`, `dvc status` and
`snakemake -n`; do the same on a one-stage pipeline; print medians and ratios.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.engines import BIN, env, git, make_clone  # noqa: E402

TRIVIAL_DVC = "stages:\n  one:\n    cmd: echo hello > out.txt\n    outs:\n    - out.txt\n"
TRIVIAL_SMK = 'rule one:\n    output: "out.txt"\n    shell: "echo hello > {output}"\n'


def timed(cwd: Path, cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env(cwd), check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def trivial(tmp: Path) -> Path:
    (tmp / "dvc.yaml").write_text(TRIVIAL_DVC)
    (tmp / "Snakefile").write_text(TRIVIAL_SMK)
    git(tmp, "init", "-q")
    subprocess.run([str(BIN / "dvc"), "init", "-q"], cwd=tmp, check=True)
    git(tmp, "add", "-A")
    git(tmp, "commit", "-qm", "trivial")
    subprocess.run([str(BIN / "dvc"), "repro", "-q"], cwd=tmp, check=True, env=env(tmp))
    return tmp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        real = make_clone(Path(a))
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "snakemake"), "-j2", "--quiet"], cwd=real, env=env(real), check=True,
                       capture_output=True)
        first = time.perf_counter() - t0
        triv = trivial(Path(b))
        rows = []
        for label, cmd in (("dvc repro (no-op)", [str(BIN / "dvc"), "repro"]),
                           ("dvc status", [str(BIN / "dvc"), "status"]),
                           ("snakemake -n (no-op)", [str(BIN / "snakemake"), "-n", "-j1", "--quiet"])):
            r, t = timed(real, cmd, args.repeats), timed(triv, cmd, args.repeats)
            rows.append((label, r, t, r / t))
    print(f"first smoke run of the real DAG with snakemake -j2: {first:.1f} s")
    print(f"{'command':<24}{'real DAG (s)':>14}{'1-stage (s)':>14}{'ratio':>8}")
    for label, r, t, ratio in rows:
        print(f"{label:<24}{r:>14.2f}{t:>14.2f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
