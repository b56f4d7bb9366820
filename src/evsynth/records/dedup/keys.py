"""Matching keys: the strict normal forms records are compared on.

Where :mod:`evsynth.records.normalise` makes a record readable, these keys make
two writings of one citation equal: ASCII lower case without punctuation or
markup, translated-title brackets and trailing full stops dropped, authors as
surnames, pages as first and last page, journals as words that abbreviations
can be matched against.
"""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from evsynth.records import normalise as nz

_MARKUP = re.compile(r"</?[a-z][a-z0-9]*[^<>]*>|\\[a-z]+\{|[{}$]", re.IGNORECASE)
#: Anything but a letter or digit of any script: Cyrillic, Greek, Chinese or
#: Korean titles keep their words ("платформенная занятость").
_NON_ALNUM = re.compile(r"[\W_]+")
#: Notes databases append to titles: "[Chinese]", "[Article in German]",
#: "[Review] [33 refs]", "(Provisional abstract)", "[References]".
_TRAILING_NOTES = re.compile(
    r"(?:\s*[.;]?\s*(?:\[[^\[\]]{1,60}\]|\((?:provisional|structured) abstract\)))+"
    r"\s*\.?\s*$",
    re.IGNORECASE,
)
#: MEDLINE's (and CINAHL's "[published erratum appears in ...]") notes on the
#: article itself, anywhere in a title, possibly cut short by a field limit:
#: "[Erratum appears in N Engl J Med. 2009;360(23):2487 Note: Philipp, Thomas
#: [added]]", "[Comment in: ...]", "[Retraction in: ...]".
_MEDLINE_NOTE = re.compile(
    r"\s*\[(?:(?:published )?erratum|errata|corrigendum|comment|retraction|"
    r"retracted|update|updated|summary for patients|expression of concern|"
    r"republished|corrected)"
    r"\b(?:[^\[\]]|\[[^\[\]]*\])*(?:\]|$)",
    re.IGNORECASE,
)
#: The citation of the corrected article that ends the title of a correction
#: notice: Web of Science's "Title (vol 360, pg 542, 2009)" and Embase's
#: "Title (New England Journal of Medicine (2009) 360 (542-544))".
_CORRECTION_CITATION = re.compile(
    r"\s*\((?:vol\.?\s*\d+[^()]*?,\s*(?:pg|pp?\.?)\s*[a-z]?\d+[^()]*"
    r"|[A-Z][^()]{3,}\(\s*(?:19|20)\d\d[^()]*\)\s*\d+[^()]*(?:\([^()]*\))?\s*)"
    r"\)\s*\.?\s*$"
)
#: Where a database joins an original-language title and its translation:
#: "Titulo; Title", "[Title] TO: Titulo", "[Title] <ORIGINAL> TITEL".
_TITLE_JOIN = re.compile(r";\s+|\s+<original>\s+|\]\s*to:\s+", re.IGNORECASE)
_THOUSANDS = re.compile(r"(\d)[, .\u00a0\u2009](\d{3})\b")
_NAME_WORD = re.compile(r"[^\W\d_]{2,}")  # letters of any script
#: "Taussig HN, Culhane SE": surnames followed by initials, comma-separated.
_VANCOUVER = re.compile(r"^[A-Za-z' -]+ [A-Z]{1,3}(?:, ?[A-Za-z' -]+ [A-Z]{1,3})+$")
#: Words after which a Roman numeral numbers a part: "Part II", "Phase III".
_NUMBERED = {"part", "study", "phase", "trial", "volume", "series"}
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7"}
#: An electronic article number instead of pages: e12724, c1804, CD008173.
_ELOCATOR = re.compile(r"^[A-Za-z]{1,2}\d+$")
_PAGE = re.compile(r"[a-z]*(\d+)", re.IGNORECASE)
#: Page ranges a spreadsheet turned into dates: "21-Aug", "Nov-19".
_DAY_MONTH = re.compile(r"^(\d{1,2})-([A-Za-z]{3})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3})-(\d{2})$")
_MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec"
_MONTHS = {m: str(n) for n, m in enumerate(_MONTH_NAMES.split(), start=1)}
_PAGE_COUNT = re.compile(r"^\d+\s*pp?\.?$", re.IGNORECASE)
_RANGE_SEP = re.compile(r"\s*[,+;]\s*")
_NUMERIC_RANGE = re.compile(r"^\d+(?:\s*[-–]\s*\d+)?$")

