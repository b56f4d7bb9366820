"""PRISMA 2020 flow counts, derived from the records and the decision log.

Every number comes from the imported records, the deduplication, the decision
log, the retrieval file and studies.csv; none is typed in. The counts are
written in the data template of the PRISMA2020 R package (Haddaway et al. 2022,
Campbell Systematic Reviews 18:e1230; ``inst/extdata/PRISMA.csv``) and as JSON,
and :func:`check_flow` stops a run whose boxes do not add up.

Each column of the diagram adds up box by box as printed: a reader takes the
records identified, subtracts the records removed and gets the records
screened (databases and registers) or the reports sought (other methods), and
so on down to the included reports. Duplicates are therefore counted in the
column of the search that found them (:func:`removed_counts`): the databases
column's "Duplicate records removed" holds database and register records only,
and the other-methods column has a box "Records removed before retrieval" for
its records that duplicate a database or register record, or another record
found via other methods. The template keeps its ``duplicates`` key (now the
databases column's duplicates) and gains ``other_removed_dbr`` and
``other_removed_within``; the JSON also has ``duplicates_all`` (all three) and
the included reports per column (``dbr_included_reports``,
``other_included_reports``).
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evsynth.errors import EvsynthError, InputError
from evsynth.io import read_csv_text
from evsynth.screening.decide import SOUGHT_STATES, STATES, Screening
from evsynth.screening.model import (
    DBR,
    DBR_KINDS,
    FULL_TEXT,
    OTHER,
    RecordSet,
    Settings,
)
from evsynth.screening.prisma_plot import PrismaFlow
from evsynth.validation import read_table

#: Rows of the PRISMA2020 package's data template: data, node, box,
#: description, boxtext, tooltips, url (the ``n`` column is filled in).
# fmt: off
TEMPLATE = [
    (
        "NA",
        "node4",
        "prevstud",
        "Grey title box; Previous studies",
        "Previous studies",
        "Grey title box; Previous studies",
        "prevstud.html",
    ),
    (
        "previous_studies",
        "node5",
        "box1",
        "Studies included in previous version of review",
        "Studies included in previous version of review",
        "Studies included in previous version of review",
        "previous_studies.html",
    ),
    (
        "previous_reports",
        "NA",
        "box1",
        "Reports of studies included in previous version of review",
        "Reports of studies included in previous version of review",
        "NA",
        "previous_reports.html",
    ),
    (
        "NA",
        "node6",
        "newstud",
        "Yellow title box; Identification of new studies via databases and registers",
        "Identification of new studies via databases and registers",
        "Yellow title box; Identification of new studies via databases and registers",
        "newstud.html",
    ),
    (
        "database_results",
        "node7",
        "box2",
        "Records identified from: Databases",
        "Databases",
        "Records identified from: Databases",
        "database_results.html",
    ),
    (
        "database_specific_results",
        "NA",
        "box2",
        "Records identified from: specific databases",
        "Specific Databases",
        "NA",
        "database_results.html",
    ),
    (
        "register_results",
        "NA",
        "box2",
        "Records identified from: Registers",
        "Registers",
        "NA",
        "NA",
    ),
    (
        "register_specific_results",
        "NA",
        "box2",
        "Records identified from: specific registers",
        "Specific Registers",
        "NA",
        "NA",
    ),
    (
        "NA",
        "node16",
        "othstud",
        "Grey title box; Identification of new studies via other methods",
        "Identification of new studies via other methods",
        "Grey title box; Identification of new studies via other methods",
        "othstud.html",
    ),
    (
        "website_results",
        "node17",
        "box11",
        "Records identified from: Websites",
        "Websites",
        "Records identified from: Websites",
        "website_results.html",
    ),
    (
        "organisation_results",
        "NA",
        "box11",
        "Records identified from: Organisations",
        "Organisations",
        "NA",
        "NA",
    ),
    (
        "citations_results",
        "NA",
        "box11",
        "Records identified from: Citation searching",
        "Citation searching",
        "NA",
        "NA",
    ),
    (
        "other_removed_dbr",
        "NA",
        "box11",
        "Records removed before retrieval (other methods): duplicates of records from databases and registers",
        "Duplicates of database or register records",
        "NA",
        "NA",
    ),
    (
        "other_removed_within",
        "NA",
        "box11",
        "Records removed before retrieval (other methods): duplicates within other methods",
        "Duplicates within other methods",
        "NA",
        "NA",
    ),
    (
        "duplicates",
        "node8",
        "box3",
        "Duplicate records",
        "Duplicate records",
        "Duplicate records",
        "duplicates.html",
    ),
    (
        "excluded_automatic",
        "NA",
        "box3",
        "Records marked as ineligible by automation tools",
        "Records marked as ineligible by automation tools",
        "NA",
        "NA",
    ),
    (
        "excluded_other",
        "NA",
        "box3",
        "Records removed for other reasons",
        "Records removed for other reasons",
        "NA",
        "NA",
    ),
    (
        "records_screened",
        "node9",
        "box4",
        "Records screened (databases and registers)",
        "Records screened",
        "Records screened (databases and registers)",
        "records_screened.html",
    ),
    (
        "records_excluded",
        "node10",
        "box5",
        "Records excluded (databases and registers)",
        "Records excluded",
        "Records excluded (databases and registers)",
        "records_excluded.html",
    ),
    (
        "dbr_sought_reports",
        "node11",
        "box6",
        "Reports sought for retrieval (databases and registers)",
        "Reports sought for retrieval",
        "Reports sought for retrieval (databases and registers)",
        "dbr_sought_reports.html",
    ),
    (
        "dbr_notretrieved_reports",
        "node12",
        "box7",
        "Reports not retrieved (databases and registers)",
        "Reports not retrieved",
        "Reports not retrieved (databases and registers)",
        "dbr_notretrieved_reports.html",
    ),
    (
        "other_sought_reports",
        "node18",
        "box12",
        "Reports sought for retrieval (other)",
        "Reports sought for retrieval",
        "Reports sought for retrieval (other)",
        "other_sought_reports.html",
    ),
    (
        "other_notretrieved_reports",
        "node19",
        "box13",
        "Reports not retrieved (other)",
        "Reports not retrieved",
        "Reports not retrieved (other)",
        "other_notretrieved_reports.html",
    ),
    (
        "dbr_assessed",
        "node13",
        "box8",
        "Reports assessed for eligibility (databases and registers)",
        "Reports assessed for eligibility",
        "Reports assessed for eligibility (databases and registers)",
        "dbr_assessed.html",
    ),
    (
        "dbr_excluded",
        "node14",
        "box9",
        "Reports excluded (databases and registers): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
        "Reports excluded",
        "Reports excluded (databases and registers): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx",
        "dbrexcludedrecords.html",
    ),
    (
        "other_assessed",
        "node20",
        "box14",
        "Reports assessed for eligibility (other)",
        "Reports assessed for eligibility",
        "Reports assessed for eligibility (other)",
        "other_assessed.html",
    ),
    (
        "other_excluded",
        "node21",
        "box15",
        "Reports excluded (other): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
        "Reports excluded",
        "Reports excluded (other): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx",
        "other_excluded.html",
    ),
    (
        "new_studies",
        "node15",
        "box10",
        "New studies included in review",
        "New studies included in review",
        "New studies included in review",
        "new_studies.html",
    ),
    (
        "new_reports",
        "NA",
        "box10",
        "Reports of new included studies",
        "Reports of new included studies",
        "NA",
        "NA",
    ),
    (
        "total_studies",
        "node22",
        "box16",
        "Total studies included in review",
        "Total studies included in review",
        "Total studies included in review",
        "total_studies.html",
    ),
    (
        "total_reports",
        "NA",
        "box16",
        "Reports of total included studies",
        "Reports of total included studies",
        "NA",
        "NA",
    ),
    (
        "identification",
        "node1",
        "identification",
        "Blue identification box",
        "Identification",
        "Blue identification box",
        "identification.html",
    ),
    (
        "screening",
        "node2",
        "screening",
        "Blue screening box",
        "Screening",
        "Blue screening box",
        "screening.html",
    ),
    (
        "included",
        "node3",
        "included",
        "Blue included box",
        "Included",
        "Blue included box",
        "included.html",
    ),
]
# fmt: on
TEMPLATE_COLUMNS = [
    "data",
    "node",
    "box",
    "description",
    "boxtext",
    "tooltips",
    "url",
    "n",
]


@dataclass
class StudyMap:
    """Included reports grouped into studies.

    Parameters
    ----------
    study_of : dict
        Included record_id -> study_id.
    ungrouped : list of str
        Included records missing from studies.csv, counted as studies of their own.
    waiting : list of str
        Records in studies.csv whose full-text decision is open again (pending,
        in conflict or awaiting retrieval); not counted until included.
    """

    study_of: dict[str, str] = field(default_factory=dict)
    ungrouped: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


_IN_PROGRESS = {"pending_full_text", "conflict_full_text", "awaiting_retrieval"}


def read_studies(
    path: str | Path | None, records: RecordSet, screening: Screening
) -> StudyMap:
    """Read studies.csv and check it against the included records.

    Raises
    ------
    InputError
        For an unknown record, a record listed twice, a record excluded (or not
        retrieved) rather than included, or a study without exactly one main
        report. Records whose full-text decision is still open are set aside in
        ``waiting``.
    """
    included = [r for r, s in screening.states.items() if s == "included"]
    out = StudyMap()
    if path is not None and Path(path).is_file():
        table = read_table(path, "studies")
        mains: Counter[str] = Counter()
        first_row: dict[str, int] = {}
        study_rows: dict[str, int] = {}
        for index, row in enumerate(table.to_dict(orient="records")):

            def fail(message: str, expected: str, index: int = index) -> None:
                raise InputError(
                    message,
                    file=path,
                    line=index + 2,
                    row=index + 1,
                    column="record_id",
                    expected=expected,
                )

            given = str(row["record_id"])
            if given not in records.representative:
                fail(
                    f"unknown record {given!r}",
                    "a record_id of results/records/records.csv",
                )
            rep = records.representative[given]
            if rep in first_row:
                fail(
                    f"record {given!r} is listed twice (first in row {first_row[rep]})",
                    "one row per report",
                )
            first_row[rep] = index + 1
            study = str(row["study_id"])
            study_rows.setdefault(study, index + 1)
            if row["role"] == "main":
                mains[study] += 1
            state = screening.states.get(rep, "unknown")
            if state in _IN_PROGRESS:
                # a decision still open (e.g. a reviewer changed their mind):
                # not counted until the report is included again
                out.waiting.append(rep)
                continue
            if state != "included":
                state = (
                    state.replace("_title_abstract", " at title/abstract")
                    .replace("_full_text", " at full text")
                    .replace("_", " ")
                )
                fail(
                    f"record {given!r} is not included at full text (it is {state})",
                    "reports included at full text only",
                )
            out.study_of[rep] = study
        for study, row_number in study_rows.items():
            if mains[study] != 1:
                raise InputError(
                    f"study {study!r} has {mains[study]} main reports",
                    file=path,
                    line=row_number + 1,
                    row=row_number,
                    column="role",
                    expected="exactly one row with role main per study",
                )
    for record_id in included:
        if record_id not in out.study_of:
            out.study_of[record_id] = record_id
            out.ungrouped.append(record_id)
    return out


def _reason_counts(
    screening: Screening, column: str, records: RecordSet, reasons: tuple[str, ...]
) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for record_id, state in screening.states.items():
        if state == "excluded_full_text" and records.column[record_id] == column:
            counts[screening.outcomes[(record_id, FULL_TEXT)].reason] += 1
    return [(reason, counts[reason]) for reason in reasons if counts[reason]]


def removed_counts(records: RecordSet) -> dict[str, int]:
    """Count the records removed as duplicates, column by column.

    Each duplicate cluster is one record in one PRISMA column
    (:attr:`RecordSet.column`); every other record of the cluster is removed
    as a duplicate, in the column of the search that found it:

    - a database or register record of a cluster that is not counted as the
      cluster's record goes to ``duplicates``, the databases column's
      "Duplicate records removed" (for a databases cluster one database
      record stands for it and the others are removed; for an other-methods
      cluster every database record is removed: a later round's database
      search found a report already identified via other methods);
    - an other-methods record of a databases cluster goes to
      ``other_removed_dbr``: it duplicates a record from a database or
      register, which is screened in the databases column;
    - an other-methods record of an other-methods cluster beyond the first
      goes to ``other_removed_within``.

    The cluster's kept row in unique.csv (the earliest search's, then the
    most complete record) may be an other-methods record of a databases
    cluster; the counts do not depend on it, only on the column the cluster
    is screened in.

    The PRISMA 2020 templates (Page et al. 2021, BMJ 372:n71) show removals
    before screening only in the databases column. The explanation and
    elaboration (Page et al. 2021, BMJ 372:n160, item 16a) asks for the
    number of records removed before screening, such as duplicates, without
    tying it to that column; counting the other-methods records that
    duplicate database records in the databases column's box would make
    neither column add up. So the other-methods column gets a box of its
    own, "Records removed before retrieval", beside its identification box,
    as the databases column has one, and each column's boxes follow from the
    one above by the numbers printed.

    Returns
    -------
    dict
        ``duplicates``, ``other_removed_dbr``, ``other_removed_within`` and
        ``duplicates_all`` (their sum: records imported minus unique records).
    """
    members: dict[str, list[str]] = {}
    for record_id, rep in records.representative.items():
        members.setdefault(rep, []).append(record_id)
    default = {DBR: "database", OTHER: "website"}
    out = {"duplicates": 0, "other_removed_dbr": 0, "other_removed_within": 0}
    for rep in records.ids:
        column = records.column[rep]
        kinds = [records.kind.get(r, default[column]) for r in members.get(rep, [rep])]
        n_dbr = sum(k in DBR_KINDS for k in kinds)
        n_other = len(kinds) - n_dbr
        if column == DBR:
            out["duplicates"] += n_dbr - 1
            out["other_removed_dbr"] += n_other
        else:
            out["duplicates"] += n_dbr
            out["other_removed_within"] += n_other - 1
    out["duplicates_all"] = sum(out.values())
    return out


def flow_counts(
    records: RecordSet, screening: Screening, studies: StudyMap, settings: Settings
) -> dict[str, Any]:
    """Count every PRISMA 2020 box, and what is still in progress.

    Parameters
    ----------
    records : RecordSet
        The unique records and identification counts.
    screening : Screening
        Outcomes and final states (:func:`evsynth.screening.decide.screen`).
    studies : StudyMap
        Included reports grouped into studies.
    settings : Settings
        For the order of exclusion reasons.

    Returns
    -------
    dict
        PRISMA2020 data keys (``database_results``, ``duplicates``, …) with
        integer counts, per-source lists under ``databases``, ``registers``,
        ``websites``, ``organisations`` and ``citations``, reason lists under
        ``dbr_excluded`` and ``other_excluded``, and the records still in
        progress under ``in_progress`` (per PRISMA column and state).
        ``duplicates`` counts the databases column's duplicates only;
        ``other_removed_dbr`` and ``other_removed_within`` the other-methods
        column's (:func:`removed_counts`), ``duplicates_all`` all three.
        ``dbr_included_reports`` and ``other_included_reports`` split the
        included reports by column.
    """
    ident = records.identified
    states = {DBR: Counter[str](), OTHER: Counter[str]()}
    for record_id, state in screening.states.items():
        states[records.column[record_id]][state] += 1
    d, o = states[DBR], states[OTHER]
    passed = SOUGHT_STATES
    included = [r for r, s in screening.states.items() if s == "included"]
    n_unique = len(records.ids)
    removed = removed_counts(records)
    counts: dict[str, Any] = {
        "databases": ident.get("database", []),
        "registers": ident.get("register", []),
        "websites": ident.get("website", []),
        "organisations": ident.get("organisation", []),
        "citations": ident.get("citation", []),
        "previous_studies": 0,
        "previous_reports": 0,
        "database_results": sum(n for _, n in ident.get("database", [])),
        "register_results": sum(n for _, n in ident.get("register", [])),
        "website_results": sum(n for _, n in ident.get("website", [])),
        "organisation_results": sum(n for _, n in ident.get("organisation", [])),
        "citations_results": sum(n for _, n in ident.get("citation", [])),
        "other_removed_dbr": removed["other_removed_dbr"],
        "other_removed_within": removed["other_removed_within"],
        "duplicates": removed["duplicates"],
        "excluded_automatic": 0,
        "excluded_other": 0,
        "records_screened": d["excluded_title_abstract"] + sum(d[s] for s in passed),
        "records_excluded": d["excluded_title_abstract"],
        "dbr_sought_reports": sum(d[s] for s in passed),
        "dbr_notretrieved_reports": d["not_retrieved"],
        "dbr_assessed": d["excluded_full_text"] + d["included"],
        "dbr_excluded": _reason_counts(screening, DBR, records, settings.reasons),
        "other_sought_reports": sum(o[s] for s in passed),
        "other_notretrieved_reports": o["not_retrieved"],
        "other_assessed": o["excluded_full_text"] + o["included"],
        "other_excluded": _reason_counts(screening, OTHER, records, settings.reasons),
        "new_studies": len({studies.study_of[r] for r in included}),
        "new_reports": len(included),
        "dbr_included_reports": d["included"],
        "other_included_reports": o["included"],
        "unique_records": {DBR: sum(d.values()), OTHER: sum(o.values())},
        "in_progress": {
            DBR: {
                s: d[s]
                for s in (
                    "pending_title_abstract",
                    "conflict_title_abstract",
                    "awaiting_retrieval",
                    "pending_full_text",
                    "conflict_full_text",
                )
            },
            OTHER: {
                s: o[s]
                for s in (
                    "awaiting_retrieval",
                    "pending_full_text",
                    "conflict_full_text",
                )
            },
        },
        "states": {s: d[s] + o[s] for s in STATES},
    }
    counts["total_studies"] = counts["previous_studies"] + counts["new_studies"]
    counts["total_reports"] = counts["previous_reports"] + counts["new_reports"]
    counts["n_imported"] = records.n_imported
    counts["n_unique"] = n_unique
    counts["duplicates_all"] = removed["duplicates_all"]
    return counts


class FlowError(EvsynthError):
    """The PRISMA boxes do not add up."""


#: Boxes of the diagram as printed, by data key: the column and the label.
BOX_LABELS = {
    "database_results": ("databases and registers", "Records identified: Databases"),
    "register_results": ("databases and registers", "Records identified: Registers"),
    "records_screened": ("databases and registers", "Records screened"),
    "dbr_sought_reports": ("databases and registers", "Reports sought for retrieval"),
    "dbr_assessed": ("databases and registers", "Reports assessed for eligibility"),
    "dbr_included_reports": (
        "databases and registers",
        "Reports of included studies (from this column)",
    ),
    "website_results": ("other methods", "Records identified: Websites"),
    "organisation_results": ("other methods", "Records identified: Organisations"),
    "citations_results": ("other methods", "Records identified: Citation searching"),
    "other_sought_reports": ("other methods", "Reports sought for retrieval"),
    "other_assessed": ("other methods", "Reports assessed for eligibility"),
    "other_included_reports": (
        "other methods",
        "Reports of included studies (from this column)",
    ),
    "new_reports": ("included", "Reports of included studies"),
    "new_studies": ("included", "Studies included in review"),
    "total_studies": ("included", "Total studies included in review"),
    "total_reports": ("included", "Reports of total included studies"),
}
_DBR_PROGRESS_TA = ("pending_title_abstract", "conflict_title_abstract")
_PROGRESS_FT = ("awaiting_retrieval", "pending_full_text", "conflict_full_text")


def _int(counts: Mapping[str, Any], key: str) -> int:
    """Return a count of ``counts``: 0 when missing, None or NaN, else ``int``."""
    value = counts.get(key, 0)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)


def _sum(items: Any) -> int:
    return sum(int(n) for _, n in (items or []))


def column_checks(counts: Mapping[str, Any]) -> list[tuple[str, int, int, str]]:
    """List the identities that make each column add up box by box, as printed.

    Each box follows from the box above it by the numbers printed in the
    diagram: identified − removed = screened; screened − excluded = sought;
    sought − not retrieved = assessed; assessed − excluded (the sum of the
    reasons) = the column's included reports; the two columns' included
    reports = "Reports of included studies". Records whose screening is not
    finished (``in_progress``, named in the diagram's notes) are added to the
    box they have not left. A per-source list must add up to its category's
    total.

    Parameters
    ----------
    counts : mapping
        :func:`flow_counts` or counts read from a template
        (:func:`read_template`); keys it lacks count as 0 (a template without
        ``dbr_included_reports`` is checked on both columns' sum only).

    Returns
    -------
    list of (key, computed, given, how)
        ``key`` names the box (a data key; :data:`BOX_LABELS` gives its
        column and label), ``computed`` is what the boxes above it give,
        ``given`` what it says (plus records in progress), and ``how`` the
        identity in words with the numbers.
    """
    c = counts
    progress = c.get("in_progress", {}) or {}
    dp = {k: int(v) for k, v in (progress.get(DBR, {}) or {}).items()}
    op = {k: int(v) for k, v in (progress.get(OTHER, {}) or {}).items()}
    n = functools.partial(_int, c)
    out: list[tuple[str, int, int, str]] = []

    def sources(key: str, items_key: str, what: str) -> None:
        items = c.get(items_key) or []
        if items:
            listed = " + ".join(str(int(k)) for _, k in items)
            out.append((key, _sum(items), n(key), f"{what}: {listed}"))

    sources("database_results", "databases", "the databases listed")
    sources("register_results", "registers", "the registers listed")
    sources("website_results", "websites", "the websites listed")
    sources("organisation_results", "organisations", "the organisations listed")
    sources("citations_results", "citations", "the citation searches listed")

    def plus(progress: Mapping[str, int], states: Sequence[str], words: str) -> str:
        k = sum(progress.get(s, 0) for s in states)
        return f" + {k} {words}" if k else ""

    # databases and registers
    identified = n("database_results") + n("register_results")
    removed = n("duplicates") + n("excluded_automatic") + n("excluded_other")
    at_ta = sum(dp.get(s, 0) for s in _DBR_PROGRESS_TA)
    out.append(
        (
            "records_screened",
            identified - removed,
            n("records_screened") + at_ta,
            f"identified {identified} − removed before screening {removed} "
            f"(duplicates {n('duplicates')}, automation tools "
            f"{n('excluded_automatic')}, other reasons {n('excluded_other')}) "
            f"= {identified - removed}; records screened {n('records_screened')}"
            + plus(dp, _DBR_PROGRESS_TA, "still at title/abstract"),
        )
    )
    screened = n("records_screened")
    out.append(
        (
            "dbr_sought_reports",
            screened - n("records_excluded"),
            n("dbr_sought_reports"),
            (
                f"screened {screened} − excluded {n('records_excluded')} = "
                f"{screened - n('records_excluded')}; reports sought "
                f"{n('dbr_sought_reports')}"
            ),
        )
    )
    # other methods
    other_identified = (
        n("website_results") + n("organisation_results") + n("citations_results")
    )
    items = c.get("other_removed")
    if not isinstance(items, list):
        items = other_removed(c)
    removed_other = _sum(items)
    listed = ", ".join(f"{name} {int(k)}" for name, k in items)
    out.append(
        (
            "other_sought_reports",
            other_identified - removed_other,
            n("other_sought_reports"),
            (
                f"identified {other_identified} − removed before retrieval "
                f"{removed_other} ({listed}) = {other_identified - removed_other}; "
                f"reports sought {n('other_sought_reports')}"
            ),
        )
    )
    per_column = "dbr_included_reports" in c and "other_included_reports" in c
    for prefix, p in (("dbr", dp), ("other", op)):
        sought = n(f"{prefix}_sought_reports")
        missing = n(f"{prefix}_notretrieved_reports")
        out.append(
            (
                f"{prefix}_assessed",
                sought - missing,
                n(f"{prefix}_assessed") + sum(p.get(s, 0) for s in _PROGRESS_FT),
                f"sought {sought} − not retrieved {missing} = {sought - missing}; "
                f"reports assessed {n(f'{prefix}_assessed')}"
                + plus(p, _PROGRESS_FT, "still at full text"),
            )
        )
        if per_column:
            assessed = n(f"{prefix}_assessed")
            excluded = _sum(c.get(f"{prefix}_excluded"))
            out.append(
                (
                    f"{prefix}_included_reports",
                    assessed - excluded,
                    n(f"{prefix}_included_reports"),
                    (
                        f"assessed {assessed} − excluded {excluded} (the reasons "
                        f"listed) = {assessed - excluded}; included "
                        f"{n(f'{prefix}_included_reports')}"
                    ),
                )
            )
    if per_column:
        both = n("dbr_included_reports") + n("other_included_reports")
        how = (
            f"databases and registers {n('dbr_included_reports')} + other "
            f"methods {n('other_included_reports')} = {both}"
        )
    else:
        parts = [
            n(f"{p}_assessed") - _sum(c.get(f"{p}_excluded")) for p in ("dbr", "other")
        ]
        both = sum(parts)
        how = (
            f"(assessed − excluded) databases and registers {parts[0]} + other "
            f"methods {parts[1]} = {both}"
        )
    out.append(
        ("new_reports", both, n("new_reports"), f"{how}; reports {n('new_reports')}")
    )
    if c.get("previous_studies") or c.get("previous_reports") or "total_studies" in c:
        for what in ("studies", "reports"):
            new, prev = n(f"new_{what}"), n(f"previous_{what}")
            out.append(
                (
                    f"total_{what}",
                    prev + new,
                    n(f"total_{what}"),
                    (
                        f"previous {prev} + new {new} = {prev + new}; total "
                        f"{n(f'total_{what}')}"
                    ),
                )
            )
    return out


def check_flow(counts: Mapping[str, Any]) -> None:
    """Check that each PRISMA column adds up box by box; stop at the first that does not.

    The identities are those of :func:`column_checks` (what a reader
    recomputes from the printed numbers), then, for counts of
    :func:`flow_counts`, that they agree with the records: the sources add up
    to the records imported, the records kept in each column are its unique
    records, and every unique record is in exactly one state.

    Raises
    ------
    FlowError
        Naming the box (its label, column and data key) and both numbers.
    """
    for key, computed, given, how in column_checks(counts):
        if computed != given:
            column, label = BOX_LABELS.get(key, ("", key))
            where = f" in the {column} column" if column not in ("", "included") else ""
            raise FlowError(
                f"PRISMA box {label!r}{where} ({key}) does not follow from the "
                f"boxes above it: {computed} != {given} ({how})"
            )
    c = counts
    if "n_imported" not in c:
        return  # counts read from a template: only what is printed
    n = functools.partial(_int, c)
    dp = (c.get("in_progress", {}) or {}).get(DBR, {}) or {}
    identified = sum(
        n(k)
        for k in (
            "database_results",
            "register_results",
            "website_results",
            "organisation_results",
            "citations_results",
        )
    )

    def need(box: str, left: int, right: int, what: str) -> None:
        if left != right:
            raise FlowError(
                f"PRISMA box {box!r} does not add up: {left} != {right} ({what})"
            )

    need("identification", identified, n("n_imported"), "records imported")
    unique = c.get("unique_records", {}) or {}
    need(
        "records_screened",
        int(unique.get(DBR, 0)),
        n("records_screened") + sum(int(dp.get(s, 0)) for s in _DBR_PROGRESS_TA),
        "unique records of the databases column = screened + still at title/abstract",
    )
    need(
        "other_sought_reports",
        int(unique.get(OTHER, 0)),
        n("other_sought_reports"),
        "unique records of the other-methods column = reports sought",
    )
    need(
        "duplicates_all",
        n("duplicates") + n("other_removed_dbr") + n("other_removed_within"),
        n("n_imported") - n("n_unique"),
        "duplicates removed in both columns = records imported − unique records",
    )
    need(
        "states",
        sum(int(v) for v in (c.get("states", {}) or {}).values()),
        n("n_unique"),
        "every unique record in exactly one state",
    )
    if n("new_studies") > n("new_reports"):
        raise FlowError(
            f"PRISMA box 'new_studies' does not add up: {n('new_studies')} studies "
            f"from {n('new_reports')} reports"
        )


def _pairs(items: list[tuple[str, int]]) -> str:
    return "; ".join(f"{name}, {n}" for name, n in items)


def template_rows(counts: Mapping[str, Any]) -> list[list[object]]:
    """Return the PRISMA2020 data template with its ``n`` column filled in."""
    special = {
        "database_specific_results": _pairs(counts["databases"]),
        "register_specific_results": _pairs(counts["registers"]),
        "dbr_excluded": _pairs(counts["dbr_excluded"]),
        "other_excluded": _pairs(counts["other_excluded"]),
    }
    rows: list[list[object]] = []
    for data, node, box, description, boxtext, tooltips, url in TEMPLATE:
        if data in special:
            n: object = special[data]
        elif data in counts and isinstance(counts[data], int):
            n = counts[data]
        else:
            n = 0
        rows.append([data, node, box, description, boxtext, tooltips, url, n])
    return rows


def counts_json(counts: Mapping[str, Any]) -> str:
    """Return the counts as indented JSON, keys in a fixed order."""
    out = {
        key: (
            [{"name": name, "n": n} for name, n in value]
            if isinstance(value, list)
            else value
        )
        for key, value in counts.items()
    }
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


#: Labels of the other-methods column's removals, by data key.
OTHER_REMOVED = {
    "other_removed_dbr": "Duplicates of records from databases and registers",
    "other_removed_within": "Duplicates within other methods",
}


def other_removed(counts: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Return the other-methods column's "Records removed before retrieval" items.

    Both kinds are listed, zero or not, as the databases column lists each
    kind of removal.
    """
    return [(label, _int(counts, key)) for key, label in OTHER_REMOVED.items()]


def flow_from_counts(counts: Mapping[str, Any]) -> PrismaFlow:
    """Return the flow diagram's input from :func:`flow_counts` or a template.

    The "other methods" column is drawn when any record came from websites,
    organisations or citation searching; the "previous studies" column when a
    previous version of the review included studies. Keys a template lacks
    (``other_removed_dbr``, ``other_removed_within``) count as 0; a list of
    ``(label, n)`` under ``other_removed`` replaces the two (an update whose
    snapshots cannot split them).
    """
    other = any(
        counts.get(k, 0)
        for k in ("website_results", "organisation_results", "citations_results")
    )
    previous = bool(counts.get("previous_studies") or counts.get("previous_reports"))
    return PrismaFlow(
        databases=list(counts.get("databases", []))
        or [("Databases", _int(counts, "database_results"))],
        registers=list(counts.get("registers", [])),
        duplicates=_int(counts, "duplicates"),
        excluded_automatic=_int(counts, "excluded_automatic"),
        excluded_other=_int(counts, "excluded_other"),
        records_screened=_int(counts, "records_screened"),
        records_excluded=_int(counts, "records_excluded"),
        dbr_sought_reports=_int(counts, "dbr_sought_reports"),
        dbr_notretrieved_reports=_int(counts, "dbr_notretrieved_reports"),
        dbr_assessed=_int(counts, "dbr_assessed"),
        dbr_excluded=list(counts.get("dbr_excluded", [])),
        new_studies=_int(counts, "new_studies"),
        new_reports=_int(counts, "new_reports"),
        other=other,
        websites=list(counts.get("websites", [])),
        organisations=list(counts.get("organisations", [])),
        citations=list(counts.get("citations", [])),
        other_removed=(
            list(counts["other_removed"])
            if isinstance(counts.get("other_removed"), list)
            else other_removed(counts)
        ),
        other_sought_reports=_int(counts, "other_sought_reports"),
        other_notretrieved_reports=_int(counts, "other_notretrieved_reports"),
        other_assessed=_int(counts, "other_assessed"),
        other_excluded=list(counts.get("other_excluded", [])),
        previous=previous,
        previous_studies=_int(counts, "previous_studies"),
        previous_reports=_int(counts, "previous_reports"),
        total_studies=_int(counts, "total_studies"),
        total_reports=_int(counts, "total_reports"),
        notes=progress_notes(counts),
    )


_PROGRESS_WORDS = {
    "pending_title_abstract": "awaiting title/abstract decisions",
    "conflict_title_abstract": "in conflict at title/abstract",
    "awaiting_retrieval": "awaiting full-text retrieval",
    "pending_full_text": "awaiting full-text decisions",
    "conflict_full_text": "in conflict at full text",
}


def progress_notes(counts: Mapping[str, Any]) -> list[str]:
    """Say which records the boxes leave out because screening is not finished."""
    notes = []
    for column, label in ((DBR, "databases and registers"), (OTHER, "other methods")):
        progress = counts.get("in_progress", {}).get(column, {})
        parts = [
            f"{n:,} {_PROGRESS_WORDS[state]}" for state, n in progress.items() if n
        ]
        if parts:
            notes.append(f"Screening in progress ({label}): " + "; ".join(parts) + ".")
    return notes


_LIST_KEYS = {
    "database_specific_results": "databases",
    "register_specific_results": "registers",
    "dbr_excluded": "dbr_excluded",
    "other_excluded": "other_excluded",
}


def counts_from_json(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return the counts of a parsed ``prisma_counts.json``.

    Its ``{"name", "n"}`` lists become ``(name, n)`` pairs; every other value
    is kept as it is.
    """
    return {
        k: (
            [(item["name"], int(item["n"])) for item in v] if isinstance(v, list) else v
        )
        for k, v in raw.items()
    }


def read_template(path: str | Path) -> dict[str, Any]:
    """Read counts from a PRISMA2020 data template (``data, ..., n``) or our JSON.

    Lists are written ``Name, n; Name, n``, as the PRISMA2020 package reads them.
    Per-source lists for the other-methods column are made from the totals.

    Raises
    ------
    InputError
        For a missing ``data`` or ``n`` column or a count that is not a
        non-negative whole number, naming the row.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg}", file=path, line=exc.lineno
            ) from None
        return counts_from_json(raw)
    frame = read_csv_text(path, "the PRISMA2020 template header data,node,box,...,n")
    for column in ("data", "n"):
        if column not in frame.columns:
            raise InputError(
                f"missing column {column!r}",
                file=path,
                line=1,
                expected="the PRISMA2020 template header data,node,box,...,n",
            )
    counts: dict[str, Any] = {key: [] for key in _LIST_KEYS.values()}
    for index, (key, value) in enumerate(zip(frame["data"], frame["n"], strict=True)):
        value = value.strip()
        if key in _LIST_KEYS:
            items = []
            for part in filter(None, (p.strip() for p in value.split(";"))):
                name, _, number = part.rpartition(",")
                if not name or not number.strip().isdigit():
                    raise InputError(
                        f"cannot read {part!r}",
                        file=path,
                        line=index + 2,
                        row=index + 1,
                        column="n",
                        expected="Name, count; Name, count",
                    )
                items.append((name.strip(), int(number)))
            counts[_LIST_KEYS[key]] = items
        elif key and key != "NA":
            if value in ("", "NA"):
                value = "0"
            if not value.isdigit():
                raise InputError(
                    f"count {value!r} for {key}",
                    file=path,
                    line=index + 2,
                    row=index + 1,
                    column="n",
                    expected="a whole number >= 0",
                )
            counts[key] = int(value)
    for kind, key in (
        ("websites", "website_results"),
        ("organisations", "organisation_results"),
        ("citations", "citations_results"),
    ):
        label = {"websites": "Websites", "organisations": "Organisations"}.get(
            kind, "Citation searching"
        )
        counts[kind] = [(label, counts[key])] if counts.get(key) else []
    if not counts["databases"] and counts.get("database_results"):
        counts["databases"] = [("Databases", counts["database_results"])]
    if not counts["registers"] and counts.get("register_results"):
        counts["registers"] = [("Registers", counts["register_results"])]
    return counts
