"""Living-review history: the certainty of the evidence (GRADE) across rounds.

Each snapshot keeps a compact certainty.csv (one row per analysis); the change
report compares two rounds' (certainty_changes.csv, summary.json, changes.md).
The GRADE tables here are written by hand in the layout of
results/grade/certainty.csv, and every expected value is worked out by hand
from them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from evsynth.errors import InputError
from evsynth.grade import api as grade_api
from evsynth.grade import rules as grade_rules
from evsynth.history.changes import (
    CERTAINTY_CHANGE_COLUMNS,
    compare_rounds,
    write_changes,
)
from evsynth.history.snapshot import (
    CERTAINTY_COLUMNS,
    CERTAINTY_DOMAINS,
    CERTAINTY_LEVELS,
    certainty_table,
    read_snapshot,
    take_snapshot,
)
from tests.test_history import make_results

DOMAINS = (
    "start",
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
    "large_effect",
    "dose_response",
)
NA = "not_applicable"

# analysis -> (label, certainty, provisional, ratings in DOMAINS order)
# mental health: high, -1 risk of bias = moderate; round 1 adds serious
# imprecision: low. Wellbeing: high -1 -1 = low; round 1: risk of bias no,
# imprecision very serious: high -2 = low again. Loneliness: the same in both
# rounds. Self-determination is rated in round 0 only, education in round 1
# only (non-randomised, starts low, large effect not yet judged: provisional).
GRADE_0 = {
    "mental_health": (
        "Mental health",
        "moderate",
        "no",
        ("high", "serious", "no", "no", "no", "no", NA, NA),
    ),
    "wellbeing": (
        "Wellbeing",
        "low",
        "no",
        ("high", "serious", "no", "no", "serious", "not_assessable", NA, NA),
    ),
    "loneliness": (
        "Loneliness",
        "low",
        "no",
        ("high", "serious", "serious", "no", "no", "not_assessable", NA, NA),
    ),
    "self_determination": (
        "Self-determination",
        "very low",
        "no",
        ("high", "serious", "no", "no", "very_serious", "not_assessable", NA, NA),
    ),
}
GRADE_1 = {
    "mental_health": (
        "Mental health",
        "low",
        "no",
        ("high", "serious", "no", "no", "serious", "no", NA, NA),
    ),
    "wellbeing": (
        "Wellbeing",
        "low",
        "no",
        ("high", "no", "no", "no", "very_serious", "not_assessable", NA, NA),
    ),
    "loneliness": GRADE_0["loneliness"],
    "education": (
        "School outcomes",
        "low",
        "yes",
        ("low", "no", "no", "no", "no", "not_assessable", "not_judged", "no"),
    ),
}


def write_grade(results: Path, grade: dict[str, tuple]) -> Path:
    """Write results/grade/certainty.csv as the GRADE stage lays it out."""
    path = results / "grade" / "certainty.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=grade_api.CERTAINTY_COLUMNS, lineterminator="\n"
        )
        writer.writeheader()
        for analysis, (label, certainty, provisional, ratings) in grade.items():
            for domain, rating in zip(DOMAINS, ratings, strict=True):
                writer.writerow(
                    {
                        **dict.fromkeys(grade_api.CERTAINTY_COLUMNS, ""),
                        "analysis": analysis,
                        "outcome": label,
                        "domain": domain,
                        "proposal": rating,
                        "numbers": "{}",
                        "rating": rating,
                        "change": "0",
                        "overridden": "no",
                        "certainty": certainty,
                        "provisional": provisional,
                    }
                )
    return path


@pytest.fixture
def graded(tmp_path: Path) -> Path:
    """Snapshots of rounds 0 and 1 whose results include the GRADE stage."""
    hist = tmp_path / "history"
    for round_no, grade in ((0, GRADE_0), (1, GRADE_1)):
        results = make_results(tmp_path / f"run{round_no}", round_no)
        write_grade(results, grade)
        take_snapshot(results, hist, round_no)
    return hist


# --- the snapshot's certainty.csv ---------------------------------------------


def test_constants_match_the_grade_stage() -> None:
    assert CERTAINTY_LEVELS == grade_rules.LEVELS
    assert CERTAINTY_DOMAINS == grade_rules.DOMAINS == DOMAINS
    needed = {"analysis", "outcome", "domain", "rating", "certainty", "provisional"}
    assert needed <= set(grade_api.CERTAINTY_COLUMNS)


def test_snapshot_certainty_csv(graded: Path) -> None:
    text = (graded / "round_1" / "certainty.csv").read_text(encoding="utf-8")
    assert text.splitlines() == [
        (
            "analysis,label,certainty,level,provisional,start,risk_of_bias,"
            "inconsistency,indirectness,imprecision,publication_bias,large_effect,"
            "dose_response"
        ),
        (
            "mental_health,Mental health,low,2,no,high,serious,no,no,serious,no,"
            "not_applicable,not_applicable"
        ),
        (
            "wellbeing,Wellbeing,low,2,no,high,no,no,no,very_serious,not_assessable,"
            "not_applicable,not_applicable"
        ),
        (
            "loneliness,Loneliness,low,2,no,high,serious,serious,no,no,not_assessable,"
            "not_applicable,not_applicable"
        ),
        (
            "education,School outcomes,low,2,yes,low,no,no,no,no,not_assessable,"
            "not_judged,no"
        ),
    ]
    meta = json.loads((graded / "round_1" / "meta.json").read_text(encoding="utf-8"))
    assert meta["files"]["certainty.csv"] == ["grade/certainty.csv"]
    assert "grade/certainty.csv" not in meta["missing"]
    snap = read_snapshot(graded, 0)
    assert snap.certainty is not None
    assert list(snap.certainty.columns) == CERTAINTY_COLUMNS
    assert snap.certainty.set_index("analysis")["level"].to_dict() == {
        "mental_health": "3",
        "wellbeing": "2",
        "loneliness": "2",
        "self_determination": "1",
    }


def test_snapshot_certainty_is_byte_identical(tmp_path: Path) -> None:
    results = make_results(tmp_path / "run", 1)
    write_grade(results, GRADE_1)
    take_snapshot(results, tmp_path / "h1", 1)
    take_snapshot(results, tmp_path / "h2", 1)
    first = (tmp_path / "h1" / "round_1" / "certainty.csv").read_bytes()
    assert (tmp_path / "h2" / "round_1" / "certainty.csv").read_bytes() == first


def test_certainty_table_refuses_what_does_not_fit(tmp_path: Path) -> None:
    results = tmp_path / "results"
    path = write_grade(results, {"mental_health": GRADE_0["mental_health"]})
    lines = path.read_text(encoding="utf-8").splitlines()

    def refused(edit: list[str], match: str) -> None:
        path.write_text("\n".join(edit) + "\n", encoding="utf-8")
        with pytest.raises(InputError, match=match):
            certainty_table(path)

    # line 3 is the second data row (risk of bias)
    refused(
        [*lines[:2], lines[2].replace(",moderate,", ",fair,"), *lines[3:]],
        r"line 3.*row 2, column 'certainty'.*'fair' is not a GRADE level",
    )
    refused(
        [*lines[:2], lines[2].replace(",moderate,", ",low,"), *lines[3:]],
        r"row 2, column 'certainty'.*'low' of analysis 'mental_health' differs",
    )
    refused(
        [*lines[:2], lines[2].replace(",risk_of_bias,", ",bias,"), *lines[3:]],
        r"row 2, column 'domain'.*'bias' is not a GRADE domain",
    )
    refused(
        [*lines[:3], lines[2]],
        r"line 4.*row 3, column 'domain'.*rates risk_of_bias twice",
    )
    refused(
        [*lines[:2], lines[2].rsplit(",", 1)[0] + ",yes", *lines[3:]],
        r"row 2, column 'provisional'.*'yes' of analysis 'mental_health' differs",
    )
    header = lines[0].replace("certainty,provisional", "level,provisional")
    refused([header, *lines[1:]], "missing column 'certainty'")
    # the GRADE stage has not run: no rows
    assert certainty_table(tmp_path / "none.csv").columns.tolist() == CERTAINTY_COLUMNS
    assert certainty_table(tmp_path / "none.csv").empty


# --- the comparison -------------------------------------------------------------


def _rows(frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    out = {}
    for row in frame.to_dict(orient="records"):
        out[row["analysis"]] = {
            k: (None if not isinstance(v, str) and pd.isna(v) else v)
            for k, v in row.items()
        }
    return out


def test_certainty_changes(graded: Path) -> None:
    table = compare_rounds(graded, 0, 1).certainty
    assert list(table.columns) == CERTAINTY_CHANGE_COLUMNS
    # round 1's analyses in their order, then the one only in round 0
    assert table["analysis"].tolist() == [
        "mental_health",
        "wellbeing",
        "loneliness",
        "education",
        "self_determination",
    ]
    rows = _rows(table)
    # a level change: moderate (3) to low (2), one domain
    assert rows["mental_health"] == {
        "analysis": "mental_health",
        "label": "Mental health",
        "status": "changed",
        "certainty_old": "moderate",
        "certainty_new": "low",
        "level_old": 3,
        "level_new": 2,
        "level_change": -1,
        "provisional_old": "no",
        "provisional_new": "no",
        "domains_changed": "imprecision",
        "domain_changes": "imprecision: no → serious",
    }
    # two domains changed, the level did not (4 - 1 - 1 = 4 - 0 - 2 = 2)
    assert rows["wellbeing"]["status"] == "changed"
    assert rows["wellbeing"]["level_change"] == 0
    assert rows["wellbeing"]["domains_changed"] == "risk_of_bias; imprecision"
    assert rows["wellbeing"]["domain_changes"] == (
        "risk_of_bias: serious → no; imprecision: serious → very_serious"
    )
    assert rows["loneliness"]["status"] == "unchanged"
    assert rows["loneliness"]["level_change"] == 0
    assert rows["loneliness"]["domains_changed"] == ""
    # new in round 1: nothing to compare with
    assert rows["education"] == {
        "analysis": "education",
        "label": "School outcomes",
        "status": "added",
        "certainty_old": None,
        "certainty_new": "low",
        "level_old": None,
        "level_new": 2,
        "level_change": None,
        "provisional_old": None,
        "provisional_new": "yes",
        "domains_changed": "",
        "domain_changes": "",
    }
    assert rows["self_determination"]["status"] == "removed"
    assert rows["self_determination"]["level_old"] == 1
    assert rows["self_determination"]["certainty_new"] is None


def test_provisional_change_alone_is_a_change(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    label, word, _, ratings = GRADE_0["loneliness"]
    for round_no, provisional in ((0, "yes"), (1, "no")):
        results = make_results(tmp_path / f"run{round_no}", round_no)
        write_grade(results, {"loneliness": (label, word, provisional, ratings)})
        take_snapshot(results, hist, round_no)
    changes = compare_rounds(hist, 0, 1)
    row = changes.certainty.iloc[0]
    assert (row["status"], row["level_change"], row["domains_changed"]) == (
        "changed",
        0,
        "",
    )
    write_changes(changes, tmp_path / "out", old=0, new=1)
    page = (tmp_path / "out" / "changes.md").read_text(encoding="utf-8")
    assert "- Loneliness: low, level unchanged (provisional: yes → no)." in page.split(
        "\n"
    )


def test_certainty_summary(graded: Path) -> None:
    summary = compare_rounds(graded, 0, 1).summary
    assert summary["certainty"] == {
        "recorded": {"old": True, "new": True},
        "analyses": {"old": 4, "new": 4},
        "changed": 2,
        "unchanged": 1,
        "added": 1,
        "removed": 1,
        "not_recorded": 0,
        "level_down": 1,
        "level_up": 0,
        "changes": [
            {
                "analysis": "mental_health",
                "label": "Mental health",
                "status": "changed",
                "certainty": {"old": "moderate", "new": "low"},
                "level_change": -1,
                "provisional": {"old": "no", "new": "no"},
                "domains": [{"domain": "imprecision", "old": "no", "new": "serious"}],
            },
            {
                "analysis": "wellbeing",
                "label": "Wellbeing",
                "status": "changed",
                "certainty": {"old": "low", "new": "low"},
                "level_change": 0,
                "provisional": {"old": "no", "new": "no"},
                "domains": [
                    {"domain": "risk_of_bias", "old": "serious", "new": "no"},
                    {"domain": "imprecision", "old": "serious", "new": "very_serious"},
                ],
            },
            {
                "analysis": "education",
                "label": "School outcomes",
                "status": "added",
                "certainty": {"old": None, "new": "low"},
                "level_change": None,
                "provisional": {"old": None, "new": "yes"},
                "domains": [],
            },
            {
                "analysis": "self_determination",
                "label": "Self-determination",
                "status": "removed",
                "certainty": {"old": "very low", "new": None},
                "level_change": None,
                "provisional": {"old": "no", "new": None},
                "domains": [],
            },
        ],
    }
    # the earlier keys are all still there
    assert summary["analyses_changed"] == 1 and summary["effects_added"] == 2


def test_write_changes_certainty(graded: Path, tmp_path: Path) -> None:
    out = tmp_path / "changes"
    changes = compare_rounds(graded, 0, 1)
    written = write_changes(
        changes, out, old=0, new=1, labels={"wellbeing": "Wellbeing and QoL"}
    )
    assert out / "certainty_changes.csv" in written
    table = pd.read_csv(out / "certainty_changes.csv", keep_default_na=False)
    assert table.columns.tolist() == CERTAINTY_CHANGE_COLUMNS
    assert table["label"].tolist() == [
        "Mental health",
        "Wellbeing and QoL",  # the config's label wins
        "Loneliness",
        "School outcomes",
        "Self-determination",
    ]
    assert table["level_change"].tolist() == ["-1", "0", "0", "", ""]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["certainty"]["level_down"] == 1
    lines = (out / "changes.md").read_text(encoding="utf-8").split("\n")
    assert (
        "- Certainty of the evidence (GRADE): 2 analyses changed (1 to a lower "
        "level, 0 to a higher), 1 rated for the first time, 1 no longer rated, "
        "1 unchanged."
    ) in lines
    start = lines.index("## Certainty of the evidence")
    end = lines.index("## Records added")
    assert lines[start:end] == [
        "## Certainty of the evidence",
        "",
        "- Mental health: moderate → low (imprecision: no → serious).",
        (
            "- Wellbeing and QoL: low, level unchanged (risk of bias: serious → no; "
            "imprecision: serious → very serious)."
        ),
        "- School outcomes: rated for the first time in round 1: low (provisional).",
        "- Self-determination: not rated in round 1 (round 0: very low).",
        "",
        "Unchanged since round 0: Loneliness (low).",
        "",
    ]


def test_old_snapshot_without_certainty(graded: Path, tmp_path: Path) -> None:
    """A snapshot taken before snapshots recorded certainty reads as none recorded."""
    (graded / "round_0" / "certainty.csv").unlink()
    assert read_snapshot(graded, 0).certainty is None
    changes = compare_rounds(graded, 0, 1)
    table = changes.certainty
    assert table["status"].tolist() == ["not_recorded"] * 4
    assert table["certainty_old"].isna().all()
    assert table["certainty_new"].tolist() == ["low"] * 4
    assert table["level_change"].isna().all()
    assert changes.summary["certainty"]["recorded"] == {"old": False, "new": True}
    assert changes.summary["certainty"]["analyses"] == {"old": None, "new": 4}
    assert changes.summary["certainty"]["not_recorded"] == 4
    assert changes.summary["certainty"]["changes"] == []
    # everything else is compared as before
    assert changes.summary["analyses_changed"] == 1
    write_changes(changes, tmp_path / "out", old=0, new=1)
    lines = (tmp_path / "out" / "changes.md").read_text(encoding="utf-8").split("\n")
    assert (
        "- Certainty of the evidence (GRADE): not recorded in round 0's snapshot "
        "(taken before snapshots recorded it); round 1's is listed below without "
        "a comparison."
    ) in lines
    assert "- Mental health: low in round 1." in lines

    # neither round recorded it: an empty table and a line saying so
    (graded / "round_1" / "certainty.csv").unlink()
    neither = compare_rounds(graded, 0, 1)
    assert neither.certainty.empty
    assert list(neither.certainty.columns) == CERTAINTY_CHANGE_COLUMNS
    write_changes(neither, tmp_path / "out2", old=0, new=1)
    text = (tmp_path / "out2" / "changes.md").read_text(encoding="utf-8")
    assert "not recorded in either round's snapshot." in text
    assert (tmp_path / "out2" / "certainty_changes.csv").read_text() == (
        ",".join(CERTAINTY_CHANGE_COLUMNS) + "\n"
    )


def test_nothing_changed(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    for round_no in (0, 1):
        results = make_results(tmp_path / f"run{round_no}", round_no)
        write_grade(results, {"loneliness": GRADE_0["loneliness"]})
        take_snapshot(results, hist, round_no)
    changes = compare_rounds(hist, 0, 1)
    assert changes.certainty["status"].tolist() == ["unchanged"]
    assert changes.summary["certainty"]["changes"] == []
    write_changes(changes, tmp_path / "out", old=0, new=1)
    lines = (tmp_path / "out" / "changes.md").read_text(encoding="utf-8").split("\n")
    assert (
        "- Certainty of the evidence (GRADE): 0 analyses changed, 0 rated for the "
        "first time, 0 no longer rated, 1 unchanged."
    ) in lines
    assert "Unchanged since round 0: Loneliness (low)." in lines
