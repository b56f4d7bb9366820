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


#: Key under which :func:`parse` keeps the author tags in file order.
AUTHOR_ORDER = "_authors"


def _authors(tags: dict[str, list[str]]) -> list[str]:
    """Persons and group authors (``CN``) in the order the record lists them.

    MEDLINE writes each person as ``FAU`` (full name) followed by ``AU``
    (short name), and a group author as ``CN`` in its place in the list. A
    person's full name is used, else the short one.
    """
    order = tags.get(AUTHOR_ORDER)
    if order is None:  # tags given without their order: persons, then groups
        persons = tags.get("FAU") or tags.get("AU") or []
        return [*persons, *(nz.GroupName(g) for g in tags.get("CN", []))]
    out: list[str] = []
    full = False  # the last entry is a person read from FAU still without AU
    for entry in order:
        tag, _, index = entry.partition("\t")
        value = tags[tag][int(index)]
        if tag == "CN":
            out.append(nz.GroupName(value))
            full = False
        elif tag == "FAU":
            out.append(value)
            full = True
        elif full:  # the AU of the person just read
            full = False
        else:
            out.append(value)
    return out


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
    authors = _authors(tags)
    issn = [re.sub(r"\s*\(.*\)$", "", v) for v in tags.get("IS", [])]
    fields = {
        "title": nz.norm_title(title),
        **nz.author_fields(authors),
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
            result.issues.append(
                ImportIssue(
                    name,
                    number,
                    len(result.records) + 1,
                    "PMID",
                    "record starts without a blank line before it; the record "
                    f"above closed on line {number - 1}",
                )
            )
            tags = None
        if (line[4:6] != "- " and line[4:] != "-") or line[:4] != tag.ljust(4):
            result.issues.append(
                ImportIssue(
                    name,
                    number,
                    len(result.records) + 1,
                    tag,
                    f"tag line starts {line[: line.index('-') + 1]!r}, not "
                    f"'{tag.ljust(4)}-'; read as the tag '{tag}'",
                )
            )
        if tags is None:
            tags, start = {}, number
        last = tags.setdefault(tag, [])
        if tag in ("FAU", "AU", "CN"):
            tags.setdefault(AUTHOR_ORDER, []).append(f"{tag}\t{len(last)}")
        last.append(value.strip())
    close()
    return result
