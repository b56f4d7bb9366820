"""Tables as Word documents (DOCX) that a reviewer can paste into a report.

One landscape A4 page layout with a title, one table (bold header row repeated
on every page, borders, column widths set from the content) and an optional
note. The same table always gives the same bytes: the core properties carry a
fixed author and dates, and the zip members a fixed time.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

__all__ = [
    "column_widths",
    "docx_text",
    "fill_cell",
    "repeat_header_row",
    "shade_cell",
    "write_stable_docx",
    "write_table_docx",
]

PAGE_WIDTH_CM = 29.7  # A4 landscape
PAGE_HEIGHT_CM = 21.0
MARGIN_CM = 1.5
BODY_PT = 9
TITLE_PT = 13
HEADER_FILL = "D9D9D9"
MIN_COLUMN_CM = 1.2
#: Width of a character of 9 pt text (bold, generous), and Word's default
#: left and right cell margins together, in centimetres.
CHAR_CM = 0.2
CELL_MARGINS_CM = 0.3
#: A cell's text counts for at most this many characters when sharing out width.
MAX_WEIGHT = 60
_FIXED_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_DATES = re.compile(
    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def docx_text(value: object) -> str:
    """Cell text: empty for missing values, XML-safe."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return _CONTROL.sub("", str(value))


def column_widths(
    headers: Sequence[str], rows: Sequence[Sequence[str]], total_cm: float
) -> list[float]:
    """Share the page width out among the columns, by their content.

    Every column first gets room for its longest word (estimated at
    :data:`CHAR_CM` per character plus the cell margins), so that no word is
    broken; the rest of the width goes to the columns in proportion to their
    longest cell (counted up to :data:`MAX_WEIGHT` characters), so long text
    gets the room.

    Parameters
    ----------
    headers : sequence of str
        Column headings.
    rows : sequence of sequence of str
        Cell texts.
    total_cm : float
        Width to share out, in centimetres.

    Returns
    -------
    list of float
        Widths in centimetres, summing to ``total_cm``.
    """
    floors, weights = [], []
    for j, header in enumerate(headers):
        texts = [header, *(row[j] for row in rows)]
        longest_word = max((len(w) for t in texts for w in t.split()), default=1)
        longest_cell = max((len(t) for t in texts), default=1)
        floors.append(max(MIN_COLUMN_CM, longest_word * CHAR_CM + CELL_MARGINS_CM))
        weights.append(max(1, min(MAX_WEIGHT, longest_cell)))
    if sum(floors) >= total_cm:  # too many columns: shrink them all alike
        return [f * total_cm / sum(floors) for f in floors]
    # Water-filling: columns whose share is below their floor get the floor,
    # the others share what is left in proportion to their weights.
    fixed: dict[int, float] = {}
    while True:
        free = [j for j in range(len(headers)) if j not in fixed]
        room = total_cm - sum(fixed.values())
        scale = room / sum(weights[j] for j in free)
        short = [j for j in free if weights[j] * scale < floors[j]]
        if not short:
            break
        fixed.update({j: floors[j] for j in short})
    return [fixed.get(j, weights[j] * scale) for j in range(len(headers))]


def repeat_header_row(row) -> None:
    """Mark a table row as a header repeated on every page, never split.

    Parameters
    ----------
    row : docx.table._Row
        The first row of a python-docx table.
    """
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        tr_pr.append(element)


def shade_cell(cell, fill: str) -> None:
    """Give a table cell a solid background.

    Parameters
    ----------
    cell : docx.table._Cell
        The cell.
    fill : str
        Colour as six hex digits (``"D9D9D9"``).
    """
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def fill_cell(cell, text: str, *, bold: bool = False) -> None:
    """Write text into a cell; line breaks in the text start new lines."""
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = 0
    run = paragraph.add_run()
    run.bold = bold
    for i, line in enumerate(text.split("\n")):
        if i:
            run.add_break()
        run.add_text(line)


def write_table_docx(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    title: str,
    headings: Mapping[str, str] | None = None,
    note: str | None = None,
) -> None:
    """Write a table as a landscape Word document with byte-stable output.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its columns become the header row.
    path : str or Path
        Where to write (not atomic: use inside :func:`evsynth.io.write_files`).
    title : str
        Printed above the table and stored as the document's title.
    headings : mapping of str to str, optional
        Header text for some columns (by column name), e.g. readable words for
        snake_case names.
    note : str, optional
        A paragraph printed under the table.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt

    headings = dict(headings or {})
    headers = [docx_text(headings.get(str(c), c)) for c in frame.columns]
    rows = [[docx_text(v) for v in row] for row in frame.itertuples(index=False)]

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = Cm(PAGE_WIDTH_CM)
    section.page_height = Cm(PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_PT)

    heading = document.add_paragraph()
    heading_run = heading.add_run(docx_text(title))
    heading_run.bold = True
    heading_run.font.size = Pt(TITLE_PT)
    heading.paragraph_format.space_after = Pt(6)
    heading.paragraph_format.keep_with_next = True

    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = column_widths(headers, rows, PAGE_WIDTH_CM - 2 * MARGIN_CM)
    for j, width in enumerate(widths):
        table.columns[j].width = Cm(width)
        for cell in table.columns[j].cells:
            cell.width = Cm(width)
    header_row = table.rows[0]
    repeat_header_row(header_row)
    for cell, text in zip(header_row.cells, headers, strict=True):
        fill_cell(cell, text, bold=True)
        shade_cell(cell, HEADER_FILL)
    for row, texts in zip(table.rows[1:], rows, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            fill_cell(cell, text)
    if note:
        paragraph = document.add_paragraph(docx_text(note))
        paragraph.paragraph_format.space_before = Pt(6)

    properties = document.core_properties
    properties.title = docx_text(title)
    properties.author = "evsynth"
    properties.last_modified_by = "evsynth"
    properties.comments = ""
    properties.revision = 1
    properties.created = _FIXED_TIME
    properties.modified = _FIXED_TIME
    properties.last_printed = _FIXED_TIME
    buffer = io.BytesIO()
    document.save(buffer)
    write_stable_docx(buffer.getvalue(), Path(path))


def write_stable_docx(data: bytes, path: Path) -> None:
    """Rewrite a zip package with fixed member times and fixed core.xml dates."""
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = _DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(info, content)
