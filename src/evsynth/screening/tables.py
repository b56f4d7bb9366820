"""The screening stage's output tables: decisions, conflicts, audit, reasons, agreement."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pandas as pd

from evsynth.screening.agreement import agreement
from evsynth.screening.decide import CONFLICT, EXCLUDE, Screening
from evsynth.screening.model import (
    FULL_TEXT,
    STAGES,
    TITLE_ABSTRACT,
    Decision,
    RecordSet,
    Settings,
)
from evsynth.screening.prisma import StudyMap


def _votes_text(votes: tuple[Decision, ...]) -> str:
    parts = []
    for vote in sorted(votes, key=lambda d: d.reviewer):
        text = f"{vote.reviewer}: {vote.decision}"
        if vote.reason:
            text += f" ({vote.reason})"
        parts.append(text)
    return "; ".join(parts)


def final_decisions(
    records: RecordSet, screening: Screening, studies: StudyMap
) -> pd.DataFrame:
    """Return one row per record and stage it reached, with how it was decided.

    Columns: ``record_id, stage, status, reason, decided_by, votes, n_votes,
    final_state, prisma_column, study_id, title``.
    """
    rows = []
    for record_id in records.ids:
        for stage in STAGES:
            outcome = screening.outcomes.get((record_id, stage))
            if outcome is None:
                continue
            rows.append(
                {
                    "record_id": record_id,
                    "stage": stage,
                    "status": outcome.status,
                    "reason": outcome.reason,
                    "decided_by": outcome.decided_by,
                    "votes": _votes_text(outcome.votes),
                    "n_votes": len(outcome.votes),
                    "resolution": (
                        _votes_text((outcome.resolution,)) if outcome.resolution else ""
                    ),
                    "final_state": screening.states[record_id],
                    "prisma_column": records.column[record_id],
                    "study_id": studies.study_of.get(record_id, ""),
                    "title": records.title(record_id),
                }
            )
    return pd.DataFrame(rows, columns=_FINAL_COLUMNS)


_FINAL_COLUMNS = [
    "record_id",
    "stage",
    "status",
    "reason",
    "decided_by",
    "votes",
    "n_votes",
    "resolution",
    "final_state",
    "prisma_column",
    "study_id",
    "title",
]


def conflicts(
    records: RecordSet, screening: Screening, settings: Settings
) -> pd.DataFrame:
    """Return the records whose reviewers disagree and no resolver has decided.

    Columns: ``record_id, stage, votes, resolvers, title``.
    """
    rows = [
        {
            "record_id": record_id,
            "stage": stage,
            "votes": _votes_text(outcome.votes),
            "resolvers": ", ".join(settings.resolvers),
            "title": records.title(record_id),
        }
        for record_id in records.ids
        for stage in STAGES
        if (outcome := screening.outcomes.get((record_id, stage))) is not None
        and outcome.status == CONFLICT
    ]
    return pd.DataFrame(
        rows, columns=["record_id", "stage", "votes", "resolvers", "title"]
    )


def audit(screening: Screening, settings: Settings) -> pd.DataFrame:
    """Return every row of the decision log with what became of it.

    Columns: ``log_row, record_id, given_record_id, stage, reviewer, role,
    decision, reason, note, timestamp, superseded_by_row``; ordered by record,
    stage and log row, so each record's history reads top to bottom.
    """
    later: dict[tuple[str, str, str], list[int]] = {}
    for decision in screening.log:
        key = (decision.record_id, decision.stage, decision.reviewer)
        later.setdefault(key, []).append(decision.row)
    rows = []
    for decision in screening.log:
        key = (decision.record_id, decision.stage, decision.reviewer)
        following = [r for r in later[key] if r > decision.row]
        rows.append(
            {
                "log_row": decision.row,
                "record_id": decision.record_id,
                "given_record_id": decision.given_id,
                "stage": decision.stage,
                "reviewer": decision.reviewer,
                "role": "resolver"
                if decision.reviewer in settings.resolvers
                else "reviewer",
                "decision": decision.decision,
                "reason": decision.reason,
                "note": decision.note,
                "timestamp": decision.timestamp,
                "superseded_by_row": following[0] if following else "",
            }
        )
    frame = pd.DataFrame(rows, columns=_AUDIT_COLUMNS)
    order = {stage: i for i, stage in enumerate(STAGES)}
    if len(frame):
        frame = frame.sort_values(
            ["record_id", "stage", "log_row"],
            key=lambda s: s.map(order) if s.name == "stage" else s,
            kind="stable",
        ).reset_index(drop=True)
    return frame


_AUDIT_COLUMNS = [
    "log_row",
    "record_id",
    "given_record_id",
    "stage",
    "reviewer",
    "role",
    "decision",
    "reason",
    "note",
    "timestamp",
    "superseded_by_row",
]


def exclusion_reasons(
    records: RecordSet, screening: Screening, settings: Settings
) -> pd.DataFrame:
    """Count final exclusions per stage and reason, with the PRISMA column.

    Every configured full-text reason gets a row (zero if unused), in config
    order; title/abstract exclusions are grouped by their free-text reason,
    ``(none given)`` when there is none.

    Columns: ``stage, reason, databases_registers, other_methods, total``.
    """
    counts: Counter[tuple[str, str, str]] = Counter()
    for (record_id, stage), outcome in screening.outcomes.items():
        if outcome.status == EXCLUDE:
            reason = outcome.reason or "(none given)"
            counts[(stage, reason, records.column[record_id])] += 1
    rows = []
    ta_reasons = sorted({r for s, r, _ in counts if s == TITLE_ABSTRACT})
    for stage, reasons in ((TITLE_ABSTRACT, ta_reasons), (FULL_TEXT, settings.reasons)):
        for reason in reasons:
            dbr = counts[(stage, reason, "databases_registers")]
            other = counts[(stage, reason, "other_methods")]
            rows.append(
                {
                    "stage": stage,
                    "reason": reason,
                    "databases_registers": dbr,
                    "other_methods": other,
                    "total": dbr + other,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["stage", "reason", "databases_registers", "other_methods", "total"],
    )


_AGREEMENT_COLUMNS = [
    "stage",
    "scale",
    "reviewer_a",
    "reviewer_b",
    "n",
    "both_include",
    "a_include_b_exclude",
    "a_exclude_b_include",
    "both_exclude",
    "observed",
    "observed_low",
    "observed_high",
    "kappa",
    "kappa_low",
    "kappa_high",
    "pabak",
    "pabak_low",
    "pabak_high",
    "ac1",
    "ac1_low",
    "ac1_high",
    "prevalence_index",
    "bias_index",
    "positive_agreement",
    "negative_agreement",
]


def _round(value: float) -> float | str:
    return "" if value is None or math.isnan(value) else round(float(value), 6)


def agreement_table(screening: Screening, settings: Settings) -> pd.DataFrame:
    """Compute the agreement of each reviewer pair at each stage, on final votes.

    At title/abstract ``maybe`` counts as include (Covidence). Each pair is
    compared on the records both decided (their latest decision; resolvers'
    decisions are not votes). Full text is also compared on the exclusion
    reason (``scale = reasons``: include or the reason), since two exclusions for
    different reasons are a conflict.

    Columns: ``stage, scale, reviewer_a, reviewer_b, n`` and the 2 x 2 counts
    (binary scale), then observed agreement, Cohen's kappa, PABAK and Gwet's AC1
    with 95% confidence limits, the prevalence and bias indices, and positive
    and negative agreement.
    """
    votes: dict[tuple[str, str], dict[str, Decision]] = {}
    for decision in screening.current:
        if decision.reviewer in settings.reviewers:
            votes.setdefault((decision.stage, decision.reviewer), {})[
                decision.record_id
            ] = decision
    rows = []
    for stage in STAGES:
        scales = ("binary", "reasons") if stage == FULL_TEXT else ("binary",)
        for scale in scales:
            for first, second in itertools.combinations(settings.reviewers, 2):
                a_votes = votes.get((stage, first), {})
                b_votes = votes.get((stage, second), {})
                shared = [r for r in a_votes if r in b_votes]

                def label(decision: Decision, scale: str = scale) -> str:
                    if scale == "reasons" and decision.vote == EXCLUDE:
                        return decision.reason
                    return decision.vote

                row: dict[str, object] = dict.fromkeys(_AGREEMENT_COLUMNS, "")
                row |= {
                    "stage": stage,
                    "scale": scale,
                    "reviewer_a": first,
                    "reviewer_b": second,
                    "n": len(shared),
                }
                if shared:
                    a = [label(a_votes[r]) for r in shared]
                    b = [label(b_votes[r]) for r in shared]
                    if scale == "binary":
                        categories = ["include", "exclude"]
                        pairs = Counter(zip(a, b, strict=True))
                        row |= {
                            "both_include": pairs[("include", "include")],
                            "a_include_b_exclude": pairs[("include", "exclude")],
                            "a_exclude_b_include": pairs[("exclude", "include")],
                            "both_exclude": pairs[("exclude", "exclude")],
                        }
                    else:
                        categories = ["include", *settings.reasons]
                    stats = agreement(a, b, categories=categories, positive="include")
                    row |= {
                        "observed": _round(stats.observed.value),
                        "observed_low": _round(stats.observed.ci_low),
                        "observed_high": _round(stats.observed.ci_high),
                        "kappa": _round(stats.kappa.value),
                        "kappa_low": _round(stats.kappa.ci_low),
                        "kappa_high": _round(stats.kappa.ci_high),
                        "pabak": _round(stats.pabak.value),
                        "pabak_low": _round(stats.pabak.ci_low),
                        "pabak_high": _round(stats.pabak.ci_high),
                        "ac1": _round(stats.ac1.value),
                        "ac1_low": _round(stats.ac1.ci_low),
                        "ac1_high": _round(stats.ac1.ci_high),
                        "prevalence_index": _round(stats.prevalence_index),
                        "bias_index": _round(stats.bias_index),
                        "positive_agreement": _round(stats.positive_agreement),
                        "negative_agreement": _round(stats.negative_agreement),
                    }
                rows.append(row)
    return pd.DataFrame(rows, columns=_AGREEMENT_COLUMNS, dtype=object)
