"""Properties: whatever a record holds, writing it in a format and importing it
gives back the normalised values, and the importers never lose a record."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from evsynth.records import normalise as nz
from evsynth.records import pubmed, ris, scopus

# single-line text without control characters, as fields hold it
text = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\u0085"
        ),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(bool)
)
surname = st.from_regex(r"[A-Z][a-zà-ÿ]{1,12}(-[A-Z][a-z]{2,8})?", fullmatch=True)
given_name = st.from_regex(r"[A-Z][a-z]{0,8}( [A-Z])?", fullmatch=True)
author = st.builds(lambda s, g: f"{s}, {g}", surname, given_name)
record = st.fixed_dictionaries(
    {
        "title": text,
        "authors": st.lists(author, min_size=0, max_size=6, unique=True),
        "year": st.integers(1900, 2030).map(str),
        "journal": text,
        "volume": st.integers(1, 400).map(str),
    }
)


def expected(rec: dict) -> dict:
    return {
        "title": nz.norm_title(rec["title"]),
        "authors": nz.join_authors(rec["authors"]),
        "year": rec["year"],
        "journal": nz.clean_text(rec["journal"]),
        "volume": rec["volume"],
    }


def got(parsed) -> dict:
    return {
        k: parsed.fields.get(k, "")
        for k in ("title", "authors", "year", "journal", "volume")
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(record, min_size=1, max_size=8))
def test_ris_roundtrip(records):
    lines = []
    for rec in records:
        lines.append("TY  - JOUR")
        lines += [f"AU  - {a}" for a in rec["authors"]]
        lines += [
            f"TI  - {rec['title']}",
            f"T2  - {rec['journal']}",
            f"PY  - {rec['year']}",
            f"VL  - {rec['volume']}",
            "ER  - ",
            "",
        ]
    result = ris.parse("\n".join(lines), "x.ris")
    assert len(result.records) == len(records)
    assert [got(r) for r in result.records] == [expected(r) for r in records]
    assert result.issues == []


@settings(max_examples=60, deadline=None)
@given(st.lists(record, min_size=1, max_size=8))
def test_pubmed_roundtrip(records):
    blocks = []
    for number, rec in enumerate(records, start=1):
        block = [f"PMID- {number}", f"TI  - {rec['title']}"]
        block += [f"FAU - {a}" for a in rec["authors"]]
        block += [
            f"DP  - {rec['year']} Jan",
            f"JT  - {rec['journal']}",
            f"VI  - {rec['volume']}",
        ]
        blocks.append("\n".join(block))
    result = pubmed.parse("\n\n".join(blocks) + "\n", "x.nbib")
    assert [got(r) for r in result.records] == [expected(r) for r in records]
    assert [r.fields["pmid"] for r in result.records] == [
        str(i) for i in range(1, len(records) + 1)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(record, min_size=1, max_size=8))
def test_scopus_csv_roundtrip(records):
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(
        [
            "Authors",
            "Author full names",
            "Title",
            "Year",
            "Source title",
            "Volume",
            "EID",
        ]
    )
    for number, rec in enumerate(records, start=1):
        writer.writerow(
            [
                "; ".join(rec["authors"]),
                "; ".join(rec["authors"]),
                rec["title"],
                rec["year"],
                rec["journal"],
                rec["volume"],
                f"2-s2.0-{number}",
            ]
        )
    result = scopus.parse(buffer.getvalue(), "x.csv")
    assert [got(r) for r in result.records] == [expected(r) for r in records]
