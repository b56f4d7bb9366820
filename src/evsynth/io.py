"""Deterministic, atomic and spreadsheet-safe table output."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evsynth.errors import InputError, decode_utf8

if TYPE_CHECKING:
    from openpyxl import Workbook

#: Cells starting with one of these are read as formulas by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _file_mode() -> int:
    """Mode for new output files: read-write for all, less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


# Real exports have cells far above the csv module's default limit (131,072
# characters: the author list of a consortium paper); lift it to the largest a C
# long holds everywhere.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

#: C0 control characters except tab, line feed and carriage return, and DEL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
_CLOSE_QUOTE = (
    'a closing " at the end of the quoted field (a " inside one is written "")'
)


def describe_control(char: str) -> str:
    """Name a control character: ``U+001B (ESC)``."""
    names = {0x7F: "DEL", 0x1B: "ESC", 0x00: "NUL", 0x08: "BS", 0x0C: "FF"}
    code = ord(char)
    name = names.get(code, f"^{chr(code + 64)}" if code < 0x20 else "")
    return f"U+{code:04X} ({name})" if name else f"U+{code:04X}"


@dataclass
class CsvRow:
    """One row of a CSV file as :func:`scan_csv` reads it.

    Attributes
    ----------
    line : int
        1-based line where the row starts.
    cells : list of str
        Its cells, quotes removed (``""`` read as ``"``).
    cell_lines : list of int
        The line where each cell starts.
    multiline : list of int
        Indexes of the quoted cells that run over more than one line.
    """

    line: int
    cells: list[str] = field(default_factory=list)
    cell_lines: list[int] = field(default_factory=list)
    multiline: list[int] = field(default_factory=list)


@dataclass
class CsvScan:
    """A CSV file read row by row with the line of every cell.

    Attributes
    ----------
    rows : list of CsvRow
        Every row that is not blank, the header first.
    unclosed : tuple of (int, int) or None
        ``(row index, cell index)`` of a quoted cell that runs to the end of
        the file, if any (it is the last cell of the last row).
    """

    rows: list[CsvRow] = field(default_factory=list)
    unclosed: tuple[int, int] | None = None

    @property
    def header(self) -> list[str]:
        """The header's cells (empty for an empty file)."""
        return self.rows[0].cells if self.rows else []

    def column(self, index: int) -> str:
        """Return the name of the column at ``index`` (``#8`` past the header)."""
        header = self.header
        name = header[index].strip() if index < len(header) else ""
        return name or f"#{index + 1}"


