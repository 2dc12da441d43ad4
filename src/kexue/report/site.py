"""The site index: every article with its verdict counts, and a search box over all
reports (titles in English and Chinese, summaries, claims). The search runs in an inline
script over an inline JSON index, so it works from file:// with no server and no CDN."""
from __future__ import annotations

import json

from kexue import io
from kexue.report import render


def index(ctx):
    from kexue.registry import load

    entries, docs = [], []
    for art in load().reported:
        folder = ctx.inp(art.key)
        v = io.read_json(folder / "verdicts.json")
        entries.append({"a": art, "s": v["summary"], "profile": v["profile"], "href": f"{art.dirname}/index.html"})
        text = " ".join([art.title, art.title_zh, art.summary] +
                        [f"{c['claim']} {c['statement']} {c['verdict']}" for c in v["claims"]])
        docs.append({"id": art.id, "title": art.title, "title_zh": art.title_zh, "href": f"{art.dirname}/index.html",
                     "text": text, "claims": [{"id": c["claim"], "statement": c["statement"],
                                               "verdict": c["verdict"]} for c in v["claims"]]})
    search_json = json.dumps(docs, ensure_ascii=False).replace("</", "<\\/")
    html = render.render("index.html.j2", entries=entries, search_json=search_json)
    io.atomic_write_text(ctx.out("index"), html)
    io.atomic_write_json(ctx.out("search"), docs)
    ctx.log(f"index of {len(entries)} articles -> reports/index.html")
