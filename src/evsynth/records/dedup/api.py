"""The deduplication entry points: tables in, tables out.

Within bounded memory: candidate pairs and their comparisons are arrays
(:class:`~evsynth.records.dedup.engine.PairTable`), and :func:`dedup_file`
reads the records file row by row, keeps each record's normalised fields in a
temporary file rather than in memory, and writes the five tables row by row.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import dataclasses
import gc
import itertools
import logging
import marshal
import math
import multiprocessing
import os
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from evsynth.errors import InputError
from evsynth.io import (
    FORMULA_PREFIXES,
    atomic_path,
    frame_to_csv,
    guard_formula,
    guard_header,
)
from evsynth.records import generic_csv
from evsynth.records.dedup.engine import (
    OUTCOMES,
    VERDICTS,
    PairTable,
    candidate_codes,
    cluster_table,
    compare_table,
    concat_tables,
)
from evsynth.records.dedup.keys import MatchKeys, match_keys
from evsynth.records.dedup.rules import DISTINCT, DUPLICATE, UNCERTAIN, compare
from evsynth.records.model import BIB_FIELDS

log = logging.getLogger("evsynth.records.dedup")

PAIR_COLUMNS = (
    "record_id_a",
    "record_id_b",
    "title_similarity",
    "author_similarity",
    "year_gap",
    "journal_match",
    "volume_match",
    "pages_match",
    "doi_match",
    "pmid_match",
    "verdict",
    "rule",
    "merged",
)
REVIEW_FIELDS = (
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
)
REVIEW_COLUMNS = (
    "record_id_a",
    "record_id_b",
    "rule",
    "title_similarity",
    *(f"{n}_{s}" for n in REVIEW_FIELDS for s in ("a", "b")),
    "verdict",
    "reviewer",
    "date",
)
SUMMARY_COLUMNS = (
    "update",
    "n_records",
    "n_duplicates_within",
    "n_duplicates_of_earlier",
    "n_unique_new",
)
#: The tables a deduplication writes, in the order written.
TABLES = (
    "unique.csv",
    "clusters.csv",
    "dedup_pairs.csv",
    "dedup_review.csv",
    "dedup_summary.csv",
)
_IDENTIFIERS = ("doi", "pmid", "accession")
#: Rows converted or written at a time.
_ROWS = 50_000


@dataclass
class DedupCounts:
    """What :func:`dedup_file` found: records, clusters and pairs to review."""

    n_records: int
    n_clusters: int
    n_review: int


@dataclass
class DedupResult:
    """Tables produced by deduplication.

    Attributes
    ----------
    unique : pandas.DataFrame
        One row per cluster: the kept record's id (in the input's id column),
        ``cluster_id``, ``n_records``, ``merged_ids``, the most complete value of
        each field and every DOI, PMID and accession number of the cluster.
    clusters : pandas.DataFrame
        ``cluster_id, record_id`` for every input record.
    review : pandas.DataFrame
        The uncertain pairs side by side, with empty ``verdict, reviewer, date``
        columns to fill in and copy to ``records/dedup_decisions.csv``.
    summary : pandas.DataFrame
        Per search update: records, duplicates within the update, duplicates of
        earlier records, and new unique records.
    pair_rows : callable
        Yields the rows of :attr:`pairs` (kept compact until asked for).
    """

    unique: pd.DataFrame
    clusters: pd.DataFrame
    review: pd.DataFrame
    summary: pd.DataFrame
    pair_rows: Callable[[], Iterator[tuple]]

    @property
    def pairs(self) -> pd.DataFrame:
        """Every candidate pair with its similarities, verdict and deciding rule."""
        return pd.DataFrame(list(self.pair_rows()), columns=list(PAIR_COLUMNS))


def read_decisions(path: str | Path) -> pd.DataFrame:
    """Read reviewers' verdicts on record pairs (``records/dedup_decisions.csv``).

    Parameters
    ----------
    path : str or Path
        The CSV (columns in ``evsynth/schemas/dedup_decisions.schema.yaml``).

    Returns
    -------
    pandas.DataFrame
        The validated decisions.
    """
    from evsynth.validation import read_table  # jsonschema only when needed

    return read_table(path, "dedup_decisions")


def load_verdicts(
    decisions: str | Path | pd.DataFrame | None,
) -> tuple[pd.DataFrame | None, str]:
    """Return reviewers' verdicts and their source's name, for messages.

    A file that does not exist is no verdicts (a review has none at first).

    Parameters
    ----------
    decisions : str, Path, pandas.DataFrame or None
        A decisions file (:func:`read_decisions`), verdicts read already, or none.

    Returns
    -------
    (pandas.DataFrame or None, str)
        The verdicts, and the file's name (``dedup_decisions.csv`` otherwise).
    """
    if isinstance(decisions, pd.DataFrame):
        return decisions, "dedup_decisions.csv"
    if decisions is not None and Path(decisions).is_file():
        return read_decisions(decisions), str(decisions)
    return None, "dedup_decisions.csv"


# ---------------------------------------------------------------------------
# The records


def row_fields(cells: dict[str, object]) -> dict[str, str]:
    """Return a record's normalised fields from its cells (lower-case column names).

    Parameters
    ----------
    cells : dict
        Cells keyed by lower-cased, stripped column name; empty or missing
        values (``None``, NaN) are skipped.

    Returns
    -------
    dict of str to str
        The fields of :func:`evsynth.records.generic_csv.to_fields`.
    """
    kept = {}
    for name, value in cells.items():
        if _missing(value):
            continue
        text = str(value).strip()
        if text:
            kept[name] = text
    return generic_csv.to_fields(kept).fields


def completeness(fields: dict[str, str]) -> int:
    """Return how many bibliographic fields a record has (to choose the kept one)."""
    return sum(bool(fields.get(k)) for k in BIB_FIELDS)


class FieldStore:
    """Records' normalised fields, by record number, in a temporary file.

    Each record's fields are marshalled into the file as they come, and read
    back one record at a time. A million records' fields (abstracts included)
    would otherwise take about a gigabyte of memory.

    Parameters
    ----------
    folder : str or Path, optional
        Where the temporary file goes (the system's temporary folder by default).
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (closed by close())
        self._offsets = array("q", [0])
        self._buffer = bytearray()

    def append(self, fields: dict[str, str]) -> None:
        """Add the next record's fields."""
        plain = {k: v if type(v) is str else str(v) for k, v in fields.items()}
        data = marshal.dumps(plain)
        self._buffer += data
        self._offsets.append(self._offsets[-1] + len(data))
        if len(self._buffer) >= 1 << 24:
            self._flush()

    def append_marshalled(self, data: bytes) -> None:
        """Add the next record's fields, marshalled already (plain ``str`` values)."""
        self._buffer += data
        self._offsets.append(self._offsets[-1] + len(data))
        if len(self._buffer) >= 1 << 24:
            self._flush()

    def _flush(self) -> None:
        self._file.write(self._buffer)
        self._buffer.clear()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> dict[str, str]:
        if self._buffer:
            self._flush()
            self._file.flush()
        start, end = self._offsets[index], self._offsets[index + 1]
        # read, not mapped: mapped pages would count as the process's memory
        return marshal.loads(os.pread(self._file.fileno(), end - start, start))

    def close(self) -> None:
        """Remove the temporary file."""
        self._file.close()


@dataclass
class Records:
    """What deduplication keeps of each record, by its number (input order).

    Attributes
    ----------
    ids : list of str
        The records' ids.
    updates : list of int
        Each record's search update.
    fields : sequence of dict
        Each record's normalised fields (a list, or a :class:`FieldStore`).
    completeness : numpy.ndarray
        How many bibliographic fields each record has.
    keys : list of MatchKeys or None
        Each record's match keys, if computed.
    """

    ids: list[str]
    updates: list[int]
    fields: Sequence[dict[str, str]]
    completeness: np.ndarray
    keys: list[MatchKeys] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def key(self, index: int) -> MatchKeys:
        """Return a record's match keys (computed again if not kept)."""
        if self.keys is not None:
            return self.keys[index]
        return match_keys(self.fields[index], self.updates[index])


def _check_ids(ids: Sequence[str], id_column: str, source: str) -> None:
    # a set, not a dict of first rows: half the memory at millions of records;
    # the first row of a repeated id is looked up once, for the message
    seen: set[str] = set()
    for position, value in enumerate(ids, start=1):
        if value in seen or not value:
            first = ids.index(value) + 1 if value else 0
            problem = f"repeated (first on row {first})" if value else "empty"
            raise InputError(
                f"record id {value!r} is {problem}",
                file=source,
                line=position + 1,
                row=position,
                column=id_column,
                expected="one unique id per record",
            )
        seen.add(value)


def _no_id_column(id_column: str, source: str) -> InputError:
    return InputError(
        f"no column {id_column!r}",
        file=source,
        line=1,
        expected="a column of unique record ids (choose it with --id-column)",
    )


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def _update(
    value: object,
    file: str = "",
    line: int | None = None,
    row: int | None = None,
    column: str | None = None,
) -> int:
    """Return a record's search update, a whole number >= 0 (0 when empty)."""
    if _missing(value):
        return 0
    try:
        number = float(value or 0)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not (number >= 0 and number.is_integer()):
        raise InputError(
            f"invalid update {value!r}",
            file=file,
            line=line,
            row=row,
            column=column,
            expected="the search update: 0, 1, 2, ... (0 when empty)",
        )
    return int(number)


def records_from_frame(
    frame: pd.DataFrame,
    id_column: str,
    update_column: str | None,
    source: str,
    *,
    with_keys: bool = True,
) -> Records:
    """Read the records of a table (see :func:`deduplicate`)."""
    if id_column not in frame.columns:
        raise _no_id_column(id_column, source)
    ids = [str(v) for v in frame[id_column]]
    _check_ids(ids, id_column, source)
    has_updates = bool(update_column) and update_column in frame.columns
    updates = (
        [
            _update(u, source, row=i, column=update_column)
            for i, u in enumerate(frame[update_column], start=1)
        ]
        if has_updates
        else [0] * len(frame)
    )
    names = [str(c).strip().lower() for c in frame.columns]
    fields: list[dict[str, str]] = []
    for start in range(0, len(frame), _ROWS):
        part = frame.iloc[start : start + _ROWS]
        for row in part.itertuples(index=False, name=None):
            fields.append(row_fields(dict(zip(names, row, strict=True))))
    keys = (
        [match_keys(f, u) for f, u in zip(fields, updates, strict=True)]
        if with_keys
        else None
    )
    counts = np.fromiter((completeness(f) for f in fields), np.int16, len(fields))
    return Records(ids, updates, fields, counts, keys)


def iter_csv_rows(path: str | Path, expected: str) -> Iterator[tuple[int, list[str]]]:
    """Yield a CSV's rows one at a time: the header, the line and the cells.

    Reads with constant memory, and refuses what :func:`evsynth.io.read_csv_text`
    refuses: a file that is missing, empty or not UTF-8, a column named twice,
    a row wider than the header, a quoted cell that never closes. Blank lines
    are skipped; cells missing at the end of a short row are empty.

    Parameters
    ----------
    path : str or Path
        The file.
    expected : str
        What the file should hold, for messages.

    Yields
    ------
    (int, list of str)
        The line where a row starts, and its cells; the header first.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, expected=expected)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        line = 1
        try:
            header = next(reader, None)
            while header is not None and not header:
                header = next(reader, None)
            if header is None:
                raise InputError("empty file", file=path, line=1, expected=expected)
            seen: set[str] = set()
            for name in header:
                if name in seen:
                    raise InputError(
                        f"column {name!r} is named twice",
                        file=path,
                        line=reader.line_num,
                        expected=expected,
                    )
                seen.add(name)
            width = len(header)
            yield reader.line_num, header
            line = reader.line_num + 1
            for cells in reader:
                if cells:
                    if len(cells) > width:
                        raise InputError(
                            f"{len(cells)} cells where the header has {width}",
                            file=path,
                            line=line,
                            expected=expected,
                        )
                    if len(cells) < width:
                        cells = cells + [""] * (width - len(cells))
                    yield line, cells
                line = reader.line_num + 1
        except csv.Error as exc:
            raise InputError(
                f"cannot be read as CSV: {exc}", file=path, line=line, expected=expected
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"not UTF-8 ({exc.reason})", file=path, expected=expected
            ) from None


#: The match keys' fields, in the order :func:`keys_to_tuple` writes them.
KEY_FIELDS = tuple(f.name for f in dataclasses.fields(MatchKeys))
#: Rows a worker process reads at a time.
_WORKER_ROWS = 4000


def keys_to_tuple(keys: MatchKeys) -> tuple:
    """Return a record's match keys as a tuple of plain values (for :mod:`marshal`)."""
    return tuple(getattr(keys, name) for name in KEY_FIELDS)


def keys_from_tuple(values: Sequence) -> MatchKeys:
    """Rebuild match keys from :func:`keys_to_tuple`, short words shared (interned)."""
    keys = MatchKeys(*values)
    intern = sys.intern
    keys.surnames = tuple(map(intern, keys.surnames))
    keys.names = tuple(map(intern, keys.names))
    keys.journal = tuple(map(intern, keys.journal))
    keys.first_author = intern(keys.first_author)
    for name in ("volume", "issue", "first_page", "last_page", "kind", "notice_kind"):
        setattr(keys, name, intern(getattr(keys, name)))
    keys.numbers = keys.numbers or _NO_NUMBERS
    keys.parts = keys.parts or _NO_NUMBERS
    return keys


_NO_NUMBERS: frozenset[str] = frozenset()


def _read_rows(
    names: list[str], update_at: int, rows: list[list[str]], with_keys: bool
) -> bytes | None:
    """Fields and keys of rows, marshalled (a worker's task); None on any error."""
    try:
        out = []
        for cells in rows:
            fields = row_fields(dict(zip(names, cells, strict=True)))
            plain = {k: v if type(v) is str else str(v) for k, v in fields.items()}
            update = _update(cells[update_at]) if update_at >= 0 else 0
            keys = keys_to_tuple(match_keys(fields, update)) if with_keys else None
            out.append((marshal.dumps(plain), completeness(fields), keys))
        return marshal.dumps(out)
    except Exception:  # noqa: BLE001 - the parent reads the rows again and raises
        return None


def default_workers() -> int:
    """Return how many processes may read records: the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def records_from_file(
    path: str | Path,
    id_column: str = "record_id",
    update_column: str | None = "update",
    *,
    with_keys: bool = True,
    spill: str | Path | None = None,
    workers: int | None = None,
) -> Records:
    """Read a records CSV row by row, its fields kept in a temporary file.

    With several workers, worker processes normalise the fields and compute
    the match keys of chunks of rows while this process reads the file; the
    result is the same.

    Parameters
    ----------
    path : str or Path
        The records CSV.
    id_column, update_column : str
        See :func:`deduplicate`.
    with_keys : bool
        Whether to keep every record's match keys in memory.
    spill : str or Path, optional
        Folder for the temporary file of fields.
    workers : int, optional
        Processes computing fields and keys (:func:`default_workers` by
        default; 1 computes them in this process). A file of fewer than a few
        thousand rows is read in this process.

    Returns
    -------
    Records
        The records (close ``fields`` when done).
    """
    expected = "a CSV of records with bibliographic columns (title, author, year, ...)"
    ids: list[str] = []
    updates: list[int] = []
    counts = array("h")
    store = FieldStore(spill)
    keys: list[MatchKeys] | None = [] if with_keys else None
    update_at = -1
    workers = default_workers() if workers is None else workers
    with contextlib.ExitStack() as stack:
        try:
            rows = iter_csv_rows(path, expected)
            _, header = next(rows)
            names = [c.strip().lower() for c in header]
            if id_column not in header:
                raise _no_id_column(id_column, str(path))
            id_at = header.index(id_column)
            if update_column and update_column in header:
                update_at = header.index(update_column)

            def serial(chunk: list[list[str]]) -> None:
                for cells in chunk:
                    fields = row_fields(dict(zip(names, cells, strict=True)))
                    store.append(fields)
                    counts.append(completeness(fields))
                    if keys is not None:
                        update = _update(cells[update_at]) if update_at >= 0 else 0
                        keys.append(match_keys(fields, update))

            def take(chunk: list[list[str]], data: bytes | None) -> None:
                if data is None:
                    serial(chunk)  # raises what the worker met
                    return
                for fields, count, values in marshal.loads(data):
                    store.append_marshalled(fields)
                    counts.append(count)
                    if keys is not None:
                        keys.append(keys_from_tuple(values))

            pool = None
            pending: collections.deque = collections.deque()
            chunk: list[list[str]] = []
            for line, cells in rows:
                ids.append(cells[id_at])
                updates.append(
                    _update(cells[update_at], str(path), line, len(ids), update_column)
                    if update_at >= 0
                    else 0
                )
                chunk.append(cells)
                if len(chunk) < _WORKER_ROWS:
                    continue
                if pool is None and workers > 1:
                    context = multiprocessing.get_context("fork")
                    pool = stack.enter_context(context.Pool(workers))
                if pool is None:
                    serial(chunk)
                else:
                    task = pool.apply_async(
                        _read_rows, (names, update_at, chunk, keys is not None)
                    )
                    pending.append((chunk, task))
                    while len(pending) > 2 * workers:
                        done, result = pending.popleft()
                        take(done, result.get())
                chunk = []
            while pending:
                done, result = pending.popleft()
                take(done, result.get())
            serial(chunk)
            _check_ids(ids, id_column, str(path))
        except BaseException:
            store.close()
            raise
    return Records(ids, updates, store, np.frombuffer(counts, np.int16).copy(), keys)


# ---------------------------------------------------------------------------
# Deciding


def compare_records(records: Records) -> PairTable:
    """Find and compare the candidate pairs of records held in memory.

    Parameters
    ----------
    records : Records
        The records, with their keys.

    Returns
    -------
    PairTable
        Every candidate pair, sorted by ``(i, j)``.
    """
    if records.keys is None:
        raise ValueError("records read without their match keys")
    n = len(records)
    codes = candidate_codes(records.keys)
    log.info("%d records, %d candidate pairs", n, len(codes))
    return compare_table(records.keys, codes // max(n, 1), codes % max(n, 1))


def apply_decisions(
    decisions: pd.DataFrame | None,
    records: Records,
    table: PairTable,
    source: str,
) -> PairTable:
    """Apply reviewers' verdicts to compared pairs (the last verdict on a pair wins).

    A pair a reviewer decided that is no candidate is compared and added.

    Parameters
    ----------
    decisions : pandas.DataFrame or None
        ``record_id_a, record_id_b, verdict`` rows.
    records : Records
        The records.
    table : PairTable
        The compared pairs, sorted by ``(i, j)``, each once.
    source : str
        Name of the decisions file, for messages.

    Returns
    -------
    PairTable
        The pairs with the reviewers' verdicts, sorted by ``(i, j)``.
    """
    if decisions is None or decisions.empty:
        return table
    index_of = {value: i for i, value in enumerate(records.ids)}
    decided: dict[tuple[int, int], str] = {}
    for row_number, row in enumerate(decisions.to_dict(orient="records"), start=1):
        ids = []
        for column in ("record_id_a", "record_id_b"):
            value = str(row[column])
            if value not in index_of:
                raise InputError(
                    f"unknown record id {value!r}",
                    file=source,
                    line=row_number + 1,
                    row=row_number,
                    column=column,
                    expected="a record_id of records.csv",
                )
            ids.append(index_of[value])
        if ids[0] == ids[1]:
            raise InputError(
                f"record id {row['record_id_a']!r} is paired with itself",
                file=source,
                line=row_number + 1,
                row=row_number,
                column="record_id_b",
                expected="two different records",
            )
        i, j = sorted(ids)
        decided[(i, j)] = row["verdict"]
    del index_of
    n = len(records)
    codes = table.codes(n)
    reviewer = table.rule_code("reviewer")
    added = []
    for (i, j), verdict in decided.items():
        code = DUPLICATE if verdict == "duplicate" else DISTINCT
        at = int(np.searchsorted(codes, i * n + j))
        if at < len(codes) and codes[at] == i * n + j:
            table.columns["verdict"][at] = VERDICTS.index(code)
            table.columns["rule"][at] = reviewer
        else:
            comparison = compare(records.key(i), records.key(j))
            comparison.verdict, comparison.rule = code, "reviewer"
            added.append((i, j, comparison))
    if not added:
        return table
    joined = concat_tables([table, PairTable.from_comparisons(added)])
    return joined.select(np.argsort(joined.codes(n), kind="stable"))


def decide(
    records: Records,
    table: PairTable,
    decisions: pd.DataFrame | None = None,
    decisions_source: str = "dedup_decisions.csv",
) -> tuple[PairTable, np.ndarray, np.ndarray]:
    """Apply reviewers' verdicts and cluster.

    Returns
    -------
    (PairTable, numpy.ndarray, numpy.ndarray)
        The decided pairs (sorted), each record's cluster label and each
        pair's outcome (index into :data:`~evsynth.records.dedup.engine.OUTCOMES`).
    """
    table = apply_decisions(decisions, records, table, decisions_source)
    labels, outcome = cluster_table(len(records), table, records.updates)
    return table, labels, outcome


# ---------------------------------------------------------------------------
# The tables, row by row


def _most_complete(name: str, values: list[str]) -> str:
    """Pick a cluster's value of a field: the kept record's unless a fuller one exists.

    The most authors, a page range over a first page, the longest abstract or
    keyword list; otherwise the kept record's value, or the first one there is.
    """
    present = [v for v in values if v]
    if not present:
        return ""
    if name == "authors":
        return max(present, key=lambda v: v.count(";"))
    if name == "pages":
        return next((v for v in present if "-" in v), present[0])
    if name in {"abstract", "keywords"}:
        return max(present, key=len)
    return present[0]


@dataclass
class Clusters:
    """Clusters in output order: the kept record of each, and its members.

    Attributes
    ----------
    order : numpy.ndarray
        Record numbers, cluster by cluster, each cluster's kept record first.
    starts : numpy.ndarray
        Where each cluster begins in ``order`` (one more entry, its end),
        clusters in the order of their kept record.
    kept_of : numpy.ndarray
        For each record, the number of its cluster's kept record.
    """

    order: np.ndarray
    starts: np.ndarray
    kept_of: np.ndarray


def arrange(records: Records, labels: np.ndarray) -> Clusters:
    """Choose each cluster's kept record and order the clusters by it.

    The kept record is the earliest update's, then the most complete, then
    the first in the input.
    """
    n = len(records)
    if n == 0:
        nothing = np.empty(0, dtype=np.int64)
        return Clusters(nothing, np.zeros(1, dtype=np.int64), nothing)
    positions = np.arange(n, dtype=np.int64)
    order = np.lexsort(
        (
            positions,
            -records.completeness.astype(np.int64),
            np.asarray(records.updates, dtype=np.int64),
            labels,
        )
    )
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    ends = np.r_[starts[1:], n]
    kept = order[starts]
    kept_of = np.empty(n, dtype=np.int64)
    for start, end, k in zip(
        starts.tolist(), ends.tolist(), kept.tolist(), strict=True
    ):
        kept_of[order[start:end]] = k
    by_kept = np.argsort(kept, kind="stable")
    new_order = np.concatenate(
        [order[starts[c] : ends[c]] for c in by_kept.tolist()] or [order]
    )
    sizes = (ends - starts)[by_kept]
    return Clusters(new_order, np.r_[0, np.cumsum(sizes)], kept_of)


def unique_columns(id_column: str, n: int = 1) -> list[str]:
    """Columns of ``unique.csv`` (none for no records, as an empty table has)."""
    if not n:
        return []
    return [
        id_column,
        "cluster_id",
        "n_records",
        "merged_ids",
        *BIB_FIELDS,
        *(f"{name}s" for name in _IDENTIFIERS),
    ]


def _cluster_members(clusters: Clusters) -> Iterator[list[int]]:
    """Yield each cluster's record numbers, its kept record first.

    The arrays become Python lists a block of clusters at a time (whole, they
    would take some 70 bytes a record).
    """
    n_clusters = len(clusters.starts) - 1
    for low in range(0, n_clusters, _ROWS):
        starts = clusters.starts[low : min(low + _ROWS, n_clusters) + 1].tolist()
        order = clusters.order[starts[0] : starts[-1]].tolist()
        base = starts[0]
        for start, end in itertools.pairwise(starts):
            yield order[start - base : end - base]


def unique_rows(records: Records, clusters: Clusters) -> Iterator[tuple]:
    """Yield ``unique.csv``'s rows: one per cluster, in the order of the kept record."""
    ids, fields = records.ids, records.fields
    for ordered in _cluster_members(clusters):
        kept = ordered[0]
        group = sorted(ordered)
        if len(ordered) == 1:
            member_fields = {kept: fields[kept]}
        else:
            member_fields = {p: fields[p] for p in group}
        row: list[object] = [
            ids[kept],
            ids[kept],
            len(group),
            "; ".join(ids[p] for p in group),
        ]
        for name in BIB_FIELDS:
            row.append(
                _most_complete(name, [member_fields[p].get(name, "") for p in ordered])
            )
        for name in _IDENTIFIERS:
            # each identifier once, as the first record wrote it; DOIs that
            # differ only in case are one DOI
            seen: dict[str, str] = {}
            for p in group:
                value = member_fields[p].get(name, "")
                if value:
                    seen.setdefault(value.lower() if name == "doi" else value, value)
            row.append("; ".join(seen.values()))
        yield tuple(row)


def cluster_rows(ids: Sequence[str], clusters: Clusters) -> Iterator[tuple[str, str]]:
    """Yield ``clusters.csv``'s rows: ``cluster_id, record_id`` in input order."""
    for low in range(0, len(clusters.kept_of), _ROWS):
        kept_of = clusters.kept_of[low : low + _ROWS].tolist()
        for position, kept in enumerate(kept_of, start=low):
            yield ids[kept], ids[position]


def _flag(code: int) -> str:
    return "" if code < 0 else ("yes" if code else "no")


def pair_rows(
    ids: Sequence[str], table: PairTable, outcome: np.ndarray
) -> Iterator[tuple]:
    """Yield ``dedup_pairs.csv``'s rows, in the table's order."""
    c = table.columns
    flags = ("journal", "volume", "pages", "doi", "pmid")
    for start in range(0, len(table), _ROWS):
        part = slice(start, start + _ROWS)
        columns = [
            c["i"][part].tolist(),
            c["j"][part].tolist(),
            c["title"][part].tolist(),
            c["authors"][part].tolist(),
            c["year_gap"][part].tolist(),
            *(c[name][part].tolist() for name in flags),
            c["verdict"][part].tolist(),
            c["rule"][part].tolist(),
            outcome[part].tolist(),
        ]
        for i, j, title, authors, gap, *marks, verdict, rule, result in zip(
            *columns, strict=True
        ):
            yield (
                ids[i],
                ids[j],
                round(title, 4),
                "" if math.isnan(authors) else round(authors, 4),
                "" if gap < 0 else gap,
                *(_flag(m) for m in marks),
                VERDICTS[verdict],
                table.rules[rule],
                OUTCOMES[result],
            )


def review_rows(records: Records, table: PairTable) -> Iterator[tuple]:
    """Yield ``dedup_review.csv``'s rows: the uncertain pairs, side by side."""
    c = table.columns
    ids, fields = records.ids, records.fields
    for k in np.flatnonzero(c["verdict"] == VERDICTS.index(UNCERTAIN)).tolist():
        i, j = int(c["i"][k]), int(c["j"][k])
        fields_i, fields_j = fields[i], fields[j]
        row: list[object] = [
            ids[i],
            ids[j],
            table.rules[int(c["rule"][k])],
            round(float(c["title"][k]), 4),
        ]
        for name in REVIEW_FIELDS:
            row += [fields_i.get(name, ""), fields_j.get(name, "")]
        row += ["", "", ""]
        yield tuple(row)


def summary_rows(records: Records, labels: np.ndarray, clusters: Clusters) -> list:
    """Return ``dedup_summary.csv``'s rows: one per search update."""
    updates = np.asarray(records.updates, dtype=np.int64)
    n = len(updates)
    first_update = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_update, labels, updates)
    kept = clusters.kept_of == np.arange(n)
    of_earlier_all = first_update[labels] < updates
    rows = []
    for stage in sorted(set(records.updates)):
        members = updates == stage
        n_members = int(members.sum())
        n_kept = int((kept & members).sum())
        of_earlier = int((of_earlier_all & members).sum())
        rows.append(
            (stage, n_members, n_members - n_kept - of_earlier, of_earlier, n_kept)
        )
    return rows


