"""The qualitative-synthesis section: barrier and facilitator themes, CERQual."""

from __future__ import annotations

from typing import Any

import pandas as pd

from evsynth.report.formatting import _capital, _count, _frame_table, _join, _n
from evsynth.report.loading import Review


def _qualitative(review: Review) -> dict[str, Any]:
    from evsynth.qualitative.tables import BF_HEADINGS, EXCERPT_SEP

    tables = []
    paragraphs = []
    for frame, title, kind in (
        (review.barriers, "Barriers", "barrier"),
        (review.facilitators, "Facilitators", "facilitator"),
    ):
        if frame is None:
            continue
        tables.append(
            _frame_table(
                frame,
                caption=f"{title}: themes across the included qualitative studies "
                f"(results/qualitative/{title.lower()}.csv)",
                headings=BF_HEADINGS,
                split={"example_excerpts": EXCERPT_SEP},
                small=True,
            )
        )
        studies = {
            s.strip()
            for cell in frame.get("studies", pd.Series(dtype=str))
            for s in str(cell).split(";")
            if s.strip()
        }
        paragraphs.append(
            f"{_capital(_count(len(frame), kind + ' theme', kind + ' themes'))} "
            f"from {_n(len(studies), 'study', 'studies')}."
        )
    soqf = None
    if review.soqf is not None:
        soqf = _frame_table(
            review.soqf,
            caption="Summary of qualitative findings (GRADE-CERQual; "
            "results/qualitative/cerqual_soqf.csv)",
            small=True,
        )
        confidence = next(
            (c for c in review.soqf.columns if "confidence" in c.lower()), None
        )
        if confidence:
            counts = review.soqf[confidence].value_counts()
            counts = counts[[str(label).strip() != "" for label in counts.index]]
            order = ["High", "Moderate", "Low", "Very low"]
            parts = [
                f"{int(counts[label])} {label.lower()}"
                for label in sorted(
                    counts.index,
                    key=lambda x: (
                        next(
                            (i for i, o in enumerate(order) if str(x).startswith(o)),
                            len(order),
                        ),
                        str(x),
                    ),
                )
            ]
            text = (
                "The CERQual summary lists "
                f"{_count(len(review.soqf), 'review finding', 'review findings')}"
            )
            if parts:
                text += "; confidence: " + _join(
                    [p.replace(" confidence", "") for p in parts]
                )
            paragraphs.append(text + ".")
    available = bool(tables or soqf)
    return {
        "available": available,
        "paragraphs": paragraphs,
        "tables": tables,
        "soqf": soqf,
        "figures": review.heatmaps if available else [],
    }
