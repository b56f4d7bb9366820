"""Matching keys: the strict normal forms records are compared on.

Where :mod:`evsynth.records.normalise` makes a record readable, these keys make
two writings of one citation equal: ASCII lower case without punctuation or
markup, translated-title brackets and trailing full stops dropped, authors as
surnames, pages as first and last page, journals as words that abbreviations
can be matched against.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from evsynth.records import normalise as nz

_MARKUP = re.compile(r"</?[a-z][a-z0-9]*[^<>]*>|\\[a-z]+\{|[{}$]", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
#: Notes databases append to titles: "[Chinese]", "[Article in German]",
#: "[Review] [33 refs]", "(Provisional abstract)", "[References]".
_TRAILING_NOTES = re.compile(
    r"(?:\s*[.;]?\s*(?:\[[^\[\]]{1,60}\]|\((?:provisional|structured) abstract\)))+"
    r"\s*\.?\s*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]{2,}")
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7"}
_PAGE = re.compile(r"[a-z]*(\d+)", re.IGNORECASE)

#: Words marking a notice about another paper rather than the paper itself.
NOTICE_WORDS = re.compile(
    r"^(?:erratum|errata|corrigendum|correction|retraction|retracted|withdrawn|"
    r"expression of concern|reply|response|author reply|comment|commentary|"
    r"letter|editorial)\b|\b(?:erratum|corrigendum|retraction note|"
    r"retraction notice|reply to|response to|comment on|commentary on|"
    r"correction to)\b"
)
NOTICE_TYPES = {"erratum", "retraction", "comment", "letter", "editorial"}
#: Venue words of conference material.
CONFERENCE_WORDS = re.compile(
    r"\b(?:proceedings|conference|congress|symposium|meeting|workshop|"
    r"summit|colloquium|amcis|icis|ecis|hicss|pacis)\b"
)
#: Words that make two otherwise equal titles different papers.
CONTRAST_PAIRS = [
    ("vivo", "vitro"),
    ("men", "women"),
    ("male", "female"),
    ("males", "females"),
    ("boys", "girls"),
    ("adults", "children"),
    ("adult", "child"),
    ("mothers", "fathers"),
    ("maternal", "paternal"),
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("positive", "negative"),
    ("acute", "chronic"),
    ("before", "after"),
    ("pre", "post"),
    ("high", "low"),
    ("higher", "lower"),
    ("upper", "lower"),
    ("left", "right"),
    ("early", "late"),
    ("primary", "secondary"),
    ("with", "without"),
    ("inpatient", "outpatient"),
    ("benign", "malignant"),
    ("protocol", "results"),
]
_CONTRAST = {a: b for a, b in CONTRAST_PAIRS} | {b: a for a, b in CONTRAST_PAIRS}
_STOP = {"of", "the", "and", "for", "in", "on", "de", "la", "der", "und", "a", "an"}


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form of text: accents dropped (``Kjøbli`` -> ``kjobli``)."""
    text = text.replace("ø", "o").replace("Ø", "O").replace("ß", "ss")
    text = (
        text.replace("æ", "ae").replace("Æ", "AE").replace("ł", "l").replace("Ł", "L")
    )
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def title_key(title: str) -> str:
    """Title as lower-case ASCII words separated by single spaces.

    Drops markup, a trailing translated-title bracket (``[Chinese]``), brackets
    around a whole translated title, and all punctuation.
    """
    text = nz.clean_text(title)
    if text.startswith("[") and "]" in text:
        # MEDLINE writes a translated title in brackets: "[Title]. [Spanish]"
        inner, _, rest = text[1:].partition("]")
        text = inner + rest
    text = _TRAILING_NOTES.sub("", text).strip()
    text = _MARKUP.sub("", ascii_fold(text))
    text = text.replace("&", " and ")
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def title_numbers(key: str) -> frozenset[str]:
    """Numbers in a title key, Roman numerals after "part" read as numbers."""
    words = key.split()
    numbers = {w for w in words if w.isdigit()}
    for before, word in zip(words, words[1:], strict=False):
        if before in {"part", "study", "phase", "trial", "volume", "series"}:
            numbers.add(_ROMAN.get(word, word))
    return frozenset(numbers)


