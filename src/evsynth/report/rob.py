"""The risk-of-bias section: overall judgements by tool in words, figures, tables."""

from __future__ import annotations

from typing import Any

from evsynth.report.formatting import _frame_table, _join, _n
from evsynth.report.loading import Review


def _rob(review: Review) -> dict[str, Any]:
    from evsynth.rob.model import TOOLS

    if review.rob_overall is None and not review.rob_tables:
        return {"available": False}
    paragraphs = []
    if review.rob_overall is not None:
        for tool, spec in TOOLS.items():
            rows = review.rob_overall[review.rob_overall["tool"] == tool]
            if not len(rows):
                continue
            counts = rows["overall"].value_counts()
            parts = [
                f"{int(counts[level])} {spec.labels[level].lower()}"
                for level in spec.levels
                if level in counts
            ]
            paragraphs.append(
                f"{spec.name} ({spec.design}) was applied to "
                f"{_n(len(rows), 'study', 'studies')}; overall judgements: "
                f"{_join(parts)}."
            )
    tables = []
    for tool, frame in review.rob_tables.items():
        tables.append(
            _frame_table(
                frame,
                caption=f"{TOOLS[tool].name} judgements (results/rob/{tool}_table.csv)",
                small=True,
            )
        )
    return {
        "available": True,
        "paragraphs": paragraphs,
        "figures": review.rob_figures,
        "tables": tables,
    }
