"""Deduplication of bibliographic records.

Candidate pairs come from blocking (records sharing an identifier, a title
start or end, author-year-page or year-volume-page, or the title's longest
words), so cost grows with the number of records rather than its square. Each
pair is compared on normalised fields with rapidfuzz and decided by named rules
(:mod:`evsynth.records.dedup.rules`); duplicate pairs are merged into clusters
that never join records a must-not-merge rule or a reviewer has kept apart.

The entry points are :func:`deduplicate` (tables in memory) and
:func:`dedup_file` (a records file in, the tables written row by row, within
bounded memory); :mod:`evsynth.records.dedup.shard` splits the work into jobs
by blocking-key shard for a cluster, with the same tables.
"""

from __future__ import annotations

from evsynth.records.dedup.api import (
    TABLES,
    DedupCounts,
    DedupResult,
    dedup_file,
    deduplicate,
    read_decisions,
    write_dedup,
)

__all__ = [
    "TABLES",
    "DedupCounts",
    "DedupResult",
    "dedup_file",
    "deduplicate",
    "read_decisions",
    "write_dedup",
]