#: Record types of notices about another paper rather than the paper itself.
NOTICE_TYPES = {"erratum", "retraction", "comment", "letter", "editorial"}
#: What a title's words say an item is, when it is a notice about another
#: article. Matched on the title in lower case with its punctuation, after
#: MEDLINE's notes about the article itself are dropped ("[Erratum appears in
#: ...]" marks the article, not a notice). A word that opens an ordinary title
#: ("Correction of scoliosis", "Response to treatment", "Letter writing",
#: "Retraction of the eyelid", "Re-evaluation") counts only where a notice
#: uses it: alone, before a colon, or before "to", "on" or the item answered.
_AFTER_HEAD = r"\s*(?:$|[:.(\[]|\s[\u2013\u2014-]|[\u2013\u2014-]\s)"
_ANSWERED = (
    r"(?:the\s+)?(?:letters?|comments?|commentary|commentaries|correspondence|"
    r"critiques?|criticisms?|editorial|reviewers?|[\"'\u201c\u2018])"
)
#: Where a clause begins: the title's start, or after a colon, full stop,
#: question mark or a spaced dash ("Title - a reply to ...").
_CLAUSE = r"(?:^|[:.;,?!]\s*|\s[\u2013\u2014-]\s*)"
_AUTHORS = r"(?:authors?|author's|authors')"
NOTICE_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("concern", r"\bexpression of concern\b"),
        (
            "retraction",
            (
                r"^(?:retracted\b|notice of retraction\b|retraction (?:note|notice)\b|"
                rf"(?:retraction|withdrawn){_AFTER_HEAD}|"
                r"retraction(?: of| to)?:?\s+(?:the\s+)?(?:article|paper|publication|"
                r"[\"'\u201c\u2018]))"
                r"|\b(?:retraction note|retraction notice|notice of retraction)\b"
            ),
        ),
        (
            "correction",
            (
                r"^(?:(?:erratum|errata|corrigendum|corrigenda|addendum)\b|"
                rf"corrections?(?:{_AFTER_HEAD}|\s+(?:to|notice)\b)|"
                r"(?:authors?|publisher)(?:'s|s'|s)?\s+correction\b)"
                # "...: Correction to Lee et al." (not "A bias correction to ...")
                rf"|\b(?:erratum|errata|corrigendum)\b|{_CLAUSE}correction to\b"
            ),
        ),
        (
            "reply",
            (
                r"^(?:reply|replies|in reply)\b"
                rf"|^(?:in\s+)?response(?:{_AFTER_HEAD}|\s+to\s*:|\s+to\s+{_ANSWERED})"
                # "Response to Clarke: ...", "Response to Smith and Jones - ..."
                r"|^response\s+to\s+[a-z'-]+(?:\s+et al\.?|\s+and\s+[a-z'-]+)?"
                r"\s*(?:$|[:(]|\s[\u2013\u2014-]\s)"
                # "...: a reply to Hardin", "Authors' reply", "Rejoinder to ...",
                # "...: a reply", "...? Response to the commentaries"
                rf"|{_CLAUSE}(?:a\s+|the\s+)?(?:{_AUTHORS}\s+)?(?:reply|rejoinder)"
                rf"(?:\s+to\b|{_AFTER_HEAD})"
                rf"|{_CLAUSE}(?:(?:the\s+)?{_AUTHORS}\s+response\b|a\s+response\s+to\b)"
                rf"|{_CLAUSE}(?:a\s+|the\s+)?response\s*\.?$"
                rf"|\bresponse to\s+{_ANSWERED}|\b{_AUTHORS}\s+(?:reply|response)\b"
            ),
        ),
        (
            "comment",
            (
                rf"^(?:re\s*:|correspondence{_AFTER_HEAD}|"
                rf"letters?(?:{_AFTER_HEAD}|\s+(?:to|re|regarding|on|from)\b))"
                # "Comment on ...", "...: a commentary on ...", "... - Commentary"
                rf"|{_CLAUSE}(?:a\s+|the\s+)?(?:comments?|commentary)"
                rf"(?:{_AFTER_HEAD}|\s+(?:on|to|re|regarding)\b)"
                r"|\bletters? to the editors?\b"
            ),
        ),
        ("editorial", r"^editorial\b"),
    )
)
#: Letters that a title naming each kind of notice must hold, checked before
#: its pattern is searched (most titles name no notice).
_NOTICE_HINTS = {
    "concern": ("concern",),
    "retraction": ("retract", "withdrawn"),
    "correction": ("errat", "corrig", "correction", "addendum"),
    "reply": ("repl", "respons", "rejoinder"),
    "comment": ("comment", "letter", "correspondence", "re:", "re :"),
    "editorial": ("editorial",),
}
#: Notices that are never the article they concern, whatever the other fields
#: say (an editorial is an item of its own, which a database may title with its
#: section heading "Editorial:").
STRICT_NOTICES = frozenset({"correction", "retraction", "concern", "comment", "reply"})
#: A bare tag closing a title that says what the item is: "Title [Erratum]",
#: "Title (Letter)". (MEDLINE's notes about an article say more: "[Erratum
#: appears in ...]", "[Comment in: ...]", and are dropped as notes.)
_NOTICE_TAG = re.compile(
    r"\s*[\[(]\s*(?P<word>erratum|errata|corrigendum|correction|retraction|"
    r"retracted|letter|comment|commentary|reply|editorial)\s*[\])]\s*\.?\s*$",
    re.IGNORECASE,
)
_TAG_KINDS = {
    "erratum": "correction",
    "errata": "correction",
    "corrigendum": "correction",
    "correction": "correction",
    "retraction": "retraction",
    "retracted": "retraction",
    "letter": "comment",
    "comment": "comment",
    "commentary": "comment",
    "reply": "reply",
    "editorial": "editorial",
}

