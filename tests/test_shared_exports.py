"""Real exports from reference managers and databases import with the record
counts their README gives (the counts ASySD's own tests expect)."""

from __future__ import annotations

import pytest

from evsynth.records import import_file

pytestmark = pytest.mark.shared

# From ../shared/benchmarks/imports/README.md and ../shared/benchmarks/dedup/README.md.
EXPECTED = [
    ("benchmarks/imports/zotero_export.ris", "ris", 1000),
    ("benchmarks/imports/zotero_export.bib", "bibtex", 1000),
    ("benchmarks/imports/zotero_export.csv", "zotero_csv", 1233),
    ("benchmarks/imports/mendeley_export.xml", "endnote_xml", 1233),
    ("benchmarks/imports/ris_export.txt", "ris", 69),
    ("benchmarks/imports/wos_test.ris", "ris", 50),
    ("benchmarks/imports/scopus.ris", "ris", 10),
    ("benchmarks/dedup/endnote_xml/Respiratory.xml", "endnote_xml", 1988),
]


@pytest.mark.parametrize(("relative", "fmt", "count"), EXPECTED)
def test_record_counts(shared, relative, fmt, count):
    item = import_file(shared / relative)
    assert item.format == fmt
    assert len(item.result.records) == count
    titled = sum(bool(r.fields.get("title")) for r in item.result.records)
    assert titled >= 0.98 * count
    years = sum(bool(r.fields.get("year")) for r in item.result.records)
    assert years >= 0.95 * count


def test_bom_does_not_lose_first_record(shared):
    path = shared / "benchmarks/imports/wos_test.ris"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    first = import_file(path).result.records[0]
    assert first.line == 1
    assert first.fields["title"].startswith("Microangiography of the humeral condyle")


def test_endnote_ris_continuation_lines_are_list_items(shared):
    # ris_export.txt (EndNote-written RIS) puts further authors on untagged lines
    records = import_file(shared / "benchmarks/imports/ris_export.txt").result.records
    hickman = next(
        r for r in records if r.fields.get("authors", "").startswith("Hickman")
    )
    assert "; " in hickman.fields["authors"]


def test_respiratory_matches_its_csv(shared):
    # The EndNote XML and the dedup set's CSV are the same 1,988 records.
    import pandas as pd

    table = pd.read_csv(shared / "benchmarks/dedup/respiratory/records.csv", dtype=str)
    xml = import_file(shared / "benchmarks/dedup/endnote_xml/Respiratory.xml")
    xml_titles = sorted(r.fields.get("title", "").lower() for r in xml.result.records)
    csv_titles = sorted(
        str(t).strip().rstrip(".").lower() for t in table["title"].fillna("")
    )
    same = sum(a == b for a, b in zip(xml_titles, csv_titles, strict=True))
    assert same >= 0.9 * len(csv_titles)
