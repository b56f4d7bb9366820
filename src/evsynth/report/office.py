"""Write the report's tables as ``tables.xlsx`` and ``tables.docx``.

:data:`SHEETS` and :data:`DOCX_TABLES` list what each file holds (a table
without data is left out). The workbook has a contents sheet, bold frozen
header rows, column widths from the content and text guarded against formulas;
the document is landscape A4, one table and its note per page. Both have fixed
metadata, so equal input gives equal bytes.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.io import guard_formula, write_workbook
from evsynth.report import sof as grade_sof
from evsynth.report.formatting import _display
from evsynth.report.loading import Review
from evsynth.report.studies import _study_frame
from evsynth.report.tables import pooled_results

__all__ = ["DOCX_TABLES", "SHEETS"]

#: Worksheets of tables.xlsx (a table without data is left out).
SHEETS: tuple[str, ...] = (
    "Contents",
    "Summary of findings",
    "Included studies",
    "Effects",
    "Pooled results",
    "RoB 2",
    "ROBINS-I",
    "Barriers",
    "Facilitators",
    "CERQual SoQF",
)

#: Tables of tables.docx (a table without data is left out).
DOCX_TABLES: tuple[str, ...] = (
    "Summary of findings",
    "Characteristics of included studies",
    "Barriers",
    "Facilitators",
    "Summary of qualitative findings (GRADE-CERQual)",
)


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, str) and value == "":
        return None
    return guard_formula(value)


def _add_sheet(book: Any, title: str, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_xlsx_value(v) for v in row])
    for index, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet[f"{letter}1"]
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        longest = max(
            [len(str(column))]
            + [len(_display(v)) for v in frame[column] if v is not None]
        )
        sheet.column_dimensions[letter].width = max(8, min(60, longest + 2))
    sheet.freeze_panes = "A2"


def _xlsx_tables(review: Review) -> list[tuple[str, str, pd.DataFrame]]:
    """(sheet, source, table) of every table with data, in :data:`SHEETS` order."""
    tables = []
    if review.grade is not None:
        tables.append(
            (
                "Summary of findings",
                "results/grade/summary_of_findings.csv",
                grade_sof.sof_frame(review.grade),
            )
        )
    studies = _study_frame(review)
    if studies is not None:
        tables.append(
            ("Included studies", "studies.csv with results/records/unique.csv", studies)
        )
    if review.effects is not None:
        tables.append(("Effects", "results/effects/effects.csv", review.effects))
    pooled = pooled_results(review)
    if len(pooled):
        tables.append(("Pooled results", "results/meta/<analysis>.json", pooled))
    for tool, sheet in (("rob2", "RoB 2"), ("robins_i", "ROBINS-I")):
        if tool in review.rob_tables:
            tables.append(
                (sheet, f"results/rob/{tool}_table.csv", review.rob_tables[tool])
            )
    for frame, sheet, source in (
        (review.barriers, "Barriers", "results/qualitative/barriers.csv"),
        (review.facilitators, "Facilitators", "results/qualitative/facilitators.csv"),
        (review.soqf, "CERQual SoQF", "results/qualitative/cerqual_soqf.csv"),
    ):
        if frame is not None:
            tables.append((sheet, source, frame))
    return tables


def _write_xlsx(review: Review, path: Path) -> None:
    from openpyxl import Workbook

    tables = _xlsx_tables(review)
    book = Workbook()
    contents = book.active
    assert contents is not None
    book.remove(contents)
    title = str(review.settings.get("review_title", "") or "Untitled review")
    index = pd.DataFrame(
        [[sheet, len(frame), source] for sheet, source, frame in tables],
        columns=["Sheet", "Rows", "Source"],
    )
    _add_sheet(book, "Contents", index)
    book["Contents"].insert_rows(1, 2)
    book["Contents"]["A1"] = guard_formula(title)
    book["Contents"].freeze_panes = "A4"
    from openpyxl.styles import Font

    book["Contents"]["A1"].font = Font(bold=True, size=13)
    for cell in book["Contents"][3]:
        cell.font = Font(bold=True)
    for sheet, _, frame in tables:
        _add_sheet(book, sheet, frame)
    book.properties.creator = "evsynth"
    book.properties.title = title
    write_workbook(book, path)


def _docx_tables(review: Review) -> list[tuple[str, pd.DataFrame, str, dict[str, str]]]:
    """(title, table, note, headings) of every DOCX table with data."""
    from evsynth.qualitative.tables import BF_HEADINGS, EXCERPT_SEP

    tables: list[tuple[str, pd.DataFrame, str, dict[str, str]]] = []
    sof = grade_sof.docx_table(review)
    if sof is not None:
        tables.append(("Summary of findings", *sof, {}))
    studies = _study_frame(review)
    if studies is not None:
        tables.append(
            (
                "Characteristics of included studies",
                studies,
                (
                    "Main report: first author and year of the study's main report; "
                    "Reports (n): every report of the study."
                ),
                {},
            )
        )
    for frame, title in (
        (review.barriers, "Barriers"),
        (review.facilitators, "Facilitators"),
    ):
        if frame is None:
            continue
        shown = frame.copy()
        if "example_excerpts" in shown.columns:
            shown["example_excerpts"] = [
                str(v).replace(EXCERPT_SEP, "\n") for v in shown["example_excerpts"]
            ]
        tables.append(
            (
                title,
                shown,
                (
                    "Studies (n): studies with an excerpt coded to the theme as a "
                    f"{title.lower()[:-1]}."
                ),
                dict(BF_HEADINGS),
            )
        )
    if review.soqf is not None:
        tables.append(
            (
                "Summary of qualitative findings (GRADE-CERQual)",
                review.soqf,
                (
                    "Confidence after Lewin et al. 2018 (Implementation Science "
                    "13(Suppl 1):10)."
                ),
                {},
            )
        )
    return tables


def _write_docx(review: Review, path: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt

    from evsynth.qualitative import docx as qdocx

    title = str(review.settings.get("review_title", "") or "Untitled review")
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = Cm(qdocx.PAGE_WIDTH_CM)
    section.page_height = Cm(qdocx.PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(qdocx.MARGIN_CM))
    document.styles["Normal"].font.size = Pt(qdocx.BODY_PT)

    def heading(text: str, size: float) -> None:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(qdocx.docx_text(text))
        run.bold = True
        run.font.size = Pt(size)
        paragraph.paragraph_format.space_after = Pt(6)
        paragraph.paragraph_format.keep_with_next = True

    heading(title, qdocx.TITLE_PT + 2)
    tables = _docx_tables(review)
    if not tables:
        document.add_paragraph("No tables: the review has no results yet.")
    for number, (name, frame, note, headings) in enumerate(tables, start=1):
        if number > 1:
            document.add_page_break()
        heading(f"Table {number}. {name}", qdocx.TITLE_PT)
        headers = [qdocx.docx_text(headings.get(str(c), c)) for c in frame.columns]
        rows = [
            [qdocx.docx_text(v) for v in row] for row in frame.itertuples(index=False)
        ]
        table = document.add_table(rows=1 + len(rows), cols=len(headers))
        table.style = document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = qdocx.column_widths(
            headers, rows, qdocx.PAGE_WIDTH_CM - 2 * qdocx.MARGIN_CM
        )
        for j, width in enumerate(widths):
            table.columns[j].width = Cm(width)
            for cell in table.columns[j].cells:
                cell.width = Cm(width)
        header_row = table.rows[0]
        qdocx.repeat_header_row(header_row)
        for cell, text in zip(header_row.cells, headers, strict=True):
            qdocx.fill_cell(cell, text, bold=True)
            qdocx.shade_cell(cell, qdocx.HEADER_FILL)
        for row, texts in zip(table.rows[1:], rows, strict=True):
            for cell, text in zip(row.cells, texts, strict=True):
                qdocx.fill_cell(cell, text)
        if note:
            paragraph = document.add_paragraph(qdocx.docx_text(note))
            paragraph.paragraph_format.space_before = Pt(6)

    properties = document.core_properties
    properties.title = qdocx.docx_text(title)
    properties.author = "evsynth"
    properties.last_modified_by = "evsynth"
    properties.comments = ""
    properties.revision = 1
    properties.created = qdocx._FIXED_TIME
    properties.modified = qdocx._FIXED_TIME
    properties.last_printed = qdocx._FIXED_TIME
    buffer = io.BytesIO()
    document.save(buffer)
    qdocx.write_stable_docx(buffer.getvalue(), path)
