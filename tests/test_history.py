"""Living-review history: round snapshots, change reports and the living PRISMA flow."""

from __future__ import annotations

import copy
import csv
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evsynth import __version__
from evsynth.errors import EvsynthError, InputError
from evsynth.history.changes import (
    CHANGE_FILES,
    compare_rounds,
    estimates_figure,
    living_prisma,
    update_flow,
    write_changes,
    write_living_prisma,
)
from evsynth.history.snapshot import (
    SNAPSHOT_FILES,
    HistoryError,
    current_round,
    list_rounds,
    read_snapshot,
    take_snapshot,
)
from evsynth.screening.prisma import TEMPLATE, check_flow

# --- fake results ---------------------------------------------------------------

RECORD_HEADER = ["record_id", "source_file", "database", "update", "title"]
# record_id, update, cluster, kept
RECORDS_0 = [
    ("r1", 0, "c1", True),
    ("r2", 0, "c1", False),
    ("r3", 0, "c3", True),
    ("r4", 0, "c4", True),
    ("r5", 0, "c5", True),
]
RECORDS_1 = [
    *RECORDS_0,
    ("r6", 1, "c1", False),  # duplicate of r1 (round 0)
    ("r7", 1, "c7", True),  # new unique
    ("r8", 1, "c7", False),  # duplicate of r7 (same round)
    ("r9", 1, "c9", True),  # new unique
    ("r10", 1, "c3", False),  # duplicate of r3 (round 0)
]

DECISION_HEADER = [
    "record_id",
    "stage",
    "status",
    "reason",
    "decided_by",
    "votes",
    "n_votes",
    "resolution",
    "final_state",
    "prisma_column",
    "study_id",
    "title",
]
# record_id, [(stage, status, reason)], final_state
DECISIONS_0 = [
    (
        "r1",
        [("title_abstract", "include", ""), ("full_text", "include", "")],
        "included",
    ),
    (
        "r3",
        [
            ("title_abstract", "include", ""),
            ("full_text", "exclude", "Wrong population"),
        ],
        "excluded_full_text",
    ),
    ("r4", [("title_abstract", "exclude", "")], "excluded_title_abstract"),
    ("r5", [("title_abstract", "include", "")], "pending_full_text"),
]
DECISIONS_1 = [
    DECISIONS_0[0],
    (
        "r3",
        [("title_abstract", "include", ""), ("full_text", "include", "")],
        "included",
    ),
    DECISIONS_0[2],
    (
        "r5",
        [("title_abstract", "include", ""), ("full_text", "include", "")],
        "included",
    ),
    (
        "r7",
        [("title_abstract", "include", ""), ("full_text", "include", "")],
        "included",
    ),
    (
        "r9",
        [("title_abstract", "exclude", "Not about mentoring")],
        "excluded_title_abstract",
    ),
]

EFFECT_HEADER = [
    "study_id",
    "outcome",
    "domain",
    "timepoint",
    "months",
    "comparison",
    "source_row",
    "measure",
    "yi",
    "vi",
    "se",
    "ci_lb",
    "ci_ub",
    "input_set",
    "method",
    "notes",
]
BASE_EFFECTS = {
    ("s1", "Depression", "mental_health", "post", "main"): ("0.5", "0.04"),
    ("s1", "Self-esteem", "wellbeing", "post", "main"): ("0.3", "0.05"),
    ("s2", "Depression", "mental_health", "post", "main"): ("0.2", "0.03"),
    ("s3", "Anxiety", "mental_health", "12m", "main"): ("0.1", "0.02"),
}
EFFECTS_0 = dict(BASE_EFFECTS)
EFFECTS_1 = {
    ("s1", "Depression", "mental_health", "post", "main"): ("0.55", "0.04"),
    ("s1", "Self-esteem", "wellbeing", "post", "main"): ("0.3", "0.06"),
    # a difference far below the tolerance: not a change
    ("s3", "Anxiety", "mental_health", "12m", "main"): (
        "0.1",
        repr(0.02 * (1 + 1e-15)),
    ),
    ("s4", "Depression", "mental_health", "post", "main"): ("0.4", "0.05"),
    ("s5", "Loneliness", "wellbeing", "6m", "main"): ("-0.25", "0.07"),
}

SUMMARY_HEADER = [
    "analysis",
    "label",
    "domains",
    "measure",
    "k",
    "n_rows",
    "studies",
    "estimate",
    "se",
    "ci_lb",
    "ci_ub",
    "pval",
    "pi_lb",
    "pi_ub",
    "tau2",
    "tau2_ci_lb",
    "tau2_ci_ub",
    "I2",
    "H2",
    "Q",
    "Q_df",
    "Q_p",
    "method",
    "test",
    "note",
]
# analysis: (k, studies, estimate, ci_lb, ci_ub, tau2, I2)
POOLED_0 = {
    "mental_health": (3, "s1; s2; s3", 0.3, 0.1, 0.5, 0.01, 20.0),
    "wellbeing": (2, "s1; s5", 0.2, -0.1, 0.5, 0.0, 0.0),
}
POOLED_1 = {
    "mental_health": (3, "s1; s3; s4", 0.35, 0.15, 0.55, 0.02, 25.5),
    "wellbeing": (2, "s1; s5", 0.2, -0.1, 0.5, 0.0, 0.0),
}


