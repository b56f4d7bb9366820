"""PRISMA 2020 flow counts, derived from the records and the decision log.

Every number comes from the imported records, the deduplication, the decision
log, the retrieval file and studies.csv; none is typed in. The counts are
written in the data template of the PRISMA2020 R package (Haddaway et al. 2022,
Campbell Systematic Reviews 18:e1230; ``inst/extdata/PRISMA.csv``) and as JSON,
and :func:`check_flow` stops a run whose boxes do not add up.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evsynth.errors import EvsynthError, InputError
from evsynth.io import read_csv_text
from evsynth.screening.decide import SOUGHT_STATES, STATES, Screening
from evsynth.screening.model import DBR, FULL_TEXT, OTHER, RecordSet, Settings
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
                state = state.replace("_", " ")
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
    """
    ident = records.identified
    states = {DBR: Counter[str](), OTHER: Counter[str]()}
    for record_id, state in screening.states.items():
        states[records.column[record_id]][state] += 1
    d, o = states[DBR], states[OTHER]
    passed = SOUGHT_STATES
    included = [r for r, s in screening.states.items() if s == "included"]
    n_unique = len(records.ids)
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
        "duplicates": records.n_imported - n_unique,
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
    return counts


class FlowError(EvsynthError):
    """The PRISMA boxes do not add up."""


def check_flow(counts: Mapping[str, Any]) -> None:
    """Check that every PRISMA box adds up; stop with the box that does not.

    Raises
    ------
    FlowError
        Naming the box and the two sides of the failed identity.
    """
    c = counts
    dp, op = c["in_progress"][DBR], c["in_progress"][OTHER]

    def need(box: str, left: int, right: int, what: str) -> None:
        if left != right:
            raise FlowError(
                f"PRISMA box {box!r} does not add up: {left} != {right} ({what})"
            )

    identified = sum(
        c[k]
        for k in (
            "database_results",
            "register_results",
            "website_results",
            "organisation_results",
            "citations_results",
        )
    )
    need("identification", identified, c["n_imported"], "records imported")
    need(
        "duplicates",
        identified - c["duplicates"] - c["excluded_automatic"] - c["excluded_other"],
        c["n_unique"],
        "identified minus removed = unique records",
    )
    need(
        "records_screened",
        c["unique_records"][DBR],
        c["records_screened"]
        + dp["pending_title_abstract"]
        + dp["conflict_title_abstract"],
        "unique records (databases and registers) = screened + still at title/abstract",
    )
    need(
        "records_excluded",
        c["records_screened"],
        c["records_excluded"] + c["dbr_sought_reports"],
        "screened = excluded + sought for retrieval",
    )
    for prefix, progress, column in (("dbr", dp, DBR), ("other", op, OTHER)):
        if column == OTHER:
            need(
                "other_sought_reports",
                c["unique_records"][OTHER],
                c["other_sought_reports"],
                "records identified via other methods = reports sought",
            )
        need(
            f"{prefix}_assessed",
            c[f"{prefix}_sought_reports"],
            c[f"{prefix}_notretrieved_reports"]
            + c[f"{prefix}_assessed"]
            + progress["awaiting_retrieval"]
            + progress["pending_full_text"]
            + progress["conflict_full_text"],
            "sought = not retrieved + assessed + still at full text",
        )
    included = c["new_reports"]
    excluded_ft = sum(n for _, n in c["dbr_excluded"]) + sum(
        n for _, n in c["other_excluded"]
    )
    need(
        "new_reports",
        c["dbr_assessed"] + c["other_assessed"],
        excluded_ft + included,
        "assessed = excluded with a reason + included",
    )
    need(
        "states",
        sum(c["states"].values()),
        c["n_unique"],
        "every unique record in exactly one state",
    )
    if c["new_studies"] > c["new_reports"]:
        raise FlowError(
            f"PRISMA box 'new_studies' does not add up: {c['new_studies']} studies "
            f"from {c['new_reports']} reports"
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


def flow_from_counts(counts: Mapping[str, Any]) -> PrismaFlow:
    """Return the flow diagram's input from :func:`flow_counts` or a template.

    The "other methods" column is drawn when any record came from websites,
    organisations or citation searching; the "previous studies" column when a
    previous version of the review included studies.
    """
    other = any(
        counts.get(k, 0)
        for k in ("website_results", "organisation_results", "citations_results")
    )
    previous = bool(counts.get("previous_studies") or counts.get("previous_reports"))
    return PrismaFlow(
        databases=list(counts["databases"])
        or [("Databases", int(counts.get("database_results", 0)))],
        registers=list(counts["registers"]),
        duplicates=int(counts["duplicates"]),
        excluded_automatic=int(counts["excluded_automatic"]),
        excluded_other=int(counts["excluded_other"]),
        records_screened=int(counts["records_screened"]),
        records_excluded=int(counts["records_excluded"]),
        dbr_sought_reports=int(counts["dbr_sought_reports"]),
        dbr_notretrieved_reports=int(counts["dbr_notretrieved_reports"]),
        dbr_assessed=int(counts["dbr_assessed"]),
        dbr_excluded=list(counts["dbr_excluded"]),
        new_studies=int(counts["new_studies"]),
        new_reports=int(counts["new_reports"]),
        other=other,
        websites=list(counts.get("websites", [])),
        organisations=list(counts.get("organisations", [])),
        citations=list(counts.get("citations", [])),
        other_sought_reports=int(counts.get("other_sought_reports", 0)),
        other_notretrieved_reports=int(counts.get("other_notretrieved_reports", 0)),
        other_assessed=int(counts.get("other_assessed", 0)),
        other_excluded=list(counts.get("other_excluded", [])),
        previous=previous,
        previous_studies=int(counts.get("previous_studies", 0)),
        previous_reports=int(counts.get("previous_reports", 0)),
        total_studies=int(counts.get("total_studies", 0)),
        total_reports=int(counts.get("total_reports", 0)),
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
