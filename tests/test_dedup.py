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
from evsynth.records.dedup.rules import DISTINCT, DUPLICATE, compare
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
            variant(title=BASE["title"] + " (vol 164, pg 739, 2010)", pages="1034"),
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
