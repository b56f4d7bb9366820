"""Blocking, comparison and constrained clustering of bibliographic records.

Candidate pairs and their comparisons are kept in compact arrays
(:class:`PairTable`) rather than one Python object per pair: a million records
give some three and a half million candidate pairs.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from evsynth.records.dedup.keys import MatchKeys
from evsynth.records.dedup.rules import (
    DISTINCT,
    DUPLICATE,
    HARD_DISTINCT,
    KEEP_APART,
    UNCERTAIN,
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

#: Verdicts in the order of their codes in a :class:`PairTable`.
VERDICTS = (DUPLICATE, DISTINCT, UNCERTAIN)
_VERDICT_CODE = {v: k for k, v in enumerate(VERDICTS)}
#: What became of a pair in clustering, in the order of its codes.
OUTCOMES = (
    "no",
    "yes",
    "would join two clusters of earlier searches",
    "a record of one cluster is distinct from the other",
)
#: Pairs compared between two conversions to arrays (bounds the lists' memory).
_CHUNK = 50_000


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


def family_blocks(
    all_keys: Sequence[MatchKeys], family: str, positions: Sequence[int] | None = None
) -> Iterable[list[int]]:
    """Yield the blocks of one key family that hold two records or more.

    Keys are grouped by their hash first (eight bytes a key instead of the key
    text), then records whose hashes meet are grouped again by the key itself,
    so the blocks are exactly those of the key text.

    Parameters
    ----------
    all_keys : sequence of MatchKeys
        The records' keys.
    family : str
        One of :data:`FAMILIES`.
    positions : sequence of int, optional
        The number each record goes by in the blocks (its position in the
        input, for a shard's records); ``range(len(all_keys))`` by default.

    Yields
    ------
    list of int
        The numbers of a block's records, ascending.
    """
    hashes = array("q")
    owners = array("q")
    ordinals = array("b")
    for index, keys in enumerate(all_keys):
        for ordinal, key in enumerate(blocking_keys(keys, family)):
            hashes.append(hash(key))
            owners.append(index)
            ordinals.append(ordinal)
    if not hashes:
        return
    hash_values = np.frombuffer(hashes, dtype=np.int64)
    order = np.argsort(hash_values, kind="stable")
    sorted_hashes = hash_values[order]
    starts = np.flatnonzero(np.r_[True, sorted_hashes[1:] != sorted_hashes[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    del hashes, hash_values, sorted_hashes
    owner_values = np.frombuffer(owners, dtype=np.int64)
    ordinal_values = np.frombuffer(ordinals, dtype=np.int8)
    number = (lambda i: i) if positions is None else positions.__getitem__
    for start, size in zip(
        starts[sizes >= 2].tolist(), sizes[sizes >= 2].tolist(), strict=True
    ):
        members = order[start : start + size]
        groups: dict[str, list[int]] = {}
        for index, ordinal in zip(
            owner_values[members].tolist(),
            ordinal_values[members].tolist(),
            strict=True,
        ):
            key = next(
                k
                for n, k in enumerate(blocking_keys(all_keys[index], family))
                if n == ordinal
            )
            groups.setdefault(key, []).append(number(index))
        for block in groups.values():
            if len(block) >= 2:
                yield sorted(block)


_PAIR_INDEX: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _block_pairs(size: int) -> tuple[np.ndarray, np.ndarray]:
    if size not in _PAIR_INDEX:
        _PAIR_INDEX[size] = np.triu_indices(size, 1)
    return _PAIR_INDEX[size]


def pair_codes(blocks: Iterable[list[int]], n: int) -> tuple[np.ndarray, int]:
    """Code every pair of records within each block as ``i * n + j`` (``i < j``).

    Parameters
    ----------
    blocks : iterable of list of int
        Blocks, each its records' numbers in ascending order.
    n : int
        Number of records (the numbers are below it).

    Returns
    -------
    (numpy.ndarray, int)
        The distinct codes, sorted, and the number of blocks larger than
        :data:`MAX_BLOCK`, which are left unpaired.
    """
    by_size: dict[int, list[list[int]]] = defaultdict(list)
    skipped = 0
    for block in blocks:
        if len(block) > MAX_BLOCK:
            skipped += 1
        else:
            by_size[len(block)].append(block)
    parts = [np.empty(0, dtype=np.int64)]
    for size, members in by_size.items():
        table = np.asarray(members, dtype=np.int64)
        first, second = _block_pairs(size)
        parts.append((table[:, first] * n + table[:, second]).ravel())
    return np.unique(np.concatenate(parts)), skipped


def candidate_codes(all_keys: Sequence[MatchKeys]) -> np.ndarray:
    """Pairs of records that share at least one block, coded ``i * n + j``.

    The blocks of one key family are indexed, paired and dropped before the
    next family's, which keeps the peak memory to one family's index.

    Parameters
    ----------
    all_keys : sequence of MatchKeys
        Every record's keys, in input order.

    Returns
    -------
    numpy.ndarray
        Sorted distinct codes ``i * n + j`` with ``i < j`` (int64).
    """
    n = len(all_keys)
    codes = np.empty(0, dtype=np.int64)
    skipped = 0
    for family in FAMILIES:
        found, left = pair_codes(family_blocks(all_keys, family), n)
        codes = np.union1d(codes, found)
        skipped += left
    if skipped:
        log.info(
            "%d blocks larger than %d records left to other keys", skipped, MAX_BLOCK
        )
    return codes


def candidate_pairs(all_keys: Sequence[MatchKeys]) -> list[tuple[int, int]]:
    """Pairs of record positions that share at least one block, each once.

    Parameters
    ----------
    all_keys : sequence of MatchKeys
        Every record's keys, in input order.

    Returns
    -------
    list of (int, int)
        Sorted pairs ``(i, j)`` with ``i < j``.
    """
    codes = candidate_codes(all_keys)
    n = max(len(all_keys), 1)
    return list(zip((codes // n).tolist(), (codes % n).tolist(), strict=True))


def _flag_code(value: bool | None) -> int:
    return -1 if value is None else int(value)


def _flag_value(code: int) -> bool | None:
    return None if code < 0 else bool(code)


#: The columns of a :class:`PairTable` and their dtypes.
PAIR_ARRAYS = {
    "i": np.int64,
    "j": np.int64,
    "title": np.float64,
    "authors": np.float64,
    "year_gap": np.int64,
    "journal": np.int8,
    "volume": np.int8,
    "pages": np.int8,
    "doi": np.int8,
    "pmid": np.int8,
    "verdict": np.int8,
    "rule": np.int16,
}


@dataclass(slots=True)
class PairTable:
    """Compared pairs as arrays, one entry per pair.

    Attributes
    ----------
    columns : dict of str to numpy.ndarray
        ``i, j`` (record numbers, ``i < j``), ``title, authors`` similarities
        (``authors`` NaN where a record has none), ``year_gap`` (-1 where a
        year is missing), ``journal, volume, pages, doi, pmid`` (1 same, 0
        different, -1 unknown), ``verdict`` (index into :data:`VERDICTS`) and
        ``rule`` (index into ``rules``).
    rules : list of str
        Rule names, in the order of their codes.
    """

    columns: dict[str, np.ndarray]
    rules: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["i"])

    @classmethod
    def empty(cls) -> PairTable:
        """Return a table without pairs."""
        return cls({name: np.empty(0, dtype=t) for name, t in PAIR_ARRAYS.items()})

    @classmethod
    def from_comparisons(
        cls, items: Iterable[tuple[int, int, Comparison]]
    ) -> PairTable:
        """Build a table from ``(i, j, comparison)`` triples."""
        builder = _Builder()
        for i, j, comparison in items:
            builder.add(i, j, comparison)
        return builder.table()

    def rule_code(self, name: str) -> int:
        """Return the code of a rule name, adding it if new."""
        try:
            return self.rules.index(name)
        except ValueError:
            self.rules.append(name)
            return len(self.rules) - 1

    def comparison(self, k: int) -> Comparison:
        """Return pair ``k`` as a :class:`~evsynth.records.dedup.rules.Comparison`."""
        c = self.columns
        authors = float(c["authors"][k])
        year_gap = int(c["year_gap"][k])
        return Comparison(
            float(c["title"][k]),
            None if math.isnan(authors) else authors,
            None if year_gap < 0 else year_gap,
            *(_flag_value(int(c[n][k])) for n in ("journal", "volume", "pages")),
            *(_flag_value(int(c[n][k])) for n in ("doi", "pmid")),
            VERDICTS[int(c["verdict"][k])],
            self.rules[int(c["rule"][k])],
        )

    def select(self, keep: np.ndarray | slice) -> PairTable:
        """Return the pairs picked by an index or boolean array, or a slice."""
        return PairTable({n: a[keep] for n, a in self.columns.items()}, self.rules)

    def codes(self, n: int) -> np.ndarray:
        """Return each pair's code ``i * n + j``."""
        return self.columns["i"] * n + self.columns["j"]

    def scores(self) -> np.ndarray:
        """Return each pair's :attr:`Comparison.score` (the order of merges)."""
        c = self.columns
        bonus = sum((c[n] > 0).astype(np.int64) for n in ("doi", "pmid", "pages"))
        bonus = bonus + (c["volume"] > 0).astype(np.int64)
        authors = np.where(np.isnan(c["authors"]), 0.0, c["authors"])
        return c["title"] + 0.1 * authors + 0.05 * bonus


def concat_tables(tables: Sequence[PairTable]) -> PairTable:
    """Join tables into one, their rule codes mapped onto one list of names.

    Parameters
    ----------
    tables : sequence of PairTable
        The tables.

    Returns
    -------
    PairTable
        Their pairs in order (not sorted, not deduplicated).
    """
    rules: list[str] = []
    parts: dict[str, list[np.ndarray]] = {n: [] for n in PAIR_ARRAYS}
    for table in tables:
        for name in table.rules:
            if name not in rules:
                rules.append(name)
        mapping = np.array(
            [rules.index(name) for name in table.rules] or [0], dtype=np.int16
        )
        for name, values in table.columns.items():
            parts[name].append(mapping[values] if name == "rule" else values)
    columns = {
        name: np.concatenate(values) if values else np.empty(0, dtype=PAIR_ARRAYS[name])
        for name, values in parts.items()
    }
    return PairTable(columns, rules)


class _Builder:
    """Collects comparisons into arrays, a chunk of lists at a time."""

    def __init__(self) -> None:
        self.table_ = PairTable.empty()
        self.parts: dict[str, list[np.ndarray]] = {n: [] for n in PAIR_ARRAYS}
        self.lists: dict[str, list] = {n: [] for n in PAIR_ARRAYS}
        self.rule_codes: dict[str, int] = {}

    def add(self, i: int, j: int, c: Comparison) -> None:
        lists = self.lists
        lists["i"].append(i)
        lists["j"].append(j)
        lists["title"].append(c.title)
        lists["authors"].append(np.nan if c.authors is None else c.authors)
        lists["year_gap"].append(-1 if c.year_gap is None else c.year_gap)
        lists["journal"].append(_flag_code(c.journal))
        lists["volume"].append(_flag_code(c.volume))
        lists["pages"].append(_flag_code(c.pages))
        lists["doi"].append(_flag_code(c.doi))
        lists["pmid"].append(_flag_code(c.pmid))
        lists["verdict"].append(_VERDICT_CODE[c.verdict])
        code = self.rule_codes.get(c.rule)
        if code is None:
            code = self.rule_codes[c.rule] = len(self.rule_codes)
        lists["rule"].append(code)
        if len(lists["i"]) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        for name, values in self.lists.items():
            self.parts[name].append(np.array(values, dtype=PAIR_ARRAYS[name]))
            values.clear()

    def table(self) -> PairTable:
        self.flush()
        columns = {n: np.concatenate(p) for n, p in self.parts.items()}
        return PairTable(columns, list(self.rule_codes))


def compare_table(
    all_keys: Sequence[MatchKeys],
    first: np.ndarray,
    second: np.ndarray,
    positions: Mapping[int, int] | None = None,
) -> PairTable:
    """Compare pairs of records (with a progress bar on long runs).

    Parameters
    ----------
    all_keys : sequence of MatchKeys
        The records' keys.
    first, second : numpy.ndarray
        The pairs' record numbers.
    positions : mapping, optional
        Where each record number's keys are in ``all_keys`` (a shard's
        records); the numbers are positions by default.

    Returns
    -------
    PairTable
        The pairs in the given order, with their comparisons.
    """
    builder = _Builder()
    where = (lambda i: i) if positions is None else positions.__getitem__
    progress = tqdm(
        total=len(first), desc="compare", unit="pair", disable=None, leave=False
    )
    for start in range(0, len(first), _CHUNK):
        a_part = first[start : start + _CHUNK].tolist()
        b_part = second[start : start + _CHUNK].tolist()
        for i, j in zip(a_part, b_part, strict=True):
            builder.add(i, j, compare(all_keys[where(i)], all_keys[where(j)]))
        progress.update(len(a_part))
    progress.close()
    return builder.table()


def compare_pairs(
    all_keys: Sequence[MatchKeys], pairs: Iterable[tuple[int, int]], total: int
) -> dict[tuple[int, int], Comparison]:
    """Compare every candidate pair (a dictionary; small inputs and tests)."""
    return {(i, j): compare(all_keys[i], all_keys[j]) for i, j in pairs}


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
    """Merge duplicate pairs into clusters (a dictionary of comparisons).

    See :func:`cluster_table`, which this wraps.

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
    table = PairTable.from_comparisons((i, j, c) for (i, j), c in comparisons.items())
    labels, outcome = cluster_table(n, table, updates)
    result = Clustering(labels=labels.tolist())
    for k, (i, j) in enumerate(
        zip(table.columns["i"], table.columns["j"], strict=True)
    ):
        if outcome[k] == 1:
            result.merged.add((int(i), int(j)))
        elif outcome[k] > 1:
            result.blocked[(int(i), int(j))] = OUTCOMES[outcome[k]]
    return result


def cluster_table(
    n: int, table: PairTable, updates: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
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
    table : PairTable
        Decisions on candidate pairs, each pair once.
    updates : sequence of int
        Update number of each record.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Each record's cluster label (the smallest record number in its
        cluster), and each pair's outcome (index into :data:`OUTCOMES`).
    """
    columns = table.columns
    first, second = columns["i"], columns["j"]
    rules = table.rules
    hard_rule = np.array(
        [name in HARD_DISTINCT for name in rules] or [False], dtype=bool
    )
    apart_rule = np.array([name in KEEP_APART for name in rules] or [False], dtype=bool)
    verdict = columns["verdict"]
    hard = (
        (verdict == _VERDICT_CODE[DISTINCT]) & hard_rule[columns["rule"]]
    ) | apart_rule[columns["rule"]]
    # only pairs between records of duplicate pairs can keep two clusters
    # apart: a record in no duplicate pair stays a cluster of its own
    is_duplicate = verdict == _VERDICT_CODE[DUPLICATE]
    endpoint = np.zeros(n, dtype=bool)
    endpoint[first[is_duplicate]] = True
    endpoint[second[is_duplicate]] = True
    hard &= endpoint[first] & endpoint[second]
    del endpoint
    # records kept apart from each record, as index arrays (both directions)
    ends = np.concatenate([first[hard], second[hard]])
    others = np.concatenate([second[hard], first[hard]])
    order = np.argsort(ends, kind="stable")
    ends, others = ends[order], others[order].tolist()
    bounds = np.searchsorted(ends, np.arange(n + 1)).tolist()
    del ends, order

    parent = list(range(n))
    size = [1] * n
    members: dict[int, list[int]] = {}
    first_update = list(updates)
    update_values = np.asarray(updates, dtype=np.int64)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    outcome = np.zeros(len(table), dtype=np.int8)
    duplicate = np.flatnonzero(verdict == _VERDICT_CODE[DUPLICATE])
    stage = np.maximum(
        update_values[first[duplicate]], update_values[second[duplicate]]
    )
    score = table.scores()[duplicate]
    ranked = np.lexsort((second[duplicate], first[duplicate], -score, stage))
    for k, stage_k in zip(
        duplicate[ranked].tolist(), stage[ranked].tolist(), strict=True
    ):
        i, j = int(first[k]), int(second[k])
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            outcome[k] = 1
            continue
        if (
            stage_k > 0
            and first_update[root_i] < stage_k
            and first_update[root_j] < stage_k
        ):
            outcome[k] = 2
            continue
        if size[root_i] < size[root_j]:
            root_i, root_j = root_j, root_i
        group_j = members.get(root_j) or [root_j]
        if any(
            find(other) == root_i
            for member in group_j
            for other in others[bounds[member] : bounds[member + 1]]
        ):
            outcome[k] = 3
            continue
        parent[root_j] = root_i
        members.setdefault(root_i, [root_i]).extend(group_j)
        members.pop(root_j, None)
        size[root_i] += size[root_j]
        first_update[root_i] = min(first_update[root_i], first_update[root_j])
        outcome[k] = 1
    labels = np.arange(n, dtype=np.int64)
    for group in members.values():
        labels[group] = min(group)
    return labels, outcome
