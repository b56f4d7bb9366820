"""Each importer on small files: fields, encodings, and files that misbehave."""

from __future__ import annotations

import codecs

import pytest

from evsynth.errors import InputError
from evsynth.records import import_file
from tests import samples

FORMATS = sorted(samples.BUILDERS)
TAGGED = ["ris", "pubmed", "bibtex", "wos", "endnote_xml"]
TABLES = ["scopus_csv", "zotero_csv", "csv", "wos_tab"]


def write(tmp_path, fmt, text, *, encoding="utf-8", bom=b"", newline="\n"):
    path = tmp_path / f"export.{fmt}"
    data = text.replace("\n", newline).encode(encoding)
    path.write_bytes(bom + data)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_fields_and_detection(tmp_path, fmt):
    path = write(tmp_path, fmt, samples.BUILDERS[fmt]())
    item = import_file(path)
    assert item.format == fmt
    records = item.result.records
    assert len(records) == 3
    first, second, third = (r.fields for r in records)
    assert first["title"].lower() == samples.TITLE_1.lower()
    assert first["year"] == "2010"
    assert first["doi"] == "10.1001/archpediatrics.2010.124"
    assert first["authors"].startswith("Taussig, H")
    assert "Culhane, S" in first["authors"]
    assert "title" not in second
    assert second["year"] == "2021"
    assert third["title"].lower() == samples.TITLE_3.lower()
    assert third["year"] == "2015"
    assert item.result.issues == []


@pytest.mark.parametrize("fmt", ["ris", "pubmed", "wos", "scopus_csv", "endnote_xml"])
def test_pages_written_in_full(tmp_path, fmt):
    item = import_file(write(tmp_path, fmt, samples.BUILDERS[fmt]()))
    assert item.result.records[0].fields["pages"] == "739-746"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("label", "encoding", "bom", "newline"),
    [
        ("utf8-bom", "utf-8", codecs.BOM_UTF8, "\n"),
        ("utf16-le-bom", "utf-16-le", codecs.BOM_UTF16_LE, "\n"),
        ("utf16-be-bom", "utf-16-be", codecs.BOM_UTF16_BE, "\n"),
        ("utf16-le-no-bom", "utf-16-le", b"", "\r\n"),
        ("crlf", "utf-8", b"", "\r\n"),
        ("cr", "utf-8", b"", "\r"),
    ],
)
def test_encodings_and_line_endings(tmp_path, fmt, label, encoding, bom, newline):
    text = samples.BUILDERS[fmt]()
    plain = import_file(write(tmp_path, fmt, text)).result.records
    path = write(
        tmp_path, f"{fmt}-{label}", text, encoding=encoding, bom=bom, newline=newline
    )
    item = import_file(path)
    assert item.format == fmt
    assert [r.fields for r in item.result.records] == [r.fields for r in plain]
    assert [r.line for r in item.result.records] == [r.line for r in plain]


@pytest.mark.parametrize("fmt", TAGGED)
def test_non_bibliographic_line_is_reported_not_fatal(tmp_path, fmt):
    item = import_file(write(tmp_path, fmt, samples.BUILDERS[fmt](junk=True)), fmt)
    assert len(item.result.records) == 3
    assert item.result.records[2].fields["title"].lower() == samples.TITLE_3.lower()
    assert len(item.result.issues) == 1
    assert "skipped" in item.result.issues[0].message


@pytest.mark.parametrize("fmt", TABLES)
def test_blank_row_in_table_is_not_a_record(tmp_path, fmt):
    item = import_file(write(tmp_path, fmt, samples.BUILDERS[fmt](junk=True)), fmt)
    assert len(item.result.records) == 3


