"""Deduplication: normalisation keys, must-not-merge rules, updates, reviewer
verdicts, and a regression guard on the smallest labelled sets."""

from __future__ import annotations

import importlib.util
import re
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsynth.errors import InputError
from evsynth.records.dedup import deduplicate
from evsynth.records.dedup import keys as k
from evsynth.records.dedup.rules import (
    DISTINCT,
    DUPLICATE,
    KEEP_APART,
    UNCERTAIN,
    compare,
)
from tests.conftest import REPO

BASE = {
    "title": "Impact of a mentoring and skills group program on mental health outcomes "
    "for maltreated children in foster care",
    "authors": "Taussig, Heather N; Culhane, Sara E",
    "year": "2010",
    "journal": "Archives of Pediatrics & Adolescent Medicine",
    "volume": "164",
    "issue": "8",
    "pages": "739-746",
    "doi": "10.1001/archpediatrics.2010.124",
    "type": "article",
}


def decide(a: dict, b: dict):
    return compare(k.match_keys(a), k.match_keys(b))


def variant(**changes):
    record = dict(BASE)
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


# --- normalisation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Mentoring in Foster Care.", "mentoring in foster care"),
        ("MENTORING IN FOSTER CARE", "mentoring in foster care"),
        ("Mentoring <i>in</i> foster&nbsp;care", "mentoring in foster care"),
        ("Mentoring in {F}oster \\textit{care}", "mentoring in foster care"),
        ("Mentoring in Bodø: Kjøbli's études", "mentoring in bodo kjobli s etudes"),
        ("Efficacy of batroxobin. [Chinese]", "efficacy of batroxobin"),
        ("[Efficacy of batroxobin]. [Article in German]", "efficacy of batroxobin"),
        ("Triage study (ALTS). [Review] [23 refs]", "triage study alts"),
        ("Mentoring & befriending", "mentoring and befriending"),
        # MEDLINE's notes about the article, nested brackets, or cut short
        (
            (
                "Eculizumab for aHUS.[Erratum appears in N Engl J Med. 2009 Jun 4;"
                "360(23):2487 Note: Philipp, Thomas [added]]"
            ),
            "eculizumab for ahus",
        ),
        (
            "Risk of precancer.[Erratum appears in Cancer Epidemiol Biomarke",
            "risk of precancer",
        ),
        ("Mentoring [Comment in: BMJ 2010;340:c12] outcomes", "mentoring outcomes"),
        # letters of every script are kept; accents and breves dropped
        (
            "Платформенная занятость: масштабы неустойчивости.",
            "платформенная занятость масштабы неустоичивости",
        ),
        ("ЗАЙНЯТІСТЬ І МОТИВАЦІЯ ПРАЦІ", "заинятість і мотивація праці"),
        ("Η μέντορας στην αναδοχή", "η μεντορας στην αναδοχη"),
    ],
)
def test_title_key(raw, key):
    assert k.title_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "variants"),
    [
        (
            (
                "Utilidad de los antimicrobianos en la toracostomía cerrada por trauma; "
                "Are antimicrobials useful in closed thoracostomy due to trauma?"
            ),
            (
                "utilidad de los antimicrobianos en la toracostomia cerrada por trauma",
                "are antimicrobials useful in closed thoracostomy due to trauma",
            ),
        ),
        (
            (
                "[Incentive spirometry brings benefits after revascularization] TO: "
                "Espirometria incentivada es beneficiosa despues"
            ),
            (
                "incentive spirometry brings benefits after revascularization",
                "espirometria incentivada es beneficiosa despues",
            ),
        ),
        (
            (
                "[Neoadjuvant chemotherapy in stage IIIA lung cancer] <ORIGINAL> "
                "NEOADJUVANTE CHEMOTHERAPIE IM STADIUM IIIA"
            ),
            (
                "neoadjuvant chemotherapy in stage iiia lung cancer",
                "neoadjuvante chemotherapie im stadium iiia",
            ),
        ),
        ("Mentoring in foster care", ()),
        # a short part could match another paper: not used
        ("Stroke and aphasia; capacity", ()),
    ],
)
def test_title_variants(raw, variants):
    assert k.title_variants(raw) == variants


@pytest.mark.parametrize(
    ("authors", "names"),
    [
        ("Taussig, Heather N; Culhane, Sara E", ["taussig", "culhane"]),
        ("Taussig HN, Culhane SE", ["taussig", "culhane"]),
        ("TAUSSIG HN", ["taussig"]),
        ("Taussig, H. N. and Culhane, S. E.", ["taussig", "culhane"]),
        ("Taussig, H.; Culhane, S.; et al.", ["taussig", "culhane"]),
        ("van der Graaf, Y; Molijn, A", ["graaf", "molijn"]),
        ("Adeli K.Lewis G. F.", ["adeli", "lewis"]),
        ("Müller, Jörg", ["muller"]),
    ],
)
def test_surnames(authors, names):
    assert k.surnames(authors) == names


