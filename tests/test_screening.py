"""Screening: Covidence's rules, bad input, PRISMA counts, outputs, and the CLI."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from statsmodels.stats.inter_rater import cohens_kappa

from evsynth.cli import main
from evsynth.errors import InputError
from evsynth.records import import_searches, write_import
from evsynth.records.dedup import dedup_file
from evsynth.screening import prisma
from evsynth.screening.api import run_screening, write_screening
from evsynth.screening.decide import (
    CONFLICT,
    EXCLUDE,
    INCLUDE,
    PENDING,
    read_log,
    screen,
    stage_outcome,
)
from evsynth.screening.model import (
    DBR,
    FULL_TEXT,
    OTHER,
    TITLE_ABSTRACT,
    Decision,
    RecordSet,
    Settings,
)
from tests.conftest import REPO

CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text(encoding="utf-8"))
SETTINGS = Settings.from_config(CONFIG["screening"])
HEADER = ["record_id", "stage", "reviewer", "decision", "reason", "note", "timestamp"]


def vote(reviewer, decision, reason="", stage=TITLE_ABSTRACT, row=1):
    return Decision(row, "r1", "r1", stage, reviewer, decision, reason)


# --- Covidence's rules -------------------------------------------------------------


def test_maybe_counts_as_include_at_title_abstract():
    outcome = stage_outcome([vote("a", "maybe"), vote("b", "include")], None, 2)
    assert (outcome.status, outcome.decided_by) == (INCLUDE, "agreement")


def test_include_and_exclude_is_a_conflict():
    outcome = stage_outcome([vote("a", "maybe"), vote("b", "exclude")], None, 2)
    assert outcome.status == CONFLICT


def test_two_excludes_exclude():
    assert (
        stage_outcome([vote("a", "exclude"), vote("b", "exclude")], None, 2).status
        == EXCLUDE
    )


def test_one_decision_of_two_needed_is_pending():
    outcome = stage_outcome([vote("a", "include")], None, 2)
    assert (outcome.status, outcome.decided_by) == (
        PENDING,
        "awaiting 1 more decision(s)",
    )
    assert stage_outcome([vote("a", "include")], None, 1).status == INCLUDE


def test_full_text_excludes_with_different_reasons_conflict():
    a = vote("a", "exclude", "Wrong population", FULL_TEXT)
    b = vote("b", "exclude", "Wrong study design", FULL_TEXT)
    assert stage_outcome([a, b], None, 2).status == CONFLICT
    same = vote("b", "exclude", "Wrong population", FULL_TEXT)
    outcome = stage_outcome([a, same], None, 2)
    assert (outcome.status, outcome.reason) == (EXCLUDE, "Wrong population")


def test_resolver_ends_a_conflict():
    a = vote("a", "exclude", "Wrong population", FULL_TEXT)
    b = vote("b", "include", "", FULL_TEXT)
    resolution = vote("priya", "exclude", "Wrong study design", FULL_TEXT)
    outcome = stage_outcome([a, b], resolution, 2)
    assert (outcome.status, outcome.reason) == (EXCLUDE, "Wrong study design")
    assert outcome.decided_by == "resolver priya"


# --- the example review ---------------------------------------------------------


@pytest.fixture(scope="module")
def records_dir(tmp_path_factory) -> Path:
    """The records stage's outputs for the example review."""
    out = tmp_path_factory.mktemp("records")
    searches = REPO / "data/searches"
    imported = import_searches(searches / "searches.csv", searches)
    write_import(imported, out / "records.csv", out / "import_summary.csv")
    dedup_file(out / "records.csv", out)
    return out


@pytest.fixture
def review(tmp_path) -> Path:
    """A copy of the example review's screening files."""
    shutil.copytree(REPO / "data/screening", tmp_path / "screening")
    shutil.copy(REPO / "data/studies.csv", tmp_path / "studies.csv")
    return tmp_path


def run(records_dir: Path, review: Path, settings: Settings = SETTINGS):
    return run_screening(
        records_dir,
        settings,
        review / "screening/decisions.csv",
        review / "screening/retrieval.csv",
        review / "studies.csv",
    )


def boxes(counts) -> dict:
    """Every box of the diagram, lists made hashable."""
    return {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in counts.items()
        if not isinstance(v, dict)
    } | {
        f"in_progress.{c}.{s}": n
        for c, states in counts["in_progress"].items()
        for s, n in states.items()
    }


