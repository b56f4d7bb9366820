"""Forest and funnel plot data for an analysis, and deterministic saving."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from evsynth.labels import ordered_values, value_label
from evsynth.labels import value_labels as default_value_labels
from evsynth.meta.subgroups import describe_tests
from evsynth.plots import style as _st
from evsynth.plots.forest import ForestData, ForestRow, ForestSummary, forest_figure
from evsynth.plots.funnel import FunnelData, funnel_figure

if TYPE_CHECKING:
    from evsynth.meta.analyses import AnalysisResult, MetaSettings

MEASURE_LABELS = {
    "SMD": "Hedges' g",
    "MD": "Mean difference",
    "OR": "Odds ratio",
    "RR": "Risk ratio",
    "RD": "Risk difference",
}
_ROB_LABELS = {
    "low": "Low",
    "moderate": "Some concerns",
    "high": "High",
    "unclear": "Unclear",
}
_Z = {90.0: 1.6448536269514722, 95.0: 1.959963984540054, 99.0: 2.5758293035489004}


def _z(level: float) -> float:
    if level in _Z:
        return _Z[level]
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 200))


def _p(p: float | None) -> str:
    if p is None:
        return "NA"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}".rstrip("0").rstrip(".")


def heterogeneity_text(pooled: dict[str, Any], k: int) -> str:
    """One line of heterogeneity statistics for under the pooled row."""
    if not pooled:
        return ""
    parts = [f"τ² = {pooled['tau2']:.3f}"]
    if pooled.get("tau2_ci_lb") is not None and pooled.get("tau2_ci_ub") is not None:
        parts[0] += f" [{pooled['tau2_ci_lb']:.3f}, {pooled['tau2_ci_ub']:.3f}]"
    parts.append(f"I² = {pooled['I2']:.0f}%")
    parts.append(f"Q = {pooled['Q']:.2f} (df = {k - 1}), {_p(pooled['Q_p'])}")
    return "Heterogeneity: " + "; ".join(parts)


def _group_names(
    column: str, values: list[str], value_labels: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """Each subgroup value to the name the plot shows (values if two would clash)."""
    names = {v: value_label(value_labels, column, v) for v in values}
    if len(set(names.values())) < len(names):
        return {v: v for v in values}
    return names


def forest_data(
    result: AnalysisResult,
    settings: MetaSettings,
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> ForestData | None:
    """Forest plot data of an analysis (None if it was skipped).

    Studies are named by their ``label`` (author and year, see
    :mod:`evsynth.labels`), subgroups by the labels of their values
    (``value_labels``, default :func:`evsynth.labels.value_labels`), in the
    order those labels are listed. A binary analysis of an event that is
    better when lower (the report's ``favourable`` is ``lower``) shows the
    event's ratio as measured, as the summary of findings does, with "Favours
    intervention" on the left.
    """
    if value_labels is None:
        value_labels = default_value_labels()
    report = result.report
    pooled = report.get("pooled")
    if not pooled or result.fit is None:
        return None
    z = _z(settings.level)
    subgroup_column = result.spec.subgroups[0] if result.spec.subgroups else None
    groups = (
        report.get("subgroups", {}).get(subgroup_column, {}) if subgroup_column else {}
    )
    use_groups = bool(groups.get("groups"))
    rows = []
    studies = result.studies.reset_index(drop=True)
    extra_columns = ["Year"] if _year_column(studies) else []
    if "rob" in studies.columns:
        extra_columns.append("RoB")
    names: dict[str, str] = {}
    if use_groups:
        present = [
            "(not given)" if _blank(v) else str(v)
            for v in studies.get(subgroup_column, [])
        ]
        names = _group_names(
            str(subgroup_column),
            [*present, *groups["groups"]],
            value_labels,
        )
    for index, study in studies.iterrows():
        yi, se = float(study["yi"]), math.sqrt(float(study["vi"]))
        group = None
        if use_groups:
            value = study.get(subgroup_column)
            group = names["(not given)" if _blank(value) else str(value)]
        extra = {}
        if "Year" in extra_columns:
            year = study.get("year")
            extra["Year"] = "" if _number(year) is None else str(year)
        if "RoB" in extra_columns:
            extra["RoB"] = _ROB_LABELS.get(str(study.get("rob") or ""), "–")
        label = study.get("label")
        rows.append(
            ForestRow(
                label=str(study["study_id"]) if _blank(label) else str(label),
                yi=yi,
                ci_lb=yi - z * se,
                ci_ub=yi + z * se,
                weight=float(result.fit.weights[index]),
                n_t=_number(study.get("n_t")),
                n_c=_number(study.get("n_c")),
                group=group,
                extra=extra,
            )
        )
    if use_groups:
        values = ordered_values(value_labels, str(subgroup_column), list(names))
        order = {names[v]: i for i, v in enumerate(values)}
        rows.sort(key=lambda r: order[str(r.group)])
    test = "Knapp–Hartung" if report["model"]["test"] == "knha" else "z"
    overall = ForestSummary(
        label=f"RE model ({report['model']['method']}, {test})"
        if report["model"]["method"] != "EE"
        else "Equal-effects model",
        estimate=pooled["estimate"],
        ci_lb=pooled["ci_lb"],
        ci_ub=pooled["ci_ub"],
        pi_lb=pooled.get("pi_lb"),
        pi_ub=pooled.get("pi_ub"),
        text=heterogeneity_text(pooled, report["k"]),
    )
    summaries = {}
    test_text = ""
    if use_groups:
        for value, fit in groups["groups"].items():
            label = names[str(value)]
            summaries[label] = ForestSummary(
                label=f"Subgroup {label}",
                estimate=fit["estimate"],
                ci_lb=fit["ci_lb"],
                ci_ub=fit["ci_ub"],
                pi_lb=None,
                pi_ub=None,
                text=heterogeneity_text(fit, fit["k"]),
            )
        tests = describe_tests(groups)
        if tests:
            test_text = (
                f"Test for subgroup differences ({subgroup_column}): "
                + "; ".join(tests)
            )
    measure = result.spec.measure
    sides = ["Favours comparison", "Favours intervention"]
    if report.get("favourable") == "lower":
        sides.reverse()
    return ForestData(
        rows=rows,
        overall=overall,
        subgroups=summaries,
        subgroup_test=test_text,
        measure_label=MEASURE_LABELS.get(measure, measure),
        null_value=0.0,
        exponentiate=measure in ("OR", "RR"),
        left_label=sides[0],
        right_label=sides[1],
        extra_columns=extra_columns,
        title=result.spec.label,
    )


def _year_column(studies: Any) -> bool:
    """Whether the plot needs a Year column: some label does not show its year."""
    if "year" not in studies.columns:
        return False
    labels = studies["label"] if "label" in studies.columns else studies["study_id"]
    for label, year in zip(labels, studies["year"], strict=True):
        number = _number(year)
        if number is None:
            continue
        text = str(int(number)) if float(number).is_integer() else str(year)
        if _blank(label) or text not in str(label):
            return True
    return False


def _blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def funnel_data(result: AnalysisResult) -> FunnelData | str | None:
    """Funnel plot data of an analysis, with trim-and-fill's studies.

    Returns
    -------
    FunnelData or str or None
        None if the analysis was skipped; the note of the report's ``funnel``
        (``"funnel plot not drawn: 3 studies, fewer than meta.bias_min_k =
        10"``) when it has fewer than ``bias_min_k`` studies.
    """
    report = result.report
    if not report.get("pooled") or result.fit is None:
        return None
    funnel = report.get("funnel") or {}
    if funnel.get("drawn") is False:
        return str(funnel.get("note") or "funnel plot not drawn")
    yi = [float(v) for v in result.studies["yi"]]
    sei = [math.sqrt(float(v)) for v in result.studies["vi"]]
    filled = report.get("trimfill") or {}
    filled_yi, filled_sei, filled_estimate = [], [], None
    if filled and filled.get("k0"):
        flags = filled.get("filled") or []
        filled_yi = [y for y, f in zip(filled["yi"], flags, strict=True) if f]
        filled_sei = [
            math.sqrt(v) for v, f in zip(filled["vi"], flags, strict=True) if f
        ]
        filled_estimate = filled.get("estimate")
    measure = result.spec.measure
    return FunnelData(
        yi=yi,
        sei=sei,
        estimate=report["pooled"]["estimate"],
        filled_yi=filled_yi,
        filled_sei=filled_sei,
        filled_estimate=filled_estimate,
        measure_label=MEASURE_LABELS.get(measure, measure),
        title=result.spec.label,
        exponentiate=measure in ("OR", "RR"),
    )


def _placeholder(message: str) -> Figure:
    """Draw a figure that only says ``message``, wrapped to its 6-inch width."""
    lines = [
        line
        for paragraph in message.split("\n")
        for line in textwrap.wrap(paragraph, 72) or [""]
    ]
    figure = Figure(figsize=(6, 0.7 + 0.2 * len(lines)))
    figure.text(0.5, 0.5, "\n".join(lines), ha="center", va="center", fontsize=10)
    return figure


def save_figure(kind: str, data: Any, path: Path, fmt: str, dpi: int = 300) -> None:
    """Draw a forest or funnel plot (or a note if the analysis was skipped) to a file.

    Same data, same bytes: matplotlib's default style with fixed SVG ids and no
    date in the metadata.
    """
    with _st.style():
        if data is None:
            figure = _placeholder(
                "Too few studies for this analysis (see summary.csv)."
            )
        elif isinstance(data, str):
            text = data[:1].upper() + data[1:]
            figure = _placeholder(
                f"{text}.\nThe Cochrane Handbook (section 13.3.5.4) advises funnel "
                "plots and tests for funnel-plot asymmetry only with at least 10 "
                "studies."
            )
        elif kind == "forest":
            figure = forest_figure(data)
        else:
            figure = funnel_figure(data)
        if fmt == "svg":
            figure.savefig(path, format="svg", dpi=dpi, metadata={"Date": None})
        else:
            figure.savefig(path, format="png", dpi=dpi)
