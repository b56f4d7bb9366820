"""The search-and-selection section: the PRISMA 2020 flow in words.

:func:`_prisma_paragraphs` writes the flow (records found, duplicates removed
in each PRISMA column, records screened, reports sought and assessed, studies
included, what is still open), saying only what the review has reached;
:func:`_prisma` adds the diagram and the tables of the imported search exports
and of deduplication by search update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evsynth.report.formatting import _capital, _frame_table, _join, _n
from evsynth.report.loading import Review

#: Records still in progress, in workflow order: (state, one, many).
_OPEN_STATES: tuple[tuple[str, str, str], ...] = (
    (
        "pending_title_abstract",
        "record awaiting title/abstract screening",
        "records awaiting title/abstract screening",
    ),
    (
        "conflict_title_abstract",
        "title/abstract conflict to resolve",
        "title/abstract conflicts to resolve",
    ),
    ("awaiting_retrieval", "report awaiting retrieval", "reports awaiting retrieval"),
    (
        "pending_full_text",
        "report awaiting full-text screening",
        "reports awaiting full-text screening",
    ),
    (
        "conflict_full_text",
        "full-text conflict to resolve",
        "full-text conflicts to resolve",
    ),
)


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _prisma_paragraphs(counts: Mapping[str, Any]) -> list[str]:
    """Write the PRISMA flow in words, saying only what the review has reached."""

    def n(key: str) -> int:
        return int(counts.get(key, 0) or 0)

    paragraphs = []
    n_db = n("database_results") + n("register_results")
    other = {
        "websites": n("website_results"),
        "organisations": n("organisation_results"),
        "citation searching": n("citations_results"),
    }
    n_other = sum(other.values())
    databases = len(counts.get("databases", []) or [])
    registers = len(counts.get("registers", []) or [])
    searched = _join(
        [
            _n(databases, "database", "databases") if databases else "",
            _n(registers, "register", "registers") if registers else "",
        ]
    )
    total = int(counts.get("n_imported", n_db + n_other) or 0)
    parts = []
    if n_db or searched:
        parts.append(f"{n_db:,} from {searched or 'databases and registers'}")
    if n_other:
        detail = _join([f"{v:,} from {k}" for k, v in other.items() if v])
        parts.append(f"{n_other:,} via other methods ({detail})")
    if len(parts) == 1 and n_db and searched:
        text = f"The searches of {searched} found {_n(total, 'record', 'records')}."
    elif parts:
        text = f"The searches found {_n(total, 'record', 'records')}: {_join(parts)}."
    else:
        text = f"The searches found {_n(total, 'record', 'records')}."
    paragraphs.append(text)

    if n_db or n_other:
        paragraphs.append(_duplicates_text(counts, n_db, n_other))

    screened = n("records_screened")
    excluded_db = sum(int(e["n"]) for e in counts.get("dbr_excluded", []) or [])
    excluded_other = sum(int(e["n"]) for e in counts.get("other_excluded", []) or [])
    sentences = []
    if screened:
        excluded = n("records_excluded")
        text = (
            f"Of the {_n(screened, 'record', 'records')} screened by title and "
            f"abstract, {excluded:,} {_were(excluded)} excluded"
        )
        sought = n("dbr_sought_reports")
        if sought:
            text += "; " + _retrieval_text(
                sought,
                n("dbr_notretrieved_reports"),
                n("dbr_assessed"),
                excluded_db,
                " at full text",
            )
        sentences.append(text + ".")
    if n("other_sought_reports"):
        sentences.append(
            "Via other methods "
            + _retrieval_text(
                n("other_sought_reports"),
                n("other_notretrieved_reports"),
                n("other_assessed"),
                excluded_other,
                "",
            )
            + "."
        )
    if sentences:
        paragraphs.append(" ".join(sentences))

    states = counts.get("states", {}) or {}
    open_states = [
        _n(int(states.get(state, 0) or 0), one, many)
        for state, one, many in _OPEN_STATES
        if int(states.get(state, 0) or 0)
    ]
    studies, reports = n("total_studies"), n("total_reports")
    if not studies:
        paragraphs.append("No study has been included yet.")
    elif open_states:
        paragraphs.append(
            f"So far {_n(studies, 'study', 'studies')} "
            f"({_n(reports, 'report', 'reports')}) "
            + ("has" if studies == 1 else "have")
            + " been included."
        )
    else:
        paragraphs.append(
            f"In total {_n(studies, 'study', 'studies')} "
            f"({_n(reports, 'report', 'reports')}) {_were(studies)} included."
        )
    if open_states:
        paragraphs.append("Still open: " + _join(open_states) + ".")
    return paragraphs


def _duplicates_text(counts: Mapping[str, Any], n_db: int, n_other: int) -> str:
    """Say how many duplicates each PRISMA column removed, as the diagram does.

    Each column's duplicates are those of its own searches
    (:func:`evsynth.screening.prisma.removed_counts`), so that identified −
    duplicates = the column's unique records, as a reader recomputes.
    Counts written before the columns were split (no ``other_removed_dbr``)
    give the overall number only.
    """

    def n(key: str) -> int:
        return int(counts.get(key, 0) or 0)

    unique = counts.get("unique_records", {}) or {}
    unique_db = int(unique.get("databases_registers", 0) or 0)
    unique_other = int(unique.get("other_methods", 0) or 0)
    n_unique = n("n_unique")
    if "other_removed_dbr" not in counts:
        duplicates = n("duplicates")
        if duplicates:
            text = (
                f"Removing {_n(duplicates, 'duplicate', 'duplicates')} left "
                f"{_n(n_unique, 'unique record', 'unique records')}"
            )
        else:
            text = "No duplicates were found: " + _n(
                n_unique, "unique record", "unique records"
            )
        if unique_other:
            text += (
                f" ({unique_db:,} from databases and registers, {unique_other:,} "
                "via other methods)"
            )
        return text + "."
    removed = n("duplicates") + n("excluded_automatic") + n("excluded_other")
    db_source = "databases and registers" if n("register_results") else "databases"
    if n_db or not n_other:
        detail = _join(
            [
                _n(n("duplicates"), "duplicate", "duplicates"),
                _n(n("excluded_automatic"), "record", "records")
                + " marked as ineligible by automation tools"
                if n("excluded_automatic")
                else "",
                _n(n("excluded_other"), "record", "records")
                + " removed for other reasons"
                if n("excluded_other")
                else "",
            ]
        )
        text = (
            f"Removing {detail} from the {_n(n_db, 'record', 'records')} found "
            f"in {db_source} left {_n(unique_db, 'record', 'records')} to screen"
            if removed
            else f"None of the {_n(n_db, 'record', 'records')} found in "
            f"{db_source} was a duplicate: {_n(unique_db, 'record', 'records')} "
            "to screen"
        )
        sentences = [text]
    else:
        sentences = []
    if n_other:
        of_db, within = n("other_removed_dbr"), n("other_removed_within")
        parts = []
        if of_db:
            parts.append(
                _n(of_db, "was a duplicate of a record", "were duplicates of records")
                + f" from {db_source}"
            )
        if within:
            parts.append(
                _n(within, "was a duplicate of another", "were duplicates of other")
                + " records found via other methods"
                if within > 1
                else "1 was a duplicate of another record found via other methods"
            )
        left = f"leaving {_n(unique_other, 'report', 'reports')} to seek"
        found = f"the {_n(n_other, 'record', 'records')} found via other methods"
        if parts:
            sentences.append(f"of {found}, {_join(parts)}, {left}")
        else:
            sentences.append(f"none of {found} was a duplicate, {left}")
    text = _capital("; ".join(sentences)) + "."
    if n_other and n_db:
        total = removed + n("other_removed_dbr") + n("other_removed_within")
        text += (
            f" In all, {_n(total, 'record was', 'records were')} removed and "
            f"{_n(n_unique, 'unique record remains', 'unique records remain')}."
        )
    return text


def _retrieval_text(
    sought: int, not_retrieved: int, assessed: int, excluded: int, where: str
) -> str:
    """'57 reports were sought (2 not retrieved) and 55 assessed at full text, ...'."""
    text = f"{_n(sought, 'report', 'reports')} {_were(sought)} sought"
    if not_retrieved:
        text += f" ({not_retrieved:,} not retrieved)"
    if assessed:
        text += (
            f" and {assessed:,} assessed{where}, of which {excluded:,} "
            f"{_were(excluded)} excluded"
        )
    else:
        text += f", none assessed{where} yet"
    return text


def _prisma(review: Review) -> dict[str, Any]:
    counts = review.prisma_counts or {}
    paragraphs = _prisma_paragraphs(counts) if counts else []
    imports = None
    if review.import_summary is not None:
        frame = review.import_summary
        columns = [
            c
            for c in (
                "file",
                "database",
                "kind",
                "date_searched",
                "update",
                "format",
                "n_parsed",
                "n_reported",
                "count_differs",
                "n_issues",
            )
            if c in frame.columns
        ]
        imports = _frame_table(
            frame[columns],
            caption="Search exports imported (results/records/import_summary.csv)",
            headings={
                "file": "File",
                "database": "Source",
                "kind": "Kind",
                "date_searched": "Searched",
                "update": "Update",
                "format": "Format",
                "n_parsed": "Records read",
                "n_reported": "Records reported",
                "count_differs": "Counts differ",
                "n_issues": "Import issues",
            },
        )
    dedup = None
    if review.dedup_summary is not None:
        dedup = _frame_table(
            review.dedup_summary,
            caption="Deduplication by search update (results/records/"
            "dedup_summary.csv)",
            headings={
                "update": "Update",
                "n_records": "Records",
                "n_duplicates_within": "Duplicates within the update",
                "n_duplicates_of_earlier": "Duplicates of earlier records",
                "n_unique_new": "New unique records",
            },
        )
    available = bool(review.prisma_image or counts or imports or dedup)
    return {
        "available": available,
        "image": review.prisma_image,
        "paragraphs": paragraphs,
        "imports": imports,
        "dedup": dedup,
    }
