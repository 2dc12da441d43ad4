"""The King James Bible as an English character corpus (public domain).

Source: the Debian package `bible-kjv-text`, read through its `bible` command; one verse
a line, with the verse reference ("Ge1:1 ") stripped. 4.1 MB, 73 distinct characters.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from kexue.errors import KexueError
from kexue.io import atomic_write_text, sha256_bytes

KJV_SHA256 = "b5c4940bcfeee072c0935b5200d0f9d88a00a0199cb0961d16133458fcdfae5d"
FIX = "install it with `sudo apt-get install bible-kjv-text` (Debian/Ubuntu)"
_REF = re.compile(r"^[A-Za-z0-9]+:[0-9]+ ", re.M)


def prepare_kjv(out: Path) -> dict:
    exe = shutil.which("bible")
    if exe is None:
        raise KexueError(f"the KJV corpus needs the `bible` command of bible-kjv-text, which is not installed; {FIX}.")
    proc = subprocess.run([exe, "-f", "gen1:1-rev22:21"], capture_output=True, check=False)
    if proc.returncode != 0:
        raise KexueError(f"`bible -f gen1:1-rev22:21` failed ({proc.stderr.decode()[:200]}); reinstall: {FIX}.")
    text = _REF.sub("", proc.stdout.decode("utf-8"))
    digest = sha256_bytes(text.encode("utf-8"))
    if digest != KJV_SHA256:
        raise KexueError(f"the KJV text fails its SHA-256 check (got {digest[:16]}..., expected {KJV_SHA256[:16]}...); "
                         f"the package data is corrupt or a different edition; reinstall: {FIX}.")
    atomic_write_text(out, text)
    return {"chars": len(text), "vocab": len(set(text)), "sha256": digest}


def load_kjv(path: str | Path = "data/kjv/kjv.txt") -> str:
    p = Path(path)
    if not p.exists():
        raise KexueError(f"{p} is missing; rerun its stage: `snakemake {p} -j1` or `dvc repro data_kjv`.")
    return p.read_text(encoding="utf-8")
