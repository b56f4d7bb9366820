"""The screening-agreement section: agreement between reviewers, exclusion reasons.

Per stage and pair of reviewers: observed agreement, Cohen's κ, PABAK and
Gwet's AC1 with their 95% confidence intervals, in words and in a table; and
the table of exclusion reasons (a stage without any exclusion yet left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evsynth.report.formatting import (
    _f,
    _frame_table,
    _humanise,
    _n,
    _num,
    _pct,
    _table,
)
from evsynth.report.loading import Review

_STAGE_NAMES = {"title_abstract": "Title and abstract", "full_text": "Full text"}


def _ci(row: Mapping[str, str], stat: str) -> str:
    """'0.82 (0.71 to 0.92)'; 'not estimable' without a value."""
    if _num(row.get(stat)) is None:
        return "not estimable"
    text = _f(row.get(stat))
    if _num(row.get(stat + "_low")) is not None:
        text += f" ({_f(row.get(stat + '_low'))} to {_f(row.get(stat + '_high'))})"
    return text


def _statistic(name: str, row: Mapping[str, str], stat: str) -> str:
    """Write "Cohen's κ = 0.82 (0.71 to 0.92)", or "Cohen's κ not estimable"."""
    text = _ci(row, stat)
    return f"{name} {text}" if text == "not estimable" else f"{name} = {text}"


def _has_exclusions(reasons: pd.DataFrame | None) -> bool:
    """Whether the exclusion-reasons table counts any exclusion yet."""
    if reasons is None or not len(reasons):
        return False
    if "total" not in reasons.columns:
        return True
    return any((_num(v) or 0) > 0 for v in reasons["total"])


def _agreement(review: Review) -> dict[str, Any]:
    frame = review.agreement
    reasons = review.exclusion_reasons
    out: dict[str, Any] = {
        "available": False,
        "paragraphs": [],
        "table": None,
        "reasons": None,
    }
    if frame is not None and len(frame):
        out["available"] = True
        rows = []
        for row in frame.to_dict("records"):
            stage = _STAGE_NAMES.get(row["stage"], _humanise(row["stage"]))
            scale = (
                "include / exclude"
                if row.get("scale") == "binary"
                else "include / exclusion reason"
            )
            pair = f"{row.get('reviewer_a', '')} and {row.get('reviewer_b', '')}"
            decided = int(_num(row.get("n")) or 0)
            if decided:
                rows.append(
                    [
                        stage,
                        scale,
                        pair,
                        row.get("n", ""),
                        _ci(row, "observed"),
                        _ci(row, "kappa"),
                        _ci(row, "pabak"),
                        _ci(row, "ac1"),
                    ]
                )
            if row.get("scale") != "binary":
                continue
            if not decided:
                out["paragraphs"].append(
                    f"{stage}: no record has been decided by both {pair} yet, so "
                    "their agreement cannot be estimated."
                )
                continue
            observed = _num(row.get("observed"))
            text = (
                f"{stage}: {pair} decided {_n(decided, 'record', 'records')} "
                "independently"
            )
            if observed is not None:
                text += f" and agreed on {_pct(100 * observed)} of them"
            out["paragraphs"].append(
                text
                + " ("
                + "; ".join(
                    _statistic(name, row, stat)
                    for name, stat in (
                        ("Cohen's κ", "kappa"),
                        ("PABAK", "pabak"),
                        ("Gwet's AC1", "ac1"),
                    )
                )
                + "; 95% confidence intervals)."
            )
        if rows:
            out["table"] = _table(
                [
                    "Stage",
                    "Decision",
                    "Reviewers",
                    "Records (n)",
                    "Observed agreement",
                    "Cohen's κ",
                    "PABAK",
                    "Gwet's AC1",
                ],
                rows,
                caption="Agreement between reviewers, with 95% confidence intervals "
                "(results/screening/agreement.csv)",
                numeric=[False, False, False, True, True, True, True, True],
            )
    if _has_exclusions(reasons):
        assert reasons is not None
        out["available"] = True
        headings = {
            "stage": "Stage",
            "reason": "Reason",
            "databases_registers": "Databases and registers",
            "other_methods": "Other methods",
            "total": "Total",
        }
        shown = reasons.copy()
        if {"stage", "total"} <= set(shown.columns):
            # a stage without any exclusion yet is left out
            totals = [_num(v) or 0 for v in shown["total"]]
            reached = {st for st, n in zip(shown["stage"], totals, strict=True) if n}
            shown = shown[[st in reached for st in shown["stage"]]]
        if "stage" in shown.columns:
            shown["stage"] = [_STAGE_NAMES.get(s, s) for s in shown["stage"]]
        out["reasons"] = _frame_table(
            shown,
            caption="Exclusion reasons (results/screening/exclusion_reasons.csv)",
            headings=headings,
        )
    return out
