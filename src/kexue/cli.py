"""`kexue` (or `python -m kexue`): list, run, report, check, dag, stage."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from kexue.errors import KexueError
from kexue.pipeline import PROFILES
from kexue.registry import ROOT


def cmd_stage(args) -> int:
    from kexue.runner import run_stage

    run_stage(args.article, args.stage)
    return 0


def cmd_list(args) -> int:
    from kexue import io
    from kexue.registry import load

    reg = load()
    for art in reg.articles:
        line = f"{art.id:>6}  {art.title}"
        vpath = ROOT / art.report_dir / "verdicts.json" if art.report else None
        if vpath and vpath.exists():
            s = io.read_json(vpath)
            sm = s["summary"]
            line += f"  [{s['profile']}: {sm['pass']} pass, {sm['fail']} fail, {sm['not-run']} not run]"
        elif art.report:
            line += "  [not run yet]"
        print(line)
        for n in reg.nodes:
            if n.article is art:
                print(f"          {n.name:<28} {n.cmd}")
    return 0


def set_profile(profile: str, path: Path = ROOT / "params.yaml") -> None:
    """Change the `profile:` line of params.yaml in place (comments kept)."""
    if profile not in PROFILES:
        raise KexueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r"(?m)^profile:\s*\S+", f"profile: {profile}", text, count=1)
    if n != 1:
        raise KexueError(f"{path}: no top-level `profile:` line to change; add `profile: {profile}`")
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"params.yaml: profile set to {profile}", file=sys.stderr)


def _engine(engine: str, targets: list[str], jobs: int) -> int:
    if engine == "snakemake":
        cmd = ["snakemake", "-j", str(jobs), *targets]
    else:
        cmd = ["dvc", "repro", *targets]
    print("+ " + " ".join(cmd), file=sys.stderr)
    return subprocess.call(cmd, cwd=ROOT)


def cmd_run(args) -> int:
    from kexue.registry import load

    reg = load()
    if args.profile:
        set_profile(args.profile)
    if args.article in (None, "all"):
        targets = [] if args.engine == "snakemake" else []
    else:
        art = reg.article(args.article)
        if not art.report:
            raise KexueError(f"{art.id} is not a reported article")
        targets = [art.report_dir] if args.engine == "snakemake" else [f"{art.key}_report"]
    return _engine(args.engine, targets, args.jobs)


def cmd_report(args) -> int:
    from kexue.registry import load

    reg = load()
    if args.engine == "snakemake":
        targets = [a.report_dir for a in reg.reported] + ["reports/index.html"]
    else:
        targets = ["site_index"]
    rc = _engine(args.engine, targets, args.jobs)
    if rc == 0:
        print(f"report: {ROOT / 'reports' / 'index.html'}")
    return rc


def cmd_dag(args) -> int:
    from kexue import dvcgen

    text = dvcgen.generate()
    path = ROOT / "dvc.yaml"
    if args.check:
        same = path.exists() and path.read_text(encoding="utf-8") == text
        print("dvc.yaml is up to date" if same else "dvc.yaml is stale: run `python -m kexue dag`")
        return 0 if same else 1
    dvcgen.write()
    print(f"wrote {path}")
    return 0


def cmd_check(args) -> int:
    from kexue.checks import run_checks

    return run_checks(verbose=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kexue", description="kexue-lab: reproducible experiments for kexue.fm articles")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stage", help="run one stage (the command both engines call)")
    s.add_argument("article"), s.add_argument("stage")
    s.set_defaults(fn=cmd_stage)
    s = sub.add_parser("list", help="articles, their stages and last verdicts")
    s.set_defaults(fn=cmd_list)
    s = sub.add_parser("run", help="run an article's pipeline (or all) with Snakemake or DVC")
    s.add_argument("article", nargs="?", help="article id (e.g. 9931) or 'all'")
    s.add_argument("--profile", help="set params.yaml's profile first (smoke | default | full)")
    s.add_argument("--engine", choices=("snakemake", "dvc"), default="snakemake")
    s.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    s.set_defaults(fn=cmd_run)
    s = sub.add_parser("report", help="(re)build every report and reports/index.html")
    s.add_argument("--engine", choices=("snakemake", "dvc"), default="snakemake")
    s.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    s.set_defaults(fn=cmd_report)
    s = sub.add_parser("check", help="validate params.yaml, datasets and the environment")
    s.set_defaults(fn=cmd_check)
    s = sub.add_parser("dag", help="write dvc.yaml from the stage registry")
    s.add_argument("--check", action="store_true", help="only report whether dvc.yaml is up to date")
    s.set_defaults(fn=cmd_dag)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except KexueError as e:
        print(f"kexue: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `kexue list | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
