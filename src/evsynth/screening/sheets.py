"""Screening sheets: what each reviewer still has to screen, as CSV and XLSX.

A sheet lists a reviewer's records at one stage with empty ``decision``,
``reason`` and ``note`` columns. The XLSX version has drop-down lists for the
decision and the reason (the config's full-text reasons), so a filled sheet can
be appended to the decision log without typing errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from evsynth.io import guard_formula, write_workbook
from evsynth.screening.decide import CONFLICT, PENDING, Screening
from evsynth.screening.model import FULL_TEXT, STAGES, RecordSet, Settings

#: Bibliographic columns shown on a sheet, from results/records/unique.csv.
SHEET_FIELDS = ["title", "authors", "year", "journal", "doi", "abstract"]
ENTRY_COLUMNS = ["decision", "reason", "note"]


def sheet_name(person: str, stage: str) -> str:
    """File stem of a sheet: ``<reviewer>_<stage>`` or ``resolve_<stage>``."""
    return f"{person}_{stage}"


def sheet_names(settings: Settings) -> list[str]:
    """Stems of every sheet the stage writes, reviewers' first, then conflicts'."""
    return [
        *(sheet_name(r, s) for r in settings.reviewers for s in STAGES),
        *(sheet_name("resolve", s) for s in STAGES),
    ]


def reviewer_sheet(
    records: RecordSet,
    screening: Screening,
    settings: Settings,
    reviewer: str,
    stage: str,
) -> pd.DataFrame:
    """Return the records a reviewer still has to screen at a stage.

    A record is on the sheet if it is pending at the stage, still needs
    decisions, the reviewer has not decided it, and (at full text) its full
    text was not reported missing.
    """
    info = records.unique.set_index("record_id")
    rows = []
    for record_id in records.ids:
        outcome = screening.outcomes.get((record_id, stage))
        if outcome is None:
            continue
        if outcome.status == "awaiting_retrieval":
            votes: tuple = ()
        elif outcome.status == PENDING:
            votes = outcome.votes
        else:
            continue
        if any(v.reviewer == reviewer for v in votes):
            continue
        if len(votes) >= settings.needed[stage]:
            continue
        rows.append(_row(record_id, stage, info, {}))
    return pd.DataFrame(rows, columns=_columns())


def resolver_sheet(
    records: RecordSet, screening: Screening, stage: str
) -> pd.DataFrame:
    """Conflicts at a stage, with the reviewers' votes, for a resolver to decide."""
    info = records.unique.set_index("record_id")
    rows = []
    for record_id in records.ids:
        outcome = screening.outcomes.get((record_id, stage))
        if outcome is None or outcome.status != CONFLICT:
            continue
        votes = "; ".join(
            f"{v.reviewer}: {v.decision}" + (f" ({v.reason})" if v.reason else "")
            for v in sorted(outcome.votes, key=lambda d: d.reviewer)
        )
        rows.append(_row(record_id, stage, info, {"votes": votes}))
    return pd.DataFrame(rows, columns=_columns(["votes"]))


def _columns(extra: Sequence[str] = ()) -> list[str]:
    return ["record_id", "stage", *SHEET_FIELDS, *extra, *ENTRY_COLUMNS]


def _row(
    record_id: str, stage: str, info: pd.DataFrame, extra: dict[str, str]
) -> dict[str, object]:
    row: dict[str, object] = {"record_id": record_id, "stage": stage}
    for name in SHEET_FIELDS:
        row[name] = info.loc[record_id, name] if name in info.columns else ""
    row |= extra
    row |= dict.fromkeys(ENTRY_COLUMNS, "")
    return row


def write_xlsx(
    frame: pd.DataFrame, path: Path, stage: str, settings: Settings, title: str
) -> None:
    """Write a sheet as XLSX with drop-down lists, byte-identical for equal input.

    Parameters
    ----------
    frame : pandas.DataFrame
        The sheet (:func:`reviewer_sheet` or :func:`resolver_sheet`).
    path : Path
        Where to write.
    stage : str
        The stage, which sets the decision words offered.
    settings : Settings
        Reasons for the reason list.
    title : str
        Shown in the workbook's properties.
    """
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "to screen"
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False, name=None):
        sheet.append([guard_formula("" if v is None else v) for v in row])
    header = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    widths = {"title": 60, "abstract": 80, "authors": 30, "journal": 25, "votes": 40}
    for index, name in enumerate(frame.columns, start=1):
        letter = get_column_letter(index)
        sheet[f"{letter}1"].font = header
        sheet.column_dimensions[letter].width = widths.get(name, 16)
        if name in ENTRY_COLUMNS:
            sheet[f"{letter}1"].fill = fill
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=False)
    sheet.freeze_panes = "C2"

    lists = book.create_sheet("lists")
    words = settings.decision_words(stage)
    for i, word in enumerate(words, start=1):
        lists.cell(row=i, column=1, value=word)
    reasons = settings.reasons if stage == FULL_TEXT else ()
    for i, reason in enumerate(reasons, start=1):
        lists.cell(row=i, column=2, value=guard_formula(reason))
    lists.sheet_state = "hidden"
    last = max(len(frame) + 1, 2)
    columns = list(frame.columns)
    decision_col = get_column_letter(columns.index("decision") + 1)
    check = DataValidation(
        type="list",
        formula1=f"=lists!$A$1:$A${len(words)}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Decision",
        error="Choose " + ", ".join(words),
    )
    check.add(f"{decision_col}2:{decision_col}{last}")
    sheet.add_data_validation(check)
    if reasons:
        reason_col = get_column_letter(columns.index("reason") + 1)
        reason_check = DataValidation(
            type="list",
            formula1=f"=lists!$B$1:$B${len(reasons)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Exclusion reason",
            error="Choose one of the review's full-text exclusion reasons",
        )
        reason_check.add(f"{reason_col}2:{reason_col}{last}")
        sheet.add_data_validation(reason_check)

    book.properties.creator = "evsynth"
    book.properties.lastModifiedBy = "evsynth"
    book.properties.title = title
    write_workbook(book, path)
