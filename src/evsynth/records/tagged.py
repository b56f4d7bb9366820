"""Line-tracking record scanner for tagged formats (RIS, Web of Science).

rispy's parsers map tags to names, handle list tags and multi-line values, but
they drop a record whose end tag is missing, miss a first record behind a
byte-order mark, and know no line numbers. :func:`scan` keeps rispy's tag
handling (``RisParser._add_tag``) and adds what an import must account for:
the line where each record starts, a warning for every line it passes over,
and an error for a record that does not start where it should.
"""

from __future__ import annotations

import re
from typing import Any

from rispy import RisParser

from evsynth.errors import InputError
from evsynth.records.model import ImportIssue

_TAG = re.compile(r"[A-Z][A-Z0-9]")


def scan(
    parser: RisParser,
    text: str,
    name: str,
) -> tuple[list[tuple[dict[str, Any], int]], list[ImportIssue]]:
    """Split a tagged export into records with rispy's tag mapping.

    Parameters
    ----------
    parser : rispy.RisParser
        A configured parser (``RisParser`` or ``WokParser``); its ``START_TAG``,
        ``END_TAG``, ``ignore`` list, ``parse_line`` and tag mapping are used.
    text : str
        The decoded export.
    name : str
        File name for messages.

    Returns
    -------
    records : list of (dict, int)
        rispy's dictionary for each record and the 1-based line where it starts.
    issues : list of ImportIssue
        Lines passed over and records closed without an end tag. An untagged
        line inside a record continues the previous tag's value (a new item
        for list tags such as authors), as EndNote, Ovid and Web of Science
        write them.

    Raises
    ------
    InputError
        If a tag appears outside a record (the start tag is missing).
    """
    start, end = parser.START_TAG, parser.END_TAG
    ignore = set(parser.ignore)
    records: list[tuple[dict[str, Any], int]] = []
    issues: list[ImportIssue] = []
    record: dict[str, Any] | None = None
    record_line = 0
    last_tag: str | None = None

    def close(record: dict[str, Any], line: int) -> None:
        records.append((record, line))

    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        tag, content = parser.parse_line(line)
        if tag is not None and not _TAG.fullmatch(tag):
            tag, content = None, line.strip()
        if record is None:
            if tag == start:
                record = {parser.mapping[start]: content}
                record_line, last_tag = number, start
            elif tag is None or tag in ignore:
                if tag is None:
                    issues.append(
                        ImportIssue(
                            name,
                            number,
                            None,
                            "",
                            f"text outside a record skipped: {line.strip()[:60]!r}",
                        )
                    )
            elif tag == end:
                issues.append(
                    ImportIssue(
                        name, number, None, end, "end tag without a record skipped"
                    )
                )
            else:
                raise InputError(
                    f"tag '{tag}' outside a record",
                    file=name,
                    line=number,
                    column=tag,
                    expected=f"a record to start with '{start}'",
                )
            continue
        if tag is None:
            if last_tag is None:
                issues.append(
                    ImportIssue(
                        name,
                        number,
                        len(records) + 1,
                        last_tag or "",
                        f"line without a tag skipped: {content[:60]!r}",
                    )
                )
                continue
            parser._add_tag(record, last_tag, content, extend_multiline=True)
            continue
        if tag in ignore:
            continue
        if tag == end:
            close(record, record_line)
            record, last_tag = None, None
            continue
        if tag == start:
            issues.append(
                ImportIssue(
                    name,
                    number,
                    len(records) + 1,
                    end,
                    f"record starting on line {record_line} has no '{end}' line; "
                    "closed at the next record",
                )
            )
            close(record, record_line)
            record = {parser.mapping[start]: content}
            record_line, last_tag = number, start
            continue
        parser._add_tag(record, tag, content)
        last_tag = tag
    if record is not None:
        issues.append(
            ImportIssue(
                name,
                record_line,
                len(records) + 1,
                end,
                f"last record has no '{end}' line (file truncated?); kept as it is",
            )
        )
        close(record, record_line)
    return records, issues


def first(record: dict[str, Any], *keys: str) -> str:
    """Return the first non-empty value among rispy keys (lists give their first item)."""
    for key in keys:
        value = record.get(key)
        if isinstance(value, list):
            value = next((v for v in value if v and str(v).strip()), "")
        if value and str(value).strip():
            return str(value).strip()
    return ""


def values(record: dict[str, Any], *keys: str) -> list[str]:
    """Return every value of the given rispy keys, lists flattened, in order."""
    out: list[str] = []
    for key in keys:
        value = record.get(key)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        out.extend(str(v).strip() for v in items if v and str(v).strip())
    return out
