"""Comparing two records: field similarities, and the rule that decides.

Rules are tried in order; the first that applies gives the verdict
(``duplicate``, ``distinct`` or ``uncertain``) and its name is reported with
the pair. "Must not merge" rules come first, so no similarity, however high,
can merge an erratum with its article, Part I with Part II, a conference
abstract with the later journal article, or two papers whose titles differ by
opposite words or numbers. Look-alikes whose titles name a notice or a part
(:func:`look_alike`) are never merged automatically, even with the same DOI or
pages: those pairs go to reviewers and stay apart until one decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from evsynth.records.dedup.keys import (
    NOTICE_TYPES,
    STRICT_NOTICES,
    MatchKeys,
    contrast_conflict,
    journals_match,
    venues_match,
)

DUPLICATE, DISTINCT, UNCERTAIN = "duplicate", "distinct", "uncertain"

#: Rules whose "distinct" can never be overridden by chaining through a third record.
HARD_DISTINCT = {
    "notice_vs_paper",
    "different_parts",
    "opposite_words",
    "different_doi",
    "different_pmid",
    "years_apart",
    "conference_vs_journal",
    "reviewer",
    "part_vs_whole",
    "different_notices",
}
#: Look-alikes that share a citation (journal, volume and first page, or a DOI
#: or PMID): sent to reviewers, and kept in separate clusters until a reviewer
#: says they are one item.
KEEP_APART = {
    "notice_vs_paper_same_citation",
    "different_notices_same_citation",
    "part_vs_whole_same_citation",
    "different_parts_same_citation",
}


@dataclass(slots=True)
class Comparison:
    """Similarities of one candidate pair and the decision taken on it."""

    title: float
    authors: float | None
    year_gap: int | None
    journal: bool | None
    volume: bool | None
    pages: bool | None
    doi: bool | None
    pmid: bool | None
    verdict: str
    rule: str

    @property
    def score(self) -> float:
        """Confidence used to order merges (higher first)."""
        bonus = sum(bool(v) for v in (self.doi, self.pmid, self.pages, self.volume))
        return self.title + 0.1 * (self.authors or 0.0) + 0.05 * bonus


def _issues_differ(a: MatchKeys, b: MatchKeys) -> bool:
    """Whether two records' issue numbers tell them apart.

    Exports often carry a record number in the issue field (``1347``), so a
    difference counts only between plausible issue numbers, or for short,
    recurring titles ("Editor's comments") whatever the numbers.
    """
    if not a.issue or not b.issue or a.issue == b.issue:
        return False
    if a.issue == b.volume or b.issue == a.volume:
        return False  # one export wrote the volume in the issue field
    plausible = len(a.issue) <= 2 and len(b.issue) <= 2
    short_title = min(len(a.title.split()), len(b.title.split())) < 4
    return plausible or short_title


#: Record types published in journals.
_JOURNAL_KINDS = {"article", "review"}


def _in_journal(keys: MatchKeys) -> bool:
    """Whether a record is a journal item.

    By its type, or, where the export gives none (``other``), by a journal that
    is no conference venue, with a volume or pages.
    """
    if keys.kind not in ("", "other"):
        return keys.kind in _JOURNAL_KINDS
    return bool(
        keys.journal and not keys.conference and (keys.volume or keys.first_page)
    )


def _page_numbers(keys: MatchKeys) -> tuple[int, int] | None:
    """Return a record's first and last page as numbers (a single page is both).

    ``None`` unless the pages are numbers.
    """
    try:
        first = int(keys.first_page)
        return first, int(keys.last_page) if keys.last_page else first
    except ValueError:
        return None


def _overlap(a: MatchKeys, b: MatchKeys) -> bool:
    """Whether two page ranges share a page (a single page counts as a range)."""
    pages_a, pages_b = _page_numbers(a), _page_numbers(b)
    if pages_a is None or pages_b is None:
        return False
    return pages_a[0] <= pages_b[1] and pages_b[0] <= pages_a[1]


def _span(keys: MatchKeys) -> int | None:
    """Return the number of pages of a record's range (``None`` unless both ends are numbers)."""
    pages = _page_numbers(keys)
    if pages is None or not keys.last_page:
        return None
    first, last = pages
    return last - first + 1 if last >= first else None