def scan_csv(
    text: str, name: str | Path, *, delimiter: str = ",", quoting: bool = True
) -> CsvScan:
    """Read CSV text cell by cell, keeping the line where each cell starts.

    The rules are the csv module's (RFC 4180: a quoted cell may hold the
    delimiter, line breaks and ``""`` for a quote; a quote inside an unquoted
    cell is an ordinary character; blank lines are skipped), except that a
    quoted cell must end where its closing quote is.

    Parameters
    ----------
    text : str
        The decoded file.
    name : str or Path
        The file's name for messages.
    delimiter : str
        The cell separator.
    quoting : bool
        Whether cells may be quoted (Web of Science's tab-delimited files are
        not, and a quote there is an ordinary character).

    Returns
    -------
    CsvScan
        The rows, and the quoted cell running to the end of the file if any.

    Raises
    ------
    InputError
        For a quoted cell whose closing quote is followed by other text (a
        quote opened by mistake that a later quote closes), at the line where
        the quoted cell opens.
    """
    scan = CsvScan()
    plain = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
    spaces = re.compile("[ ]+" if delimiter == "\t" else "[ \t]+")
    position, size, line = 0, len(text), 1
    row = CsvRow(line)
    while True:
        start_line = line
        if quoting and position < size and text[position] == '"':
            match = _QUOTED.match(text, position)
            end = match.end() if match is not None else size
            raw = text[position + 1 : end - 1 if match is not None else size]
            breaks = text.count("\n", position, end)
            value = raw.replace('""', '"')
            if breaks:
                row.multiline.append(len(row.cells))
            row.cells.append(value)
            row.cell_lines.append(start_line)
            line += breaks
            position = end
            if match is None:
                scan.unclosed = (len(scan.rows), len(row.cells) - 1)
                scan.rows.append(row)
                return scan
            blanks = spaces.match(text, position)
            if blanks is not None and blanks.end() > position:
                # spaces after the closing quote are kept, as the csv module does
                row.cells[-1] += blanks.group()
                position = blanks.end()
            if position < size and text[position] not in (delimiter, "\r", "\n"):
                column = len(row.cells) - 1
                header = row.cells if not scan.rows else scan.header
                label = header[column].strip() if column < len(header) else ""
                following = text[position : position + 12].split("\n")[0]
                raise InputError(
                    "a quoted field opens here and never closes: the quote "
                    f"on line {line} that ends it is followed by {following!r}",
                    file=name,
                    line=start_line,
                    column=(label or f"#{column + 1}") if scan.rows else None,
                    expected=_CLOSE_QUOTE,
                )
        else:
            match = plain.match(text, position)
            assert match is not None  # the pattern matches the empty string
            row.cells.append(match.group())
            row.cell_lines.append(start_line)
            position = match.end()
        if position >= size:
            break
        if text[position] == delimiter:
            position += 1
            continue
        position += 2 if text.startswith("\r\n", position) else 1
        if text[position - 1] == "\n":
            line += 1
        if row.cells != [""] or row.multiline:
            scan.rows.append(row)
        row = CsvRow(line)
    if row.cells != [""]:
        scan.rows.append(row)
    return scan


def check_csv_header(scan: CsvScan, name: str | Path) -> None:
    """Refuse a column named twice in a CSV header (stripped, lower-cased).

    Parameters
    ----------
    scan : CsvScan
        The file as :func:`scan_csv` read it.
    name : str or Path
        The file's name for messages.

    Raises
    ------
    InputError
        Naming the column and both of its positions.
    """
    if not scan.rows:
        return
    header = scan.rows[0]
    seen: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        key = cell.strip().lower()
        if not key:
            continue
        if key in seen:
            raise InputError(
                f"column {cell.strip()!r} appears twice in the header, as column "
                f"{seen[key] + 1} and column {index + 1}",
                file=name,
                line=header.line,
                column=cell.strip(),
                expected="each column once: rename or remove one of them",
            )
        seen[key] = index


