"""Deterministic, atomic and spreadsheet-safe table output."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evsynth.errors import InputError

if TYPE_CHECKING:
    from openpyxl import Workbook

#: Cells starting with one of these are read as formulas by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _file_mode() -> int:
    """Mode for new output files: read-write for all, less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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
        UTF-8 CSV; the message names the file and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, expected=expected)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError("empty file", file=path, line=1, expected=expected) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        text = " ".join(str(exc).split())  # pandas' message can span lines
        raise InputError(
            f"cannot be read as CSV: {text}", file=path, expected=expected
        ) from None


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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_file_mode())  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield tmp
        tmp.replace(final)
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
        writer.writerow(out.columns)
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


def write_workbook(book: Workbook, path: Path) -> None:
    """Save an openpyxl workbook so that equal content gives equal bytes.

    openpyxl stamps the time of saving in the workbook's properties and in the
    zip members; both are replaced by a fixed time.

    Parameters
    ----------
    book : openpyxl.Workbook
        The workbook.
    path : Path
        Where to write (not atomic: use inside :func:`write_files`).
    """
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
    worksheet.title = sheet
    worksheet.append([str(c) for c in frame.columns])
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
