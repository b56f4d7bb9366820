"""Zotero CSV exports.

Zotero CSV exports (Key, Item Type, Publication Year, Author, Title,
Publication Title, ISBN, ISSN, DOI, Url, Abstract Note, Pages, Issue, Volume,
Journal Abbreviation, Language, Extra, Manual Tags, Automatic Tags).
"""

from __future__ import annotations

import re

from evsynth.records import normalise as nz
from evsynth.records.model import ParsedRecord, ParseResult
from evsynth.records.tables import parse_rows

ITEM_TYPES: dict[str, str] = {
    "journalarticle": "article",
    "magazinearticle": "article",
    "newspaperarticle": "article",
    "book": "book",
    "booksection": "chapter",
    "conferencepaper": "conference",
    "thesis": "thesis",
    "report": "report",
    "webpage": "web",
    "blogpost": "web",
    "preprint": "preprint",
    "manuscript": "preprint",
    "dataset": "dataset",
    "document": "other",
}

_PMID = re.compile(r"\bPMID:\s*(\d+)", re.IGNORECASE)


def _authors(cell: str) -> list[str]:
    """Zotero's ``Author`` cell split on ``;``.

    Zotero writes a person ``Family, Given`` and a one-field (institutional)
    name without a comma, so a name of several words without one is a group.
    """
    names = [n.strip() for n in cell.split(";") if n.strip()]
    return [nz.GroupName(n) if "," not in n and " " in n else n for n in names]


def to_fields(row: dict[str, str]) -> ParsedRecord:
    """Map one Zotero CSV row onto evsynth's fields.

    Parameters
    ----------
    row : dict
        Cells keyed by lower-cased column name.

    Returns
    -------
    ParsedRecord
        Normalised fields and ids (the line is set by the caller).
    """
    key = row.get("key", "")
    doi = nz.norm_doi(row.get("doi"))
    match = _PMID.search(row.get("extra", ""))
    pmid = match.group(1) if match else ""
    tags = [
        t
        for column in ("manual tags", "automatic tags")
        for t in row.get(column, "").split(";")
    ]
    fields = {
        "title": nz.norm_title(row.get("title")),
        **nz.author_fields(_authors(row.get("author", ""))),
        "year": nz.norm_year(row.get("publication year"), row.get("date")),
        "journal": nz.clean_text(row.get("publication title")),
        "journal_abbrev": nz.clean_text(row.get("journal abbreviation")),
        "volume": nz.clean_text(row.get("volume")),
        "issue": nz.clean_text(row.get("issue")),
        "pages": nz.norm_pages(row.get("pages")),
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials([row.get("isbn")]),
        "issn": nz.norm_serials([row.get("issn")]),
        "type": nz.norm_type(row.get("item type"), ITEM_TYPES),
        "language": nz.norm_language(row.get("language")),
        "keywords": nz.join_values(tags),
        "url": nz.clean_text(row.get("url")),
        "abstract": nz.clean_text(row.get("abstract note")),
    }
    return ParsedRecord.build(fields, (("key", key), ("pmid", pmid), ("doi", doi)))


def parse(text: str, name: str) -> ParseResult:
    """Parse a Zotero CSV export (see :func:`evsynth.records.tables.parse_rows`)."""
    return parse_rows(text, name, to_fields)