# ---------------------------------------------------------------------------
# Writing


def safe_ids(ids: Sequence[str]) -> list[str]:
    """Return record ids guarded against formula injection, as written in tables."""
    return [guard_formula(v) if v.startswith(FORMULA_PREFIXES) else v for v in ids]  # type: ignore[misc]


def rows_to_csv(
    path: Path, columns: Sequence[str], rows: Iterable[tuple], *, guard: bool = True
) -> int:
    """Write rows as CSV the way :func:`evsynth.io.frame_to_csv` writes a table.

    Text cells are guarded against formula injection (unless ``guard`` is
    false: rows whose text is guarded already), ``None`` is empty.

    Returns
    -------
    int
        The number of rows written.
    """
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([guard_header(c) for c in columns])
        batch: list[tuple] = []
        for row in rows:
            if guard and any(
                isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in row
            ):
                row = tuple(guard_formula(v) for v in row)
            batch.append(row)
            if len(batch) >= _ROWS:
                writer.writerows(batch)
                count += len(batch)
                batch.clear()
        writer.writerows(batch)
        count += len(batch)
    return count


def write_rows(
    out_dir: str | Path,
    tables: dict[str, tuple[Sequence[str], Iterable[tuple] | pd.DataFrame]],
    guarded: Iterable[str] = (),
) -> dict[str, int]:
    """Write tables (rows or data frames) into a folder, all or none.

    Parameters
    ----------
    out_dir : str or Path
        The folder.
    tables : dict
        File name to ``(columns, rows)`` or ``(ignored, data frame)``.
    guarded : iterable of str
        Names of tables whose rows hold guarded text already (ids through
        :func:`safe_ids`, and no other text that could need it).

    Returns
    -------
    dict of str to int
        Rows written per file.
    """
    folder = Path(out_dir)
    trusted = set(guarded)
    counts = {}
    with contextlib.ExitStack() as stack:
        for name, (columns, rows) in tables.items():
            tmp = stack.enter_context(atomic_path(folder / name))
            if isinstance(rows, pd.DataFrame):
                frame_to_csv(rows, tmp)
                counts[name] = len(rows)
            else:
                counts[name] = rows_to_csv(
                    tmp, columns, rows, guard=name not in trusted
                )
    return counts


