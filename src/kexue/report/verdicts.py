"""Verdicts are computed, never written: each claim's check runs on the stored metrics."""
from __future__ import annotations

from typing import Any, Mapping

from kexue.pipeline import Article


def compute(article: Article, metrics: Mapping[str, Any], profile: str) -> list[dict]:
    rows = []
    for c in article.claims:
        expected_here = profile in c.expected_at
        try:
            out = c.check(metrics, profile)
            verdict, measured, detail = ("pass" if out.passed else "fail"), out.measured, out.detail
        except KeyError as e:
            verdict, measured, detail = "not-run", "—", f"metric {e} not in the stored metrics"
        if verdict == "not-run":
            agreement = "not run"
        elif not expected_here:
            agreement = f"not expected at {profile}"
        elif verdict == c.expected:
            agreement = "as the card predicts" if c.expected == "fail" else "reproduced"
        else:
            agreement = "not reproduced" if c.expected == "pass" else "card predicted fail"
        rows.append({
            "claim": c.id, "statement": c.statement, "reference": c.reference, "measured": measured,
            "verdict": verdict, "profile": profile, "expected_at": list(c.expected_at),
            "expected": c.expected, "agreement": agreement, "detail": detail, "note": c.note,
        })
    return rows


def summary(rows: list[dict]) -> dict:
    count = lambda key, val: sum(1 for r in rows if r[key] == val)  # noqa: E731
    return {
        "claims": len(rows), "pass": count("verdict", "pass"), "fail": count("verdict", "fail"),
        "not-run": count("verdict", "not-run"), "reproduced": count("agreement", "reproduced"),
        "as_predicted_fail": count("agreement", "as the card predicts"),
        "not_reproduced": sum(1 for r in rows if r["agreement"] in ("not reproduced", "card predicted fail")),
    }
