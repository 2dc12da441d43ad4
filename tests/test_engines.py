"""Both engines run the same declared DAG and agree on it (smoke profile, temporary clones)."""
from __future__ import annotations

import json
import re

import yaml

from kexue import dvcgen
from kexue.params import load_raw, validate
from kexue.registry import load
from tests.conftest import ROOT
from tests.engines import dvc, dvc_ran, make_clone, snakemake, snakemake_jobs


def _edges_from_dot(text: str, names: set[str]) -> set[tuple[str, str]]:
    """Edges of a DOT graph, with node ids mapped to stage names through their labels."""
    label = {}
    for nid, lab in re.findall(r'^\s*"?(\w+)"?\s*\[.*?label\s*=\s*"([^"]+)"', text, re.M):
        label[nid] = lab
    edges = set()
    for a, b in re.findall(r'^\s*"?(\w+)"?\s*->\s*"?(\w+)"?', text, re.M):
        la, lb = label.get(a, a), label.get(b, b)
        if la in names and lb in names:
            edges.add((la, lb))
    return edges


def _registry_edges() -> set[tuple[str, str]]:
    reg = load()
    return {(reg.producer(d).name, n.name) for n in reg.nodes for d in n.data_deps}


def test_committed_dvc_yaml_equals_fresh_generation():
    assert (ROOT / "dvc.yaml").read_text() == dvcgen.generate(), "dvc.yaml is stale: run `python -m kexue dag`"


def test_snakemake_rules_and_dvc_stages_match():
    from kexue.snake import build

    wf = build({}, ROOT)
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert [r.name for r in wf.rules] == list(stages)
    for r in wf.rules:
        st = stages[r.name]
        assert r.cmd == st["cmd"]
        assert r.inputs == st["deps"]
        outs = [o if isinstance(o, str) else next(iter(o)) for o in st["outs"]]
        persisted = [next(iter(o)) for o in st["outs"] if not isinstance(o, str)]
        assert sorted(r.outputs) == sorted([o for o in outs if o not in persisted] + st.get("metrics", []))
        # Snakemake compares the resolved values of exactly the keys DVC tracks
        assert sorted(json.loads(r.values)) == sorted(k.split(".")[-1] for k in st["params"])


def test_engines_see_same_stages_edges_commands(tmp_path):
    clone = make_clone(tmp_path)
    names = {n.name for n in load().nodes}
    want = _registry_edges()
    sm = snakemake(clone, "--dag", "-j1", "--quiet", "all").stdout
    assert _edges_from_dot(sm, names) == want
    dv = dvc(clone, "dag", "--dot").stdout
    assert _edges_from_dot(dv, names) == want
    assert set(re.findall(r'^"(\w+)";', dv, re.M)) == names
    assert set(re.findall(r'label = "(\w+)"', sm)) == names | {"all"}
    # the commands each engine would run
    dry = snakemake(clone, "-n", "-p", "-j1")
    sm_cmds = set(re.findall(r"^Shell command: (.+)$", dry.stdout + dry.stderr, re.M)) - {"None"}  # rule all
    dvc_cmds = {st["cmd"] for st in yaml.safe_load((clone / "dvc.yaml").read_text())["stages"].values()}
    assert sm_cmds == dvc_cmds == {n.cmd for n in load().nodes}


def test_snakemake_run_then_dvc_status_clean_and_noop(snake_clone):
    clone, _ = snake_clone
    for art in load().reported:
        assert (clone / art.report_dir / "index.html").exists()
    assert (clone / "reports/index.html").exists()
    status = dvc(clone, "status", "--json").stdout.strip()
    assert json.loads(status or "{}") == {}, status
    assert snakemake_jobs(snakemake(clone, "-n", "-j2")) == set()
    again = dvc(clone, "repro")
    assert dvc_ran(again) == set(), again.stdout