def write_outcome(
    records: Records,
    table: PairTable,
    labels: np.ndarray,
    outcome: np.ndarray,
    out_dir: str | Path,
    id_column: str,
    *,
    review: bool = True,
    pairs: Iterable[tuple] | None = None,
) -> DedupCounts:
    """Write the five tables of a decided deduplication, row by row, all or none.

    Parameters
    ----------
    records : Records
        The records.
    table, labels, outcome :
        What :func:`decide` returned.
    out_dir : str or Path
        Output folder.
    id_column : str
        Name of the id column of ``unique.csv``.
    review : bool
        Whether to write the pairs, review and summary tables too.
    pairs : iterable of tuple, optional
        The rows of ``dedup_pairs.csv`` (ids guarded with :func:`safe_ids`),
        if ``table`` does not hold every pair (the sharded gather).

    Returns
    -------
    DedupCounts
        Records, clusters and pairs to review.
    """
    clusters = arrange(records, labels)
    ids = safe_ids(records.ids)
    tables: dict[str, tuple[Sequence[str], Iterable[tuple]]] = {
        "unique.csv": (
            unique_columns(id_column, len(records)),
            unique_rows(records, clusters),
        ),
        "clusters.csv": (("cluster_id", "record_id"), cluster_rows(ids, clusters)),
    }
    if review:
        tables["dedup_pairs.csv"] = (
            PAIR_COLUMNS,
            pair_rows(ids, table, outcome) if pairs is None else pairs,
        )
        tables["dedup_review.csv"] = (REVIEW_COLUMNS, review_rows(records, table))
        tables["dedup_summary.csv"] = (
            SUMMARY_COLUMNS if len(records) else (),
            summary_rows(records, labels, clusters),
        )
    write_rows(out_dir, tables, guarded=("clusters.csv", "dedup_pairs.csv"))
    n_review = int((table.columns["verdict"] == VERDICTS.index(UNCERTAIN)).sum())
    return DedupCounts(len(records), len(clusters.starts) - 1, n_review)


