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

Binary outcomes (OR, RR, RD) are shown for the event as measured, as the meta
stage pools them (an event that is better when lower, such as offending, too:
the report's ``favourable`` is ``lower``), so the table prints the risk ratio
of offending, as the forest plot does, not its inverse, and the absolute effect
as more or fewer people with the event per 1,000; the values of a report
without ``favourable`` (an older meta stage, which pooled such an event turned
round) are turned back. The absolute effect applies the relative effect to the
assumed comparator risk (ACR; :mod:`evsynth.grade.binary`): with the
intervention ``ACR * RR``, or ``ACR * OR / (1 - ACR + ACR * OR)`` (Cochrane
Handbook 14.1.5), and the difference from the ACR per 1,000, with the CI of
the relative effect carried through. The statement then says the intervention
reduces or increases the event.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evsynth.grade.certainty import Certainty, symbols
from evsynth.grade.rules import BINARY_MEASURES, RATIO_MEASURES, risk_with

__all__ = [
    "SofRow",
    "absolute_effect",
    "effect_size_word",
    "in_sentence",
    "plain_language",
    "sof_row",
]


def effect_size_word(
    estimate: float,
    measure: str,
    mid: float | None,
    smd_sizes: Sequence[float],
    bounds: tuple[float, float] | None = None,
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
    bounds : (float, float), optional
        Thresholds of an important harm and benefit on the analysis's scale
        when they differ (an OR or RR: log 0.75 and log 1.25); between them,
        trivial. Not used for SMDs.
    """
    size = abs(estimate)
    if measure == "SMD":
        small, moderate, large = smd_sizes
        if size < (mid if mid else small):
            return "trivial"
        if size >= large:
            return "large"
        return "moderate" if size >= moderate else "small"
    if bounds is None and mid:
        bounds = (-mid, mid)
    if bounds is not None:
        return "trivial" if bounds[0] < estimate < bounds[1] else "important"
    return ""


def plain_language(
    certainty: str,
    intervention: str,
    outcome: str,
    estimate: float,
    size: str,
    *,
    event: bool = False,
) -> str:
    """Return the plain-language statement of GRADE guidance 26.

    Parameters
    ----------
    certainty : str
        high, moderate, low or very low.
    intervention, outcome : str
        As the statement names them ("Mentoring", "mental health").
    estimate : float
        The pooled estimate (positive: favourable); with ``event``, the effect
        on the event as measured (positive: more events).
    size : str
        From :func:`effect_size_word`.
    event : bool
        The outcome is an event (OR, RR, RD): the statement says the
        intervention reduces or increases it ("Mentoring likely reduces
        offending"), so that an unfavourable event that falls reads as the
        improvement it is.
    """
    if certainty == "very low":
        return (
            f"The evidence is very uncertain about the effect of "
            f"{in_sentence(intervention)} on {outcome}."
        )
    up = estimate > 0
    # (verb, noun) for a positive and for a negative estimate
    words = (
        (("increase", "increase"), ("reduce", "reduction"))
        if event
        else (("improve", "improvement"), ("worsen", "worsening"))
    )
    word, change = words[0] if up else words[1]
    verb, result = _hedged(word, certainty), _hedged("result", certainty)
    if size == "trivial":
        return f"{intervention} {result} in little to no difference in {outcome}."
    if size in ("moderate", "large"):
        return f"{intervention} {result} in a {size} {change} in {outcome}."
    if size == "small":
        return f"{intervention} {verb} {outcome} slightly."
    return f"{intervention} {verb} {outcome}."


def _hedged(verb: str, certainty: str) -> str:
    """Return a verb as GRADE guidance 26 words it at a certainty.

    High states the effect ("improves"), moderate says "likely" ("likely
    improves"), low "may" with the base form ("may improve").
    """
    forms = {"high": f"{verb}s", "moderate": f"likely {verb}s", "low": f"may {verb}"}
    return forms[certainty]


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
    comparator_risk : float, optional
        The assumed comparator risk behind the absolute effect of a binary
        outcome (0 to 1).
    comparator_basis : str
        Where it comes from ("114 events in 1,108 participants of the
        comparator groups of 15 studies").
    notes : list of str
        Notes under the table on the row's effects (where the absolute effect
        comes from; a ratio turned back to the event as measured).
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
    comparator_risk: float | None = None
    comparator_basis: str = ""
    notes: list[str] = field(default_factory=list)

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
            "comparator_risk": ""
            if self.comparator_risk is None
            else self.comparator_risk,
            "comparator_basis": self.comparator_basis,
            "notes": " ".join(self.notes),
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


def _per_1000(value: float) -> str:
    return f"{1000 * value:,.0f}"


def _difference(value: float) -> str:
    """Return "35 more" or "10 fewer" (per 1,000 left to the caller)."""
    shown = round(1000 * value)
    return f"{abs(shown):,} {'fewer' if shown < 0 else 'more'}"


def absolute_effect(
    risk: float, ratios: Sequence[float], measure: str
) -> tuple[str, list[float]]:
    """Return the absolute effect of a risk or odds ratio per 1,000, and the risks.

    Parameters
    ----------
    risk : float
        The assumed comparator risk (ACR).
    ratios : (float, float, float)
        The ratio of the event as measured and its CI (not logs).
    measure : str
        ``RR`` or ``OR``.

    Returns
    -------
    (str, list of float)
        "103 per 1,000 with the comparator; 112 per 1,000 with the
        intervention (67 to 187); 9 more per 1,000 (from 36 fewer to 84
        more)", and the risks with the intervention (estimate, CI).
    """
    with_ = [risk_with(risk, r, measure) for r in ratios]
    low, high = sorted(with_[1:])
    text = (
        f"{_per_1000(risk)} per 1,000 with the comparator; "
        f"{_per_1000(with_[0])} per 1,000 with the intervention "
        f"({_per_1000(low)} to {_per_1000(high)}); "
        f"{_difference(with_[0] - risk)} per 1,000 (from "
        f"{_difference(low - risk)} to {_difference(high - risk)})"
    )
    return text, with_


def sof_row(
    report: Mapping[str, Any],
    certainty: Certainty,
    *,
    participants: int | None,
    intervention: str,
    mid: float | None,
    smd_sizes: Sequence[float],
    footnote_start: int = 0,
    comparator: float | None = None,
    bounds: tuple[float, float] | None = None,
    direction: str | None = None,
    turned: bool | None = None,
    comparator_basis: str = "",
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
    comparator : float, optional
        The assumed comparator risk (0 to 1), for the absolute effects of odds
        and risk ratios and the comparator's risk beside a risk difference.
    bounds : (float, float), optional
        The MID's thresholds on the analysis's scale when they differ (OR,
        RR), for the size word.
    direction : str, optional
        Which direction of the event favours the intervention (the report's
        ``favourable``, or :func:`evsynth.grade.binary.event_direction`):
        ``lower`` (the event is unfavourable), ``higher``, ``mixed`` (rows
        counted in opposite directions: no single event, so the ratio stays as
        pooled, above 1 favouring the intervention, and no absolute effect),
        or None (as ``higher``).
    turned : bool, optional
        The report's values of an unfavourable event are turned round (a
        report of an older meta stage, without ``favourable``): they are
        turned back here, and a note says the forest plot shows the inverse.
        Default: ``direction == "lower"``; False for a report whose
        ``favourable`` says the event was pooled as measured.
    comparator_basis : str
        Where the comparator risk comes from, for the note under the table.
    """
    pooled = report.get("pooled") or {}
    measure = str(report.get("measure") or "")
    estimate = float(pooled.get("estimate") or 0.0)
    low, high = float(pooled.get("ci_lb") or 0.0), float(pooled.get("ci_ub") or 0.0)
    outcome = str(report.get("label") or report.get("analysis"))
    relative, absolute = "", ""
    binary = measure in BINARY_MEASURES and direction != "mixed"
    # the event as measured: turned back where the rows were turned round
    if turned is None:
        turned = direction == "lower"
    sign = -1.0 if binary and turned else 1.0
    event = sorted(sign * v for v in (low, high))
    event = [sign * estimate, *event]
    if measure in RATIO_MEASURES:
        ratio = [math.exp(v) for v in event]
        relative = f"{measure} {_fmt(ratio[0])} ({_fmt(ratio[1])} to {_fmt(ratio[2])})"
        if direction == "mixed":
            relative += (
                "; of the outcome as pooled, above 1 favouring the intervention "
                "(the studies count events in opposite directions)"
            )
        elif comparator is not None and 0 < comparator < 1:
            absolute = absolute_effect(comparator, ratio, measure)[0]
    elif measure == "RD":
        absolute = (
            f"{_difference(event[0])} per 1,000 (from {_difference(event[1])} to "
            f"{_difference(event[2])})"
        )
        if direction == "mixed":
            absolute += (
                " of the outcome as pooled, more favouring the intervention "
                "(the studies count events in opposite directions)"
            )
        elif comparator is not None and 0 <= comparator <= 1:
            absolute = f"{_per_1000(comparator)} per 1,000 with the comparator; " + (
                absolute
            )
    else:
        absolute = (
            f"{measure} {_direction(estimate)} ({_direction(low)} to "
            f"{_direction(high)})"
        )
    footnote_texts = certainty.footnotes()
    letters = _letters(footnote_start, len(footnote_texts))
    word = certainty.label.capitalize()
    shown = f"{symbols(certainty.level)} {word}"
    if letters:
        shown += " " + ",".join(letters)
    if certainty.provisional:
        shown += " (provisional)"
    size = effect_size_word(estimate, measure, mid, smd_sizes, bounds)
    statement = plain_language(
        certainty.label,
        intervention,
        in_sentence(outcome),
        event[0] if binary else estimate,
        size,
        event=binary,
    )
    notes = []
    used = comparator if binary and absolute and comparator is not None else None
    if used is not None:
        notes.append(
            f"{outcome}: the absolute effect applies the relative effect (and its "
            f"95% CI) to an assumed comparator risk of {_per_1000(used)} per 1,000"
            + (f": {comparator_basis}" if comparator_basis else "")
            + " (the pooled risk of the comparator groups; Cochrane Handbook "
            "14.1.5)."
        )
    if binary and sign < 0:
        inverse, side = (
            ("its inverse", "above 1")
            if measure in RATIO_MEASURES
            else ("its negative", "above 0")
        )
        notes.append(
            f"{outcome}: fewer events are better; the {measure} shown is that of "
            f"the event as measured, where the meta-analysis (forest plot, "
            f"results/meta/) shows {inverse}, so that {side} favours the "
            "intervention as for every outcome."
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
        footnotes=list(zip(letters, footnote_texts, strict=True)),
        comparator_risk=used,
        comparator_basis=comparator_basis if used is not None else "",
        notes=notes,
    )