@pytest.mark.parametrize(
    ("pages", "first", "last"),
    [
        ("739-46", "739", "746"),
        ("739", "739", ""),
        ("e15500", "15500", ""),
        ("S12-S19", "12", "19"),
        # a trilingual article: its ranges in any order, the lowest one used
        ("233-8, 230-5, 246-51", "230", "235"),
        ("233-238+230-235+246-251", "230", "235"),
        # a spreadsheet read "21-8", "11-19" and "10-17" as dates
        ("21-Aug", "21", "28"),
        ("Nov-19", "11", "19"),
        ("11-Sep", "11", "19"),
        ("Oct-17", "10", "17"),
        ("01-Apr", "1", "4"),
        ("May", "", ""),
    ],
)
def test_page_range(pages, first, last):
    assert k.page_range(pages) == (first, last)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (
            "Arch Pediatr Adolesc Med",
            "Archives of Pediatrics & Adolescent Medicine",
            True,
        ),
        ("Dtsch Med Wochenschr", "Deutsche Medizinische Wochenschrift", True),
        ("BMJ", "British Medical Journal", True),
        ("PLoS ONE [Electronic Resource]", "PLoS One", True),
        (
            "Circulation. Conference: Resuscitation Science Symposium",
            "Circulation",
            True,
        ),
        (
            "Ann Fr Anesth Reanim",
            "Annales Françaises d'Anesthésie et de Réanimation",
            True,
        ),
        ("Cir Cir", "Cirugia y Cirujanos", True),
        (
            (
                "Schweizerische Rundschau fur Medizin Praxis = Revue suisse de medecine "
                "Praxis"
            ),
            "Schweizerische Rundschau Fur Medizin/Praxis",
            True,
        ),
        (
            "J Clin Oncol",
            (
                "Journal of clinical oncology : official journal of the American "
                "Society of Clinical Oncology"
            ),
            True,
        ),
        ("JAMA", "JAMA : the journal of the American Medical Association", True),
        ("J Magn Reson Imaging", "Journal of magnetic resonance imaging : JMRI", True),
        (
            "Journal of Physics: Condensed Matter",
            "Journal of Physics: Materials",
            False,
        ),
        ("J Pediatr", "Journal of Pediatric Surgery", False),
        ("Cancer", "Lancet", False),
    ],
)
def test_journal_abbreviations(a, b, same):
    assert k.journals_match(k.journal_words(a), k.journal_words(b)) is same


# --- the same citation written differently ---------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        variant(title=BASE["title"].upper()),
        variant(title=BASE["title"] + "."),
        variant(pages="739-46", journal="Arch Pediatr Adolesc Med"),
        variant(doi=None),
        variant(doi=None, authors="Taussig H.N.; Culhane S.E."),
        variant(authors="Taussig, H. N.; et al."),
        variant(authors="Culhane, Sara E; Taussig, Heather N"),
        variant(year="2011"),  # online first, same DOI
        variant(title=BASE["title"] + " [Review] [33 refs]", doi=None),
        variant(
            title="Impact of a mentoring and skils group program on mental health "
            "outcomes for maltreated children in foster care",
            doi=None,
        ),
    ],
)
def test_same_citation_merges(other):
    assert decide(BASE, other).verdict == DUPLICATE


def test_page_count_and_date_in_pages_are_not_pages():
    assert k.match_keys(variant(pages="215 p")).first_page == ""
    assert k.match_keys(variant(pages="2010 May")).first_page == ""
    assert k.match_keys(variant(pages="215")).first_page == "215"


def test_two_language_title_matches_either_language():
    spanish = variant(
        title="Impacto de un programa de mentoría en la salud mental de niños en "
        "acogida; " + BASE["title"],
        doi=None,
    )
    comparison = decide(BASE, spanish)
    assert comparison.title == 1.0
    assert comparison.verdict == DUPLICATE


def test_translated_title_with_same_citation_merges():
    # MEDLINE's bracketed translation and the journal's own English title:
    # same journal, year, volume, page range and authors
    translated = variant(
        title="[Effects of mentoring on the mental health of children in foster care]",
        journal="Arch Pediatr Adolesc Med",
        doi=None,
    )
    assert decide(BASE, translated).rule == "same_citation"


def test_same_citation_without_authors_needs_a_page_range():
    # one database lists no authors and translates the title another way: the
    # same journal, year, volume and page range (several pages) make it one item
    retitled = variant(
        authors=None,
        title="Impact of a mentoring program on the mental health of maltreated "
        "foster children",
        doi=None,
    )
    assert decide(BASE, retitled).rule == "same_citation"
    # a single page is shared by the abstracts of a supplement
    single = decide(variant(pages="739"), {**retitled, "pages": "739"})
    assert single.verdict == DISTINCT
    unlike = variant(
        authors=None, title="Foster children: outcomes of a trial", doi=None
    )
    assert decide(BASE, unlike).verdict == DISTINCT


def test_same_article_with_wrong_pages_in_one_export_merges():
    # same journal, volume, year, long title and author list; one export's
    # page range is wrong ("2-5" for "739-746")
    wrong_pages = variant(pages="2-5", doi=None)
    assert decide(variant(doi=None), wrong_pages).rule == "same_article_other_pages"
    # an erratum that repeats the article's title is a single page
    single = variant(pages="1034", doi=None)
    assert decide(variant(doi=None), single).verdict != DUPLICATE
    # another author list is another article
    others = variant(pages="2-5", doi=None, authors="Taussig, Heather N")
    assert decide(variant(doi=None), others).verdict != DUPLICATE


def test_article_reprinted_by_its_journal_merges():
    # the same title, authors and length a volume later under a new DOI: the
    # journal printed the article again
    reprint = variant(
        year="2011", volume="165", issue="1", pages="46-53", doi="10.1001/x.2011.1"
    )
    assert decide(BASE, reprint).rule == "republished"
    assert decide(variant(doi=None), {**reprint, "doi": ""}).rule == "republished"
    # another length, another author list, or two years apart: not a reprint
    longer = {**reprint, "pages": "46-60"}
    assert decide(BASE, longer).verdict == DISTINCT
    other_authors = {**reprint, "authors": "Taussig, Heather N; Raviv, Tali"}
    assert decide(BASE, other_authors).verdict == DISTINCT
    later = {**reprint, "year": "2012"}
    assert decide(BASE, later).verdict == DISTINCT
    # a title that differs in a word that matters stays apart
    other_group = {**reprint, "title": BASE["title"].replace("children", "adolescents")}
    assert decide(BASE, other_group).verdict == DISTINCT


