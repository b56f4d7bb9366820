"""Hand-computed checks of benchmarks/dedup_metrics.py.

Every example uses seven records: true cluster A = a1, a2, a3; true cluster
B = b1, b2; unique records u1, u2. True pairs: A has 3 (a1a2, a1a3, a2a3), B
has 1 (b1b2), so 4 in all.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "dedup_metrics.py"
SPEC = importlib.util.spec_from_file_location("dedup_metrics", PATH)
assert SPEC is not None
assert SPEC.loader is not None
metrics = importlib.util.module_from_spec(SPEC)
sys.modules["dedup_metrics"] = metrics
SPEC.loader.exec_module(metrics)
Counts = metrics.Counts

RECORDS = ["a1", "a2", "a3", "b1", "b2", "u1", "u2"]
TRUTH = [["a1", "a2", "a3"], ["b1", "b2"]]


def test_perfect_tool():
    # Kept a1, b1, u1, u2.
    # u1, u2 unique and kept: TN 2.
    # A: 1 survivor -> TN 1, FN 0, TP 3 - 1 = 2.
    # B: 1 survivor -> TN 1, FN 0, TP 2 - 1 = 1.
    # TP 3, FP 0, FN 0, TN 4; sensitivity 3/3, specificity 4/4.
    # Predicted pairs: 3 (A) + 1 (B) = 4, all true: precision 4/4, recall 4/4.
    predicted = [["a1", "a2", "a3"], ["b1", "b2"], ["u1"], ["u2"]]
    counts = metrics.score(RECORDS, ["a1", "b1", "u1", "u2"], predicted, TRUTH)
    assert counts == Counts(
        tp=3, fp=0, fn=0, tn=4, true_pairs=4, predicted_pairs=4, shared_pairs=4
    )
    assert counts.sensitivity == 1.0
    assert counts.specificity == 1.0
    assert counts.pair_precision == 1.0
    assert counts.pair_recall == 1.0


def test_tool_that_merges_two_true_clusters():
    # One cluster a1 a2 a3 b1 b2; kept a1, u1, u2.
    # u1, u2 kept: TN 2.
    # A: 1 survivor (a1) -> TN 1, TP 2.
    # B: 0 survivors -> FP 1 (the paper is lost), TP 2 - 1 = 1.
    # TP 3, FP 1, FN 0, TN 3; sensitivity 3/3, specificity 3/4.
    # Predicted pairs: C(5, 2) = 10; true among them: 3 (A) + 1 (B) = 4.
    # Precision 4/10, recall 4/4.
    predicted = [["a1", "a2", "a3", "b1", "b2"]]
    counts = metrics.score(RECORDS, ["a1", "u1", "u2"], predicted, TRUTH)
    assert counts == Counts(
        tp=3, fp=1, fn=0, tn=3, true_pairs=4, predicted_pairs=10, shared_pairs=4
    )
    assert counts.sensitivity == 1.0
    assert counts.specificity == 0.75
    assert counts.pair_precision == 0.4
    assert counts.pair_recall == 1.0


def test_tool_that_merges_a_unique_record():
    # Clusters a1 a2 a3 u1 and b1 b2; kept a1, b1, u2.
    # u1 unique and dropped: FP 1; u2 kept: TN 1.
    # A: 1 survivor -> TN 1, TP 2.  B: 1 survivor -> TN 1, TP 1.
    # TP 3, FP 1, FN 0, TN 3; sensitivity 3/3, specificity 3/4.
    # Predicted pairs: C(4, 2) = 6 + 1 = 7; true among them: 3 + 1 = 4.
    # Precision 4/7, recall 4/4.
    predicted = [["a1", "a2", "a3", "u1"], ["b1", "b2"]]
    counts = metrics.score(RECORDS, ["a1", "b1", "u2"], predicted, TRUTH)
    assert counts == Counts(
        tp=3, fp=1, fn=0, tn=3, true_pairs=4, predicted_pairs=7, shared_pairs=4
    )
    assert counts.specificity == 0.75
    assert counts.pair_precision == pytest.approx(4 / 7)
    assert counts.pair_recall == 1.0


def test_tool_that_misses_a_duplicate():
    # Clusters a1 a2 and b1 b2 (a3 alone, u1 and u2 left out: single records);
    # kept a1, a3, b1, u1, u2.
    # u1, u2 kept: TN 2.
    # A: 2 survivors (a1, a3) -> TN 1, FN 2 - 1 = 1, TP 3 - 2 = 1.
    # B: 1 survivor -> TN 1, TP 1.
    # TP 2, FP 0, FN 1, TN 4; sensitivity 2/3, specificity 4/4.
    # Predicted pairs: a1a2 + b1b2 = 2, both true. Precision 2/2, recall 2/4.
    predicted = [["a1", "a2"], ["a3"], ["b1", "b2"]]
    counts = metrics.score(RECORDS, ["a1", "a3", "b1", "u1", "u2"], predicted, TRUTH)
    assert counts == Counts(
        tp=2, fp=0, fn=1, tn=4, true_pairs=4, predicted_pairs=2, shared_pairs=2
    )
    assert counts.sensitivity == pytest.approx(2 / 3)
    assert counts.specificity == 1.0
    assert counts.pair_precision == 1.0
    assert counts.pair_recall == 0.5


def test_tool_that_keeps_everything():
    # No clusters, all seven kept.
    # u1, u2: TN 2.  A: 3 survivors -> TN 1, FN 2, TP 0.  B: 2 -> TN 1, FN 1.
    # TP 0, FP 0, FN 3, TN 4. No predicted pairs: precision undefined, recall 0.
    counts = metrics.score(RECORDS, RECORDS, [], TRUTH)
    assert counts == Counts(tp=0, fp=0, fn=3, tn=4, true_pairs=4)
    assert counts.sensitivity == 0.0
    assert math.isnan(counts.pair_precision)
    assert counts.pair_recall == 0.0


def test_counts_add_up_and_rates_come_from_the_sums():
    # Perfect (TP 3, TN 4) + missed duplicate (TP 2, FN 1, TN 4):
    # TP 5, FN 1, TN 8; sensitivity 5/6 (not the mean of 1 and 2/3).
    total = Counts(tp=3, tn=4) + Counts(tp=2, fn=1, tn=4)
    assert total == Counts(tp=5, fp=0, fn=1, tn=8)
    assert total.sensitivity == pytest.approx(5 / 6)


def test_read_clusters(tmp_path):
    path = tmp_path / "duplicate_clusters.csv"
    path.write_text('merged_ids\n"a1;a2;a3"\n"b1; b2"\n', encoding="utf-8")
    assert metrics.read_clusters(path) == TRUTH


@pytest.mark.parametrize(
    ("kept", "predicted", "message"),
    [
        (["a1", "a1"], [], "listed twice"),
        (["zz"], [], "not records"),
        (["a1"], [["a1", "zz"]], "not among the records"),
        (["a1"], [["a1", "a2"], ["a2", "a3"]], "two clusters"),
    ],
)
def test_bad_output_is_refused(kept, predicted, message):
    with pytest.raises(ValueError, match=message):
        metrics.score(RECORDS, kept, predicted, TRUTH)


def test_split_contested_takes_records_out_of_their_cluster():
    split = metrics.split_contested(TRUTH, [["a3"], ["b1", "b2"]])
    assert sorted(map(sorted, split)) == [["a1", "a2"], ["b1", "b2"]]
    # a3 is now unique: a tool keeping it apart loses no sensitivity
    counts = metrics.score(
        RECORDS, ["a1", "a3", "b1", "u1", "u2"], [["a1", "a2"], ["b1", "b2"]], split
    )
    assert (counts.fn, counts.fp) == (0, 0)
    with pytest.raises(ValueError, match="not in one true cluster"):
        metrics.split_contested(TRUTH, [["a1", "b1"]])


@pytest.mark.shared
def test_contested_records_are_in_the_labelled_clusters(shared):
    contested = metrics.read_contested(PATH.parent / "dedup_contested.csv")
    assert contested
    for name, groups in contested.items():
        truth = metrics.read_clusters(
            shared / "benchmarks/dedup" / name / "duplicate_clusters.csv"
        )
        metrics.split_contested(truth, groups)  # raises if a group is misplaced
