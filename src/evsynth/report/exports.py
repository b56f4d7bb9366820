"""The included studies' reports as RIS (for reference managers) and as CSV.

The reports are the rows of the review's ``studies.csv`` (every report of every
included study, main and secondary) whose full text is included in
``results/screening/final_decisions.csv``; their bibliographic details come from
``results/records/unique.csv`` (the most complete value of each field over the
report's duplicate cluster).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from evsynth.io import frame_to_csv, write_files
from evsynth.labels import label_of, read_study_labels
from evsynth.report.journals import display_journal

__all__ = [
    "BIB_COLUMNS",
    "CSV_COLUMNS",
    "REPORT_COLUMNS",
    "RIS_TYPES",
    "export_included",
    "included_reports",
    "ris_text",
]

#: RIS reference type of each value of unique.csv's ``type`` column.
RIS_TYPES: dict[str, str] = {
    "article": "JOUR",
    "review": "JOUR",
    "erratum": "JOUR",
    "comment": "JOUR",
    "editorial": "JOUR",
    "letter": "JOUR",
    "retraction": "JOUR",
    "conference": "CPAPER",
    "book": "BOOK",
    "chapter": "CHAP",
    "thesis": "THES",
    "report": "RPRT",
    "web": "ELEC",
    "preprint": "UNPB",
    "dataset": "DATA",
    "other": "GEN",
}
#: Bibliographic columns of unique.csv carried into the exports.
BIB_COLUMNS: tuple[str, ...] = (
    "type",
    "authors",
    "year",
    "title",
    "journal",
    "journal_abbrev",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "isbn",
    "issn",
    "accession",
    "language",
    "url",
)
#: Columns of :func:`included_reports` (before the columns of studies.csv).
REPORT_COLUMNS: tuple[str, ...] = ("study_id", "role", "record_id", *BIB_COLUMNS)
#: Columns of included_studies.csv: the reports' columns, then
#: ``journal_display``, the journal name as the report's tables show it
#: (:func:`evsynth.report.journals.display_journal`; ``journal`` keeps the
#: spelling of the record), and ``label``, the study's label for readers
#: (author and year, ``results/studies/labels.csv``; see :mod:`evsynth.labels`).
CSV_COLUMNS: tuple[str, ...] = (*REPORT_COLUMNS, "journal_display", "label")

_PAGES = re.compile(r"^\s*([^\s\-–—]+)\s*[-–—]+\s*([^\s\-–—]+)\s*$")
_SPACE = re.compile(r"\s+")


def read_optional_csv(path: Path) -> pd.DataFrame | None:
    """Read a results CSV with every cell as text; None if it does not exist."""
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _sort_key(study: str, role: str, record: str) -> tuple[str, int, str, str]:
    return (study.casefold(), 0 if role == "main" else 1, record, study)


def included_reports(
    results_dir: str | Path,
    review_dir: str | Path,
    studies: str | Path = "studies.csv",
) -> pd.DataFrame:
    """Every report of the included studies, with its bibliographic details.

    Parameters
    ----------
    results_dir : str or Path
        The workflow's ``results/`` folder.
    review_dir : str or Path
        The review folder.
    studies : str or Path
        studies.csv, relative to ``review_dir`` (the ``screening.studies``
        setting). An included report the file does not list (every included
        report, without the file) is a study of its own, as in the screening
        stage.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REPORT_COLUMNS` followed by any further columns of
        studies.csv (design, country, ...), all text; one row per report,
        sorted by study (main report first). Reports that are not included at
        full text (reopened or excluded since studies.csv was written) are left
        out, as the screening stage sets them aside.
    """
    results = Path(results_dir)
    unique = read_optional_csv(results / "records" / "unique.csv")
    final = read_optional_csv(results / "screening" / "final_decisions.csv")
    table = read_optional_csv(Path(review_dir) / studies)

    # Any record of a duplicate cluster stands for the cluster's kept record.
    representative: dict[str, str] = {}
    bib: dict[str, Mapping[str, str]] = {}
    if unique is not None:
        for row in unique.to_dict("records"):
            rid = str(row["record_id"])
            bib[rid] = row
            representative[rid] = rid
            for other in str(row.get("merged_ids", "")).split(";"):
                if other.strip():
                    representative.setdefault(other.strip(), rid)
    included: set[str] | None = None
    if final is not None and "final_state" in final.columns:
        included = {
            representative.get(r, r)
            for r in final.loc[final["final_state"] == "included", "record_id"]
        }

    extra: list[str] = []
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    if table is not None:
        extra = [c for c in table.columns if c not in CSV_COLUMNS]
        for entry in table.to_dict("records"):
            record = representative.get(entry["record_id"], entry["record_id"])
            seen.add(record)
            if included is not None and record not in included:
                continue
            rows.append(
                {
                    "study_id": entry["study_id"],
                    "role": entry.get("role", "") or "main",
                    "record_id": record,
                    **{c: str(entry[c]) for c in extra},
                }
            )
    if final is not None and included is not None:
        # included reports that studies.csv does not list (or all of them,
        # without the file) are studies of their own, as the screening stage
        # counts them
        decided = final[final["final_state"] == "included"]
        for entry in decided.to_dict("records"):
            record = representative.get(entry["record_id"], entry["record_id"])
            if record in seen:
                continue
            seen.add(record)
            study = str(entry.get("study_id", "") or record)
            rows.append(
                {
                    "study_id": study,
                    "role": "main",
                    "record_id": record,
                    **dict.fromkeys(extra, ""),
                }
            )
    for row in rows:
        details = bib.get(row["record_id"], {})
        for column in BIB_COLUMNS:
            row[column] = str(details.get(column, "") or "")
    rows.sort(key=lambda r: _sort_key(r["study_id"], r["role"], r["record_id"]))
    return pd.DataFrame(rows, columns=[*REPORT_COLUMNS, *extra], dtype=object)


def _clean(value: object) -> str:
    """One line of text: RIS is line-based, so line breaks become spaces."""
    return _SPACE.sub(" ", str(value or "")).strip()


def ris_text(reports: pd.DataFrame) -> str:
    """Write the reports as RIS records, one per row of :func:`included_reports`.

    Tags: ``TY`` (from the ``type`` column, see :data:`RIS_TYPES`), ``AU`` per
    author, ``TI``, ``PY``, ``JO`` (journal articles) or ``T2`` (the conference,
    book or series of other types), ``J2`` (abbreviated journal), ``VL``,
    ``IS``, ``SP``/``EP``, ``SN`` (ISSN, else ISBN), ``DO``, ``AN`` (accession
    number, else PMID), ``UR``, ``LA``, ``N1`` (the review's study id, the
    report's role and record id) and ``ER``.

    Parameters
    ----------
    reports : pandas.DataFrame
        From :func:`included_reports`.

    Returns
    -------
    str
        UTF-8 text with LF line ends, a blank line after each record.
    """
    out: list[str] = []

    def tag(name: str, value: object) -> None:
        text = _clean(value)
        if text:
            out.append(f"{name}  - {text}")

    for row in reports.to_dict("records"):
        kind = RIS_TYPES.get(_clean(row.get("type")), "GEN")
        out.append(f"TY  - {kind}")
        for author in str(row.get("authors", "")).split(";"):
            tag("AU", author)
        tag("TI", row.get("title"))
        tag("PY", row.get("year"))
        tag("JO" if kind == "JOUR" else "T2", row.get("journal"))
        tag("J2", row.get("journal_abbrev"))
        tag("VL", row.get("volume"))
        tag("IS", row.get("issue"))
        pages = _clean(row.get("pages"))
        match = _PAGES.match(pages)
        if match:
            tag("SP", match.group(1))
            tag("EP", match.group(2))
        else:
            tag("SP", pages)
        tag("SN", row.get("issn") or row.get("isbn"))
        tag("DO", row.get("doi"))
        tag("AN", row.get("accession") or row.get("pmid"))
        tag("UR", row.get("url"))
        tag("LA", row.get("language"))
        tag(
            "N1",
            f"study_id: {_clean(row.get('study_id'))}; "
            f"role: {_clean(row.get('role'))}; "
            f"record_id: {_clean(row.get('record_id'))}",
        )
        out.append("ER  - ")
        out.append("")
    return "\n".join(out) + ("\n" if out else "")


def export_included(
    results_dir: str | Path,
    review_dir: str | Path,
    out_dir: str | Path,
    *,
    studies: str | Path = "studies.csv",
) -> list[Path]:
    """Write the included reports as ``included_studies.ris`` and ``.csv``.

    Both files appear or neither does; equal input gives equal bytes.

    Parameters
    ----------
    results_dir : str or Path
        The workflow's ``results/`` folder (records/unique.csv is required,
        screening/final_decisions.csv is used when present).
    review_dir : str or Path
        The review folder.
    out_dir : str or Path
        Output folder (created if needed).
    studies : str or Path
        studies.csv, relative to ``review_dir`` (the ``screening.studies``
        setting).

    Returns
    -------
    list of Path
        ``included_studies.ris`` and ``included_studies.csv``.

    Raises
    ------
    FileNotFoundError
        If results/records/unique.csv does not exist.
    """
    unique = Path(results_dir) / "records" / "unique.csv"
    if not unique.is_file():
        raise FileNotFoundError(f"{unique}: run the records stage first")
    reports = included_reports(results_dir, review_dir, studies)
    text = ris_text(reports)
    out = Path(out_dir)
    ris_path = out / "included_studies.ris"
    csv_path = out / "included_studies.csv"
    labels = read_study_labels(Path(results_dir) / "studies" / "labels.csv")
    table = reports[list(REPORT_COLUMNS)].assign(
        journal_display=[display_journal(v) for v in reports["journal"]],
        # the study's label for readers (results/studies/labels.csv)
        label=[label_of(labels, s) for s in reports["study_id"]],
    )
    write_files(
        {
            ris_path: lambda p: p.write_bytes(text.encode("utf-8")),
            csv_path: lambda p: frame_to_csv(table, p),
        }
    )
    return [ris_path, csv_path]
