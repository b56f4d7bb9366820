"""Hostile and malformed CSV: input tables and search exports.

Input tables refuse, with file, line, column and what was expected: a quote
that opens and never closes (at the line where it opens), a column named twice,
an impossible date, a control character. Search exports refuse a column named
twice and a stray quote too, read cells of any size, and remove control
characters, listing each removal in the import issues.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from evsynth.errors import InputError
from evsynth.io import check_csv_scan, read_csv_text, scan_csv
from evsynth.project.tables import TABLES
from evsynth.validation import _real_moment
from evsynth.yamlsafe import read_yaml
from tests.hostile.conftest import assert_refused, evsynth, tree

SPECS = {spec.key: spec for spec in TABLES if spec.template}


def table_path(review: Path, key: str) -> Path:
    """The example's input table of a kind (``decisions``, ``effects``, ...)."""
    config = read_yaml(review / "config" / "config.yaml").data
    spec = SPECS[key]
    return review / config["review_dir"] / config[spec.section][spec.setting]


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def refused(review: Path, *fragments: str, args: tuple[str, ...] = ()) -> None:
    """``evsynth validate`` (or ARGS) exits 2 with the fragments; inputs unchanged."""
    before = tree(review)
    proc = evsynth(*(args or ("validate", str(review))))
    assert_refused(proc, *fragments)
    assert tree(review) == before


# --- unbalanced quotes ------------------------------------------------------------


def test_unbalanced_quote_in_a_decision_note_names_its_line(example):
    path = table_path(example, "decisions")
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(",")
    cells[5] = '"Unclear population, check the full text'
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused(
        example,
        "decisions.csv, line 4, column 'note': a quoted field opens here and never "
        "closes",
        'expected a closing "',
    )


def test_a_stray_quote_closed_by_a_later_quote_names_where_it_opens(example):
    path = table_path(example, "decisions")
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(",")
    cells[5] = '"Unclear'
    lines[3] = ",".join(cells)
    later = lines[7].split(",")
    later[5] = '"see ""protocol"", section 2"'
    lines[7] = ",".join(later)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused(
        example,
        "decisions.csv, line 4, column 'note': a quoted field opens here and never "
        "closes: the quote on line 8",
    )


def test_a_stray_quote_is_refused_by_the_stage_command_too(example):
    path = table_path(example, "effects")
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[2] = rows[2].replace(",lower,", ',"lower,', 1)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    refused(
        example,
        "effects.csv, line 3, column 'favourable': a quoted field opens here",
        args=("effects", "--out", str(example.parent / "out.csv"), str(path)),
    )


# --- duplicate headers ------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SPECS))
def test_a_column_named_twice_is_refused_in_every_table(example, key):
    path = table_path(example, key)
    rows = rows_of(path)
    column = rows[0][1]
    rows = [[*row, row[1]] for row in rows]
    write_rows(path, rows)
    refused(
        example,
        f"{path.name}, line 1, column '{column}': column '{column}' appears twice "
        f"in the header, as column 2 and column {len(rows[0])}",
        "expected each column once",
    )


def test_a_column_named_twice_in_another_case_is_refused(example):
    path = table_path(example, "decisions")
    rows = rows_of(path)
    rows[0].append("Decision")
    rows = [rows[0], *([*r, "include"] for r in rows[1:])]
    write_rows(path, rows)
    refused(example, "decisions.csv, line 1, column 'Decision'", "appears twice")


def export(review: Path, name: str) -> Path:
    return review / "data" / "searches" / name


def test_a_scopus_export_with_title_twice_is_refused(example, tmp_path):
    path = export(example, "scopus.csv")
    rows = rows_of(path)
    rows = [[*row, row[3]] for row in rows]
    write_rows(path, rows)
    refused(
        example,
        "scopus.csv, line 1, column 'Title': column 'Title' appears twice",
        args=("import", str(path), "--out", str(tmp_path / "records.csv")),
    )


@pytest.mark.parametrize("fmt", ["zotero_csv", "csv"])
def test_a_zotero_or_generic_csv_with_a_column_twice_is_refused(tmp_path, fmt):
    path = tmp_path / "export.csv"
    path.write_text(
        "Key,Item Type,Title,Publication Year,Title\n"
        "AB12,journalArticle,Mentoring,2020,Other\n",
        encoding="utf-8",
    )
    proc = evsynth(
        "import", "--format", fmt, str(path), "--out", str(tmp_path / "records.csv")
    )
    assert_refused(proc, "export.csv, line 1, column 'Title'", "appears twice")