def prisma_counts(round_no: int) -> dict[str, Any]:
    """Cumulative PRISMA counts in the pipeline's JSON shape (prisma_counts.json)."""
    if round_no == 0:
        dbs, web, dup, n_imp = [("MEDLINE (PubMed)", 10), ("Scopus", 8)], 2, 5, 20
        screened, excl, sought, notret, assessed = 13, 8, 5, 1, 4
        dbr_excl = [("Wrong population", 2)]
        o_sought, o_assessed, o_excl = 2, 2, [("Wrong study design", 1)]
        studies, reports = 2, 3
    else:
        dbs, web, dup, n_imp = [("MEDLINE (PubMed)", 14), ("Scopus", 11)], 3, 8, 28
        screened, excl, sought, notret, assessed = 17, 10, 7, 1, 6
        dbr_excl = [("Wrong population", 2), ("Wrong outcomes", 1)]
        o_sought, o_assessed, o_excl = 3, 3, [("Wrong study design", 1)]
        studies, reports = 4, 5
    n_unique = n_imp - dup
    ft_excl = sum(n for _, n in dbr_excl) + sum(n for _, n in o_excl)
    counts: dict[str, Any] = {
        "databases": [{"name": n, "n": k} for n, k in dbs],
        "registers": [],
        "websites": [{"name": "Google Scholar", "n": web}],
        "organisations": [],
        "citations": [],
        "previous_studies": 0,
        "previous_reports": 0,
        "database_results": sum(k for _, k in dbs),
        "register_results": 0,
        "website_results": web,
        "organisation_results": 0,
        "citations_results": 0,
        "duplicates": dup,
        "excluded_automatic": 0,
        "excluded_other": 0,
        "records_screened": screened,
        "records_excluded": excl,
        "dbr_sought_reports": sought,
        "dbr_notretrieved_reports": notret,
        "dbr_assessed": assessed,
        "dbr_excluded": [{"name": n, "n": k} for n, k in dbr_excl],
        "other_sought_reports": o_sought,
        "other_notretrieved_reports": 0,
        "other_assessed": o_assessed,
        "other_excluded": [{"name": n, "n": k} for n, k in o_excl],
        "new_studies": studies,
        "new_reports": reports,
        "unique_records": {
            "databases_registers": screened,
            "other_methods": o_sought,
        },
        "in_progress": {
            "databases_registers": dict.fromkeys(
                [
                    "pending_title_abstract",
                    "conflict_title_abstract",
                    "awaiting_retrieval",
                    "pending_full_text",
                    "conflict_full_text",
                ],
                0,
            ),
            "other_methods": dict.fromkeys(
                ["awaiting_retrieval", "pending_full_text", "conflict_full_text"], 0
            ),
        },
        "states": {
            "pending_title_abstract": 0,
            "conflict_title_abstract": 0,
            "excluded_title_abstract": excl,
            "awaiting_retrieval": 0,
            "not_retrieved": notret,
            "pending_full_text": 0,
            "conflict_full_text": 0,
            "excluded_full_text": ft_excl,
            "included": reports,
        },
        "total_studies": studies,
        "total_reports": reports,
        "n_imported": n_imp,
        "n_unique": n_unique,
    }
    return counts


