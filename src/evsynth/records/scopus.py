"""Scopus CSV exports.

Scopus CSV exports (Scopus's own column names: Authors, Title, Year,
Source title, Volume, Issue, Page start, Page end, DOI, Link, Abstract,
Author Keywords, Index Keywords, ISSN, ISBN, PubMed ID,
Language of Original Document, Abbreviated Source Title, Document Type, EID).
"""

from __future__ import annotations

import re

from evsynth.records import normalise as nz
from evsynth.records.model import ParsedRecord, ParseResult
from evsynth.records.tables import parse_rows

_SCOPUS_ID = re.compile(r"\s*\(\d+\)\s*$")


def split_authors(value: str) -> list[str]:
    """Split Scopus's author list (``A H.N.; B S.E.`` or older ``A, H.N., B, S.E.``).

    Parameters
    ----------
    value : str
        The cell.

    Returns
    -------
    list of str
        One author per item.
    """
    if not value or value.strip() == "[No author name available]":
        return []
    if ";" in value:
        return [_SCOPUS_ID.sub("", a).strip() for a in value.split(";") if a.strip()]
    return [a.strip() for a in re.split(r"(?<=\.),\s*", value) if a.strip()]


def to_fields(row: dict[str, str]) -> ParsedRecord:
    """Map one Scopus row onto evsynth's fields.

    Parameters
    ----------
    row : dict
        Cells keyed by lower-cased column name.

    Returns
    -------
    ParsedRecord
        Normalised fields and ids (the line is set by the caller).
    """
    eid = row.get("eid", "")
    doi = nz.norm_doi(row.get("doi"))
    pmid = nz.norm_pmid(row.get("pubmed id"))
    keywords = [
        k
        for column in ("author keywords", "index keywords")
        for k in row.get(column, "").split(";")
    ]
    pages = nz.norm_pages(row.get("page start"), row.get("page end")) or row.get(
        "art. no.", ""
    )
    authors = split_authors(row.get("author full names", "")) or split_authors(
        row.get("authors", "")
    )
    fields = {
        "title": nz.norm_title(row.get("title")),
        **nz.author_fields(authors),
        "year": nz.norm_year(row.get("year")),
        "journal": nz.clean_text(row.get("source title")),
        "journal_abbrev": nz.clean_text(row.get("abbreviated source title")),
        "volume": nz.clean_text(row.get("volume")),
        "issue": nz.clean_text(row.get("issue")),
        "pages": pages,
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials([row.get("isbn")]),
        "issn": nz.norm_serials([row.get("issn")]),
        "accession": eid,
        "type": nz.norm_type(row.get("document type"), nz.COMMON_TYPES),
        "language": nz.norm_language(row.get("language of original document")),
        "keywords": nz.join_values(keywords),
        "url": nz.clean_text(row.get("link")),
        "abstract": ""
        if row.get("abstract", "").startswith("[No abstract available]")
        else nz.clean_text(row.get("abstract")),
    }
    return ParsedRecord.build(fields, (("eid", eid), ("pmid", pmid), ("doi", doi)))


def parse(text: str, name: str) -> ParseResult:
    """Parse a Scopus CSV export (see :func:`evsynth.records.tables.parse_rows`)."""
    return parse_rows(text, name, to_fields)
