"""The example review agrees with itself where a reader looks.

* ``data/studies.csv`` against the records: the countries a study's reports
  name in their titles and abstracts are the study's ``country``; the design a
  report names (randomised, cluster randomised, quasi-experimental) is the
  study's ``design``; the study's ``year`` is its main report's year. The same
  for the studies the update round adds.
* Journal names are shown in one case (:mod:`evsynth.report.journals`), in the
  report's tables and in ``included_studies.csv``, while the records keep what
  the export wrote.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evsynth.records.importer import import_searches
from evsynth.report.journals import (
    ACRONYMS,
    SMALL_WORDS,
    display_journal,
    journal_case,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
ROUND_1 = DATA / "updates" / "round_1"

# --- what a record names --------------------------------------------------------

#: Country (as studies.csv writes it) and the words that name it in a title or
#: abstract. England, Wales, Scotland and Northern Ireland are the UK.
COUNTRY_WORDS: dict[str, str] = {
    "UK": (
        r"United Kingdom|\bUK\b|Britain|British|(?<!New )England|Wales|Welsh|"
        r"Scotland|Scottish|Northern Ireland"
    ),
    "Ireland": r"(?<!Northern )Ireland|Irish",
    "USA": r"United States|\bUSA\b|\bU\.S\.",
    "Canada": r"Canada|Canadian",
    "Australia": r"Australia",
    "New Zealand": r"New Zealand",
    "Netherlands": r"Netherlands|Dutch|Holland",
    "Belgium": r"Belgium|Belgian|Flemish",
    "Norway": r"Norway|Norwegian",
    "Sweden": r"Sweden|Swedish",
    "Denmark": r"Denmark|Danish",
    "Finland": r"Finland|Finnish",
    "Germany": r"Germany|German\b",
    "Austria": r"Austria",
    "Switzerland": r"Switzerland|Swiss",
    "France": r"France|French",
    "Spain": r"Spain|Spanish",
    "Portugal": r"Portugal|Portuguese",
    "Italy": r"Italy|Italian",
    "Israel": r"Israel",
}
_COUNTRY = {c: re.compile(p) for c, p in COUNTRY_WORDS.items()}

#: Design (as studies.csv writes it) named by a title or abstract, first match
#: wins: a cluster trial, a non-randomised comparison, a randomised trial, a
#: quasi-experimental design.
DESIGN_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cluster_RCT", re.compile(r"cluster[- ]?randomi[sz]", re.IGNORECASE)),
    ("QED", re.compile(r"non-?randomi[sz]", re.IGNORECASE)),
    ("RCT", re.compile(r"randomi[sz]|\bRCT\b", re.IGNORECASE)),
    (
        "QED",
        re.compile(
            r"quasi-?experiment|propensity[- ]score|difference-in-differences|"
            r"matched comparison",
            re.IGNORECASE,
        ),
    ),
)


def named_countries(text: str) -> set[str]:
    """The countries a title or abstract names."""
    return {country for country, words in _COUNTRY.items() if words.search(text)}


def named_design(text: str) -> str:
    """The design a title or abstract names, or "" if it names none."""
    for design, words in DESIGN_WORDS:
        if words.search(text):
            return design
    return ""


def mismatches(studies: pd.DataFrame, records: pd.DataFrame, name: str) -> list[str]:
    """Every disagreement between a studies table and its reports' records.

    Parameters
    ----------
    studies : pandas.DataFrame
        Rows of a studies.csv, all text.
    records : pandas.DataFrame
        The imported records the ``record_id`` column points to.
    name : str
        The studies file, for the messages.

    Returns
    -------
    list of str
        One message per disagreement (empty when all agree); a report that is
        not among the records is a disagreement too.
    """
    by_id = records.set_index("record_id")
    problems: list[str] = []
    main_rows = {
        str(row["study_id"]): (line, row)
        for line, row in enumerate(studies.to_dict("records"), start=2)
        if row["role"] == "main"
    }
    for line, row in enumerate(studies.to_dict("records"), start=2):
        where = f"{name} line {line} ({row['study_id']}, {row['role']})"
        if row["record_id"] not in by_id.index:
            problems.append(f"{where}: record {row['record_id']} not in the exports")
            continue
        record = by_id.loc[row["record_id"]]
        source = f"{record['source_file']} record {record['source_row']}"
        text = f"{record['title']} {record['abstract']}"
        _, study = main_rows.get(str(row["study_id"]), (line, row))
        country = str(study["country"])
        given_countries = {c.strip() for c in country.split(";") if c.strip()}
        for named in sorted(named_countries(text) - given_countries):
            problems.append(f"{where}: country {country!r} but {source} names {named}")
        design = named_design(text)
        if design and design != study["design"]:
            problems.append(
                f"{where}: design {study['design']!r} but {source} names {design}"
            )
        if row["role"] == "main" and str(record["year"]) != str(row["year"]):
            problems.append(
                f"{where}: year {row['year']!r} but {source} has {record['year']}"
            )
    return problems


def read_studies(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return import_searches(
        DATA / "searches" / "searches.csv", DATA / "searches"
    ).records


@pytest.fixture(scope="module")
def round_records() -> pd.DataFrame:
    return import_searches(ROUND_1 / "searches_rows.csv", ROUND_1 / "searches").records


# --- the rules, by hand -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "countries"),
    [
        ("a cluster randomised trial in Norway", {"Norway"}),
        ("care leavers in Northern Ireland", {"UK"}),
        ("kinship care in Ireland: an exploratory study", {"Ireland"}),
        ("peer mentors in England and Wales", {"UK"}),
        ("a study from New England", set()),
        ("mentoring in Denmark and the Netherlands", {"Denmark", "Netherlands"}),
        ("mentoring of youth in foster care", set()),
    ],
)
def test_countries_named(text, countries):
    assert named_countries(text) == countries


@pytest.mark.parametrize(
    ("text", "design"),
    [
        ("a cluster randomised trial in Norway", "cluster_RCT"),
        ("a cluster-randomized controlled trial", "cluster_RCT"),
        ("a pragmatic randomised trial", "RCT"),
        ("RCT of a Mentoring and Skills Group Program", "RCT"),
        ("a non-randomised comparison of two services", "QED"),
        ("a quasi-experimental evaluation", "QED"),
        ("a propensity score analysis", "QED"),
        ("a difference-in-differences analysis", "QED"),
        ("interviews with 22 care leavers", ""),
    ],
)
def test_design_named(text, design):
    assert named_design(text) == design


def _line(studies: pd.DataFrame, study: str, role: str = "main") -> int:
    """The file line of a study's report (header on line 1)."""
    rows = studies.index[(studies["study_id"] == study) & (studies["role"] == role)]
    return int(rows[0]) + 2


