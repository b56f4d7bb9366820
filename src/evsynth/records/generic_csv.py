"""Any CSV (or tab-separated) table with bibliographic columns.

Column names are matched without regard to case, with common aliases: for
example ``author``/``authors``/``au``, ``journal``/``source title``/``so``,
``number``/``issue``, ``pages``/``page``. An ``id``, ``record_id`` or ``key``
column gives the record's own id; ``accession`` (or ``an``, ``ut``, ``eid``) its
accession number. Authors may be separated by ``;`` or, as in
BibTeX, by `` and ``; a ``group_authors`` column (as ``records.csv`` has) marks
which of them are groups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from evsynth.records import normalise as nz
from evsynth.records.bibtex import ENTRY_TYPES
from evsynth.records.model import ParsedRecord, ParseResult
from evsynth.records.tables import parse_rows

#: Document types, BibTeX entry types (``ENTRYTYPE``) included.
TYPES: dict[str, str] = {**nz.COMMON_TYPES, **ENTRY_TYPES}

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("record_id", "id", "key"),
    "accession": ("accession", "accession number", "an", "ut", "eid"),
    "title": ("title", "ti", "article title", "document title", "primary title"),
    "authors": ("authors", "author", "au", "author names"),
    "group_authors": ("group_authors", "group authors", "corporate authors", "ca"),
    "year": ("year", "py", "publication year", "date", "pubyear"),
    "journal": (
        "journal",
        "source title",
        "publication title",
        "journal title",
        "secondary title",
        "so",
        "booktitle",
    ),
    "journal_abbrev": (
        "journal_abbrev",
        "journal abbreviation",
        "abbreviated source title",
    ),
    "volume": ("volume", "vl"),
    "issue": ("issue", "number", "is"),
    "pages": ("pages", "page", "pg"),
    "doi": ("doi", "di"),
    "pmid": ("pmid", "pubmed id", "pm"),
    "isbn": ("isbn", "bn"),
    "issn": ("issn", "sn"),
    "type": ("type", "document type", "item type", "entrytype", "ENTRYTYPE"),
    "language": ("language", "la"),
    "keywords": ("keywords", "kw", "author keywords"),
    "url": ("url", "link"),
    "abstract": ("abstract", "ab", "abstract note"),
}


def _get(row: dict[str, str], field: str) -> str:
    for alias in ALIASES[field]:
        value = row.get(alias.lower(), "")
        if value:
            return value
    return ""


def split_authors(value: str, groups: Iterable[str] = ()) -> list[str]:
    """Split an author cell on ``;`` or, failing that, on BibTeX's `` and ``.

    Parameters
    ----------
    value : str
        The cell.
    groups : iterable of str
        Group authors the row names (its ``group_authors`` cell): an ``and``
        inside one of them does not split it.

    Returns
    -------
    list of str
        The names, as written.
    """
    if ";" in value:
        return value.split(";")
    protected = {}
    for number, group in enumerate(g for g in groups if re.search(r"\sand\s", g)):
        token = f"\x00{number}\x00"
        protected[token] = group
        value = value.replace(group, token)
    names = re.split(r"\s+and\s+", value)
    for token, group in protected.items():
        names = [name.replace(token, group) for name in names]
    return names


def _authors(row: dict[str, str]) -> list[str]:
    """Return the row's authors, those its ``group_authors`` cell names marked."""
    groups = [g.strip() for g in _get(row, "group_authors").split(";") if g.strip()]
    names = split_authors(_get(row, "authors"), groups)
    marked = set(groups)
    return [nz.GroupName(n.strip()) if n.strip() in marked else n for n in names]


def to_fields(row: dict[str, str]) -> ParsedRecord:
    """Map one row onto evsynth's fields.

    Parameters
    ----------
    row : dict
        Cells keyed by lower-cased column name.

    Returns
    -------
    ParsedRecord
        Normalised fields and ids (the line is set by the caller).
    """
    own_id = _get(row, "id")
    doi = nz.norm_doi(_get(row, "doi"))
    pmid = nz.norm_pmid(_get(row, "pmid"))
    fields = {
        "title": nz.norm_title(_get(row, "title")),
        **nz.author_fields(_authors(row)),
        "year": nz.norm_year(_get(row, "year")),
        "journal": nz.clean_text(_get(row, "journal")),
        "journal_abbrev": nz.clean_text(_get(row, "journal_abbrev")),
        "volume": nz.clean_text(_get(row, "volume")),
        "issue": nz.clean_text(_get(row, "issue")),
        "pages": nz.norm_pages(_get(row, "pages")),
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials([_get(row, "isbn")]),
        "issn": nz.norm_serials([_get(row, "issn")]),
        "accession": nz.clean_text(_get(row, "accession")),
        "type": nz.norm_type(_get(row, "type"), TYPES),
        "language": nz.norm_language(_get(row, "language")),
        "keywords": nz.join_values(re.split(r"[;,]", _get(row, "keywords"))),
        "url": nz.clean_text(_get(row, "url")),
        "abstract": nz.clean_text(_get(row, "abstract")),
    }
    return ParsedRecord.build(fields, (("id", own_id), ("pmid", pmid), ("doi", doi)))


def parse(text: str, name: str) -> ParseResult:
    """Parse a bibliographic CSV table (see :func:`evsynth.records.tables.parse_rows`)."""
    return parse_rows(text, name, to_fields)
