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
    # as the sample writes it (the generic CSV's in capitals)
    written = (
        "10.1001/ARCHPEDIATRICS.2010.124"
        if fmt == "csv"
        else ("10.1001/archpediatrics.2010.124")
    )
    assert first["doi"] == written
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


# --- Record fidelity: group authors, repeated names, identifiers as written ---

LANCET_DOI = "10.1016/S0140-6736(06)68734-5"  # The Lancet writes its DOIs in capitals

WOS_GROUP = (
    "FN Clarivate Analytics Web of Science\n"  # line 1
    "VR 1.0\n"
    "PT J\n"
    "AU Halkes, PHA\n"
    "   van Gijn, J\n"  # line 5
    "AF Halkes, Paul H. A.\n"
    "   van Gijn, Jan\n"
    "CA ESPRIT Study Group\n"
    "TI Aspirin plus dipyridamole\n"
    "TIversus aspirin alone\n"  # line 10: no space after the tag
    "SO LANCET\n"
    "PY 2006\n"
    f"DI {LANCET_DOI}\n"
    "UT WOS:000237903100024\n"
    "ER\n"  # line 15
    "\n"
    "EF\n"
)


def test_wos_group_authors_follow_the_persons(tmp_path):
    item = import_file(write(tmp_path, "wos", WOS_GROUP))
    fields = item.result.records[0].fields
    assert fields["authors"] == "Halkes, Paul H. A.; van Gijn, Jan; ESPRIT Study Group"
    assert fields["group_authors"] == "ESPRIT Study Group"
    assert fields["doi"] == LANCET_DOI


def test_wos_malformed_tag_line_is_reported(tmp_path):
    item = import_file(write(tmp_path, "wos", WOS_GROUP))
    assert item.result.records[0].fields["title"] == (
        "Aspirin plus dipyridamole TIversus aspirin alone"
    )
    [issue] = item.result.issues
    assert (issue.line, issue.record, issue.field) == (10, 1, "TI")
    assert "continuation of 'TI'" in issue.message


def test_wos_tab_group_authors(tmp_path):
    text = (
        "PT\tAU\tAF\tCA\tTI\tPY\tDI\tUT\n"
        "J\tHalkes, PHA; van Gijn, J\tHalkes, Paul H. A.; van Gijn, Jan"
        f"\tESPRIT Study Group; Dutch TIA Trial Group\tAspirin\t2006\t{LANCET_DOI}"
        "\tWOS:000237903100024\n"
    )
    fields = import_file(write(tmp_path, "wos_tab", text)).result.records[0].fields
    assert fields["authors"] == (
        "Halkes, Paul H. A.; van Gijn, Jan; ESPRIT Study Group; Dutch TIA Trial Group"
    )
    assert fields["group_authors"] == "ESPRIT Study Group; Dutch TIA Trial Group"
    assert fields["doi"] == LANCET_DOI


def test_medline_group_author_keeps_its_place(tmp_path):
    text = (
        "PMID- 16714187\n"
        "TI  - Aspirin plus dipyridamole versus aspirin alone.\n"
        "FAU - Halkes, Paul H A\n"
        "AU  - Halkes PH\n"
        "CN  - ESPRIT Study Group\n"
        "FAU - van Gijn, Jan\n"
        "AU  - van Gijn J\n"
        f"LID - {LANCET_DOI} [doi]\n"
        "DP  - 2006 May 20\n"
        "\n"
        "PMID- 7000001\n"  # before 2002 MEDLINE gave short names (AU) only
        "TI  - An older record.\n"
        "AU  - Lee SY\n"
        "AU  - Kim JH\n"
        "AU  - Lee SY\n"
        "CN  - Korean Study Group\n"
        "DP  - 1999\n"
    )
    item = import_file(write(tmp_path, "pubmed", text))
    first, second = (r.fields for r in item.result.records)
    assert first["authors"] == "Halkes, Paul H A; ESPRIT Study Group; van Gijn, Jan"
    assert first["group_authors"] == "ESPRIT Study Group"
    assert first["doi"] == LANCET_DOI
    assert second["authors"] == "Lee, SY; Kim, JH; Lee, SY; Korean Study Group"
    assert item.result.issues == []