def test_the_check_finds_each_kind_of_disagreement(records):
    """The example as it was (yim_crct2023 in the Netherlands) and two more
    disagreements made on purpose are each reported, naming the record."""
    studies = read_studies(DATA / "studies.csv")
    yim, crossage = _line(studies, "yim_crct2023"), _line(studies, "crossage2016")
    studies.loc[yim - 2, "country"] = "Netherlands"
    studies.loc[crossage - 2, "design"] = "QED"
    studies.loc[crossage - 2, "year"] = "2015"
    found = mismatches(studies, records, "studies.csv")
    assert sorted(found) == sorted(
        [
            (
                f"studies.csv line {crossage} (crossage2016, main): design 'QED' but "
                "psycinfo_ovid.ris record 2 names RCT"
            ),
            (
                f"studies.csv line {crossage} (crossage2016, main): year '2015' but "
                "psycinfo_ovid.ris record 2 has 2016"
            ),
            (
                f"studies.csv line {yim} (yim_crct2023, main): country 'Netherlands' "
                "but medline.nbib record 19 names Norway"
            ),
        ]
    )


def test_a_secondary_report_is_checked_against_its_study(records):
    studies = read_studies(DATA / "studies.csv")
    main = _line(studies, "taussig2010_fhf")
    studies.loc[main - 2, "design"] = "QED"
    found = mismatches(studies, records, "studies.csv")
    # the main report names no design; both follow-up papers name a randomised
    # trial (Taussig et al. 2012, "RCT of ..."; 2021, "... Randomized Controlled
    # Trial")
    assert found == [
        (
            f"studies.csv line {main + 1} (taussig2010_fhf, secondary): design 'QED' "
            "but scopus.csv record 34 names RCT"
        ),
        (
            f"studies.csv line {main + 2} (taussig2010_fhf, secondary): design 'QED' "
            "but scopus.csv record 39 names RCT"
        ),
    ]


# --- the example's data -------------------------------------------------------------


def test_example_studies_agree_with_their_records(records):
    studies = read_studies(DATA / "studies.csv")
    assert mismatches(studies, records, "data/studies.csv") == []