def _as_flow_counts(counts: dict[str, Any]) -> dict[str, Any]:
    return {
        k: [(i["name"], i["n"]) for i in v] if isinstance(v, list) else v
        for k, v in counts.items()
    }


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def make_results(
    root: Path,
    round_no: int,
    *,
    pooled: dict[str, tuple] | None = None,
    prisma: dict[str, Any] | None = None,
    stages: tuple[str, ...] = ("screening", "effects", "meta"),
) -> Path:
    """Write a small results folder as the pipeline would after ``round_no``."""
    records = RECORDS_0 if round_no == 0 else RECORDS_1
    decisions = DECISIONS_0 if round_no == 0 else DECISIONS_1
    effects = EFFECTS_0 if round_no == 0 else EFFECTS_1
    if pooled is None:
        pooled = POOLED_0 if round_no == 0 else POOLED_1
    results = root / "results"
    write_csv(
        results / "records/records.csv",
        RECORD_HEADER,
        [[r, "medline.nbib", "MEDLINE", u, f"Title of {r}"] for r, u, _, _ in records],
    )
    write_csv(
        results / "records/clusters.csv",
        ["cluster_id", "record_id"],
        [[c, r] for r, _, c, _ in records],
    )
    write_csv(
        results / "records/unique.csv",
        ["record_id", "cluster_id", "n_records", "title"],
        [[r, c, 1, f"Title of {r}"] for r, _, c, kept in records if kept],
    )
    if "screening" in stages:
        rows = []
        for record_id, stages_, final in decisions:
            for stage, status, reason in stages_:
                rows.append(
                    [
                        *(record_id, stage, status, reason, "agreement", "", 2, ""),
                        *(final, "databases_registers", "", f"Title of {record_id}"),
                    ]
                )
        write_csv(results / "screening/final_decisions.csv", DECISION_HEADER, rows)
        counts = prisma if prisma is not None else prisma_counts(round_no)
        path = results / "screening/prisma_counts.json"
        path.write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
    if "effects" in stages:
        rows = [
            [
                *(s, o, d, t, "", c, i + 1, "SMD", yi, vi, "", "", ""),
                *("means_sd", "smd_means_sd", "a note"),
            ]
            for i, ((s, o, d, t, c), (yi, vi)) in enumerate(effects.items())
        ]
        write_csv(results / "effects/effects.csv", EFFECT_HEADER, rows)
    if "meta" in stages:
        rows = []
        for name, (k, studies, est, lb, ub, tau2, i2) in pooled.items():
            row = dict.fromkeys(SUMMARY_HEADER, "")
            row.update(
                analysis=name,
                label=name.replace("_", " ").capitalize(),
                domains=name,
                measure="SMD",
                k=k,
                n_rows=k,
                studies=studies,
                estimate=est,
                ci_lb=lb,
                ci_ub=ub,
                pi_lb=lb - 0.1,
                pi_ub=ub + 0.1,
                tau2=tau2,
                I2=i2,
                Q_p=0.5,
                method="REML",
                test="knha",
            )
            rows.append([row[c] for c in SUMMARY_HEADER])
        write_csv(results / "meta/summary.csv", SUMMARY_HEADER, rows)
    return results


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Snapshots of round 0 and round 1 taken from two fake results folders."""
    hist = tmp_path / "history"
    take_snapshot(make_results(tmp_path / "run0", 0), hist, 0)
    take_snapshot(make_results(tmp_path / "run1", 1), hist, 1)
    return hist


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- snapshots --------------------------------------------------------------------


def test_fixture_prisma_counts_add_up() -> None:
    for round_no in (0, 1):
        check_flow(_as_flow_counts(prisma_counts(round_no)))


def test_current_round(tmp_path: Path) -> None:
    assert current_round(make_results(tmp_path / "a", 0) / "records/records.csv") == 0
    assert current_round(make_results(tmp_path / "b", 1) / "records/records.csv") == 1


def test_current_round_errors(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="not found: run the pipeline"):
        current_round(tmp_path / "records.csv")
    path = tmp_path / "records.csv"
    write_csv(path, ["record_id", "update"], [["a", "0"], ["b", "first"]])
    with pytest.raises(InputError, match=r"row 2, column 'update'.*whole number"):
        current_round(path)
    write_csv(path, ["record_id"], [["a"]])
    with pytest.raises(InputError, match="missing column 'update'"):
        current_round(path)


def test_snapshot_files_and_content(tmp_path: Path) -> None:
    results = make_results(tmp_path / "run1", 1)
    written = take_snapshot(results, tmp_path / "history", 1)
    folder = tmp_path / "history" / "round_1"
    assert written == [folder / name for name in SNAPSHOT_FILES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(SNAPSHOT_FILES)

    records = pd.read_csv(folder / "records.csv", dtype=str)
    assert list(records.columns) == ["record_id", "update", "cluster_id", "kept"]
    assert records.to_numpy().tolist() == [
        [r, str(u), c, str(kept)] for r, u, c, kept in RECORDS_1
    ]

    decisions = pd.read_csv(folder / "decisions.csv", dtype=str, keep_default_na=False)
    assert list(decisions.columns) == [
        "record_id",
        "stage",
        "status",
        "reason",
        "final_state",
        "prisma_column",
        "study_id",
    ]
    assert decisions.to_numpy().tolist() == [
        [r, stage, status, reason, final, "databases_registers", ""]
        for r, stages, final in DECISIONS_1
        for stage, status, reason in stages
    ]

    effects = pd.read_csv(folder / "effects.csv", dtype=str, keep_default_na=False)
    assert list(effects.columns) == [
        "study_id",
        "outcome",
        "domain",
        "timepoint",
        "comparison",
        "measure",
        "yi",
        "vi",
        "ci_lb",
        "ci_ub",
        "input_set",
        "method",
    ]
    assert len(effects) == len(EFFECTS_1)
    # numbers are copied as text: every digit survives
    assert effects["vi"].tolist()[2] == repr(0.02 * (1 + 1e-15))
    assert effects["yi"].tolist()[-1] == "-0.25"

    pooled = pd.read_csv(folder / "pooled.csv")
    assert list(pooled.columns) == [
        "analysis",
        "k",
        "studies",
        "estimate",
        "ci_lb",
        "ci_ub",
        "pi_lb",
        "pi_ub",
        "tau2",
        "I2",
        "Q_p",
    ]
    assert pooled["analysis"].tolist() == ["mental_health", "wellbeing"]
    assert pooled.loc[0, "estimate"] == 0.35
    assert pooled.loc[0, "studies"] == "s1; s3; s4"

    source = results / "screening/prisma_counts.json"
    assert (folder / "prisma.json").read_bytes() == source.read_bytes()
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta == {
        "round": 1,
        "evsynth_version": __version__,
        "files": {
            "records.csv": [
                "records/records.csv",
                "records/clusters.csv",
                "records/unique.csv",
            ],
            "decisions.csv": ["screening/final_decisions.csv"],
            "effects.csv": ["effects/effects.csv"],
            "pooled.csv": ["meta/summary.csv"],
            "prisma.json": ["screening/prisma_counts.json"],
            "certainty.csv": ["grade/certainty.csv"],
        },
        # the fake results have no GRADE stage (tests/test_history_certainty.py)
        "missing": ["grade/certainty.csv"],
    }


def test_snapshot_is_byte_identical_when_repeated(tmp_path: Path) -> None:
    results = make_results(tmp_path / "run1", 1)
    take_snapshot(results, tmp_path / "h1", 1)
    first = _bytes(tmp_path / "h1" / "round_1")
    take_snapshot(results, tmp_path / "h1", 1)  # again, over the old one
    take_snapshot(results, tmp_path / "h2", 1)
    assert _bytes(tmp_path / "h1" / "round_1") == first
    assert _bytes(tmp_path / "h2" / "round_1") == first


def test_snapshot_before_effects_and_meta(tmp_path: Path) -> None:
    results = make_results(tmp_path / "run0", 0, stages=())
    take_snapshot(results, tmp_path / "history", 0)
    folder = tmp_path / "history" / "round_0"
    assert (folder / "decisions.csv").read_text() == (
        "record_id,stage,status,reason,final_state,prisma_column,study_id\n"
    )
    assert (folder / "effects.csv").read_text().count("\n") == 1
    assert (folder / "pooled.csv").read_text() == (
        "analysis,k,studies,estimate,ci_lb,ci_ub,pi_lb,pi_ub,tau2,I2,Q_p\n"
    )
    assert (folder / "prisma.json").read_text() == "{}\n"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["missing"] == [
        "effects/effects.csv",
        "grade/certainty.csv",
        "meta/summary.csv",
        "screening/final_decisions.csv",
        "screening/prisma_counts.json",
    ]
    snap = read_snapshot(tmp_path / "history", 0)
    assert len(snap.records) == 5
    assert snap.effects.empty
    assert snap.prisma == {}
    # a round without PRISMA counts cannot go into the living flow
    with pytest.raises(HistoryError, match=r"no PRISMA counts.*screening stage"):
        living_prisma(tmp_path / "history")


def test_snapshot_errors(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=r"records.csv not found.*run the pipeline"):
        take_snapshot(tmp_path / "nothing", tmp_path / "history", 0)
    results = make_results(tmp_path / "run1", 1)
    with pytest.raises(HistoryError, match=r"cannot snapshot round 0.*update 1"):
        take_snapshot(results, tmp_path / "history", 0)
    with pytest.raises(ValueError, match="round_no"):
        take_snapshot(results, tmp_path / "history", -1)
    assert not (tmp_path / "history").exists()  # nothing written
    write_csv(results / "effects/effects.csv", ["study_id", "yi"], [["s1", "0.1"]])
    with pytest.raises(InputError, match="missing column 'outcome'"):
        take_snapshot(results, tmp_path / "history", 1)
    assert not (tmp_path / "history" / "round_1").exists()
    clusters = results / "records/clusters.csv"
    clusters.write_text("cluster_id,record_id\nc1,r1\n")
    with pytest.raises(HistoryError, match="no cluster for 9 record"):
        take_snapshot(results, tmp_path / "history", 1)


def test_read_snapshot_errors(history: Path) -> None:
    assert list_rounds(history) == [0, 1]
    with pytest.raises(
        HistoryError,
        match=r"no snapshot of round 2 .*rounds found: 0, 1.*run the pipeline "
        r"before and after adding the update",
    ):
        read_snapshot(history, 2)
    (history / "round_1" / "pooled.csv").unlink()
    with pytest.raises(HistoryError, match=r"round 1 .* has no pooled.csv"):
        compare_rounds(history, 0, 1)


# --- changes ----------------------------------------------------------------------


def test_records_added(history: Path) -> None:
    changes = compare_rounds(history, 0, 1)
    added = changes.records_added
    assert list(added.columns) == [
        "record_id",
        "update",
        "cluster_id",
        "kind",
        "duplicate_of_earlier",
        "earlier_records",
    ]
    assert added.to_dict(orient="records") == [
        {
            "record_id": "r6",
            "update": 1,
            "cluster_id": "c1",
            "kind": "duplicate_of_earlier",
            "duplicate_of_earlier": True,
            "earlier_records": "r1; r2",
        },
        {
            "record_id": "r7",
            "update": 1,
            "cluster_id": "c7",
            "kind": "new_unique",
            "duplicate_of_earlier": False,
            "earlier_records": "",
        },
        {
            "record_id": "r8",
            "update": 1,
            "cluster_id": "c7",
            "kind": "duplicate_within_round",
            "duplicate_of_earlier": False,
            "earlier_records": "",
        },
        {
            "record_id": "r9",
            "update": 1,
            "cluster_id": "c9",
            "kind": "new_unique",
            "duplicate_of_earlier": False,
            "earlier_records": "",
        },
        {
            "record_id": "r10",
            "update": 1,
            "cluster_id": "c3",
            "kind": "duplicate_of_earlier",
            "duplicate_of_earlier": True,
            "earlier_records": "r3",
        },
    ]
    assert changes.duplicates_of_earlier == 2
    assert changes.records_removed.empty


def test_decision_changes(history: Path) -> None:
    changes = compare_rounds(history, 0, 1)
    assert changes.included_new.to_dict(orient="records") == [
        {"record_id": "r7", "new_state": "included", "reason": ""}
    ]
    assert changes.excluded_new.to_dict(orient="records") == [
        {
            "record_id": "r9",
            "new_state": "excluded_title_abstract",
            "reason": "Not about mentoring",
        }
    ]
    assert changes.other_new.empty
    assert changes.decision_changed.to_dict(orient="records") == [
        {
            "record_id": "r3",
            "old_state": "excluded_full_text",
            "new_state": "included",
            "old_reason": "Wrong population",
            "new_reason": "",
        },
        {
            "record_id": "r5",
            "old_state": "pending_full_text",
            "new_state": "included",
            "old_reason": "",
            "new_reason": "",
        },
    ]


def test_effect_changes(history: Path) -> None:
    changes = compare_rounds(history, 0, 1)
    key = ["study_id", "outcome", "domain", "timepoint", "comparison"]
    added = changes.effects_added
    assert added[key].to_numpy().tolist() == [
        ["s4", "Depression", "mental_health", "post", "main"],
        ["s5", "Loneliness", "wellbeing", "6m", "main"],
    ]
    assert added["yi"].tolist() == [0.4, -0.25]
    assert added["vi"].tolist() == [0.05, 0.07]
    assert added["measure"].tolist() == ["SMD", "SMD"]
    removed = changes.effects_removed
    assert removed[key].to_numpy().tolist() == [
        ["s2", "Depression", "mental_health", "post", "main"]
    ]
    assert removed[["yi", "vi"]].to_numpy().tolist() == [[0.2, 0.03]]

    changed = changes.effects_changed
    assert changed[key].to_numpy().tolist() == [
        ["s1", "Depression", "mental_health", "post", "main"],
        ["s1", "Self-esteem", "wellbeing", "post", "main"],
    ]  # s3's vi differs by 1e-15 (relative): not a change
    depression, esteem = changed.to_dict(orient="records")
    assert (depression["yi_old"], depression["yi_new"]) == (0.5, 0.55)
    assert depression["yi_diff"] == pytest.approx(0.05, rel=1e-12)
    assert (depression["vi_old"], depression["vi_new"], depression["vi_diff"]) == (
        0.04,
        0.04,
        0.0,
    )
    assert (esteem["yi_old"], esteem["yi_new"], esteem["yi_diff"]) == (0.3, 0.3, 0.0)
    assert (esteem["vi_old"], esteem["vi_new"]) == (0.05, 0.06)
    assert esteem["vi_diff"] == pytest.approx(0.01, rel=1e-12)


def test_pooled_changes(history: Path) -> None:
    pooled = compare_rounds(history, 0, 1).pooled.set_index("analysis")
    assert pooled.index.tolist() == ["mental_health", "wellbeing"]
    mh = pooled.loc["mental_health"]
    assert mh["status"] == "changed"
    assert (mh["k_old"], mh["k_new"]) == (3, 3)
    assert (mh["estimate_old"], mh["estimate_new"]) == (0.3, 0.35)
    assert mh["estimate_diff"] == pytest.approx(0.05, rel=1e-12)
    assert (mh["ci_lb_old"], mh["ci_lb_new"]) == (0.1, 0.15)
    assert (mh["ci_ub_old"], mh["ci_ub_new"]) == (0.5, 0.55)
    assert (mh["tau2_old"], mh["tau2_new"]) == (0.01, 0.02)
    assert (mh["I2_old"], mh["I2_new"]) == (20.0, 25.5)
    wb = pooled.loc["wellbeing"]
    assert wb["status"] == "unchanged"
    assert wb["estimate_diff"] == 0.0
    assert (wb["k_old"], wb["k_new"]) == (2, 2)


def test_pooled_analyses_in_one_round_only(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    pooled_1 = {
        "mental_health": POOLED_1["mental_health"],
        "education": (2, "s6; s7", 0.15, -0.05, 0.35, 0.0, 0.0),
    }
    take_snapshot(make_results(tmp_path / "run0", 0), hist, 0)
    take_snapshot(make_results(tmp_path / "run1", 1, pooled=pooled_1), hist, 1)
    pooled = compare_rounds(hist, 0, 1).pooled.set_index("analysis")
    assert pooled.index.tolist() == ["mental_health", "education", "wellbeing"]
    assert pooled["status"].tolist() == ["changed", "added", "removed"]
    edu, wb = pooled.loc["education"], pooled.loc["wellbeing"]
    assert pd.isna(edu["k_old"]) and edu["k_new"] == 2
    assert math.isnan(edu["estimate_old"]) and edu["estimate_new"] == 0.15
    assert math.isnan(edu["estimate_diff"])
    assert wb["k_old"] == 2 and pd.isna(wb["k_new"])
    assert math.isnan(wb["ci_lb_new"]) and wb["ci_lb_old"] == -0.1


def test_summary(history: Path) -> None:
    summary = compare_rounds(history, 0, 1).summary
    # no GRADE stage in these results: nothing rated in either round (the
    # certainty entry is tested in tests/test_history_certainty.py)
    assert summary.pop("certainty") == {
        "recorded": {"old": True, "new": True},
        "analyses": {"old": 0, "new": 0},
        "changed": 0,
        "unchanged": 0,
        "added": 0,
        "removed": 0,
        "not_recorded": 0,
        "level_down": 0,
        "level_up": 0,
        "changes": [],
    }
    assert summary == {
        "old": 0,
        "new": 1,
        "records": {"old": 5, "new": 10},
        "unique_records": {"old": 4, "new": 6},
        "included_records": {"old": 1, "new": 4},
        "effects": {"old": 4, "new": 5},
        "analyses": {"old": 2, "new": 2},
        "records_added": 5,
        "records_removed": 0,
        "new_unique": 2,
        "duplicates_of_earlier": 2,
        "duplicates_within_round": 1,
        "included_new": 1,
        "excluded_new": 1,
        "other_new": 0,
        "new_record_states": {"excluded_title_abstract": 1, "included": 1},
        "decision_changed": 2,
        "effects_added": 2,
        "effects_removed": 1,
        "effects_changed": 2,
        "analyses_added": 0,
        "analyses_removed": 0,
        "analyses_changed": 1,
        "analyses_unchanged": 1,
    }


def test_compare_errors(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    take_snapshot(make_results(tmp_path / "run0", 0), hist, 0)
    with pytest.raises(
        HistoryError,
        match=r"no snapshot of round 1 .*rounds found: 0\).*run the pipeline "
        r"before and after adding the update",
    ):
        compare_rounds(hist, 0, 1)
    with pytest.raises(HistoryError, match="earlier round with a later one"):
        compare_rounds(hist, 1, 0)
    with pytest.raises(HistoryError, match=r"rounds found: none"):
        compare_rounds(tmp_path / "empty", 0, 1)
    assert issubclass(HistoryError, EvsynthError)


def test_write_changes(history: Path, tmp_path: Path) -> None:
    changes = compare_rounds(history, 0, 1)
    out = tmp_path / "changes"
    written = write_changes(changes, out, old=0, new=1)
    assert written == [out / name for name in CHANGE_FILES]

    added = pd.read_csv(out / "records_added.csv", keep_default_na=False)
    assert added["record_id"].tolist() == ["r6", "r7", "r8", "r9", "r10"]
    assert added["duplicate_of_earlier"].tolist() == [True, False, False, False, True]

    decisions = pd.read_csv(out / "decisions_changed.csv", keep_default_na=False)
    assert decisions[
        ["kind", "record_id", "old_state", "new_state"]
    ].to_numpy().tolist() == [
        ["included_new", "r7", "", "included"],
        ["excluded_new", "r9", "", "excluded_title_abstract"],
        ["decision_changed", "r3", "excluded_full_text", "included"],
        ["decision_changed", "r5", "pending_full_text", "included"],
    ]
    assert decisions["new_reason"].tolist()[1] == "Not about mentoring"

    effects = pd.read_csv(out / "effects_changed.csv")
    assert effects["kind"].tolist() == [
        "added",
        "added",
        "removed",
        "changed",
        "changed",
    ]
    assert effects["study_id"].tolist() == ["s4", "s5", "s2", "s1", "s1"]
    removed = effects.iloc[2]
    assert removed["yi_old"] == 0.2 and math.isnan(removed["yi_new"])
    added_row = effects.iloc[1]
    assert added_row["yi_new"] == -0.25 and math.isnan(added_row["yi_old"])
    assert effects.iloc[3]["yi_diff"] == pytest.approx(0.05, rel=1e-12)

    pooled = pd.read_csv(out / "pooled_changes.csv")
    assert pooled.columns.tolist()[:7] == [
        "analysis",
        "status",
        "k_old",
        "k_new",
        "estimate_old",
        "estimate_new",
        "estimate_diff",
    ]
    assert pooled["estimate_new"].tolist() == [0.35, 0.2]

    assert json.loads((out / "summary.json").read_text()) == changes.summary
    page = (out / "changes.md").read_text(encoding="utf-8")
    assert page.startswith("# Living review: changes from round 0 to round 1\n")
    assert "Records added in round 1: **5** (2 new unique, 2 duplicates" in page
    assert "![Pooled estimates, round 0 (grey) and round 1 (black)](estimates.png)" in (
        page
    )
    assert "| mental_health | changed | 3 | 3 | 0.300 | 0.350 | +0.050 |" in page
    assert "| r9 | 1 | c9 | new_unique |  |" in page
    assert "| decision_changed | r3 | excluded_full_text | included |" in page
    assert (out / "estimates.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "estimates.svg").read_bytes().startswith(b"<?xml")

    # byte-identical on a second write, to the same and to another folder
    first = _bytes(out)
    write_changes(compare_rounds(history, 0, 1), out, old=0, new=1)
    write_changes(compare_rounds(history, 0, 1), tmp_path / "again", old=0, new=1)
    assert _bytes(out) == first
    assert _bytes(tmp_path / "again") == first

    with pytest.raises(ValueError, match="compare rounds 0 and 1, not 1 and 2"):
        write_changes(changes, tmp_path / "wrong", old=1, new=2)
    assert not (tmp_path / "wrong").exists()


def test_markdown_escapes_pipes(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    take_snapshot(make_results(tmp_path / "run0", 0), hist, 0)
    take_snapshot(
        make_results(tmp_path / "run1", 1, pooled={"a|b": POOLED_1["wellbeing"]}),
        hist,
        1,
    )
    write_changes(compare_rounds(hist, 0, 1), tmp_path / "out", old=0, new=1)
    page = (tmp_path / "out" / "changes.md").read_text(encoding="utf-8")
    assert "| a\\|b | added |" in page


# --- the estimates plot -------------------------------------------------------


def _three_analyses(tmp_path: Path) -> Path:
    hist = tmp_path / "history"
    pooled_1 = {
        **POOLED_1,
        "education": (3, "s6; s7; s8", 0.12, -0.18, 0.42, 0.03, 41.2),
    }
    take_snapshot(make_results(tmp_path / "run0", 0), hist, 0)
    take_snapshot(make_results(tmp_path / "run1", 1, pooled=pooled_1), hist, 1)
    return hist


def test_estimates_figure_content(tmp_path: Path) -> None:
    changes = compare_rounds(_three_analyses(tmp_path), 0, 1)
    fig = estimates_figure(changes)
    gids = {a.get_gid() for a in fig.findobj() if a.get_gid()}
    for i in range(3):
        assert f"estimates-{i}-new-dot" in gids
        assert f"estimates-{i}-new-ci" in gids
    assert "estimates-0-old-dot" in gids and "estimates-1-old-ci" in gids
    # education is new in round 1: no old estimate
    assert "estimates-2-old-dot" not in gids and "estimates-2-old-ci" not in gids
    texts = {t.get_gid(): t.get_text() for t in fig.texts}
    assert texts["estimates-2-label"] == "education"
    assert texts["estimates-2-old-text"] == "Round 0: not analysed"
    assert texts["estimates-0-new-text"] == "Round 1: 0.35 [0.15, 0.55], k = 3"
    assert texts["estimates-2-new-text"] == "Round 1: 0.12 [\u22120.18, 0.42], k = 3"
    old_dot = next(a for a in fig.findobj() if a.get_gid() == "estimates-0-old-dot")
    new_dot = next(a for a in fig.findobj() if a.get_gid() == "estimates-0-new-dot")
    assert old_dot.get_markerfacecolor() == "#8c8c8c"
    assert new_dot.get_markerfacecolor() == "black"
    assert old_dot.get_xdata()[0] == 0.3 and new_dot.get_xdata()[0] == 0.35
    # old above new, analyses top to bottom in order
    ys = [
        next(
            a for a in fig.findobj() if a.get_gid() == f"estimates-{i}-new-dot"
        ).get_ydata()[0]
        for i in range(3)
    ]
    assert old_dot.get_ydata()[0] < ys[0] < ys[1] < ys[2]  # y grows downwards


def test_render_estimates_and_prisma_update(tmp_path: Path) -> None:
    """Render the pictures for a visual check (files kept under tmp_path)."""
    hist = _three_analyses(tmp_path)
    out = tmp_path / "report"
    write_changes(compare_rounds(hist, 0, 1), out, old=0, new=1)
    write_living_prisma(hist, out)
    for name in ("estimates.png", "prisma_update.png"):
        assert (out / name).stat().st_size > 10_000
    print(f"\nrendered: {out / 'estimates.png'} {out / 'prisma_update.png'}")


def test_estimates_figure_without_analyses(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    take_snapshot(make_results(tmp_path / "run0", 0, stages=("screening",)), hist, 0)
    take_snapshot(make_results(tmp_path / "run1", 1, stages=("screening",)), hist, 1)
    changes = compare_rounds(hist, 0, 1)
    assert changes.pooled.empty and changes.effects_added.empty
    texts = [t.get_text() for t in estimates_figure(changes).texts]
    assert "No pooled analyses in either round." in texts
    write_changes(changes, tmp_path / "out", old=0, new=1)
    assert (
        (tmp_path / "out" / "pooled_changes.csv")
        .read_text()
        .startswith("analysis,status,k_old,k_new,")
    )


# --- living PRISMA ------------------------------------------------------------


def test_living_prisma_table(history: Path) -> None:
    table = living_prisma(history)
    keys = [row[0] for row in TEMPLATE if row[0] != "NA"]
    assert table["data"].tolist() == keys
    assert table.columns.tolist() == [
        "data",
        "node",
        "box",
        "description",
        "boxtext",
        "tooltips",
        "url",
        "round_0",
        "round_1",
        "total",
    ]
    t = table.set_index("data")
    expected = {
        # key: (round_0, round_1, total)
        "previous_studies": (0, 2, None),
        "previous_reports": (0, 3, None),
        "database_results": (18, 7, 25),
        "database_specific_results": (
            "MEDLINE (PubMed), 10; Scopus, 8",
            "MEDLINE (PubMed), 4; Scopus, 3",
            "MEDLINE (PubMed), 14; Scopus, 11",
        ),
        "register_results": (0, 0, 0),
        "register_specific_results": ("", "", ""),
        "website_results": (2, 1, 3),
        "organisation_results": (0, 0, 0),
        "citations_results": (0, 0, 0),
        # snapshots without the other-methods column's removals read as 0
        "other_removed_dbr": (0, 0, 0),
        "other_removed_within": (0, 0, 0),
        "duplicates": (5, 3, 8),
        "excluded_automatic": (0, 0, 0),
        "excluded_other": (0, 0, 0),
        "records_screened": (13, 4, 17),
        "records_excluded": (8, 2, 10),
        "dbr_sought_reports": (5, 2, 7),
        "dbr_notretrieved_reports": (1, 0, 1),
        "other_sought_reports": (2, 1, 3),
        "other_notretrieved_reports": (0, 0, 0),
        "dbr_assessed": (4, 2, 6),
        "dbr_excluded": (
            "Wrong population, 2",
            "Wrong outcomes, 1",
            "Wrong population, 2; Wrong outcomes, 1",
        ),
        "other_assessed": (2, 1, 3),
        "other_excluded": ("Wrong study design, 1", "", "Wrong study design, 1"),
        "new_studies": (2, 2, 4),
        "new_reports": (3, 2, 5),
        "total_studies": (2, 4, None),
        "total_reports": (3, 5, None),
        "identification": (None, None, None),
        "screening": (None, None, None),
        "included": (None, None, None),
    }
    assert set(expected) == set(keys)
    for key, cells in expected.items():
        assert tuple(t.loc[key, ["round_0", "round_1", "total"]]) == cells, key
    assert t.loc["duplicates", "box"] == "box3"
    assert t.loc["duplicates", "node"] == "node8"


def test_update_flow(history: Path) -> None:
    flow = update_flow(history)
    assert flow.previous and flow.other
    assert (flow.previous_studies, flow.previous_reports) == (2, 3)
    assert (flow.new_studies, flow.new_reports) == (2, 2)
    assert (flow.total_studies, flow.total_reports) == (4, 5)
    assert flow.databases == [("MEDLINE (PubMed)", 4), ("Scopus", 3)]
    assert flow.websites == [("Google Scholar", 1)]
    assert (flow.duplicates, flow.records_screened, flow.records_excluded) == (3, 4, 2)
    assert (flow.dbr_sought_reports, flow.dbr_notretrieved_reports) == (2, 0)
    assert (flow.dbr_assessed, flow.dbr_excluded) == (2, [("Wrong outcomes", 1)])
    assert (flow.other_sought_reports, flow.other_assessed) == (1, 1)
    assert flow.other_excluded == []
    assert (
        "difference between the cumulative counts of rounds 1 and 0" in (flow.notes[0])
    )


def test_update_flow_single_round(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    take_snapshot(make_results(tmp_path / "run0", 0), hist, 0)
    flow = update_flow(hist)
    assert not flow.previous
    assert (flow.new_studies, flow.duplicates) == (2, 5)
    table = living_prisma(hist).set_index("data")
    assert table.columns.tolist()[-2:] == ["round_0", "total"]
    assert table.loc["new_reports", "total"] == 3


def test_write_living_prisma(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "prisma"
    written = write_living_prisma(history, out)
    names = [
        "living_prisma.csv",
        *(f"prisma_update.{e}" for e in ("svg", "png", "pdf")),
    ]
    assert written == [out / n for n in names]
    csv_table = pd.read_csv(out / "living_prisma.csv", keep_default_na=False, dtype=str)
    row = csv_table.set_index("data").loc["database_results"]
    assert (row["round_0"], row["round_1"], row["total"]) == ("18", "7", "25")
    svg = (out / "prisma_update.svg").read_text(encoding="utf-8")
    assert "PRISMA 2020 flow diagram, update round 1" in svg
    assert "Previous studies" in svg
    assert "difference between the cumulative counts" in svg
    first = _bytes(out)
    write_living_prisma(history, out)
    write_living_prisma(history, tmp_path / "again")
    assert _bytes(out) == first
    assert _bytes(tmp_path / "again") == first


def test_update_flow_draws_the_whole_review_when_boxes_shrink(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hist = tmp_path / "history"
    counts = copy.deepcopy(prisma_counts(1))
    # a report not retrieved in round 0 was found later and excluded
    counts["dbr_notretrieved_reports"] = 0
    counts["dbr_assessed"] = 7
    counts["dbr_excluded"].append({"name": "Wrong design", "n": 1})
    take_snapshot(make_results(tmp_path / "run0", 0), hist, 0)
    take_snapshot(make_results(tmp_path / "run1", 1, prisma=counts), hist, 1)
    table = living_prisma(hist).set_index("data")
    assert table.loc["dbr_notretrieved_reports", "round_1"] == -1
    with caplog.at_level("WARNING"):
        flow = update_flow(hist)
    # not new against previous: the whole review at round 1, whose boxes add up
    assert not flow.previous
    assert flow.dbr_notretrieved_reports == 0
    assert flow.dbr_assessed == 7
    assert flow.records_screened == counts["records_screened"]
    assert flow.total_studies == counts["total_studies"]
    assert "Reports not retrieved (databases and registers) (1 → 0)" in flow.notes[0]
    assert "Reports not retrieved (databases and registers) (1 → 0)" in caplog.text
    written = write_living_prisma(hist, tmp_path / "out")
    svg = (tmp_path / "out" / "prisma_update.svg").read_text(encoding="utf-8")
    assert "whole review at round 1" in svg
    assert len(written) == 4


def test_living_prisma_without_snapshots(tmp_path: Path) -> None:
    with pytest.raises(
        HistoryError, match=r"no snapshots in .*run the pipeline before"
    ):
        living_prisma(tmp_path / "history")
