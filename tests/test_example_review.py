"""The shipped example review: its exports import cleanly and its list of
duplicate groups (tests/data/example_duplicate_groups.csv) fits the records."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from evsynth.records import import_searches
from tests.conftest import REPO

SEARCHES = REPO / "data/searches"


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    result = import_searches(SEARCHES / "searches.csv", SEARCHES)
    assert result.issues.empty, result.issues.to_string()
    assert not result.summary["count_differs"].any()
    return result.records


@pytest.fixture(scope="module")
def groups() -> pd.DataFrame:
    return pd.read_csv(REPO / "tests/data/example_duplicate_groups.csv", dtype=str)


def key(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def test_size_and_sources(records):
    assert 150 <= len(records) <= 400
    assert records["format"].nunique() == 6


def test_groups_point_at_records(records, groups):
    positions = set(
        zip(records["source_file"], records["source_row"].astype(str), strict=True)
    )
    missing = [
        (f, r)
        for f, r in zip(groups["file"], groups["source_row"], strict=True)
        if (f, r) not in positions
    ]
    assert missing == []


def test_copies_of_one_work_agree(records, groups):
    indexed = records.set_index(["source_file", records["source_row"].astype(str)])
    copies = groups[~groups["group"].str.startswith("distinct_")]
    assert copies["group"].nunique() >= 30
    for name, members in copies.groupby("group"):
        rows = indexed.loc[
            list(zip(members["file"], members["source_row"], strict=True))
        ]
        assert len(rows) >= 2, name
        dois = {d for d in rows["doi"] if d}
        assert len(dois) <= 1, (name, dois)
        years = {int(y) for y in rows["year"] if y}
        assert not years or max(years) - min(years) <= 1, (name, years)
        titles = {key(t)[:25] for t in rows["title"] if t}
        assert len(titles) <= 2, (name, titles)  # at most a typo or a translation apart


def test_look_alikes_are_different_works(records, groups):
    indexed = records.set_index(["source_file", records["source_row"].astype(str)])
    distinct = groups[groups["group"].str.startswith("distinct_")]
    for name, members in distinct.groupby("group"):
        member = members["note"].str.extract(r"member=([^;]+)")[0]
        assert member.nunique() >= 2, name
        rows = indexed.loc[
            list(zip(members["file"], members["source_row"], strict=True))
        ]
        by_member: dict[str, set[tuple[str, str, str, str]]] = {}
        for work, (_, row) in zip(member, rows.iterrows(), strict=True):
            signature = (row["doi"], row["year"], key(row["title"]), row["type"])
            by_member.setdefault(work, set()).add(signature)
        works = sorted(by_member)
        for i, first in enumerate(works):
            for second in works[i + 1 :]:
                # two different works never carry the very same citation
                assert not by_member[first] & by_member[second], (name, first, second)


def test_deduplication_finds_every_listed_duplicate_and_no_look_alike(records, groups):
    from evsynth.records.dedup import deduplicate

    result = deduplicate(records)
    label = dict(
        zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True)
    )
    position = {
        (f, str(r)): i
        for f, r, i in zip(
            records["source_file"],
            records["source_row"],
            records["record_id"],
            strict=True,
        )
    }
    for name, members in groups.groupby("group"):
        ids = [
            position[(f, r)]
            for f, r in zip(members["file"], members["source_row"], strict=True)
        ]
        if not name.startswith("distinct_"):
            assert len({label[i] for i in ids}) == 1, name
            continue
        works = members["note"].str.extract(r"member=([^;]+)")[0]
        clusters_of: dict[str, set[str]] = {}
        for work, record_id in zip(works, ids, strict=True):
            clusters_of.setdefault(work, set()).add(label[record_id])
        names = sorted(clusters_of)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                assert not clusters_of[first] & clusters_of[second], (
                    name,
                    first,
                    second,
                )