# ---------------------------------------------------------------------------
# Entry points


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while deduplicating.

    Deduplication builds millions of small objects and no reference cycles;
    the collector would scan them again and again (a third of the time of a
    million records).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def deduplicate(
    frame: pd.DataFrame,
    id_column: str = "record_id",
    *,
    update_column: str | None = "update",
    decisions: pd.DataFrame | None = None,
    decisions_source: str = "dedup_decisions.csv",
    source: str = "records",
) -> DedupResult:
    """Find the records that are the same citation and merge them.

    Parameters
    ----------
    frame : pandas.DataFrame
        Records with bibliographic columns (``title, author(s), year, journal,
        volume, number/issue, pages, doi, pmid, abstract, isbn, type``; missing
        ones allowed; names matched without regard to case, with the aliases of
        :mod:`evsynth.records.generic_csv`).
    id_column : str
        Column holding each record's unique id.
    update_column : str or None
        Column giving each record's search update (0 for the original search);
        records of later updates join earlier clusters but never change them.
    decisions : pandas.DataFrame, optional
        Reviewers' verdicts (``record_id_a, record_id_b, verdict``) that override
        the automatic ones.
    decisions_source : str
        Name of the decisions file, for messages.
    source : str
        Name of the records file, for messages.

    Returns
    -------
    DedupResult
        Unique records, clusters, pairs, the pairs to review, and a summary.
    """
    with paused_gc():
        records = records_from_frame(frame, id_column, update_column, source)
        table = compare_records(records)
        table, labels, outcome = decide(records, table, decisions, decisions_source)
        records.keys = None
        return result_frames(records, table, labels, outcome, id_column)


