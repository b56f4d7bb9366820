"""RIS exports (Ovid, EBSCO, ProQuest, Scopus, Web of Science, Zotero, EndNote...).

Tags are mapped with rispy; variants are folded together: ``TI``/``T1`` for the
title, ``T2``/``JF``/``JO``/``JA``/``J2`` for the journal, ``PY``/``Y1``/``DA`` for
the year, ``SP``/``EP`` for pages, repeated ``AU``/``A1`` for authors (every one
kept, in order; a corporate name EndNote marks with a trailing comma, or one that
reads as a group, is also listed in ``group_authors``) and ``KW`` for keywords.
DOIs are kept as written.
"""

from __future__ import annotations

import re
from typing import Any

from rispy import RisParser

from evsynth.records import normalise as nz
from evsynth.records.model import ParsedRecord, ParseResult
from evsynth.records.tagged import first, parse_in_parts, parse_tagged, values

RIS_TYPES: dict[str, str] = {
    **nz.COMMON_TYPES,
    "jour": "article",
    "ejour": "article",
    "mgzn": "article",
    "news": "article",
    "jfull": "article",
    "inpr": "article",
    "abst": "conference",
    "conf": "conference",
    "cpaper": "conference",
    "book": "book",
    "ebook": "book",
    "edbook": "book",
    "chap": "chapter",
    "echap": "chapter",
    "thes": "thesis",
    "rprt": "report",
    "govdoc": "report",
    "pamp": "report",
    "elec": "web",
    "blog": "web",
    "icomm": "web",
    "unpb": "preprint",
    "data": "dataset",
    "dbase": "dataset",
    "gen": "other",
}

_ISSN = re.compile(r"\b\d{4}-?\d{3}[\dXx]\b")
_PMID_NOTE = re.compile(r"\bPMID:?\s*(\d{5,9})\b", re.IGNORECASE)


class _Parser(RisParser):
    """rispy's RIS parser with ``BT`` (book title) and ``ID`` kept."""

    DEFAULT_MAPPING = {**RisParser.DEFAULT_MAPPING, "BT": "book_title"}  # noqa: RUF012
    DEFAULT_LIST_TAGS = [*RisParser.DEFAULT_LIST_TAGS, "SN"]  # noqa: RUF012


#: The rispy keys :func:`to_fields` reads (a second value of one is reported).
READ_KEYS = frozenset(
    {
        "type_of_reference", "secondary_title", "alternate_title3", "journal_name",
        "book_title", "alternate_title2", "alternate_title1", "note",
        "accession_number", "doi", "custom7", "id", "title", "primary_title",
        "short_title", "year", "publication_year", "date", "volume", "number",
        "start_page", "end_page", "language", "abstract", "notes_abstract",
        "name_of_database", "database_provider", "research_notes",
    }
)  # fmt: skip


def _pmid(raw: dict[str, Any]) -> str:
    for note in values(raw, "notes", "note", "research_notes"):
        match = _PMID_NOTE.search(note)
        if match:
            return match.group(1)
    accession = first(raw, "accession_number")
    source = " ".join(values(raw, "name_of_database", "database_provider")).lower()
    if accession.isdigit() and ("medline" in source or "pubmed" in source):
        return accession
    return ""


def _doi(raw: dict[str, Any]) -> str:
    for candidate in (
        first(raw, "doi"),
        *values(raw, "urls"),
        *values(raw, "notes", "note", "custom7", "id"),
    ):
        doi = nz.norm_doi(candidate)
        if doi:
            return doi
    return ""


def _authors(raw: dict[str, Any]) -> list[str]:
    """``AU`` then ``A1`` names, as written (one list if an export writes both alike).

    A name EndNote marks as corporate (``Name of Body,``) is a group author.
    """
    authors, first_authors = values(raw, "authors"), values(raw, "first_authors")
    names = authors if authors == first_authors else [*authors, *first_authors]
    return [nz.endnote_author(name) for name in names]


def to_fields(raw: dict[str, Any]) -> ParsedRecord:
    """Map rispy's dictionary of one record onto evsynth's fields.

    Parameters
    ----------
    raw : dict
        One record as rispy names its tags.

    Returns
    -------
    ParsedRecord
        Normalised fields and the record's own ids (the line is set by the caller).
    """
    kind = nz.norm_type(first(raw, "type_of_reference"), RIS_TYPES)
    serial = values(raw, "issn")
    issn = [s for s in serial if _ISSN.search(s) and kind not in {"book", "chapter"}]
    isbn = [s for s in serial if s not in issn]
    journal_full = first(raw, "secondary_title", "alternate_title3", "journal_name")
    if kind == "chapter":
        journal_full = first(raw, "secondary_title", "book_title") or journal_full
    abbrev = first(raw, "alternate_title2", "alternate_title1")
    if not abbrev and first(raw, "alternate_title3", "secondary_title"):
        journal_name = first(raw, "journal_name")
        abbrev = journal_name if journal_name != journal_full else ""
    doi = _doi(raw)
    pmid = _pmid(raw)
    accession = first(raw, "accession_number")
    fields = {
        "title": nz.norm_title(first(raw, "title", "primary_title", "short_title")),
        **nz.author_fields(_authors(raw)),
        "year": nz.norm_year(
            first(raw, "year"), first(raw, "publication_year"), first(raw, "date")
        ),
        "journal": nz.clean_text(journal_full),
        "journal_abbrev": nz.clean_text(abbrev),
        "volume": nz.clean_text(first(raw, "volume")),
        "issue": nz.clean_text(first(raw, "number")),
        "pages": nz.norm_pages(first(raw, "start_page"), first(raw, "end_page")),
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials(isbn),
        "issn": nz.norm_serials(issn),
        "accession": nz.clean_text(accession),
        "type": kind,
        "language": nz.norm_language(first(raw, "language")),
        "keywords": nz.join_values(values(raw, "keywords")),
        "url": first(raw, "urls"),
        "abstract": nz.clean_text(first(raw, "abstract", "notes_abstract")),
    }
    return ParsedRecord.build(fields, (("pmid", pmid), ("an", accession), ("doi", doi)))


def _parse_whole(text: str, name: str) -> ParseResult:
    return parse_tagged(_Parser(), text, name, to_fields, READ_KEYS)


def parse(text: str, name: str) -> ParseResult:
    """Parse a RIS export, in several processes if it is large.

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
