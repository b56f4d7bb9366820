"""The meta-analyses section: each analysis with its figures, words and tables.

:func:`_analysis` shapes one analysis for the page: its headline, the
sentences of :mod:`evsynth.report.meta_text` by topic, the table of pooled
estimates by model and the subgroup tables, naming studies and subgroups as
readers know them (:func:`_shown_report`). :func:`_meta` adds the overview
table of every analysis.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from evsynth.labels import ordered_values, value_label, value_labels
from evsynth.report.formatting import (
    Scale,
    _capital,
    _f,
    _humanise,
    _interval,
    _num,
    _p,
    _pct,
    _small,
    _table,
    lower_better_note,
    scale_of_report,
)
from evsynth.report.loading import Analysis, Review
from evsynth.report.meta_text import (
    _bias_sentences,
    _heterogeneity_sentence,
    _moderator_sentences,
    _pooled_sentence,
    _sensitivity_sentences,
)

__all__ = ["MODEL_HEADERS"]


def _model_rows(report: Mapping[str, Any], scale: Scale) -> list[list[str]]:
    """Rows of an analysis's table of pooled estimates."""
    model = report.get("model") or {}
    method = model.get("method", "")
    test = "Knapp-Hartung" if model.get("test") == "knha" else "z"
    rows = []

    def add(name: str, fit: Mapping[str, Any] | None, *, tau: bool = True) -> None:
        if not fit or _num(fit.get("estimate")) is None:
            return
        pi = (
            _interval(scale, fit.get("pi_lb"), fit.get("pi_ub"))
            if _num(fit.get("pi_lb")) is not None
            else ""
        )
        rows.append(
            [
                name,
                str(fit.get("k", "")),
                scale.show(fit.get("estimate")),
                _interval(scale, fit.get("ci_lb"), fit.get("ci_ub")),
                pi,
                _p(fit.get("pval")).removeprefix("p = ").removeprefix("p "),
                _small(fit.get("tau2")) if tau else "",
                _pct(fit.get("I2")) if _num(fit.get("I2")) is not None else "",
            ]
        )

    add(f"Random effects ({method}, {test})", report.get("pooled"))
    add(
        "Without studies at high risk of bias",
        (report.get("sensitivity_without_high_rob") or {}).get("pooled"),
    )
    fill = report.get("trimfill") or {}
    if fill and int(fill.get("k0", 0) or 0) > 0:
        add(
            f"Trim and fill ({int(fill['k0'])} imputed)",
            {**fill, "k": f"{fill.get('k', '?')} + {int(fill['k0'])}"},
        )
    add("Three-level model (all effect sizes)", report.get("multilevel"), tau=False)
    for kind in ("CR1", "CR2"):
        add(
            f"Cluster-robust {kind} (all effect sizes)",
            report.get(f"robust_{kind}"),
        )
    return rows


MODEL_HEADERS = (
    "Model",
    "k",
    "Estimate",
    "95% CI",
    "Prediction interval",
    "p",
    "τ²",
    "I²",
)


