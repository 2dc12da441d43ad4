"""A stage that writes half its output and then waits to be killed (tests/test_runner.py)."""
import sys
import time
from pathlib import Path

from kexue.pipeline import Article, Stage
from kexue.registry import Node
from kexue.runner import execute


def slow(ctx):
    out = ctx.out("result")
    out.write_text("half")
    print("WROTE", flush=True)
    time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0)
    out.write_text("half and the rest")


def failing(ctx):
    ctx.out("result").write_text("partial")
    raise RuntimeError("stage bug")


ARTICLE = Article(id="t1", slug="fake", title="fake", key="t1", report=False, stages=(
    Stage("slow", slow, outs={"result": "data/t1/result.txt"}),
    Stage("failing", failing, outs={"result": "data/t1/result.txt"}),
))

if __name__ == "__main__":
    root = Path(sys.argv[1])
    stage = ARTICLE.stage(sys.argv[3] if len(sys.argv) > 3 else "slow")
    execute(Node(ARTICLE, stage), {"profile": "smoke", "seed": 0}, {}, root)
