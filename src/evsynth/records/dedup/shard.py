"""Deduplication sharded across jobs: a scatter of blocking-key shards and a gather.

Three stages, each a job with bounded memory, so that a cluster runs the jobs
of a stage in parallel:

1. :func:`write_keys` (``evsynth dedup-shard keys``), one job per chunk of the
   records file (every ``chunks``-th row): computes each record's match keys
   and blocking keys, and writes the match keys (one file for the chunk) and,
   for each shard, the blocking keys that fall in it with their records'
   numbers. A key's shard is ``zlib.crc32(key) % shards``, so every record of a
   block lands in the same shard and a block's size, and whether it is too
   large to pair (:data:`~evsynth.records.dedup.engine.MAX_BLOCK`), is the same
   as unsharded.
2. :func:`compare_shard` (``evsynth dedup-shard compare``), one job per shard:
   forms the shard's blocks, loads the match keys of the records that share a
   block only, compares the candidate pairs, and writes them as arrays.
3. :func:`gather` (``evsynth dedup-shard gather``), one job: reads the records
   again (row by row), takes the pairs that decide the clustering (duplicates,
   pairs kept apart, pairs for review) from every shard, applies reviewers'
   verdicts, clusters, and writes the five tables of the unsharded run, byte
   for byte, the pairs range by range of record numbers (a pair found in
   several shards is written once).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import marshal
import os
import shutil
import tempfile
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evsynth.errors import InputError
from evsynth.records.dedup import api
from evsynth.records.dedup.engine import (
    HARD_DISTINCT,
    KEEP_APART,
    PAIR_ARRAYS,
    VERDICTS,
    PairTable,
    blocking_keys,
    compare_table,
    concat_tables,
    pair_codes,
)
from evsynth.records.dedup.keys import MatchKeys, match_keys
from evsynth.records.dedup.rules import DISTINCT, DUPLICATE, UNCERTAIN

log = logging.getLogger("evsynth.records.dedup")

#: Pairs read at a time by the gather when it writes ``dedup_pairs.csv``.
_PAIRS_PER_RANGE = 2_000_000
_EXPECTED = "a CSV of records with bibliographic columns (title, author, year, ...)"


def shard_of(key: str, shards: int) -> int:
    """Return the shard of a blocking key: a stable hash (CRC-32) modulo ``shards``.

    Parameters
    ----------
    key : str
        A blocking key (:func:`~evsynth.records.dedup.engine.blocking_keys`).
    shards : int
        Number of shards.

    Returns
    -------
    int
        The shard, in ``range(shards)``.
    """
    return zlib.crc32(key.encode("utf-8")) % shards


def _check_counts(shards: int, chunks: int = 1) -> None:
    if shards < 1 or chunks < 1:
        raise InputError(
            f"{shards} shards and {chunks} chunks",
            expected="at least one shard and one chunk",
        )


@contextlib.contextmanager
def _atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``final`` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        tmp.replace(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")


def _read_json(path: Path, expected: str) -> dict:
    if not path.is_file():
        raise InputError("file not found", file=path, expected=expected)
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# Stage 1: keys


def write_keys(
    records: str | Path,
    out_dir: str | Path,
    *,
    chunk: int,
    chunks: int,
    shards: int,
    id_column: str = "record_id",
    update_column: str | None = "update",
) -> Path:
    """Compute the match and blocking keys of one chunk of the records.

    The chunk is every ``chunks``-th row of the file, starting at row
    ``chunk`` (0-based). Writes ``out_dir/chunk_<chunk>/``: ``keys.bin`` (each
    record's match keys, marshalled), ``offsets.npy`` (where each record's keys
    start), ``shard_<s>.bin`` (the blocking keys in shard ``s`` and their
    records' numbers) and ``meta.json``.

    Parameters
    ----------
    records : str or Path
        The records CSV.
    out_dir : str or Path
        Folder of the chunks' keys.
    chunk, chunks : int
        This chunk, and how many there are.
    shards : int
        Number of shards.
    id_column, update_column : str
        See :func:`evsynth.records.dedup.deduplicate`.

    Returns
    -------
    Path
        The chunk's folder.
    """
    _check_counts(shards, chunks)
    if not 0 <= chunk < chunks:
        raise InputError(f"chunk {chunk}", expected=f"a chunk in 0..{chunks - 1}")
    final = Path(out_dir) / f"chunk_{chunk}"
    entries: list[tuple[list[str], array]] = [([], array("q")) for _ in range(shards)]
    offsets = array("q", [0])
    with _atomic_dir(final) as tmp, (tmp / "keys.bin").open("wb") as handle:
        rows = api.iter_csv_rows(records, _EXPECTED)
        _, header = next(rows)
        if id_column not in header:
            raise api._no_id_column(id_column, str(records))
        names = [c.strip().lower() for c in header]
        update_at = (
            header.index(update_column)
            if update_column and update_column in header
            else -1
        )
        n = 0
        for number, (_, cells) in enumerate(rows):
            n += 1
            if number % chunks != chunk:
                continue
            fields = api.row_fields(dict(zip(names, cells, strict=True)))
            update = api._update(cells[update_at]) if update_at >= 0 else 0
            keys = match_keys(fields, update)
            data = marshal.dumps(api.keys_to_tuple(keys))
            handle.write(data)
            offsets.append(offsets[-1] + len(data))
            for key in blocking_keys(keys):
                keys_in, numbers = entries[shard_of(key, shards)]
                keys_in.append(key)
                numbers.append(number)
        handle.close()
        np.save(tmp / "offsets.npy", np.frombuffer(offsets, dtype=np.int64))
        for shard, (keys_in, numbers) in enumerate(entries):
            (tmp / f"shard_{shard}.bin").write_bytes(
                marshal.dumps((keys_in, numbers.tobytes()))
            )
        _write_json(
            tmp / "meta.json",
            {"chunk": chunk, "chunks": chunks, "shards": shards, "records": n},
        )
    return final


def _chunk_folders(keys_dir: Path, shards: int) -> tuple[list[Path], int]:
    """Return the chunks' folders in order and the number of records, checked."""
    expected = "the folders written by `evsynth dedup-shard keys`"
    first = _read_json(keys_dir / "chunk_0" / "meta.json", expected)
    chunks, n = first["chunks"], first["records"]
    folders = [keys_dir / f"chunk_{c}" for c in range(chunks)]
    for c, folder in enumerate(folders):
        meta = _read_json(folder / "meta.json", expected)
        if (meta["chunk"], meta["chunks"], meta["shards"], meta["records"]) != (
            c,
            chunks,
            shards,
            n,
        ):
            raise InputError(
                "written for another chunking, shard count or records file",
                file=folder / "meta.json",
                expected=f"chunk {c} of {chunks}, {shards} shards, {n} records",
            )
    return folders, n


class _KeyReader:
    """Reads back records' match keys from the chunks' ``keys.bin`` files."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.chunks = len(folders)
        self.offsets = [np.load(f / "offsets.npy", mmap_mode="r") for f in folders]
        self.files = [(f / "keys.bin").open("rb") for f in folders]

    def __getitem__(self, number: int) -> MatchKeys:
        chunk, local = number % self.chunks, number // self.chunks
        start = int(self.offsets[chunk][local])
        end = int(self.offsets[chunk][local + 1])
        data = os.pread(self.files[chunk].fileno(), end - start, start)
        return api.keys_from_tuple(marshal.loads(data))

    def close(self) -> None:
        for handle in self.files:
            handle.close()


# ---------------------------------------------------------------------------
# Stage 2: compare


def _save_table(folder: Path, table: PairTable, meta: dict) -> None:
    for name, values in table.columns.items():
        np.save(folder / f"{name}.npy", values)
    _write_json(folder / "meta.json", {**meta, "rules": table.rules})


def _load_table(folder: Path, mmap_mode: str | None = "r") -> tuple[PairTable, dict]:
    meta = _read_json(
        folder / "meta.json", "the folders written by `evsynth dedup-shard compare`"
    )
    columns = {
        name: np.load(folder / f"{name}.npy", mmap_mode=mmap_mode)
        for name in PAIR_ARRAYS
    }
    return PairTable(columns, list(meta["rules"])), meta


def compare_shard(
    keys_dir: str | Path, out_dir: str | Path, *, shard: int, shards: int
) -> Path:
    """Compare the candidate pairs of one shard's blocks.

    Writes ``out_dir/shard_<shard>/``: one ``.npy`` array per column of the
    compared pairs (:class:`~evsynth.records.dedup.engine.PairTable`, sorted by
    record numbers) and ``meta.json``.

    Parameters
    ----------
    keys_dir : str or Path
        Folder of the chunks' keys (:func:`write_keys`).
    out_dir : str or Path
        Folder of the shards' comparisons.
    shard, shards : int
        This shard, and how many there are.

    Returns
    -------
    Path
        The shard's folder.
    """
    _check_counts(shards)
    if not 0 <= shard < shards:
        raise InputError(f"shard {shard}", expected=f"a shard in 0..{shards - 1}")
    folders, n = _chunk_folders(Path(keys_dir), shards)
    blocks: dict[str, list[int]] = {}
    for folder in folders:
        keys_in, numbers = marshal.loads((folder / f"shard_{shard}.bin").read_bytes())
        for key, number in zip(
            keys_in, np.frombuffer(numbers, dtype=np.int64).tolist(), strict=True
        ):
            members = blocks.get(key)
            if members is None:
                blocks[key] = [number]
            else:
                members.append(number)
    # a block's members in input order (the chunks interleave rows)
    codes, skipped = pair_codes(
        (sorted(m) for m in blocks.values() if len(m) >= 2), max(n, 1)
    )
    del blocks
    first, second = codes // max(n, 1), codes % max(n, 1)
    reader = _KeyReader(folders)
    try:
        needed = np.union1d(first, second).tolist()
        keys = {number: reader[number] for number in needed}
    finally:
        reader.close()
    log.info(
        "shard %d: %d records in blocks, %d pairs, %d large blocks left",
        shard,
        len(keys),
        len(codes),
        skipped,
    )
    table = compare_table(keys, first, second)  # type: ignore[arg-type]
    final = Path(out_dir) / f"shard_{shard}"
    with _atomic_dir(final) as tmp:
        _save_table(tmp, table, {"shard": shard, "shards": shards, "records": n})
    return final


# ---------------------------------------------------------------------------
# Stage 3: gather


class _Compared:
    """The compare stage's tables, read one shard (or one range of it) at a time.

    Each read maps the shard's arrays and lets them go when done, so that the
    pages read count against the gather's memory only while they are used (a
    mapping kept open would keep every page read so far: all the pairs of all
    the shards by the end of ``dedup_pairs.csv``).
    """

    def __init__(self, compared_dir: Path, shards: int, n: int) -> None:
        self.folders = [compared_dir / f"shard_{shard}" for shard in range(shards)]
        for shard, folder in enumerate(self.folders):
            _, meta = _load_table(folder)
            if (meta["shard"], meta["shards"], meta["records"]) != (shard, shards, n):
                raise InputError(
                    "written for another shard count or records file",
                    file=folder / "meta.json",
                    expected=f"shard {shard} of {shards}, {n} records",
                )

    def __iter__(self) -> Iterator[PairTable]:
        """Yield each shard's table, mapped (drop it before taking the next)."""
        for folder in self.folders:
            yield _load_table(folder)[0]

    def pairs(self) -> int:
        """Return the number of pair rows in all the shards."""
        return sum(len(table) for table in self)

    def between(self, low: int, high: int) -> list[PairTable]:
        """Return each shard's pairs whose first record is in ``[low, high)``, copied."""
        pieces = []
        for table in self:
            start, end = np.searchsorted(table.columns["i"], [low, high])
            pieces.append(
                PairTable(
                    {k: np.array(v[start:end]) for k, v in table.columns.items()},
                    table.rules,
                )
            )
        return pieces


