r"""BibTeX exports (Google Scholar, Zotero, JabRef, Mendeley...).

Read with bibtexparser 2.

Authors are split on ``and`` and into name parts by bibtexparser (a name in
braces of its own, ``{World Health Organization}``, is a group author), LaTeX
(accents such as ``{\\"o}``, protecting braces, ``\\&``) is decoded to Unicode,
and entries with a key already used are kept (search exports repeat keys).
"""

from __future__ import annotations

import functools
import logging
import re

import bibtexparser
from bibtexparser import model as bm
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from bibtexparser.middlewares.names import NameParts
from pylatexenc.latex2text import LatexNodes2Text

from evsynth.errors import InputError
from evsynth.records import normalise as nz
from evsynth.records.model import ImportIssue, ParsedRecord, ParseResult

ENTRY_TYPES: dict[str, str] = {
    "article": "article",
    "book": "book",
    "booklet": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "conference",
    "conference": "conference",
    "proceedings": "conference",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "online": "web",
    "electronic": "web",
    "www": "web",
    "unpublished": "preprint",
    "dataset": "dataset",
    "misc": "other",
}


_LATEX = re.compile(r"[\\{}$~]")
#: The pieces of a value that are LaTeX: a braced group holding a command
#: (``{\\"o}``), a command with its arguments (``\\textit{in vivo}``), an accent
#: or escaped symbol (``\\'e``, ``\\&``) or inline maths (``$\\alpha$``). Only these
#: go through pylatexenc, which is slow on long text such as abstracts.
_LATEX_SPAN = re.compile(
    r"\{[^{}]*\\[^{}]*\}"
    r"|\\[A-Za-z]+\*?(?:\s*\{[^{}]*\})*"
    r"|\\[^A-Za-z\s](?:\{[^{}]*\}|[A-Za-z])?"
    r"|\$[^$]*\$"
)


def _stack() -> list[bibtexparser.middlewares.Middleware]:
    return [
        *bibtexparser.middlewares.default_parse_stack(),
        SeparateCoAuthors(),
        SplitNameParts(),
    ]


@functools.cache
def _decoder() -> LatexNodes2Text:
    return LatexNodes2Text(keep_braced_groups=False, math_mode="text")


def decode_latex(value: str) -> str:
    r"""Turn LaTeX into Unicode text (``{\\"o}`` to ``ö``, ``{UK}`` to ``UK``).

    Text without LaTeX's special characters is returned as it is; otherwise
    only the LaTeX pieces of it are decoded with pylatexenc (which is slow on
    long text), and the remaining protecting braces are dropped.

    Parameters
    ----------
    value : str
        A field value as written in the file.

    Returns
    -------
    str
        The decoded text.
    """
    if "--" in value:  # TeX ligatures
        value = value.replace("---", "\u2014").replace("--", "\u2013")
    if not _LATEX.search(value):
        return value
    if "\\" in value or "$" in value:
        value = _LATEX_SPAN.sub(lambda m: _decoder().latex_to_text(m.group(0)), value)
    return value.replace("{", "").replace("}", "").replace("~", "\u00a0")


def _braced(part: str) -> bool:
    """Whether one brace group encloses the whole text (``{World Health Organization}``)."""
    if not (part.startswith("{") and part.endswith("}")):
        return False
    depth = 0
    for index, char in enumerate(part):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and index < len(part) - 1:
            return False  # the first group closes before the end: {\\O}deg{\\aa}rd
    return True


def _names(value: object) -> list[str]:
    if isinstance(value, NameParts):
        if (
            len(value.last) == 1
            and not (value.first or value.von or value.jr)
            and _braced(value.last[0])
        ):  # a name in braces of its own: BibTeX's way of writing a group author
            return [nz.GroupName(decode_latex(value.last[0]).replace("\\", ""))]
        parts = NameParts(
            first=[decode_latex(p) for p in value.first],
            von=[decode_latex(p) for p in value.von],
            last=[decode_latex(p) for p in value.last],
            jr=[decode_latex(p) for p in value.jr],
        )
        return [parts.merge_last_name_first.replace("\\", "")]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_names(item))
        return out
    return [decode_latex(str(value))] if value else []