def test_fields_shifted_by_a_missing_column_are_no_conflict():
    # "— / 164 / 8" for "164 / 8 / 739-746": one export lost the volume column
    shifted = variant(volume=None, issue="164", pages="8", doi=None)
    assert decide(BASE, shifted).verdict == DUPLICATE
    # a supplement number read as the volume; the DOI is another journal's
    supplement = variant(
        volume="164", issue="Suppl. 1", doi="10.1016/j.appet.2012.05.003"
    )
    wrong = variant(volume="1", issue=None, doi="10.1016/j.regpep.2012.05.039")
    assert decide(supplement, wrong).rule == "same_citation_other_doi"


def test_magazine_kicker_before_headline_merges():
    piece = {
        "title": "Upwork's CEO on how an introverted engineer learned to lead",
        "authors": "Kasriel, Stephane",
        "year": "2016",
        "journal": "Harvard Business Review",
        "pages": "2016 May",
    }
    kicker = {
        **piece,
        "title": "How did it ... Upwork's CEO on how an introverted engineer learned "
        "to lead",
        "authors": "Kasriel, S.",
        "volume": "94",
        "issue": "5",
        "pages": "35+",
    }
    assert decide(piece, kicker).rule == "title_with_kicker"
    # words added at the end are a subtitle, perhaps another report: not merged
    follow_up = {**piece, "title": piece["title"] + ": two years on", "pages": ""}
    assert decide(piece, follow_up).verdict != DUPLICATE


# --- must not merge -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("other", "rule"),
    [
        (
            variant(
                title="Erratum: " + BASE["title"], pages="1034", issue="11", doi=None
            ),
            "notice_vs_paper",
        ),
        (
            variant(title="Correction to: " + BASE["title"], pages="1034", doi=None),
            "notice_vs_paper",
        ),
        (
            variant(
                title="Comment on " + BASE["title"],
                pages="1040-1041",
                doi=None,
                authors="Smith, John",
            ),
            "notice_vs_paper",
        ),
        (
            variant(title="Retraction notice: " + BASE["title"], pages="99", doi=None),
            "notice_vs_paper",
        ),
        (variant(type="erratum", pages="1034", doi=None), "notice_vs_paper"),
        (  # Web of Science titles a correction with the corrected article's citation
            variant(
                title=BASE["title"] + " (vol 164, pg 739, 2010)", pages="1034", doi=None
            ),
            "notice_vs_paper",
        ),
        (  # and Embase in its own form
            variant(
                title=BASE["title"]
                + " (Archives of Pediatrics and Adolescent Medicine (2010) 164 (739-746))",
                pages="1034",
                doi=None,
            ),
            "notice_vs_paper",
        ),
    ],
)
def test_notices_stay_apart_from_their_article(other, rule):
    comparison = decide(BASE, other)
    assert (comparison.verdict, comparison.rule) == (DISTINCT, rule)


def test_two_databases_copies_of_one_correction_merge():
    """Web of Science's and Embase's records of one erratum (haematology
    id_0000057/id_0000058 are such a pair): the two citation styles are dropped
    from the titles, and the two notices, at the same pages, are one item."""
    wos = variant(title=BASE["title"] + " (vol 164, pg 739, 2010)", pages="1034")
    embase = variant(
        title=BASE["title"] + " (Archives of Pediatrics & Adolescent Medicine "
        "(2010) 164:8 (739-746))",
        pages="1034-1034",
        doi=None,
    )
    assert k.is_correction(wos["title"]) and k.is_correction(embase["title"])
    assert k.title_key(wos["title"]) == k.title_key(BASE["title"])
    assert decide(wos, embase).verdict == DUPLICATE
    # a title that merely ends in brackets is no correction
    assert not k.is_correction("Outcomes of the SPRINT trial (2010)")
    assert not k.is_correction("Mentoring for adults (aged 18-25 (mean 21))")


_WORDS = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10),
    min_size=3,
    max_size=12,
)


@given(
    _WORDS,
    st.integers(1, 999),
    st.integers(1, 9999),
    st.integers(1950, 2030),
    st.booleans(),
)
def test_any_title_with_a_correction_citation_is_a_notice(
    words, volume, page, year, embase
):
    """Whatever the title, the citation of the corrected article marks a notice
    and is dropped from the title key; the bare title is no notice."""
    title = " ".join(words).capitalize()
    citation = (
        f" (Journal of Things ({year}) {volume} ({page}-{page + 7}))"
        if embase
        else f" (vol {volume}, pg {page}, {year})"
    )
    assert k.is_correction(title + citation)
    assert not k.is_correction(title)
    assert k.title_key(title + citation) == k.title_key(title)
    keys = k.match_keys({"title": title + citation, "authors": "Smith, J"})
    assert keys.notice


def test_parts_of_a_series_stay_apart():
    part1 = variant(
        title="Mentoring care leavers, part I: design", pages="1-10", doi=None
    )
    part2 = variant(
        title="Mentoring care leavers, part II: results", pages="11-20", doi=None
    )
    assert decide(part1, part2).verdict == DISTINCT
    one = variant(
        title="Mentoring care leavers. Part 1", pages=None, doi=None, volume=None
    )
    two = variant(
        title="Mentoring care leavers. Part 2", pages=None, doi=None, volume=None
    )
    assert decide(one, two).rule == "different_parts"


@pytest.mark.parametrize(
    ("title", "numbers"),
    [
        ("Results of a phase II trial of dasatinib", {"2"}),
        ("Results of a phase II tricl of dasatinib", {"2"}),  # a typo is no number
        ("A trial of mentoring in chronic phase (CP)", set()),
        ("Mentoring care leavers, part III", {"3"}),
        ("Mentoring care leavers, Part B", {"b"}),
        ("Mentoring in 2009 and 2010", {"2009", "2010"}),
    ],
)
def test_title_numbers(title, numbers):
    assert k.title_numbers(k.title_key(title)) == numbers