@pytest.mark.parametrize("fmt", ["scopus_csv", "zotero_csv", "csv"])
def test_short_row_in_the_middle_of_a_table_is_an_error(tmp_path, fmt):
    lines = samples.BUILDERS[fmt]().split("\n")
    lines.insert(2, "Records 1-3 of 3")
    path = write(tmp_path, fmt, "\n".join(lines))
    with pytest.raises(InputError) as info:
        import_file(path, fmt)
    assert info.value.location.line == 3
    assert str(path) in str(info.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_last_record_is_kept(tmp_path, fmt):
    item = import_file(write(tmp_path, fmt, samples.BUILDERS[fmt](truncate=True)), fmt)
    assert len(item.result.records) == 3
    assert item.result.records[2].fields["title"].lower() == samples.TITLE_3.lower()
    if fmt != "pubmed":  # MEDLINE records have no end mark to miss
        assert any("truncated" in i.message for i in item.result.issues)


def test_ris_repeated_tags_and_variants(tmp_path):
    item = import_file(write(tmp_path, "ris", samples.ris()))
    first, _, third = (r.fields for r in item.result.records)
    assert first["abstract"] == "First line of the abstract continued on a second line."
    assert first["journal"] == "Arch Pediatr Adolesc Med"
    assert third["title"] == samples.TITLE_3  # T1 read, trailing full stop dropped
    assert third["journal"] == "Health Technology Assessment"
    assert third["journal_abbrev"] == "Health Technol Assess"
    assert third["keywords"] == "mentoring; looked-after children"
    assert item.result.records[1].fields["type"] == "report"


def test_ris_tag_outside_record_is_an_error(tmp_path):
    text = "AU  - Lost, Author\nTY  - JOUR\nTI  - x\nER  - \n"
    with pytest.raises(InputError) as info:
        import_file(write(tmp_path, "ris", text), "ris")
    assert info.value.location.line == 1
    assert info.value.location.column == "AU"
    assert "TY" in str(info.value)


def test_pubmed_fields(tmp_path):
    item = import_file(write(tmp_path, "pubmed", samples.pubmed()))
    first, second, _ = (r.fields for r in item.result.records)
    assert first["pmid"] == "20679165"
    assert first["journal"] == "Archives of pediatrics & adolescent medicine"
    assert first["journal_abbrev"] == "Arch Pediatr Adolesc Med"
    assert first["language"] == "English"
    assert first["type"] == "article"
    assert second["type"] == "erratum"
    assert item.result.records[0].source_ids[0] == ("pmid", "20679165")


def test_bibtex_latex_and_names(tmp_path):
    item = import_file(write(tmp_path, "bibtex", samples.bibtex()))
    first, _, third = (r.fields for r in item.result.records)
    assert first["journal"] == "Archives of Pediatrics & Adolescent Medicine"
    assert first["authors"] == "Taussig, Heather N; Culhane, Sara E"
    assert third["authors"] == "Mezey, Gillian; Kjøbli, John; Müller, Jörg"


def test_bibtex_repeated_key_keeps_both(tmp_path):
    text = (
        "@article{k, title={One}, year={2001}}\n@article{k, title={Two}, year={2002}}\n"
    )
    item = import_file(write(tmp_path, "bibtex", text))
    assert [r.fields["title"] for r in item.result.records] == ["One", "Two"]
    assert "used twice" in item.result.issues[0].message


def test_bibtex_broken_entry_in_the_middle_is_an_error(tmp_path):
    text = (
        "@article{a, title={One}, year={2001}}\n"
        "@article{b, title={Two, year={2002}\n"
        "@article{c, title={Three}, year={2003}}\n"
    )
    with pytest.raises(InputError) as info:
        import_file(write(tmp_path, "bibtex", text))
    assert info.value.location.line == 2


def test_wos_fields(tmp_path):
    item = import_file(write(tmp_path, "wos", samples.wos()))
    first, second, _ = (r.fields for r in item.result.records)
    assert first["authors"] == "Taussig, Heather N.; Culhane, Sara E."
    assert first["accession"] == "WOS:000280498300008"
    assert second["type"] == "erratum"
    assert item.result.records[0].source_ids[0] == ("ut", "WOS:000280498300008")


def test_scopus_fields(tmp_path):
    item = import_file(write(tmp_path, "scopus_csv", samples.scopus_csv()))
    first, second, _ = (r.fields for r in item.result.records)
    assert first["authors"] == "Taussig, Heather N.; Culhane, Sara E."
    assert first["pmid"] == "20679165"
    assert first["journal_abbrev"] == "Arch. Pediatr. Adolesc. Med."
    assert second["type"] == "erratum"
    assert item.result.records[0].source_ids[0] == ("eid", "2-s2.0-77955490812")


def test_zotero_fields(tmp_path):
    item = import_file(write(tmp_path, "zotero_csv", samples.zotero_csv()))
    first, second, _ = (r.fields for r in item.result.records)
    assert first["pmid"] == "20679165"
    assert first["language"] == "English"
    assert second["type"] == "report"
    assert item.result.records[0].source_ids[0] == ("key", "ABCD1234")


def test_endnote_xml_error_names_line(tmp_path):
    text = '<?xml version="1.0"?>\n<xml><records>\n<record><titles><title>A</titl>\n'
    text += "</titles></record></records></xml>\n"
    with pytest.raises(InputError) as info:
        import_file(write(tmp_path, "xml", text))
    assert info.value.location.line == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("just some notes\nnothing bibliographic\n", "not recognised"),
        ("<html><body>search results</body></html>", "not an EndNote XML"),
    ],
)
def test_unrecognised_files(tmp_path, text, message):
    path = tmp_path / "odd.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        import_file(path)
    assert str(path) in str(info.value)
    assert "expected" in str(info.value)


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ('{\\"o}rebro', "örebro"),
        ("Kj{\\o}bli", "Kjøbli"),
        ("Ren{\\'e}e", "Renée"),
        ("\\'{e}t\\'e", "été"),
        ("{\\O}deg{\\aa}rd", "Ødegård"),
        ("\\textit{in vivo} study", "in vivo study"),
        ("50\\% of youth", "50% of youth"),
        ("Child Abuse \\& Neglect", "Child Abuse & Neglect"),
        ("$\\alpha$-blockers", "α-blockers"),
        ("{UK} and {England}", "UK and England"),
        ("1990--2000", "1990\u20132000"),
        ("plain text", "plain text"),
    ],
)
def test_bibtex_latex_decoding(latex, text):
    from evsynth.records.bibtex import decode_latex

    assert decode_latex(latex) == text