def contrast_conflict(key_a: str, key_b: str) -> bool:
    """Whether two titles differ by a pair of opposite words (``men``/``women``)."""
    words_a, words_b = set(key_a.split()), set(key_b.split())
    only_a, only_b = words_a - words_b, words_b - words_a
    return any(_CONTRAST.get(w) in only_b for w in only_a)


def surnames(authors: str) -> list[str]:
    """Surname-like words of an author list, in order (given initials dropped).

    Works on ``Surname, Given; ...``, BibTeX ``and`` lists and free text such as
    ``Adeli K.Lewis G. F.``.
    """
    text = ascii_fold(nz.clean_text(authors))
    text = re.sub(r"\bet al\b\.?|\band others\b", " ", text)
    parts = re.split(r";|\band\b", text)
    out: list[str] = []
    for part in parts:
        if "," in part:
            # the surname's last word: "van der Graaf" and "Van Graaf" -> graaf
            words = _WORD.findall(part.split(",", 1)[0])
            if words:
                out.append(words[-1])
            continue
        out.extend(_WORD.findall(part))
    return out


def journal_words(journal: str) -> list[str]:
    """Words of a journal name without stop words: ``J Pediatr`` -> ``[j, pediatr]``."""
    key = _NON_ALNUM.sub(" ", ascii_fold(nz.clean_text(journal)).replace("&", " "))
    return [w for w in key.split() if w not in _STOP]


def journals_match(a: list[str], b: list[str]) -> bool:
    """Whether one journal name is an abbreviation of the other (or equal).

    Every word of the shorter name must be a prefix of the matching word of the
    longer one, in order (``Arch Pediatr Adolesc Med`` and ``Archives of
    Pediatrics and Adolescent Medicine``).
    """
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    position = 0
    for word in short:
        while position < len(long_) and not long_[position].startswith(word):
            position += 1
        if position == len(long_):
            return False
        position += 1
    return True


def page_range(pages: str) -> tuple[str, str]:
    """First and last page as digit strings (``739-46`` -> ``739``, ``746``)."""
    full = nz.norm_pages(pages)
    if not full:
        return "", ""
    first, _, last = full.partition("-")
    first_match, last_match = _PAGE.search(first), _PAGE.search(last)
    return (
        first_match.group(1).lstrip("0") if first_match else "",
        last_match.group(1).lstrip("0") if last_match else "",
    )


def digits(value: str) -> str:
    """The first run of digits in a value (``Vol. 12`` -> ``12``)."""
    match = re.search(r"\d+", value or "")
    return match.group(0).lstrip("0") if match else ""


@dataclass
class MatchKeys:
    """Everything a record is compared on, computed once per record."""

    title: str
    numbers: frozenset[str]
    surnames: list[str]
    first_author: str
    year: int | None
    journal: list[str]
    volume: str
    issue: str
    first_page: str
    last_page: str
    doi: str
    pmid: str
    notice: bool
    conference: bool
    update: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def match_keys(fields: dict[str, str], update: int = 0) -> MatchKeys:
    """Compute a record's matching keys from its normalised fields.

    Parameters
    ----------
    fields : dict
        Normalised fields (``title, authors, year, journal, volume, issue,
        pages, doi, pmid, type``).
    update : int
        The search update the record came from.

    Returns
    -------
    MatchKeys
        The keys.
    """
    title = title_key(fields.get("title", ""))
    names = surnames(fields.get("authors", ""))
    year_text = nz.norm_year(fields.get("year", ""))
    kind = fields.get("type", "")
    venue = ascii_fold(fields.get("journal", ""))
    first_page, last_page = page_range(fields.get("pages", ""))
    return MatchKeys(
        title=title,
        numbers=title_numbers(title),
        surnames=names,
        first_author=names[0] if names else "",
        year=int(year_text) if year_text else None,
        journal=journal_words(fields.get("journal", "")),
        volume=digits(fields.get("volume", "")),
        issue=digits(fields.get("issue", "")),
        first_page=first_page,
        last_page=last_page,
        doi=nz.norm_doi(fields.get("doi", "")),
        pmid=nz.norm_pmid(fields.get("pmid", "")),
        notice=kind in NOTICE_TYPES or bool(NOTICE_WORDS.search(title)),
        conference=kind == "conference"
        or (not fields.get("volume") and bool(CONFERENCE_WORDS.search(venue))),
        update=update,
    )
