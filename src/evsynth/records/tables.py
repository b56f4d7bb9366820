"""Reading CSV exports row by row with the line where each row starts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from evsynth.errors import InputError
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
        Receives a warning for a truncated last row.
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
        For a row with more cells than the header, a short row before the
        last one, or a quote left open before the end of the file.
    """
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(
        io.StringIO(text),
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
    )
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    open_quote = quoted and text.count('"') % 2 == 1
    rows: list[tuple[int, list[str]]] = []
    start = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append((start, row))
        start = reader.line_num + 1
    for index, (line, row) in enumerate(rows):
        is_last = index == len(rows) - 1
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            raise InputError(
                f"{len(row)} cells but the header has {len(header)}",
                file=name,
                line=line,
                expected=f"{len(header)} {'tab' if delimiter == chr(9) else 'comma'}"
                "-separated cells",
            )
        if is_last and open_quote:
            if len(row) >= len(header):
                raise InputError(
                    "a quote opened in this record is never closed",
                    file=name,
                    line=line,
                    expected='each quoted cell to end with "',
                )
            issues.append(
                ImportIssue(
                    name,
                    line,
                    index + 1,
                    header[len(row) - 1] if row else "",
                    f"last record has {len(row)} of {len(header)} cells "
                    "(file truncated?); kept as it is",
                )
            )
        elif len(row) < len(header):
            if not is_last:
                raise InputError(
                    f"{len(row)} cells but the header has {len(header)}",
                    file=name,
                    line=line,
                    expected=f"{len(header)} cells",
                )
            issues.append(
                ImportIssue(
                    name,
                    line,
                    index + 1,
                    "",
                    f"last record has {len(row)} of {len(header)} cells "
                    "(file truncated?); kept as it is",
                )
            )
        yield line, {h: c.strip() for h, c in zip(header, row, strict=False) if h}


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
