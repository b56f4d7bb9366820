"""Small, hand-written exports in every format, for the importer tests.

Each builder returns the text of a file with three records: the first one
"Mentoring for youth in foster care", the second without a title, the third
"Peer mentoring for looked-after young people". Options make the file
misbehave the way real files do.
"""

from __future__ import annotations

TITLE_1 = "Mentoring for youth in foster care: a randomized trial"
TITLE_3 = "Peer mentoring for looked-after young people"


def ris(*, junk: bool = False, truncate: bool = False) -> str:
    records = [
        (
            "TY  - JOUR\nAU  - Taussig, Heather N\nAU  - Culhane, Sara E\n"
            f"TI  - {TITLE_1}\nJO  - Arch Pediatr Adolesc Med\nPY  - 2010\n"
            "VL  - 164\nIS  - 8\nSP  - 739\nEP  - 46\nDO  - 10.1001/archpediatrics.2010.124\n"
            "AB  - First line of the abstract\ncontinued on a second line.\nER  - \n"
        ),
        "TY  - RPRT\nAU  - Nobody, A\nPY  - 2021\nER  - \n",
        (
            f"TY  - JOUR\nA1  - Mezey, Gillian\nT1  - {TITLE_3}.\nJF  - Health Technology "
            "Assessment\nJA  - Health Technol Assess\nY1  - 2015///\nVL  - 19\nIS  - 85\n"
            "KW  - mentoring\nKW  - looked-after children\nER  - \n"
        ),
    ]
    if truncate:
        records[-1] = records[-1].replace("ER  - \n", "")
    middle = "Page 2 of 3\n\n" if junk else ""
    return records[0] + "\n" + middle + records[1] + "\n" + records[2]


def pubmed(*, junk: bool = False, truncate: bool = False) -> str:
    first = (
        "PMID- 20679165\nOWN - NLM\n"
        f"TI  - {TITLE_1[:30]}\n      {TITLE_1[30:]}.\n"
        "PG  - 739-46\nLID - 10.1001/archpediatrics.2010.124 [doi]\n"
        "FAU - Taussig, Heather N\nAU  - Taussig HN\nFAU - Culhane, Sara E\nAU  - Culhane SE\n"
        "LA  - eng\nPT  - Journal Article\nPT  - Randomized Controlled Trial\nDP  - 2010 Aug\n"
        "TA  - Arch Pediatr Adolesc Med\nJT  - Archives of pediatrics & adolescent medicine\n"
        "VI  - 164\nIP  - 8\n"
    )
    second = "PMID- 99000002\nFAU - Nobody, A\nDP  - 2021\nPT  - Published Erratum\n"
    third = (
        f"PMID- 99000003\nTI  - {TITLE_3}.\nFAU - Mezey, Gillian\nDP  - 2015 Nov\n"
        "JT  - Health technology assessment (Winchester, England)\nVI  - 19\nIP  - 85\n"
        "AB  - An exploratory trial.\n"
    )
    if truncate:
        third = third[: third.index("AB  - ") + 12]
    middle = "Search results: items 1-3\n" if junk else ""
    return first + "\n" + middle + second + "\n" + third


def bibtex(*, junk: bool = False, truncate: bool = False) -> str:
    first = (
        "@article{taussig2010,\n"
        f"  title = {{{TITLE_1}}},\n"
        "  author = {Taussig, Heather N and Culhane, Sara E},\n"
        "  journal = {Archives of Pediatrics \\& Adolescent Medicine},\n"
        "  volume = {164}, number = {8}, pages = {739--746}, year = {2010},\n"
        "  doi = {10.1001/archpediatrics.2010.124}\n}\n"
    )
    second = "@techreport{nobody2021,\n  author = {Nobody, A},\n  year = {2021}\n}\n"
    third = (
        "@article{mezey2015,\n"
        f"  title = {{{TITLE_3}}},\n"
        '  author = {Mezey, Gillian and Kj{\\o}bli, John and M{\\"u}ller, J{\\"o}rg},\n'
        "  journal = {Health Technology Assessment},\n"
        "  year = {2015}\n}\n"
    )
    if truncate:
        third = third.rstrip("}\n") + "\n"
    middle = "This line is not BibTeX.\n\n" if junk else ""
    return first + "\n" + middle + second + "\n" + third