def test_example_counts_follow_from_the_data(records_dir, review):
    result = run(records_dir, review)
    c = result.counts
    unique = pd.read_csv(records_dir / "unique.csv", dtype=str)
    log = pd.read_csv(review / "screening/decisions.csv", dtype=str)
    assert (
        c["database_results"] + c["website_results"] + c["organisation_results"] == 220
    )
    assert c["duplicates_all"] == 220 - len(unique)
    assert c["n_unique"] == len(unique) == 139
    # each screened record's final title/abstract status, from the log directly
    latest = log.drop_duplicates(["record_id", "stage", "reviewer"], keep="last")
    ta = latest[latest["stage"] == TITLE_ABSTRACT]
    resolved = ta[ta["reviewer"] == "consensus"].set_index("record_id")["decision"]
    votes = ta[ta["reviewer"] != "consensus"].copy()
    votes["vote"] = votes["decision"].replace("maybe", "include")
    excluded = 0
    for record_id, group in votes.groupby("record_id"):
        final = resolved.get(record_id, group["vote"].iloc[0])
        excluded += final == "exclude"
    assert c["records_excluded"] == excluded
    retrieval = pd.read_csv(review / "screening/retrieval.csv", dtype=str)
    assert (
        c["dbr_notretrieved_reports"] + c["other_notretrieved_reports"]
        == (retrieval["retrieved"] == "no").sum()
    )
    studies = pd.read_csv(review / "studies.csv", dtype=str)
    assert c["new_reports"] == len(studies)
    assert c["new_studies"] == studies["study_id"].nunique()
    assert sum(c["in_progress"][DBR].values()) == 0  # the example is complete
    prisma.check_flow(c)


def test_agreement_kappa_equals_statsmodels_on_the_example(records_dir, review):
    result = run(records_dir, review)
    table = result.tables["agreement"]
    log = pd.read_csv(review / "screening/decisions.csv", dtype=str)
    latest = log.drop_duplicates(["record_id", "stage", "reviewer"], keep="last")
    for stage in (TITLE_ABSTRACT, FULL_TEXT):
        part = latest[latest["stage"] == stage]
        wide = part.pivot_table(
            index="record_id", columns="reviewer", values="decision", aggfunc="first"
        )
        wide = wide[["amira", "jonas"]].dropna().replace("maybe", "include")
        counts = pd.crosstab(wide["amira"], wide["jonas"]).reindex(
            index=["include", "exclude"], columns=["include", "exclude"], fill_value=0
        )
        expected = cohens_kappa(counts.to_numpy())
        row = table[(table["stage"] == stage) & (table["scale"] == "binary")].iloc[0]
        assert row["n"] == len(wide)
        assert row["kappa"] == pytest.approx(expected.kappa, abs=5e-7)
        assert row["kappa_low"] == pytest.approx(expected.kappa_low, abs=5e-7)
        assert row["kappa_high"] == pytest.approx(expected.kappa_upp, abs=5e-7)


def test_appending_one_decision_changes_exactly_the_right_boxes(records_dir, review):
    path = review / "screening/decisions.csv"
    log = pd.read_csv(path, dtype=str, keep_default_na=False)
    # a record both reviewers excluded at full text for the same reason
    ft = log[(log["stage"] == FULL_TEXT) & (log["decision"] == "exclude")]
    pairs = ft.groupby("record_id").filter(
        lambda g: len(g) == 2 and (g["reason"] == g["reason"].iloc[0]).all()
    )
    record = pairs["record_id"].iloc[0]
    reason = pairs["reason"].iloc[0]
    jonas = log[
        (log["record_id"] == record)
        & (log["stage"] == FULL_TEXT)
        & (log["reviewer"] == "jonas")
    ]
    removed = log.drop(index=jonas.index)
    removed.to_csv(path, index=False)
    before = boxes(run(records_dir, review).counts)
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            [record, FULL_TEXT, "jonas", "exclude", reason, "", "2023-09-30"]
        )
    after = boxes(run(records_dir, review).counts)
    changed = {k for k in before if before[k] != after[k]}
    column = (
        "dbr"
        if record.split(":")[0] != "hand_search_and_citation_chasing_endnote"
        else "other"
    )
    prefix = "dbr" if column == "dbr" else "other"
    progress = DBR if column == "dbr" else OTHER
    assert changed == {
        f"{prefix}_assessed",
        f"{prefix}_excluded",
        f"in_progress.{progress}.pending_full_text",
    }
    assert after[f"{prefix}_assessed"] == before[f"{prefix}_assessed"] + 1
    assert (
        dict(after[f"{prefix}_excluded"])[reason]
        == dict(before[f"{prefix}_excluded"]).get(reason, 0) + 1
    )
    assert after[f"in_progress.{progress}.pending_full_text"] == 0


