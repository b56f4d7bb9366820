"""The review's meta-analyses: one per configured analysis, on effects.csv.

An analysis pools the effects of one or more outcome domains on one measure.
Where a study reports a domain at several time points, one is chosen
(``timepoint``); where it still reports several outcomes, they are combined into
one effect per study for the main model (Borenstein et al. 2009, ch. 24: the mean,
with a variance that assumes correlation ``rho`` between the outcomes), and the
three-level model and cluster-robust inference on all rows are reported beside it.

Effects arrive signed so that a positive value favours the intervention (the
effects stage turns round the rows whose ``favourable`` is ``lower``). A binary
analysis (OR, RR, RD) whose rows all count an event that is better when lower
(offending, a placement breakdown) is turned back and pooled as measured (the
ratio of the event, not its inverse): its report says ``"favourable":
"lower"``, its ratios below 1 favour the intervention, and its forest plot puts
"Favours intervention" on the left. The turn changes only the sign of every
estimate (the models are symmetric in it), so that the forest plot, the report
and the summary of findings show the same ratio.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evsynth.errors import EvsynthError
from evsynth.meta import bias, dependence, sensitivity, subgroups
from evsynth.meta.rma import predict, rma, summary_dict, tau2_ci_qprofile

#: Measures of binary outcomes (an event counted in each group).
BINARY_MEASURES = ("OR", "RR", "RD")


@dataclass(frozen=True)
class AnalysisSpec:
    """One configured analysis.

    Parameters
    ----------
    name : str
        File-safe name (used for the JSON and the plots).
    domains : tuple of str
        Outcome domains pooled together.
    measure : str
        The measure pooled (rows on other measures are left out, and listed).
    subgroups : tuple of str
        Study characteristics (studies.csv columns) to split by.
    moderators : tuple of str
        Numeric columns (effects.csv or studies.csv) for meta-regression.
    label : str
        Title shown on the plots.
    """

    name: str
    domains: tuple[str, ...]
    measure: str = "SMD"
    subgroups: tuple[str, ...] = ()
    moderators: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class MetaSettings:
    """The ``meta`` keys of the configuration (see config/README.md)."""

    method: str = "REML"
    test: str = "knha"
    prediction: str = "metafor"
    level: float = 95.0
    min_k: int = 2
    timepoint: str = "latest"
    rho: float = 0.6
    bias_min_k: int = 10
    analyses: tuple[AnalysisSpec, ...] = ()

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> MetaSettings:
        """Build settings from the validated ``meta`` config section."""
        specs = tuple(
            AnalysisSpec(
                name=str(a["name"]),
                domains=tuple(a.get("domains", [a["name"]])),
                measure=str(a.get("measure", "SMD")),
                subgroups=tuple(a.get("subgroups", ())),
                moderators=tuple(a.get("moderators", ())),
                label=str(a.get("label", a["name"].replace("_", " ").capitalize())),
            )
            for a in section.get("analyses", ())
        )
        return cls(
            method=str(section.get("method", "REML")),
            test=str(section.get("test", "knha")),
            prediction=str(section.get("prediction_interval", "metafor")),
            level=float(section.get("level", 95.0)),
            min_k=int(section.get("min_k", 2)),
            timepoint=str(section.get("timepoint", "latest")),
            rho=float(section.get("rho", 0.6)),
            bias_min_k=int(section.get("bias_min_k", 10)),
            analyses=specs,
        )


@dataclass
class AnalysisResult:
    """Everything one analysis computed (``report`` is its JSON)."""

    spec: AnalysisSpec
    studies: pd.DataFrame  # one row per study, as pooled
    rows: pd.DataFrame  # every effect row used (before combining)
    report: dict[str, Any]
    fit: Any = None
    prediction: Any = None
    left_out: list[dict[str, Any]] = field(default_factory=list)


def json_ready(value: Any) -> Any:
    """Make a value JSON-friendly: numpy to Python, NaN and inf to None."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def select_rows(
    effects: pd.DataFrame, spec: AnalysisSpec, settings: MetaSettings
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Pick the rows an analysis pools, and say which were left out and why.

    Rows of the analysis's domains on another measure are left out; of a
    study's time points the ``timepoint`` setting keeps one (``latest``,
    ``earliest``, or a label; a study without that label keeps its latest).
    """
    in_domain = effects[effects["domain"].isin(spec.domains)].copy()
    left_out: list[dict[str, Any]] = []
    other = in_domain[in_domain["measure"] != spec.measure]
    for row in other.itertuples(index=False):
        left_out.append(
            {
                "study_id": row.study_id,
                "outcome": row.outcome,
                "timepoint": row.timepoint,
                "reason": f"measure {row.measure}, the analysis pools {spec.measure}",
            }
        )
    rows = in_domain[in_domain["measure"] == spec.measure].copy()
    rows["months"] = pd.to_numeric(rows["months"], errors="coerce")
    keep = []
    for _study, group in rows.groupby("study_id", sort=False):
        chosen = _choose_timepoint(group, settings.timepoint)
        keep.extend(chosen.index)
        for row in group.drop(index=chosen.index).itertuples(index=False):
            left_out.append(
                {
                    "study_id": row.study_id,
                    "outcome": row.outcome,
                    "timepoint": row.timepoint,
                    "reason": f"another time point of the study is used "
                    f"(timepoint: {settings.timepoint})",
                }
            )
    return rows.loc[sorted(keep)], left_out


def _choose_timepoint(group: pd.DataFrame, rule: str) -> pd.DataFrame:
    if rule not in ("latest", "earliest"):
        labelled = group[group["timepoint"] == rule]
        if len(labelled):
            return labelled
        rule = "latest"
    months = group["months"].fillna(-1.0)
    target = months.max() if rule == "latest" else months.min()
    return group[months == target]


def combine_within_studies(rows: pd.DataFrame, rho: float) -> pd.DataFrame:
    """One effect per study: the mean of its outcomes, variance assuming correlation rho.

    v = (1/m^2) [sum v_j + sum_{j != l} rho sqrt(v_j v_l)] (Borenstein et al. 2009,
    Introduction to Meta-Analysis, ch. 24, eq. 24.6 for m outcomes).
    """
    out = []
    for study, group in rows.groupby("study_id", sort=False):
        y = group["yi"].to_numpy(float)
        v = group["vi"].to_numpy(float)
        m = len(y)
        s = np.sqrt(v)
        cross = rho * (np.outer(s, s).sum() - (s**2).sum())
        out.append(
            {
                "study_id": study,
                "yi": float(y.mean()),
                "vi": float((v.sum() + cross) / m**2),
                "n_rows": m,
                "outcomes": "; ".join(str(o) for o in group["outcome"]),
                "n_t": pd.to_numeric(group["n_t"], errors="coerce").max(),
                "n_c": pd.to_numeric(group["n_c"], errors="coerce").max(),
                "months": pd.to_numeric(group["months"], errors="coerce").max(),
            }
        )
    return pd.DataFrame(out)


def _flag(value: object) -> bool | None:
    """Read a sign_flipped cell: True, False, or None when empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def event_direction(rows: pd.DataFrame) -> str | None:
    """Which way an analysis's rows were signed: the event's favourable direction.

    Returns
    -------
    str or None
        ``"lower"`` when every row was turned round (``sign_flipped``: the
        event is unfavourable), ``"higher"`` when none was, ``"mixed"`` when
        some were; None when the table does not say (``sign_flipped`` and
        ``favourable`` missing, or no rows).
    """
    flags: list[bool] = []
    if "sign_flipped" in rows.columns:
        flags = [f for f in map(_flag, rows["sign_flipped"]) if f is not None]
    if not flags and "favourable" in rows.columns:
        flags = [
            str(v).strip() == "lower"
            for v in rows["favourable"]
            if str(v).strip() in ("higher", "lower")
        ]
    if not flags:
        return None
    if all(flags):
        return "lower"
    return "mixed" if any(flags) else "higher"


