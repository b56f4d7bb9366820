"""Meaning checks (issue 17, item 4): rows that read well but mean something wrong.

An exact duplicate effect row, a row of a study that studies.csv does not list,
``nan`` or ``inf`` in a numeric column, a reversed confidence interval, and an
earlier row of the append-only decision log rewritten or deleted after a run:
each is refused with one line naming the file, the line and row, the column and
what was expected, by ``evsynth validate`` and by the stage (command or run),
with no traceback, the inputs unchanged and no output written.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from evsynth.project.template import init_example
from tests.hostile.conftest import assert_refused, evsynth, tree

EFFECTS = "data/extraction/effects.csv"
STUDIES = "data/studies.csv"
ROB = "data/extraction/risk_of_bias.csv"
FINDINGS = "data/qualitative/findings.csv"
APPRAISAL = "data/qualitative/appraisal.csv"
DECISIONS = "data/screening/decisions.csv"


# --- helpers ----------------------------------------------------------------------


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell (``row`` 1-based data row) and rewrite the table."""
    header, rows = read_rows(path)
    rows[row - 1][column] = value
    write_rows(path, header, rows)


def append_row(path: Path, values: dict[str, str]) -> int:
    """Append a row (other cells empty); return its line number."""
    header, rows = read_rows(path)
    rows.append({c: values.get(c, "") for c in header})
    write_rows(path, header, rows)
    return len(rows) + 1


def stage_effects(folder: Path):
    return evsynth(
        "effects",
        EFFECTS,
        "--out",
        "out/effects.csv",
        "--config",
        "config/config.yaml",
        "--studies",
        STUDIES,
        cwd=folder,
    )


def stage_rob(folder: Path):
    return evsynth("rob", ROB, "--out-dir", "out", "--studies", STUDIES, cwd=folder)


def stage_qualitative(folder: Path):
    return evsynth(
        "qualitative", "data", "--out-dir", "out", "--config", "config/config.yaml",
        cwd=folder,
    )  # fmt: skip


def refused_everywhere(folder: Path, stage, *fragments: str) -> None:
    """The stage command and ``evsynth validate`` both refuse, and change nothing."""
    before = tree(folder)
    for proc in (stage(folder), evsynth("validate", cwd=folder)):
        assert_refused(proc, *fragments)
    assert tree(folder) == before  # inputs unchanged, nothing written
    assert not (folder / "out").exists()
    assert not (folder / "results").exists()


NEW_ROW = {
    "study_id": "taussig2010_fhf",
    "outcome": "Constructed outcome",
    "domain": "mental_health",
    "timepoint": "post",
    "favourable": "higher",
}


# --- duplicate effect rows and unknown studies ------------------------------------


def test_exact_duplicate_effect_row_names_both_lines(example):
    path = example / EFFECTS
    _header, rows = read_rows(path)
    line = append_row(path, rows[2])  # a copy of data row 3 (line 4)
    refused_everywhere(
        example,
        stage_effects,
        EFFECTS,
        f"line {line}",
        f"row {line - 1}",
        "exact duplicate of line 4 (row 3)",
        f"delete line {line} or line 4",
    )


def test_duplicate_differing_in_a_note_is_not_exact(example):
    path = example / EFFECTS
    _header, rows = read_rows(path)
    copy = dict(rows[2], outcome=rows[2]["outcome"] + " (second scale)")
    append_row(path, copy)
    proc = stage_effects(example)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_effect_row_of_unknown_study(example):
    line = append_row(
        example / EFFECTS, {**NEW_ROW, "study_id": "ghost2020", "g": "0.3",
                            "n_t": "20", "n_c": "20"}
    )  # fmt: skip
    refused_everywhere(
        example,
        stage_effects,
        EFFECTS,
        f"line {line}",
        f"row {line - 1}",
        "column 'study_id'",
        "'ghost2020' is not in",
        "expected a study_id of studies.csv",
    )


