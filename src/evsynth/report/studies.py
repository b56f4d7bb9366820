"""The included studies: one row per study, and the section that shows them.

:func:`_study_frame` builds the table of study characteristics (main report,
the characteristics of studies.csv with their value labels, risk of bias, the
meta-analyses each study is in) that the page, ``tables.xlsx`` and
``tables.docx`` share; :func:`_studies` shapes it for the page with the count
of studies by design.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evsynth.labels import label_of, value_label, value_labels
from evsynth.report.formatting import _capital, _count, _join, _n, _table
from evsynth.report.journals import display_journal
from evsynth.report.loading import Review

_STUDY_HEADINGS = {
    "design": "Design",
    "country": "Country",
    "programme": "Programme",
    "mentoring_type": "Mentoring type",
    "population": "Population",
    "age_mean": "Mean age (years)",
    "n_total": "Participants (n)",
}

_HUMANISE = ("design", "population", "mentoring_type")


def _in_sentence(label: str) -> str:
    """Write a label inside a sentence: "Quasi-experimental" -> "quasi-experimental".

    A label starting with an acronym ("RCT") is left as it is.
    """
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _heading(column: str) -> str:
    return _STUDY_HEADINGS.get(column, _capital(column.replace("_", " ")))


def _first_author(authors: str, year: str) -> str:
    names = [a.strip() for a in str(authors).split(";") if a.strip()]
    surnames = [n.split(",")[0].strip() for n in names]
    if not surnames:
        who = "Anonymous"
    elif len(surnames) == 1:
        who = surnames[0]
    elif len(surnames) == 2:
        who = f"{surnames[0]} & {surnames[1]}"
    else:
        who = f"{surnames[0]} et al."
    return f"{who} ({year})" if year else who


def _study_frame(review: Review) -> pd.DataFrame | None:
    """One row per included study: main report, characteristics, RoB, analyses."""
    from evsynth.rob.model import TOOLS

    reports = review.reports
    if reports is None or not len(reports):
        return None
    skip = {"study_id", "role", "record_id", "authors", "year", "title", "journal"}
    characteristics = [
        c
        for c in reports.columns
        if c not in skip
        and c not in {"type", "journal_abbrev", "volume", "issue", "pages", "doi"}
        and c not in {"pmid", "isbn", "issn", "accession", "language", "url"}
        and any(str(v) for v in reports[c])
    ]
    rob: dict[str, list[str]] = {}
    if review.rob_overall is not None:
        for row in review.rob_overall.to_dict("records"):
            spec = TOOLS.get(row.get("tool", ""))
            label = spec.labels.get(row["overall"], row["overall"]) if spec else ""
            name = spec.name if spec else row.get("tool", "")
            rob.setdefault(row["study_id"], []).append(f"{label} ({name})")
    analyses: dict[str, list[str]] = {}
    for analysis in review.analyses:
        for study in (analysis.report or {}).get("studies", []) or []:
            analyses.setdefault(str(study.get("study_id")), []).append(analysis.label)
    values = value_labels((review.settings.get("labels") or {}).get("values"))
    rows = []
    for study, group in reports.groupby("study_id", sort=False):
        main = group[group["role"] == "main"]
        first = (main if len(main) else group).iloc[0]
        row: dict[str, Any] = {
            "Study": label_of(review.labels, study),
            "Main report": _first_author(first["authors"], first["year"]),
            "Title": first["title"],
            "Source": display_journal(first["journal"]),
            "Reports (n)": len(group),
        }
        for column in characteristics:
            value = str(first[column])
            row[_heading(column)] = (
                value_label(values, column, value) if column in _HUMANISE else value
            )
        row["Risk of bias"] = "; ".join(rob.get(str(study), []))
        row["Meta-analyses"] = "; ".join(analyses.get(str(study), []))
        rows.append(row)
    rows.sort(key=lambda r: str(r["Study"]).casefold())  # by author, as journals
    frame = pd.DataFrame(rows, dtype=object)
    for column in ("Risk of bias", "Meta-analyses"):
        if not any(frame[column]):
            frame = frame.drop(columns=column)
    return frame


def _studies(review: Review, frame: pd.DataFrame | None) -> dict[str, Any]:
    if frame is None:
        return {"available": False}
    paragraphs = []
    n_reports = int(frame["Reports (n)"].sum())
    text = (
        f"{_capital(_count(len(frame), 'study', 'studies'))} "
        f"({_n(n_reports, 'report', 'reports')}) "
        + ("is" if len(frame) == 1 else "are")
        + " included."
    )
    if "Design" in frame.columns:
        designs = frame["Design"].replace("", "design not given").value_counts()
        parts = [
            f"{n} {_in_sentence(design)}"
            for design, n in sorted(designs.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        text += " By design: " + _join(parts) + "."
    paragraphs.append(text)
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for column in frame.columns:
            value = record[column]
            if column == "Main report":
                row.append([str(value), str(record["Title"]), str(record["Source"])])
            elif column in ("Title", "Source"):
                continue
            else:
                row.append(str(value))
        rows.append(row)
    headers = [c for c in frame.columns if c not in ("Title", "Source")]
    table = _table(
        headers,
        rows,
        caption="Included studies (the review's studies.csv with "
        "results/records/unique.csv)",
        numeric=[c in ("Reports (n)", "Participants (n)") for c in headers],
        small=True,
    )
    return {"available": True, "paragraphs": paragraphs, "table": table}