# --- look-alikes: notices and parts of a series (issue 18) --------------------------

T = BASE["title"]
#: The look-alike record of the issue: same authors, journal and year, no pages,
#: no DOI (so nothing but the title tells it from the article).
BARE = {"pages": None, "doi": None, "volume": None, "issue": None}

PART_TITLES = [
    (T + ": Part II", {"2"}),
    (T + ". Part 2", {"2"}),
    (T + ", Pt. 2", {"2"}),
    (T + ", part two", {"2"}),
    (T + " (Part 2 of 3)", {"2"}),
    (T + " - second part", {"2"}),
    (T + " (2)", {"2"}),
    (T + " (II): results at two years", {"2"}),
    ("II: " + T, {"2"}),
    (T + ". III", {"3"}),
    ("Paper 2: " + T, {"2"}),
    (T + ", Part B: outcomes", {"b"}),
    (T + ", Teil 2", {"2"}),
    (T + " (continued)", {"continued"}),
]


@pytest.mark.parametrize(("title", "markers"), PART_TITLES)
def test_part_markers(title, markers):
    assert k.part_markers(title) == markers


@pytest.mark.parametrize(
    "title",
    [
        "Taking part in mentoring: outcomes for young people leaving care",
        "Part-time work and mental health of foster carers",
        "Mentoring is part of the answer",
        "Medicare Part D coverage and adherence",  # a programme, not a part
        "A glucagon-like peptide-1 (GLP-1) receptor agonist, exendin-4",
        "Outcomes of type II diabetes in 2009 and 2010",
        "Shiga toxin stx(1)-positive E. coli in day care",
        "V. cholerae in foster care",
        "First report of mentoring in foster care",
        "Factor IX deficiency: 20 years on",
        "Effects of (1) mentoring and (2) skills groups on children",
        "Phase II trial of mentoring for children in foster care",
        "Chapter 9: Clinical applications of HPV testing",
    ],
)
def test_ordinary_titles_carry_no_part_marker(title):
    assert k.part_markers(title) == frozenset()


NOTICE_TITLES = [
    ("Erratum: " + T, "correction"),
    ("Erratum to: " + T, "correction"),
    ("ERRATUM - " + T, "correction"),
    ("Correction: " + T, "correction"),
    ("Correction to: " + T, "correction"),
    ("Author correction: " + T, "correction"),
    ("Mentoring: correction to Taussig et al. (2010)", "correction"),
    (
        f'Corrigendum to "{T}" [Arch Pediatr Adolesc Med 164 (2010) 739-746]',
        "correction",
    ),
    (T + " [Erratum]", "correction"),
    (T + " (vol 164, pg 739, 2010)", "correction"),
    ("Retraction: " + T, "retraction"),
    ("Notice of retraction: " + T, "retraction"),
    ("RETRACTED: " + T, "retraction"),
    ("Expression of concern: " + T, "concern"),
    ("Editorial expression of concern: " + T, "concern"),
    ("Comment on: " + T, "comment"),
    ("Comment on " + T, "comment"),
    ("Mentoring is not enough - a commentary on " + T, "comment"),
    ("Letter to the editor: " + T, "comment"),
    ("Re: " + T, "comment"),
    (T + " (Letter)", "comment"),
    ("Reply: " + T, "reply"),
    ("In reply", "reply"),
    ("Reply to Smith and Jones", "reply"),
    ("Response to: " + T, "reply"),
    ("Response to the letter by Smith", "reply"),
    ("Response to Smith: mentoring still works", "reply"),
    (T + ": a reply", "reply"),
    (T + " - authors' reply", "reply"),
    ("Authors' reply to Smith (2011)", "reply"),
    ("Editorial: " + T, "editorial"),
]


@pytest.mark.parametrize(("title", "kind"), NOTICE_TITLES)
def test_notice_kinds(title, kind):
    assert k.notice_kind(title) == kind


@pytest.mark.parametrize(
    "title",
    [
        "Correction of post-stroke cognitive impairments using computer programs",
        "Response to radiofrequency ablation of pulmonary tumours",
        "Responses of proximal tubule sodium transporters to injury",
        "In response to stress, foster children adapt",
        "Letter writing as a therapy for children in foster care",
        "Retraction of the upper eyelid after surgery",
        "Re-evaluation of a mentoring program for children in foster care",
        "Effects of photos and comments on demand in sharing economy",
        "Correspondence analysis of placement histories",
        "Comments and controversies in foster care research",
        "A bias correction to estimates of placement stability",
        # MEDLINE's note says the article has an erratum: it is the article
        T + ".[Erratum appears in Arch Pediatr Adolesc Med. 2010;164(11):1034]",
        T + ". [published erratum appears in Arch Pediatr Adolesc Med 2010]",
    ],
)
def test_ordinary_titles_name_no_notice(title):
    assert k.notice_kind(title) == ""


def _both_ways(a: dict, b: dict) -> set[tuple[str, str]]:
    first, second = decide(a, b), decide(b, a)
    return {(first.verdict, first.rule), (second.verdict, second.rule)}


@pytest.mark.parametrize("title", [t for t, _ in PART_TITLES])
def test_part_never_merges_with_the_whole(title):
    part = variant(title=title, **BARE)
    # the issue's case: nothing but the title tells them apart
    assert _both_ways(variant(**BARE), part) == {(DISTINCT, "part_vs_whole")}
    assert _both_ways(BASE, part) == {(DISTINCT, "part_vs_whole")}
    # the same DOI, or the same journal, volume and first page: a reviewer
    # decides, and until then they stay apart
    same_doi = variant(title=title, pages=None)
    assert _both_ways(BASE, same_doi) == {(UNCERTAIN, "part_vs_whole_same_citation")}
    same_place = variant(title=title, doi=None)
    assert _both_ways(BASE, same_place) == {(UNCERTAIN, "part_vs_whole_same_citation")}