def test_unknown_study_refused_by_the_analysis_job_too(example, tmp_path):
    """The per-analysis effect job (workflow) checks the same rows."""
    from evsynth.effects.api import write_analysis_effects
    from evsynth.effects.compute import EffectSettings
    from evsynth.errors import InputError

    line = append_row(
        example / EFFECTS, {**NEW_ROW, "study_id": "ghost2020", "g": "0.3",
                            "n_t": "20", "n_c": "20"}
    )  # fmt: skip
    out = tmp_path / "mental_health.csv"
    with pytest.raises(InputError) as caught:
        write_analysis_effects(
            example / EFFECTS,
            EffectSettings(),
            ["mental_health"],
            out,
            studies=example / STUDIES,
        )
    assert caught.value.location.line == line
    assert caught.value.location.column == "study_id"
    assert not out.exists()


def test_risk_of_bias_row_of_unknown_study(example):
    path = example / ROB
    _header, rows = read_rows(path)
    line = append_row(path, dict(rows[0], study_id="ghost2020"))
    refused_everywhere(
        example,
        stage_rob,
        ROB,
        f"line {line}",
        "column 'study_id'",
        "'ghost2020' is not an included study",
        "expected the study_id of an included study",
    )


@pytest.mark.parametrize("table", [FINDINGS, APPRAISAL])
def test_qualitative_row_of_unknown_study(example, table):
    path = example / table
    _header, rows = read_rows(path)
    changed = dict(rows[0], study_id="ghost2020")
    if "finding_id" in changed:
        changed["finding_id"] = "F999"
    if "item" in changed:  # a study's CASP items come as a set: one row is enough
        changed["item"] = "1"
    line = append_row(path, changed)
    refused_everywhere(
        example,
        stage_qualitative,
        table,
        f"line {line}",
        "column 'study_id'",
        "'ghost2020' is not an included study",
        "expected the study_id of an included study",
    )


# --- nan and infinities are not numbers --------------------------------------------


@pytest.mark.parametrize(
    ("table", "row", "column", "value"),
    [
        (EFFECTS, 1, "n_t", "nan"),
        (EFFECTS, 1, "sd_pooled", "inf"),
        (EFFECTS, 2, "mean_t", "NaN"),
        (EFFECTS, 3, "t", "Infinity"),
        (EFFECTS, 1, "adj_diff", "-inf"),
        (EFFECTS, 5, "months", "-Infinity"),
        (STUDIES, 1, "n_total", "nan"),
        (STUDIES, 1, "year", "INF"),
    ],
)
def test_non_finite_number_is_refused(example, table, row, column, value):
    set_cell(example / table, row, column, value)
    refused_everywhere(
        example,
        stage_effects,
        table,
        f"line {row + 1}",
        f"row {row}",
        f"column '{column}'",
        f"invalid value {value!r}",
        "expected a finite number",
    )


# --- a reversed CI names the columns the row uses ----------------------------------


@pytest.mark.parametrize(
    ("stats", "column", "fragment"),
    [
        (
            {"or_": "1.5", "or_lb": "2.0", "or_ub": "1.1"},
            "or_lb",
            "expected the lower limit or_lb below the upper limit or_ub",
        ),
        (
            {"or_": "3.0", "or_lb": "1.1", "or_ub": "2.0"},
            "or_lb",
            "expected a CI or_lb, or_ub that contains the estimate",
        ),
        (
            {"adj_diff": "1", "adj_diff_lb": "2", "adj_diff_ub": "0.5",
             "sd_pooled": "2", "n_t": "20", "n_c": "20"},
            "adj_diff_lb",
            "expected the lower limit adj_diff_lb below the upper limit adj_diff_ub",
        ),
        (
            {"yi": "0.3", "ci_lb": "0.5", "ci_ub": "0.1", "measure": "SMD"},
            "ci_lb",
            "expected the lower limit ci_lb below the upper limit ci_ub",
        ),
        (
            {"yi": "1.3", "ci_lb": "1.5", "ci_ub": "1.1", "measure": "OR"},
            "ci_lb",
            "expected the lower limit ci_lb below the upper limit ci_ub",
        ),
        (
            {"mean_t": "1", "lb_t": "0.5", "ub_t": "1.5", "n_t": "20",
             "mean_c": "1", "lb_c": "1.5", "ub_c": "0.5", "n_c": "20"},
            "lb_c",
            "expected the lower limit lb_c below the upper limit ub_c",
        ),
    ],
    ids=["or", "or-outside", "adjusted", "yi-smd", "yi-or", "means-ci"],
)  # fmt: skip
def test_reversed_ci_names_its_own_columns(example, stats, column, fragment):
    line = append_row(example / EFFECTS, {**NEW_ROW, **stats})
    refused_everywhere(
        example,
        stage_effects,
        EFFECTS,
        f"line {line}",
        f"row {line - 1}",
        f"column '{column}'",
        fragment,
    )
    proc = stage_effects(example)
    out = proc.stdout + proc.stderr
    if column != "ci_lb":
        assert "ci_lb" not in out and "'lower'" not in out, out


