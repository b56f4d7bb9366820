"""Scores for deduplication benchmarks.

Two views of the same output:

- the field's record-level count (bib-dedupe's published evaluation, described in
  ``shared/benchmarks/dedup/README.md``), from the ids a tool keeps. For each true
  cluster of size s with m surviving ids: m = 0 gives 1 FP and s - 1 TP (the paper
  is lost); m >= 1 gives m - 1 FN, s - m TP and 1 TN (one copy rightly kept).
  Every unique record that is kept is a TN, every one that is dropped an FP.
  Sensitivity = TP / (TP + FN), specificity = TN / (TN + FP).
- pairwise precision and recall over clusters: the pairs of records a tool puts
  in one cluster against the pairs the truth puts in one cluster.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Counts:
    """Record-level and pairwise counts; add them to pool several sets."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    true_pairs: int = 0
    predicted_pairs: int = 0
    shared_pairs: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )

    @property
    def sensitivity(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def specificity(self) -> float:
        return _ratio(self.tn, self.tn + self.fp)

    @property
    def pair_precision(self) -> float:
        return _ratio(self.shared_pairs, self.predicted_pairs)

    @property
    def pair_recall(self) -> float:
        return _ratio(self.shared_pairs, self.true_pairs)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def _pairs(size: int) -> int:
    return size * (size - 1) // 2


def read_clusters(path: Path) -> list[list[str]]:
    """Read a ``duplicate_clusters.csv`` (column ``merged_ids``, ids joined by ;)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [
            [i.strip() for i in row["merged_ids"].split(";") if i.strip()]
            for row in csv.DictReader(handle)
        ]


def _labels(
    ids: set[str], clusters: Iterable[Iterable[str]], what: str
) -> dict[str, int]:
    label: dict[str, int] = {}
    for number, cluster in enumerate(clusters):
        for record in cluster:
            if record not in ids:
                raise ValueError(f"{what}: id {record!r} is not among the records")
            if record in label:
                raise ValueError(f"{what}: id {record!r} is in two clusters")
            label[record] = number
    return label


def score(
    records: Sequence[str],
    kept: Iterable[str],
    predicted: Iterable[Iterable[str]],
    truth: Sequence[Sequence[str]],
) -> Counts:
    """Score one tool on one set.

    Parameters: every record id of the set; the ids the tool kept; the tool's
    clusters (lists of ids; records left out count as single-record clusters);
    the true clusters of two or more records (records left out are unique).
    """
    ids = set(records)
    kept_list = list(kept)
    kept_set = set(kept_list)
    if len(kept_set) != len(kept_list):
        raise ValueError("kept ids: an id is listed twice")
    if not kept_set <= ids:
        raise ValueError(f"kept ids: {sorted(kept_set - ids)[:3]} are not records")
    true_label = _labels(ids, truth, "true clusters")
    predicted = [list(c) for c in predicted]
    _labels(ids, predicted, "predicted clusters")

    tp = fp = fn = tn = 0
    for record in ids:
        if record not in true_label:
            if record in kept_set:
                tn += 1
            else:
                fp += 1
    for cluster in truth:
        survivors = sum(record in kept_set for record in cluster)
        if survivors == 0:
            fp += 1
            tp += len(cluster) - 1
        else:
            tn += 1
            fn += survivors - 1
            tp += len(cluster) - survivors

    shared = 0
    for cluster in predicted:
        together = Counter(true_label[r] for r in cluster if r in true_label)
        shared += sum(_pairs(n) for n in together.values())
    return Counts(
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        true_pairs=sum(_pairs(len(c)) for c in truth),
        predicted_pairs=sum(_pairs(len(c)) for c in predicted),
        shared_pairs=shared,
    )


def read_contested(path: Path) -> dict[str, list[list[str]]]:
    """Groups of records, per set, that the labels merge with others against the
    definition of a duplicate (benchmarks/dedup_contested.csv, with reasons)."""
    groups: dict[str, list[list[str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            groups[row["set"]].append(row["record_ids"].split(";"))
    return groups


def split_contested(
    truth: list[list[str]], contested: list[list[str]]
) -> list[list[str]]:
    """The true clusters with each contested group taken out as a cluster of its own."""
    taken = {r for group in contested for r in group}
    for group in contested:
        if not any(set(group) <= set(c) for c in truth):
            raise ValueError(f"contested records {group} are not in one true cluster")
    out = [[r for r in c if r not in taken] for c in truth]
    return [c for c in out + contested if len(c) > 1]
