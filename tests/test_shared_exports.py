"""Real exports from reference managers and databases import with the record
counts their README gives (the counts ASySD's own tests expect)."""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import pytest

from evsynth.records import import_file

pytestmark = pytest.mark.shared


@functools.cache
def imported(path: Path):
    """Import a shared export once for all the tests that read it."""
    return import_file(path)


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
    item = imported(shared / relative)
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


# --- Fidelity on real exports: authors and DOIs as the files write them -------
# Each expected value is read from the file by a few lines of plain parsing
# here, independently of evsynth's parsers.

_RESOLVER = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def _ris_by_hand(path: Path) -> list[dict[str, list[str]]]:
    """AU and DO values of each TY ... ER record (tag lines only)."""
    records, current = [], None
    text = path.read_bytes().decode("utf-8-sig")
    for line in text.splitlines():  # a lone CR ends a line too
        match = re.match(r"^([A-Z][A-Z0-9])  -(?: (.*))?$", line)
        if not match:
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            current = {"AU": [], "DO": []}
        elif tag == "ER":
            records.append(current)
            current = None
        elif current is not None and tag in current and value:
            current[tag].append(value)
    return records


def _squeeze(name: str) -> str:
    """A name without spaces and commas: evsynth writes ``Family, Given``."""
    return re.sub(r"[\s,]", "", name)


@pytest.mark.parametrize(
    "name", ["zotero_export.ris", "wos_test.ris", "scopus.ris", "ris_export.txt"]
)
def test_ris_authors_and_dois_as_written(shared, name):
    path = shared / "benchmarks/imports" / name
    by_hand = _ris_by_hand(path)
    records = imported(path).result.records
    assert len(by_hand) == len(records)
    upper = 0
    for expected, record in zip(by_hand, records, strict=True):
        if name != "ris_export.txt":  # EndNote puts authors on untagged lines too
            authors = record.fields.get("authors", "")
            listed = authors.split("; ") if authors else []
            assert [_squeeze(a) for a in listed] == [
                _squeeze(a) for a in expected["AU"]
            ]
        if expected["DO"]:
            doi = _RESOLVER.sub("", expected["DO"][0])
            assert record.fields["doi"] == doi
            upper += doi != doi.lower()
    # each file has DOIs with capitals (4 in the Web of Science file), kept so
    assert upper >= 1


def test_zotero_csv_authors_and_dois_as_written(shared):
    import csv

    path = shared / "benchmarks/imports/zotero_export.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = imported(path).result.records
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        names = [n for n in row["Author"].split(";") if n.strip()]
        authors = record.fields.get("authors", "")
        assert len(authors.split("; ") if authors else []) == len(names)
        assert record.fields.get("doi", "") == row["DOI"].strip()


def _xml_by_hand(path: Path) -> list[tuple[list[str], str]]:
    """Per <record>: its <author> texts and its DOI element's text."""
    text = path.read_text(encoding="utf-8")
    out = []
    for body in re.findall(r"<record>(.*?)</record>", text, flags=re.DOTALL):
        authors = re.search(r"<authors>(.*?)</authors>", body, flags=re.DOTALL)
        names = []
        if authors:
            for author in re.findall(r"<author>(.*?)</author>", authors.group(1)):
                plain = html.unescape(re.sub(r"<[^>]+>", "", author)).strip()
                if plain.strip(" ,"):
                    names.append(plain)
        doi = re.search(
            r"<electronic-resource-num>(.*?)</electronic-resource-num>", body, re.DOTALL
        )
        value = (
            html.unescape(re.sub(r"<[^>]+>", "", doi.group(1))).strip() if doi else ""
        )
        out.append((names, value))
    return out


@pytest.mark.parametrize(
    "relative",
    [
        "benchmarks/imports/mendeley_export.xml",
        "benchmarks/dedup/endnote_xml/Respiratory.xml",
    ],
)
def test_endnote_xml_authors_and_dois_as_written(shared, relative):
    path = shared / relative
    by_hand = _xml_by_hand(path)
    records = imported(path).result.records
    assert len(by_hand) == len(records)
    repeated_by_hand = repeated = 0
    for (names, doi), record in zip(by_hand, records, strict=True):
        authors = record.fields.get("authors", "")
        listed = authors.split("; ") if authors else []
        assert len(listed) == len(names)
        repeated_by_hand += len(names) != len(set(names))
        repeated += len(listed) != len(set(listed))
        if re.match(r"^10\.\d{4,9}/\S+$", doi):
            assert record.fields["doi"] == doi
    # records naming one author twice (two co-authors "Lee, S. Y.") keep both
    assert repeated == repeated_by_hand
    if relative.endswith("Respiratory.xml"):
        assert repeated_by_hand > 0


def _bib_names(value: str) -> list[str]:
    """Split a BibTeX author value on `` and `` outside braces."""
    names, depth, start = [], 0, 0
    for index, char in enumerate(value):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and value.startswith(" and ", index):
            names.append(value[start:index])
            start = index + 5
    names.append(value[start:])
    return [n for n in names if n.strip()]


def test_bibtex_authors_and_dois_as_written(shared):
    path = shared / "benchmarks/imports/zotero_export.bib"
    text = path.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=@)", "\n" + text)[1:]
    records = imported(path).result.records
    assert len(entries) == len(records)
    for entry, record in zip(entries, records, strict=True):
        author = re.search(r"^\tauthor = \{(.*)\},?$", entry, flags=re.MULTILINE)
        names = _bib_names(author.group(1)) if author else []
        authors = record.fields.get("authors", "")
        assert len(authors.split("; ") if authors else []) == len(names)
        doi = re.search(r"^\tdoi = \{(.*)\},?$", entry, flags=re.MULTILINE)
        if doi:
            assert record.fields["doi"] == doi.group(1)
