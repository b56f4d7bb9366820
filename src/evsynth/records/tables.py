"""Reading CSV exports row by row with the line where each row starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from evsynth.errors import InputError
from evsynth.io import (
    CONTROL_CHARS,
    check_csv_header,
    describe_control,
    scan_csv,
)
from evsynth.records.model import ImportIssue, ParsedRecord, ParseResult


def read_rows(
    text: str, name: str, issues: list[ImportIssue], *, quoted: bool = True
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield each data row of a CSV export as a dict keyed by lower-cased header.

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name for messages.
    issues : list of ImportIssue
        Receives a warning for a truncated last row, a row of empty cells
        skipped (a blank line is not reported) and each cell's control
        characters removed.
    quoted : bool
        Whether cells may be quoted (CSV); Web of Science's tab-delimited files
        are not, and a quote there is an ordinary character.

    Yields
    ------
    (int, dict)
        The 1-based line where the row starts and its cells (stripped).

    Raises
    ------
    InputError
        For a column named twice in the header, a row with more cells than the
        header, a short row before the last one, or a quote opened by mistake
        (at the line where it opens).

    Notes
    -----
    Control characters (C0 other than tab and line breaks, and DEL) are
    removed from the cells, each cell's removal listed in ``issues``. A last
    record whose quoted cell runs to the end of the file is kept, with an
    issue, as a truncated file; unless the cell holds lines that look like
    whole rows (a stray quote swallowing the records after it).
    """
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    separated = f"{'tab' if delimiter == chr(9) else 'comma'}-separated cells"
    scan = scan_csv(text, name, delimiter=delimiter, quoting=quoted)
    if not scan.rows:
        return
    check_csv_header(scan, name)
    header = [h.strip().lower() for h in scan.header]
    width = len(header)
    unclosed = scan.rows[scan.unclosed[0]] if scan.unclosed else None
    rows = []
    for row in scan.rows[1:]:
        if any(c.strip() for c in row.cells):
            rows.append(row)
        elif len(row.cells) > 1:  # delimiters, no values
            issues.append(
                ImportIssue(
                    name,
                    row.line,
                    None,
                    "",
                    "row of empty cells skipped",
                )
            )
    for index, row in enumerate(rows):
        cells = row.cells
        is_last = index == len(rows) - 1
        if row is unclosed or (row.multiline and len(cells) != width and not is_last):
            cell = scan.unclosed[1] if row is unclosed and scan.unclosed else None
            cell = row.multiline[0] if cell is None else cell
            if (
                row is not unclosed
                or len(cells) >= width
                or _swallows_rows(cells[cell], delimiter, width)
            ):
                raise InputError(
                    "a quoted field opens here and never closes"
                    + (
                        ""
                        if row is unclosed
                        else f": the record has {len(cells)} "
                        f"cells where the header has {width}"
                    ),
                    file=name,
                    line=row.cell_lines[cell],
                    column=scan.column(cell),
                    expected='a closing " at the end of the quoted field (a " '
                    'inside one is written "")',
                )
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            raise InputError(
                f"{len(cells)} cells but the header has {width}",
                file=name,
                line=row.line,
                expected=f"{width} {separated}",
            )
        if row is unclosed or len(cells) < width:
            if not is_last:
                raise InputError(
                    f"{len(cells)} cells but the header has {width}",
                    file=name,
                    line=row.line,
                    expected=f"{width} cells",
                )
            issues.append(
                ImportIssue(
                    name,
                    row.line,
                    index + 1,
                    header[len(cells) - 1] if row is unclosed and cells else "",
                    f"last record has {len(cells)} of {width} cells "
                    "(file truncated?); kept as it is",
                )
            )
        record: dict[str, str] = {}
        for column, cell, line in zip(header, cells, row.cell_lines, strict=False):
            if not column:
                continue
            found = CONTROL_CHARS.search(cell)
            if found is not None:
                chars = sorted(set(CONTROL_CHARS.findall(cell)))
                issues.append(
                    ImportIssue(
                        name,
                        line + cell.count("\n", 0, found.start()),
                        index + 1,
                        column,
                        "removed control character(s) "
                        + ", ".join(describe_control(c) for c in chars),
                    )
                )
                cell = CONTROL_CHARS.sub("", cell)
            record[column] = cell.strip()
        yield row.line, record


def _swallows_rows(value: str, delimiter: str, width: int) -> bool:
    """Whether a quoted cell holds lines that look like whole rows of the table.

    A quote opened by mistake runs on over the rows after it; a file cut off
    in its last cell does not.
    """
    if width < 3:
        return False
    return any(line.count(delimiter) >= width - 1 for line in value.split("\n")[1:])


def parse_rows(
    text: str, name: str, to_fields: Callable[[dict[str, str]], ParsedRecord]
) -> ParseResult:
    """Parse a CSV export with a row-to-record mapping.

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name for messages.
    to_fields : callable
        Maps a row (cells keyed by lower-cased column name) onto a record.

    Returns
    -------
    ParseResult
        Records in file order and the issues met.
    """
    result = ParseResult()
    for line, row in read_rows(text, name, result.issues):
        record = to_fields(row)
        record.line = line
        result.records.append(record)
    return result


#: Formats read by :func:`read_rows`, which removes control characters per cell.
TABLE_FORMATS = ("scopus_csv", "zotero_csv", "csv", "wos_tab")


def remove_controls(text: str, name: str) -> tuple[str, list[ImportIssue]]:
    """Remove control characters from an export that is not a table.

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name for messages.

    Returns
    -------
    (str, list of ImportIssue)
        The text without C0 control characters (other than tab and line
        breaks) and DEL, and one issue per line they were removed from.
    """
    if CONTROL_CHARS.search(text) is None:
        return text, []
    issues: list[ImportIssue] = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        chars = sorted(set(CONTROL_CHARS.findall(line)))
        if chars:
            tag = line[:4].strip() if line[:2].isalnum() and line[:2].isupper() else ""
            issues.append(
                ImportIssue(
                    name,
                    number,
                    None,
                    tag.rstrip("-").strip(),
                    "removed control character(s) "
                    + ", ".join(describe_control(c) for c in chars),
                )
            )
    return CONTROL_CHARS.sub("", text), issues
