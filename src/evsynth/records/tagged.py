"""Line-tracking record scanner for tagged formats (RIS, Web of Science).

rispy's parsers map tags to names, handle list tags and multi-line values, but
they drop a record whose end tag is missing, miss a first record behind a
byte-order mark, and know no line numbers. :func:`scan` keeps rispy's tag
handling (``RisParser._add_tag``) and adds what an import must account for:
the line where each record starts, a warning for every line it passes over,
and an error for a record that does not start where it should.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Collection
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from rispy import RisParser, WokParser

from evsynth.errors import InputError
from evsynth.records.model import ImportIssue, ParsedRecord, ParseResult

#: A RIS tag line written loosely: ``TI - x``, ``TI- x``, ``TI   - x``, ``ti  - x``
#: (RIS writes ``TI  - x``: the tag, two spaces, a hyphen and a space).
_LOOSE_RIS_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9])([ \t]{0,4})-(?:[ \t](.*))?$")


def _loose_ris_tag(line: str) -> tuple[str, str] | None:
    """Return the tag and value of a loosely written RIS tag line, or None.

    A tag in small letters is read only with RIS's own spacing (``ti  - x``),
    so that prose such as ``to - and`` on a continuation line stays prose.
    """
    if "-" not in line[2:8]:  # most continuation lines: no regular expression
        return None
    match = _LOOSE_RIS_TAG.match(line)
    if match is None:
        return None
    tag, gap, value = match.groups()
    if not tag.isupper() and (gap != "  " or value is None):
        return None
    return tag.upper(), (value or "").strip()


def scan(
    parser: RisParser,
    text: str,
    name: str,
    read_keys: Collection[str] | None = None,
) -> tuple[list[tuple[dict[str, Any], int]], list[ImportIssue]]:
    """Split a tagged export into records with rispy's tag mapping.

    The loop applies rispy's rules for adding a tag (``RisParser._add_tag``
    with ``enforce_list_tags=True``: list tags collect every value, other tags
    keep the first, untagged lines continue the previous value, unknown tags
    go under ``unknown_tag``) inline, because calling rispy's methods for each
    of millions of lines doubles the time of a large import.

    Parameters
    ----------
    parser : rispy.RisParser
        A configured parser (``RisParser`` or ``WokParser``); its ``START_TAG``,
        ``END_TAG``, ``ignore`` list, tag mapping, list tags and delimiters are
        used. For a ``WokParser`` its ``parse_line`` splits each line; it must
        return ``(None, text)`` for a line without a tag.
    text : str
        The decoded export.
    name : str
        File name for messages.
    read_keys : collection of str, optional
        The keys whose values are read: a second value of one of them, which
        is not a list tag, is skipped with an issue (None: every key's). Other
        tags that repeat (``AD``, one address per author) are not reported.

    Returns
    -------
    records : list of (dict, int)
        rispy's dictionary for each record and the 1-based line where it starts.
    issues : list of ImportIssue
        Lines passed over, lines repaired (a RIS tag line with other spacing
        than ``TI  - ``, read as its tag; a Web of Science line that is neither
        a tag line nor indented, read as a continuation), second values of a
        tag that keeps one, and records closed without an end tag. An untagged
        line inside a RIS record continues the previous tag's value (a new item
        for list tags such as authors), as EndNote and Ovid write them.

    Raises
    ------
    InputError
        If a tag appears outside a record (the start tag is missing).
    """
    start, end = parser.START_TAG, parser.END_TAG
    ignore = frozenset(parser.ignore)
    mapping = parser.mapping
    list_tags = frozenset(parser.list_tags)
    delimiters = parser.delimiter_map
    unknown_key = parser.mapping.get(parser.UNKNOWN_TAG, "unknown_tag")
    ris_lines = not isinstance(parser, WokParser)
    split_line = parser.parse_line
    # tag -> (key or None for an unknown tag, is a list tag, delimiter)
    actions: dict[str, tuple[str | None, bool, str | None]] = {}
    records: list[tuple[dict[str, Any], int]] = []
    issues: list[ImportIssue] = []
    record: dict[str, Any] | None = None
    record_line = 0
    last_tag: str | None = None

    for number, line in enumerate(text.split("\n"), start=1):
        if ris_lines:
            if (
                line.startswith("  -", 2)
                and "A" <= line[0] <= "Z"
                and ("A" <= line[1] <= "Z" or "0" <= line[1] <= "9")
            ):
                tag: str | None = line[:2]
                content = line[5:].strip()
            else:
                content = line.strip()
                if not content:
                    continue
                tag = None
                loose = _loose_ris_tag(line)
                if loose is not None and (record is not None or loose[0] == start):
                    tag, content = loose
                    issues.append(
                        ImportIssue(
                            name,
                            number,
                            len(records) + 1,
                            tag,
                            f"tag line starts {line[: line.index('-') + 1]!r}, not "
                            f"'{tag}  -'; read as the tag '{tag}'",
                        )
                    )
        else:
            if not line or line.isspace():
                continue
            tag, content = split_line(line)
            if tag is None and record is not None and not line[0].isspace():
                issues.append(
                    ImportIssue(
                        name,
                        number,
                        len(records) + 1,
                        last_tag or "",
                        "line is neither a tag line nor an indented continuation "
                        f"({line.strip()[:40]!r}); read as a continuation of "
                        f"'{last_tag}'",
                    )
                )
        if record is None:
            if tag == start:
                record = {mapping[start]: content}
                record_line, last_tag = number, start
            elif tag is None:
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
            elif tag not in ignore:
                raise InputError(
                    f"tag '{tag}' outside a record",
                    file=name,
                    line=number,
                    column=tag,
                    expected=f"a record to start with '{start}'",
                )
            continue
        continued = tag is None
        if continued:
            tag = last_tag
        elif tag == end:
            records.append((record, record_line))
            record, last_tag = None, None
            continue
        elif tag == start:
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
            records.append((record, record_line))
            record = {mapping[start]: content}
            record_line, last_tag = number, start
            continue
        elif tag in ignore:
            continue
        else:
            last_tag = tag
        assert tag is not None
        action = actions.get(tag)
        if action is None:
            try:
                action = (mapping[tag], tag in list_tags, delimiters.get(tag))
            except KeyError:
                action = (None, False, None)
            actions[tag] = action
        key, is_list, delimiter = action
        if key is None:
            record.setdefault(unknown_key, {}).setdefault(tag, []).append(content)
            continue
        if delimiter:
            items = [part.strip() for part in content.split(delimiter)]
            if is_list:
                if key in record:
                    record[key].extend(items)
                else:
                    record[key] = items
                continue
            value: str | list[str] = items
        else:
            value = content
        if is_list:
            if key in record:
                record[key].append(value)
            else:
                record[key] = [value]
        elif key not in record:
            record[key] = value
        elif continued:
            previous = record[key]
            if isinstance(previous, list):
                previous.extend(value if isinstance(value, list) else [value])
            else:
                record[key] = f"{previous} {value}"
        elif value and (read_keys is None or key in read_keys):
            issues.append(
                ImportIssue(
                    name,
                    number,
                    len(records) + 1,
                    tag,
                    f"'{tag}' given twice in the record; the first value kept, "
                    f"this one skipped: {str(value)[:60]!r}",
                )
            )
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
        records.append((record, record_line))
    return records, issues


def first(record: dict[str, Any], *keys: str) -> str:
    """Return the first non-empty value among rispy keys (lists give their first item)."""
    for key in keys:
        value = record.get(key)
        if not value:
            continue
        if isinstance(value, list):
            for item in value:
                if item:
                    item = str(item).strip()
                    if item:
                        return item
        else:
            value = str(value).strip()
            if value:
                return value
    return ""


def values(record: dict[str, Any], *keys: str) -> list[str]:
    """Return every value of the given rispy keys, lists flattened, in order."""
    out: list[str] = []
    for key in keys:
        value = record.get(key)
        if not value:
            continue
        for item in value if isinstance(value, list) else (value,):
            if item:
                item = str(item).strip()
                if item:
                    out.append(item)
    return out


def parse_tagged(
    parser: RisParser,
    text: str,
    name: str,
    to_fields: Callable[[dict[str, Any]], ParsedRecord],
    read_keys: Collection[str] | None = None,
) -> ParseResult:
    """Scan a tagged export and map each record onto evsynth's fields.

    Parameters
    ----------
    parser : rispy.RisParser
        The configured parser (see :func:`scan`).
    text : str
        The decoded file.
    name : str
        The file's name for messages.
    to_fields : callable
        Maps one record's rispy dictionary onto a record.
    read_keys : collection of str, optional
        The keys ``to_fields`` reads (see :func:`scan`).

    Returns
    -------
    ParseResult
        Records in file order and the issues met.
    """
    raw_records, issues = scan(parser, text, name, read_keys)
    records = []
    for raw, line in raw_records:
        record = to_fields(raw)
        record.line = line
        records.append(record)
    return ParseResult(records, issues)


#: Files larger than this are parsed in several processes.
PARALLEL_MIN_CHARS = 8_000_000


def _workers() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, min(os.cpu_count() or 1, 8))


def split_at_end_tags(text: str, end: str, parts: int) -> list[tuple[str, int]]:
    """Cut a tagged export into about ``parts`` pieces just after end-tag lines.

    Parameters
    ----------
    text : str
        The decoded export.
    end : str
        The end tag (``ER``).
    parts : int
        Number of pieces wanted.

    Returns
    -------
    list of (str, int)
        Each piece and the number of lines before it in the file.
    """
    pieces: list[tuple[str, int]] = []
    begin, lines_before = 0, 0
    pattern = re.compile(rf"^{end}\b.*$", re.MULTILINE)
    for k in range(1, parts):
        target = max(begin, len(text) * k // parts)
        match = pattern.search(text, target)
        if match is None:
            break
        cut = match.end() + 1
        piece = text[begin:cut]
        pieces.append((piece, lines_before))
        lines_before += piece.count("\n")
        begin = cut
    pieces.append((text[begin:], lines_before))
    return [p for p in pieces if p[0].strip()]


_Packed = tuple[list[tuple[int, dict[str, str], list[tuple[str, str]]]], list[tuple]]


def _parse_packed(
    parse_part: Callable[[str, str], ParseResult], text: str, name: str
) -> _Packed:
    """Parse a piece in a worker and return plain tuples, which pickle fast."""
    result = parse_part(text, name)
    return (
        [(r.line, r.fields, r.source_ids) for r in result.records],
        [(i.file, i.line, i.record, i.field, i.message) for i in result.issues],
    )


def _unpack(packed: _Packed) -> ParseResult:
    records, issues = packed
    return ParseResult(
        [ParsedRecord(line, fields, ids) for line, fields, ids in records],
        [ImportIssue(*issue) for issue in issues],
    )


def parse_in_parts(
    text: str,
    name: str,
    end: str,
    parse_part: Callable[[str, str], ParseResult],
) -> ParseResult:
    """Parse a large tagged export in several processes, one piece each.

    Pieces are cut after end-tag lines, so each holds whole records; line
    numbers and record positions are shifted back to the whole file's, and the
    result is the same as parsing the file in one go.

    Parameters
    ----------
    text : str
        The decoded export.
    name : str
        The file's name for messages.
    end : str
        The end tag.
    parse_part : callable
        A module-level function ``(text, name) -> ParseResult``.

    Returns
    -------
    ParseResult
        Records and issues of the whole file, in file order.
    """
    workers = _workers()
    if len(text) < PARALLEL_MIN_CHARS or workers == 1:
        return parse_part(text, name)
    pieces = split_at_end_tags(text, end, workers)
    if len(pieces) == 1:
        return parse_part(text, name)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(pieces), mp_context=context) as pool:
        packed = list(
            pool.map(
                _parse_packed,
                [parse_part] * len(pieces),
                [p for p, _ in pieces],
                [name] * len(pieces),
            )
        )
    results = [_unpack(p) for p in packed]
    merged = ParseResult()
    for (_, offset), part in zip(pieces, results, strict=True):
        shift = len(merged.records)
        for record in part.records:
            record.line += offset
        for issue in part.issues:
            if issue.line is not None:
                issue.line += offset
            if issue.record is not None:
                issue.record += shift
        merged.records.extend(part.records)
        merged.issues.extend(part.issues)
    return merged