#: A part or a later instalment of a series, with the number it carries:
#: "Part II", "Part 2", "Pt. 2", "Part two", "Paper 2", "Teil 2", "Second part",
#: "(2)" or "(II)" closing the title or before its colon, "II:" opening it,
#: ". II" closing it, "(continued)".
_ROMAN_NUMERAL = r"(?:viii|vii|iii|ii|iv|ix|vi|i|v|x)"
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "first": "1",
    "second": "2",
    "third": "3",
    "fourth": "4",
    "fifth": "5",
    "1st": "1",
    "2nd": "2",
    "3rd": "3",
    "4th": "4",
    "5th": "5",
}
_ROMAN_VALUES = _ROMAN | {"viii": "8", "ix": "9", "x": "10"}
_PART_WORDS = re.compile(
    # Part II, Pt. 2, part two, Paper 2, Teil 2, Part B: (a letter only before
    # punctuation or at the end: "Medicare Part D coverage" names no part)
    r"\b(?:(?:part|paper|teil|partie|parte)\s+|pt\.?\s*)"
    rf"(?P<n>\d{{1,2}}|{_ROMAN_NUMERAL}|one|two|three|four|five|six|seven|eight|"
    r"nine|ten|[a-h](?=\s*(?:$|[:.,;)\]\u2013\u2014-])))\b"
    # second part, 2nd paper, third report (not "first report": "first report
    # of a case" is an ordinary title)
    r"|\b(?P<o>first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\s+(?:part|paper)\b"
    r"|\b(?P<r>second|third|fourth|fifth|2nd|3rd|4th|5th)\s+report\b"
)
_PART_BRACKETS = re.compile(
    # "(2)" or "(II)" closing the title or before its subtitle
    rf"(?:^|\s)\(\s*(?P<p>\d{{1,2}}|{_ROMAN_NUMERAL})\s*\)\s*(?=$|[:.])"
    # "(continued)", "(concluded)"
    r"|\((?P<c>continued|cont\.?|concluded|conclusion)\)"
)
#: "II: ..." or "III. ..." opening the title (not a one-letter numeral:
#: "V. cholerae").
_PART_OPENING = re.compile(r"(?P<s>viii|vii|iii|ii|iv|ix|vi)\s*[.:]\s")
#: "... . II" or "..., III" closing the title.
_PART_CLOSING = re.compile(
    r"(?:[.,:;]|\s[\u2013\u2014-])\s*(?P<e>viii|vii|iii|ii|iv|ix|vi)\s*\.?$"
)
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
    ("adult", "adolescent"),
    ("adults", "adolescents"),
    ("sensitive", "resistant"),
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
_CONTRAST = dict(CONTRAST_PAIRS) | {b: a for a, b in CONTRAST_PAIRS}
_VENUE_NOTE = re.compile(
    r"[.:;,]\s*(?:conference|supplement|suppl|meeting|congress|abstracts?)\b",
    re.IGNORECASE,
)
_STOP = {"of", "the", "and", "for", "in", "on", "de", "la", "der", "und"}
#: Articles and conjunctions of journal names in the languages MEDLINE indexes
#: ("Annales Francaises d'Anesthesie et de Reanimation", "Cirugia y Cirujanos").
_JOURNAL_STOP = _STOP | {
    "d",
    "l",
    "et",
    "y",
    "e",
    "du",
    "des",
    "le",
    "les",
    "el",
    "los",
    "las",
    "del",
    "di",
    "da",
    "do",
    "dos",
    "das",
    "die",
    "fur",
    "fuer",
    "voor",
    "en",
}