def _shown_report(
    report: Mapping[str, Any],
    values: Mapping[str, Mapping[str, str]],
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Copy an analysis's report, naming things as readers see them.

    Studies by their labels (the report's ``studies[].label``, author and
    year; see :mod:`evsynth.labels`) in the sensitivity analyses and
    diagnostics, and subgroups by the labels of their values (``values``,
    :func:`evsynth.labels.value_labels`), in the order of those labels. Only
    for the text: the numbers are those of the report. ``labels`` (from
    ``results/studies/labels.csv``) names studies the report's ``studies``
    do not list (rows left out).
    """
    names = dict(labels or {})
    names.update(
        {
            str(s.get("study_id")): str(s.get("label") or s.get("study_id"))
            for s in report.get("studies") or []
        }
    )

    def shown(items: Any) -> list[str]:
        return [names.get(str(x), str(x)) for x in items or []]

    out = dict(report)
    out["left_out"] = [
        {**r, "study_id": names.get(str(r.get("study_id")), r.get("study_id"))}
        for r in report.get("left_out") or []
    ]
    out["studies"] = [
        {**s, "study_id": names.get(str(s.get("study_id")), s.get("study_id"))}
        for s in report.get("studies") or []
    ]
    rob = report.get("sensitivity_without_high_rob")
    if isinstance(rob, Mapping):
        out["sensitivity_without_high_rob"] = {
            **rob,
            "left_out": shown(rob.get("left_out")),
            "not_assessed": shown(rob.get("not_assessed")),
        }
    for key in ("leave1out", "influence"):
        block = report.get(key)
        if isinstance(block, Mapping) and "label" in block:
            out[key] = {**block, "label": shown(block.get("label"))}
    subgroups = report.get("subgroups")
    if isinstance(subgroups, Mapping):
        out["subgroups"] = {}
        for column, sub in subgroups.items():
            groups = sub.get("groups") if isinstance(sub, Mapping) else None
            if not isinstance(groups, Mapping):
                out["subgroups"][column] = sub
                continue
            order = ordered_values(values, str(column), list(groups))
            label = {v: value_label(values, str(column), v) for v in order}
            if len(set(label.values())) < len(label):
                label = {v: v for v in order}
            out["subgroups"][column] = {
                **sub,
                "groups": {label[v]: groups[v] for v in order},
                "skipped": [
                    value_label(values, str(column), v)
                    for v in sub.get("skipped") or []
                ],
            }
    return out


def _analysis(
    analysis: Analysis,
    settings: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    meta = settings.get("meta", {}) or {}
    bias_min_k = int(meta.get("bias_min_k", 10))
    report = analysis.report or {}
    drawn = (report.get("funnel") or {}).get("drawn", True) is not False
    out: dict[str, Any] = {
        "name": analysis.name,
        "anchor": f"meta-{re.sub(r'[^A-Za-z0-9_-]', '-', analysis.name)}",
        "label": analysis.label,
        "forest": analysis.forest,
        "funnel": analysis.funnel if drawn else None,
        "note": analysis.note,
        "headline": "",
        "blocks": [],
        "table": None,
        "subgroup_tables": [],
    }
    if "pooled" not in report:
        out["note"] = analysis.note or "no pooled result"
        return out
    measure = str(report.get("measure", ""))
    scale = scale_of_report(report)
    model = report.get("model") or {}
    level = _f(model.get("level", meta.get("level", 95)), 0)
    pooled = report["pooled"]
    values = value_labels((settings.get("labels") or {}).get("values"))
    report = _shown_report(report, values, labels)
    out["measure"] = measure
    out["headline"] = (
        f"{scale.symbol} = {scale.show(pooled.get('estimate'))} ({level}% CI "
        f"{_interval(scale, pooled.get('ci_lb'), pooled.get('ci_ub'))}), "
        f"k = {pooled.get('k', report.get('k'))}"
    )
    blocks = [
        ("Pooled result", [_pooled_sentence(report, scale, level)]),
        ("Heterogeneity", [_heterogeneity_sentence(report, level)]),
    ]
    moderators = _moderator_sentences(report, scale, str(model.get("test", "")))
    if moderators:
        blocks.append(("Subgroups and moderators", moderators))
    blocks.append(
        ("Small-study effects", _bias_sentences(report, scale, level, bias_min_k))
    )
    blocks.append(
        ("Sensitivity analyses", _sensitivity_sentences(report, scale, level))
    )
    out["blocks"] = [{"title": t, "sentences": s} for t, s in blocks if s]
    headers = list(MODEL_HEADERS)
    headers[2] = scale.symbol if scale.symbol != "effect" else "Estimate"
    headers[3] = f"{level}% CI"
    out["table"] = _table(
        headers,
        _model_rows(report, scale),
        caption=f"{analysis.label}: pooled estimates ({scale.name}; {scale.favouring})",
        numeric=[False, True, True, True, True, True, True, True],
    )
    for column, sub in sorted((report.get("subgroups") or {}).items()):
        groups = sub.get("groups") or {}
        if not groups:
            continue
        rows = []
        for name in groups:
            fit = groups[name]
            rows.append(
                [
                    name,
                    str(fit.get("k", "")),
                    scale.show(fit.get("estimate")),
                    _interval(scale, fit.get("ci_lb"), fit.get("ci_ub")),
                    _small(fit.get("tau2")),
                    _pct(fit.get("I2")),
                ]
            )
        out["subgroup_tables"].append(
            _table(
                [_capital(_humanise(column)), "k", headers[2], headers[3], "τ²", "I²"],
                rows,
                caption=f"{analysis.label} by {_humanise(column)}",
                numeric=[False, True, True, True, True, True],
            )
        )
    return out


def _meta(review: Review) -> dict[str, Any]:
    analyses = [_analysis(a, review.settings, review.labels) for a in review.analyses]
    if not analyses:
        return {"available": False, "analyses": []}
    rows = []
    for analysis in review.analyses:
        report = analysis.report or {}
        pooled = report.get("pooled")
        if not pooled:
            rows.append([analysis.label, str(report.get("k", "")), "", "", "", "", ""])
            continue
        scale = scale_of_report(report)
        rows.append(
            [
                analysis.label,
                str(pooled.get("k", "")),
                f"{scale.symbol} = {scale.show(pooled.get('estimate'))}",
                _interval(scale, pooled.get("ci_lb"), pooled.get("ci_ub")),
                _interval(scale, pooled.get("pi_lb"), pooled.get("pi_ub"))
                if _num(pooled.get("pi_lb")) is not None
                else "",
                _pct(pooled.get("I2")),
                _p(pooled.get("pval")).removeprefix("p = ").removeprefix("p "),
            ]
        )
    overview = _table(
        ["Analysis", "k", "Pooled effect", "95% CI", "Prediction interval", "I²", "p"],
        rows,
        caption="Pooled results (random-effects models; values above no effect, "
        "0 or 1 for ratios, favour the intervention"
        + lower_better_note(review.analyses)
        + ")",
        numeric=[False, True, True, True, True, True, True],
    )
    return {"available": True, "analyses": analyses, "overview": overview}
