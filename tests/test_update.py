"""A living-review update: the example's round 1 keeps every earlier id and reports what changed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from evsynth.history.changes import update_flow
from tests.conftest import REPO, evsynth

pytestmark = pytest.mark.workflow


def _git_status() -> str:
    proc = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else "(not a git checkout)"


def _apply(script, review) -> subprocess.CompletedProcess[str]:
    """Run an update round's apply.py on a review folder."""
    return subprocess.run(
        [sys.executable, str(script), str(review)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_update_round_keeps_ids_and_reports_changes(tmp_path):
    """The README's tour in a copy of the example: run, apply round 1, run again.

    Everything happens in the copy: the repository's files are untouched.
    """
    status_before = _git_status()
    review = tmp_path / "example"
    made = evsynth("init", "--example", str(review))
    assert made.returncode == 0, made.stderr
    assert (review / "data/updates/round_1/apply.py").is_file()
    run = evsynth("run", "--cores", "2", str(review))
    assert run.returncode == 0, run.stderr[-3000:]
    results = review / "results"
    records = pd.read_csv(results / "records/records.csv", dtype=str)
    clusters = pd.read_csv(results / "records/clusters.csv", dtype=str)
    decisions = pd.read_csv(results / "screening/final_decisions.csv", dtype=str)
    effects = pd.read_csv(results / "effects/effects.csv")
    grade_0 = _read_certainty(results / "grade/certainty.csv")
    assert (results / "history/round_0/meta.json").is_file()
    assert not (results / "changes").exists()
    # the round's script refuses the repository's own example, changing nothing
    refused = _apply(REPO / "data/updates/round_1/apply.py", REPO)
    assert refused.returncode == 2
    assert "evsynth init --example" in refused.stderr
    assert "Traceback" not in refused.stderr

    apply = _apply(review / "data/updates/round_1/apply.py", review)
    assert apply.returncode == 0, apply.stderr
    again = _apply(review / "data/updates/round_1/apply.py", review)
    assert again.returncode == 2
    assert "applied before" in again.stderr
    # the team judges wellbeing's imprecision again with the update
    with (review / "data/grade.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "wellbeing,imprecision,very_serious,The CI still spans no effect and a "
            "moderate benefit with few participants,amira,2024-09-02\n"
        )
    # run inside the review folder, with no folder named
    proc = evsynth("run", "--cores", "2", cwd=review)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _git_status() == status_before

    after = pd.read_csv(results / "records/records.csv", dtype=str)
    same = after.set_index("record_id").loc[records["record_id"]]
    assert list(same["source_file"]) == list(records["source_file"])
    assert list(same["source_row"]) == list(records["source_row"])
    new_clusters = pd.read_csv(results / "records/clusters.csv", dtype=str)
    kept = new_clusters.set_index("record_id").loc[clusters["record_id"], "cluster_id"]
    assert list(kept) == list(clusters["cluster_id"])
    new_decisions = pd.read_csv(results / "screening/final_decisions.csv", dtype=str)
    key = ["record_id", "stage"]
    merged = decisions.merge(new_decisions, on=key, suffixes=("", "_new"))
    assert len(merged) == len(decisions)
    assert (merged["status"] == merged["status_new"]).all()
    new_effects = pd.read_csv(results / "effects/effects.csv")
    ids = ["study_id", "outcome", "domain", "timepoint", "comparison"]
    both = effects.merge(new_effects, on=ids, suffixes=("", "_new"))
    assert len(both) == len(effects)
    assert (both["yi"] == both["yi_new"]).all()

    summary = json.loads((results / "changes/summary.json").read_text())
    manifest = pd.read_csv(review / "data/updates/round_1/searches_rows.csv")
    assert summary["records_added"] == manifest["n_reported"].sum()
    assert summary["included_new"] == 1
    assert summary["effects_added"] == 2
    assert summary["decision_changed"] == 0
    pooled = pd.read_csv(results / "changes/pooled_changes.csv").set_index("analysis")
    assert (
        pooled.loc["mental_health", "k_new"] == pooled.loc["mental_health", "k_old"] + 1
    )
    living = pd.read_csv(results / "changes/living_prisma.csv").set_index("data")
    assert (
        int(living.loc["database_results", "round_1"]) == manifest["n_reported"].sum()
    )
    _check_update_flow(results / "history", living, tmp_path / "edited")
    _check_certainty_changes(
        grade_0, _read_certainty(results / "grade/certainty.csv"), results
    )
    assert (results / "report/index.html").read_text(encoding="utf-8").count(
        "round 1"
    ) > 0
    dry = evsynth("run", str(review), "--", "--dry-run")
    assert "Nothing to be done" in dry.stdout + dry.stderr
    changes = evsynth("changes", str(review))
    assert changes.returncode == 0, changes.stderr
    assert "changes from round 0 to round 1" in changes.stdout


#: GRADE's levels, lowest first (the GRADE Handbook, section 5).
_LEVELS = ["very low", "low", "moderate", "high"]


def _read_certainty(path):
    """results/grade/certainty.csv as {analysis: (certainty, provisional, ratings)}."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = {}
    for analysis, rows in table.groupby("analysis", sort=False):
        assert len(set(rows["certainty"])) == len(set(rows["provisional"])) == 1
        out[analysis] = (
            rows["certainty"].iloc[0],
            rows["provisional"].iloc[0],
            dict(zip(rows["domain"], rows["rating"], strict=True)),
        )
    return out


def _check_certainty_changes(before, after, results):
    """certainty_changes.csv agrees with the two rounds' results/grade/certainty.csv."""
    # the judgement added in round 1: high, -1 risk of bias, -2 imprecision
    assert before["wellbeing"][0] == "low"
    assert before["wellbeing"][2]["imprecision"] == "serious"
    assert after["wellbeing"][0] == "very low"
    table = pd.read_csv(
        results / "changes/certainty_changes.csv", dtype=str, keep_default_na=False
    ).set_index("analysis")
    assert list(table.index) == list(after)
    assert set(before) == set(after)
    for name, (word, provisional, ratings) in after.items():
        old_word, old_provisional, old_ratings = before[name]
        row = table.loc[name]
        changed = [d for d in old_ratings if old_ratings[d] != ratings[d]]
        level_change = _LEVELS.index(word) - _LEVELS.index(old_word)
        assert (row["certainty_old"], row["certainty_new"]) == (old_word, word), name
        assert (row["provisional_old"], row["provisional_new"]) == (
            old_provisional,
            provisional,
        )
        assert int(row["level_new"]) == _LEVELS.index(word) + 1
        assert int(row["level_change"]) == level_change
        assert row["domains_changed"] == "; ".join(changed)
        assert row["domain_changes"] == "; ".join(
            f"{d}: {old_ratings[d]} → {ratings[d]}" for d in changed
        )
        same = not changed and not level_change and provisional == old_provisional
        assert row["status"] == ("unchanged" if same else "changed"), name
    assert table.loc["wellbeing", "domains_changed"] == "imprecision"
    assert table.loc["wellbeing", "level_change"] == "-1"
    assert (table["status"] == "changed").sum() == 1
    summary = json.loads((results / "changes/summary.json").read_text())
    assert summary["certainty"]["level_down"] == 1
    assert summary["certainty"]["unchanged"] == len(after) - 1
    page = (results / "changes/changes.md").read_text(encoding="utf-8")
    assert (
        "- Wellbeing and quality of life: low → very low "
        "(imprecision: serious → very serious)."
    ) in page.split("\n")


#: Additive PRISMA boxes of the update diagram and the flow's field for each.
_BOXES = {
    "duplicates": "duplicates",
    "records_screened": "records_screened",
    "records_excluded": "records_excluded",
    "dbr_sought_reports": "dbr_sought_reports",
    "dbr_notretrieved_reports": "dbr_notretrieved_reports",
    "dbr_assessed": "dbr_assessed",
    "other_sought_reports": "other_sought_reports",
    "other_assessed": "other_assessed",
    "new_studies": "new_studies",
    "new_reports": "new_reports",
}


def _check_update_flow(history, living, edited):
    """The update diagram follows round 1's records; with no earlier decision
    changed it equals the difference of the cumulative counts, and a changed
    earlier decision no longer stops it, but is noted."""
    flow = update_flow(history)
    assert flow.previous
    assert "follow the records of round 1's searches" in flow.notes[0]
    for key, attribute in _BOXES.items():
        assert getattr(flow, attribute) == int(living.loc[key, "round_1"]), key
    assert sum(n for _, n in flow.databases) == int(
        living.loc["database_results", "round_1"]
    )

    # an earlier report that was not retrieved is found and excluded in round 1
    shutil.copytree(history, edited)
    path = edited / "round_1" / "decisions.csv"
    decisions = pd.read_csv(path, dtype=str, keep_default_na=False)
    before = pd.read_csv(edited / "round_0" / "decisions.csv", dtype=str)
    earlier = before.loc[before["final_state"] == "not_retrieved", "record_id"].iloc[0]
    decisions.loc[decisions["record_id"] == earlier, "final_state"] = (
        "excluded_full_text"
    )
    decisions.to_csv(path, index=False)
    changed = update_flow(edited)
    assert changed.previous
    for key, attribute in _BOXES.items():
        assert getattr(changed, attribute) == getattr(flow, attribute), key
    assert "In this round a decision on 1 earlier record changed" in changed.notes[0]
    assert "the totals include them." in changed.notes[0]

    # an earlier report still awaiting its full-text decision at round 0 is
    # included in round 1: previous + new no longer add up to the totals
    path = edited / "round_0" / "decisions.csv"
    first = pd.read_csv(path, dtype=str, keep_default_na=False)
    included = first.loc[first["final_state"] == "included", "record_id"].iloc[0]
    first.loc[first["record_id"] == included, "final_state"] = "pending_full_text"
    first.to_csv(path, index=False)
    counts_path = edited / "round_0" / "prisma.json"
    counts = json.loads(counts_path.read_text(encoding="utf-8"))
    counts["total_reports"] -= 1
    counts_path.write_text(json.dumps(counts), encoding="utf-8")
    moved = update_flow(edited)
    assert moved.new_reports == flow.new_reports
    assert "1 earlier record still in screening at round 0 moved on" in moved.notes[0]
    assert "differ from them." in moved.notes[0]
