"""Field normalisation: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from evsynth.records import normalise as nz


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("739-46", None, "739-746"),
        ("739", "46", "739-746"),
        ("739", "746", "739-746"),
        ("1012-9", None, "1012-1019"),
        ("pp. 739–746", None, "739-746"),
        ("739--746", None, "739-746"),
        ("e15500", None, "e15500"),
        ("S12-S19", None, "S12-S19"),
        ("", "", ""),
        ("12", "12", "12"),
    ],
)
def test_pages(start, end, expected):
    assert nz.norm_pages(start, end) == expected


@given(st.integers(10, 99999), st.integers(1, 999), st.integers(1, 5))
def test_abbreviated_page_range_is_written_in_full(first, length, keep):
    last = first + length
    width = len(str(last))
    assume(len(str(first)) == width and keep <= width)
    # MEDLINE drops the leading digits that the last page shares with the first
    assume(str(first)[: width - keep] == str(last)[: width - keep])
    abbreviated = str(last)[-keep:]
    assert nz.norm_pages(f"{first}-{abbreviated}") == f"{first}-{last}"


@given(st.text())
def test_pages_idempotent(text):
    once = nz.norm_pages(text)
    assert nz.norm_pages(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1001/archpediatrics.2010.124", "10.1001/archpediatrics.2010.124"),
        (
            "https://doi.org/10.1001/ARCHPEDIATRICS.2010.124",
            "10.1001/ARCHPEDIATRICS.2010.124",
        ),
        ("http://dx.doi.org/10.1002/ajcp.12385.", "10.1002/ajcp.12385"),
        ("doi: 10.1007/s10964-019-00982-8", "10.1007/s10964-019-00982-8"),
        ("10.1001/archpediatrics.2010.124 [doi]", "10.1001/archpediatrics.2010.124"),
        ("DOI 10.1016/S0140-6736(20)30183-5", "10.1016/S0140-6736(20)30183-5"),
        ("not a doi", ""),
        ("", ""),
    ],
)
def test_doi_kept_as_written(raw, expected):
    # resolver prefixes, "[doi]" and a closing full stop go; the case stays
    assert nz.norm_doi(raw) == expected


def test_doi_key_folds_case_only():
    # The Lancet writes its DOIs in capitals, PubMed and Crossref often in small
    # letters; the DOI Handbook makes them one DOI.
    upper = "https://doi.org/10.1016/S0140-6736(20)30183-5"
    lower = "doi:10.1016/s0140-6736(20)30183-5"
    assert nz.doi_key(upper) == nz.doi_key(lower) == "10.1016/s0140-6736(20)30183-5"
    assert nz.norm_doi(upper) != nz.norm_doi(lower)
    assert nz.doi_key("10.1016/S0140-6736(20)30183-5") != nz.doi_key(
        "10.1016/S0140-6736(20)30184-7"
    )


@given(st.text())
def test_doi_never_rewritten(text):
    doi = nz.norm_doi(text)
    assert nz.norm_doi(doi) == doi
    assert doi == "" or doi.startswith("10.")
    # the DOI is a piece of the (cleaned) text as written, never a rewriting
    assert doi in nz.clean_text(text)
    assert nz.doi_key(text) == doi.lower()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mentoring in foster care.", "Mentoring in foster care"),
        ("Does mentoring work?", "Does mentoring work?"),
        ("  <i>In vivo</i>  &amp; in vitro ", "In vivo & in vitro"),
        ("Waiting...", "Waiting..."),
        ("Smith et al.", "Smith et al."),
        ("Mentoring care leavers. [References]", "Mentoring care leavers"),
    ],
)
def test_title(raw, expected):
    assert nz.norm_title(raw) == expected


@given(st.text())
def test_clean_text_idempotent(text):
    once = nz.clean_text(text)
    assert nz.clean_text(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2010 Aug", "2010"),
        ("2010///", "2010"),
        ("Published 12/03/2019", "2019"),
        ("no year", ""),
        ("12345", ""),
    ],
)
def test_year(raw, expected):
    assert nz.norm_year(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Taussig, Heather N", "Taussig, Heather N"),
        ("Taussig H.N.", "Taussig, H.N."),
        ("van Dam L.", "van Dam, L."),
        ("Taussig ,  HN ", "Taussig, HN"),
        ("Barnardo's", "Barnardo's"),
        # initials of any script (Scopus and MEDLINE write "Family AB")
        ("Fluge Ø.", "Fluge, Ø."),
        ("Lønning P.E.", "Lønning, P.E."),
        ("Çelik Ş.", "Çelik, Ş."),
        ("Ødegård-Jensen Å.B.", "Ødegård-Jensen, Å.B."),
        ("Müller J.-Ö.", "Müller, J.-Ö."),
        ("Øvretveit J", "Øvretveit, J"),
        # particles belong to the family name wherever the export puts them
        ("van der Graaf J", "van der Graaf, J"),
        ("de la Cruz M.-A.", "de la Cruz, M.-A."),
        ("Dam, L. van", "van Dam, L."),
        ("Graaf, J. van der", "van der Graaf, J."),
        ("Beethoven, Ludwig van", "van Beethoven, Ludwig"),
        ("Dam L. van", "van Dam, L."),
        ("Silva J.A. da", "da Silva, J.A."),
        ("Essen L von", "von Essen, L"),
        ("L. van Dam", "van Dam, L."),
        ("J. A. Smith", "Smith, J. A."),
        ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
        ("Maria da Silva", "da Silva, Maria"),
        ("Anna von der Leyen", "von der Leyen, Anna"),
        ("Van den Berg, H.", "Van den Berg, H."),
        ("Dos Santos, A.", "Dos Santos, A."),
        # left as written: given-first full names without a particle, and
        # words that only look like initials
        ("Mary Ann Smith", "Mary Ann Smith"),
        ("St. John", "St. John"),
        ("St. John P", "St. John, P"),
        ("Dam, van", "Dam, van"),
    ],
)
def test_author(raw, expected):
    assert nz.format_author(raw) == expected


@pytest.mark.parametrize(
    ("word", "initials"),
    [
        ("P.E.", True),
        ("HN", True),
        ("Ø.", True),
        ("Å.B.", True),
        ("J.-Ö.", True),
        ("Ch.", True),
        ("ABCDE", False),
        ("Fluge", False),
        ("ø.", False),
        ("", False),
    ],
)
def test_initials(word, initials):
    assert nz.is_initials(word) is initials


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("ESPRIT Study Group", True),
        ("Cochrane Collaboration", True),
        ("World Health Organization", True),
        ("Medical Research Council MRC", True),
        ("ESPRIT Study Group UK", True),
        ("Grupo Español de Investigación", True),
        ("Board J", False),  # a person: family name and initials
        ("van der Board J", False),
        ("Smith, Group", False),  # a comma: family, given
        ("J. Smith Group", False),  # initials in front: a person
        ("Group", False),  # one word says nothing
        ("Taussig, Heather N", False),
    ],
)
def test_group_name(name, group):
    assert nz.is_group_name(name) is group


def test_group_author_is_never_split():
    fields = nz.author_fields(
        [
            "Smith, John",
            nz.GroupName("ESPRIT Study Group UK"),
            "Medical Research Council MRC",
        ]
    )
    assert fields["authors"] == (
        "Smith, John; ESPRIT Study Group UK; Medical Research Council MRC"
    )
    assert (
        fields["group_authors"] == "ESPRIT Study Group UK; Medical Research Council MRC"
    )


def test_repeated_author_names_are_kept_in_order():
    # two authors of one paper may share a name (3 of 500 Web of Science
    # records lost one when repeats were dropped)
    fields = nz.author_fields(["Lee, S. Y.", "Kim, J. H.", "Lee, S. Y.", "", "  "])
    assert fields == {
        "authors": "Lee, S. Y.; Kim, J. H.; Lee, S. Y.",
        "group_authors": "",
    }
    assert nz.join_authors(["Wang Y", "Wang Y"]) == "Wang, Y; Wang, Y"


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("World Health Organization,", True),
        ("Zvekotkina,", False),  # one word: a person without given names
        ("et al.,", False),
        ("Smith, J.", False),
        ("Smith, John,", False),  # two commas: a person with a stray comma
    ],
)
def test_endnote_corporate_comma(name, group):
    assert isinstance(nz.endnote_author(name), nz.GroupName) is group


_NAME = st.text(
    alphabet=st.characters(blacklist_characters=";", blacklist_categories=("Cs",)),
    max_size=30,
)


@given(st.lists(st.one_of(_NAME, _NAME.map(nz.GroupName)), max_size=8))
def test_author_fields_keep_every_name(names):
    fields = nz.author_fields(names)
    kept = [n for n in names if nz.format_author(n, isinstance(n, nz.GroupName))]
    listed = fields["authors"].split("; ") if fields["authors"] else []
    assert len(listed) == len(kept)  # nothing dropped, repeats included
    groups = fields["group_authors"].split("; ") if fields["group_authors"] else []
    marked = [n for n in kept if isinstance(n, nz.GroupName)]
    assert len(groups) >= len(marked)
    assert all(g in listed for g in groups)


def test_language_codes():
    assert nz.norm_language("eng") == "English"
    assert nz.norm_language("eng; nor") == "English; Norwegian"
    assert nz.norm_language("english") == "English"


def test_serials():
    assert nz.norm_serials(["1072-4710 (Print)", "1538-3628 (Electronic)"]) == (
        "1072-4710; 1538-3628"
    )
