"""Web of Science exports, plain text and tab-delimited.

Web of Science exports: plain text (``FN``/``VR``/``PT`` ... ``ER``/``EF``) and
tab-delimited (one record per line under a header of the same two-letter tags).

The plain-text reader is rispy's ``WokParser`` with line tracking; both forms
share one mapping onto evsynth's fields.
"""

from __future__ import annotations

import re
from typing import Any

from rispy import WokParser

from evsynth.errors import InputError
from evsynth.records import normalise as nz
from evsynth.records.model import ParsedRecord, ParseResult
from evsynth.records.tables import read_rows
from evsynth.records.tagged import first, parse_in_parts, parse_tagged, values

#: Tags that hold one item per line (plain text) or per "; " (tab-delimited).
LIST_TAGS = ["AU", "AF", "BA", "BF", "CA", "GP", "C1", "C3", "CR", "ED", "BE"]

DOC_TYPES: dict[str, str] = {
    **nz.COMMON_TYPES,
    "j": "article",
    "b": "book",
    "s": "chapter",
    "p": "other",
    "book": "book",
    "early access": "article",
    "data paper": "dataset",
    "biographical-item": "other",
    "news item": "other",
    "book review": "other",
}


#: The tags :func:`to_fields` reads that keep one value (a second is reported).
READ_TAGS = frozenset(
    {
        "PT", "DT", "TI", "SO", "JI", "J9", "PY", "EA", "PD", "VL", "IS", "BP",
        "EP", "AR", "DI", "PM", "UT", "BN", "SN", "EI", "LA", "DE", "ID", "AB",
    }
)  # fmt: skip


class _Tags(dict[str, str]):
    """A tag mapping that names every tag after itself."""

    def __missing__(self, key: str) -> str:
        return key


_TAG = re.compile(r"[A-Z][A-Z0-9]")


class _Parser(WokParser):
    """rispy's Web of Science parser that tells a tag from ordinary text."""

    def parse_line(self, line: str) -> tuple[str, str] | tuple[None, str]:
        """Split a line into its tag and value (``None`` for untagged text)."""
        if line[:1].isspace():  # a continuation, however far indented
            return None, line.strip()
        tag, content = super().parse_line(line)
        if tag is not None and not (_TAG.fullmatch(tag) and line[2:3] in ("", " ")):
            return None, line.strip()
        return tag, content


def _type(raw: dict[str, Any]) -> str:
    document_types = [
        t.strip().lower() for v in values(raw, "DT") for t in v.split(";") if t.strip()
    ]
    for decisive in ("correction", "retraction", "editorial material", "letter"):
        if decisive in document_types:
            return nz.norm_type(decisive, DOC_TYPES)
    for document_type in document_types:
        kind = nz.norm_type(document_type, DOC_TYPES, default="")
        if kind:
            return kind
    return nz.norm_type(first(raw, "PT"), DOC_TYPES)


def _authors(raw: dict[str, Any]) -> list[str]:
    """Return the persons (``AF``, else ``AU``), then the group authors (``CA``).

    Web of Science lists group authors apart from persons, so their place
    among them is not known; they follow the persons. A record with neither
    takes the book's group authors (``GP``).
    """
    persons = values(raw, "AF") or values(raw, "AU")
    groups = values(raw, "CA")
    if not persons and not groups:
        groups = values(raw, "GP")
    return [*persons, *(nz.GroupName(g) for g in groups)]


def to_fields(raw: dict[str, Any]) -> ParsedRecord:
    """Map one Web of Science record (tags as keys) onto evsynth's fields.

    Parameters
    ----------
    raw : dict
        The record's tags and values.

    Returns
    -------
    ParsedRecord
        Normalised fields and ids (the line is set by the caller).
    """
    accession = first(raw, "UT")
    doi = nz.norm_doi(first(raw, "DI"))
    pmid = nz.norm_pmid(first(raw, "PM"))
    keywords = [
        k.strip() for v in values(raw, "DE", "ID") for k in v.split(";") if k.strip()
    ]
    fields = {
        "title": nz.norm_title(first(raw, "TI")),
        **nz.author_fields(_authors(raw)),
        "year": nz.norm_year(first(raw, "PY"), first(raw, "EA"), first(raw, "PD")),
        "journal": nz.clean_text(first(raw, "SO")),
        "journal_abbrev": nz.clean_text(first(raw, "JI", "J9")),
        "volume": nz.clean_text(first(raw, "VL")),
        "issue": nz.clean_text(first(raw, "IS")),
        "pages": nz.norm_pages(first(raw, "BP"), first(raw, "EP")) or first(raw, "AR"),
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials(values(raw, "BN")),
        "issn": nz.norm_serials(values(raw, "SN", "EI")),
        "accession": accession,
        "type": _type(raw),
        "language": nz.norm_language(first(raw, "LA")),
        "keywords": nz.join_values(keywords),
        "abstract": nz.clean_text(first(raw, "AB")),
    }
    return ParsedRecord.build(fields, (("ut", accession), ("pmid", pmid), ("doi", doi)))


def _parse_whole(text: str, name: str) -> ParseResult:
    return parse_tagged(
        _Parser(mapping=_Tags(), list_tags=LIST_TAGS), text, name, to_fields, READ_TAGS
    )


def parse_tab(text: str, name: str) -> ParseResult:
    """Parse a Web of Science tab-delimited export.

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name for messages.

    Returns
    -------
    ParseResult
        Records in file order and the issues met.
    """
    result = ParseResult()
    rows = read_rows(text, name, result.issues, quoted=False)
    for index, (line, row) in enumerate(rows):
        if index == 0 and "ti" not in row:
            raise InputError(
                "no TI column in the header",
                file=name,
                line=1,
                expected="Web of Science tab-delimited tags (PT, AU, TI, SO, ...)",
            )
        raw: dict[str, Any] = {}
        for tag, cell in row.items():
            tag = tag.upper()
            if not cell:
                continue
            raw[tag] = (
                [v.strip() for v in re.split(r";\s*", cell) if v.strip()]
                if tag in LIST_TAGS
                else cell
            )
        record = to_fields(raw)
        record.line = line
        result.records.append(record)
    return result


def parse(text: str, name: str) -> ParseResult:
    """Parse a Web of Science plain-text export, in several processes if it is large.

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name for messages.

    Returns
    -------
    ParseResult
        Records in file order and the issues met.
    """
    return parse_in_parts(text, name, "ER", _parse_whole)