def result_frames(
    records: Records,
    table: PairTable,
    labels: np.ndarray,
    outcome: np.ndarray,
    id_column: str,
) -> DedupResult:
    """Return a decided deduplication as data frames (see :class:`DedupResult`)."""
    clusters = arrange(records, labels)
    names = unique_columns(id_column, len(records))
    columns: dict[str, list[object]] = {name: [] for name in names}
    lists = list(columns.values())
    for row in unique_rows(records, clusters):
        for values, value in zip(lists, row, strict=True):
            values.append(value)
    unique = pd.DataFrame(columns)
    del columns, lists
    clusters_frame = pd.DataFrame(
        {
            "cluster_id": [records.ids[k] for k in clusters.kept_of.tolist()],
            "record_id": records.ids,
        }
    )
    review = pd.DataFrame(
        list(review_rows(records, table)), columns=list(REVIEW_COLUMNS)
    )
    summary = pd.DataFrame(
        [
            dict(zip(SUMMARY_COLUMNS, row, strict=True))
            for row in summary_rows(records, labels, clusters)
        ]
    )
    ids = records.ids
    return DedupResult(
        unique,
        clusters_frame,
        review,
        summary,
        lambda: pair_rows(ids, table, outcome),
    )


def write_dedup(
    result: DedupResult, out_dir: str | Path, *, review: bool = True
) -> None:
    """Write the deduplication's tables into a folder, all or none.

    ``unique.csv`` and ``clusters.csv``, and with ``review`` also
    ``dedup_pairs.csv`` (written row by row), ``dedup_review.csv`` and
    ``dedup_summary.csv``.

    Parameters
    ----------
    result : DedupResult
        The deduplication.
    out_dir : str or Path
        Output folder (created if needed).
    review : bool
        Whether to write the review and pairs tables too.
    """
    tables: dict[str, tuple[Sequence[str], Iterable[tuple] | pd.DataFrame]] = {
        "unique.csv": ((), result.unique),
        "clusters.csv": ((), result.clusters),
    }
    if review:
        tables["dedup_pairs.csv"] = (PAIR_COLUMNS, result.pair_rows())
        tables["dedup_review.csv"] = ((), result.review)
        tables["dedup_summary.csv"] = ((), result.summary)
    write_rows(out_dir, tables)


