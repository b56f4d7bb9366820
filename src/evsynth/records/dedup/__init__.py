"""Deduplication of bibliographic records.

Candidate pairs come from blocking (records sharing an identifier, a title
start or end, author-year-page or year-volume-page, or the title's longest
words), so cost grows with the number of records rather than its square. Each
pair is compared on normalised fields with rapidfuzz and decided by named rules
(:mod:`evsynth.records.dedup.rules`); duplicate pairs are merged into clusters
that never join records a must-not-merge rule or a reviewer has kept apart.

The main entry point is :func:`deduplicate`.
"""

from __future__ import annotations

from evsynth.records.dedup.api import (
    DedupResult,
    dedup_file,
    deduplicate,
    read_decisions,
    write_dedup,
)

__all__ = ["DedupResult", "dedup_file", "deduplicate", "read_decisions", "write_dedup"]
