"""Field normalisation shared by every importer.

These functions make records from different databases look alike for a reader
(one way of writing pages, authors, years, types and languages) without
rewriting what identifies them: a DOI, PMID, ISBN or ISSN keeps the spelling of
the export (only resolver prefixes and notes such as ``[doi]`` or ``(Print)``
go), every author is kept in order, repeats included. The stricter keys used
for duplicate detection (:func:`doi_key`, and those of deduplication) are built
for comparing only.
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
    """Return a DOI as written, without resolver prefix, or "" if there is none.

    The DOI keeps the case the source wrote it in: DOIs are compared without
    regard to case (:func:`doi_key`), but a record shows the DOI as published.

    Parameters
    ----------
    value : str or None
        Raw text that may hold a DOI: ``https://doi.org/10.1/X``, ``doi:10.1/x``,
        ``10.1/x [doi]``.

    Returns
    -------
    str
        For example ``10.1001/archpediatrics.2010.124`` or
        ``10.1016/S0140-6736(20)30183-5``.
    """
    if not value:
        return ""
    text = _DOI_PREFIX.sub("", clean_text(value))
    match = _DOI.search(text)
    if not match:
        return ""
    return match.group(0).rstrip(".,;)]}")


def doi_key(value: str | None) -> str:
    """Return the key two DOIs are compared by: the DOI in lower case.

    The DOI Handbook makes DOI names case-insensitive (ASCII letters), so
    ``10.1016/S0140-6736(20)30183-5`` and ``10.1016/s0140-6736(20)30183-5`` are
    one DOI. The key is for comparing only; records keep :func:`norm_doi`'s
    spelling.

    Parameters
    ----------
    value : str or None
        Raw text that may hold a DOI.

    Returns
    -------
    str
        The lower-cased DOI, or "".
    """
    return norm_doi(value).lower()


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


#: Name particles that belong to the family name (``van Dam``, ``da Silva``),
#: in lower case as they are written inside a name.
PARTICLES: frozenset[str] = frozenset(
    {
        "af", "av", "bin", "bint", "d'", "da", "das", "de", "degli", "dei", "del",
        "della", "delle", "der", "des", "di", "do", "dos", "du", "ibn", "la",
        "le", "lo", "ten", "ter", "van", "vom", "von", "zu", "zum", "zur",
    }
)  # fmt: skip

#: Words that make a name without a comma a group (corporate) author, in
#: English and the Romance and Germanic languages databases index most.
GROUP_WORDS = re.compile(
    r"\b(?:groups?|grupos?|groupe|gruppe|collaborat\w*|consorti\w*|"
    r"investigators?|committees?|comit[eé]\w*|societ(?:y|ies)|sociedad\w*|"
    r"soci[eé]t[eé]|associa\w*|asocia\w*|organi[sz]ations?|organizaci\w*|"
    r"council|consejo|conselho|conseil|network|team|trialists|foundation|"
    r"fundaci\w*|funda[cç][aã]o|institut\w*|agency|cent(?:re|er|ro)s?|"
    r"department|departamento|minist\w*|secretar[ií]a|alliance|federation|"
    r"working party|task ?force|coalition|commission|academy|authority|"
    r"program(?:me)?|initiative|registry|partnership|hospital|universi\w*)\b",
    re.IGNORECASE,
)


class GroupName(str):
    """An author name that the export marks as a group (corporate) author.

    Web of Science's ``CA``, MEDLINE's ``CN``, a BibTeX name in braces
    (``{World Health Organization}``) and EndNote's trailing comma
    (``World Health Organization,``) mark one.
    """

    __slots__ = ()


def endnote_author(name: str) -> str:
    """Mark a name EndNote writes as a corporate author: ``Name of Body,``.

    EndNote enters a corporate author with a comma after the name and no other
    comma. Single words (``Zvekotkina,``, a person with no given names) and
    ``et al.,`` are left unmarked.

    Parameters
    ----------
    name : str
        One author as an EndNote XML or RIS export writes it.

    Returns
    -------
    str
        The name, as a :class:`GroupName` when it is marked as a group.
    """
    text = clean_text(name).rstrip()
    if (
        text.endswith(",")
        and text.count(",") == 1
        and " " in text.strip(" ,")
        and not re.match(r"(?i)et\.? al\b", text)
    ):
        return GroupName(text)
    return name


def is_initials(word: str) -> bool:
    """Whether a word is a run of initials: ``P.E.``, ``HN``, ``Ø.``, ``J.-Ö.``.

    One to four capital letters (of any script), each optionally followed by one
    small letter (``Ch.``), a full stop and a hyphen.

    Parameters
    ----------
    word : str
        One word of a name.

    Returns
    -------
    bool
        True for initials.
    """
    count, i, n = 0, 0, len(word)
    while i < n:
        if not (word[i].isalpha() and word[i].isupper()):
            return False
        i += 1
        count += 1
        if i < n and word[i].isalpha() and word[i].islower():
            i += 1
        if i < n and word[i] == ".":
            i += 1
        if i < n and word[i] == "-":
            i += 1
    return 1 <= count <= 4


def _dotted_initials(word: str) -> bool:
    """Tell initials with full stops and no small letters (``J.A.``, not ``St.``)."""
    return "." in word and is_initials(word) and not any(c.islower() for c in word)


def _trailing_particles(words: list[str]) -> int:
    """How many of the last words are lower-case name particles."""
    count = 0
    for word in reversed(words):
        if word not in PARTICLES:
            break
        count += 1
    return count


def is_group_name(name: str) -> bool:
    """Whether a name with no format mark reads as a group (corporate) author.

    A name is a group when it has no comma, no initials in front, at least two
    words other than particles and trailing initials, and a word such as
    *Group*, *Collaboration*, *Consortium*, *Investigators*, *Committee*,
    *Society* or *Organization* (``ESPRIT Study Group``, ``Medical Research
    Council MRC``). A person written ``Family, Given`` or ``Family AB`` never
    is (``Board J``, ``van der Board J``).

    Parameters
    ----------
    name : str
        One author as the source writes it.

    Returns
    -------
    bool
        True for a group name.
    """
    text = clean_text(name).strip(" ;")
    if not text or "," in text:
        return False
    words = text.split(" ")
    if _dotted_initials(words[0]):
        return False
    if len(words) > 1 and is_initials(words[-1]):
        words = words[:-1]
    if sum(w not in PARTICLES for w in words) < 2:
        return False
    return bool(GROUP_WORDS.search(" ".join(words)))


def format_author(name: str, group: bool = False) -> str:
    """Write one author as ``Family, Given names``.

    Forms read:

    - ``Family, Given`` (tidied); particles written after the given names
      move to the family name: ``Dam, L. van`` -> ``van Dam, L.``;
    - ``Family AB`` as Scopus, MEDLINE and Vancouver lists write it, initials
      of any script included (``Fluge Ø.`` -> ``Fluge, Ø.``), particles after
      the initials moved in front (``Silva J.A. da`` -> ``da Silva, J.A.``);
    - ``A.B. Family`` with initials in front (``L. van Dam`` -> ``van Dam, L.``).

    Other names without a comma (``Given Family`` with full given names) are
    left as they are, because a multi-word family name cannot be told from a
    middle name; so is a group (corporate) author.

    Parameters
    ----------
    name : str
        One author as the source writes it.
    group : bool
        The name is a group author: only cleaned, never split.

    Returns
    -------
    str
        The author, or "" for an empty name.
    """
    text = clean_text(name).strip(" ,;")
    if not text:
        return ""
    if group:
        return text
    if "," in text:
        family, _, given = text.partition(",")
        family, given = family.strip(), given.strip()
        words = given.split(" ")
        moved = _trailing_particles(words)
        if moved and moved < len(words):
            family = f"{' '.join(words[-moved:])} {family}"
            given = " ".join(words[:-moved])
        return f"{family}, {given}" if given else family
    words = text.split(" ")
    if len(words) < 2:
        return text
    moved = _trailing_particles(words)
    core = words[: len(words) - moved] if moved else words
    if len(core) >= 2 and is_initials(core[-1]):
        family = " ".join([*words[len(core) :], *core[:-1]])
        return f"{family}, {core[-1]}"
    if not moved:
        lead = 0
        while lead < len(words) - 1 and _dotted_initials(words[lead]):
            lead += 1
        if lead and not is_initials(words[-1]):
            return f"{' '.join(words[lead:])}, {' '.join(words[:lead])}"
    start = _von_start(words)
    if start:
        return f"{' '.join(words[start:])}, {' '.join(words[:start])}"
    return text


def _name_word(word: str) -> bool:
    """Tell a capitalised word of a name written in full (not initials)."""
    letters = word.replace("-", "").replace("'", "").replace("\u2019", "")
    return (
        len(letters) > 1
        and letters.isalpha()
        and word[0].isupper()
        and not is_initials(word)
    )


def _von_start(words: list[str]) -> int:
    """Where the family name of ``Given von Family`` starts (0 if not that form).

    BibTeX's rule for names without a comma: the family name starts at the
    first particle (``Ludwig van Beethoven``, ``Maria da Silva``). Only names
    of three to five words, all of them capitalised full words or particles,
    are read so.
    """
    if not 3 <= len(words) <= 5:
        return 0
    start = next((k for k, w in enumerate(words) if w in PARTICLES), 0)
    end = start
    while end < len(words) and words[end] in PARTICLES:
        end += 1
    given, family = words[:start], words[end:]
    if given and family and all(_name_word(w) for w in [*given, *family]):
        return start
    return 0


def author_fields(names: Iterable[str]) -> dict[str, str]:
    """Build the ``authors`` and ``group_authors`` fields of a record.

    Every name is kept, in order, repeats included (two authors of one paper
    may share a name). A name is a group author if the export marks it as one
    (a :class:`GroupName`) or :func:`is_group_name` reads it as one.

    Parameters
    ----------
    names : iterable of str
        The authors as the source writes them, in order; marked groups as
        :class:`GroupName`.

    Returns
    -------
    dict
        ``authors``: the names joined by ``"; "``; ``group_authors``: those of
        them that are groups, joined the same way ("" if none).
    """
    authors: list[str] = []
    groups: list[str] = []
    for name in names:
        group = isinstance(name, GroupName) or ("," not in name and is_group_name(name))
        formatted = format_author(name, group)
        if formatted:
            authors.append(formatted)
            if group:
                groups.append(formatted)
    return {"authors": "; ".join(authors), "group_authors": "; ".join(groups)}


def join_authors(names: Iterable[str]) -> str:
    """Join authors with ``"; "``, dropping empty names; repeats are kept."""
    return author_fields(names)["authors"]


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