# --- sizes ------------------------------------------------------------------------


def test_a_200000_character_cell_in_an_export_imports(example, tmp_path):
    path = export(example, "scopus.csv")
    rows = rows_of(path)
    authors = rows[0].index("Authors")
    rows[1][authors] = "; ".join(f"Author{i} A." for i in range(16000))
    assert len(rows[1][authors]) > 200_000
    write_rows(path, rows)
    out = tmp_path / "records.csv"
    proc = evsynth("import", str(path), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert len(read_csv_text(out, "records")) == len(rows) - 1


def test_a_200000_character_cell_in_an_input_table_is_read(example):
    path = table_path(example, "decisions")
    rows = rows_of(path)
    rows[1][5] = "x" * 200_000
    write_rows(path, rows)
    proc = evsynth("validate", str(example))
    assert proc.returncode == 0, proc.stdout[-2000:]


# --- dates ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2023-02-30T25:61:00Z", "2023-13-45", "2023-02-29"])
def test_an_impossible_decision_timestamp_is_refused(example, value):
    path = table_path(example, "decisions")
    rows = rows_of(path)
    rows[2][6] = value
    write_rows(path, rows)
    refused(
        example,
        f"decisions.csv, line 3, row 2, column 'timestamp': invalid value '{value}'",
        "expected a real calendar date and time",
    )


@pytest.mark.parametrize("value", ["2023-02-30", "2023-13-45", "2023-00-10"])
def test_an_impossible_search_date_is_refused(example, value):
    path = table_path(example, "searches")
    rows = rows_of(path)
    rows[1][3] = value
    write_rows(path, rows)
    refused(
        example,
        f"searches.csv, line 2, row 1, column 'date_searched': invalid value '{value}'",
        "expected a real calendar date",
    )


@pytest.mark.parametrize(
    ("value", "real"),
    [
        ("2024-02-29", True),
        ("2024-02-29T23:59:59.5+01:00", True),
        ("2024-03-01 14:05", True),
        ("2023-02-29", False),
        ("2024-03-01T24:00:00Z", False),
        ("2024-03-01T10:00:00+25:00", False),
        ("not a date", True),  # the pattern reports text of the wrong shape
    ],
)
def test_calendar_check(value, real):
    assert _real_moment(value) is real


# --- control characters -----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "column", "char"),
    [
        ("decisions", "note", "\x1b"),
        ("studies", "programme", "\x01"),
        ("effects", "outcome", "\x7f"),
    ],
)
def test_a_control_character_in_an_input_table_is_refused(example, key, column, char):
    path = table_path(example, key)
    rows = rows_of(path)
    index = rows[0].index(column)
    rows[2][index] = f"text {char} more"
    write_rows(path, rows)
    refused(
        example,
        f"{path.name}, line 3, row 2, column '{column}': control character "
        f"U+{ord(char):04X}",
        "expected text without control characters",
    )


def test_a_control_character_in_an_export_title_is_removed_and_listed(
    example, tmp_path
):
    path = export(example, "scopus.csv")
    rows = rows_of(path)
    title = rows[0].index("Title")
    rows[2][title] = "Mentoring\x1b[31m for care leavers"
    write_rows(path, rows)
    out, issues = tmp_path / "records.csv", tmp_path / "issues.csv"
    proc = evsynth("import", str(path), "--out", str(out), "--issues", str(issues))
    assert proc.returncode == 0, proc.stderr
    records = read_csv_text(out, "records")
    assert records["title"].iloc[1] == "Mentoring[31m for care leavers"
    listed = read_csv_text(issues, "issues")
    row = listed[listed["message"].str.contains("control")].iloc[0]
    assert row["line"] == "3"
    assert row["field"] == "title"
    assert row["message"] == "removed control character(s) U+001B (ESC)"