def _multipage(a: MatchKeys, b: MatchKeys) -> bool:
    """Whether both records give a page range of two pages or more."""
    span_a, span_b = _span(a), _span(b)
    return span_a is not None and span_b is not None and min(span_a, span_b) >= 2


def _same_article(a: MatchKeys, b: MatchKeys, title: float) -> bool:
    """Whether two records carry one long title, one author list and one journal.

    The title must be identical (six words or more), the author lists the same
    surnames in the same order (two authors or more), and both records must
    give a page range of two pages or more: errata, replies and conference
    abstracts that repeat an article's title are single pages.
    """
    return (
        title == 1.0
        and len(a.title.split()) >= 6
        and len(a.surnames) >= 2
        and a.surnames == b.surnames
        and _multipage(a, b)
        and journals_match(a.journal, b.journal)
    )


def _republished(
    a: MatchKeys, b: MatchKeys, title: float, year_gap: int | None
) -> bool:
    """Whether a journal printed one article twice, a year apart at most.

    The same long title, the same author list and the same number of pages
    (three or more) in one journal, under another volume, pages or DOI: a
    reprint of the article (a journal reprints a paper that was printed with
    errors, under a new DOI). Titles that differ in a word, a different author
    list or another length keep records apart.
    """
    span = _span(a)
    return (
        year_gap is not None
        and year_gap <= 1
        and span is not None
        and span >= 3
        and span == _span(b)
        and _same_article(a, b, title)
    )


#: The notices a record type may be, for a record whose title names none.
_TYPE_NOTICES = {
    "erratum": frozenset({"correction"}),
    "retraction": frozenset({"retraction"}),
    "comment": frozenset({"comment", "reply", "concern"}),
    "letter": frozenset({"comment", "reply", "concern"}),
    "editorial": frozenset({"editorial"}),
}


#: Number words of four letters or more (shorter words are never taken for
#: typos): a changed number tells parts apart, it is no typo.
_NUMBER_WORDS = frozenset(
    {"three", "four", "five", "seven", "eight", "nine", "first", "second"}
    | {"third", "fourth", "fifth", "viii"}
)


def _marker_typo(a: str, b: str) -> bool:
    """Whether two title keys are one title with a typo in one word.

    The same letters with a space lost or moved ("ARejoinder to ..."), or
    the same words but one, each of four letters or more and no number, two
    edits apart at most ("a commenutary on ..." for "a commentary on ...",
    "prat II" for "part II"). A marker dropped or added changes the letters
    or the number of words, and a changed part number ("Part I", "Part II")
    is a number, so neither is taken for a typo.
    """
    if a == b:
        return False  # the marker is outside the key: "[Erratum]", "(vol 3, pg 5)"
    if a.replace(" ", "") == b.replace(" ", ""):
        return True  # a space lost or moved: "ARejoinder to ..."
    words_a, words_b = a.split(), b.split()
    if len(words_a) != len(words_b) or len(words_a) < 3:
        return False
    differ = [(x, y) for x, y in zip(words_a, words_b, strict=True) if x != y]
    if len(differ) != 1:
        return False
    x, y = differ[0]
    return (
        min(len(x), len(y)) >= 4
        and not (x.isdigit() or y.isdigit())
        and x not in _NUMBER_WORDS
        and y not in _NUMBER_WORDS
        and Levenshtein.distance(x, y) <= 2
    )