def wos(*, junk: bool = False, truncate: bool = False) -> str:
    first = (
        "PT J\nAU Taussig, HN\n   Culhane, SE\nAF Taussig, Heather N.\n   Culhane, Sara E.\n"
        f"TI {TITLE_1.upper()[:30]}\n   {TITLE_1.upper()[30:]}\n"
        "SO ARCHIVES OF PEDIATRICS & ADOLESCENT MEDICINE\nLA English\nDT Article\n"
        "PY 2010\nVL 164\nIS 8\nBP 739\nEP 746\nDI 10.1001/archpediatrics.2010.124\n"
        "UT WOS:000280498300008\nER\n"
    )
    second = "PT J\nAU Nobody, A\nDT Correction\nPY 2021\nUT WOS:999000000000002\nER\n"
    third = (
        f"PT J\nAU Mezey, G\nTI {TITLE_3}\nSO HEALTH TECHNOLOGY ASSESSMENT\nPY 2015\n"
        "UT WOS:999000000000003\nER\n"
    )
    if truncate:
        third = third.replace("ER\n", "")
    middle = "Exported 3 records\n\n" if junk else ""
    end = "" if truncate else "\nEF\n"
    header = "FN Clarivate Analytics Web of Science\nVR 1.0\n"
    return header + first + "\n" + middle + second + "\n" + third + end


def wos_tab(*, junk: bool = False, truncate: bool = False) -> str:
    header = "PT\tAU\tAF\tTI\tSO\tLA\tDT\tPY\tVL\tIS\tBP\tEP\tDI\tUT"
    rows = [
        (
            f"J\tTaussig, HN; Culhane, SE\tTaussig, Heather N.; Culhane, Sara E.\t{TITLE_1}"
            "\tARCHIVES OF PEDIATRICS & ADOLESCENT MEDICINE\tEnglish\tArticle\t2010\t164\t8"
            "\t739\t746\t10.1001/archpediatrics.2010.124\tWOS:000280498300008"
        ),
        "J\tNobody, A\t\t\t\t\tCorrection\t2021\t\t\t\t\t\tWOS:999000000000002",
        (
            f"J\tMezey, G\tMezey, Gillian\t{TITLE_3}\tHEALTH TECHNOLOGY ASSESSMENT\tEnglish"
            "\tArticle\t2015\t19\t85\t\t\t\tWOS:999000000000003"
        ),
    ]
    if truncate:
        rows[-1] = "\t".join(rows[-1].split("\t")[:6])
    if junk:
        rows.insert(1, "")
    return header + "\n" + "\n".join(rows) + "\n"


def endnote_xml(*, junk: bool = False, truncate: bool = False) -> str:
    def style(text: str) -> str:
        return f'<style face="normal" font="default" size="100%">{text}</style>'

    first = (
        '<record><rec-number>1</rec-number><ref-type name="Journal Article">17</ref-type>'
        "<contributors><authors>"
        f"<author>{style('Taussig, H. N.')}</author><author>{style('Culhane, S. E.')}</author>"
        "</authors></contributors>"
        f"<titles><title>{style(TITLE_1)}</title><secondary-title>"
        f"{style('Archives of Pediatrics &amp; Adolescent Medicine')}</secondary-title></titles>"
        f"<pages>{style('739-746')}</pages><volume>{style('164')}</volume>"
        f"<number>{style('8')}</number><dates><year>{style('2010')}</year></dates>"
        f"<electronic-resource-num>{style('10.1001/archpediatrics.2010.124')}"
        "</electronic-resource-num></record>\n"
    )
    second = (
        '<record><rec-number>2</rec-number><ref-type name="Report">27</ref-type>'
        "<contributors><authors><author>Nobody, A</author></authors></contributors>"
        "<dates><year>2021</year></dates></record>\n"
    )
    third = (
        '<record><rec-number>3</rec-number><ref-type name="Journal Article">17</ref-type>'
        "<contributors><authors><author>Mezey, Gillian</author></authors></contributors>"
        f"<titles><title>{TITLE_3}</title></titles><dates><year>2015</year></dates>"
        "</record>\n"
    )
    if truncate:
        third = third[: third.index("<dates>")]
    middle = "Page 2 of 3\n" if junk else ""
    end = "" if truncate else "</records></xml>\n"
    return (
        '<?xml version="1.0" encoding="UTF-8" ?><xml><records>\n'
        + first
        + middle
        + second
        + third
        + end
    )


