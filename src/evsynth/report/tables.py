"""The report's result tables as data frames, for tables.xlsx and tables.docx.

:func:`summary_of_findings` gives one row per pooled analysis, certainty left
blank: tables.docx uses it when the review has no GRADE results (with them,
:func:`evsynth.report.sof.sof_frame`). :func:`pooled_results` gives every
pooled estimate of every analysis and model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evsynth.report.formatting import _f, _interval, _n, _pct, scale_of
from evsynth.report.loading import Review

__all__ = ["SOF_COLUMNS", "pooled_results", "summary_of_findings"]

#: Summary-of-findings columns (certainty is left for the review team).
SOF_COLUMNS: tuple[str, ...] = (
    "Outcome",
    "Studies (k)",
    "Participants",
    "Effect (95% CI)",
    "I²",
    "Certainty of the evidence (GRADE)",
)


def _participants(report: Mapping[str, Any], effects: pd.DataFrame | None) -> str:
    """Participants of an analysis: per study the largest n_t plus n_c of its rows."""
    if effects is None:
        return ""
    from evsynth.meta.analyses import AnalysisSpec, MetaSettings, select_rows

    model = report.get("model") or {}
    spec = AnalysisSpec(
        name=str(report.get("analysis", "")),
        domains=tuple(report.get("domains") or ()),
        measure=str(report.get("measure", "SMD")),
    )
    try:
        rows, _ = select_rows(
            effects, spec, MetaSettings(timepoint=str(model.get("timepoint", "latest")))
        )
    except (KeyError, ValueError):
        return ""
    if not {"study_id", "n_t", "n_c"} <= set(rows.columns):
        return ""
    studies = [str(s.get("study_id")) for s in report.get("studies", []) or []]
    total, missing = 0, 0
    for study in studies:
        group = rows[rows["study_id"] == study]
        n_t = pd.to_numeric(group["n_t"], errors="coerce").max()
        n_c = pd.to_numeric(group["n_c"], errors="coerce").max()
        if pd.isna(n_t) or pd.isna(n_c):
            missing += 1
            continue
        total += round(n_t + n_c)
    if studies and missing == len(studies):
        return ""
    text = f"{total:,}"
    if missing:
        text += f" ({_n(missing, 'study', 'studies')} without n)"
    return text


def summary_of_findings(review: Review) -> pd.DataFrame:
    """One row per pooled analysis; certainty is left for the review team.

    tables.docx uses it when the review has no GRADE results
    (``results/grade/``); with them, :func:`evsynth.report.sof.sof_frame`.

    Parameters
    ----------
    review : Review
        From :func:`load_review`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SOF_COLUMNS`.
    """
    rows = []
    for analysis in review.analyses:
        report = analysis.report or {}
        pooled = report.get("pooled")
        if not pooled:
            rows.append(
                [analysis.label, str(report.get("k", "")), "", "not pooled", "", ""]
            )
            continue
        scale = scale_of(str(report.get("measure", "")))
        level = _f((report.get("model") or {}).get("level", 95), 0)
        effect = (
            f"{scale.symbol} = {scale.show(pooled.get('estimate'))} "
            f"({_interval(scale, pooled.get('ci_lb'), pooled.get('ci_ub'))})"
        )
        if level != "95":
            effect += f" [{level}% CI]"
        rows.append(
            [
                analysis.label,
                str(pooled.get("k", "")),
                _participants(report, review.effects),
                effect,
                _pct(pooled.get("I2")),
                "",
            ]
        )
    return pd.DataFrame(rows, columns=list(SOF_COLUMNS), dtype=object)


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
