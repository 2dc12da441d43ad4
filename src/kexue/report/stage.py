"""The generic `report` stage every article gets: verdicts + HTML/Markdown report.

Writes reports/<id>-<slug>/{index.html, index.md, verdicts.json, metrics.json, figures/}.
"""
from __future__ import annotations

import base64
import shutil

from kexue import io
from kexue.report import mathtext, render, verdicts


def _params_text(values: dict) -> str:
    shown = {k: v for k, v in values.items() if k not in ("seed",)}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def report(ctx):
    art = ctx.article
    metrics: dict = {}
    runs = []
    for s in art.stages:
        if s.name == "report":
            continue
        if s.metrics:
            part = io.read_json(ctx.inp(f"{s.name}_metrics"))
            clash = set(part) & set(metrics)
            if clash:
                raise ValueError(f"article {art.id}: metrics keys {sorted(clash)} appear in two stages")
            metrics.update(part)
        runs.append(io.read_json(ctx.inp(f"{s.name}_runinfo")))
    rows = verdicts.compute(art, metrics, ctx.profile)
    summ = verdicts.summary(rows)
    for r in rows:
        r_html = {f"{k}_html": mathtext.inline(str(r[k])) for k in ("statement", "reference", "measured", "note")}
        r.update(r_html)
    out = ctx.out("report")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    runinfo = {r["stage"].split("_", 1)[1]: r for r in runs}
    figs = []
    maker = next((s for s in art.stages if "figures" in s.outs), None)
    for f in art.figures:
        src = ctx.inp(f"{maker.name}_figures") / f.file
        shutil.copyfile(src, out / "figures" / f.file)
        ri = runinfo[f.source]
        figs.append({"file": f.file, "title": f.title, "caption": f.caption,
                     "caption_html": mathtext.inline(f.caption), "b64": base64.b64encode(src.read_bytes()).decode(),
                     "maker": f"{art.key}_{maker.name}", "source": ri["stage"], "params_hash": ri["params_hash"],
                     "params_text": _params_text(ri["params"]), "target": maker.outs["figures"].rstrip("/")})
    tables = [_table(t, metrics) for t in art.tables]
    clean_rows = [{k: v for k, v in r.items() if not k.endswith("_html")} for r in rows]
    ctx_t = dict(a=art, rows=rows, s=summ, profile=ctx.profile, figures=figs, runs=runs, tables=tables,
                 summary=mathtext.markdown(art.summary), total_s=sum(r["wall_s"] for r in runs),
                 torch=next((r["torch"] for r in runs if r["torch"] != "not imported"), "not used"),
                 python=runs[0]["python"] if runs else "", commit=_commit(ctx))
    io.atomic_write_text(out / "index.html", render.render("article.html.j2", **ctx_t))
    io.atomic_write_text(out / "index.md", render.render("article.md.j2", **{**ctx_t, "rows": clean_rows}))
    io.atomic_write_json(out / "verdicts.json", {"article": art.id, "title": art.title, "profile": ctx.profile,
                                                 "summary": summ, "claims": clean_rows})
    io.atomic_write_json(out / "metrics.json", metrics)
    ctx.log(f"{summ['pass']} pass, {summ['fail']} fail, {summ['not-run']} not run -> {art.report_dir}/index.html")


def _cell(v) -> str:
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_cell(x) for x in v) + ")"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _table(t, metrics) -> dict:
    rows = metrics.get(t.key)
    if rows is None:
        return {"title": t.title, "caption": f"{t.caption} (metric {t.key!r} missing: not run)", "header": [], "rows": []}
    return {"title": t.title, "caption": t.caption, "header": [h for h, _ in t.columns],
            "rows": [[_cell(r.get(f, "—")) for _, f in t.columns] for r in rows]}


def _commit(ctx) -> str:
    from kexue.runner import git_commit

    return git_commit(ctx.root)