_FOLD = str.maketrans(
    {"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L"}
)


def _fold_accents(text: str) -> str:
    """Drop accents, keeping case (``Kjøbli`` -> ``Kjobli``)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form of text: accents dropped (``Kjøbli`` -> ``kjobli``)."""
    return _fold_accents(text).lower()


def title_key(title: str) -> str:
    """Title as lower-case words separated by single spaces.

    Accents are dropped (``é`` -> ``e``, ``й`` -> ``и``); letters of every
    script are kept, so Cyrillic, Greek or Korean titles compare as titles.

    Drops markup, a trailing translated-title bracket (``[Chinese]``), brackets
    around a whole translated title, the citation that ends a correction notice
    (see :func:`is_correction`), and all punctuation.
    """
    return _title_key(title)[0]


def is_correction(title: str) -> bool:
    """Whether a title ends with the citation of the article it corrects.

    Web of Science titles a correction ``Title (vol 360, pg 542, 2009)`` and
    Embase ``Title (New England Journal of Medicine (2009) 360 (542-544))``;
    without the citation the title is the corrected article's, so the record
    must be known as a notice before the citation is dropped.
    """
    return _title_key(title)[1]


def _title_key(title: str) -> tuple[str, bool]:
    """Return :func:`title_key` and :func:`is_correction` in one pass."""
    key, correction, _, _ = _title_forms(title)
    return key, correction


def _title_forms(title: str) -> tuple[str, bool, str, str]:
    """Return the title key, whether it is a correction, its clean text and tag.

    The clean text is the title without database notes, in lower case with
    its punctuation, which the notice and part markers are read from; the tag
    is the kind of notice a bare closing tag names ("[Erratum]"), or "".
    """
    text = nz.clean_text(title)
    tag = _NOTICE_TAG.search(text) if text.rstrip(" .")[-1:] in ("]", ")") else None
    if tag:
        text = text[: tag.start()]
    text = _MEDLINE_NOTE.sub("", text)
    text, corrections = _CORRECTION_CITATION.subn("", text)
    if text.startswith("[") and "]" in text:
        # MEDLINE writes a translated title in brackets: "[Title]. [Spanish]"
        inner, _, rest = text[1:].partition("]")
        text = inner + rest
    text = _TRAILING_NOTES.sub("", text).strip()
    text = _MARKUP.sub("", ascii_fold(text))
    clean = " ".join(text.strip(" \"'").split())
    text = text.replace("&", " and ")
    text = _THOUSANDS.sub(r"\1\2", text)  # "10,000" and "10 000" -> 10000
    kind = _TAG_KINDS[tag.group("word").lower()] if tag else ""
    return (
        " ".join(_NON_ALNUM.sub(" ", text).split()),
        bool(corrections),
        clean,
        kind,
    )


