"""Recognising an export's format from its content."""

from __future__ import annotations

import csv
import io
import re

from evsynth.errors import InputError

#: Formats evsynth reads, with a short description for help texts.
FORMATS: dict[str, str] = {
    "ris": "RIS (Ovid, EBSCO, ProQuest, Scopus, Web of Science, reference managers)",
    "pubmed": "PubMed/MEDLINE format (.nbib, .txt)",
    "bibtex": "BibTeX (.bib)",
    "scopus_csv": "Scopus CSV export",
    "wos": "Web of Science plain text (FN/VR/PT ... ER/EF)",
    "wos_tab": "Web of Science tab-delimited",
    "endnote_xml": "EndNote XML (EndNote, Mendeley)",
    "zotero_csv": "Zotero CSV export",
    "csv": "any CSV with bibliographic columns (title, author, year, ...)",
}

_RIS_TAG = re.compile(r"^[A-Z][A-Z0-9]  - ?", re.MULTILINE)
_PUBMED_PMID = re.compile(r"^PMID- ?\d+", re.MULTILINE)
_BIBTEX_ENTRY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
_WOS_START = re.compile(r"^(?:FN |VR |PT [A-Z])", re.MULTILINE)

SCOPUS_MARKERS = {"eid", "source title", "link"}
ZOTERO_MARKERS = {"key", "item type", "publication year"}
TITLE_COLUMNS = {"title", "ti", "article title", "document title", "primary title"}


def _header(text: str) -> list[str]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        row = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []
    return [cell.strip().lower() for cell in row]


def detect_format(text: str, name: str) -> str:
    """Tell the export format from the file's content.

    Parameters
    ----------
    text : str
        The decoded file.
    name : str
        The file's name, for the error message.

    Returns
    -------
    str
        A key of :data:`FORMATS`.

    Raises
    ------
    InputError
        If the content matches none of the formats.
    """
    head = text[:20000].lstrip()
    if not head:
        raise InputError(
            "the file is empty", file=name, expected="a bibliographic export"
        )
    if head.startswith("<"):
        if "<record" in head and ("<xml" in head or "<records" in head):
            return "endnote_xml"
        raise InputError(
            "XML file that is not an EndNote XML export",
            file=name,
            line=1,
            expected="<xml><records><record>...",
        )
    first_line = head.split("\n", 1)[0]
    if first_line.startswith(("PT\t", "FN\t")):
        return "wos_tab"
    if _WOS_START.match(head) and re.search(r"^ER\s*$", head, re.MULTILINE):
        return "wos"
    if _PUBMED_PMID.search(head):
        return "pubmed"
    if re.search(r"^TY  -", head, re.MULTILINE):
        return "ris"
    if _BIBTEX_ENTRY.search(head):
        return "bibtex"
    header = set(_header(head))
    if header >= SCOPUS_MARKERS or {"eid", "source title"} <= header:
        return "scopus_csv"
    if header >= ZOTERO_MARKERS:
        return "zotero_csv"
    if header & TITLE_COLUMNS:
        return "csv"
    if _RIS_TAG.search(head):
        return "ris"
    raise InputError(
        "format not recognised",
        file=name,
        line=1,
        expected="one of: " + "; ".join(FORMATS.values()),
    )