def test_parts_with_different_markers_never_merge():
    one = variant(title=T + ", part one", **BARE)
    two = variant(title=T + " (2)", **BARE)
    assert _both_ways(one, two) == {(DISTINCT, "different_parts")}
    cited = {"pages": "739-746", "volume": "164"}
    assert _both_ways({**one, **cited}, {**two, **cited}) == {
        (UNCERTAIN, "different_parts_same_citation")
    }
    # one part written two ways is one record
    roman = variant(title=T + ": Part II", **BARE)
    arabic = variant(title=T.upper() + ". Part 2", **BARE)
    assert decide(roman, arabic).verdict == DUPLICATE


STRICT = [(t, kind) for t, kind in NOTICE_TITLES if kind != "editorial"]


@pytest.mark.parametrize(("title", "kind"), STRICT)
def test_notice_never_merges_with_its_article(title, kind):
    notice = variant(title=title, **BARE)
    assert _both_ways(variant(**BARE), notice) == {(DISTINCT, "notice_vs_paper")}
    assert _both_ways(BASE, notice) == {(DISTINCT, "notice_vs_paper")}
    # an erratum usually has its own DOI; with the article's DOI or pages a
    # reviewer decides, and until then they stay apart
    same_doi = variant(title=title, pages=None)
    assert _both_ways(BASE, same_doi) == {(UNCERTAIN, "notice_vs_paper_same_citation")}
    same_place = variant(title=title, doi=None)
    assert _both_ways(BASE, same_place) == {
        (UNCERTAIN, "notice_vs_paper_same_citation")
    }


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Erratum: " + T, "Reply: " + T),
        ("Comment on " + T, "Reply to comment on " + T),
        ("Retraction: " + T, "Expression of concern: " + T),
        ("Correction: " + T, "Editorial: " + T),
    ],
)
def test_notices_of_different_kinds_never_merge(a, b):
    first, second = variant(title=a, **BARE), variant(title=b, **BARE)
    assert _both_ways(first, second) == {(DISTINCT, "different_notices")}


def test_notice_title_against_a_record_typed_as_another_notice():
    erratum = variant(title="Erratum: " + T, **BARE)
    letter = variant(type="letter", **BARE)
    assert _both_ways(erratum, letter) == {(DISTINCT, "different_notices")}
    # a record typed erratum with the bare title may be the same erratum
    typed = variant(type="erratum", **BARE)
    assert decide(erratum, typed).verdict == DUPLICATE


@pytest.mark.parametrize(
    "title",
    [
        "Taking part in mentoring: outcomes for young people leaving care",
        "Commentary on mentoring programs for children in foster care",
        "Effects of photos and comments on demand in the sharing economy",
        "Correction of post-stroke cognitive impairments using computer programs",
        "Response to radiofrequency ablation of pulmonary tumours in adults",
        "Mentoring is part of the answer for children in foster care",
    ],
)
def test_ordinary_words_still_merge(title):
    # the same record from two databases: case, a full stop and the DOI differ
    one = variant(title=title)
    other = variant(title=title.upper() + ".", doi=None, pages="739-46")
    assert _both_ways(one, other) <= {
        (DUPLICATE, "same_title_same_pages"),
        (DUPLICATE, "same_title_and_details"),
    }


def test_a_typo_in_the_marker_word_is_the_same_title():
    # one database's copy garbles the word that makes the title a notice or a
    # part: the same title, so the other fields decide as for any copy
    commentary = variant(title="A commentary on mentoring for children in foster care")
    typo = {
        **commentary,
        "title": commentary["title"].replace("commentary", "commenutary"),
    }
    assert k.notice_kind(typo["title"]) == ""
    assert _both_ways(commentary, typo) == {(DUPLICATE, "same_doi")}
    rejoinder = variant(title="A rejoinder to Rigdon et al. (2014)")
    squashed = {**rejoinder, "title": " ARejoinder to Rigdon et al. (2014)"}
    assert _both_ways(rejoinder, squashed) == {(DUPLICATE, "same_doi")}
    part = variant(title=T + ": Part II", doi=None)
    assert _both_ways(part, {**part, "title": T + ": Prat II"}) == {
        (DUPLICATE, "same_title_same_pages")
    }
    # a dropped marker, a changed number or an erratum is no typo
    for a, b in [
        (T + " (2)", T),
        (T + ": Part I", T + ": Part II"),
        (T + ", part three", T + ", part there"),
        ("Erratum: " + T, T),
        ("Reply: " + T, "Re: " + T),
    ]:
        assert decide(variant(title=a), variant(title=b)).verdict != DUPLICATE


_PARTS = st.sampled_from([t[len(T) :] for t, _ in PART_TITLES if t.startswith(T)])
_NOTICES = st.sampled_from(["Erratum: ", "Correction to: ", "Reply: ", "Re: "])


