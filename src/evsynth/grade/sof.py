"""The summary-of-findings table and its plain-language statements.

One row per analysis (outcome), in the layout of GRADEpro and the Cochrane
Handbook (ch. 14): the outcome, participants (studies), the relative effect
where the measure has one, the absolute effect, the certainty as ⊕⊕⊕◯ with its
word and footnote letters, a plain-language statement, and the footnotes.

Plain-language statements follow GRADE guidance 26 (Santesso et al. 2020, J
Clin Epidemiol 119:126-135): the verb follows the certainty (high: states the
effect; moderate: "likely"; low: "may"; very low: "the evidence is very
uncertain") and the size word follows the estimate against the thresholds
(the analysis's ``mid``, else ``grade.smd_sizes`` for standardised
differences). Effects are coded so that a positive estimate is favourable
(``favourable`` in effects.csv), so a positive estimate is an improvement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evsynth.grade.certainty import Certainty, symbols

__all__ = ["SofRow", "effect_size_word", "in_sentence", "plain_language", "sof_row"]

RATIO_MEASURES = ("OR", "RR")


def effect_size_word(
    estimate: float, measure: str, mid: float | None, smd_sizes: Sequence[float]
) -> str:
    """Return trivial, small, moderate, large, or "" (no thresholds for the measure).

    Parameters
    ----------
    estimate : float
        The pooled estimate on the analysis's scale (log for OR and RR).
    measure : str
        The measure.
    mid : float, optional
        The minimally important difference: below it, trivial.
    smd_sizes : sequence of 3 floats
        Where small, moderate and large standardised differences start.
    """
    size = abs(estimate)
    if measure == "SMD":
        small, moderate, large = smd_sizes
        if size < (mid if mid else small):
            return "trivial"
        if size >= large:
            return "large"
        return "moderate" if size >= moderate else "small"
    if mid:
        return "trivial" if size < mid else "important"
    return ""


def plain_language(
    certainty: str, intervention: str, outcome: str, estimate: float, size: str
) -> str:
    """Return the plain-language statement of GRADE guidance 26.

    Parameters
    ----------
    certainty : str
        high, moderate, low or very low.
    intervention, outcome : str
        As the statement names them ("Mentoring", "mental health").
    estimate : float
        The pooled estimate (positive: favourable).
    size : str
        From :func:`effect_size_word`.
    """
    if certainty == "very low":
        return (
            f"The evidence is very uncertain about the effect of "
            f"{in_sentence(intervention)} on {outcome}."
        )
    better = estimate > 0
    change = "improvement" if better else "worsening"
    # high states the effect, moderate says "likely", low "may" (base form)
    verb = {
        "high": "improves" if better else "worsens",
        "moderate": "likely improves" if better else "likely worsens",
        "low": "may improve" if better else "may worsen",
    }[certainty]
    result = {
        "high": "results",
        "moderate": "likely results",
        "low": "may result",
    }[certainty]
    if size == "trivial":
        return f"{intervention} {result} in little to no difference in {outcome}."
    if size in ("moderate", "large"):
        return f"{intervention} {result} in a {size} {change} in {outcome}."
    if size == "small":
        return f"{intervention} {verb} {outcome} slightly."
    return f"{intervention} {verb} {outcome}."


def in_sentence(name: str) -> str:
    """Return a name as it reads inside a sentence: "Mental health" -> "mental health".

    A name starting with an acronym ("PTSD symptoms", "BBBS") is kept.
    """
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def _direction(value: float, unit: str = "") -> str:
    word = "higher" if value >= 0 else "lower"
    return f"{abs(value):.2f}{unit} {word}"


@dataclass
class SofRow:
    """One row of the summary-of-findings table.

    Parameters
    ----------
    analysis, outcome : str
        The analysis and its label.
    participants : int or None
        Participants analysed (None when not known).
    studies : int
        Studies pooled.
    relative_effect : str
        "OR 1.50 (1.10 to 2.05)", or "" for measures without one.
    absolute_effect : str
        "SMD 0.26 higher (0.17 higher to 0.35 higher)" or risks per 1,000.
    certainty : str
        "⊕⊕⊕◯ Moderate a,b".
    level : str
        high, moderate, low or very low.
    provisional : bool
        Whether a domain only the team can judge is still unjudged.
    statement : str
        The plain-language statement.
    footnotes : list of (str, str)
        Letter and text.
    """

    analysis: str
    outcome: str
    participants: int | None
    studies: int
    relative_effect: str
    absolute_effect: str
    certainty: str
    level: str
    provisional: bool
    statement: str
    footnotes: list[tuple[str, str]]

    def as_dict(self) -> dict[str, Any]:
        """Return the row as the CSV writes it (footnotes joined)."""
        return {
            "analysis": self.analysis,
            "outcome": self.outcome,
            "participants": "" if self.participants is None else self.participants,
            "studies": self.studies,
            "participants_studies": self.participants_studies,
            "relative_effect": self.relative_effect,
            "absolute_effect": self.absolute_effect,
            "certainty": self.certainty,
            "level": self.level,
            "provisional": "yes" if self.provisional else "no",
            "statement": self.statement,
            "footnotes": " ".join(f"{k}. {t}" for k, t in self.footnotes),
        }

    @property
    def participants_studies(self) -> str:
        """Return "1,234 (14 studies)", as GRADEpro prints it."""
        studies = f"{self.studies} {'study' if self.studies == 1 else 'studies'}"
        if self.participants is None:
            return f"({studies})"
        return f"{self.participants:,} ({studies})"


def _letters(start: int, n: int) -> list[str]:
    """Footnote letters a, b, ..., z, aa, ab, ... from index ``start``."""
    out = []
    for index in range(start, start + n):
        text, number = "", index
        while True:
            text = chr(ord("a") + number % 26) + text
            number = number // 26 - 1
            if number < 0:
                break
        out.append(text)
    return out


def _comparator_risk(inputs: Mapping[str, Any] | None) -> float | None:
    if not inputs:
        return None
    events, total = inputs.get("events_c"), inputs.get("n_c")
    if not events or not total or total <= 0:
        return None
    return float(events) / float(total)


def sof_row(
    report: Mapping[str, Any],
    certainty: Certainty,
    *,
    participants: int | None,
    intervention: str,
    mid: float | None,
    smd_sizes: Sequence[float],
    footnote_start: int = 0,
    comparator: Mapping[str, Any] | None = None,
) -> SofRow:
    """Build one analysis's row of the summary of findings.

    Parameters
    ----------
    report : mapping
        The analysis report (``results/meta/ANALYSIS.json``).
    certainty : Certainty
        Its rating.
    participants : int, optional
        Participants analysed.
    intervention : str
        The intervention's name for the statements.
    mid : float, optional
        The analysis's minimally important difference.
    smd_sizes : sequence of float
        ``grade.smd_sizes``.
    footnote_start : int
        Index of this row's first footnote letter (letters run on through the
        table, as in GRADEpro).
    comparator : mapping, optional
        ``events_c`` and ``n_c`` summed over the analysis, for the absolute
        effects of odds and risk ratios.
    """
    pooled = report.get("pooled") or {}
    measure = str(report.get("measure") or "")
    estimate = float(pooled.get("estimate") or 0.0)
    low, high = float(pooled.get("ci_lb") or 0.0), float(pooled.get("ci_ub") or 0.0)
    outcome = str(report.get("label") or report.get("analysis"))
    relative, absolute = "", ""
    if measure in RATIO_MEASURES:
        ratio = [math.exp(v) for v in (estimate, low, high)]
        relative = f"{measure} {_fmt(ratio[0])} ({_fmt(ratio[1])} to {_fmt(ratio[2])})"
        risk = _comparator_risk(comparator)
        if risk is not None:
            with_ = []
            for r in ratio:
                if measure == "RR":
                    with_.append(min(1.0, risk * r))
                else:
                    with_.append(r * risk / (1 - risk + r * risk))
            absolute = (
                f"{risk * 1000:.0f} per 1,000 with the comparator; "
                f"{with_[0] * 1000:.0f} per 1,000 with the intervention "
                f"({with_[1] * 1000:.0f} to {with_[2] * 1000:.0f})"
            )
    elif measure == "RD":
        absolute = (
            f"{abs(estimate) * 1000:.0f} {'more' if estimate >= 0 else 'fewer'} per "
            f"1,000 ({low * 1000:.0f} to {high * 1000:.0f})"
        )
    else:
        absolute = (
            f"{measure} {_direction(estimate)} ({_direction(low)} to "
            f"{_direction(high)})"
        )
    notes = certainty.footnotes()
    letters = _letters(footnote_start, len(notes))
    word = certainty.label.capitalize()
    shown = f"{symbols(certainty.level)} {word}"
    if letters:
        shown += " " + ",".join(letters)
    if certainty.provisional:
        shown += " (provisional)"
    size = effect_size_word(estimate, measure, mid, smd_sizes)
    statement = plain_language(
        certainty.label, intervention, in_sentence(outcome), estimate, size
    )
    return SofRow(
        analysis=str(report.get("analysis")),
        outcome=outcome,
        participants=participants,
        studies=int(pooled.get("k") or report.get("k") or 0),
        relative_effect=relative,
        absolute_effect=absolute,
        certainty=shown,
        level=certainty.label,
        provisional=certainty.provisional,
        statement=statement,
        footnotes=list(zip(letters, notes, strict=True)),
    )
