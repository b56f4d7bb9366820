"""Importing a review's searches: manifest checks, record ids, summary, issues."""

from __future__ import annotations

import pandas as pd
import pytest

from evsynth.errors import InputError
from evsynth.records import import_files, import_searches, write_import
from tests import samples

MANIFEST_HEADER = "file,database,kind,date_searched,update,query,n_reported\n"


def make_review(tmp_path, rows=None, files=None):
    folder = tmp_path / "searches"
    folder.mkdir()
    files = files or {
        "medline.nbib": samples.pubmed(),
        "psycinfo.ris": samples.ris(),
        "scopus.csv": samples.scopus_csv(),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    rows = rows or [
        "medline.nbib,MEDLINE (PubMed),database,2023-05-01,0,mentor*[tiab],3",
        "psycinfo.ris,PsycINFO (Ovid),database,2023-05-01,0,mentor*.ti,3",
        "scopus.csv,Scopus,database,2023-05-02,0,TITLE-ABS-KEY(mentor*),3",
    ]
    manifest = folder / "searches.csv"
    manifest.write_text(MANIFEST_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return manifest, folder


def test_every_record_accounted_for(tmp_path):
    manifest, folder = make_review(tmp_path)
    result = import_searches(manifest, folder)
    assert len(result.records) == 9
    assert result.records["record_id"].is_unique
    assert list(result.summary["n_parsed"]) == [3, 3, 3]
    assert not result.summary["count_differs"].any()
    by_file = result.records.groupby("source_file")["source_row"].apply(list)
    assert all(rows == [1, 2, 3] for rows in by_file)


def test_record_ids_come_from_source_ids(tmp_path):
    manifest, folder = make_review(tmp_path)
    ids = list(import_searches(manifest, folder).records["record_id"])
    assert ids[0] == "medline_pubmed:pmid:20679165"
    assert ids[3] == "psycinfo_ovid:doi:10.1001/archpediatrics.2010.124"
    assert ids[4].startswith("psycinfo_ovid:h:")
    assert ids[6] == "scopus:eid:2-s2.0-77955490812"


def test_record_ids_are_stable_when_an_update_is_added(tmp_path):
    manifest, folder = make_review(tmp_path)
    before = import_searches(manifest, folder).records
    (folder / "medline_update.nbib").write_text(samples.pubmed(), encoding="utf-8")
    with manifest.open("a", encoding="utf-8") as handle:
        handle.write("medline_update.nbib,MEDLINE (PubMed),database,2024-05-01,1,,3\n")
    after = import_searches(manifest, folder).records
    assert list(after["record_id"][:9]) == list(before["record_id"])
    assert list(after["record_id"][9:]) == [
        "medline_pubmed:pmid:20679165~2",
        "medline_pubmed:pmid:99000002~2",
        "medline_pubmed:pmid:99000003~2",
    ]
    assert list(after["update"][9:]) == [1, 1, 1]


def test_updates_are_imported_after_original_searches(tmp_path):
    rows = [
        "medline.nbib,MEDLINE,database,2024-05-01,1,,3",
        "psycinfo.ris,PsycINFO,database,2023-05-01,0,,3",
        "scopus.csv,Scopus,database,2023-05-02,0,,3",
    ]
    manifest, folder = make_review(tmp_path, rows)
    summary = import_searches(manifest, folder).summary
    assert list(summary["file"]) == ["psycinfo.ris", "scopus.csv", "medline.nbib"]


def test_count_mismatch_is_flagged(tmp_path):
    rows = [
        "medline.nbib,MEDLINE,database,2023-05-01,0,,4",
        "psycinfo.ris,PsycINFO,database,2023-05-01,0,,3",
        "scopus.csv,Scopus,database,2023-05-02,0,,3",
    ]
    manifest, folder = make_review(tmp_path, rows)
    result = import_searches(manifest, folder)
    assert list(result.summary["count_differs"]) == [True, False, False]
    assert "manifest reports 4" in " ".join(result.issues["message"])
    with pytest.raises(InputError) as info:
        import_searches(manifest, folder, count_mismatch="error")
    assert info.value.location.row == 1
    assert info.value.location.column == "n_reported"


@pytest.mark.parametrize(
    ("rows", "column", "row", "message"),
    [
        (["medline.nbib,MEDLINE,journal,2023-05-01,0,,3"], "kind", 1, "invalid value"),
        (
            ["medline.nbib,MEDLINE,database,May 2023,0,,3"],
            "date_searched",
            1,
            "invalid",
        ),
        (["medline.nbib,MEDLINE,database,2023-05-01,first,,3"], "update", 1, "invalid"),
        (["medline.nbib,,database,2023-05-01,0,,3"], "database", 1, "empty cell"),
        (["missing.ris,MEDLINE,database,2023-05-01,0,,3"], "file", 1, "not found"),
        (
            [
                "medline.nbib,MEDLINE,database,2023-05-01,0,,3",
                "medline.nbib,MEDLINE,database,2023-05-01,0,,3",
            ],
            "file",
            2,
            "listed twice",
        ),
    ],
)
def test_bad_manifest_rows(tmp_path, rows, column, row, message):
    manifest, folder = make_review(tmp_path, rows, {"medline.nbib": samples.pubmed()})
    with pytest.raises(InputError, match=message) as info:
        import_searches(manifest, folder)
    assert info.value.location.column == column
    assert info.value.location.row == row
    assert info.value.location.line == row + 1
    assert str(manifest) in str(info.value)


def test_missing_manifest_column(tmp_path):
    manifest, folder = make_review(tmp_path, files={"medline.nbib": samples.pubmed()})
    manifest.write_text("file,database\nmedline.nbib,MEDLINE\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing required column") as info:
        import_searches(manifest, folder)
    assert "kind" in str(info.value)


def test_unlisted_export_is_an_error(tmp_path):
    manifest, folder = make_review(
        tmp_path,
        ["medline.nbib,MEDLINE,database,2023-05-01,0,,3"],
        {"medline.nbib": samples.pubmed(), "forgotten.ris": samples.ris()},
    )
    with pytest.raises(InputError, match="not listed in the manifest") as info:
        import_searches(manifest, folder)
    assert "forgotten.ris" in str(info.value)


def test_extra_manifest_columns_are_kept(tmp_path):
    rows = ["medline.nbib,MEDLINE,database,2023-05-01,0,,3,Ovid interface"]
    manifest, folder = make_review(tmp_path, rows, {"medline.nbib": samples.pubmed()})
    text = manifest.read_text(encoding="utf-8").replace(
        "n_reported", "n_reported,notes"
    )
    manifest.write_text(text, encoding="utf-8")
    result = import_searches(manifest, folder)
    assert len(result.records) == 3
    assert list(result.summary.columns[-2:]) == ["query", "notes"]
    assert result.summary["notes"].iloc[0] == "Ovid interface"


def test_issues_table_names_file_line_and_record(tmp_path):
    manifest, folder = make_review(
        tmp_path,
        ["psycinfo.ris,PsycINFO,database,2023-05-01,0,,3"],
        {"psycinfo.ris": samples.ris(junk=True, truncate=True)},
    )
    result = import_searches(manifest, folder)
    issues = result.issues
    assert len(issues) == 2
    junk = issues.iloc[0]
    assert (junk["file"], junk["line"]) == ("psycinfo.ris", 16)
    truncated = issues.iloc[1]
    assert truncated["source_row"] == 3
    assert truncated["record_id"] == result.records["record_id"].iloc[2]


def test_outputs_are_byte_identical_across_runs(tmp_path):
    manifest, folder = make_review(tmp_path)
    outputs = []
    for run in range(2):
        out = tmp_path / f"run{run}"
        write_import(
            import_searches(manifest, folder),
            out / "records.csv",
            out / "summary.csv",
            out / "issues.csv",
        )
        outputs.append([(out / n).read_bytes() for n in ("records.csv", "summary.csv")])
    assert outputs[0] == outputs[1]


def test_formula_injection_is_guarded(tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text(
        'title,author,year\n"=HYPERLINK(""x"")",Doe,2020\n', encoding="utf-8"
    )
    out = tmp_path / "records.csv"
    write_import(import_files([path]), out)
    table = pd.read_csv(out, dtype=str)
    assert table["title"].iloc[0].startswith("'=")


# --- Record fidelity across the outputs ---------------------------------------

LANCET_DOI = "10.1016/S0140-6736(06)68734-5"


def test_import_issues_csv_lists_repaired_wos_lines(tmp_path):
    # A Web of Science line without the space after its tag used to be read into
    # the title with nothing in import_issues.csv.
    wos = (
        "FN Clarivate Analytics Web of Science\nVR 1.0\n"
        "PT J\nAU Halkes, PHA\nTI Aspirin plus dipyridamole\n"
        "TIversus aspirin alone\n"  # line 6
        "PY 2006\nUT WOS:000237903100024\nER\n\nEF\n"
    )
    manifest, folder = make_review(
        tmp_path,
        ["wos.txt,Web of Science,database,2023-05-01,0,,1"],
        {"wos.txt": wos},
    )
    out = tmp_path / "out"
    write_import(
        import_searches(manifest, folder),
        out / "records.csv",
        out / "summary.csv",
        out / "import_issues.csv",
    )
    issues = pd.read_csv(out / "import_issues.csv", dtype=str, keep_default_na=False)
    assert len(issues) == 1
    row = issues.iloc[0]
    assert (row["file"], row["line"], row["source_row"], row["field"]) == (
        "wos.txt",
        "6",
        "1",
        "TI",
    )
    assert row["record_id"] == "web_of_science:ut:000237903100024"
    assert "read as a continuation" in row["message"]
    summary = pd.read_csv(out / "summary.csv")
    assert summary["n_issues"].tolist() == [1]


def test_group_authors_column_in_records_csv(tmp_path):
    pubmed = (
        "PMID- 16714187\nTI  - Aspirin plus dipyridamole.\n"
        "FAU - Halkes, Paul H A\nAU  - Halkes PH\nCN  - ESPRIT Study Group\n"
        "DP  - 2006\n"
    )
    manifest, folder = make_review(
        tmp_path,
        ["medline.nbib,MEDLINE,database,2023-05-01,0,,1"],
        {"medline.nbib": pubmed},
    )
    out = tmp_path / "records.csv"
    write_import(import_searches(manifest, folder), out)
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["authors"].iloc[0] == "Halkes, Paul H A; ESPRIT Study Group"
    assert table["group_authors"].iloc[0] == "ESPRIT Study Group"


def test_doi_as_written_through_dedup_and_ris_export(tmp_path):
    # One article from two databases, its DOI in capitals in one and in small
    # letters in the other: one DOI, merged, and every output shows it as the
    # kept record (the Embase one, the more complete) wrote it.
    from evsynth.records.dedup import deduplicate
    from evsynth.report.exports import ris_text

    ris = (
        "TY  - JOUR\nAU  - Halkes, P. H.\nAU  - van Gijn, J.\n"
        "TI  - Aspirin plus dipyridamole versus aspirin alone after cerebral "
        "ischaemia of arterial origin (ESPRIT)\nPY  - 2006\nJO  - Lancet\n"
        "VL  - 367\nIS  - 9523\n"
        f"SP  - 1665\nEP  - 1673\nDO  - {LANCET_DOI}\nER  - \n"
    )
    pubmed = (
        "PMID- 16714187\nTI  - Aspirin plus dipyridamole versus aspirin alone after "
        "cerebral ischaemia of arterial origin (ESPRIT).\nFAU - Halkes, P H\n"
        "FAU - van Gijn, J\nDP  - 2006\n"
        f"LID - {LANCET_DOI.lower()} [doi]\n"
    )
    manifest, folder = make_review(
        tmp_path,
        [
            "embase.ris,Embase,database,2023-05-01,0,,1",
            "medline.nbib,MEDLINE,database,2023-05-01,0,,1",
        ],
        {"embase.ris": ris, "medline.nbib": pubmed},
    )
    records = import_searches(manifest, folder).records
    assert list(records["doi"]) == [LANCET_DOI, LANCET_DOI.lower()]
    # the id of a record known by its DOI does not depend on the DOI's case
    assert records["record_id"].iloc[0] == f"embase:doi:{LANCET_DOI.lower()}"
    result = deduplicate(records)
    assert len(result.unique) == 1
    kept = result.unique.iloc[0]
    assert kept["record_id"] == records["record_id"].iloc[0]
    assert kept["doi"] == LANCET_DOI
    assert kept["dois"] == LANCET_DOI  # one DOI, not two spellings
    assert f"DO  - {LANCET_DOI}\n" in ris_text(result.unique)