def notice_kind(title: str) -> str:
    """Return the kind of notice about another article a title says its item is.

    One of ``correction`` (erratum, corrigendum, correction, addendum; also a
    title ending in the corrected article's citation, see
    :func:`is_correction`), ``retraction``, ``concern`` (expression of
    concern), ``comment`` (comment, commentary, letter to the editor, "Re:"),
    ``reply`` (reply, response, authors' reply) or ``editorial``, named by the
    words that open the title, close it ("Title: a reply", "Title
    [Erratum]") or name a notice anywhere ("... letter to the editor"); ``""``
    for a title that names no notice. Where a title names two ("Reply to comment
    on ..."), the one it opens with counts, and an editorial heading yields to
    the notice it carries ("Editorial expression of concern").

    Parameters
    ----------
    title : str
        The title as exported.

    Returns
    -------
    str
        The kind, or ``""``.
    """
    _, correction, clean, tag = _title_forms(title)
    return _notice_kind(clean, correction, tag)


def _notice_kind(clean: str, correction: bool, tag: str) -> str:
    found = [
        (match.start(), kind)
        for kind, pattern in NOTICE_KINDS
        if any(hint in clean for hint in _NOTICE_HINTS[kind])
        and (match := pattern.search(clean))
    ]
    if correction:
        found.append((len(clean), "correction"))
    if tag:
        found.append((len(clean) + 1, tag))
    if len(found) > 1:
        # "Editorial expression of concern: ...": the notice, not the heading
        found = [f for f in found if f[1] != "editorial"]
    return min(found)[1] if found else ""


def part_markers(title: str) -> frozenset[str]:
    """Return the part or series numbers of a title ("Part II" -> ``{"2"}``).

    Parameters
    ----------
    title : str
        The title as exported.

    Returns
    -------
    frozenset of str
        Numbers as digits (``"2"`` for Part II, Part 2, Pt. 2, Part two, Paper
        2, Second part, "(2)", "II:"), a part's letter (``"b"`` for Part B),
        ``"continued"`` for "(continued)"; empty for a title that is no part.
    """
    return _part_markers(_title_forms(title)[2])


_NO_PARTS: frozenset[str] = frozenset()


#: Words before a part's number, checked before the pattern is searched.
_PART_HINTS = ("part ", "pt.", "pt ", "paper ", "teil ", "parte ", "partie ", "report")


def _part_markers(clean: str) -> frozenset[str]:
    if not clean:
        return _NO_PARTS
    matches: list[re.Match[str]] = []
    if any(hint in clean for hint in _PART_HINTS) or clean.endswith(("part", "paper")):
        matches.extend(_PART_WORDS.finditer(clean))
    if "(" in clean:
        matches.extend(_PART_BRACKETS.finditer(clean))
    if clean[0] in "iv" and (opening := _PART_OPENING.match(clean)):
        matches.append(opening)
    if clean[-1] in "iv." and (closing := _PART_CLOSING.search(clean[-12:])):
        matches.append(closing)
    if not matches:
        return _NO_PARTS
    found = set()
    for match in matches:
        name = match.lastgroup or ""
        value = match.group(name)
        if name == "c":
            found.add("continued")
        elif value in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[value])
        elif value in _ROMAN_VALUES:
            found.add(_ROMAN_VALUES[value])
        else:
            found.add(value.lstrip("0") or value)
    return frozenset(found) if found else _NO_PARTS


