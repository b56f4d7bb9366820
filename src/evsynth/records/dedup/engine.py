"""Blocking, comparison and constrained clustering of bibliographic records."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tqdm import tqdm

from evsynth.records.dedup.keys import MatchKeys
from evsynth.records.dedup.rules import (
    DISTINCT,
    DUPLICATE,
    HARD_DISTINCT,
    KEEP_APART,
    Comparison,
    compare,
)

log = logging.getLogger("evsynth.records.dedup")

#: Blocks with more records than this are not paired in full (a very common
#: title start such as "the effect of" would otherwise give millions of pairs);
#: their records still meet through their other keys.
MAX_BLOCK = 60


#: Blocking key families, built one at a time so that only one family's index
#: is in memory at once (a million records give some six million keys).
FAMILIES = ("d", "p", "t", "e", "a", "v", "w")


def blocking_keys(keys: MatchKeys, family: str | None = None) -> Iterable[str]:
    """Yield the blocks a record falls in: records sharing a block are compared.

    Each key catches duplicates that others miss: identifiers; the start and the
    end of the title (a typo or an added prefix rarely hits both); first author
    and first page (whatever the year); year, volume and first page; the title's
    three longest words (reordered or retranslated titles), and for records
    without pages three of its four longest (a typo in one long word).

    Parameters
    ----------
    keys : MatchKeys
        The record's keys.
    family : str, optional
        Only the keys of this family (one of :data:`FAMILIES`); all by default.
    """
    want = FAMILIES if family is None else (family,)
    title = keys.title
    if "d" in want and keys.doi:
        yield f"d:{keys.doi}"
    if "p" in want and keys.pmid:
        yield f"p:{keys.pmid}"
    if "t" in want and len(title) >= 12:
        yield f"t:{title[:30]}"
    if "e" in want and len(title) >= 24:
        yield f"e:{title[-30:]}"
    if "a" in want and keys.first_author and keys.first_page:
        # no year: an online-first copy a year earlier with a typo in its
        # title shares nothing else
        yield f"a:{keys.first_author}|{keys.first_page}"
    if "v" in want and keys.volume and keys.first_page:
        yield f"v:{keys.year}|{keys.volume}|{keys.first_page}"
    if "w" in want:
        words = sorted(
            {w for w in title.split() if len(w) >= 4}, key=lambda w: (-len(w), w)
        )
        if len(words) >= 3:
            yield "w:" + " ".join(sorted(words[:3]))
        if len(words) >= 4 and not keys.first_page:
            # three of the four longest words, each left out in turn: a typo
            # in one long word leaves the other three to meet on (a record
            # with pages meets its copies on first author and first page)
            top = words[:4]
            for left_out in range(3):
                yield "w:" + " ".join(sorted(top[:left_out] + top[left_out + 1 :]))


def candidate_pairs(all_keys: Sequence[MatchKeys]) -> list[tuple[int, int]]:
    """Pairs of record positions that share at least one block, each once.

    The blocks of one key family are indexed, paired and dropped before the
    next family's, which keeps the peak memory to one family's index.

    Parameters
    ----------
    all_keys : sequence of MatchKeys
        Every record's keys, in input order.

    Returns
    -------
    list of (int, int)
        Sorted pairs ``(i, j)`` with ``i < j``.
    """
    pairs: set[tuple[int, int]] = set()
    skipped = 0
    for family in FAMILIES:
        blocks: dict[str, list[int]] = defaultdict(list)
        for index, keys in enumerate(all_keys):
            for key in blocking_keys(keys, family):
                blocks[key].append(index)
        for members in blocks.values():
            size = len(members)
            if size < 2:
                continue
            if size > MAX_BLOCK:
                skipped += 1
                continue
            for x in range(size):
                first = members[x]
                for y in range(x + 1, size):
                    pairs.add((first, members[y]))
        del blocks
    if skipped:
        log.info(
            "%d blocks larger than %d records left to other keys", skipped, MAX_BLOCK
        )
    return sorted(pairs)


@dataclass
class Clustering:
    """Result of clustering: a cluster label per record and the pairs' outcome."""

    labels: list[int]
    merged: set[tuple[int, int]] = field(default_factory=set)
    blocked: dict[tuple[int, int], str] = field(default_factory=dict)


def cluster(
    n: int,
    comparisons: dict[tuple[int, int], Comparison],
    updates: Sequence[int],
) -> Clustering:
    """Merge duplicate pairs into clusters without breaking a hard "distinct".

    Duplicate pairs are merged strongest first. Two clusters are not merged if
    any of their records were judged distinct by a must-not-merge rule or by a
    reviewer, or are look-alikes left to a reviewer (a notice or a part that
    shares its article's citation), so a chain A~B~C cannot put an erratum
    with its article. Records of an update search join earlier clusters, but
    never join two clusters of earlier searches to each other: what was
    decided before stays decided.

    Parameters
    ----------
    n : int
        Number of records.
    comparisons : dict
        Decisions on candidate pairs ``(i, j)``.
    updates : sequence of int
        Update number of each record.

    Returns
    -------
    Clustering
        Cluster labels (the smallest record position in each cluster), the pairs
        merged, and the duplicate pairs not merged with the reason.
    """
    parent = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    cannot: dict[int, set[int]] = defaultdict(set)
    first_update = list(updates)
    for (i, j), comparison in comparisons.items():
        if (
            comparison.verdict == DISTINCT and comparison.rule in HARD_DISTINCT
        ) or comparison.rule in KEEP_APART:
            cannot[i].add(j)
            cannot[j].add(i)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    result = Clustering(labels=[])
    duplicates = [
        (max(updates[i], updates[j]), -c.score, i, j)
        for (i, j), c in comparisons.items()
        if c.verdict == DUPLICATE
    ]
    for stage, _, i, j in sorted(duplicates):
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            result.merged.add((i, j))
            continue
        if stage > 0 and first_update[root_i] < stage and first_update[root_j] < stage:
            result.blocked[(i, j)] = "would join two clusters of earlier searches"
            continue
        if len(members[root_i]) < len(members[root_j]):
            root_i, root_j = root_j, root_i
        conflict = cannot[root_i] & set(members[root_j])
        if conflict:
            result.blocked[(i, j)] = (
                "a record of one cluster is distinct from the other"
            )
            continue
        parent[root_j] = root_i
        members[root_i].extend(members.pop(root_j))
        cannot[root_i] |= cannot.pop(root_j, set())
        first_update[root_i] = min(first_update[root_i], first_update[root_j])
        result.merged.add((i, j))
    labels = [0] * n
    for group in members.values():
        label = min(group)
        for member in group:
            labels[member] = label
    result.labels = labels
    return result


def compare_pairs(
    all_keys: Sequence[MatchKeys], pairs: Iterable[tuple[int, int]], total: int
) -> dict[tuple[int, int], Comparison]:
    """Compare every candidate pair (with a progress bar on long runs)."""
    out: dict[tuple[int, int], Comparison] = {}
    for i, j in tqdm(
        pairs, total=total, desc="compare", unit="pair", disable=None, leave=False
    ):
        out[(i, j)] = compare(all_keys[i], all_keys[j])
    return out
