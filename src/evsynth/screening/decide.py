"""From the decision log to each record's outcome at each stage.

The rules are Covidence's. At title/abstract ``maybe`` counts as include; two
includes move a record on, two excludes exclude it, one of each is a conflict.
At full text a reason is mandatory, and two excludes with different reasons are
a conflict. A resolver's decision (``consensus`` or a named third reviewer) ends
a conflict, and is final whenever it is given. The latest row of the log for a
record, stage and reviewer supersedes earlier ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evsynth.errors import InputError
from evsynth.screening.model import (
    FULL_TEXT,
    OTHER,
    STAGE_NAMES,
    TITLE_ABSTRACT,
    Decision,
    RecordSet,
    Settings,
)
from evsynth.validation import read_table

PENDING, CONFLICT, INCLUDE, EXCLUDE = "pending", "conflict", "include", "exclude"
NOT_SCREENED = "not_screened"
NOT_RETRIEVED, AWAITING_RETRIEVAL = "not_retrieved", "awaiting_retrieval"

#: Final states of a unique record; each record is in exactly one.
STATES = (
    "pending_title_abstract",
    "conflict_title_abstract",
    "excluded_title_abstract",
    "awaiting_retrieval",
    "not_retrieved",
    "pending_full_text",
    "conflict_full_text",
    "excluded_full_text",
    "included",
)
#: Final states of records that passed title/abstract screening (or came by
#: other methods) and were sought for retrieval: PRISMA's "reports sought".
SOUGHT_STATES = STATES[3:]
#: Final states of records whose screening is not finished.
UNFINISHED_STATES = (
    "pending_title_abstract",
    "conflict_title_abstract",
    "awaiting_retrieval",
    "pending_full_text",
    "conflict_full_text",
)


@dataclass(frozen=True)
class Outcome:
    """A record's outcome at one stage.

    Parameters
    ----------
    status : str
        ``include``, ``exclude``, ``conflict``, ``pending``, ``not_screened``
        (title/abstract of a record identified via other methods), or at full
        text ``not_retrieved`` or ``awaiting_retrieval``.
    reason : str
        Exclusion reason of the final decision ("" if none).
    decided_by : str
        How the status came about: ``agreement``, ``single reviewer``,
        ``resolver <name>``, ``awaiting <n> more decision(s)``, ``reviewers disagree``.
    votes : tuple of Decision
        The reviewers' current decisions (superseded ones left out).
    resolution : Decision or None
        The resolver's current decision, if any.
    """

    status: str
    reason: str = ""
    decided_by: str = ""
    votes: tuple[Decision, ...] = ()
    resolution: Decision | None = None


def stage_outcome(
    votes: Sequence[Decision], resolution: Decision | None, needed: int
) -> Outcome:
    """Decide one record's outcome at one stage.

    Parameters
    ----------
    votes : sequence of Decision
        Each reviewer's current decision at this stage (one per reviewer).
    resolution : Decision or None
        A resolver's current decision at this stage.
    needed : int
        Independent decisions needed (1 or 2).

    Returns
    -------
    Outcome
        The status, reason and how it was decided.
    """
    votes = tuple(votes)
    if resolution is not None:
        reason = resolution.reason if resolution.vote == EXCLUDE else ""
        return Outcome(
            resolution.vote,
            reason,
            f"resolver {resolution.reviewer}",
            votes,
            resolution,
        )
    if not votes:
        return Outcome(PENDING, "", f"awaiting {needed} decision(s)", votes)
    verdicts = {v.verdict for v in votes}
    if len(verdicts) > 1:
        return Outcome(CONFLICT, "", "reviewers disagree", votes)
    if len(votes) < needed:
        missing = needed - len(votes)
        return Outcome(PENDING, "", f"awaiting {missing} more decision(s)", votes)
    vote, reason = verdicts.pop()
    how = "agreement" if len(votes) > 1 else "single reviewer"
    return Outcome(vote, reason, how, votes)


@dataclass
class Screening:
    """Every record's outcome at both stages, its final state, and the log.

    Parameters
    ----------
    log : list of Decision
        Every row of the decision log, in file order.
    current : list of Decision
        The rows not superseded by a later row.
    outcomes : dict
        (record_id, stage) -> Outcome, for every stage a record reached.
    retrieved : dict
        record_id -> (``yes``/``no``, row) from the retrieval file.
    states : dict
        record_id -> final state (one of :data:`STATES`).
    """

    log: list[Decision]
    current: list[Decision]
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    retrieved: dict[str, tuple[str, int]] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)


def read_log(
    path: str | Path, records: RecordSet, settings: Settings
) -> list[Decision]:
    """Read and check the decision log (a missing file is an empty log).

    Raises
    ------
    InputError
        For an unknown record, reviewer, stage or decision word, ``maybe`` at
        full text, a full-text exclusion without a reason or with a reason not
        in the config list. The message names the file, row and column.
    """
    path = Path(path)
    if not path.exists():
        return []  # screening has not started: every record is pending
    table = read_table(path, "screening_decisions")
    known = set(settings.reviewers) | set(settings.resolvers)
    log = []
    for index, row in enumerate(table.to_dict(orient="records")):
        number = index + 1

        def fail(message: str, column: str, expected: str, number: int = number):
            raise InputError(
                message,
                file=path,
                line=number + 1,
                row=number,
                column=column,
                expected=expected,
            )

        given = str(row["record_id"])
        if given not in records.representative:
            fail(
                f"unknown record {given!r}",
                "record_id",
                "a record_id of results/records/records.csv",
            )
        reviewer = str(row["reviewer"])
        if reviewer not in known:
            fail(
                f"unknown reviewer {reviewer!r}",
                "reviewer",
                "one of " + ", ".join([*settings.reviewers, *settings.resolvers]),
            )
        stage, decision = str(row["stage"]), str(row["decision"])
        if decision not in settings.decision_words(stage):
            fail(
                f"{decision!r} is not a {STAGE_NAMES[stage]} decision",
                "decision",
                " or ".join(settings.decision_words(stage)),
            )
        reason = str(row.get("reason") or "")
        if stage == FULL_TEXT and decision == EXCLUDE:
            if not reason:
                fail(
                    "a full-text exclusion needs a reason",
                    "reason",
                    "one of " + "; ".join(settings.reasons),
                )
            if reason not in settings.reasons:
                fail(
                    f"reason {reason!r} is not in the config list",
                    "reason",
                    "one of " + "; ".join(settings.reasons),
                )
        log.append(
            Decision(
                row=number,
                record_id=records.representative[given],
                given_id=given,
                stage=stage,
                reviewer=reviewer,
                decision=decision,
                reason=reason,
                note=str(row.get("note") or ""),
                timestamp=str(row.get("timestamp") or ""),
            )
        )
    return log


def read_retrieval(
    path: str | Path | None, records: RecordSet
) -> dict[str, tuple[str, int]]:
    """Read the retrieval file (missing file: nothing retrieved yet).

    Returns
    -------
    dict
        Unique record_id -> (``yes`` or ``no``, 1-based row in the file).

    Raises
    ------
    InputError
        For an unknown record or a record listed twice.
    """
    if path is None or not Path(path).is_file():
        return {}
    table = read_table(path, "retrieval")
    out: dict[str, tuple[str, int]] = {}
    first_row: dict[str, int] = {}
    for index, row in enumerate(table.to_dict(orient="records")):
        given = str(row["record_id"])
        if given not in records.representative:
            raise InputError(
                f"unknown record {given!r}",
                file=path,
                line=index + 2,
                row=index + 1,
                column="record_id",
                expected="a record_id of results/records/records.csv",
            )
        rep = records.representative[given]
        if rep in first_row:
            raise InputError(
                f"record {given!r} is listed twice (first in row {first_row[rep]})",
                file=path,
                line=index + 2,
                row=index + 1,
                column="record_id",
                expected="one row per record",
            )
        first_row[rep] = index + 1
        out[rep] = (str(row["retrieved"]), index + 1)
    return out


def current_decisions(log: Iterable[Decision]) -> list[Decision]:
    """Return the rows of the log that no later row supersedes, in log order."""
    latest: dict[tuple[str, str, str], Decision] = {}
    for decision in log:
        latest[(decision.record_id, decision.stage, decision.reviewer)] = decision
    return sorted(latest.values(), key=lambda d: d.row)


def screen(
    records: RecordSet,
    settings: Settings,
    log: Sequence[Decision],
    retrieval: Mapping[str, tuple[str, int]],
    *,
    log_path: str | Path = "decisions.csv",
    retrieval_path: str | Path = "retrieval.csv",
) -> Screening:
    """Work out every record's outcome at each stage and its final state.

    Parameters
    ----------
    records : RecordSet
        The unique records.
    settings : Settings
        Reviewers, resolvers, decisions needed and reasons.
    log : sequence of Decision
        The decision log (:func:`read_log`).
    retrieval : mapping
        record_id -> (``yes``/``no``, row) (:func:`read_retrieval`).
    log_path, retrieval_path : path
        Names of the files, for messages.

    Returns
    -------
    Screening
        Outcomes and states.

    Raises
    ------
    InputError
        For a full-text decision on a record that has not passed title/abstract
        screening or whose full text was not retrieved, a title/abstract decision
        on a record identified via other methods, or a retrieval row for a record
        that was not sought.
    """
    current = current_decisions(log)
    result = Screening(log=list(log), current=current, retrieved=dict(retrieval))
    by_key: dict[tuple[str, str], list[Decision]] = {}
    for decision in current:
        by_key.setdefault((decision.record_id, decision.stage), []).append(decision)
    resolvers = set(settings.resolvers)

    def split(key: tuple[str, str]) -> tuple[list[Decision], Decision | None]:
        rows = by_key.get(key, [])
        votes = [d for d in rows if d.reviewer not in resolvers]
        resolutions = [d for d in rows if d.reviewer in resolvers]
        return votes, (resolutions[-1] if resolutions else None)

    def fail(decision: Decision, path: str | Path, message: str, expected: str):
        raise InputError(
            message,
            file=path,
            line=decision.row + 1,
            row=decision.row,
            column="record_id",
            expected=expected,
        )

    for record_id in records.ids:
        other = records.column[record_id] == OTHER
        ta_votes, ta_resolution = split((record_id, TITLE_ABSTRACT))
        if other:
            if ta_votes or ta_resolution:
                first = (ta_votes or [ta_resolution])[0]
                assert first is not None
                fail(
                    first,
                    log_path,
                    f"record {first.given_id!r} was identified via other methods, "
                    "which PRISMA 2020 takes straight to full-text retrieval",
                    "no title/abstract decision for it (decide at full_text)",
                )
            ta = Outcome(NOT_SCREENED, "", "identified via other methods")
        else:
            ta = stage_outcome(ta_votes, ta_resolution, settings.needed[TITLE_ABSTRACT])
        result.outcomes[(record_id, TITLE_ABSTRACT)] = ta
        ft_votes, ft_resolution = split((record_id, FULL_TEXT))
        passed = ta.status in (INCLUDE, NOT_SCREENED)
        if not passed:
            if ft_votes or ft_resolution:
                first = min(
                    [*ft_votes, *([ft_resolution] if ft_resolution else [])],
                    key=lambda d: d.row,
                )
                fail(
                    first,
                    log_path,
                    f"full-text decision for record {first.given_id!r}, which is "
                    f"{_ta_words(ta.status)} at title/abstract",
                    "full-text decisions only for records included at title/abstract",
                )
            if record_id in retrieval:
                row = retrieval[record_id][1]
                raise InputError(
                    f"record {record_id!r} is {_ta_words(ta.status)} at "
                    "title/abstract, so its full text is not sought",
                    file=retrieval_path,
                    line=row + 1,
                    row=row,
                    column="record_id",
                    expected="rows only for records included at title/abstract",
                )
            result.states[record_id] = {
                PENDING: "pending_title_abstract",
                CONFLICT: "conflict_title_abstract",
                EXCLUDE: "excluded_title_abstract",
            }[ta.status]
            continue
        got = retrieval.get(record_id, ("", 0))[0]
        if got == "no":
            if ft_votes or ft_resolution:
                first = (ft_votes or [ft_resolution])[0]
                assert first is not None
                fail(
                    first,
                    log_path,
                    f"full-text decision for record {first.given_id!r}, whose full "
                    f"text {retrieval_path} says was not retrieved",
                    "retrieved: yes in the retrieval file, or no full-text decision",
                )
            result.outcomes[(record_id, FULL_TEXT)] = Outcome(
                NOT_RETRIEVED, "", "full text not retrieved"
            )
            result.states[record_id] = "not_retrieved"
            continue
        ft = stage_outcome(ft_votes, ft_resolution, settings.needed[FULL_TEXT])
        if ft.status == PENDING and not ft.votes and got != "yes":
            result.outcomes[(record_id, FULL_TEXT)] = Outcome(
                AWAITING_RETRIEVAL, "", "full text sought, not yet retrieved"
            )
            result.states[record_id] = "awaiting_retrieval"
        else:
            result.outcomes[(record_id, FULL_TEXT)] = ft
            result.states[record_id] = {
                PENDING: "pending_full_text",
                CONFLICT: "conflict_full_text",
                EXCLUDE: "excluded_full_text",
                INCLUDE: "included",
            }[ft.status]
    return result


def _ta_words(status: str) -> str:
    return {
        PENDING: "still pending",
        CONFLICT: "in conflict",
        EXCLUDE: "excluded",
    }.get(status, status)
