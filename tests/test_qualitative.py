"""Qualitative evidence synthesis: inputs, matrices, CERQual, CASP, DOCX, heat maps."""

from __future__ import annotations

import csv
import itertools
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from evsynth.errors import InputError
from evsynth.qualitative import api, plots, tables
from evsynth.qualitative import docx as qdocx
from evsynth.qualitative.docx import write_table_docx
from evsynth.qualitative.model import (
    CASP_ITEMS,
    read_appraisal,
    read_cerqual,
    read_findings,
)
from evsynth.qualitative.tables import (
    barrier_facilitator_table,
    casp_table,
    cerqual_evidence_profile,
    cerqual_soqf,
    theme_matrix,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
STUDIES = {"s1", "s2", "s10", "s3"}

FINDINGS_HEADER = [
    "study_id",
    "finding_id",
    "theme",
    "subtheme",
    "kind",
    "perspective",
    "excerpt",
    "source",
    "note",
]
# 9 coded excerpts, 3 studies (s1, s2, s10: natural order puts s10 last),
# 3 themes, all four perspectives.
FINDINGS = [
    ["s1", "F1", "Matching", "Shared interests", "facilitator", "young_person",
     "We both liked football", "p. 4", ""],
    ["s1", "F2", "Matching", "", "facilitator", "mentor",
     "Matching on hobbies helped", "p. 5", ""],
    ["s1", "F3", "Trust", "", "barrier", "young_person",
     "Adults always leave", "p. 6", "strong quote"],
    ["s2", "F4", "Trust", "Past let-downs", "barrier", "young_person",
     "I didn't trust her at first", "Table 2", ""],
    ["s2", "F5", "Trust", "", "facilitator", "carer",
     "She kept turning up", "p. 9", ""],
    ["s2", "F6", "Matching", "", "barrier", "practitioner",
     "Waiting lists for a match were long", "Section 4.2", ""],
    ["s10", "F7", "Trust", "", "barrier", "mentor",
     "It took months to build trust", "p. 12", ""],
    ["s10", "F8", "Stigma", "", "barrier", "young_person",
     "I didn't want people to know I was in care", "p. 13", ""],
    ["s1", "F9", "Matching", "", "facilitator", "young_person",
     "He asked what I wanted to do", "p. 4", ""],
]  # fmt: skip

APPRAISAL_HEADER = ["study_id", "item", "answer", "note", "appraiser"]
APPRAISAL = [
    *[["s1", str(i), "yes", "", "AB"] for i in range(1, 6)],
    ["s1", "6", "cant_tell", "not discussed", "AB"],
    ["s1", "7", "yes", "", "AB"],
    ["s1", "8", "no", "thin analysis", "AB"],
    ["s1", "9", "yes", "", "AB"],
    ["s1", "10", "", "Useful for practice with care leavers", "AB"],
    ["s2", "1", "yes", "", "CD"],
    ["s2", "2", "no", "", "CD"],
    ["s2", "10", "yes", "Valuable", "CD"],
]

CERQUAL_HEADER = [
    "finding_no",
    "review_finding",
    "themes",
    "methodological_limitations",
    "coherence",
    "adequacy",
    "relevance",
    "confidence",
    "explanation",
]
CERQUAL = [
    ["2", "Trust grows slowly and stigma keeps young people wary", "Trust; Stigma",
     "minor", "no_or_very_minor", "moderate", "minor", "moderate",
     "Moderate concerns about adequacy"],
    ["1", "Matching on interests helps", "Matching",
     "no_or_very_minor", "minor", "serious", "no_or_very_minor", "low",
     "Two studies only"],
    ["3", "Stigma deters young people", "Stigma",
     "moderate", "moderate", "serious", "minor", "very_low",
     "One study, thin data"],
]  # fmt: skip


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "qualitative"
    folder.mkdir()
    return (
        write_csv(folder / "findings.csv", FINDINGS_HEADER, FINDINGS),
        write_csv(folder / "appraisal.csv", APPRAISAL_HEADER, APPRAISAL),
        write_csv(folder / "cerqual.csv", CERQUAL_HEADER, CERQUAL),
    )


@pytest.fixture
def findings(inputs):
    return read_findings(inputs[0], STUDIES)


# --- matrices ------------------------------------------------------------------


def test_count_matrix_every_cell(findings):
    matrix = theme_matrix(findings)
    # Themes by number of studies (Trust 3, Matching 2, Stigma 1); studies in
    # natural order (s10 after s2).
    assert matrix.index.name == "theme"
    assert list(matrix.index) == ["Trust", "Matching", "Stigma"]
    assert list(matrix.columns) == ["s1", "s2", "s10"]
    expected = {
        "Trust": [1, 2, 1],
        "Matching": [3, 1, 0],
        "Stigma": [0, 0, 1],
    }
    for theme, row in expected.items():
        assert matrix.loc[theme].tolist() == row, theme
    assert all(str(d) == "int64" for d in matrix.dtypes)
    assert int(matrix.to_numpy().sum()) == len(FINDINGS)


def test_perspective_matrix_counts_studies_not_excerpts(findings):
    matrix = theme_matrix(findings, by="perspective")
    assert list(matrix.index) == ["Trust", "Matching", "Stigma"]
    assert list(matrix.columns) == ["Young person", "Mentor", "Practitioner", "Carer"]
    expected = {
        # young person: s1 (F3), s2 (F4); mentor: s10; carer: s2
        "Trust": [2, 1, 0, 1],
        # young person: s1 only, although s1 has two young-person excerpts
        "Matching": [1, 1, 1, 0],
        "Stigma": [1, 0, 0, 0],
    }
    for theme, row in expected.items():
        assert matrix.loc[theme].tolist() == row, theme


def test_excerpt_matrix_every_cell(findings):
    matrix = theme_matrix(findings, values="excerpts")
    expected = {
        ("Trust", "s1"): "Adults always leave (p. 6)",
        ("Trust", "s2"): "I didn't trust her at first (Table 2) | "
        "She kept turning up (p. 9)",
        ("Trust", "s10"): "It took months to build trust (p. 12)",
        ("Matching", "s1"): "We both liked football (p. 4) | "
        "Matching on hobbies helped (p. 5) | He asked what I wanted to do (p. 4)",
        ("Matching", "s2"): "Waiting lists for a match were long (Section 4.2)",
        ("Matching", "s10"): "",
        ("Stigma", "s1"): "",
        ("Stigma", "s2"): "",
        ("Stigma", "s10"): "I didn't want people to know I was in care (p. 13)",
    }
    assert matrix.shape == (3, 3)
    for (theme, study), text in expected.items():
        assert matrix.loc[theme, study] == text, (theme, study)


def test_excerpt_matrix_by_perspective_names_the_study(findings):
    matrix = theme_matrix(findings, by="perspective", values="excerpts")
    assert matrix.loc["Trust", "Carer"] == "She kept turning up (s2, p. 9)"
    assert matrix.loc["Trust", "Young person"] == (
        "Adults always leave (s1, p. 6) | I didn't trust her at first (s2, Table 2)"
    )
    assert matrix.loc["Stigma", "Carer"] == ""


def test_matrix_arguments_are_checked(findings):
    with pytest.raises(ValueError, match="by must be"):
        theme_matrix(findings, by="theme")
    with pytest.raises(ValueError, match="values must be"):
        theme_matrix(findings, values="sum")


def test_empty_findings_give_empty_tables(tmp_path):
    path = write_csv(tmp_path / "findings.csv", FINDINGS_HEADER, [])
    findings = read_findings(path)
    assert theme_matrix(findings).shape == (0, 0)
    assert theme_matrix(findings, by="perspective").shape == (0, 4)
    assert list(barrier_facilitator_table(findings, "barrier").columns) == (
        tables.BF_COLUMNS
    )
    fig = plots.heatmap_figure(theme_matrix(findings), title="T", xlabel="S", ylabel="")
    assert "No coded findings" in [t.get_text() for t in fig.texts]


# --- barrier and facilitator tables -----------------------------------------------


def test_barrier_table(findings):
    table = barrier_facilitator_table(findings, "barrier")
    assert list(table.columns) == [
        "theme",
        "subthemes",
        "n_studies",
        "studies",
        "perspectives",
        "example_excerpts",
        "study_ids",
    ]
    assert table.to_dict(orient="records") == [
        {
            "theme": "Trust",
            "subthemes": "Past let-downs",
            "n_studies": 3,
            "studies": "s1; s2; s10",
            "perspectives": "Young person (2); Mentor (1)",
            # the shortest excerpt, then the shortest from another study
            "example_excerpts": "Adults always leave (s1, p. 6) | "
            "I didn't trust her at first (s2, Table 2)",
            "study_ids": "s1; s2; s10",
        },
        {
            "theme": "Matching",
            "subthemes": "",
            "n_studies": 1,
            "studies": "s2",
            "perspectives": "Practitioner (1)",
            "example_excerpts": "Waiting lists for a match were long (s2, Section 4.2)",
            "study_ids": "s2",
        },
        {
            "theme": "Stigma",
            "subthemes": "",
            "n_studies": 1,
            "studies": "s10",
            "perspectives": "Young person (1)",
            "example_excerpts": "I didn't want people to know I was in care "
            "(s10, p. 13)",
            "study_ids": "s10",
        },
    ]


def test_facilitator_table(findings):
    table = barrier_facilitator_table(findings, "facilitator")
    # Matching and Trust each in one study: ordered by name.
    assert table["theme"].tolist() == ["Matching", "Trust"]
    matching = table.iloc[0]
    assert matching["subthemes"] == "Shared interests"
    assert matching["n_studies"] == 1
    assert matching["studies"] == "s1"
    assert matching["perspectives"] == "Young person (1); Mentor (1)"
    # One study only: the two shortest of its excerpts.
    assert matching["example_excerpts"] == (
        "We both liked football (s1, p. 4) | Matching on hobbies helped (s1, p. 5)"
    )
    trust = table.iloc[1]
    assert (trust["studies"], trust["perspectives"]) == ("s2", "Carer (1)")
    assert trust["example_excerpts"] == "She kept turning up (s2, p. 9)"
    with pytest.raises(ValueError, match="kind must be"):
        barrier_facilitator_table(findings, "enabler")


def test_long_examples_are_shortened_at_a_word():
    words = " ".join(["word"] * 80)
    frame = pd.DataFrame(
        [["s1", "F1", "T", "", "barrier", "mentor", words, "p. 1", ""]],
        columns=FINDINGS_HEADER,
    )
    cell = barrier_facilitator_table(frame, "barrier")["example_excerpts"].iloc[0]
    text = cell.removesuffix(" (s1, p. 1)")
    assert text.endswith("word \u2026")
    assert len(text) <= tables.EXAMPLE_MAX


# --- CERQual and CASP ---------------------------------------------------------------


def test_soqf_derives_the_contributing_studies(inputs, findings):
    cerqual = read_cerqual(inputs[2], findings)
    assert cerqual["finding_no"].tolist() == [1, 2, 3]  # sorted by number
    soqf = cerqual_soqf(cerqual, findings)
    assert list(soqf.columns) == [
        "#",
        "Summary of review finding",
        "Studies contributing to the review finding",
        "CERQual assessment of confidence",
        "Explanation of CERQual assessment",
        "study_ids",
    ]
    assert soqf.to_dict(orient="list") == {
        "#": [1, 2, 3],
        "Summary of review finding": [
            "Matching on interests helps",
            "Trust grows slowly and stigma keeps young people wary",
            "Stigma deters young people",
        ],
        # Matching: s1, s2. Trust + Stigma: s1, s2, s10. Stigma: s10.
        "Studies contributing to the review finding": ["s1; s2", "s1; s2; s10", "s10"],
        "CERQual assessment of confidence": [
            "Low confidence",
            "Moderate confidence",
            "Very low confidence",
        ],
        "Explanation of CERQual assessment": [
            "Two studies only",
            "Moderate concerns about adequacy",
            "One study, thin data",
        ],
        # without labels, the studies are named by their ids
        "study_ids": ["s1; s2", "s1; s2; s10", "s10"],
    }


def test_evidence_profile_columns(inputs, findings):
    cerqual = read_cerqual(inputs[2], findings)
    profile = cerqual_evidence_profile(cerqual, findings)
    assert list(profile.columns) == [
        "#",
        "Summary of review finding",
        "Studies contributing to the review finding",
        "Methodological limitations",
        "Coherence",
        "Adequacy",
        "Relevance",
        "CERQual assessment of confidence in the evidence",
        "Explanation of CERQual assessment",
        "study_ids",
    ]
    first = profile.iloc[0]
    assert first["Methodological limitations"] == "No or very minor concerns"
    assert first["Coherence"] == "Minor concerns"
    assert first["Adequacy"] == "Serious concerns"
    assert first["Relevance"] == "No or very minor concerns"
    assert first["CERQual assessment of confidence in the evidence"] == "Low confidence"
    assert profile["Studies contributing to the review finding"].tolist() == [
        "s1; s2",
        "s1; s2; s10",
        "s10",
    ]


def test_evidence_profile_adds_component_notes(tmp_path, findings):
    header = [*CERQUAL_HEADER, "adequacy_note"]
    rows = [[*CERQUAL[1], "two thin studies"], *([*r, ""] for r in CERQUAL[::2])]
    path = write_csv(tmp_path / "cerqual.csv", header, rows)
    profile = cerqual_evidence_profile(read_cerqual(path, findings), findings)
    assert profile["Adequacy"].tolist() == [
        "Serious concerns (two thin studies)",
        "Moderate concerns",
        "Serious concerns",
    ]


def test_casp_table(inputs):
    table = casp_table(read_appraisal(inputs[1], STUDIES))
    headers = [f"{i}. {q}" for i, q in CASP_ITEMS.items()]
    assert list(table.columns) == ["study_id", "study", *headers, "appraiser"]
    assert headers[0] == "1. Was there a clear statement of the aims of the research?"
    assert headers[9] == "10. How valuable is the research?"
    assert table["study_id"].tolist() == ["s1", "s2"]
    s1 = table.iloc[0].tolist()
    assert s1 == [
        "s1",
        "s1",  # no labels: the study is shown by its id
        *["Yes"] * 5,
        "Can't tell",
        "Yes",
        "No",
        "Yes",
        "Useful for practice with care leavers",
        "AB",
    ]
    s2 = table.iloc[1].tolist()
    assert s2 == ["s2", "s2", "Yes", "No", *[""] * 7, "Yes: Valuable", "CD"]


# --- bad input ------------------------------------------------------------------------


def replace(rows, index, column, value, header):
    out = [list(r) for r in rows]
    out[index][header.index(column)] = value
    return out


FINDINGS_ERRORS = {
    "kind": (replace(FINDINGS, 2, "kind", "obstacle", FINDINGS_HEADER), 3, "kind"),
    "perspective": (
        replace(FINDINGS, 4, "perspective", "teacher", FINDINGS_HEADER),
        5,
        "perspective",
    ),
    "empty excerpt": (
        replace(FINDINGS, 1, "excerpt", "", FINDINGS_HEADER),
        2,
        "excerpt",
    ),
    "empty source": (replace(FINDINGS, 0, "source", " ", FINDINGS_HEADER), 1, "source"),
    "bad study id": (
        replace(FINDINGS, 3, "study_id", "=cmd()", FINDINGS_HEADER),
        4,
        "study_id",
    ),
    "not included": (
        replace(FINDINGS, 5, "study_id", "s99", FINDINGS_HEADER),
        6,
        "study_id",
    ),
    "duplicate finding_id": (
        replace(FINDINGS, 6, "finding_id", "F2", FINDINGS_HEADER),
        7,
        "finding_id",
    ),
    "theme spelling": (
        replace(FINDINGS, 8, "theme", "matching", FINDINGS_HEADER),
        9,
        "theme",
    ),
    "control character": (
        replace(FINDINGS, 7, "excerpt", "bad\x01text", FINDINGS_HEADER),
        8,
        "excerpt",
    ),
}


@pytest.mark.parametrize("case", FINDINGS_ERRORS)
def test_bad_findings(tmp_path, case):
    rows, row, column = FINDINGS_ERRORS[case]
    path = write_csv(tmp_path / "findings.csv", FINDINGS_HEADER, rows)
    with pytest.raises(InputError) as info:
        read_findings(path, STUDIES)
    error = info.value
    assert error.location.file == str(path)
    assert (error.location.row, error.location.column) == (row, column)
    assert error.location.line == row + 1
    assert error.expected
    assert str(path) in str(error)
    assert f"row {row}" in str(error)


def test_not_included_study_message(tmp_path):
    rows = replace(FINDINGS, 5, "study_id", "s99", FINDINGS_HEADER)
    path = write_csv(tmp_path / "findings.csv", FINDINGS_HEADER, rows)
    with pytest.raises(InputError, match=r"not an included study in studies\.csv"):
        read_findings(path, STUDIES)
    assert len(read_findings(path)) == len(FINDINGS)  # no studies: no check


def test_missing_findings_column_names_it(tmp_path):
    header = [c for c in FINDINGS_HEADER if c != "perspective"]
    rows = [
        [v for c, v in zip(FINDINGS_HEADER, r, strict=True) if c != "perspective"]
        for r in FINDINGS
    ]
    path = write_csv(tmp_path / "findings.csv", header, rows)
    with pytest.raises(InputError, match="perspective") as info:
        read_findings(path)
    assert info.value.location.line == 1


def test_optional_findings_columns_may_be_absent(tmp_path):
    keep = [c for c in FINDINGS_HEADER if c not in ("subtheme", "note")]
    rows = [
        [v for c, v in zip(FINDINGS_HEADER, r, strict=True) if c in keep]
        for r in FINDINGS
    ]
    frame = read_findings(write_csv(tmp_path / "f.csv", keep, rows))
    assert set(frame["subtheme"]) == {""}
    assert set(frame["note"]) == {""}


APPRAISAL_ERRORS = {
    "item 11": (replace(APPRAISAL, 2, "item", "11", APPRAISAL_HEADER), 3, "item"),
    "item 0": (replace(APPRAISAL, 0, "item", "0", APPRAISAL_HEADER), 1, "item"),
    "item text": (replace(APPRAISAL, 1, "item", "two", APPRAISAL_HEADER), 2, "item"),
    "answer word": (
        replace(APPRAISAL, 3, "answer", "maybe", APPRAISAL_HEADER),
        4,
        "answer",
    ),
    "empty answer": (
        replace(APPRAISAL, 4, "answer", "", APPRAISAL_HEADER),
        5,
        "answer",
    ),
    "item twice": (replace(APPRAISAL, 11, "item", "1", APPRAISAL_HEADER), 12, "item"),
    "not included": (
        replace(APPRAISAL, 12, "study_id", "s99", APPRAISAL_HEADER),
        13,
        "study_id",
    ),
}


@pytest.mark.parametrize("case", APPRAISAL_ERRORS)
def test_bad_appraisal(tmp_path, case):
    rows, row, column = APPRAISAL_ERRORS[case]
    path = write_csv(tmp_path / "appraisal.csv", APPRAISAL_HEADER, rows)
    with pytest.raises(InputError) as info:
        read_appraisal(path, STUDIES)
    error = info.value
    assert error.location.file == str(path)
    assert (error.location.row, error.location.column) == (row, column)
    assert error.expected


def test_appraisal_item_10_needs_no_answer_and_answer_column_is_required(tmp_path):
    frame = read_appraisal(write_csv(tmp_path / "a.csv", APPRAISAL_HEADER, APPRAISAL))
    assert frame.loc[9, "answer"] == ""
    assert frame["item"].tolist()[:10] == list(range(1, 11))
    header = ["study_id", "item", "note"]
    rows = [[r[0], r[1], r[3]] for r in APPRAISAL]
    with pytest.raises(InputError, match="answer") as info:
        read_appraisal(write_csv(tmp_path / "b.csv", header, rows))
    assert info.value.location.line == 1


CERQUAL_ERRORS = {
    "component word": (
        replace(CERQUAL, 0, "coherence", "none", CERQUAL_HEADER),
        1,
        "coherence",
    ),
    "substantial is not a level": (
        replace(CERQUAL, 1, "relevance", "substantial", CERQUAL_HEADER),
        2,
        "relevance",
    ),
    "confidence word": (
        replace(CERQUAL, 2, "confidence", "medium", CERQUAL_HEADER),
        3,
        "confidence",
    ),
    "missing component": (
        replace(CERQUAL, 1, "adequacy", "", CERQUAL_HEADER),
        2,
        "adequacy",
    ),
    "missing limitations": (
        replace(CERQUAL, 2, "methodological_limitations", "", CERQUAL_HEADER),
        3,
        "methodological_limitations",
    ),
    "missing explanation": (
        replace(CERQUAL, 0, "explanation", "", CERQUAL_HEADER),
        1,
        "explanation",
    ),
    "unknown theme": (
        replace(CERQUAL, 1, "themes", "Matching; Mentor training", CERQUAL_HEADER),
        2,
        "themes",
    ),
    "no theme": (replace(CERQUAL, 2, "themes", " ; ", CERQUAL_HEADER), 3, "themes"),
    "repeated number": (
        replace(CERQUAL, 2, "finding_no", "2", CERQUAL_HEADER),
        3,
        "finding_no",
    ),
    "number text": (
        replace(CERQUAL, 0, "finding_no", "first", CERQUAL_HEADER),
        1,
        "finding_no",
    ),
}


@pytest.mark.parametrize("case", CERQUAL_ERRORS)
def test_bad_cerqual(tmp_path, findings, case):
    rows, row, column = CERQUAL_ERRORS[case]
    path = write_csv(tmp_path / "cerqual.csv", CERQUAL_HEADER, rows)
    with pytest.raises(InputError) as info:
        read_cerqual(path, findings)
    error = info.value
    assert error.location.file == str(path)
    assert (error.location.row, error.location.column) == (row, column)
    assert error.expected


def test_unknown_theme_suggests_the_close_one(tmp_path, findings):
    rows = replace(CERQUAL, 1, "themes", "matching ", CERQUAL_HEADER)
    path = write_csv(tmp_path / "cerqual.csv", CERQUAL_HEADER, rows)
    with pytest.raises(InputError, match="did you mean 'Matching'"):
        read_cerqual(path, findings)


def test_full_coverage_names_the_missing_themes(tmp_path, findings):
    rows = [CERQUAL[0]]  # Trust; Stigma only: Matching is missing
    path = write_csv(tmp_path / "cerqual.csv", CERQUAL_HEADER, rows)
    with pytest.raises(InputError, match="in no review finding: Matching") as info:
        read_cerqual(path, findings)
    assert info.value.location.file == str(path)
    assert info.value.location.column == "themes"
    assert "coverage" in str(info.value.expected)
    assert len(read_cerqual(path, findings, coverage="partial")) == 1
    with pytest.raises(ValueError, match="coverage"):
        read_cerqual(path, findings, coverage="some")


# --- outputs --------------------------------------------------------------------------

EXPECTED_FILES = [
    "theme_matrix.csv",
    "theme_matrix.xlsx",
    "theme_matrix_excerpts.csv",
    "theme_matrix_excerpts.xlsx",
    "theme_by_perspective.csv",
    "theme_by_perspective.xlsx",
    "barriers.csv",
    "barriers.xlsx",
    "barriers.docx",
    "facilitators.csv",
    "facilitators.xlsx",
    "facilitators.docx",
    "cerqual_soqf.csv",
    "cerqual_soqf.xlsx",
    "cerqual_soqf.docx",
    "cerqual_evidence_profile.csv",
    "cerqual_evidence_profile.xlsx",
    "cerqual_evidence_profile.docx",
    "casp_appraisal.csv",
    "casp_appraisal.xlsx",
    "heatmap_themes_by_study.png",
    "heatmap_themes_by_study.svg",
    "heatmap_themes_by_perspective.png",
    "heatmap_themes_by_perspective.svg",
]


@pytest.fixture
def written(tmp_path, inputs):
    result = api.run_qualitative(*inputs, STUDIES)
    first = api.write_qualitative(result, tmp_path / "a")
    again = api.run_qualitative(*inputs, STUDIES)
    second = api.write_qualitative(again, tmp_path / "b")
    return result, first, second


def test_every_file_is_written_and_byte_identical(written):
    _, first, second = written
    assert [p.name for p in first] == EXPECTED_FILES
    assert sorted(p.name for p in first[0].parent.iterdir()) == sorted(EXPECTED_FILES)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_matrix_csv_has_themes_first(written):
    _, first, _ = written
    folder = first[0].parent
    frame = pd.read_csv(folder / "theme_matrix.csv")
    assert list(frame.columns) == ["theme", "s1", "s2", "s10"]
    assert frame["theme"].tolist() == ["Trust", "Matching", "Stigma"]
    by_perspective = pd.read_csv(folder / "theme_by_perspective.csv")
    assert list(by_perspective.columns)[1:] == [
        "Young person",
        "Mentor",
        "Practitioner",
        "Carer",
    ]


@pytest.mark.parametrize(
    ("stem", "n_columns", "headers"),
    [
        (
            "barriers",
            6,
            [
                "Theme",
                "Subthemes",
                "Studies (n)",
                "Studies",
                "Perspectives (studies)",
                "Example excerpts (study, source)",
            ],
        ),
        ("facilitators", 6, None),
        ("cerqual_soqf", 5, tables.SOQF_COLUMNS),
        ("cerqual_evidence_profile", 9, tables.EVIDENCE_PROFILE_COLUMNS),
    ],
)
def test_docx_tables(written, stem, n_columns, headers):
    result, first, _ = written
    path = first[0].parent / f"{stem}.docx"
    document = Document(str(path))
    assert len(document.tables) == 1
    table = document.tables[0]
    # the DOCX, for pasting, leaves out the ids kept beside the labels
    frame = result.tables[stem].drop(columns=list(tables.ID_COLUMNS), errors="ignore")
    assert len(table.rows) == len(frame) + 1
    assert len(table.columns) == n_columns
    header = [cell.text for cell in table.rows[0].cells]
    if headers is not None:
        assert header == headers
    # Header row: bold, repeated on each page.
    assert all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs)
    tr_pr = table.rows[0]._tr.trPr
    assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None
    # Body cells hold the table's text.
    for i, row in enumerate(table.rows[1:]):
        assert [c.text for c in row.cells] == [str(v) for v in frame.iloc[i]]
    # Landscape, with a title and borders.
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width > section.page_height
    assert document.paragraphs[0].text == api.DOCX_TITLES[stem]
    assert table.style.name == "Table Grid"
    assert document.core_properties.title == api.DOCX_TITLES[stem]
    # Every column has a width and together they fill the text width.
    widths = [c.width for c in table.columns]
    assert all(w and w > 0 for w in widths)
    text_width = section.page_width - section.left_margin - section.right_margin
    assert abs(sum(widths) - text_width) < 2000  # EMU, ~0.06 mm
    # No column is narrower than its longest word (no word is broken).
    for column in table.columns:
        longest = max(len(w) for c in column.cells for w in c.text.split())
        need = max(longest * qdocx.CHAR_CM + qdocx.CELL_MARGINS_CM, qdocx.MIN_COLUMN_CM)
        assert column.width.cm >= need - 1e-3, (column.cells[0].text, longest)


