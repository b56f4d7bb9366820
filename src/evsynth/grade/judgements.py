"""The review team's GRADE judgements (``grade.csv``), checked against the analyses.

One row per analysis and domain: the team's rating (``no``, ``serious``,
``very_serious``; ``up_one``, ``up_two`` for large effect and dose-response)
and a required reason. A judgement replaces what :mod:`evsynth.grade.rules`
proposes; the proposal and the override are both kept in the outputs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evsynth.errors import InputError
from evsynth.grade.rules import DOWNGRADE_DOMAINS, UPGRADE_DOMAINS

__all__ = ["Judgement", "judgement_problems", "read_judgements"]

#: Ratings allowed per kind of domain, and the levels each moves certainty.
DOWN_RATINGS = {"no": 0, "serious": -1, "very_serious": -2}
UP_RATINGS = {"no": 0, "up_one": 1, "up_two": 2}


@dataclass(frozen=True)
class Judgement:
    """One row of grade.csv.

    Parameters
    ----------
    analysis, domain, judgement, reason : str
        As in the file.
    reviewer, date : str
        As in the file ("" when empty).
    line : int
        The row's line in the file, for messages.
    source : str
        The file, for messages.
    """

    analysis: str
    domain: str
    judgement: str
    reason: str
    reviewer: str = ""
    date: str = ""
    line: int = 0
    source: str = "grade.csv"

    @property
    def change(self) -> int:
        """Levels this judgement moves certainty."""
        table = UP_RATINGS if self.domain in UPGRADE_DOMAINS else DOWN_RATINGS
        return table[self.judgement]


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def judgement_problems(
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    source: str | Path,
    analyses: Collection[str] | None,
) -> list[InputError]:
    """Check the rows of grade.csv beyond its schema.

    Parameters
    ----------
    rows : iterable of (int, mapping)
        ``(data row, values)``, as the schema check leaves them.
    source : path
        grade.csv, for messages.
    analyses : collection of str, optional
        The analyses of the config (None skips that check).

    Returns
    -------
    list of InputError
        One per row naming an analysis the config does not have, a rating that
        does not suit its domain (``up_one`` for imprecision, ``serious`` for a
        large effect), a blank reason, or an analysis and domain judged twice
        (both lines named).
    """
    problems: list[InputError] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in rows:
        line = number + 1
        analysis, domain = _text(row.get("analysis")), _text(row.get("domain"))
        judgement, reason = _text(row.get("judgement")), _text(row.get("reason"))
        if analyses is not None and analysis not in analyses:
            shown = ", ".join(sorted(analyses)) or "none configured"
            problems.append(
                InputError(
                    f"analysis {analysis!r} is not an analysis of the config",
                    file=source,
                    line=line,
                    row=number,
                    column="analysis",
                    expected=f"one of meta.analyses: {shown}",
                )
            )
        allowed = UP_RATINGS if domain in UPGRADE_DOMAINS else DOWN_RATINGS
        if (
            domain in (*DOWNGRADE_DOMAINS, *UPGRADE_DOMAINS)
            and judgement not in allowed
        ):
            kind = "rate up" if domain in UPGRADE_DOMAINS else "rate down"
            problems.append(
                InputError(
                    f"{judgement!r} is not a rating of {domain} (a domain that can "
                    f"only {kind})",
                    file=source,
                    line=line,
                    row=number,
                    column="judgement",
                    expected="one of " + ", ".join(allowed),
                )
            )
        if not reason:
            problems.append(
                InputError(
                    "a judgement needs its reason",
                    file=source,
                    line=line,
                    row=number,
                    column="reason",
                    expected="why the team rates it so (shown in the footnotes)",
                )
            )
        first = seen.setdefault((analysis, domain), number)
        if first != number:
            problems.append(
                InputError(
                    f"{analysis} / {domain} is judged twice: also line {first + 1} "
                    f"(row {first})",
                    file=source,
                    line=line,
                    row=number,
                    column="domain",
                    expected="one row per analysis and domain (delete one, or "
                    "correct the domain)",
                )
            )
    return problems


def read_judgements(
    path: str | Path | None, analyses: Collection[str] | None
) -> dict[tuple[str, str], Judgement]:
    """Read grade.csv, checked against its schema and the config's analyses.

    Parameters
    ----------
    path : path, optional
        grade.csv; a missing file (or None) has no judgements.
    analyses : collection of str, optional
        The analyses of the config.

    Returns
    -------
    dict
        ``(analysis, domain)`` to its :class:`Judgement`.

    Raises
    ------
    InputError
        At the first problem of the file, naming the line and column.
    """
    from evsynth.project.tables import check_table

    if path is None or not Path(path).is_file():
        return {}
    check = check_table(path, "grade")
    problems = [*check.errors, *judgement_problems(check.rows, path, analyses)]
    if problems:
        raise min(problems, key=lambda e: e.location.line or 0)
    out = {}
    for number, row in check.rows:
        item = Judgement(
            analysis=_text(row.get("analysis")),
            domain=_text(row.get("domain")),
            judgement=_text(row.get("judgement")),
            reason=" ".join(_text(row.get("reason")).split()),
            reviewer=_text(row.get("reviewer")),
            date=_text(row.get("date")),
            line=number + 1,
            source=str(path),
        )
        out[(item.analysis, item.domain)] = item
    return out