@given(
    _WORDS,
    st.one_of(_PARTS, _NOTICES),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_look_alikes_never_merge_whatever_the_fields(
    words, marker, same_doi, same_pages, same_volume, same_year
):
    """Whatever the title and whichever fields agree, a title with a notice or
    part marker is never a duplicate of the same title without it."""
    title = " ".join(["mentoring", *words]).capitalize()
    marked = marker + title if marker.endswith(" ") else title + marker
    article = variant(title=title)
    look_alike = variant(
        title=marked,
        doi=BASE["doi"] if same_doi else "10.1001/other.2010.9",
        pages=BASE["pages"] if same_pages else "1034",
        volume=BASE["volume"] if same_volume else "165",
        year=BASE["year"] if same_year else "2011",
    )
    for comparison in (decide(article, look_alike), decide(look_alike, article)):
        assert comparison.verdict != DUPLICATE
        if same_doi or (same_pages and same_volume):
            assert comparison.rule.endswith("_same_citation")


def test_cluster_keeps_a_look_alike_left_to_review_apart():
    # r0~r1 and r1~r2 are duplicates, r0/r2 a look-alike sharing its citation:
    # no chain may join them
    from evsynth.records.dedup.engine import cluster
    from evsynth.records.dedup.rules import Comparison

    def pair(verdict, rule):
        return Comparison(1.0, 1.0, 0, True, True, True, None, None, verdict, rule)

    comparisons = {
        (0, 1): pair(DUPLICATE, "same_title_and_details"),
        (1, 2): pair(DUPLICATE, "same_title_and_details"),
        (0, 2): pair(UNCERTAIN, "notice_vs_paper_same_citation"),
    }
    labels = cluster(3, comparisons, [0, 0, 0]).labels
    assert labels[0] != labels[2]
    # an ordinary uncertain pair does not keep them apart
    comparisons[(0, 2)] = pair(UNCERTAIN, "similar_title")
    assert len(set(cluster(3, comparisons, [0, 0, 0]).labels)) == 1


def test_issue_look_alikes_stay_apart_in_a_run():
    records = [
        BASE,
        variant(title=T + ": Part II", **BARE),
        variant(title="Erratum: " + T, **BARE),
        # the erratum under the article's DOI: kept apart, sent to review
        variant(title="Erratum: " + T, pages="1034"),
        variant(title=T.upper(), doi=None),  # a copy of the article
    ]
    result = deduplicate(frame(records))
    # the article with its copy, Part II alone, the erratum's two records
    assert list(result.unique["merged_ids"]) == ["r1; r5", "r2", "r3; r4"]
    review = result.review.set_index(["record_id_a", "record_id_b"])
    assert review.loc[("r1", "r4"), "rule"] == "notice_vs_paper_same_citation"
    # a reviewer who says the two are one item is followed
    decisions = pd.DataFrame(
        [
            {
                "record_id_a": "r1",
                "record_id_b": "r2",
                "verdict": "duplicate",
                "reviewer": "AB",
                "date": "2026-01-01",
            }
        ]
    )
    merged = deduplicate(frame([BASE, records[3]]), decisions=decisions)
    assert list(merged.unique["merged_ids"]) == ["r1; r2"]


def test_titles_in_other_scripts_merge():
    russian = variant(
        title="Платформенная занятость: масштабы и признаки неустойчивости",
        authors="Бобков, В. Н. and Черных, Е. А.",
        doi=None,
    )
    # another case and the breve of й dropped by one database
    copy = {**russian, "title": russian["title"].lower().replace("й", "и")}
    comparison = decide(russian, copy)
    assert (comparison.title, comparison.authors) == (1.0, 1.0)
    assert comparison.verdict == DUPLICATE
    other = {**russian, "title": "Цифровая экономика и рынок труда", "pages": "1-5"}
    assert decide(russian, other).verdict == DISTINCT


def test_years_two_apart_merge_only_at_one_printed_place():
    # journal, volume and printed pages agree: one of the years is wrong
    assert decide(BASE, variant(year="2012", doi=None)).verdict == DUPLICATE
    assert decide(BASE, variant(year="2013", doi=None)).rule == "years_apart"
    moved = variant(year="2012", doi=None, pages="12-19")
    assert decide(BASE, moved).rule == "years_apart"
    # a Cochrane review keeps its article number across versions
    review = variant(journal="Cochrane Database Syst Rev", volume="1", pages="CD006828")
    update = {**review, "year": "2012"}
    assert decide({**review, "doi": ""}, {**update, "doi": ""}).rule == "years_apart"


def test_conference_abstract_and_later_article_stay_apart():
    abstract = variant(
        journal="Society for Social Work and Research Annual Conference",
        type="conference",
        volume=None,
        issue=None,
        pages=None,
        doi=None,
        year="2009",
    )
    assert decide(abstract, BASE).rule == "conference_vs_journal"


@pytest.mark.parametrize("kind", [None, "other"])
def test_conference_abstract_and_article_stay_apart_without_types(kind):
    # an export without record types: the venue tells the abstract (a journal's
    # conference supplement) from the article (a journal with volume and pages)
    abstract = variant(
        title=BASE["title"].replace("program", "programme"),
        journal="Child Abuse and Neglect. Conference: ISPCAN Congress",
        type=kind,
        pages=None,
        doi=None,
        year="2009",
    )
    article = variant(type=kind, doi=None)
    assert decide(abstract, article).rule == "conference_vs_journal"
    # without volume or pages nothing says the other record is a journal item
    bare = variant(type=kind, doi=None, volume=None, issue=None, pages=None)
    assert decide(abstract, bare).rule != "conference_vs_journal"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mentoring effects in vivo", "Mentoring effects in vitro"),
        (
            "Mentoring for young men leaving care",
            "Mentoring for young women leaving care",
        ),
        (
            "Trial of eculizumab in adult patients with plasma therapy-resistant aHUS",
            (
                "Trial of eculizumab in adolescent patients with plasma therapy-resistant "
                "aHUS"
            ),
        ),
        (
            "Trial of eculizumab in adult patients with plasma therapy-resistant aHUS",
            "Trial of eculizumab in adult patients with plasma therapy-sensitive aHUS",
        ),
    ],
)
def test_titles_differing_by_opposite_words_stay_apart(a, b):
    first = variant(title=a, doi=None, pages=None)
    second = variant(title=b, doi=None, pages=None)
    assert decide(first, second).rule == "opposite_words"