# --- the append-only decision log (needs a run) ------------------------------------


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    """The example review, run once."""
    folder = tmp_path_factory.mktemp("meaning") / "review"
    init_example(folder)
    proc = evsynth("run", "--cores", "2", str(folder))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert (folder / "results/history/round_0/decision_log.csv").is_file()
    return folder


@pytest.fixture
def ran(done, tmp_path) -> Path:
    """A copy of the finished run (file times kept, so nothing is stale)."""
    copy = tmp_path / "review"
    shutil.copytree(done, copy, symlinks=True)
    return copy


def log_lines(folder: Path) -> list[str]:
    return (folder / DECISIONS).read_text(encoding="utf-8").splitlines(keepends=True)


def refused_by_run(folder: Path, *fragments: str) -> None:
    """validate, the screening command and run refuse; inputs and snapshot stay."""
    before = tree(folder / "data")
    history = tree(folder / "results/history")
    assert_refused(evsynth("validate", str(folder)), *fragments)
    stage = evsynth("screening", "data", "--out-dir", "out", cwd=folder)
    assert_refused(stage, *fragments)
    assert not (folder / "out").exists()
    proc = evsynth("run", "--cores", "2", str(folder))
    # the screening job refuses; evsynth run ends with its line and exit 2
    assert_refused(proc, *fragments)
    assert "evsynth validate lists every problem" in proc.stderr.splitlines()[-1]
    assert tree(folder / "data") == before
    assert tree(folder / "results/history") == history  # the snapshot is kept
    assert not (folder / "results/screening/final_decisions.csv").exists()


@pytest.mark.workflow
def test_edited_earlier_decision_row_is_refused(ran):
    lines = log_lines(ran)
    cells = next(csv.reader([lines[4]]))  # line 5
    record, stage, reviewer, decision = cells[:4]
    cells[3] = "include" if decision == "exclude" else "exclude"
    lines[4] = ",".join(cells) + "\n"
    (ran / DECISIONS).write_text("".join(lines), encoding="utf-8")
    refused_by_run(
        ran,
        DECISIONS,
        "line 5",
        "row 4",
        "column 'decision'",
        f"record {record!r}, stage {stage}, reviewer {reviewer!r}",
        f"decision was {decision!r}",
        "round_0/decision_log.csv",
        "append a new row for the same record, stage and reviewer",
    )


@pytest.mark.workflow
def test_deleted_earlier_decision_row_is_refused(ran):
    lines = log_lines(ran)
    record, stage = next(csv.reader([lines[4]]))[:2]
    del lines[4]
    (ran / DECISIONS).write_text("".join(lines), encoding="utf-8")
    refused_by_run(
        ran,
        DECISIONS,
        "line 5",
        "row 4",
        "was deleted",
        f"record {record!r}, stage {stage}",
        "append a new row for the same record, stage and reviewer",
    )


@pytest.mark.workflow
def test_edited_note_of_earlier_decision_row_is_refused(ran):
    lines = log_lines(ran)
    cells = next(csv.reader([lines[2]]))  # line 3
    cells[5] = "rewritten later"
    lines[2] = ",".join(cells) + "\n"
    (ran / DECISIONS).write_text("".join(lines), encoding="utf-8")
    proc = evsynth("validate", str(ran))
    assert_refused(proc, DECISIONS, "line 3", "row 2", "column 'note'")


