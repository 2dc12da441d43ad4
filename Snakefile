# kexue-lab workflow. Every rule is generated from the stage registry in stages/ —
# the DAG is declared once, there; dvc.yaml is generated from the same registry.
# Run: snakemake -j2        (profiles/default/config.yaml is applied automatically)
import sys
from pathlib import Path

ROOT = Path(workflow.basedir)
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from kexue.errors import KexueError
from kexue.snake import build

workdir: str(ROOT)  # run from anywhere: `snakemake -s path/to/Snakefile`
configfile: str(ROOT / "params.yaml")

try:
    WF = build(config, ROOT)
except KexueError as e:
    raise WorkflowError(str(e)) from None

rule all:
    default_target: True
    input: WF.targets

for spec in WF.rules:
    rule:
        name: spec.name
        input: spec.inputs
        output: [directory(o) if o in spec.out_dirs else o for o in spec.outputs]
        # the command travels in params: `shell:` text in a loop is formatted at job time,
        # so a literal would bind the last stage's command (late-binding trap)
        params: cmd=spec.cmd, values=spec.values
        threads: spec.threads
        resources: mem_mb=spec.mem_mb, runtime=spec.runtime, gpu=spec.gpu
        shell: "{params.cmd}"

# Record the results in DVC's lock so `dvc status`, `dvc metrics diff` and `dvc push` see them.
# Only the stages of this run's DAG are committed: they are the ones Snakemake just brought up
# to date; a stage outside it may hold outputs that are stale for the current params.yaml.
onsuccess:
    import os, shutil
    from kexue.dvcsync import commit
    if (ROOT / ".dvc").is_dir() and shutil.which("dvc") and not os.environ.get("KEXUE_NO_DVC_COMMIT"):
        names = sorted({job.rule.name for job in workflow.dag.jobs} - {"all"})
        if names:
            commit(names, ROOT)  # keeps output mtimes (see kexue/dvcsync.py)