def test_same_title_other_year_and_volume_stays_apart():
    other = variant(year="2014", volume="168", pages="310-317", doi=None)
    assert decide(BASE, other).verdict == DISTINCT


def test_short_titles_need_citation_details():
    one = {
        "title": "Editorial",
        "authors": "Smith, J",
        "year": "2020",
        "journal": "BMJ",
    }
    two = {
        "title": "Editorial",
        "authors": "Smith, J",
        "year": "2020",
        "journal": "BMJ",
    }
    assert decide(one, two).verdict != DUPLICATE
    assert decide({**one, "pages": "5-6"}, {**two, "pages": "5-6"}).verdict == DUPLICATE


def test_different_dois_stay_apart():
    other = variant(doi="10.1002/ajcp.12385", pages="405-417")
    assert (decide(BASE, other).verdict, decide(BASE, other).rule) == (
        DISTINCT,
        "different_doi",
    )
    # the very same citation with another DOI: one export's DOI is wrong
    same_citation = variant(doi="10.1002/ajcp.12385")
    assert decide(BASE, same_citation).rule == "same_citation_other_doi"
    other_authors = variant(doi="10.1002/ajcp.12385", authors="Someone, Else")
    assert decide(BASE, other_authors).verdict == DISTINCT


def test_every_rule_is_explained_in_the_readme():
    # the rule column of dedup_pairs.csv must be readable: each name the rules
    # can give has a row in the README's table
    source = (REPO / "src/evsynth/records/dedup/rules.py").read_text(encoding="utf-8")
    names = set(
        re.findall(r'verdict\((?:DUPLICATE|DISTINCT|UNCERTAIN), "(\w+)"\)', source)
    )
    names |= {"same_doi", "same_pmid", "reviewer"}
    # the look-alike rules are named by look_alike() and its "_same_citation"
    names |= {"notice_vs_paper", "different_notices", "part_vs_whole"}
    names |= {"different_parts"} | KEEP_APART
    assert len(names) > 20
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", readme, re.MULTILINE))
    documented = {n for pair in documented for n in pair if n}
    assert names <= documented, sorted(names - documented)


def test_blocking_survives_a_typo_and_a_year_apart():
    # the copies share no title start or end, no year and no DOI: the first
    # author and first page, or (without pages) three of the four longest
    # title words, bring them together
    from evsynth.records.dedup.engine import candidate_pairs

    def typos(*words: str) -> str:
        # a typo at each end of the title, and one in a long word
        title = BASE["title"].replace("Impact", "Impcat").replace("care", "crae")
        for word in words:
            title = title.replace(word, word[:-2] + word[-1] + word[-2])
        return title

    typo_early = variant(title=typos("mentoring"), year="2009", doi=None)
    # two copies without pages: three of the four longest words
    bare = variant(pages=None, doi=None)
    bare_typo = variant(title=typos("maltreated"), pages=None, doi=None)
    other = variant(
        title="Peer support for young people leaving residential care",
        authors="Someone, Else",
        pages="1-9",
        doi=None,
    )
    keys = [k.match_keys(r) for r in (BASE, typo_early, bare, bare_typo, other)]
    pairs = set(candidate_pairs(keys))
    assert pairs >= {(0, 1), (2, 3)}
    assert not {(0, 4), (1, 4), (2, 4), (3, 4)} & pairs


def test_same_doi_years_apart_is_one_item():
    # online first, then in print two years later, under one DOI
    late = variant(year="2012", volume="166", pages="1-8")
    assert decide(BASE, late).rule == "same_doi"
    assert decide(BASE, {**late, "title": "Something else entirely"}).verdict != (
        DUPLICATE
    )


# --- whole runs --------------------------------------------------------------------


def frame(records: list[dict], updates: list[int] | None = None) -> pd.DataFrame:
    table = pd.DataFrame(records).fillna("")
    table.insert(0, "record_id", [f"r{i}" for i in range(1, len(records) + 1)])
    if updates is not None:
        table["update"] = [str(u) for u in updates]
    return table


def test_chain_cannot_merge_an_erratum_into_its_article():
    erratum = variant(title="Erratum: " + BASE["title"], pages="1034", doi=None)
    # r2 looks like both, but r1 and r3 must never share a cluster
    bridge = variant(title=BASE["title"], pages=None, doi=None, volume=None, issue=None)
    result = deduplicate(frame([BASE, bridge, erratum]))
    labels = dict(
        zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True)
    )
    assert labels["r1"] != labels["r3"]


def test_outputs_account_for_every_record():
    records = [
        BASE,
        variant(pages="739-46", doi=None),
        variant(title="Something else", doi=None),
    ]
    result = deduplicate(frame(records))
    assert list(result.clusters["record_id"]) == ["r1", "r2", "r3"]
    assert list(result.unique["record_id"]) == ["r1", "r3"]
    assert result.unique["n_records"].sum() == 3
    assert result.unique.loc[0, "merged_ids"] == "r1; r2"
    assert result.unique.loc[0, "dois"] == "10.1001/archpediatrics.2010.124"
    pair = result.pairs.set_index(["record_id_a", "record_id_b"]).loc[("r1", "r2")]
    assert (pair["verdict"], pair["merged"]) == ("duplicate", "yes")
    assert pair["rule"]