def test_every_study_with_a_country_in_its_records_has_one(records):
    """Spelled out for the two studies the check once caught."""
    studies = read_studies(DATA / "studies.csv").set_index("study_id")
    by_id = records.set_index("record_id")
    for study, expected in (
        ("yim_crct2023", "Norway"),
        ("employment_did2021", "Denmark"),
    ):
        record = by_id.loc[studies.loc[study, "record_id"]]
        assert named_countries(f"{record['title']} {record['abstract']}") == {expected}
        assert studies.loc[study, "country"] == expected


def test_update_round_studies_agree_with_their_records(records, round_records):
    studies = read_studies(ROUND_1 / "studies_rows.csv")
    both = pd.concat([records, round_records], ignore_index=True)
    assert len(studies)
    assert mismatches(studies, both, "studies_rows.csv") == []


# --- journal names as tables show them ------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        # Web of Science writes SO in capitals
        ("PILOT AND FEASIBILITY STUDIES", "Pilot and Feasibility Studies"),
        ("CHILD CARE IN PRACTICE", "Child Care in Practice"),
        ("BRITISH JOURNAL OF SOCIAL WORK", "British Journal of Social Work"),
        ("CHILD: CARE, HEALTH AND DEVELOPMENT", "Child: Care, Health and Development"),
        ("JOURNAL OF CHILDREN'S SERVICES", "Journal of Children's Services"),
        ("EVIDENCE-BASED MENTAL HEALTH", "Evidence-Based Mental Health"),
        ("THE LANCET", "The Lancet"),
        ("BMJ OPEN", "BMJ Open"),
        ("JAMA PEDIATRICS", "JAMA Pediatrics"),
        ("BMC PUBLIC HEALTH", "BMC Public Health"),
        ("PLOS ONE", "PLOS ONE"),
        ("JMIR MHEALTH AND UHEALTH", "JMIR mHealth and uHealth"),
        (
            "AMERICAN JOURNAL OF COMMUNITY PSYCHOLOGY",
            "American Journal of Community Psychology",
        ),
        (
            "SOCIETY FOR SOCIAL WORK AND RESEARCH 23RD ANNUAL CONFERENCE",
            "Society for Social Work and Research 23rd Annual Conference",
        ),
        (
            "ADVANCES IN SCHOOL MENTAL HEALTH PROMOTION PART II",
            "Advances in School Mental Health Promotion Part II",
        ),
        (
            "ZEITSCHRIFT FUR KINDER- UND JUGENDPSYCHIATRIE UND PSYCHOTHERAPIE",
            "Zeitschrift fur Kinder- und Jugendpsychiatrie und Psychotherapie",
        ),
        # MEDLINE's JT and Google Scholar write sentence case or lower case
        ("Journal of adolescence", "Journal of Adolescence"),
        ("journal of adolescence", "Journal of Adolescence"),
        ("Child abuse & neglect", "Child Abuse & Neglect"),
        (
            "Health & social care in the community",
            "Health & Social Care in the Community",
        ),
        ("Child: care, health and development", "Child: Care, Health and Development"),
        ("BMJ open", "BMJ Open"),
        ("Plos one", "PLOS ONE"),
        ("npj digital medicine", "npj Digital Medicine"),
        (
            (
                "Prevention science : the official journal of the Society for "
                "Prevention Research"
            ),
            (
                "Prevention Science : The Official Journal of the Society for "
                "Prevention Research"
            ),
        ),
        (
            "Archives of pediatrics \\& adolescent medicine",
            "Archives of Pediatrics \\& Adolescent Medicine",
        ),
        # already in title case, or cased on purpose: unchanged
        ("Children and Youth Services Review", "Children and Youth Services Review"),
        (
            "Journal of the American Academy of Child and Adolescent Psychiatry",
            "Journal of the American Academy of Child and Adolescent Psychiatry",
        ),
        ("PLoS ONE", "PLoS ONE"),
        ("BMJ", "BMJ"),
        ("JAMA", "JAMA"),
        ("eLife", "eLife"),
        ("mBio", "mBio"),
        ("npj Digital Medicine", "npj Digital Medicine"),
        ("JMIR Formative Research", "JMIR Formative Research"),
        ("Joseph Rowntree Foundation", "Joseph Rowntree Foundation"),
        ("", ""),
        ("2023", "2023"),
    ],
)
def test_journal_display(written, shown):
    assert display_journal(written) == shown


def test_journal_case():
    assert journal_case("PILOT AND FEASIBILITY STUDIES") == "upper"
    assert journal_case("journal of adolescence") == "lower"
    assert journal_case("Journal of adolescence") == "sentence"
    assert journal_case("BMJ open") == "sentence"
    assert journal_case("Journal of Adolescence") == "title"
    assert journal_case("PLoS ONE") == "title"
    assert journal_case("BMJ") == "upper"
    assert journal_case("") == ""
    assert display_journal(None) == ""