def test_medline_repaired_lines_are_reported(tmp_path):
    text = (
        "PMID- 1000001\n"  # line 1
        "TI - Title one\n"  # line 2: tag not in four columns
        "DP  - 2001\n"
        "PMID- 1000002\n"  # line 4: no blank line before the record
        "TI  - Title two\n"
        "DP  - 2002\n"
    )
    item = import_file(write(tmp_path, "pubmed", text), "pubmed")
    assert [r.fields["title"] for r in item.result.records] == [
        "Title one",
        "Title two",
    ]
    found = [(i.line, i.record, i.field) for i in item.result.issues]
    assert found == [(2, 1, "TI"), (4, 2, "PMID")]
    assert "read as the tag 'TI'" in item.result.issues[0].message
    assert "closed on line 3" in item.result.issues[1].message


RIS_FIDELITY = (
    "TY  - JOUR\n"  # line 1
    "AU  - Lee, S. Y.\n"
    "AU  - Kim, J. H.\n"
    "AU  - Lee, S. Y.\n"
    "AU  - ESPRIT Study Group\n"  # line 5
    "AU  - World Health Organization,\n"  # EndNote's mark of a corporate author
    "TI  - A trial\n"
    "PY  - 2006\n"
    f"DO  - {LANCET_DOI}\n"
    "AD  - Seoul\n"  # line 10
    "AD  - Busan\n"  # one address per author: not a repeat to report
    "ER  - \n"
    "\n"
    "TY - JOUR\n"  # line 14: one space before the hyphen
    "AU- Mezey, Gillian\n"  # line 15: none
    "TI  - Second\n"
    "TI  - Second again\n"  # line 17: a second title
    "PY  - 2015\n"
    "ER  - \n"
)


def test_ris_repeated_names_groups_and_doi(tmp_path):
    item = import_file(write(tmp_path, "ris", RIS_FIDELITY), "ris")
    first, second = (r.fields for r in item.result.records)
    assert first["authors"] == (
        "Lee, S. Y.; Kim, J. H.; Lee, S. Y.; ESPRIT Study Group; "
        "World Health Organization"
    )
    assert first["group_authors"] == "ESPRIT Study Group; World Health Organization"
    assert first["doi"] == LANCET_DOI
    assert second["authors"] == "Mezey, Gillian"
    assert second["title"] == "Second"
    assert second["year"] == "2015"


def test_ris_repaired_and_skipped_lines_are_reported(tmp_path):
    item = import_file(write(tmp_path, "ris", RIS_FIDELITY), "ris")
    found = [(i.line, i.record, i.field) for i in item.result.issues]
    assert found == [(14, 2, "TY"), (15, 2, "AU"), (17, 2, "TI")]
    assert "'TY -'" in item.result.issues[0].message
    assert "'AU-'" in item.result.issues[1].message
    assert "'Second again'" in item.result.issues[2].message


def test_ris_authors_written_twice_as_au_and_a1_are_listed_once(tmp_path):
    text = "TY  - JOUR\nAU  - Smith, J\nA1  - Smith, J\nTI  - x\nER  - \n"
    fields = import_file(write(tmp_path, "ris", text)).result.records[0].fields
    assert fields["authors"] == "Smith, J"


def test_scopus_initials_of_any_script_and_repeats(tmp_path):
    header = "Authors,Title,Year,DOI,EID"
    row = (
        '"Fluge Ø.; Lønning P.E.; Lee S.Y.; Lee S.Y.; Norwegian ME/CFS Study Group",'
        f'"B-lymphocyte depletion",2015,"{LANCET_DOI}",2-s2.0-84949500000'
    )
    item = import_file(write(tmp_path, "scopus_csv", f"{header}\n{row}\n"))
    fields = item.result.records[0].fields
    assert fields["authors"] == (
        "Fluge, Ø.; Lønning, P.E.; Lee, S.Y.; Lee, S.Y.; Norwegian ME/CFS Study Group"
    )
    assert fields["group_authors"] == "Norwegian ME/CFS Study Group"
    assert fields["doi"] == LANCET_DOI