@pytest.mark.workflow
def test_appended_decision_row_still_runs(ran):
    lines = log_lines(ran)
    record, stage, reviewer = next(csv.reader([lines[1]]))[:3]
    with (ran / DECISIONS).open("a", encoding="utf-8") as handle:
        handle.write(f"{record},{stage},{reviewer},include,,superseded,2023-08-01\n")
    proc = evsynth("validate", str(ran))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    proc = evsynth("run", "--cores", "2", str(ran))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    recorded = (ran / "results/history/round_0/decision_log.csv").read_text(
        encoding="utf-8"
    )
    assert len(recorded.splitlines()) == len(lines) + 1
    assert "superseded" not in recorded  # hashes, not the text


# --- effects too extreme to meta-analyse ------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("sd_pooled", "1e-60", "SMD -5.08e+59"),  # g = -0.51 / 1e-60 × J(154 df)
        ("sd_pooled", "1e-200", "effect size"),  # overflows on the way
    ],
)
def test_an_effect_too_extreme_to_pool_is_refused_at_its_row(
    example, column, value, what
):
    set_cell(example / EFFECTS, 1, column, value)
    before = tree(example)
    proc = stage_effects(example)
    assert_refused(
        proc, EFFECTS, "line 2", "row 1", f"column '{column}'", what, "too extreme"
    )
    assert tree(example) == before


@pytest.mark.workflow
def test_a_deliberate_edit_is_accepted_with_its_reason(ran):
    lines = log_lines(ran)
    cells = next(csv.reader([lines[4]]))  # line 5
    record, stage, reviewer = cells[:3]
    cells[5] = "note corrected"
    lines[4] = ",".join(cells) + "\n"
    (ran / DECISIONS).write_text("".join(lines), encoding="utf-8")
    edits = ran / "results/history/round_0/decision_log_edits.csv"
    snapshot = ran / "results/history/round_0/decision_log.csv"
    recorded = snapshot.read_bytes()
    # listed, nothing written, without a reason
    listed = evsynth("accept-log-edits", str(ran))
    assert_refused(listed, DECISIONS, "line 5", "row 4", "column 'note'", "--reason")
    assert not edits.exists() and snapshot.read_bytes() == recorded
    assert_refused(evsynth("accept-log-edits", str(ran), "--reason", "  "), "reason")
    accepted = evsynth(
        "accept-log-edits", str(ran), "--reason", "typo in the note, agreed 2023-09"
    )
    assert accepted.returncode == 0, accepted.stderr
    assert "1 edit(s)" in accepted.stdout
    with edits.open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["row"], row["record_id"], row["stage"], row["reviewer"]) == (
        "4",
        record,
        stage,
        reviewer,
    )
    assert row["column"] == "note"
    assert row["reason"] == "typo in the note, agreed 2023-09"
    assert evsynth("validate", str(ran)).returncode == 0
    again = evsynth("accept-log-edits", str(ran), "--reason", "x")
    assert "no earlier row changed" in again.stdout
    proc = evsynth("run", "--cores", "2", str(ran))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert edits.is_file()  # the run keeps the record of accepted edits


def test_a_near_duplicate_effect_row_names_both_lines(example):
    path = example / EFFECTS
    _header, rows = read_rows(path)
    copy = dict(rows[2])
    copy["outcome"] = "  " + copy["outcome"].upper().replace(" ", "  ") + "."
    copy["note"] = "entered twice by a second extractor"
    line = append_row(path, copy)
    refused_everywhere(
        example,
        stage_effects,
        EFFECTS,
        f"line {line}",
        "column 'outcome'",
        "the same study, outcome, domain, time point and comparison as line 4",
        "differing only in outcome, note",
        "tell them apart in comparison",
    )


def test_the_same_outcome_in_another_comparison_is_not_a_duplicate(example):
    path = example / EFFECTS
    _header, rows = read_rows(path)
    second_arm = dict(rows[2], comparison="second_arm")
    append_row(path, second_arm)
    proc = stage_effects(example)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