def test_a_control_character_in_a_ris_export_is_removed_and_listed(example, tmp_path):
    path = export(example, "psycinfo_ovid.ris")
    lines = path.read_bytes().split(b"\n")
    at = next(i for i, x in enumerate(lines) if x.startswith(b"T1  - "))
    lines[at] = lines[at].replace(b"Futures", b"Fut\x07ures")
    path.write_bytes(b"\n".join(lines))
    out, issues = tmp_path / "records.csv", tmp_path / "issues.csv"
    proc = evsynth("import", str(path), "--out", str(out), "--issues", str(issues))
    assert proc.returncode == 0, proc.stderr
    listed = read_csv_text(issues, "issues")
    row = listed[listed["message"].str.contains("control")].iloc[0]
    assert (row["line"], row["field"]) == (str(at + 1), "T1")
    assert "\x07" not in out.read_text(encoding="utf-8")


# --- the scanner agrees with the csv module on good files -------------------------


def example_tables(review: Path) -> list[Path]:
    return sorted((review / "data").rglob("*.csv"))


def test_scan_reads_every_example_table_as_the_csv_module_does(example):
    for path in example_tables(example):
        text = path.read_text(encoding="utf-8-sig")
        scan = scan_csv(text, path)
        check_csv_scan(scan, path, refuse_controls=True)
        expected = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
        assert [r.cells for r in scan.rows] == expected, path


def test_scan_keeps_spaces_after_a_closing_quote_like_the_csv_module():
    text = 'a,b\n"x" ,y\n'
    assert [r.cells for r in scan_csv(text, "t.csv").rows] == list(
        csv.reader(io.StringIO(text))
    )


def test_rows_spanning_lines_get_their_own_line_numbers(example):
    path = table_path(example, "decisions")
    rows = rows_of(path)
    rows[1][5] = "first line\nsecond line\nthird"
    rows[3][6] = "2023-02-30"
    write_rows(path, rows)
    refused(example, "decisions.csv, line 6, row 3, column 'timestamp'")


def test_an_extra_cell_is_refused_with_its_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t.csv, line 3, row 2: 3 cells"):
        read_csv_text(path, "a, b")


def test_read_csv_text_still_reads_a_plain_table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('\ufeffa,b\n1,"x, ""y"""\n\n2,\n', encoding="utf-8")
    frame = read_csv_text(path, "a, b")
    expected = pd.DataFrame({"a": ["1", "2"], "b": ['x, "y"', ""]})
    pd.testing.assert_frame_equal(frame, expected)


LOG_HEADER = "record_id,stage,reviewer,decision,reason,note,timestamp\n"


@pytest.mark.parametrize("reader", ["schema", "log"])
def test_a_table_not_in_utf8_says_what_is_expected_in_plain_words(tmp_path, reader):
    from evsynth.history.snapshot import decision_log_table
    from evsynth.validation import read_table

    path = tmp_path / "decisions.csv"
    path.write_bytes(
        (LOG_HEADER + "r1,title_abstract,ana,include,,réunion,\n").encode("latin-1")
    )
    with pytest.raises(InputError, match="not UTF-8") as info:
        if reader == "schema":
            read_table(path, "screening_decisions")
        else:
            decision_log_table(path)
    message = str(info.value)
    assert "with a CSV with" not in message
    assert "with a header line: record_id, stage, reviewer, decision" in message


def test_a_misspelt_log_header_is_named_not_taken_for_edited_rows(tmp_path):
    from evsynth.history.snapshot import decision_log_edits, decision_log_table

    log = tmp_path / "decisions.csv"
    log.write_text(LOG_HEADER + "r1,title_abstract,ana,include,,,\n", encoding="utf-8")
    round_0 = tmp_path / "history" / "round_0"
    round_0.mkdir(parents=True)
    (round_0 / "meta.json").write_text("{}", encoding="utf-8")
    decision_log_table(log).to_csv(round_0 / "decision_log.csv", index=False)
    assert decision_log_edits(log, tmp_path / "history") == []
    log.write_text(log.read_text().replace(",decision,", ",decison,"), encoding="utf-8")
    with pytest.raises(
        InputError, match=r"missing required column\(s\) decision"
    ) as info:
        decision_log_edits(log, tmp_path / "history")
    assert info.value.location.line == 1


def test_an_effects_table_not_in_utf8_still_lets_the_workflow_plan(example):
    # the per-analysis jobs hash their rows of the table while Snakemake plans the
    # run; a table the effects job will refuse must not stop the plan with a traceback
    path = table_path(example, "effects")
    text = path.read_text(encoding="utf-8").replace("\n", "\nnot utf-8: \xe9,", 1)
    path.write_bytes(text.encode("latin-1"))
    proc = evsynth("run", str(example), "--", "--dry-run")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Traceback" not in out
