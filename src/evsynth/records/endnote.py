"""EndNote XML exports (EndNote, Mendeley), read with lxml.

Values may sit inside ``<style>`` elements (EndNote) or directly in the field
(Mendeley); both are read as the element's whole text.
"""

from __future__ import annotations

import re

from lxml import etree

from evsynth.errors import InputError
from evsynth.records import normalise as nz
from evsynth.records.model import ImportIssue, ParsedRecord, ParseResult

REF_TYPES: dict[str, str] = {
    **nz.COMMON_TYPES,
    "electronic article": "article",
    "magazine article": "article",
    "newspaper article": "article",
    "edited book": "book",
    "electronic book": "book",
    "electronic book section": "chapter",
    "conference proceedings": "conference",
    "conference paper": "conference",
    "government document": "report",
    "unpublished work": "preprint",
    "generic": "other",
    "dataset": "dataset",
    "web page": "web",
    "blog": "web",
}

#: libxml2's messages for a document that stops before its end.
_TRUNCATED = ("Premature end of data", "EndTag: '</' not found", "Couldn't find end")

_ISSN = re.compile(r"^\s*\d{4}-?\d{3}[\dXx]\b")


def _text(node: etree._Element | None) -> str:
    if node is None:
        return ""
    return "".join(node.itertext()).strip()


def to_fields(record: etree._Element) -> ParsedRecord:
    """Map one ``<record>`` element onto evsynth's fields.

    Parameters
    ----------
    record : lxml.etree._Element
        The record.

    Returns
    -------
    ParsedRecord
        Normalised fields and ids (the line is set by the caller).
    """

    def get(*paths: str) -> str:
        for path in paths:
            value = _text(record.find(path))
            if value:
                return value
        return ""

    ref_type = record.find("ref-type")
    kind = nz.norm_type(
        ref_type.get("name", "") if ref_type is not None else "", REF_TYPES
    )
    authors = [_text(a) for a in record.iterfind("contributors/authors/author")]
    if not authors:
        authors = [
            _text(a) for a in record.iterfind("contributors/secondary-authors/author")
        ]
    serials = [s.strip() for s in re.split(r"[\r\n;]+", get("isbn")) if s.strip()]
    issn = [s for s in serials if _ISSN.match(s)]
    isbn = [s for s in serials if s not in issn]
    accession = get("accession-num")
    remote = get("remote-database-name", "remote-database-provider").lower()
    pmid = (
        accession
        if accession.isdigit() and ("pubmed" in remote or "medline" in remote)
        else ""
    )
    doi = nz.norm_doi(get("electronic-resource-num"))
    urls = [_text(u) for u in record.iterfind("urls/related-urls/url")]
    if not doi:
        doi = next((nz.norm_doi(u) for u in urls if nz.norm_doi(u)), "")
    fields = {
        "title": nz.norm_title(get("titles/title")),
        **nz.author_fields(nz.endnote_author(a) for a in authors),
        "year": nz.norm_year(get("dates/year"), get("dates/pub-dates/date")),
        "journal": nz.clean_text(
            get("periodical/full-title", "titles/secondary-title")
        ),
        "journal_abbrev": nz.clean_text(
            get("periodical/abbr-1", "alt-periodical/abbr-1", "titles/alt-title")
        ),
        "volume": nz.clean_text(get("volume")),
        "issue": nz.clean_text(get("number", "issue")),
        "pages": nz.norm_pages(get("pages")),
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials(isbn),
        "issn": nz.norm_serials(issn),
        "accession": nz.clean_text(accession),
        "type": kind,
        "language": nz.norm_language(get("language")),
        "keywords": nz.join_values(
            _text(k) for k in record.iterfind("keywords/keyword")
        ),
        "url": nz.clean_text(urls[0]) if urls else "",
        "abstract": nz.clean_text(get("abstract")),
    }
    return ParsedRecord.build(fields, (("pmid", pmid), ("an", accession), ("doi", doi)))


def parse(text: str, name: str) -> ParseResult:
    """Parse an EndNote XML export.

    A file cut off part-way (a truncated last record) is read up to the cut with
    a warning; any other XML error stops the import with its line.

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
    data = re.sub(r"^<\?xml[^>]*\?>", "", text.lstrip()).encode("utf-8")
    result = ParseResult()
    try:
        root = etree.fromstring(data, etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        at_end = any(m in (exc.msg or "") for m in _TRUNCATED)
        if not at_end:
            raise InputError(
                f"XML error: {exc.msg}",
                file=name,
                line=line,
                expected="well-formed EndNote XML",
            ) from None
        root = etree.fromstring(data, etree.XMLParser(recover=True, huge_tree=True))
        if root is None:
            raise InputError(
                f"XML error: {exc.msg}", file=name, line=line, expected="EndNote XML"
            ) from None
        result.issues.append(
            ImportIssue(
                name,
                line,
                None,
                "",
                "file ends in the middle of the XML (truncated?); records up to "
                "there kept, the last one may be incomplete",
            )
        )
    if root.tag != "xml" and root.find("records") is None and root.tag != "records":
        raise InputError(
            f"root element <{root.tag}>",
            file=name,
            line=root.sourceline,
            expected="<xml><records><record>... (EndNote XML)",
        )
    for element in root.iter("record"):
        record = to_fields(element)
        record.line = element.sourceline or 1
        result.records.append(record)
        stray = (element.tail or "").strip()
        if stray:
            result.issues.append(
                ImportIssue(
                    name,
                    element.sourceline,
                    len(result.records),
                    "",
                    f"text after the record skipped: {stray[:60]!r}",
                )
            )
    return result