def test_later_row_supersedes_earlier_and_history_is_kept(records_dir, review):
    path = review / "screening/decisions.csv"
    log = pd.read_csv(path, dtype=str, keep_default_na=False)
    included = log[(log["stage"] == FULL_TEXT) & (log["reviewer"] == "amira")]
    record = included[included["decision"] == "include"]["record_id"].iloc[0]
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            [record, FULL_TEXT, "amira", "exclude", "Wrong population", "", ""]
        )
    result = run(records_dir, review)
    assert result.screening.states[result.records.representative[record]] in {
        "conflict_full_text",
        "excluded_full_text",
    }
    audit = result.tables["audit"]
    rows = audit[
        (audit["record_id"] == result.records.representative[record])
        & (audit["stage"] == FULL_TEXT)
        & (audit["reviewer"] == "amira")
    ]
    assert len(rows) == 2
    assert rows.iloc[0]["superseded_by_row"] == len(log) + 1
    assert rows.iloc[1]["superseded_by_row"] == ""


def test_every_record_is_in_exactly_one_state(records_dir, review):
    result = run(records_dir, review)
    unique = pd.read_csv(records_dir / "unique.csv", dtype=str)
    assert sorted(result.screening.states) == sorted(unique["record_id"])
    final = result.tables["final_decisions"]
    assert final.groupby("record_id")["final_state"].nunique().max() == 1


def test_outputs_are_byte_identical_and_sheets_have_drop_downs(
    records_dir, review, tmp_path
):
    # a fresh review where screening is under way: sheets list what is left
    log = pd.read_csv(review / "screening/decisions.csv", dtype=str)
    log.iloc[:40].to_csv(review / "screening/decisions.csv", index=False)
    (review / "screening/retrieval.csv").unlink()
    (review / "studies.csv").unlink()
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        write_screening(run(records_dir, review), out, SETTINGS, title="Example")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) == 11 + 12
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    sheet = pd.read_csv(first / "sheets/amira_title_abstract.csv", dtype=str)
    decided = set(log.iloc[:40].query("reviewer == 'amira'")["record_id"])
    assert len(sheet) > 0
    assert not decided & set(sheet["record_id"])
    book = load_workbook(first / "sheets/amira_full_text.xlsx")
    formulas = [v.formula1 for v in book["to screen"].data_validations.dataValidation]
    assert formulas == ["=lists!$A$1:$A$2", "=lists!$B$1:$B$6"]
    lists = book["lists"]
    assert [lists.cell(i, 2).value for i in range(1, 7)] == list(SETTINGS.reasons)


# --- bad input ------------------------------------------------------------------


def rewrite(review: Path, index: int, **changes) -> None:
    path = review / "screening/decisions.csv"
    log = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column, value in changes.items():
        log.loc[index, column] = value
    log.to_csv(path, index=False)


def first_row(review: Path, **where) -> int:
    log = pd.read_csv(
        review / "screening/decisions.csv", dtype=str, keep_default_na=False
    )
    mask = pd.Series(True, index=log.index)
    for column, value in where.items():
        mask &= log[column] == value
    return int(log.index[mask][0])


@pytest.mark.parametrize(
    ("where", "change", "column", "message"),
    [
        ({}, {"record_id": "nosuch:id"}, "record_id", "unknown record 'nosuch:id'"),
        ({}, {"reviewer": "zoe"}, "reviewer", "unknown reviewer 'zoe'"),
        ({}, {"stage": "abstract"}, "stage", "invalid value 'abstract'"),
        ({}, {"decision": "yes"}, "decision", "invalid value 'yes'"),
        (
            {"stage": FULL_TEXT, "decision": "include"},
            {"decision": "maybe"},
            "decision",
            "'maybe' is not a full text decision",
        ),
        (
            {"stage": FULL_TEXT, "decision": "exclude"},
            {"reason": ""},
            "reason",
            "a full-text exclusion needs a reason",
        ),
        (
            {"stage": FULL_TEXT, "decision": "exclude"},
            {"reason": "Too long"},
            "reason",
            "reason 'Too long' is not in the config list",
        ),
        ({}, {"timestamp": "23/07/2023"}, "timestamp", "invalid value '23/07/2023'"),
    ],
)
def test_bad_decisions_name_file_row_and_column(
    records_dir, review, where, change, column, message
):
    index = first_row(review, **where)
    rewrite(review, index, **change)
    with pytest.raises(InputError) as caught:
        run(records_dir, review)
    text = str(caught.value)
    assert (
        f"decisions.csv, line {index + 2}, row {index + 1}, column '{column}'" in text
    )
    assert message in text


