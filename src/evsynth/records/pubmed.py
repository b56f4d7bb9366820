"""PubMed/MEDLINE format (``.nbib``, PubMed's "Save > PubMed format").

Tags are four characters wide (``TI  - ``, ``FAU - ``, ``PMID- ``), values run
on over lines indented by six spaces, and a blank line ends a record. Full
author names (``FAU``) are preferred to short ones (``AU``); the DOI comes from
``LID`` or ``AID`` lines marked ``[doi]``.
"""

from __future__ import annotations

import re

from evsynth.records import normalise as nz
from evsynth.records.model import ImportIssue, ParsedRecord, ParseResult

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9 ]{1,3})- ?(.*)$")

#: Publication types that make a record something other than an article, most
#: decisive first (an erratum that is also a "Journal Article" is an erratum).
PUBLICATION_TYPES: tuple[tuple[str, str], ...] = (
    ("published erratum", "erratum"),
    ("retraction of publication", "retraction"),
    ("expression of concern", "comment"),
    ("comment", "comment"),
    ("editorial", "editorial"),
    ("letter", "letter"),
    ("preprint", "preprint"),
    ("systematic review", "review"),
    ("meta-analysis", "review"),
    ("review", "review"),
    ("congress", "conference"),
    ("dataset", "dataset"),
)


def _type(publication_types: list[str], is_book: bool) -> str:
    lowered = {p.strip().lower() for p in publication_types}
    for name, kind in PUBLICATION_TYPES:
        if name in lowered:
            return kind
    if is_book:
        return "book"
    return "article"


def _marked(values: list[str], mark: str) -> str:
    for value in values:
        if value.lower().endswith(f"[{mark}]"):
            return value[: -len(mark) - 2].strip()
    return ""


def to_fields(tags: dict[str, list[str]]) -> ParsedRecord:
    """Map the tags of one MEDLINE record onto evsynth's fields.

    Parameters
    ----------
    tags : dict of str to list of str
        Every value of each tag, in file order.

    Returns
    -------
    ParsedRecord
        Normalised fields and ids (the line is set by the caller).
    """

    def one(*names: str) -> str:
        for name in names:
            for value in tags.get(name, []):
                if value.strip():
                    return value.strip()
        return ""

    pmid = nz.norm_pmid(one("PMID"))
    doi = nz.norm_doi(_marked(tags.get("LID", []), "doi")) or nz.norm_doi(
        _marked(tags.get("AID", []), "doi")
    )
    is_book = bool(tags.get("BTI"))
    title = one("TI") or one("BTI")
    authors = tags.get("FAU") or tags.get("AU") or []
    authors = [*authors, *tags.get("CN", [])]
    issn = [re.sub(r"\s*\(.*\)$", "", v) for v in tags.get("IS", [])]
    fields = {
        "title": nz.norm_title(title),
        "authors": nz.join_authors(authors),
        "year": nz.norm_year(one("DP"), one("DEP")),
        "journal": nz.clean_text(one("JT") or (one("BTI") if one("TI") else "")),
        "journal_abbrev": nz.clean_text(one("TA")),
        "volume": nz.clean_text(one("VI")),
        "issue": nz.clean_text(one("IP")),
        "pages": nz.norm_pages(one("PG")),
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials(tags.get("ISBN", [])),
        "issn": nz.norm_serials(issn),
        "type": _type(tags.get("PT", []), is_book),
        "language": nz.norm_language("; ".join(tags.get("LA", []))),
        "keywords": nz.join_values([*tags.get("OT", []), *tags.get("MH", [])]),
        "abstract": nz.clean_text(one("AB")),
    }
    return ParsedRecord.build(fields, (("pmid", pmid), ("doi", doi)))


def parse(text: str, name: str) -> ParseResult:
    """Parse a PubMed/MEDLINE export.

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
    tags: dict[str, list[str]] | None = None
    start = 0
    last: list[str] | None = None

    def close() -> None:
        if tags:
            record = to_fields(tags)
            record.line = start
            if not tags.get("PMID"):
                result.issues.append(
                    ImportIssue(
                        name,
                        start,
                        len(result.records) + 1,
                        "PMID",
                        "record has no PMID",
                    )
                )
            result.records.append(record)

    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            close()
            tags, last = None, None
            continue
        if line.startswith(" ") and last is not None:
            last[-1] = f"{last[-1]} {line.strip()}"
            continue
        match = _TAG_LINE.match(line)
        if not match:
            result.issues.append(
                ImportIssue(
                    name,
                    number,
                    len(result.records) + 1 if tags else None,
                    "",
                    f"line that is not a MEDLINE tag skipped: {line.strip()[:60]!r}",
                )
            )
            continue
        tag, value = match.group(1).strip(), match.group(2)
        if tag == "PMID" and tags:
            close()
            tags = None
        if tags is None:
            tags, start = {}, number
        last = tags.setdefault(tag, [])
        last.append(value.strip())
    close()
    return result
