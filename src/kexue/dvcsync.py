"""Record a Snakemake run in DVC's lock without disturbing Snakemake.

`dvc commit --force` re-links every output from its cache, which gives the files new
modification times. Snakemake ignores mtime as a rerun trigger (our profile), except in
one place: inputs larger than its checksum limit (1 MB) are compared by mtime, so the next
`snakemake -n` would rerun everything downstream of a big dataset. So we put the times back.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _stamps(paths: list[Path]) -> list[tuple[Path, int, int]]:
    out = []
    for p in paths:
        if not p.exists():
            continue
        found = [p, *p.rglob("*")] if p.is_dir() else [p]
        for f in found:
            st = f.stat()
            out.append((f, st.st_atime_ns, st.st_mtime_ns))
    # files first, then folders deepest first: re-linking a file changes its folder's mtime
    out.sort(key=lambda t: (t[0].is_dir(), -len(t[0].parts)))
    return out


def sinks(nodes) -> list[str]:
    """The stages of `nodes` that no other stage of `nodes` reads from."""
    produced = {o: n.name for n in nodes for o in n.outs}
    upstream = {produced[d] for n in nodes for d in n.data_deps if d in produced}
    return sorted(n.name for n in nodes if n.name not in upstream)


def commit(names: list[str], root: Path) -> None:
    """`dvc commit --force` of the stages `names` keeping every output's atime/mtime as it was.

    A Snakemake run's DAG is closed under "upstream of", so it is exactly the sinks plus
    everything they depend on: `--with-deps <sinks>` names it in one go. (DVC pays ~3 s per
    target on a 50-stage pipeline, so listing every stage made the hook take minutes.)
    """
    from kexue.registry import load

    nodes = [n for n in load().nodes if n.name in set(names)]
    stamps = _stamps([root / o for n in nodes for o in n.outs])
    subprocess.run(["dvc", "commit", "--force", "--quiet", "--with-deps", *sinks(nodes)], cwd=root, check=True)
    for path, atime, mtime in stamps:
        if path.exists():
            os.utime(path, ns=(atime, mtime))
