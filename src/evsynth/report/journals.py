"""Journal names as the report's tables show them: one consistent case.

Databases write the same journal in different cases: Web of Science in capitals
(``PILOT AND FEASIBILITY STUDIES``), MEDLINE's ``JT`` and Google Scholar in
sentence case (``Journal of adolescence``), Scopus and most publishers in title
case (``Journal of Adolescence``). The records keep what the export wrote; the
tables of included studies (HTML report, XLSX, DOCX and the ``journal_display``
column of ``included_studies.csv``) show every name in title case through
:func:`display_journal`.
"""

from __future__ import annotations

import re

__all__ = ["ACRONYMS", "SMALL_WORDS", "display_journal", "journal_case"]

#: Words written in lower case inside a title-cased name (never first, never
#: after a colon): English articles, conjunctions and short prepositions, and
#: the particles of journal names in other languages.
SMALL_WORDS: frozenset[str] = frozenset(
    {
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "nor",
        "of",
        "on",
        "or",
        "per",
        "the",
        "to",
        "via",
        "vs",
        "with",
        # other languages
        "da",
        "das",
        "de",
        "del",
        "della",
        "der",
        "des",
        "di",
        "die",
        "do",
        "du",
        "e",
        "em",
        "en",
        "et",
        "für",
        "fur",
        "la",
        "le",
        "les",
        "och",
        "og",
        "und",
        "van",
        "voor",
        "von",
        "y",
    }
)

#: Words with a fixed spelling, by their lower-case form: acronyms and brand
#: names journals use (``BMJ Open``, ``JAMA Pediatrics``, ``PLOS ONE``).
ACRONYMS: dict[str, str] = {
    word.lower(): word
    for word in (
        "ACM",
        "ADHD",
        "AIDS",
        "AMA",
        "APA",
        "BJOG",
        "BJPsych",
        "BMC",
        "BMJ",
        "CMAJ",
        "CNS",
        "EU",
        "HIV",
        "IEEE",
        "JAACAP",
        "JAMA",
        "JBI",
        "JCPP",
        "JMIR",
        "MMWR",
        "NEJM",
        "NHS",
        "OECD",
        "PLOS",
        "PNAS",
        "QJM",
        "SSM",
        "UK",
        "USA",
        "eHealth",
        "mHealth",
        "uHealth",
        "npj",
    )
}

#: Whole names with a fixed spelling, by their lower-case form.
_WHOLE_NAMES: dict[str, str] = {"plos one": "PLOS ONE"}

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_ROMAN = re.compile(r"^(?:X{0,3})(?:IX|IV|V?I{0,3})$", re.IGNORECASE)
_BREAK = re.compile(r"[:.?!]\s*$")


def journal_case(name: str) -> str:
    """Say how a journal name is cased.

    Parameters
    ----------
    name : str
        A journal name as a record holds it.

    Returns
    -------
    str
        ``"upper"`` (no lower-case letter, at least two letters), ``"lower"``
        (no upper-case letter), ``"sentence"`` (a word after the first that
        is not a small word is all in lower case, as in ``Journal of
        adolescence`` or ``BMJ open``, or the first word is an acronym not in
        capitals, as in ``Bmj``), ``"title"`` otherwise (names already
        in title case, and names cased on purpose such as ``eLife``,
        ``PLoS ONE`` or ``npj Digital Medicine``), or ``""`` without letters.
    """
    letters = [c for c in name if c.isalpha()]
    if not letters:
        return ""
    if not any(c.islower() for c in letters):
        return "upper" if len(letters) > 1 else "title"
    if not any(c.isupper() for c in letters):
        return "lower"
    words = _WORD.findall(name)
    lead = words[0].lower() if words else ""
    capitals = sum(c.isupper() for c in words[0]) if words else 0
    if lead in ACRONYMS and words[0] != ACRONYMS[lead] and capitals < 2:
        return "sentence"  # Google Scholar's "Bmj open", "Jama pediatrics"
    for word in words[1:]:
        key = word.lower()
        if key in ACRONYMS and word == ACRONYMS[key]:
            continue
        if key in SMALL_WORDS or not word[0].isalpha():
            continue
        if word == key:
            return "sentence"
    return "title"


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def display_journal(name: str | None) -> str:
    """Show a journal name in title case, whatever case the export wrote.

    Names in capitals, in lower case or in sentence case are title-cased: every
    word gets a capital initial, except the small words of :data:`SMALL_WORDS`
    inside the name (never the first word, nor the first word after a colon);
    acronyms and brands of :data:`ACRONYMS` keep their spelling (``BMJ``,
    ``JAMA``, ``PLOS ONE``), Roman numerals are capitals (``Part II``) and,
    in a sentence-cased name, every word that already has a capital
    (``Society``, ``JMIR``). Names already in title case, and names cased on
    purpose (``eLife``, ``PLoS ONE``, ``npj Digital Medicine``), are returned
    unchanged. Only the case of letters changes, never the words, spacing or
    punctuation.

    Parameters
    ----------
    name : str or None
        The journal (or conference, publisher) name as the record holds it.

    Returns
    -------
    str
        The name to show; ``""`` for None.

    Examples
    --------
    >>> display_journal("PILOT AND FEASIBILITY STUDIES")
    'Pilot and Feasibility Studies'
    >>> display_journal("Child: care, health and development")
    'Child: Care, Health and Development'
    >>> display_journal("BMJ OPEN")
    'BMJ Open'
    """
    text = "" if name is None else str(name)
    style = journal_case(text)
    if style in ("", "title"):
        return text
    whole = _WHOLE_NAMES.get(text.strip().lower())
    if whole is not None:
        return text.replace(text.strip(), whole)
    out: list[str] = []
    end = 0
    first = True
    for match in _WORD.finditer(text):
        before = text[end : match.start()]
        word = match.group()
        key = word.lower()
        starts = first or bool(_BREAK.search(text[: match.start()]))
        if key in ACRONYMS:
            shown = ACRONYMS[key]
        elif style == "sentence" and any(c.isupper() for c in word):
            shown = word
        elif len(word) > 1 and _ROMAN.match(word):
            shown = word.upper()
        elif key in SMALL_WORDS and not starts:
            shown = key
        else:
            shown = _capital(word)
        out.append(before + shown)
        end = match.end()
        first = False
    out.append(text[end:])
    return "".join(out)