def _decisive(table: PairTable, endpoint: np.ndarray) -> np.ndarray:
    """Which pairs the clustering or the review table needs.

    Duplicates, pairs for review, and the pairs kept apart between records
    that ``endpoint`` marks (records of a duplicate pair or of a reviewer's
    verdict): a record in no duplicate pair stays a cluster of its own, so
    its pairs kept apart change nothing.
    """
    rules = table.rules
    hard_rule = np.array([r in HARD_DISTINCT for r in rules] or [False])
    apart_rule = np.array([r in KEEP_APART for r in rules] or [False])
    verdict = np.asarray(table.columns["verdict"])
    rule = np.asarray(table.columns["rule"])
    first = np.asarray(table.columns["i"])
    second = np.asarray(table.columns["j"])
    hard = ((verdict == VERDICTS.index(DISTINCT)) & hard_rule[rule]) | apart_rule[rule]
    return (
        (verdict == VERDICTS.index(DUPLICATE))
        | (verdict == VERDICTS.index(UNCERTAIN))
        | (hard & endpoint[first] & endpoint[second])
    )


def _endpoints(
    tables: Iterable[PairTable], ids: Sequence[str], decisions: pd.DataFrame | None
) -> np.ndarray:
    """Mark the records of duplicate pairs and of reviewers' verdicts."""
    endpoint = np.zeros(len(ids), dtype=bool)
    for table in tables:
        duplicate = np.asarray(table.columns["verdict"]) == VERDICTS.index(DUPLICATE)
        endpoint[np.asarray(table.columns["i"])[duplicate]] = True
        endpoint[np.asarray(table.columns["j"])[duplicate]] = True
    if decisions is not None and not decisions.empty:
        named = {str(v) for c in ("record_id_a", "record_id_b") for v in decisions[c]}
        for number, value in enumerate(ids):
            if value in named:
                endpoint[number] = True
    return endpoint