def look_alike(a: MatchKeys, b: MatchKeys) -> str:
    """Name the rule that keeps two look-alike titles apart, or return ``""``.

    ``notice_vs_paper``: one title names a notice about an article (an
    erratum, correction, corrigendum, retraction, expression of concern,
    comment, letter to the editor, reply or response;
    :func:`~evsynth.records.dedup.keys.notice_kind`) and the other names no
    notice and is no notice by its record type. ``different_notices``: the
    titles name different kinds of notice (an erratum and a reply, or such a
    notice and an editorial), or one names a notice that the other's record
    type is not (an erratum and a record typed letter). ``part_vs_whole``: one
    title carries a part or series marker ("Part II", "Pt. 2", "(2)", "II:";
    :func:`~evsynth.records.dedup.keys.part_markers`) and the other none;
    ``different_parts``: both carry markers, and they differ.

    A record that is a notice by its type only, with an ordinary title, is
    left to the other rules against a record whose title names a notice it may
    be: databases disagree on types more than on titles. So is a pair whose
    titles differ only by a typo in the word that makes one a notice or a part
    ("A commenutary on ...", "Prat II"): the same title, copied with an error.

    Parameters
    ----------
    a, b : MatchKeys
        The records' keys.

    Returns
    -------
    str
        The rule's name, or ``""`` if the titles are no such look-alikes.
    """
    kind_a, kind_b = a.notice_kind, b.notice_kind
    if kind_a != kind_b and (kind_a in STRICT_NOTICES or kind_b in STRICT_NOTICES):
        if kind_a and kind_b:
            return "different_notices"
        other = b if kind_a else a
        if not other.notice:
            return "" if _marker_typo(a.title, b.title) else "notice_vs_paper"
        if (kind_a or kind_b) not in _TYPE_NOTICES.get(other.kind, ()):
            return "different_notices"  # "Erratum: ..." and a record typed letter
    if a.parts != b.parts:
        if a.parts and b.parts:
            return "different_parts"
        return "" if _marker_typo(a.title, b.title) else "part_vs_whole"
    return ""


def _same(a: str, b: str) -> bool | None:
    return None if not a or not b else a == b


def _misplaced(value: str, field: str, other: MatchKeys) -> bool:
    """Whether a value is found in another citation field of the other record.

    A missing column in an export shifts the volume into the issue field and
    the issue into the pages ("26 / 9 / 1746" read as "— / 26 / 9"); a
    supplement number ends up as the volume. Such a difference is no evidence.
    """
    places = {"volume": other.volume, "issue": other.issue, "page": other.first_page}
    return any(value == v for name, v in places.items() if name != field and v)


def _kicker(a: str, b: str) -> bool:
    """Whether one title is the other with words put in front of it (six words or more)."""
    short, long = sorted((a, b), key=len)
    return len(short.split()) >= 6 and long != short and long.endswith(" " + short)


def best_title_similarity(a: MatchKeys, b: MatchKeys) -> float:
    """Title similarity, also across the languages of a two-language title."""
    similarity = title_similarity(a.title, b.title)
    if similarity >= 0.9 or not (a.variants or b.variants):
        return similarity
    return max(
        similarity,
        *(
            title_similarity(x, y)
            for x in a.variants or (a.title,)
            for y in b.variants or (b.title,)
        ),
    )


def title_similarity(a: str, b: str) -> float:
    """Title similarity in [0, 1]: the better of rapidfuzz's ratio and token-sort ratio."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100.0


def author_match(a: MatchKeys, b: MatchKeys) -> float | None:
    """Return how well two author lists agree, in [0, 1] (``None`` if one is empty).

    The surname similarity of :func:`author_similarity`, or, when the two lists
    share no surname at all because one database swapped given names and
    surnames ("Andrea, C." for "Carignani, Andrea"), the share of one list's
    surnames found among all the other's name words.
    """
    similarity = author_similarity(a.surnames, b.surnames)
    if similarity is None or similarity >= 0.8 or set(a.surnames) & set(b.surnames):
        return similarity
    swapped = max(
        sum(s in b.names for s in a.surnames) / len(a.surnames),
        sum(s in a.names for s in b.surnames) / len(b.surnames),
    )
    return max(similarity, swapped)


def author_similarity(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Return the author similarity in [0, 1] from surnames (``None`` if a list is empty).

    A truncated list ("et al.") matches the full one: the token-set ratio is 1
    when one set of surnames contains the other.
    """
    if not a or not b:
        return None
    return fuzz.token_set_ratio(" ".join(a), " ".join(b)) / 100.0