def test_docx_and_xlsx_are_stable_zips(written):
    _, first, _ = written
    for path in first:
        if path.suffix in (".docx", ".xlsx"):
            with zipfile.ZipFile(path) as archive:
                assert {i.date_time for i in archive.infolist()} == {
                    (1980, 1, 1, 0, 0, 0)
                }
                if path.suffix == ".docx":
                    core = archive.read("docProps/core.xml").decode()
                    assert "2000-01-01T00:00:00Z" in core


def test_docx_writer_is_byte_stable_and_keeps_line_breaks(tmp_path):
    frame = pd.DataFrame({"a": ["one\ntwo", None], "b": [1, np.int64(2)]})
    for name in ("x.docx", "y.docx"):
        write_table_docx(frame, tmp_path / name, title="T", note="N")
    assert (tmp_path / "x.docx").read_bytes() == (tmp_path / "y.docx").read_bytes()
    table = Document(str(tmp_path / "x.docx")).tables[0]
    assert [c.text for c in table.rows[1].cells] == ["one\ntwo", "1"]
    assert [c.text for c in table.rows[2].cells] == ["", "2"]


def test_a_failure_leaves_no_files(tmp_path, inputs, monkeypatch):
    result = api.run_qualitative(*inputs, STUDIES)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(api, "save_figure", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        api.write_qualitative(result, out)
    assert not out.exists() or not any(out.iterdir())


def test_csv_text_is_guarded_against_formulas(tmp_path, inputs):
    rows = replace(FINDINGS, 0, "excerpt", "=HYPERLINK()", FINDINGS_HEADER)
    write_csv(inputs[0], FINDINGS_HEADER, rows)
    result = api.run_qualitative(*inputs, STUDIES)
    paths = api.write_qualitative(result, tmp_path / "out")
    text = (paths[0].parent / "facilitators.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK()" in text


# --- heat maps -------------------------------------------------------------------------


def svg_labels(path: Path) -> dict[str, str]:
    """Text of every element with an id, by id."""
    root = ET.parse(path).getroot()
    out = {}
    for group in root.iter(f"{SVG_NS}g"):
        gid = group.get("id", "")
        if gid.startswith("heatmap-"):
            out[gid] = "".join(
                "".join(t.itertext()) for t in group.iter(f"{SVG_NS}text")
            )
    return out


def joined(labels: dict[str, str], prefix: str) -> str:
    parts = [v for k, v in labels.items() if k.startswith(prefix + "-line")]
    return " ".join(parts)


def squeeze(text: str) -> str:
    return "".join(text.split())


def check_layout(fig) -> None:
    """Every text lies inside the figure, no two texts overlap, counts sit in cells."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [
        (t.get_gid(), t.get_window_extent(renderer)) for t in fig.texts if t.get_text()
    ]
    assert texts
    for gid, box in texts:
        assert box.x0 >= 0 and box.y0 >= 0, gid
        assert box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1, gid
    for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
        assert not box_a.overlaps(box_b), (a, b)
    cells = {
        p.get_gid().removeprefix("heatmap-cell-"): p.get_window_extent(renderer)
        for p in fig.artists
        if (p.get_gid() or "").startswith("heatmap-cell-")
    }
    assert cells
    grid_left = min(c.x0 for c in cells.values())
    grid_top = max(c.y1 for c in cells.values())
    for gid, box in texts:
        if gid.startswith("heatmap-count-"):
            cell = cells[gid.removeprefix("heatmap-count-")]
            assert cell.x0 < box.x0 and box.x1 < cell.x1, gid
            assert cell.y0 < box.y0 and box.y1 < cell.y1, gid
        elif gid.startswith("heatmap-row-"):
            assert box.x1 < grid_left, gid
        elif gid.startswith("heatmap-col-"):
            assert box.y0 > grid_top, gid


def test_heatmap_labels_are_text_and_nothing_overlaps(tmp_path, findings):
    for by, title in (("study", "Study"), ("perspective", "Perspective")):
        matrix = theme_matrix(findings, by=by)
        fig = plots.heatmap_figure(
            matrix, title="Themes by " + by, xlabel=title, ylabel="Theme"
        )
        check_layout(fig)
        path = tmp_path / f"{by}.svg"
        plots.save_figure(fig, path, "svg")
        labels = svg_labels(path)
        for i, theme in enumerate(matrix.index):
            assert joined(labels, f"heatmap-row-{i}") == theme
        for j, column in enumerate(matrix.columns):
            assert joined(labels, f"heatmap-col-{j}") == column
        for i, j in itertools.product(range(matrix.shape[0]), range(matrix.shape[1])):
            assert labels[f"heatmap-count-{i}-{j}"] == str(matrix.iloc[i, j])
        assert joined(labels, "heatmap-xlabel") == title
        assert labels["heatmap-ylabel"] == "Theme"


LONG_THEMES = [
    "Matching mentors and young people on shared interests and lived experience of care",
    "Consistency and reliability of the mentor over time",
    "Stigma of being 'in care' and fear of being labelled by friends at school",
    "Placement moves and instability disrupting the mentoring relationship",
    "Trust",
    "Professional boundaries versus friendship-like relationships with mentors",
    "Support and supervision for volunteer mentors from the scheme",
    "Young people's previous experiences of adults leaving them",
    "Practical barriers: travel, cost of activities and scheduling around school",
    "Carers' and social workers' buy-in to the mentoring programme",
    "Endings and transitions out of the mentoring relationship at 18",
    "Voice and choice: young people shaping what the mentoring is for",
]
LONG_STUDIES = [
    "ahrens2011", "mezey2015", "taussig2010", "osterling2006", "powers2012",
    "geenen2015", "blakeslee2018", "clayden2007", "philip2008", "spencer2010",
    "greeson2015", "thompson2016", "munson2017", "britner2018", "rhodes2019",
    "dubois2020", "williams_johnson_evans_and_colleagues_2021", "lee2022",
]  # fmt: skip


def test_large_heatmap_is_legible(tmp_path):
    rng = np.random.default_rng(7)
    counts = rng.poisson(1.4, (len(LONG_THEMES), len(LONG_STUDIES)))
    counts[0, 0] = 23
    matrix = pd.DataFrame(
        counts, index=pd.Index(LONG_THEMES, name="theme"), columns=LONG_STUDIES
    )
    fig = plots.heatmap_figure(
        matrix,
        title="Themes by study: number of coded excerpts",
        xlabel="Study",
        ylabel="Theme",
    )
    check_layout(fig)
    width, height = fig.get_size_inches()
    assert 8 < width < 16 and 5 < height < 12  # grows with the matrix, stays a page
    plots.save_figure(fig, "/tmp/qual_heatmap.png", "png")
    path = tmp_path / "big.svg"
    plots.save_figure(fig, path, "svg")
    labels = svg_labels(path)
    for i, theme in enumerate(LONG_THEMES):
        assert joined(labels, f"heatmap-row-{i}") == theme
    for j, study in enumerate(LONG_STUDIES):
        assert squeeze(joined(labels, f"heatmap-col-{j}")) == study
    # Rows are tall enough for the longest wrapped label, and a small matrix
    # makes a smaller figure.
    small = plots.heatmap_figure(
        matrix.iloc[:3, :3], title="T", xlabel="Study", ylabel="Theme"
    )
    assert small.get_size_inches()[0] < width
    assert small.get_size_inches()[1] < height


def test_heatmap_rejects_bad_counts():
    with pytest.raises(ValueError, match="whole counts"):
        plots.heatmap_figure(
            pd.DataFrame([[1.5]], index=["a"], columns=["b"]),
            title="",
            xlabel="",
            ylabel="",
        )
    with pytest.raises(ValueError, match="fmt"):
        plots.save_figure(plots.heatmap_figure(
            pd.DataFrame([[1]], index=["a"], columns=["b"]), title="", xlabel="", ylabel=""
        ), "x.pdf", "pdf")  # fmt: skip