def _unique_sorted(table: PairTable, n: int) -> PairTable:
    """Keep each pair once (its first row) and sort by record numbers."""
    _, first = np.unique(table.codes(n), return_index=True)
    return table.select(first)


def _shard_pairs(
    shards: _Compared,
    decided: PairTable,
    outcome: np.ndarray,
    n: int,
    ids: Sequence[str],
) -> Iterator[tuple]:
    """Yield ``dedup_pairs.csv``'s rows, merging the shards range by range.

    ``decided`` (the decisive pairs, reviewers' verdicts applied) wins over a
    shard's row of the same pair; other pairs were merged with nothing.
    """
    total = shards.pairs() + len(decided)
    ranges = max(1, -(-total // _PAIRS_PER_RANGE))
    bounds = [n * r // ranges for r in range(ranges + 1)]
    for low, high in itertools.pairwise(bounds):
        start, end = np.searchsorted(decided.columns["i"], [low, high])
        own = decided.select(slice(start, end))
        joined = concat_tables([own, *shards.between(low, high)])
        del own
        outcome_all = np.concatenate(
            [outcome[start:end], np.zeros(len(joined) - (end - start), np.int8)]
        )
        codes = joined.codes(n)
        _, first = np.unique(codes, return_index=True)
        yield from api.pair_rows(ids, joined.select(first), outcome_all[first])


def gather(
    records: str | Path,
    compared_dir: str | Path,
    out_dir: str | Path,
    *,
    shards: int,
    id_column: str = "record_id",
    update_column: str | None = "update",
    decisions: str | Path | pd.DataFrame | None = None,
    workers: int = 1,
) -> api.DedupCounts:
    """Merge the shards' comparisons into clusters and write the five tables.

    The tables are those of :func:`evsynth.records.dedup.dedup_file` on the
    same records and decisions, byte for byte.

    Parameters
    ----------
    records : str or Path
        The records CSV (read again for the ids, updates and fields).
    compared_dir : str or Path
        Folder of the shards' comparisons (:func:`compare_shard`).
    out_dir : str or Path
        Folder for ``unique.csv``, ``clusters.csv``, ``dedup_pairs.csv``,
        ``dedup_review.csv`` and ``dedup_summary.csv``.
    shards : int
        Number of shards.
    id_column, update_column : str
        See :func:`evsynth.records.dedup.deduplicate`.
    decisions : str, Path or pandas.DataFrame, optional
        Reviewers' verdicts (a file is skipped if it does not exist).
    workers : int
        Processes that read the records' fields
        (:func:`~evsynth.records.dedup.api.records_from_file`).

    Returns
    -------
    DedupCounts
        Records, clusters and pairs to review.
    """
    _check_counts(shards)
    verdicts, source = api.load_verdicts(decisions)
    folder = Path(out_dir)
    with api.paused_gc():
        data = api.records_from_file(
            records,
            id_column,
            update_column,
            with_keys=False,
            spill=folder if folder.is_dir() else None,
            workers=workers,
        )
        try:
            n = len(data)
            compared = _Compared(Path(compared_dir), shards, n)
            endpoint = _endpoints(compared, data.ids, verdicts)
            decisive = concat_tables(
                [t.select(np.flatnonzero(_decisive(t, endpoint))) for t in compared]
            )
            del endpoint
            decisive = _unique_sorted(decisive, max(n, 1))
            decided, labels, outcome = api.decide(data, decisive, verdicts, source)
            return api.write_outcome(
                data,
                decided,
                labels,
                outcome,
                folder,
                id_column,
                pairs=_shard_pairs(
                    compared, decided, outcome, max(n, 1), api.safe_ids(data.ids)
                ),
            )
        finally:
            data.fields.close()  # type: ignore[union-attr]


def dedup_sharded(
    records: str | Path,
    out_dir: str | Path,
    *,
    shards: int,
    chunks: int = 1,
    id_column: str = "record_id",
    decisions: str | Path | pd.DataFrame | None = None,
    work_dir: str | Path | None = None,
) -> api.DedupCounts:
    """Run the three stages one after the other in this process (for testing).

    Parameters
    ----------
    records : str or Path
        The records CSV.
    out_dir : str or Path
        Folder for the five tables.
    shards, chunks : int
        Number of shards, and of chunks for the keys stage.
    id_column : str
        Column holding the record ids.
    decisions : str, Path or pandas.DataFrame, optional
        Reviewers' verdicts.
    work_dir : str or Path, optional
        Folder for the stages' intermediate files, kept. By default a
        temporary folder next to ``out_dir`` (on the same disk as the outputs,
        not the system's temporary folder, which may be small), removed
        afterwards.

    Returns
    -------
    DedupCounts
        Records, clusters and pairs to review.
    """
    with contextlib.ExitStack() as stack:
        if work_dir is not None:
            work = Path(work_dir)
        else:
            # the nearest folder there is (nothing is made before the input is read)
            near = next(p for p in Path(out_dir).resolve().parents if p.is_dir())
            work = Path(
                stack.enter_context(
                    tempfile.TemporaryDirectory(prefix=".evsynth-shards-", dir=near)
                )
            )
        for chunk in range(chunks):
            write_keys(
                records,
                work / "keys",
                chunk=chunk,
                chunks=chunks,
                shards=shards,
                id_column=id_column,
            )
        for shard in range(shards):
            compare_shard(work / "keys", work / "compared", shard=shard, shards=shards)
        return gather(
            records,
            work / "compared",
            out_dir,
            shards=shards,
            id_column=id_column,
            decisions=decisions,
        )


__all__ = [
    "compare_shard",
    "dedup_sharded",
    "gather",
    "shard_of",
    "write_keys",
]