def title_variants(title: str) -> tuple[str, ...]:
    """Title keys of each language of a title that joins an original and a translation.

    LILACS, SciELO and some Ovid databases give both titles in one field
    (``Utilidad de los antimicrobianos ...; Are antimicrobials useful ...?``).
    Returns the keys of the parts of at least five words (a shorter part, such
    as "Stroke and aphasia", could match another paper), or ``()`` if the title
    has only one part.
    """
    # split before cleaning: the cleaning takes "<ORIGINAL>" for markup
    parts = _TITLE_JOIN.split(_MEDLINE_NOTE.sub("", title or ""))
    if len(parts) < 2:
        return ()
    keys = [title_key(p + ("]" if p.startswith("[") else "")) for p in parts]
    return tuple(k for k in keys if len(k.split()) >= 5)


def title_numbers(key: str) -> frozenset[str]:
    """Numbers in a title key.

    Digits, Roman numerals after a word that numbers parts ("Part II", "Phase
    III" -> ``2``, ``3``) and a letter after "part" ("Part B"). Other words
    after those ("trial of", "phase cp") are not numbers.
    """
    words = key.split()
    numbers = {w for w in words if w.isdigit()}
    for before, word in itertools.pairwise(words):
        if before in _NUMBERED and word in _ROMAN:
            numbers.add(_ROMAN[word])
        elif before == "part" and len(word) == 1 and word.isalpha():
            numbers.add(word)  # Part A, Part B
    # one shared empty set: most titles carry no number (216 bytes each)
    return frozenset(numbers) if numbers else _NO_PARTS


def contrast_conflict(key_a: str, key_b: str) -> bool:
    """Whether two titles differ by a pair of opposite words (``men``/``women``)."""
    words_a, words_b = set(key_a.split()), set(key_b.split())
    only_a, only_b = words_a - words_b, words_b - words_a
    return any(_CONTRAST.get(w) in only_b for w in only_a)


def surnames(authors: str) -> list[str]:
    """Surname-like words of an author list, in order, lower case.

    Works on ``Surname, Given; ...``, BibTeX ``and`` lists, Vancouver style
    ``Taussig HN, Culhane SE`` and run-together free text such as
    ``Adeli K.Lewis G. F.``: given names' initials are dropped, and of a
    multi-word surname the last word is kept (``van der Graaf`` -> ``graaf``).
    """
    text = _fold_accents(nz.clean_text(authors))
    text = re.sub(r"\bet al\b\.?|\band others\b", " ", text, flags=re.IGNORECASE)
    if ";" in text or re.search(r"\band\b", text):
        parts = re.split(r";|\band\b", text)
    elif _VANCOUVER.match(text.strip()):
        parts = text.split(",")
    else:
        parts = [text]
    out: list[str] = []
    for part in parts:
        if "," in part:
            words = _NAME_WORD.findall(part.split(",", 1)[0])
            if words:
                out.append(words[-1].lower())
            continue
        out.extend(
            w.lower()
            for w in _NAME_WORD.findall(part)
            if not (w.isupper() and len(w) <= 3)
        )
    return out


def name_words(authors: str) -> frozenset[str]:
    """Every name word of an author list (surnames and given names, no initials)."""
    text = _fold_accents(nz.clean_text(authors))
    return frozenset(
        w.lower() for w in _NAME_WORD.findall(text) if not (w.isupper() and len(w) <= 3)
    ) - {"and", "et", "al", "others"}


