"""Study weights for the risk-of-bias summary plots.

robvis weights its summary plot by each study's contribution to a
meta-analysis (McGuinness & Higgins 2021, Res Syn Meth 12:55). evsynth draws

* per meta-analysis, the studies of that analysis weighted by their weights in
  its pooled model (the meta stage's ``results/meta/<analysis>.json``:
  ``studies[].weight``, metafor's ``weights()``, ``100 w_i / sum(w)`` with
  ``w_i = 1 / (v_i + tau^2)``): :func:`read_analysis_weights`;
* over all analyses, the studies in any meta-analysis weighted by their
  participants (``n_total`` of studies.csv): :func:`participants`.

A study that a plot should show but that lacks the number it is weighted by
is an error naming it, never left out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evsynth.errors import InputError
from evsynth.io import read_csv_table
from evsynth.validation import read_table

__all__ = [
    "AnalysisWeights",
    "model_description",
    "participants",
    "read_analysis_weights",
]

_REPORT = "a meta-analysis report as the meta stage writes it (results/meta/NAME.json)"


@dataclass(frozen=True)
class AnalysisWeights:
    """One meta-analysis's study weights, as its report gives them.

    Attributes
    ----------
    name : str
        The analysis's name (``meta.analyses[].name``).
    label : str
        Its label for plots and tables.
    method : str or None
        Estimator of tau^2 of its pooled model (``EE`` for the equal-effects
        model); None when the analysis was not pooled.
    weights : dict of str to float
        Each study's percent weight in the pooled model (summing to 100), the
        weights of a study's several entries added up; empty when the analysis
        was not pooled.
    skipped : str or None
        Why the analysis was not pooled (fewer than ``meta.min_k`` studies).
    source : str
        The report read.
    """

    name: str
    label: str
    method: str | None
    weights: dict[str, float] = field(default_factory=dict)
    skipped: str | None = None
    source: str = ""

    @property
    def pooled(self) -> bool:
        """Whether the analysis has a pooled model (and so weights)."""
        return self.skipped is None


def model_description(method: str | None) -> str:
    """Say in words which model's weights a plot uses.

    Parameters
    ----------
    method : str or None
        The tau^2 estimator (``REML``, ``DL``, ...) or ``EE``.

    Returns
    -------
    str
        E.g. "random-effects model, REML estimate of tau²" or
        "equal-effects model, inverse-variance weights".
    """
    if method == "EE":
        return "equal-effects model, inverse-variance weights"
    return f"random-effects model, {method} estimate of \u03c4\u00b2"


def read_analysis_weights(path: str | Path) -> AnalysisWeights:
    """Read one analysis's study weights from its report.

    Parameters
    ----------
    path : str or Path
        ``results/meta/<analysis>.json``.

    Returns
    -------
    AnalysisWeights
        The analysis, with each study's percent weight (weights of entries of
        the same study added up); a skipped analysis has none.

    Raises
    ------
    InputError
        If the file is not such a report, or a study of the pooled model has no
        weight (or one that is not a finite number >= 0): the message names the
        file, the study's entry (``row``, 1-based in ``studies``) and the column
        ``weight``.
    """
    source = str(path)
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"cannot be read as JSON: {exc}", file=source, expected=_REPORT
        ) from None
    if not isinstance(report, dict) or not isinstance(report.get("analysis"), str):
        raise InputError(
            "no analysis name", file=source, column="analysis", expected=_REPORT
        )
    name = report["analysis"]
    label = str(report.get("label") or name)
    if report.get("skipped"):
        return AnalysisWeights(
            name, label, None, {}, skipped=str(report["skipped"]), source=source
        )
    model = report.get("model")
    method = model.get("method") if isinstance(model, dict) else None
    if not isinstance(method, str):
        raise InputError(
            "no model method", file=source, column="model.method", expected=_REPORT
        )
    studies = report.get("studies")
    if not isinstance(studies, list) or not studies:
        raise InputError(
            "no studies in a pooled analysis",
            file=source,
            column="studies",
            expected=_REPORT,
        )
    weights: dict[str, float] = {}
    for index, entry in enumerate(studies):
        where: dict[str, Any] = {"file": source, "row": index + 1}
        study = entry.get("study_id") if isinstance(entry, dict) else None
        if not isinstance(study, str) or not study:
            raise InputError(
                "an entry without a study_id",
                column="study_id",
                expected=_REPORT,
                **where,
            )
        weight = entry.get("weight")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight < 0
        ):
            raise InputError(
                f"study {study!r} of the analysis {name!r} has no weight "
                f"(got {weight!r})",
                column="weight",
                expected="its percent weight in the pooled model, a number >= 0",
                **where,
            )
        weights[study] = weights.get(study, 0.0) + float(weight)
    if not sum(weights.values()) > 0:
        raise InputError(
            f"the weights of the analysis {name!r} add up to 0",
            file=source,
            column="weight",
            expected="percent weights adding up to 100",
        )
    return AnalysisWeights(name, label, method, weights, source=source)


def participants(
    studies: str | Path | None,
    needed: Mapping[str, str] | Iterable[str],
    *,
    why: str = "the risk-of-bias summary plots weigh studies by them",
) -> dict[str, float]:
    """Return the participants (``n_total`` of studies.csv) of the studies needed.

    ``n_total`` may be given on any row of a study (its main report's row, as
    a rule); rows of one study that give it must agree.

    Parameters
    ----------
    studies : str, Path or None
        studies.csv; None (or a missing file) when the review has none.
    needed : mapping of str to str, or iterable of str
        The studies whose participants are needed; a mapping gives, for each,
        why (e.g. "in the meta-analysis education"), for the error message.
    why : str
        Why participants are needed, for the error message.

    Returns
    -------
    dict of str to float
        Each needed study's participants, in the order of ``needed``.

    Raises
    ------
    InputError
        If a needed study is not in studies.csv, gives no ``n_total`` or 0, or
        gives two different ones: the message names the file, the study's row
        (its main row, or its first) and the column. Also when there is no
        studies.csv at all but some study is needed.
    """
    reasons = dict(needed) if isinstance(needed, Mapping) else dict.fromkeys(needed, "")
    if not reasons:
        return {}
    expected = f"the study's participants (randomised or allocated): {why}"
    if studies is None or not Path(studies).is_file():
        first = next(iter(reasons))
        raise InputError(
            f"no studies.csv gives the participants of study {first!r}"
            + _because(reasons[first]),
            file=str(studies) if studies is not None else "studies.csv",
            column="n_total",
            expected=expected,
        )
    table = read_table(studies, "studies")
    _, lines = read_csv_table(studies, "a header line: study_id, record_id, role, ...")
    has_column = "n_total" in table.columns
    rows: dict[str, list[int]] = {}
    for index, study in enumerate(table["study_id"]):
        rows.setdefault(str(study), []).append(index)
    out: dict[str, float] = {}
    for study, reason in reasons.items():
        found = rows.get(study)
        if not found:
            raise InputError(
                f"study {study!r} is not listed" + _because(reason),
                file=studies,
                column="study_id",
                expected=f"a row for every study with its n_total: {why}",
            )
        main = [i for i in found if table.at[i, "role"] == "main"]
        first = (main or found)[0]
        given = [
            (i, table.at[i, "n_total"])
            for i in sorted(found, key=lambda i: (i != first, i))
            if has_column and table.at[i, "n_total"] is not None
        ]
        where = {"file": studies, "line": lines[first], "row": first + 1}
        if not given:
            raise InputError(
                f"study {study!r} gives no n_total" + _because(reason),
                column="n_total",
                expected=expected,
                **where,
            )
        index, value = given[0]
        for other, value2 in given[1:]:
            if value2 != value:
                raise InputError(
                    f"study {study!r} gives n_total {value2} here and {value} "
                    f"in row {index + 1}",
                    file=studies,
                    line=lines[other],
                    row=other + 1,
                    column="n_total",
                    expected="one number of participants per study",
                )
        if not float(value) > 0:
            raise InputError(
                f"study {study!r} gives n_total {value}" + _because(reason),
                file=studies,
                line=lines[index],
                row=index + 1,
                column="n_total",
                expected=f"a number of participants above 0: {why}",
            )
        out[study] = float(value)
    return out


def _because(reason: str) -> str:
    return f", but it is {reason}" if reason else ""