def test_bibtex_braced_name_is_a_group_author(tmp_path):
    text = (
        "@article{who2006,\n"
        "  author = {{World Health Organization} and Lee, S. Y. and Lee, S. Y. and"
        " {\\O}deg{\\aa}rd, {\\O}.},\n"
        "  title = {A trial}, year = {2006},\n"
        f"  doi = {{{LANCET_DOI}}}\n}}\n"
    )
    fields = import_file(write(tmp_path, "bibtex", text)).result.records[0].fields
    assert fields["authors"] == (
        "World Health Organization; Lee, S. Y.; Lee, S. Y.; Ødegård, Ø."
    )
    assert fields["group_authors"] == "World Health Organization"
    assert fields["doi"] == LANCET_DOI


def test_endnote_corporate_author_and_repeats(tmp_path):
    text = (
        '<?xml version="1.0"?>\n<xml><records><record>'
        '<ref-type name="Journal Article">17</ref-type><contributors><authors>'
        "<author>World Health Organization,</author><author>Lee, S. Y.</author>"
        "<author>Lee, S. Y.</author><author>Zvekotkina,</author>"
        "</authors></contributors><titles><title>A trial</title></titles>"
        f"<dates><year>2006</year></dates><electronic-resource-num>{LANCET_DOI}"
        "</electronic-resource-num></record></records></xml>\n"
    )
    fields = import_file(write(tmp_path, "xml", text)).result.records[0].fields
    assert fields["authors"] == (
        "World Health Organization; Lee, S. Y.; Lee, S. Y.; Zvekotkina"
    )
    assert fields["group_authors"] == "World Health Organization"
    assert fields["doi"] == LANCET_DOI


def test_zotero_one_field_name_is_a_group_author(tmp_path):
    header = "Key,Item Type,Publication Year,Author,Title,DOI"
    row = (
        'ABCD1234,journalArticle,2006,"Lee, S. Y.; Lee, S. Y.; World Health '
        f'Organization",A trial,{LANCET_DOI}'
    )
    fields = import_file(write(tmp_path, "zotero_csv", f"{header}\n{row}\n"))
    fields = fields.result.records[0].fields
    assert fields["authors"] == "Lee, S. Y.; Lee, S. Y.; World Health Organization"
    assert fields["group_authors"] == "World Health Organization"
    assert fields["doi"] == LANCET_DOI


def test_generic_csv_group_authors_column_keeps_and_in_a_name(tmp_path):
    text = (
        "ID,title,authors,group_authors,year,doi\n"
        "1,A report,Agency for Healthcare Research and Quality,"
        f"Agency for Healthcare Research and Quality,2019,{LANCET_DOI}\n"
        '2,A trial,"Smith, J and Agency for Healthcare Research and Quality",'
        "Agency for Healthcare Research and Quality,2019,\n"
    )
    item = import_file(write(tmp_path, "csv", text), "csv")
    first, second = (r.fields for r in item.result.records)
    assert first["authors"] == "Agency for Healthcare Research and Quality"
    assert first["group_authors"] == first["authors"]
    assert first["doi"] == LANCET_DOI
    assert second["authors"] == "Smith, J; Agency for Healthcare Research and Quality"


@pytest.mark.parametrize("fmt", FORMATS)
def test_doi_kept_as_written_in_every_format(tmp_path, fmt):
    text = samples.BUILDERS[fmt]().replace(
        "archpediatrics.2010.124", "ArchPediatrics.2010.124"
    )
    first = import_file(write(tmp_path, fmt, text), fmt).result.records[0].fields
    expected = (
        "10.1001/ARCHPEDIATRICS.2010.124"
        if fmt == "csv"
        else "10.1001/ArchPediatrics.2010.124"
    )
    assert first["doi"] == expected


@pytest.mark.parametrize("fmt", TABLES)
def test_row_of_empty_cells_is_reported(tmp_path, fmt):
    lines = samples.BUILDERS[fmt]().split("\n")
    width = len(lines[0].split("\t" if fmt == "wos_tab" else ","))
    lines.insert(2, ("\t" if fmt == "wos_tab" else ",") * (width - 1))  # line 3
    item = import_file(write(tmp_path, fmt, "\n".join(lines)), fmt)
    assert len(item.result.records) == 3
    [issue] = item.result.issues
    assert issue.line == 3
    assert "empty cells skipped" in issue.message
