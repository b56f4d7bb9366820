"""Binary outcomes in GRADE: the event's direction, the comparator's risk, ratio MIDs.

The effects stage signs effects so that a positive value favours the
intervention (``favourable`` in effects.csv): the log OR or log RR of an event
that is better when lower (offending, a placement breakdown) is turned round
(``sign_flipped``). The meta stage turns a binary analysis of such an event back
and pools it as measured (its report's ``favourable`` is ``lower``); an
analysis whose rows count events in opposite directions stays turned round
(``mixed``). A summary of findings shows the ratio of the event as measured,
and its absolute effect as more or fewer events, so the GRADE stage needs to
know which way the analysis was signed: it reads that from the report
(``favourable``), or, for a report without it, from the rows pooled
(:func:`event_direction`), and the comparator groups' 2x2 counts from those rows
(``results/meta/inputs/ANALYSIS.csv``, the effects stage's columns, with
``events_t`` and ``events_c`` last).

The assumed comparator risk (ACR) of an analysis is the pooled risk of its
comparator groups: the events over the participants of the comparator groups
of the studies pooled that report 2x2 counts (a study with several rows in the
analysis contributes the mean risk of its rows, over its largest comparator
group). This is GRADEpro's "study population" risk; the Cochrane Handbook
(section 14.1.5) also allows the median comparator-group risk, or a risk from
outside the review for a population at low, moderate or high risk. The pooled
risk is chosen because it is what the studies observed, weighted by their size,
and it is traceable to the rows (``events_c``, ``n_c``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evsynth.errors import InputError
from evsynth.grade.rules import RATIO_MEASURES, RATIO_MID, ratio_bounds
from evsynth.meta.analyses import event_direction

__all__ = [
    "ComparatorRisk",
    "comparator_risk",
    "event_direction",
    "mid_problems",
    "mid_settings",
    "pooled_rows",
]

log = logging.getLogger("evsynth.grade")

#: A ratio MID further from 1 than these may be a log ratio given by mistake.
_UNUSUAL_RATIO = (0.5, 2.0)


@dataclass(frozen=True)
class ComparatorRisk:
    """The assumed comparator risk of an analysis (its comparator groups pooled).

    Parameters
    ----------
    events : float
        Events in the comparator groups (summed over studies).
    total : float
        Participants in the comparator groups.
    studies : int
        Studies with 2x2 counts that contribute.
    k : int
        Studies pooled in the analysis.
    """

    events: float
    total: float
    studies: int
    k: int

    @property
    def risk(self) -> float:
        """Events over participants."""
        return self.events / self.total

    def describe(self) -> str:
        """Return where the risk comes from, for the notes under the table.

        "114 events in 1,108 participants of the comparator groups of 15
        studies"; "of 4 of 5 studies" when some studies pooled have no counts.
        """
        whole = abs(self.events - round(self.events)) < 1e-9
        events = f"{round(self.events):,}" if whole else f"{self.events:,.1f}"
        groups = f"{self.studies} of {self.k}" if self.studies < self.k else str(self.k)
        return (
            f"{events} events in {self.total:,.0f} participants of the comparator "
            f"groups of {groups} {'study' if self.k == 1 else 'studies'}"
        )


def pooled_rows(
    table: pd.DataFrame, report: Mapping[str, Any], timepoint: str = "latest"
) -> pd.DataFrame:
    """Return the rows of an analysis's input table that the meta stage pooled.

    The same selection as :func:`evsynth.meta.analyses.select_rows` (the
    analysis's domains and measure, one time point per study), limited to the
    studies the report pooled. A table without the columns that selection
    needs gives the rows of the pooled studies on the analysis's measure.

    Parameters
    ----------
    table : pandas.DataFrame
        ``results/meta/inputs/ANALYSIS.csv``.
    report : mapping
        The analysis report (``analysis``, ``domains``, ``measure``,
        ``studies``).
    timepoint : str
        ``meta.timepoint``.
    """
    from evsynth.meta.analyses import AnalysisSpec, MetaSettings, select_rows

    measure = str(report.get("measure") or "")
    ids = {str(s["study_id"]) for s in report.get("studies") or []}
    needed = {"study_id", "outcome", "domain", "timepoint", "months", "measure"}
    domains = tuple(str(d) for d in report.get("domains") or ())
    if needed <= set(table.columns) and domains:
        spec = AnalysisSpec(str(report.get("analysis")), domains, measure)
        rows, _ = select_rows(table, spec, MetaSettings(timepoint=timepoint))
    else:
        rows = table
        if "measure" in table.columns:
            rows = rows[rows["measure"].astype(str) == measure]
    return rows[rows["study_id"].astype(str).isin(ids)]


def comparator_risk(rows: pd.DataFrame, k: int) -> ComparatorRisk | None:
    """Return the pooled risk of the comparator groups of the rows with 2x2 counts.

    Per study the mean of ``events_c / n_c`` over its rows with counts, over
    its largest ``n_c``; summed over studies. None when no row has counts.

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows pooled (:func:`pooled_rows`).
    k : int
        Studies pooled (for the description).
    """
    if not {"study_id", "events_c", "n_c"} <= set(rows.columns):
        return None
    events = pd.to_numeric(rows["events_c"], errors="coerce")
    sizes = pd.to_numeric(rows["n_c"], errors="coerce")
    ok = events.notna() & sizes.notna() & (sizes > 0)
    if not ok.any():
        return None
    frame = pd.DataFrame(
        {
            "study": rows.loc[ok, "study_id"].astype(str),
            "risk": events[ok] / sizes[ok],
            "n": sizes[ok],
        }
    )
    per_study = frame.groupby("study", sort=True).agg(
        risk=("risk", "mean"), n=("n", "max")
    )
    total = float(per_study["n"].sum())
    return ComparatorRisk(
        events=float((per_study["risk"] * per_study["n"]).sum()),
        total=total,
        studies=len(per_study),
        k=max(k, len(per_study)),
    )


def _ratio_pair(value: Any) -> tuple[float, float]:
    """Return a ratio MID's two thresholds (below and above 1); else ValueError."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError("two ratios, one below and one above 1")
        low, high = (float(v) for v in value)
        if not 0 < low < 1 < high:
            raise ValueError("two ratios, one below and one above 1")
        return low, high
    if isinstance(value, bool):
        raise TypeError("a ratio (a number other than 1) or two ratios")
    ratio = float(value)
    if not (ratio > 0 and math.isfinite(ratio)) or ratio == 1:
        raise ValueError("a ratio other than 1 (its inverse is the other threshold)")
    return (ratio, 1 / ratio) if ratio < 1 else (1 / ratio, ratio)


def mid_problems(meta: Mapping[str, Any], source: str = "config") -> list[InputError]:
    """Check the ``mid`` of every analysis against its measure.

    An OR or RR analysis takes its MID as a ratio (1.25, meaning 0.8 and 1.25)
    or two ratios (``[0.75, 1.25]``); other measures take one number on their
    scale, never two.

    Returns
    -------
    list of InputError
        One per analysis whose ``mid`` does not fit, naming
        ``meta/analyses/INDEX/mid``.
    """
    problems: list[InputError] = []
    analyses = meta.get("analyses")
    if not isinstance(analyses, list):
        return problems
    for index, analysis in enumerate(analyses):
        if not isinstance(analysis, Mapping) or analysis.get("mid") is None:
            continue
        value, measure = analysis["mid"], str(analysis.get("measure", "SMD"))
        column = f"meta/analyses/{index}/mid"
        if measure in RATIO_MEASURES:
            try:
                _ratio_pair(value)
            except (TypeError, ValueError) as exc:
                problems.append(
                    InputError(
                        f"mid {value!r} of the {measure} analysis "
                        f"{analysis.get('name')!r} is not a ratio MID",
                        file=source,
                        column=column,
                        expected=f"{exc} (e.g. [0.75, 1.25], GRADE's default)",
                    )
                )
        elif isinstance(value, (list, tuple)):
            problems.append(
                InputError(
                    f"mid {value!r} of the {measure} analysis "
                    f"{analysis.get('name')!r}: two thresholds are for OR and RR only",
                    file=source,
                    column=column,
                    expected=f"one number on the {measure} scale (e.g. 0.2)",
                )
            )
    return problems


def mid_settings(
    analysis: Mapping[str, Any],
    measure: str,
    flipped: bool,
    default_ratios: Sequence[float] = RATIO_MID,
) -> dict[str, Any]:
    """Return the MID settings of one analysis (keyword arguments of GradeSettings).

    OR and RR: ``mid_bounds`` on the analysis's log scale, from the analysis's
    ``mid`` as ratios of the event as measured, else ``grade.ratio_mid``
    (GRADE's 0.75 and 1.25); ``ois_ratio`` is the analysis's own lower ratio
    (the OIS is then planned for it). Other measures: ``mid`` as given.

    Parameters
    ----------
    analysis : mapping
        The analysis's config entry.
    measure : str
        Its measure.
    flipped : bool
        The analysis's effects were turned round (the event is unfavourable).
    default_ratios : (float, float)
        ``grade.ratio_mid``.

    Raises
    ------
    InputError
        For a ``mid`` that does not fit the measure (:func:`mid_problems`).
    """
    problems = mid_problems({"analyses": [{**analysis, "measure": measure}]})
    if problems:
        raise problems[0]
    value = analysis.get("mid")
    if measure not in RATIO_MEASURES:
        return {"mid": float(value) if value is not None else None}
    if value is None:
        ratios = _ratio_pair(list(default_ratios))
        ois_ratio = None
    else:
        ratios = _ratio_pair(value)
        ois_ratio = ratios[0]
        if ratios[0] < _UNUSUAL_RATIO[0] or ratios[1] > _UNUSUAL_RATIO[1]:
            log.warning(
                "analysis %s: mid %r gives thresholds %s %.2f and %.2f; for an OR "
                "or RR the mid is a ratio, not a log ratio",
                analysis.get("name"),
                value,
                measure,
                *ratios,
            )
    return {"mid_bounds": ratio_bounds(ratios, flipped), "ois_ratio": ois_ratio}