NAME_WORDS = st.sampled_from(
    [
        "journal",
        "of",
        "the",
        "and",
        "child",
        "youth",
        "services",
        "review",
        "social",
        "work",
        "in",
        "practice",
        "bmj",
        "care",
        "for",
        "ii",
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", ": ", " & ", "-", ", "])


@st.composite
def journal_names(draw) -> tuple[str, str]:
    words = draw(st.lists(NAME_WORDS, min_size=1, max_size=8))
    if words[0] == "ii":  # no journal name starts with a numeral
        words[0] = "annals"
    text = words[0]
    for word in words[1:]:
        text += draw(SEPARATORS) + word
    case = draw(st.sampled_from(["upper", "lower", "sentence", "title"]))
    if case == "upper":
        return text.upper(), case
    if case == "sentence":
        return text[:1].upper() + text[1:], case
    if case == "title":
        # a title-cased name writes its acronyms as they are spelt
        return re.sub(
            r"[a-z]+",
            lambda m: ACRONYMS.get(m.group(), m.group().capitalize()),
            text,
        ), case
    return text, case


@settings(max_examples=300, deadline=None)
@given(journal_names())
def test_journal_display_changes_only_the_case(drawn):
    name, case = drawn
    shown = display_journal(name)
    assert shown.lower() == name.lower()
    assert display_journal(shown) == shown
    # one case, whatever case the export wrote
    assert display_journal(name.upper()) == display_journal(name.lower())
    if case == "title" or journal_case(name) == "title":
        # title case is kept as written (and so is a sentence-cased name that
        # cannot be told from one: "Journal of the", "Journal: of")
        assert shown == name
        return
    words = re.findall(r"[A-Za-z]+", shown)
    for position, word in enumerate(words):
        key = word.lower()
        after_colon = re.search(rf":\s*{word}\b", shown)
        if key in ACRONYMS:
            assert word == ACRONYMS[key]
        elif key == "ii":
            assert word == "II"
        elif key in SMALL_WORDS and position and not after_colon:
            assert word == key
        else:
            assert word == key.capitalize()


# --- the report's tables -----------------------------------------------------------------


@pytest.mark.workflow
def test_tables_show_journals_in_one_case(tmp_path):
    """The example's tables (XLSX, DOCX, HTML, included_studies.csv) show the
    journals in title case; the records keep the exports' spelling."""
    import yaml
    from docx import Document
    from openpyxl import load_workbook

    from evsynth.report.build import build_report, build_tables
    from evsynth.report.exports import export_included
    from tests.conftest import example_results

    results = example_results()
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text("utf-8"))
    build_tables(results, config, DATA, tmp_path)
    build_report(results, config, DATA, tmp_path)
    export_included(results, DATA, tmp_path)

    with (results / "records" / "unique.csv").open(encoding="utf-8") as handle:
        unique = {r["record_id"]: r for r in csv.DictReader(handle)}
    with (tmp_path / "included_studies.csv").open(encoding="utf-8") as handle:
        included = list(csv.DictReader(handle))
    for row in included:
        assert row["journal"] == unique[row["record_id"]]["journal"]
        assert row["journal_display"] == display_journal(row["journal"])
    written = {r["journal"] for r in included if r["role"] == "main"}
    # the exports write journals in capitals and in sentence case
    assert {"PILOT AND FEASIBILITY STUDIES", "Journal of adolescence"} <= written

    expected = sorted(
        display_journal(r["journal"]) for r in included if r["role"] == "main"
    )
    sheet = load_workbook(tmp_path / "tables.xlsx")["Included studies"]
    header = [c.value for c in sheet[1]]
    column = header.index("Source")
    shown = [row[column] or "" for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(shown) == expected
    assert all(journal_case(source) in ("", "title") for source in shown), shown
    assert "Pilot and Feasibility Studies" in shown
    assert shown.count("Journal of Adolescence") == 2  # written in two cases
    assert shown.count("Child Care in Practice") == 3  # written in two cases

    table = next(
        t
        for t in Document(str(tmp_path / "tables.docx")).tables
        if "Source" in [c.text for c in t.rows[0].cells]
    )
    names = [c.text for c in table.rows[0].cells]
    docx = [r.cells[names.index("Source")].text for r in table.rows[1:]]
    assert docx == shown

    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "PILOT AND FEASIBILITY STUDIES" not in page
    assert "Pilot and Feasibility Studies" in page