def check_csv_scan(
    scan: CsvScan, name: str | Path, *, refuse_controls: bool = False
) -> None:
    """Refuse what no evsynth table may hold, each at its line and column.

    * a column named twice in the header (names compared stripped and
      lower-cased, as the tables read them);
    * a quoted cell that opens and never closes (it runs to the end of the
      file, or over several lines into a row with more or fewer cells than the
      header);
    * a row with more non-empty cells than the header;
    * with ``refuse_controls``, a control character (C0 other than tab and
      line breaks, or DEL) in any cell.

    Parameters
    ----------
    scan : CsvScan
        The file as :func:`scan_csv` read it.
    name : str or Path
        The file's name for messages.
    refuse_controls : bool
        Whether control characters are refused (input tables) or left to the
        caller (search exports remove them and list them).

    Raises
    ------
    InputError
        For the first problem found, in file order.
    """
    if not scan.rows:
        return
    check_csv_header(scan, name)
    width = len(scan.header)
    for row_index, row in enumerate(scan.rows):
        unclosed = scan.unclosed is not None and scan.unclosed[0] == row_index
        if row.multiline and (unclosed or len(row.cells) != width):
            cell = scan.unclosed[1] if unclosed and scan.unclosed else row.multiline[0]
            if unclosed:
                message = "a quoted field opens here and never closes"
            else:
                message = (
                    "a quoted field opens here and never closes: it runs on over "
                    f"{row.cells[cell].count(chr(10)) + 1} lines and leaves the row "
                    f"with {len(row.cells)} cells where the header has {width}"
                )
            raise InputError(
                message,
                file=name,
                line=row.cell_lines[cell],
                column=scan.column(cell) if row_index else None,
                expected=_CLOSE_QUOTE,
            )
        if unclosed:
            raise InputError(
                "a quoted field opens here and never closes",
                file=name,
                line=row.cell_lines[-1],
                column=scan.column(len(row.cells) - 1) if row_index else None,
                expected=_CLOSE_QUOTE,
            )
        if (
            row_index
            and len(row.cells) > width
            and any(c.strip() for c in row.cells[width:])
        ):
            raise InputError(
                f"{len(row.cells)} cells but the header has {width}",
                file=name,
                line=row.line,
                row=row_index,
                expected=f"{width} comma-separated cells",
            )
        if refuse_controls:
            for index, cell in enumerate(row.cells):
                found = CONTROL_CHARS.search(cell)
                if found is None:
                    continue
                raise InputError(
                    f"control character {describe_control(found.group())} in the cell",
                    file=name,
                    line=row.cell_lines[index] + cell.count("\n", 0, found.start()),
                    row=row_index or None,
                    column=scan.column(index) if row_index else None,
                    expected="text without control characters (tabs and line "
                    "breaks are fine)",
                )


def check_csv_file(
    path: str | Path, expected: str, *, refuse_controls: bool = False
) -> CsvScan:
    """Check that a file is a well-formed UTF-8 CSV, before any reader parses it.

    The one gate every CSV reader of evsynth passes (:func:`read_csv_table`,
    and readers that let pandas infer numbers after it): duplicate headers, a
    quoted cell that never closes (named at the line where it opens), rows
    wider than the header, and, with ``refuse_controls``, control characters.

    Parameters
    ----------
    path : str or Path
        The file.
    expected : str
        What the file should hold, for the error message.
    refuse_controls : bool
        Whether a control character in a cell is refused (input tables).

    Returns
    -------
    CsvScan
        The file's rows as scanned.

    Raises
    ------
    InputError
        If the file is missing, not UTF-8, or fails a check; the message names
        the file, the line and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, expected=expected)
    text = decode_utf8(path.read_bytes(), path, f"a CSV saved as UTF-8 with {expected}")
    scan = scan_csv(text, path)
    check_csv_scan(scan, path, refuse_controls=refuse_controls)
    return scan


def read_csv_table(
    path: str | Path, expected: str, *, refuse_controls: bool = False
) -> tuple[pd.DataFrame, list[int]]:
    """Read a CSV file with every cell as text, and the line of every data row.

    Like :func:`read_csv_text`, after the checks of :func:`check_csv_scan`.

    Parameters
    ----------
    path : str or Path
        The file.
    expected : str
        What the file should hold, for the error message.
    refuse_controls : bool
        Whether a control character in a cell is refused (input tables).

    Returns
    -------
    (pandas.DataFrame, list of int)
        The table, and the 1-based line where each of its rows starts.

    Raises
    ------
    InputError
        As :func:`read_csv_text`.
    """
    path = Path(path)
    scan = check_csv_file(path, expected, refuse_controls=refuse_controls)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError:
        raise InputError("empty file", file=path, line=1, expected=expected) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        text = " ".join(str(exc).split())  # pandas' message can span lines
        raise InputError(
            f"cannot be read as CSV: {text}", file=path, expected=expected
        ) from None
    lines = [row.line for row in scan.rows[1:]]
    if len(lines) != len(frame):  # pragma: no cover - pandas skipped other rows
        lines = [index + 2 for index in range(len(frame))]
    return frame, lines


def read_csv_text(path: str | Path, expected: str) -> pd.DataFrame:
    """Read a CSV file with every cell as text (empty cells as ``""``).

    Parameters
    ----------
    path : str or Path
        The file.
    expected : str
        What the file should hold, for the error message (``"a header line:
        record_id, title, ..."``).

    Returns
    -------
    pandas.DataFrame
        The table, column names as written.

    Raises
    ------
    InputError
        If the file is missing, empty (not even a header) or not readable as
        UTF-8 CSV, names a column twice, or has a quoted cell that never
        closes; the message names the file, the line and what was expected.
    """
    return read_csv_table(path, expected)[0]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def guard_formula(value: object) -> object:
    """Neutralise a text cell that a spreadsheet would run as a formula.

    Text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading apostrophe (the OWASP advice for CSV injection). Numbers,
    including negative ones written as text, are left alone.

    Parameters
    ----------
    value : object
        A cell value.

    Returns
    -------
    object
        The value, with an apostrophe in front if it was dangerous text.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _is_number(value)
    ):
        return "'" + value
    return value