def dedup_file(
    records: str | Path,
    out_dir: str | Path,
    *,
    id_column: str = "record_id",
    decisions: str | Path | None = None,
    workers: int = 1,
) -> DedupCounts:
    """Deduplicate a CSV of records and write the result tables into a folder.

    The records are read row by row and the tables written row by row (see
    the module's notes on memory).

    Parameters
    ----------
    records : str or Path
        CSV with an id column and bibliographic columns.
    out_dir : str or Path
        Folder for ``unique.csv``, ``clusters.csv``, ``dedup_pairs.csv``,
        ``dedup_review.csv`` and ``dedup_summary.csv``.
    id_column : str
        Column holding the record ids.
    decisions : str or Path, optional
        Reviewers' verdicts (``dedup_decisions.csv``); skipped if it does not exist.
    workers : int
        Processes that normalise the records and compute their keys (see
        :func:`records_from_file`); the tables are the same.

    Returns
    -------
    DedupCounts
        Records, clusters and pairs to review.
    """
    verdicts, source = load_verdicts(decisions)
    folder = Path(out_dir)
    with paused_gc():
        # the fields' temporary file goes next to the outputs if their folder
        # exists (no output folder is made before the input is read)
        data = records_from_file(
            records,
            id_column,
            spill=folder if folder.is_dir() else None,
            workers=workers,
        )
        try:
            table = compare_records(data)
            data.keys = None
            table, labels, outcome = decide(data, table, verdicts, source)
            return write_outcome(data, table, labels, outcome, folder, id_column)
        finally:
            data.fields.close()  # type: ignore[union-attr]