def _csv_line(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


SCOPUS_HEADER = [
    "Authors",
    "Author full names",
    "Author(s) ID",
    "Title",
    "Year",
    "Source title",
    "Volume",
    "Issue",
    "Art. No.",
    "Page start",
    "Page end",
    "DOI",
    "Link",
    "Abstract",
    "PubMed ID",
    "Language of Original Document",
    "Abbreviated Source Title",
    "Document Type",
    "Source",
    "EID",
]


def scopus_csv(*, junk: bool = False, truncate: bool = False) -> str:
    rows = [
        [
            "Taussig H.N.; Culhane S.E.",
            "Taussig, Heather N. (7003412095); Culhane, Sara E. (6603187263)",
            "7003412095; 6603187263",
            TITLE_1,
            "2010",
            "Archives of Pediatrics and Adolescent Medicine",
            "164",
            "8",
            "",
            "739",
            "746",
            "10.1001/archpediatrics.2010.124",
            "https://www.scopus.com/inward/record.uri?eid=2-s2.0-77955490812",
            "Objective: To test.",
            "20679165",
            "English",
            "Arch. Pediatr. Adolesc. Med.",
            "Article",
            "Scopus",
            "2-s2.0-77955490812",
        ],
        ["Nobody A."]
        + [""] * 3
        + ["2021"]
        + [""] * 12
        + ["Erratum", "Scopus"]
        + ["2-s2.0-99000000002"],
        ["Mezey G."]
        + ["", ""]
        + [TITLE_3, "2015", "Health Technology Assessment"]
        + [""] * 11
        + ["Article", "Scopus", "2-s2.0-99000000003"],
    ]
    lines = [_csv_line(SCOPUS_HEADER)] + [_csv_line(r) for r in rows]
    if truncate:
        lines[-1] = _csv_line(rows[-1][:8])[:-1]
    if junk:
        lines.insert(2, "")
    return "\n".join(lines) + "\n"


ZOTERO_HEADER = [
    "Key",
    "Item Type",
    "Publication Year",
    "Author",
    "Title",
    "Publication Title",
    "DOI",
    "Pages",
    "Issue",
    "Volume",
    "Language",
    "Extra",
]


def zotero_csv(*, junk: bool = False, truncate: bool = False) -> str:
    rows = [
        [
            "ABCD1234",
            "journalArticle",
            "2010",
            "Taussig, Heather N.; Culhane, Sara E.",
            TITLE_1,
            "Archives of Pediatrics & Adolescent Medicine",
            "10.1001/archpediatrics.2010.124",
            "739-746",
            "8",
            "164",
            "en",
            "PMID: 20679165",
        ],
        ["EFGH5678", "report", "2021", "Nobody, A.", "", "", "", "", "", "", "", ""],
        [
            "IJKL9012",
            "journalArticle",
            "2015",
            "Mezey, Gillian",
            TITLE_3,
            "Health Technology Assessment",
            "",
            "",
            "85",
            "19",
            "",
            "",
        ],
    ]
    lines = [_csv_line(ZOTERO_HEADER)] + [_csv_line(r) for r in rows]
    if truncate:
        lines[-1] = _csv_line(rows[-1][:6])
    if junk:
        lines.insert(2, ",,,,")
    return "\n".join(lines) + "\n"


def generic_csv(*, junk: bool = False, truncate: bool = False) -> str:
    header = [
        "ID",
        "title",
        "author",
        "year",
        "journal",
        "volume",
        "number",
        "pages",
        "doi",
    ]
    rows = [
        [
            "1",
            TITLE_1,
            "Taussig, Heather N and Culhane, Sara E",
            "2010",
            "Arch Pediatr Adolesc Med",
            "164",
            "8",
            "739-46",
            "10.1001/ARCHPEDIATRICS.2010.124",
        ],
        ["2", "", "Nobody, A", "2021", "", "", "", "", ""],
        [
            "3",
            TITLE_3,
            "Mezey, Gillian",
            "2015",
            "Health Technol Assess",
            "19",
            "85",
            "",
            "",
        ],
    ]
    lines = [_csv_line(header)] + [_csv_line(r) for r in rows]
    if truncate:
        lines[-1] = _csv_line(rows[-1][:4])
    if junk:
        lines.insert(2, "")
    return "\n".join(lines) + "\n"


BUILDERS = {
    "ris": ris,
    "pubmed": pubmed,
    "bibtex": bibtex,
    "wos": wos,
    "wos_tab": wos_tab,
    "endnote_xml": endnote_xml,
    "scopus_csv": scopus_csv,
    "zotero_csv": zotero_csv,
    "csv": generic_csv,
}
