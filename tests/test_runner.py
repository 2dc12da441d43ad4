"""A stage killed or failing half-way leaves no output a later run could trust."""
import os
import signal
import subprocess
import sys

import pytest

from kexue.runner import STAGING
from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}


def _run(root, *args, **kw):
    return subprocess.Popen([sys.executable, "-m", "tests._fake_stage", str(root), *args], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_kill_9_leaves_no_half_written_output(tmp_path):
    proc = _run(tmp_path, "30")
    assert proc.stdout.readline().strip() == "WROTE"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "data/t1/result.txt").exists()
    assert not (tmp_path / "data/runinfo/t1_slow.json").exists()
    # the next run cleans the stale staging folder and completes
    done = _run(tmp_path, "0")
    done.communicate(timeout=60)
    assert done.returncode == 0
    assert (tmp_path / "data/t1/result.txt").read_text() == "half and the rest"
    assert list((tmp_path / STAGING).iterdir()) == []


def test_failing_stage_keeps_previous_output_untouched(tmp_path):
    done = _run(tmp_path, "0")
    done.communicate(timeout=60)
    proc = _run(tmp_path, "0", "failing")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "stage bug" in err
    assert (tmp_path / "data/t1/result.txt").read_text() == "half and the rest"


@pytest.mark.parametrize("path", ["src/kexue/report/templates/style.css", "src/kexue/report/stage.py"])
def test_report_code_is_a_dependency_of_report_stages_only(path):
    from kexue.registry import load

    for node in load().nodes:
        deps = node.code_deps()
        if node.stage.name == "report" or node.name == "site_index":
            assert path in deps or node.name == "site_index" and path.endswith("stage.py"), node.name
        else:
            assert path not in deps, f"{node.name} would rerun when {path} changes"


def test_every_stage_depends_on_its_own_module_and_runtime():
    from kexue.registry import load

    for node in load().nodes:
        deps = node.code_deps()
        assert "src/kexue/runtime.py" in deps and "src/kexue/io.py" in deps
        mod = node.stage.fn.__module__.replace(".", "/") + ".py"
        assert any(d.endswith(mod) for d in deps), (node.name, mod)


def test_claims_module_is_a_dependency_of_the_report_only():
    """Editing a claim's wording or check re-renders the report; it never retrains."""
    import stages
    from kexue.registry import load

    reg = load()
    for modname in stages.ARTICLE_MODULES:
        path = modname.replace(".", "/") + ".py"
        readers = {n.name for n in reg.nodes if path in n.code_deps()}
        art = next((a for a in reg.reported if f"{a.key}_" in modname.split(".")[1] + "_"), None)
        if art is None:
            continue
        assert readers == {f"{art.key}_report"}, (path, readers)
