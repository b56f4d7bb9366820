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
            "10.1001/archpediatrics.2010.124",
        ),
        ("http://dx.doi.org/10.1002/ajcp.12385.", "10.1002/ajcp.12385"),
        ("doi: 10.1007/s10964-019-00982-8", "10.1007/s10964-019-00982-8"),
        ("10.1001/archpediatrics.2010.124 [doi]", "10.1001/archpediatrics.2010.124"),
        ("not a doi", ""),
        ("", ""),
    ],
)
def test_doi(raw, expected):
    assert nz.norm_doi(raw) == expected


@given(st.text())
def test_doi_idempotent_and_lower_case(text):
    doi = nz.norm_doi(text)
    assert nz.norm_doi(doi) == doi
    assert doi == doi.lower()
    assert doi == "" or doi.startswith("10.")


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
    ],
)
def test_author(raw, expected):
    assert nz.format_author(raw) == expected


def test_language_codes():
    assert nz.norm_language("eng") == "English"
    assert nz.norm_language("eng; nor") == "English; Norwegian"
    assert nz.norm_language("english") == "English"


def test_serials():
    assert nz.norm_serials(["1072-4710 (Print)", "1538-3628 (Electronic)"]) == (
        "1072-4710; 1538-3628"
    )
