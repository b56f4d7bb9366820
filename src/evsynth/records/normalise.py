"""Field normalisation shared by every importer.

These functions make records from different databases look alike for a reader
(one way of writing pages, DOIs, authors, years, types and languages). The
stricter keys used for duplicate detection are built later, in deduplication.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_SPACE = re.compile(r"\s+")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(
    r"^(?:https?://(?:dx\.)?doi\.org/|doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE
)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.?-?){1,4}$")

#: ISO 639-2 codes used by MEDLINE and others, to the English names other databases use.
LANGUAGE_CODES = {
    "eng": "English",
    "en": "English",
    "fre": "French",
    "fra": "French",
    "fr": "French",
    "ger": "German",
    "deu": "German",
    "de": "German",
    "spa": "Spanish",
    "es": "Spanish",
    "ita": "Italian",
    "it": "Italian",
    "dut": "Dutch",
    "nld": "Dutch",
    "nl": "Dutch",
    "nor": "Norwegian",
    "nob": "Norwegian",
    "no": "Norwegian",
    "swe": "Swedish",
    "sv": "Swedish",
    "dan": "Danish",
    "da": "Danish",
    "fin": "Finnish",
    "por": "Portuguese",
    "pt": "Portuguese",
    "chi": "Chinese",
    "zho": "Chinese",
    "zh": "Chinese",
    "jpn": "Japanese",
    "ja": "Japanese",
    "kor": "Korean",
    "rus": "Russian",
    "pol": "Polish",
    "tur": "Turkish",
    "heb": "Hebrew",
    "ara": "Arabic",
    "gre": "Greek",
    "ell": "Greek",
    "cze": "Czech",
    "ces": "Czech",
    "hun": "Hungarian",
    "per": "Persian",
    "fas": "Persian",
}


def clean_text(value: str | None) -> str:
    """Unescape HTML entities, drop markup tags and collapse white space.

    Text from :func:`evsynth.records.encoding.decode_bytes` is already in Unicode
    normal form C; text that HTML entities change is normalised again.

    Parameters
    ----------
    value : str or None
        Raw text.

    Returns
    -------
    str
        Cleaned text ("" for None).
    """
    if not value:
        return ""
    text = value
    if (
        "&" not in text
        and "<" not in text
        and "  " not in text
        and "\t" not in text
        and "\n" not in text
        and "\r" not in text
        and "\u00a0" not in text
        and text[:1] != " "
        and text[-1:] != " "
    ):
        return text  # already clean: the common case, kept fast
    if "&" in text:
        text = html.unescape(text)
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
    if "<" in text:
        text = _TAG.sub("", text)
    return " ".join(text.split())


def norm_title(value: str | None) -> str:
    """Clean a title and drop one trailing full stop (MEDLINE ends titles with one).

    Parameters
    ----------
    value : str or None
        Raw title.

    Returns
    -------
    str
        The title. A final "..." or an abbreviation such as "et al." is kept;
        Ovid's trailing ``[References]`` marker is dropped.
    """
    text = clean_text(value)
    if text.endswith("[References]"):  # Ovid PsycInfo marks records with references
        text = text[: -len("[References]")].rstrip()
    if text.endswith(".") and not text.endswith("..") and not text.endswith(" al."):
        text = text[:-1].rstrip()
    return text


def norm_doi(value: str | None) -> str:
    """Return a DOI in lower case without resolver prefix, or "" if there is none.

    Parameters
    ----------
    value : str or None
        Raw text that may hold a DOI: ``https://doi.org/10.1/X``, ``doi:10.1/x``,
        ``10.1/x [doi]``.

    Returns
    -------
    str
        For example ``10.1001/archpediatrics.2010.124``.
    """
    if not value:
        return ""
    text = _DOI_PREFIX.sub("", clean_text(value))
    match = _DOI.search(text)
    if not match:
        return ""
    doi = match.group(0).rstrip(".,;)]}")
    return doi.lower()


def norm_pmid(value: str | None) -> str:
    """Return the digits of a PubMed id, or "" if it is not one."""
    text = clean_text(value)
    text = re.sub(r"^(?:pmid|pubmed id)\s*[:=]?\s*", "", text, flags=re.IGNORECASE)
    return text if text.isdigit() else ""


def norm_year(*candidates: str | None) -> str:
    """Return the first plausible four-digit year found in the candidates.

    Parameters
    ----------
    *candidates : str or None
        Date-like texts in order of preference (``"2010 Aug"``, ``"2010///"``).

    Returns
    -------
    str
        The year, or "" if none is found.
    """
    for candidate in candidates:
        if candidate:
            match = _YEAR.search(str(candidate))
            if match:
                return match.group(1)
    return ""


def norm_pages(start: str | None, end: str | None = None) -> str:
    """Write a page range in full: ``739-46`` becomes ``739-746``.

    Parameters
    ----------
    start : str or None
        First page, or a whole range such as ``739-46`` or ``pp. 739–746``.
    end : str or None
        Last page, when the source gives it separately.

    Returns
    -------
    str
        ``"739-746"``, a single page such as ``"e15500"``, or "".
    """
    first = clean_text(start)
    last = clean_text(end)
    first = re.sub(r"^(?:pp?\.?\s*)", "", first, flags=re.IGNORECASE)
    first = first.replace("–", "-").replace("—", "-").replace("--", "-")
    if not last and "-" in first:
        first, _, last = (part.strip() for part in first.partition("-"))
    last = re.sub(r"^(?:pp?\.?\s*)", "", last, flags=re.IGNORECASE)
    if not first:
        return last
    if not last or last == first:
        return first
    if first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return f"{first}-{last}"


def format_author(name: str) -> str:
    """Write one author as ``Surname, Given names``.

    Handles ``Surname, Given`` (tidied), Scopus's ``Surname G.H.`` and plain
    ``Given Surname``-free forms are left as they are, because a multi-word
    surname cannot be told from a middle name.

    Parameters
    ----------
    name : str
        One author as the source writes it.

    Returns
    -------
    str
        The author, or "" for an empty name.
    """
    text = clean_text(name).strip(" ,;")
    if not text:
        return ""
    if "," in text:
        surname, _, given = text.partition(",")
        given = given.strip()
        return f"{surname.strip()}, {given}" if given else surname.strip()
    parts = text.split(" ")
    if len(parts) >= 2 and _INITIALS.match(parts[-1]):
        return f"{' '.join(parts[:-1])}, {parts[-1]}"
    return text


def join_authors(names: Iterable[str]) -> str:
    """Join authors with ``"; "``, dropping empty names and exact repeats."""
    seen: list[str] = []
    for name in names:
        formatted = format_author(name)
        if formatted and formatted not in seen:
            seen.append(formatted)
    return "; ".join(seen)


def join_values(values: Iterable[str | None], sep: str = "; ") -> str:
    """Clean and join several values, dropping empty ones and repeats."""
    out: list[str] = []
    for value in values:
        text = clean_text(value)
        if text and text not in out:
            out.append(text)
    return sep.join(out)


def norm_serials(values: Iterable[str | None]) -> str:
    """Join ISSNs or ISBNs without notes such as ``(Print)`` or ``(ISSN)``.

    Parameters
    ----------
    values : iterable of str
        Raw values, each possibly holding several numbers.

    Returns
    -------
    str
        Numbers joined by ``"; "``, repeats dropped.
    """
    numbers = []
    for value in values:
        for part in re.split(r"[;\n]+|\s{2,}", clean_text(value)):
            number = re.sub(r"\s*\([^)]*\)\s*", " ", part).strip()
            if number:
                numbers.append(number)
    return join_values(numbers)


def norm_language(value: str | None) -> str:
    """Return a language as an English name (``eng`` becomes ``English``)."""
    text = clean_text(value)
    if not text:
        return ""
    names = []
    for part in re.split(r"[;,]\s*", text):
        key = part.strip().lower()
        if not key:
            continue
        name = LANGUAGE_CODES.get(key, part.strip())
        name = name[0].upper() + name[1:] if name.islower() else name
        if name not in names:
            names.append(name)
    return "; ".join(names)


def norm_type(raw: str | None, mapping: dict[str, str], default: str = "other") -> str:
    """Map a source's document type onto evsynth's vocabulary.

    Parameters
    ----------
    raw : str or None
        The source's type, e.g. ``JOUR`` or ``Journal Article``.
    mapping : dict
        Lower-cased source types to values of
        :data:`evsynth.records.model.RECORD_TYPES`.
    default : str
        Type used for unknown or missing values.

    Returns
    -------
    str
        A value of ``RECORD_TYPES``.
    """
    key = clean_text(raw).lower()
    return mapping.get(key, default) if key else default


#: Types several databases share, in lower case (each format adds its own).
COMMON_TYPES: dict[str, str] = {
    "article": "article",
    "journal article": "article",
    "journal": "article",
    "review": "review",
    "systematic review": "review",
    "meta-analysis": "review",
    "conference paper": "conference",
    "conference proceedings": "conference",
    "conference review": "conference",
    "proceedings paper": "conference",
    "meeting abstract": "conference",
    "congress": "conference",
    "book": "book",
    "book chapter": "chapter",
    "book section": "chapter",
    "thesis": "thesis",
    "dissertation": "thesis",
    "report": "report",
    "web page": "web",
    "webpage": "web",
    "erratum": "erratum",
    "correction": "erratum",
    "published erratum": "erratum",
    "comment": "comment",
    "note": "comment",
    "editorial": "editorial",
    "editorial material": "editorial",
    "letter": "letter",
    "retraction": "retraction",
    "retraction of publication": "retraction",
    "retracted publication": "article",
    "preprint": "preprint",
    "data paper": "dataset",
    "dataset": "dataset",
}