def journal_words(journal: str) -> list[str]:
    """Words of a journal name without stop words or bracketed notes.

    ``J Pediatr`` -> ``[j, pediatr]``; ``PLoS ONE [Electronic Resource]`` ->
    ``[plos, one]``.
    """
    # "Schweizerische Rundschau fur Medizin Praxis = Revue suisse de medecine
    # Praxis": a parallel title in a second language
    text = nz.clean_text(journal).split(" = ", 1)[0]
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)
    # MEDLINE's full titles carry a remainder after " : " ("Journal of clinical
    # oncology : official journal of the American Society of Clinical
    # Oncology", "JAMA : the journal of ...", "Journal of magnetic resonance
    # imaging : JMRI"); a colon inside a name has no space before it
    # ("Journal of Physics: Condensed Matter")
    text = text.split(" : ", 1)[0]
    # "Circulation. Conference: Resuscitation Science Symposium" -> Circulation
    text = _VENUE_NOTE.split(text, maxsplit=1)[0]
    key = _NON_ALNUM.sub(" ", ascii_fold(text).replace("&", " "))
    return [w for w in key.split() if w not in _JOURNAL_STOP]


def journals_match(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether one journal name is an abbreviation of the other (or equal).

    Word by word, each word of one name abbreviates the other's (``Arch Pediatr
    Adolesc Med`` and ``Archives of Pediatrics and Adolescent Medicine``), or a
    one-word name is the other's abbreviations run together (``BMJ``). Words
    may not be left over: ``J Pediatr`` is not ``J Pediatr Surg``.
    """
    if not a or not b:
        return False
    if a == b:
        return True
    if len(a) == len(b):
        short_long = [
            (x, y) if len(x) <= len(y) else (y, x) for x, y in zip(a, b, strict=True)
        ]
        if all(_abbreviates(x, y) for x, y in short_long):
            return True
    return _run_together(a, b)


def venues_match(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two venue names are the same journal or conference.

    Besides :func:`journals_match`, a conference's acronym matches its name:
    ``ICIS: Transforming Society`` and ``International Conference on
    Information Systems``.
    """
    if journals_match(a, b):
        return True

    def initials(words: Sequence[str]) -> str:
        kept = [w for w in words if w != "proceedings" and not w[0].isdigit()]
        return "".join(w[0] for w in kept)

    return any(
        len(w) >= 3 and w == initials(other)
        for words, other in ((a, b), (b, a))
        for w in words
    )


def _abbreviates(short: str, word: str) -> bool:
    """Tell whether ``short`` abbreviates ``word``.

    It does as a prefix (``pediatr``) or, with the same first letter, as a
    subsequence of its letters (``dtsch`` for ``deutsche``).
    """
    if word.startswith(short):
        return True
    if not short or short[0] != word[0] or len(short) < 3:
        return False
    letters = iter(word)
    return all(c in letters for c in short)


def _run_together(a: Sequence[str], b: Sequence[str]) -> bool:
    """Tell whether a one-word name is the other's abbreviations run together.

    For example ``jthoraccardiovascsurg`` and ``BMJ``.
    """
    one, words = (a[0], b) if len(a) == 1 else (b[0], a) if len(b) == 1 else ("", [])
    if not one or len(words) < 2:
        return False

    def match(i: int, j: int) -> bool:
        if i == len(one) or j == len(words):
            return i == len(one) and j == len(words)
        word = words[j]
        for k in range(min(len(word), len(one) - i), 0, -1):
            if one[i : i + k] == word[:k] and match(i + k, j + 1):
                return True
        return False

    return match(0, 0)


def _excel_date_pages(text: str) -> str:
    """Undo a spreadsheet's reading of a page range as a date.

    A CSV opened in a spreadsheet turns ``21-8`` (pages 21-28) into the date
    ``21-Aug``, and ``11-19``, which cannot be a day and month, into the month
    and year ``Nov-19``: the month is the page number.
    """
    match = _DAY_MONTH.match(text)
    if match and match.group(2).lower() in _MONTHS:
        return f"{match.group(1)}-{_MONTHS[match.group(2).lower()]}"
    match = _MONTH_YEAR.match(text)
    if match and match.group(1).lower() in _MONTHS:
        return f"{_MONTHS[match.group(1).lower()]}-{match.group(2)}"
    return text