def test_update_search_joins_earlier_clusters_and_counts_them():
    earlier = [
        BASE,
        variant(
            title="Peer mentoring for looked-after young people",
            doi=None,
            pages="1-20",
            volume="19",
        ),
    ]
    new = [variant(pages="739-46", doi=None), variant(title="A new trial", doi=None)]
    before = deduplicate(frame(earlier, [0, 0]))
    after = deduplicate(frame(earlier + new, [0, 0, 1, 1]))
    old = after.clusters.iloc[:2]
    assert list(old["cluster_id"]) == list(before.clusters["cluster_id"])
    assert after.clusters.loc[2, "cluster_id"] == "r1"
    summary = after.summary.set_index("update")
    assert summary.loc[1, "n_duplicates_of_earlier"] == 1
    assert summary.loc[1, "n_unique_new"] == 1


def test_update_record_never_joins_two_earlier_clusters():
    a = variant(doi=None, pages=None, volume=None, issue=None, year="2010")
    b = variant(
        doi=None,
        pages="900-910",
        volume=None,
        issue=None,
        year="2010",
        authors="Other, Author",
    )
    bridge = variant(doi=None, pages="900-910", volume=None, issue=None, year="2010")
    result = deduplicate(frame([a, b, bridge], [0, 0, 1]))
    labels = list(result.clusters["cluster_id"])
    assert labels[0] != labels[1]


def test_reviewer_verdict_overrides_a_merge():
    records = [BASE, variant(pages="739-46", doi=None)]
    assert deduplicate(frame(records)).unique.shape[0] == 1
    decisions = pd.DataFrame(
        [
            {
                "record_id_a": "r1",
                "record_id_b": "r2",
                "verdict": "distinct",
                "reviewer": "AB",
                "date": "2026-01-01",
            }
        ]
    )
    result = deduplicate(frame(records), decisions=decisions)
    assert result.unique.shape[0] == 2
    assert set(result.pairs["rule"]) == {"reviewer"}


def test_reviewer_verdict_can_merge_a_pair_blocking_missed():
    records = [BASE, variant(title="Totally different wording", doi=None, pages=None)]
    decisions = pd.DataFrame(
        [
            {
                "record_id_a": "r2",
                "record_id_b": "r1",
                "verdict": "duplicate",
                "reviewer": "AB",
                "date": "2026-01-01",
            }
        ]
    )
    assert deduplicate(frame(records), decisions=decisions).unique.shape[0] == 1


def test_unknown_id_in_decisions_is_an_error():
    decisions = pd.DataFrame(
        [
            {
                "record_id_a": "r1",
                "record_id_b": "nope",
                "verdict": "duplicate",
                "reviewer": "AB",
                "date": "2026-01-01",
            }
        ]
    )
    with pytest.raises(InputError, match="unknown record id") as info:
        deduplicate(frame([BASE, BASE]), decisions=decisions, decisions_source="d.csv")
    assert info.value.location.column == "record_id_b"
    assert info.value.location.row == 1


def test_repeated_ids_are_an_error():
    table = frame([BASE, BASE])
    table["record_id"] = ["x", "x"]
    with pytest.raises(InputError, match="repeated"):
        deduplicate(table)


@pytest.mark.parametrize("bad", ["one", "-1", "1.5", "inf"])
def test_update_that_is_not_a_whole_number_is_an_input_error(bad, tmp_path):
    from evsynth.records.dedup.api import records_from_file

    table = frame([BASE, BASE])
    table["update"] = ["0", bad]
    with pytest.raises(InputError, match="invalid update") as info:
        deduplicate(table, source="records.csv")
    assert (info.value.location.file, info.value.location.row) == ("records.csv", 2)
    assert info.value.location.column == "update"
    path = tmp_path / "records.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match="invalid update") as info:
        records_from_file(path, workers=1).fields.close()
    assert (info.value.location.line, info.value.location.row) == (3, 2)
    assert info.value.location.column == "update"


def test_order_of_records_does_not_change_clusters():
    records = [
        BASE,
        variant(pages="739-46", doi=None),
        variant(title="Another paper", doi=None),
        variant(authors="Taussig, H.; et al."),
    ]
    forward = deduplicate(frame(records))
    backward = deduplicate(frame(records).iloc[::-1].reset_index(drop=True))

    def groups(result):
        clusters = result.clusters.groupby("cluster_id")["record_id"].apply(frozenset)
        return set(clusters)

    assert groups(forward) == groups(backward)


# --- regression guard on real labelled sets ----------------------------------------


def _metrics():
    spec = importlib.util.spec_from_file_location(
        "dedup_metrics", REPO / "benchmarks/dedup_metrics.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["dedup_metrics"] = module
    spec.loader.exec_module(module)
    return module


# floors just below what the benchmark achieved (benchmarks/RESULTS.md)
FLOORS = {
    "special_cases": 1.0,
    "stroke": 0.985,
    "haematology": 0.885,
    "diabetes": 0.999,
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_labelled_sets_no_false_merges(shared, name):
    metrics = _metrics()
    folder = shared / "benchmarks/dedup" / name
    table = pd.read_csv(folder / "records.csv", dtype=str, keep_default_na=False)
    result = deduplicate(table, "ID")
    predicted = result.clusters.groupby("cluster_id")["record_id"].apply(list).tolist()
    counts = metrics.score(
        list(table["ID"]),
        list(result.unique["ID"]),
        predicted,
        metrics.read_clusters(folder / "duplicate_clusters.csv"),
    )
    assert counts.fp == 0
    assert counts.sensitivity >= FLOORS[name]


def test_record_paired_with_itself_in_decisions_is_an_error():
    decisions = pd.DataFrame(
        [
            {
                "record_id_a": "r1",
                "record_id_b": "r1",
                "verdict": "duplicate",
                "reviewer": "AB",
                "date": "2026-01-01",
            }
        ]
    )
    with pytest.raises(InputError, match="paired with itself") as info:
        deduplicate(frame([BASE, BASE]), decisions=decisions, decisions_source="d.csv")
    assert (info.value.location.file, info.value.location.row) == ("d.csv", 1)
    assert info.value.location.column == "record_id_b"