def as_measured(rows: pd.DataFrame) -> pd.DataFrame:
    """Return rows that were turned round (``yi -> -yi``) turned back.

    ``yi`` and its CI (``ci_lb``, ``ci_ub``, which change places) become those
    of the event as measured; ``sign_flipped`` becomes False. For the rows of
    a binary analysis whose event is better when lower
    (:func:`event_direction` ``"lower"``).
    """
    out = rows.copy()
    out["yi"] = -pd.to_numeric(out["yi"])
    if {"ci_lb", "ci_ub"} <= set(out.columns):
        low, high = pd.to_numeric(out["ci_lb"]), pd.to_numeric(out["ci_ub"])
        out["ci_lb"], out["ci_ub"] = -high, -low
    if "sign_flipped" in out.columns:
        out["sign_flipped"] = False
    return out


def run_analysis(
    effects: pd.DataFrame,
    studies: pd.DataFrame | None,
    spec: AnalysisSpec,
    settings: MetaSettings,
    rob: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> AnalysisResult | None:
    """Run one configured analysis.

    Parameters
    ----------
    effects : pandas.DataFrame
        The effects table.
    studies : pandas.DataFrame or None
        The main rows of studies.csv (study characteristics).
    spec : AnalysisSpec
        The analysis.
    settings : MetaSettings
        The ``meta`` settings.
    rob : mapping of str to str, optional
        Each study's overall risk of bias.
    labels : mapping of str to str, optional
        Each study's label for readers (``results/studies/labels.csv``); a
        study without one keeps the ``label`` of studies.csv, else its id. The
        label goes into the ``label`` column of ``studies`` and each entry of
        the report's ``studies``.

    Returns
    -------
    AnalysisResult or None
        None when fewer than ``min_k`` studies are left (the summary says so).
        With fewer than ``bias_min_k`` studies the report's ``bias`` and
        ``trimfill`` say they were skipped and ``funnel`` that no funnel plot
        is drawn (Cochrane Handbook 13.3.5.4: tests for funnel-plot asymmetry
        need at least 10 studies).
        A binary analysis (OR, RR, RD) has ``favourable`` in its report: the
        direction that favours the intervention. ``lower``: every row counts an
        event that is better when lower, pooled as measured (the rows are
        turned back, :func:`as_measured`); ``higher``: every row counts an
        event that is better when higher; ``mixed``: rows count events in
        opposite directions and stay as the effects stage signed them
        (positive favours the intervention).
    """
    rows, left_out = select_rows(effects, spec, settings)
    favourable = (
        event_direction(rows) if spec.measure in BINARY_MEASURES and len(rows) else None
    )
    if favourable == "lower":
        rows = as_measured(rows)
    per_study = combine_within_studies(rows, settings.rho)
    k = len(per_study)
    base = {
        "analysis": spec.name,
        "label": spec.label,
        "domains": list(spec.domains),
        "measure": spec.measure,
        **({"favourable": favourable} if favourable else {}),
        "k": k,
        "n_rows": len(rows),
        "study_ids": [str(x) for x in per_study.get("study_id", [])],
        "left_out": left_out,
    }
    if k < settings.min_k:
        return AnalysisResult(
            spec,
            per_study,
            rows,
            base | {"skipped": f"{k} studies, fewer than min_k = {settings.min_k}"},
            left_out=left_out,
        )
    if studies is not None and len(studies):
        info = studies.drop_duplicates("study_id")
        per_study = per_study.merge(
            info, on="study_id", how="left", suffixes=("", "_study")
        )
    given = (
        per_study["label"].fillna("").astype(str)
        if "label" in per_study.columns
        else pd.Series([""] * len(per_study), index=per_study.index)
    )
    per_study["label"] = [
        (labels or {}).get(str(sid)) or " ".join(text.split()) or str(sid)
        for sid, text in zip(per_study["study_id"], given, strict=True)
    ]
    if rob:
        per_study["rob"] = [rob.get(str(sid), "") for sid in per_study["study_id"]]
    yi, vi = per_study["yi"].to_numpy(float), per_study["vi"].to_numpy(float)
    test = settings.test if k > 1 else "z"
    fit = rma(yi, vi, method=settings.method, test=test, level=settings.level)
    prediction = predict(fit, pi=settings.prediction)
    pooled = summary_dict(fit, prediction)
    report: dict[str, Any] = base | {
        "model": {
            "method": settings.method,
            "test": test,
            "prediction_interval": settings.prediction,
            "level": settings.level,
            "within_study_rho": settings.rho,
            "timepoint": settings.timepoint,
        },
        "pooled": pooled,
        "studies": [
            {
                "study_id": r.study_id,
                "label": r.label,
                "yi": r.yi,
                "vi": r.vi,
                "weight": w,
                "n_rows": r.n_rows,
                "outcomes": r.outcomes,
            }
            for r, w in zip(per_study.itertuples(index=False), fit.weights, strict=True)
        ],
    }
    if k >= 2 and settings.method != "EE":
        try:
            low, high = tau2_ci_qprofile(fit, level=settings.level)[:2]
            report["pooled"]["tau2_ci_lb"], report["pooled"]["tau2_ci_ub"] = low, high
        except (ValueError, ArithmeticError) as exc:
            report["pooled"]["tau2_ci_note"] = str(exc)
    if k >= 3:
        labels = list(per_study["study_id"])
        report["leave1out"] = sensitivity.leave_one_out(
            yi, vi, method=settings.method, test=test, labels=labels
        )
        report["influence"] = sensitivity.influence(yi, vi, method=settings.method)
        years = _years(per_study)
        if years is not None:
            report["cumulative"] = sensitivity.cumulative(
                yi, vi, years, method=settings.method, order_by="year", labels=labels
            )
    if rob:
        report["sensitivity_without_high_rob"] = _without_high_risk(
            per_study, settings, test
        )
    if k >= settings.bias_min_k:
        report["bias"] = _bias(yi, vi, settings)
        filled = bias.trim_and_fill(yi, vi, method=settings.method)
        report["trimfill"] = filled if isinstance(filled, dict) else _asdict(filled)
        report["funnel"] = {"drawn": True}
    else:
        few = f"{k} studies, fewer than meta.bias_min_k = {settings.bias_min_k}"
        report["bias"] = {
            "skipped": f"{k} studies; small-study tests need at least "
            f"{settings.bias_min_k} (meta.bias_min_k)"
        }
        report["trimfill"] = {"skipped": f"trim and fill not run: {few}"}
        report["funnel"] = {"drawn": False, "note": f"funnel plot not drawn: {few}"}
    for column in spec.subgroups:
        if column in per_study.columns:
            groups = per_study[column].fillna("(not given)").astype(str)
            try:
                report.setdefault("subgroups", {})[column] = (
                    subgroups.subgroup_analysis(
                        yi, vi, list(groups), method=settings.method, test=test
                    )
                )
            except ValueError as exc:
                report.setdefault("subgroups", {})[column] = {"skipped": str(exc)}
    for column in spec.moderators:
        source = per_study if column in per_study.columns else None
        if source is None:
            continue
        x = pd.to_numeric(source[column], errors="coerce").to_numpy(float)
        ok = ~np.isnan(x)
        if ok.sum() < 3 or np.unique(x[ok]).size < 2:
            report.setdefault("metareg", {})[column] = {
                "skipped": "fewer than 3 studies with distinct values"
            }
            continue
        report.setdefault("metareg", {})[column] = fit_metareg(
            yi[ok], vi[ok], x[ok], settings
        )
    if (rows.groupby("study_id").size() > 1).any() and rows["study_id"].nunique() >= 2:
        all_y = rows["yi"].to_numpy(float)
        all_v = rows["vi"].to_numpy(float)
        ids = list(rows["study_id"])
        report["multilevel"] = dependence.multilevel(all_y, all_v, ids)
        for kind in ("CR1", "CR2"):
            report[f"robust_{kind}"] = dependence.robust(
                all_y, all_v, ids, method=settings.method, kind=kind
            )
    return AnalysisResult(
        spec, per_study, rows, json_ready(report), fit, prediction, left_out
    )


def _without_high_risk(
    per_study: pd.DataFrame, settings: MetaSettings, test: str
) -> dict[str, Any]:
    """Fit the pooled model again without the studies at high risk of bias."""
    high = [
        str(s)
        for s, r in zip(per_study["study_id"], per_study["rob"], strict=True)
        if r == "high"
    ]
    unrated = [
        str(s)
        for s, r in zip(per_study["study_id"], per_study["rob"], strict=True)
        if not r
    ]
    keep = per_study[per_study["rob"] != "high"]
    out: dict[str, Any] = {"left_out": high, "not_assessed": unrated}
    if not high:
        out["note"] = "no study at high risk of bias: same as the main model"
        return out
    if len(keep) < max(settings.min_k, 2):
        out["note"] = f"{len(keep)} studies left, fewer than needed"
        return out
    yk, vk = keep["yi"].to_numpy(float), keep["vi"].to_numpy(float)
    fit = rma(yk, vk, method=settings.method, test=test, level=settings.level)
    out["pooled"] = summary_dict(fit, predict(fit, pi=settings.prediction))
    return out


def _years(per_study: pd.DataFrame) -> list[float] | None:
    for column in ("year",):
        if column in per_study.columns:
            values = pd.to_numeric(per_study[column], errors="coerce")
            if values.notna().all():
                return list(values.astype(float))
    return None


def _bias(yi: np.ndarray, vi: np.ndarray, settings: MetaSettings) -> dict[str, Any]:
    return {
        "egger_rma": bias.egger_test(yi, vi, model="rma", method=settings.method),
        "egger_lm": bias.egger_test(yi, vi, model="lm"),
        "begg": bias.rank_test(yi, vi, method=settings.method),
        "failsafe_rosenthal": bias.failsafe_n(yi, vi),
    }


def fit_metareg(
    yi: np.ndarray, vi: np.ndarray, x: np.ndarray, settings: MetaSettings
) -> dict[str, Any]:
    """Fit a meta-regression with z and Knapp-Hartung tests.

    Parameters
    ----------
    yi, vi : numpy.ndarray
        Effect sizes and their sampling variances.
    x : numpy.ndarray
        Moderator values (one column, or a matrix without the intercept).
    settings : MetaSettings
        Supplies the tau^2 estimator.

    Returns
    -------
    dict
        Coefficients, SEs, p-values, tau^2, QM and R^2 under the z test, and the
        Knapp-Hartung F test and p-values, with metafor's key names.
    """
    fit_z = rma(yi, vi, mods=x, method=settings.method, test="z")
    fit_k = rma(yi, vi, mods=x, method=settings.method, test="knha")
    return {
        "coef": fit_z.beta,
        "se": fit_z.se,
        "pval": fit_z.pval,
        "tau2": fit_z.tau2,
        "QM": fit_z.QM,
        "QMp": fit_z.QM_p,
        "R2": fit_z.R2,
        "knha": {
            "coef": fit_k.beta,
            "se": fit_k.se,
            "pval": fit_k.pval,
            "QM": fit_k.QM,
            "QMp": fit_k.QM_p,
        },
    }


def _asdict(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) else dict(vars(obj))


SUMMARY_COLUMNS = [
    "analysis",
    "label",
    "domains",
    "measure",
    "k",
    "n_rows",
    "studies",
    "estimate",
    "se",
    "ci_lb",
    "ci_ub",
    "pval",
    "pi_lb",
    "pi_ub",
    "tau2",
    "tau2_ci_lb",
    "tau2_ci_ub",
    "I2",
    "H2",
    "Q",
    "Q_df",
    "Q_p",
    "method",
    "test",
    "note",
]


def summary_table(reports: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per analysis (``results/meta/summary.csv``), from the analyses' reports."""
    rows = []
    for report in reports:
        pooled = report.get("pooled") or {}
        model = report.get("model") or {}
        rows.append(
            {
                "analysis": report["analysis"],
                "label": report.get("label", ""),
                "domains": "; ".join(report.get("domains", [])),
                "measure": report.get("measure", ""),
                "k": report["k"],
                "n_rows": report["n_rows"],
                "studies": "; ".join(report.get("study_ids", [])),
                "estimate": pooled.get("estimate"),
                "se": pooled.get("se"),
                "ci_lb": pooled.get("ci_lb"),
                "ci_ub": pooled.get("ci_ub"),
                "pval": pooled.get("pval"),
                "pi_lb": pooled.get("pi_lb"),
                "pi_ub": pooled.get("pi_ub"),
                "tau2": pooled.get("tau2"),
                "tau2_ci_lb": pooled.get("tau2_ci_lb"),
                "tau2_ci_ub": pooled.get("tau2_ci_ub"),
                "I2": pooled.get("I2"),
                "H2": pooled.get("H2"),
                "Q": pooled.get("Q"),
                "Q_df": report["k"] - 1 if pooled else None,
                "Q_p": pooled.get("Q_p"),
                "method": model.get("method", ""),
                "test": model.get("test", ""),
                "note": report.get("skipped", ""),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


class MetaError(EvsynthError):
    """A configured analysis cannot be run as configured."""