def test_full_text_decision_for_a_record_excluded_at_title_abstract(
    records_dir, review
):
    result = run(records_dir, review)
    excluded = next(
        r for r, s in result.screening.states.items() if s == "excluded_title_abstract"
    )
    path = review / "screening/decisions.csv"
    rows = len(pd.read_csv(path, dtype=str))
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            [excluded, FULL_TEXT, "amira", "include", "", "", ""]
        )
    with pytest.raises(InputError) as caught:
        run(records_dir, review)
    text = str(caught.value)
    assert f"line {rows + 2}, row {rows + 1}, column 'record_id'" in text
    assert "which is excluded at title/abstract" in text


def test_full_text_decision_for_a_record_not_retrieved(records_dir, review):
    retrieval = pd.read_csv(review / "screening/retrieval.csv", dtype=str)
    result = run(records_dir, review)
    assessed = next(r for r, s in result.screening.states.items() if s == "included")
    retrieval.loc[retrieval["record_id"] == assessed, "retrieved"] = "no"
    retrieval.to_csv(review / "screening/retrieval.csv", index=False)
    with pytest.raises(InputError, match="says was not retrieved"):
        run(records_dir, review)


def test_study_of_a_report_not_included_is_an_error(records_dir, review):
    result = run(records_dir, review)
    excluded = next(
        r for r, s in result.screening.states.items() if s == "excluded_full_text"
    )
    rows = len(pd.read_csv(review / "studies.csv"))
    with (review / "studies.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"extra,{excluded},main,,,,,\n")
    with pytest.raises(InputError) as caught:
        run(records_dir, review)
    where = f"studies.csv, line {rows + 2}, row {rows + 1}, column 'record_id'"
    assert where in str(caught.value)
    assert "not included at full text (it is excluded at full text)" in str(
        caught.value
    )


def test_too_few_reviewers_in_config():
    with pytest.raises(InputError, match="screening/reviewers"):
        Settings.from_config({"reviewers": ["amira"], "exclusion_reasons": ["x"]})


def test_cli_bad_input_exits_2_and_writes_nothing(
    records_dir, review, tmp_path, capsys
):
    rewrite(review, 3, reviewer="zoe")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        [
            "screening",
            str(review),
            "--out-dir",
            str(out),
            "--config",
            str(config),
            "--records-dir",
            str(records_dir),
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "unknown reviewer 'zoe'" in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.rglob("*"))


def test_cli_screening_and_prisma_from_the_template(records_dir, review, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    out = tmp_path / "out"
    args = ["screening", str(review), "--out-dir", str(out), "--config", str(config)]
    assert main([*args, "--records-dir", str(records_dir)]) == 0
    template = pd.read_csv(out / "prisma_counts.csv", dtype=str, keep_default_na=False)
    assert list(template.columns) == prisma.TEMPLATE_COLUMNS
    # the PRISMA2020 template round-trips to the same diagram
    counts = prisma.read_template(out / "prisma_counts.csv")
    direct = run(records_dir, review).counts
    for key in ("records_screened", "dbr_assessed", "new_studies", "duplicates"):
        assert counts[key] == direct[key]
    assert counts["dbr_excluded"] == direct["dbr_excluded"]
    assert counts["databases"] == direct["databases"]
    assert (
        main(
            ["prisma", str(out / "prisma_counts.csv"), "--out-dir", str(tmp_path / "p")]
        )
        == 0
    )
    assert (tmp_path / "p/prisma.svg").read_bytes() != b""


def test_check_flow_names_the_box_that_does_not_add_up(records_dir, review):
    counts = run(records_dir, review).counts
    n = counts["records_excluded"]
    broken = dict(counts, records_excluded=n + 1)
    message = (
        "'Reports sought for retrieval' in the databases and registers column "
        f"\\(dbr_sought_reports\\) does not follow from the boxes above it: {109 - n - 1} "
        f"!= {109 - n} \\(screened 109 − excluded {n + 1}"
    )
    with pytest.raises(prisma.FlowError, match=message):
        prisma.check_flow(broken)


# --- property: random decision logs always give boxes that add up --------------------

N_RECORDS = 12


def synthetic_records(other: int) -> RecordSet:
    ids = [f"r{i:02d}" for i in range(N_RECORDS)]
    unique = pd.DataFrame(
        {"record_id": ids, "cluster_id": ids, "title": [f"Title {i}" for i in ids]}
    )
    column = {i: OTHER if n < other else DBR for n, i in enumerate(ids)}
    # three more database records, each a duplicate of a database record
    copies = {f"d{k}": ids[other + k] for k in range(3)}
    return RecordSet(
        unique=unique,
        representative={i: i for i in ids} | copies,
        column=column,
        identified={
            "database": [("DB", N_RECORDS - other + 3)],
            "website": [("Web", other)] if other else [],
        },
        n_imported=N_RECORDS + 3,
        kind={i: "website" if column[i] == OTHER else "database" for i in ids}
        | dict.fromkeys(copies, "database"),
    )


def write_log(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


decision_word = st.sampled_from(["include", "exclude", "maybe"])
reason_word = st.sampled_from(["Wrong population", "Wrong study design"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    other=st.integers(0, 4),
    ta=st.lists(
        st.tuples(
            st.integers(0, N_RECORDS - 1),
            st.sampled_from(["a", "b", "c", "consensus"]),
            decision_word,
        ),
        max_size=40,
    ),
    ft=st.lists(
        st.tuples(
            st.integers(0, N_RECORDS - 1),
            st.sampled_from(["a", "b", "c", "consensus"]),
            st.sampled_from(["include", "exclude"]),
            reason_word,
        ),
        max_size=30,
    ),
    not_retrieved=st.sets(st.integers(0, N_RECORDS - 1), max_size=3),
    needed=st.sampled_from([1, 2]),
)
def test_random_logs_give_boxes_that_add_up(
    tmp_path, other, ta, ft, not_retrieved, needed
):
    settings_ = Settings(
        ("a", "b", "c"),
        ("consensus",),
        {TITLE_ABSTRACT: needed, FULL_TEXT: needed},
        ("Wrong population", "Wrong study design"),
    )
    records = synthetic_records(other)
    rows = [
        [f"r{i:02d}", TITLE_ABSTRACT, who, word, "", "", ""]
        for i, who, word in ta
        if records.column[f"r{i:02d}"] == DBR
    ]
    path = tmp_path / "decisions.csv"
    write_log(path, rows)
    first = screen(records, settings_, read_log(path, records, settings_), {})
    passed = {r for r, s in first.states.items() if not s.endswith("title_abstract")}
    retrieval = {f"r{i:02d}": ("no", 1) for i in not_retrieved if f"r{i:02d}" in passed}
    rows += [
        [f"r{i:02d}", FULL_TEXT, who, word, reason if word == "exclude" else "", "", ""]
        for i, who, word, reason in ft
        if f"r{i:02d}" in passed and f"r{i:02d}" not in retrieval
    ]
    write_log(path, rows)
    result = screen(records, settings_, read_log(path, records, settings_), retrieval)
    studies = prisma.StudyMap(
        {r: r for r, s in result.states.items() if s == "included"}, []
    )
    counts = prisma.flow_counts(records, result, studies, settings_)
    prisma.check_flow(counts)
    assert sum(counts["states"].values()) == N_RECORDS
    assert (
        counts["records_screened"]
        + sum(
            counts["in_progress"][DBR][s]
            for s in ("pending_title_abstract", "conflict_title_abstract")
        )
        == N_RECORDS - other
    )
    assert counts["new_reports"] == sum(s == "included" for s in result.states.values())


def test_diagram_notes_the_records_still_in_progress(records_dir, review):
    path = review / "screening/decisions.csv"
    log = pd.read_csv(path, dtype=str)
    log.iloc[:150].to_csv(path, index=False)
    (review / "screening/retrieval.csv").unlink()
    (review / "studies.csv").unlink()
    counts = run(records_dir, review).counts
    progress = counts["in_progress"][DBR]
    notes = prisma.flow_from_counts(counts).notes
    assert notes[0].startswith("Screening in progress (databases and registers): ")
    assert f"{progress['pending_title_abstract']} awaiting title/abstract" in notes[0]
    assert notes[1] == (
        f"Screening in progress (other methods): {counts['unique_records'][OTHER]} "
        "awaiting full-text retrieval."
    )
    finished = run(records_dir, REPO / "data").counts
    assert prisma.flow_from_counts(finished).notes == []
