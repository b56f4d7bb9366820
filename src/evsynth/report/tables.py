"""The report's table of pooled results, for tables.xlsx.

:func:`pooled_results` gives every pooled estimate of every analysis and model.
The summary of findings, with GRADE results or without, is
:mod:`evsynth.report.sof`'s.
"""

from __future__ import annotations

import pandas as pd

from evsynth.report.loading import Review

__all__ = ["pooled_results"]


def pooled_results(review: Review) -> pd.DataFrame:
    """Every pooled estimate of every analysis, one row per analysis and model.

    Estimates are on the analysis scale (log scale for OR and RR).
    """
    columns = [
        "analysis",
        "label",
        "measure",
        "model",
        "k",
        "estimate",
        "se",
        "ci_lb",
        "ci_ub",
        "pi_lb",
        "pi_ub",
        "pval",
        "tau2",
        "I2",
        "Q",
        "Q_p",
        "note",
    ]
    rows = []
    for analysis in review.analyses:
        report = analysis.report or {}
        base = {
            "analysis": analysis.name,
            "label": analysis.label,
            "measure": report.get("measure", ""),
        }
        if "pooled" not in report:
            rows.append(
                {**base, "model": "", "k": report.get("k"), "note": analysis.note}
            )
            continue
        fill = report.get("trimfill") or {}
        models = [
            ("random effects", report.get("pooled")),
            (
                "without high risk of bias",
                (report.get("sensitivity_without_high_rob") or {}).get("pooled"),
            ),
            ("trim and fill", fill if fill and fill.get("k0") else None),
            ("three-level (all effect sizes)", report.get("multilevel")),
            ("cluster-robust CR1", report.get("robust_CR1")),
            ("cluster-robust CR2", report.get("robust_CR2")),
        ]
        for name, fit in models:
            if not fit:
                continue
            rows.append(
                {
                    **base,
                    "model": name,
                    **{c: fit.get(c) for c in columns[4:-1]},
                    "note": f"{fill.get('k0')} studies imputed"
                    if name == "trim and fill"
                    else "",
                }
            )
    return pd.DataFrame(rows, columns=columns, dtype=object)