#: What marks the name of a file being written (``.effects.csv.partial-x1y2``):
#: one that a killed process left behind is removed by the next ``evsynth run``.
PARTIAL_MARK = ".partial-"


def remove_partial_files(folder: str | Path) -> list[Path]:
    """Remove the half-written files a killed process left in ``folder``.

    Every output is written to a temporary file beside it (:func:`atomic_path`)
    and renamed when complete; a process killed by a signal or a power cut
    leaves the temporary file. Links are neither followed nor removed.

    Parameters
    ----------
    folder : str or Path
        The folder searched, with its subfolders (a review's ``results/``).

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    for parent, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(parent) / name
            if (
                name.startswith(".")
                and PARTIAL_MARK in name
                and not path.is_symlink()
                and path.is_file()
            ):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` only if the block succeeds.

    Parameters
    ----------
    path : str or Path
        The final output path. Its folder is created if needed.

    Yields
    ------
    Path
        A temporary file in the same folder; it is renamed to ``path`` on
        success and removed on failure, so no partial output is ever left.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}{PARTIAL_MARK}", dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_file_mode())  # mkstemp makes 0600; outputs are ordinary files
    try:
        try:
            yield tmp
            tmp.replace(final)
        except OSError as exc:
            if exc.filename is not None or exc.errno is None:
                raise
            # a write's error (a full disk) carries no file name: name the output
            raise OSError(exc.errno, exc.strerror, str(final)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def frame_to_csv(
    frame: pd.DataFrame, path: Path, text_columns: Sequence[str] | None = None
) -> None:
    """Write a table as CSV, text cells guarded against formula injection.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : Path
        Where to write (not atomic: see :func:`write_tables`).
    text_columns : sequence of str, optional
        Columns to guard; by default every column of object or string dtype.
    """
    out = frame.copy()
    if text_columns is None:
        text_columns = [
            c
            for c in out.columns
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c])
        ]
    for column in text_columns:
        values = out[column]
        risky = values.map(
            lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES)
        ).astype(bool)
        if risky.any():
            out.loc[risky, column] = values[risky].map(guard_formula)
    out = out.astype(object).where(out.notna(), None)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([guard_header(c) for c in out.columns])
        writer.writerows(out.itertuples(index=False, name=None))


def write_files(writers: Mapping[Path, Callable[[Path], None]]) -> None:
    """Write several files so that either all of them appear or none does.

    Parameters
    ----------
    writers : mapping of Path to callable
        Output path and a function that writes the file's content to the
        temporary path it is given; called in the mapping's order.
    """
    with contextlib.ExitStack() as stack:
        for final, writer in writers.items():
            writer(stack.enter_context(atomic_path(final)))


def write_tables(
    tables: Mapping[Path, pd.DataFrame],
    *,
    text_columns: Sequence[str] | None = None,
) -> None:
    """Write several CSV tables so that either all of them appear or none does.

    Parameters
    ----------
    tables : mapping of Path to pandas.DataFrame
        Output path and table, written in the mapping's order.
    text_columns : sequence of str, optional
        Columns to guard against formula injection; by default every column
        of object or string dtype.
    """
    with contextlib.ExitStack() as stack:
        for final, frame in tables.items():
            tmp = stack.enter_context(atomic_path(final))
            frame_to_csv(frame, tmp, text_columns)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_FIXED_TIME = datetime(2000, 1, 1)


def guard_header(value: object) -> str:
    """Return a column header as text, guarded like a text cell.

    Parameters
    ----------
    value : object
        The column name.

    Returns
    -------
    str
        The name, with an apostrophe in front if a spreadsheet would run it.
    """
    return str(guard_formula(str(value)))


def guard_sheet_title(title: str) -> str:
    """Return a worksheet name that no spreadsheet reads as a formula.

    Excel does not allow an apostrophe at the start of a sheet name, so the
    dangerous first characters are replaced by ``_`` instead.

    Parameters
    ----------
    title : str
        The sheet name.

    Returns
    -------
    str
        The name, its leading ``= + - @``, tab or carriage return replaced.
    """
    if title.startswith(FORMULA_PREFIXES):
        return "_" + title.lstrip("".join(FORMULA_PREFIXES))
    return title


def guard_workbook(book: Workbook) -> None:
    """Guard every text cell and sheet name of a workbook; drop formula cells.

    The last line of defence before :func:`write_workbook` saves a workbook: a
    text cell (header or data) that a spreadsheet would run as a formula gets a
    leading apostrophe, and a cell openpyxl holds as a formula (``data_type
    "f"``, any string starting with ``=``) becomes that guarded text. Numbers
    stay numbers. evsynth writes no formulas; drop-down lists (data
    validation) are not cells and are kept.

    Parameters
    ----------
    book : openpyxl.Workbook
        The workbook, changed in place.
    """
    for worksheet in book.worksheets:
        safe = guard_sheet_title(worksheet.title)
        if safe != worksheet.title:
            worksheet.title = safe
        # the cells that exist: iter_rows() would add empty cells to gaps
        for cell in list(worksheet._cells.values()):
            value = cell.value
            if cell.data_type == "f" or (
                isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
            ):
                cell.value = guard_formula(str(value))
                if cell.data_type == "f":  # pragma: no cover - defensive
                    cell.data_type = "s"


def write_workbook(book: Workbook, path: Path) -> None:
    """Save an openpyxl workbook so that equal content gives equal bytes.

    openpyxl stamps the time of saving in the workbook's properties and in the
    zip members; both are replaced by a fixed time. Every text cell and sheet
    name is guarded first (:func:`guard_workbook`), so no saved workbook holds
    a formula.

    Parameters
    ----------
    book : openpyxl.Workbook
        The workbook.
    path : Path
        Where to write (not atomic: use inside :func:`write_files`).
    """
    guard_workbook(book)
    book.properties.created = _FIXED_TIME
    book.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(info, content)


def write_frame_xlsx(frame: pd.DataFrame, path: Path, sheet: str = "data") -> None:
    """Write a table as a one-sheet XLSX: bold header, text guarded, byte-stable.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : Path
        Where to write (not atomic: use inside :func:`write_files`).
    sheet : str
        Name of the worksheet.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    worksheet = book.active
    assert worksheet is not None
    worksheet.title = guard_sheet_title(sheet)
    worksheet.append([guard_header(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        worksheet.append([_cell(v) for v in row])
    for index, name in enumerate(frame.columns, start=1):
        letter = get_column_letter(index)
        worksheet[f"{letter}1"].font = Font(bold=True)
        worksheet.column_dimensions[letter].width = max(10, min(40, len(str(name)) + 4))
    worksheet.freeze_panes = "A2"
    book.properties.creator = "evsynth"
    write_workbook(book, path)


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return guard_formula(value)