def test_dvc_repro_alone_gives_same_verdicts(snake_clone, dvc_clone):
    a, _ = snake_clone
    b, proc = dvc_clone
    assert dvc_ran(proc) == {n.name for n in load().nodes}
    assert dvc_ran(dvc(b, "repro")) == set(), "a second dvc repro must be a no-op"
    for art in load().reported:
        va = json.loads((a / art.report_dir / "verdicts.json").read_text())
        vb = json.loads((b / art.report_dir / "verdicts.json").read_text())
        key = lambda v: [(c["claim"], c["verdict"], c["measured"]) for c in v["claims"]]  # noqa: E731
        assert key(va) == key(vb), art.id
        assert all(c["verdict"] in ("pass", "fail", "not-run") for c in va["claims"])
        assert va["claims"], f"{art.id} has no computed claims"


def _downstream(start: set[str]) -> set[str]:
    edges = _registry_edges()
    out, todo = set(start), list(start)
    while todo:
        n = todo.pop()
        for a, b in edges:
            if a == n and b not in out:
                out.add(b)
                todo.append(b)
    return out


def _bump_one_param(clone):
    """Change one 9931 parameter read by a single stage; return the stages that must rerun."""
    reg = load()
    art = reg.article("9931")
    raw = load_raw(clone / "params.yaml")
    for node in (n for n in reg.nodes if n.article is art):
        for key in node.stage.params:
            readers = [n for n in reg.nodes if n.article is art and key in n.stage.params]
            value = raw[art.key][key]
            cur = value["smoke"] if isinstance(value, dict) else value
            if len(readers) != 1 or not isinstance(cur, int) or isinstance(cur, bool):
                continue
            new = {**value, "smoke": cur + 1} if isinstance(value, dict) else cur + 1
            raw[art.key][key] = new
            validate(raw, reg.articles)
            text = (clone / "params.yaml").read_text()
            block = yaml.safe_load(text)
            block[art.key][key] = new
            (clone / "params.yaml").write_text(yaml.safe_dump(block, sort_keys=False))
            return f"{art.key}.{key}", _downstream({node.name})
    raise AssertionError("no single-reader integer parameter in 9931")


def test_one_param_change_reruns_only_dependents_in_both_engines(snake_clone, dvc_clone):
    a, _ = snake_clone
    b, _ = dvc_clone
    key, expected = _bump_one_param(a)
    _bump_one_param(b)
    assert all(n.startswith(("a9931_", "site_")) for n in expected)
    assert snakemake_jobs(snakemake(a, "-n", "-j2")) == expected
    ran = snakemake_jobs(snakemake(a, "-j2"))
    assert ran == expected, key
    assert dvc_ran(dvc(b, "repro")) == expected, key
    diff = dvc(b, "params", "diff").stdout
    assert key in diff
    assert snakemake_jobs(snakemake(a, "-n", "-j2")) == set()


def test_template_edit_rerenders_reports_without_retraining(tmp_path, snake_clone):
    a, _ = snake_clone
    css = a / "src/kexue/report/templates/style.css"
    css.write_text(css.read_text() + "\n/* edited */\n")
    # the site index shares the stylesheet; no compute stage may appear
    want = {f"{art.key}_report" for art in load().reported} | {"site_index"}
    jobs = snakemake_jobs(snakemake(a, "-n", "-j2"))
    assert jobs == want, jobs
    status = json.loads(dvc(a, "status", "--json").stdout or "{}")
    assert set(status) == want, status


def test_partial_snakemake_run_records_only_its_stages(tmp_path):
    """`snakemake <one article>` succeeds and DVC then agrees that article is up to date."""
    clone = make_clone(tmp_path)
    art = load().article("9775")
    snakemake(clone, art.report_dir, "-j2")
    assert dvc(clone, "status", f"{art.key}_report", "--with-deps").stdout.strip() == "Data and pipelines are up to date."
    assert dvc_ran(dvc(clone, "repro", f"{art.key}_report")) == set()