def to_fields(entry: bm.Entry) -> ParsedRecord:
    """Map one bibtexparser entry onto evsynth's fields.

    Parameters
    ----------
    entry : bibtexparser.model.Entry
        A parsed, LaTeX-decoded entry.

    Returns
    -------
    ParsedRecord
        Normalised fields and ids (the line is set by the caller).
    """
    fields = {f.key.lower(): f.value for f in entry.fields}

    def text(*keys: str) -> str:
        for key in keys:
            value = fields.get(key)
            if isinstance(value, str) and value.strip():
                return decode_latex(value.strip())
        return ""

    kind = ENTRY_TYPES.get(entry.entry_type.lower(), "other")
    pmid = nz.norm_pmid(text("pmid"))
    if not pmid and text("eprinttype").lower() == "pubmed":
        pmid = nz.norm_pmid(text("eprint"))
    doi = nz.norm_doi(text("doi")) or nz.norm_doi(text("url"))
    journal = text("journal", "journaltitle")
    if not journal and kind in {"chapter", "conference"}:
        journal = text("booktitle")
    authors = _names(fields.get("author")) or _names(fields.get("editor"))
    keywords = [k for k in re.split(r"[;,]\s*", text("keywords")) if k.strip()]
    record = {
        "title": nz.norm_title(text("title")),
        **nz.author_fields(authors),
        "year": nz.norm_year(text("year"), text("date")),
        "journal": nz.clean_text(journal),
        "journal_abbrev": nz.clean_text(text("shortjournal", "journal-iso")),
        "volume": nz.clean_text(text("volume")),
        "issue": nz.clean_text(text("number", "issue")),
        "pages": nz.norm_pages(text("pages")),
        "doi": doi,
        "pmid": pmid,
        "isbn": nz.norm_serials([text("isbn")]),
        "issn": nz.norm_serials([text("issn")]),
        "type": kind,
        "language": nz.norm_language(text("language", "langid")),
        "keywords": nz.join_values(keywords),
        "url": nz.clean_text(text("url")),
        "abstract": nz.clean_text(text("abstract")),
    }
    return ParsedRecord.build(record, (("pmid", pmid), ("doi", doi)))


def _quiet_parse(text: str) -> bibtexparser.Library:
    """Parse with bibtexparser, whose own log messages evsynth reports itself."""
    logger = logging.getLogger("bibtexparser")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        return bibtexparser.parse_string(text, parse_stack=_stack())
    finally:
        logger.setLevel(level)


def _parse_one(raw: str) -> bm.Entry | None:
    """Parse a single entry's text on its own (None if it does not parse)."""
    library = _quiet_parse(raw)
    if len(library.entries) == 1 and not library.failed_blocks:
        return library.entries[0]
    return None


def _repair_truncated(block: bm.ParsingFailedBlock) -> bm.Entry | None:
    raw = (block.raw or "").rstrip()
    for closing in ("}", "}}", "\n}"):
        entry = _parse_one(raw + closing)
        if entry is not None:
            return entry
    return None


def parse(text: str, name: str) -> ParseResult:
    """Parse a BibTeX export.

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

    Raises
    ------
    InputError
        For an entry bibtexparser cannot read, with its line.
    """
    library = _quiet_parse(text)
    result = ParseResult()
    blocks = library.blocks
    for index, block in enumerate(blocks):
        entry: bm.Block | None = block
        line = (block.start_line or 0) + 1
        if isinstance(block, bm.DuplicateBlockKeyBlock):
            entry = _parse_one(block.raw or "") or block.ignore_error_block
            result.issues.append(
                ImportIssue(
                    name,
                    line,
                    len(result.records) + 1,
                    "key",
                    f"entry key {block.key!r} used twice; both entries kept",
                )
            )
        elif isinstance(block, bm.MiddlewareErrorBlock):
            entry = block.ignore_error_block
            result.issues.append(
                ImportIssue(
                    name,
                    line,
                    len(result.records) + 1,
                    "",
                    f"LaTeX could not be fully decoded ({block.error}); kept as written",
                )
            )
        elif isinstance(block, bm.ParsingFailedBlock):
            is_last = all(
                isinstance(b, (bm.ImplicitComment, bm.ExplicitComment))
                for b in blocks[index + 1 :]
            )
            repaired = _repair_truncated(block) if is_last else None
            if repaired is None:
                raise InputError(
                    f"unreadable BibTeX entry: {block.error}",
                    file=name,
                    line=line,
                    expected="@type{key, field = {value}, ...}",
                )
            entry = repaired
            result.issues.append(
                ImportIssue(
                    name,
                    line,
                    len(result.records) + 1,
                    "",
                    "last entry is not closed (file truncated?); read up to the end",
                )
            )
        elif isinstance(block, bm.ImplicitComment) and block.comment.strip():
            result.issues.append(
                ImportIssue(
                    name,
                    line,
                    None,
                    "",
                    "text outside an entry skipped: "
                    f"{block.comment.strip().splitlines()[0][:60]!r}",
                )
            )
        if isinstance(entry, bm.Entry):
            record = to_fields(entry)
            record.line = line
            result.records.append(record)
    return result