def compare(a: MatchKeys, b: MatchKeys) -> Comparison:
    """Compare two records and decide whether they are the same citation.

    Parameters
    ----------
    a, b : MatchKeys
        The records' keys.

    Returns
    -------
    Comparison
        Similarities, verdict and the name of the deciding rule.
    """
    title = best_title_similarity(a, b)
    authors = author_match(a, b)
    year_gap = (
        abs(a.year - b.year) if a.year is not None and b.year is not None else None
    )
    journal = journals_match(a.journal, b.journal) if a.journal and b.journal else None
    volume = _same(a.volume, b.volume)
    if volume is False and (
        _misplaced(a.volume, "volume", b) or _misplaced(b.volume, "volume", a)
    ):
        volume = None
    pages = _same(a.first_page, b.first_page)
    if pages is False and (
        _misplaced(a.first_page, "page", b) or _misplaced(b.first_page, "page", a)
    ):
        pages = None
    if pages is False:
        if a.elocator != b.elocator or "1" in (a.first_page, b.first_page):
            pages = None  # print pages against an article number such as c1804
        elif a.last_page and a.last_page == b.last_page:
            pages = True  # a typo in the first page: "2297-2108" for "2097-2108"
        elif journal and _overlap(a, b):
            pages = None  # "488" within "487-488": one export got the range wrong
    doi = _same(a.doi, b.doi)
    pmid = _same(a.pmid, b.pmid)

    def verdict(kind: str, rule: str) -> Comparison:
        return Comparison(
            title, authors, year_gap, journal, volume, pages, doi, pmid, kind, rule
        )

    same_place = bool(pages and volume and journal is not False)
    # --- must not merge -------------------------------------------------------
    kept_apart = look_alike(a, b)
    if kept_apart:
        # an erratum, a reply or Part II is never the article it concerns,
        # whatever the other fields say; where they share the citation or an
        # identifier (one export gave the notice the article's DOI or pages,
        # or dropped the marker from one title) a reviewer decides
        if same_place or doi or pmid:
            return verdict(UNCERTAIN, f"{kept_apart}_same_citation")
        return verdict(DISTINCT, kept_apart)
    if (
        a.notice != b.notice
        and not same_place
        and not (
            (a.kind in NOTICE_TYPES) == (b.kind in NOTICE_TYPES)
            and _marker_typo(a.title, b.title)
        )
    ):
        # an erratum or comment has its own pages; the same pages mean one item
        # whose title one database prefixed with "Erratum:" and another did not
        return verdict(DISTINCT, "notice_vs_paper")
    if a.numbers and b.numbers and a.numbers != b.numbers and not same_place:
        # parts of a series have pages of their own; with the same pages the
        # numbers come from a note in one title ("[Erratum in 2003;142:616]")
        return verdict(DISTINCT, "different_parts")
    if title < 1.0 and contrast_conflict(a.title, b.title):
        return verdict(DISTINCT, "opposite_words")
    if (
        a.conference != b.conference
        and not journal
        and (_in_journal(a) or _in_journal(b))
    ):
        return verdict(DISTINCT, "conference_vs_journal")
    if doi is False:
        if (
            title == 1.0
            and len(a.title.split()) >= 6
            and pages
            and volume is not False
            and not _issues_differ(a, b)
            and year_gap == 0
            and journal is not False
            and (authors or 0) >= 0.95
        ):
            # the very same citation under a long title: one export carries a
            # wrong DOI (the supplement's, or another journal's record). Short,
            # recurring titles ("Editorial introduction") are told apart by DOI.
            return verdict(DUPLICATE, "same_citation_other_doi")
        if _republished(a, b, title, year_gap):
            return verdict(DUPLICATE, "republished")
        return verdict(DISTINCT, "different_doi")
    if pmid is False:
        return verdict(DISTINCT, "different_pmid")
    if year_gap is not None and year_gap > 1:
        # journal, volume and a printed first page pin one article: two years
        # apart there, one of the years is wrong. An article number (a
        # Cochrane review's CD006828) stays with each version of the review.
        # The same DOI or PMID with the same title is one item whatever the
        # years (online first, then in print two years later).
        printed = not (a.elocator or b.elocator) and a.first_page.isdigit()
        same_item = bool(doi or pmid) and title >= 0.9
        if not (same_item or (same_place and printed and year_gap == 2)):
            return verdict(DISTINCT, "years_apart")

    # --- same identifier ------------------------------------------------------
    same_id = "same_doi" if doi else "same_pmid"
    if (doi or pmid) and title >= 0.9:
        return verdict(DUPLICATE, same_id)
    full_range = bool(a.last_page and a.last_page == b.last_page)
    contained = (
        min(len(a.title), len(b.title)) >= 20
        and fuzz.partial_ratio(a.title, b.title) >= 95
    )
    if (
        (doi or pmid)
        and (authors or 0) >= 0.9
        and (title >= 0.7 or contained or (same_place and full_range))
    ):
        # a title cut short or translated by one database; the authors must
        # agree too, and a translation must keep the page range, as the
        # abstracts of a supplement can share the supplement's DOI
        return verdict(DUPLICATE, same_id)
    if (doi or pmid) and authors is not None and authors >= 0.9:
        return verdict(UNCERTAIN, "same_id_different_title")

    # --- citation details -----------------------------------------------------
    # Where the first pages agree a different issue number is an error of one
    # export; without pages it may be all that tells apart a recurring item
    # ("Editor's comments") in two issues of one volume.
    details_conflict = (
        pages is False or volume is False or (not pages and _issues_differ(a, b))
    )
    authors_ok = authors is None or authors >= 0.8
    if title >= 0.98 and same_place and year_gap == 0:
        return verdict(DUPLICATE, "same_title_same_pages")
    if (
        same_place
        and full_range
        and journal
        and year_gap == 0
        and (
            ((authors or 0) >= 0.9 and title >= 0.6)
            or (authors is None and title >= 0.7 and _multipage(a, b))
        )
    ):
        # same journal, year, volume, page range and authors: one article, its
        # title translated or abridged by one database (single pages are left
        # out: conference abstracts share a supplement's page). Where one
        # database gives no authors, the range must span pages and the titles
        # must agree better.
        return verdict(DUPLICATE, "same_citation")
    # a short title ("Editorial", "Introduction") needs citation details to merge
    informative = min(len(a.title.split()), len(b.title.split())) >= 4
    if title >= 0.95 and authors_ok and not details_conflict:
        if (year_gap == 0 and (informative or pages or volume)) or (
            pages or volume or (journal and informative)
        ):
            return verdict(DUPLICATE, "same_title_and_details")
        if year_gap is None and (authors or 0) >= 0.9:
            return verdict(DUPLICATE, "same_title_and_authors")
        if (
            a.conference
            and b.conference
            and title >= 0.98
            and (authors or 0) >= 0.9
            and venues_match(a.journal, b.journal)
        ):
            # proceedings are dated by the conference or by publication
            return verdict(DUPLICATE, "conference_dated_twice")
        return verdict(UNCERTAIN, "same_title_year_apart")
    if title >= 0.85 and authors_ok and (pages and (volume or year_gap == 0)):
        return verdict(DUPLICATE, "similar_title_same_pages")
    if (
        pages
        and journal
        and volume is not False
        and authors_ok
        and (year_gap or 0) <= 1
        and contained
    ):
        # one title holds the other, with a prefix ("MEDICAL PROGRESS"), a
        # suffix (a citation pasted in), or cut short
        return verdict(DUPLICATE, "title_contained_same_pages")
    if (
        not details_conflict
        and journal
        and year_gap == 0
        and (authors or 0) >= 0.9
        and _kicker(a.title, b.title)
    ):
        # a magazine prints a kicker before the headline that one database
        # keeps ("How did it ... Upwork's CEO on how ..."); a longer *ending*
        # (a subtitle, "2-year results") is not taken as the same item
        return verdict(DUPLICATE, "title_with_kicker")
    if title >= 0.95 and details_conflict:
        if _republished(a, b, title, year_gap):
            return verdict(DUPLICATE, "republished")
        if (
            volume
            and year_gap == 0
            and not _issues_differ(a, b)
            and _same_article(a, b, title)
        ):
            # one export's pages are wrong ("2-8" for "125-128")
            return verdict(DUPLICATE, "same_article_other_pages")
        if title == 1.0 and (authors or 0) >= 0.95 and year_gap == 0:
            return verdict(UNCERTAIN, "same_title_other_pages")
        return verdict(DISTINCT, "same_title_other_pages")
    if title >= 0.85 and (authors is None or authors >= 0.6):
        return verdict(UNCERTAIN, "similar_title")
    return verdict(DISTINCT, "different_title")