def page_range(pages: str) -> tuple[str, str]:
    """First and last page as digit strings (``739-46`` -> ``739``, ``746``).

    An article printed in several languages lists several ranges in any order
    (``233-8, 230-5, 246-51``); the range with the lowest first page is used.
    """
    text = _excel_date_pages(nz.clean_text(pages).strip('"'))
    ranges = [r for r in _RANGE_SEP.split(text) if r.strip()]
    if len(ranges) > 1 and all(_NUMERIC_RANGE.match(r.strip()) for r in ranges):
        text = min(ranges, key=lambda r: int(_PAGE.search(r).group(1)))  # type: ignore[union-attr]
    full = nz.norm_pages(text)
    if not full:
        return "", ""
    first, _, last = full.partition("-")
    first_match, last_match = _PAGE.search(first), _PAGE.search(last)
    return (
        first_match.group(1).lstrip("0") if first_match else "",
        last_match.group(1).lstrip("0") if last_match else "",
    )


def digits(value: str) -> str:
    """Return the first run of digits in a value (``Vol. 12`` -> ``12``)."""
    match = re.search(r"\d+", value or "")
    return match.group(0).lstrip("0") if match else ""


@dataclass(slots=True)
class MatchKeys:
    """Everything a record is compared on, computed once per record.

    Short values that recur across records (surnames, name and journal words,
    volume, issue and pages) are interned and kept in tuples, so a million
    records share one copy of each word.
    """

    title: str
    variants: tuple[str, ...]
    numbers: frozenset[str]
    surnames: tuple[str, ...]
    names: tuple[str, ...]
    first_author: str
    year: int | None
    journal: tuple[str, ...]
    volume: str
    issue: str
    first_page: str
    last_page: str
    elocator: bool
    doi: str
    pmid: str
    notice: bool
    conference: bool
    kind: str = ""
    update: int = 0
    #: The kind of notice the title names (:func:`notice_kind`), or "".
    notice_kind: str = ""
    #: The part or series numbers of the title (:func:`part_markers`).
    parts: frozenset[str] = _NO_PARTS


#: One int object per year, shared by the records of that year.
_YEARS: dict[int, int] = {}


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
    title, correction, clean, tag = _title_forms(fields.get("title", ""))
    kind_of_notice = _notice_kind(clean, correction, tag)
    names = surnames(fields.get("authors", ""))
    year_text = nz.norm_year(fields.get("year", ""))
    volume = digits(fields.get("volume", ""))
    if volume and volume == year_text:
        volume = ""  # a year written in the volume field says nothing more
    kind = fields.get("type", "")
    venue = ascii_fold(fields.get("journal", ""))
    first_page, last_page = page_range(fields.get("pages", ""))
    if _PAGE_COUNT.match(fields.get("pages", "").strip()):
        first_page, last_page = "", ""  # "215 p": a book's or thesis's length
    if first_page and first_page == year_text:
        first_page, last_page = "", ""  # a date in the pages field ("2016 May")
    intern = sys.intern
    family = tuple(map(intern, names))
    return MatchKeys(
        title=title,
        variants=title_variants(fields.get("title", "")),
        numbers=title_numbers(title),
        surnames=family,
        names=tuple(sorted(map(intern, name_words(fields.get("authors", ""))))),
        first_author=family[0] if family else "",
        year=_YEARS.setdefault(int(year_text), int(year_text)) if year_text else None,
        journal=tuple(map(intern, journal_words(fields.get("journal", "")))),
        volume=intern(volume),
        issue=intern(digits(fields.get("issue", ""))),
        first_page=intern(first_page),
        last_page=intern(last_page),
        elocator=bool(_ELOCATOR.match(fields.get("pages", "").strip())),
        doi=nz.doi_key(fields.get("doi", "")),  # DOIs compare without case
        pmid=nz.norm_pmid(fields.get("pmid", "")),
        notice=kind in NOTICE_TYPES or bool(kind_of_notice),
        conference=kind == "conference" or bool(CONFERENCE_WORDS.search(venue)),
        kind=kind,
        update=update,
        notice_kind=kind_of_notice,
        parts=_part_markers(clean),
    )
