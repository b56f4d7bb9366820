"""Screening data: settings, the records to screen, and reviewers' decisions."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.errors import InputError

TITLE_ABSTRACT, FULL_TEXT = "title_abstract", "full_text"
STAGES = (TITLE_ABSTRACT, FULL_TEXT)
STAGE_NAMES = {TITLE_ABSTRACT: "title/abstract", FULL_TEXT: "full text"}
#: Source kinds of the manifest that PRISMA 2020 counts under databases and registers.
DBR_KINDS = {"database", "register"}
#: The other kinds, identified "via other methods" and taken straight to retrieval.
OTHER_KINDS = {"website", "organisation", "citation"}
DBR, OTHER = "databases_registers", "other_methods"
CONSENSUS = "consensus"


@dataclass(frozen=True)
class Settings:
    """The screening keys of the configuration.

    Parameters
    ----------
    reviewers : tuple of str
        Reviewers who screen independently.
    resolvers : tuple of str
        Who may resolve a conflict (``consensus`` and/or named third reviewers).
    needed : dict
        Independent decisions needed per record at each stage (1 or 2).
    reasons : tuple of str
        Full-text exclusion reasons, in the order to report them.
    """

    reviewers: tuple[str, ...]
    resolvers: tuple[str, ...] = (CONSENSUS,)
    needed: Mapping[str, int] = field(
        default_factory=lambda: {TITLE_ABSTRACT: 2, FULL_TEXT: 2}
    )
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_config(
        cls, screening: Mapping[str, Any], source: str = "config"
    ) -> Settings:
        """Build settings from the validated ``screening`` section of a config.

        Raises
        ------
        InputError
            If fewer reviewers are named than a stage needs, a name is both a
            reviewer and a resolver, or no full-text exclusion reasons are given.
        """
        reviewers = tuple(screening.get("reviewers", ()))
        resolvers = tuple(screening.get("resolvers", (CONSENSUS,)))
        per_stage = screening.get("reviewers_per_record", {})
        needed = {
            TITLE_ABSTRACT: int(per_stage.get(TITLE_ABSTRACT, 2)),
            FULL_TEXT: int(per_stage.get(FULL_TEXT, 2)),
        }
        most = max(needed.values())
        if len(reviewers) < most:
            raise InputError(
                f"{len(reviewers)} reviewer(s) named but a stage needs {most} "
                "independent decisions per record",
                file=source,
                column="screening/reviewers",
                expected=f"at least {most} reviewer names",
            )
        both = sorted(set(reviewers) & set(resolvers))
        if both:
            raise InputError(
                f"{', '.join(both)} is named both as a reviewer and as a resolver",
                file=source,
                column="screening/resolvers",
                expected="resolvers who are not screening reviewers, or consensus",
            )
        if CONSENSUS in reviewers:
            raise InputError(
                "consensus cannot be a reviewer",
                file=source,
                column="screening/reviewers",
                expected="people's names; consensus belongs in screening/resolvers",
            )
        reasons = tuple(screening.get("exclusion_reasons", ()))
        if not reasons:
            raise InputError(
                "no full-text exclusion reasons",
                file=source,
                column="screening/exclusion_reasons",
                expected="a list of reasons, e.g. [Wrong population, Wrong design]",
            )
        return cls(reviewers, resolvers, needed, reasons)

    def decision_words(self, stage: str) -> tuple[str, ...]:
        """Decisions allowed at a stage (``maybe`` only at title/abstract)."""
        if stage == TITLE_ABSTRACT:
            return ("include", "exclude", "maybe")
        return ("include", "exclude")


@dataclass(frozen=True)
class Decision:
    """One row of the decision log.

    Parameters
    ----------
    row : int
        1-based data row in the log (file order is decision order).
    record_id : str
        The unique record (cluster representative) the decision is about.
    given_id : str
        The record_id as written in the log (may be another record of the cluster).
    stage, reviewer, decision, reason, note, timestamp : str
        The log's columns (``reason``, ``note`` and ``timestamp`` may be "").
    """

    row: int
    record_id: str
    given_id: str
    stage: str
    reviewer: str
    decision: str
    reason: str = ""
    note: str = ""
    timestamp: str = ""

    @property
    def vote(self) -> str:
        """The decision as it counts: ``maybe`` counts as include (Covidence)."""
        return "include" if self.decision == "maybe" else self.decision

    @property
    def verdict(self) -> tuple[str, str]:
        """What two decisions must share to agree: the vote, and at full text the reason."""
        if self.stage == FULL_TEXT and self.vote == "exclude":
            return (self.vote, self.reason)
        return (self.vote, "")


@dataclass
class RecordSet:
    """The unique records to screen and how any record id maps onto them.

    Parameters
    ----------
    unique : pandas.DataFrame
        results/records/unique.csv (one row per duplicate cluster).
    representative : dict
        Every imported record_id -> the record_id of its cluster's unique row.
    column : dict
        Unique record_id -> ``databases_registers`` or ``other_methods``: the
        PRISMA column (:func:`prisma_column`). A cluster belongs to the first
        when a record of its first search round came from a database or
        register: that record is the one screened at title/abstract, and the
        cluster's other records (another database's copy, a copy found via
        other methods, a copy from a later round) are duplicates of it.
    identified : dict
        PRISMA identification counts: per kind, a list of (source name, records).
    n_imported : int
        Records imported (before deduplication).
    kind : dict, optional
        Every imported record_id -> the manifest kind of its search
        (``database``, ``register``, ``website``, ``organisation``,
        ``citation``). Records left out count as the kind of their cluster's
        column (``database`` or ``website``).
    update : dict, optional
        Every imported record_id -> its search round (0 for the original
        search); records left out count as round 0.
    """

    unique: pd.DataFrame
    representative: dict[str, str]
    column: dict[str, str]
    identified: dict[str, list[tuple[str, int]]]
    n_imported: int
    kind: dict[str, str] = field(default_factory=dict)
    update: dict[str, int] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        """Unique record ids in the order of unique.csv."""
        return list(self.unique["record_id"])

    def title(self, record_id: str) -> str:
        """Title of a unique record."""
        return str(self._titles.get(record_id, ""))

    @functools.cached_property
    def _titles(self) -> dict[str, str]:
        titles = self.unique.get("title", pd.Series([""] * len(self.unique)))
        return dict(zip(self.unique["record_id"], titles, strict=True))


def read_record_set(
    records: str | Path,
    unique: str | Path,
    clusters: str | Path,
    summary: str | Path,
) -> RecordSet:
    """Read the records stage's outputs into a :class:`RecordSet`.

    Parameters
    ----------
    records, unique, clusters, summary : path
        results/records/records.csv, unique.csv, clusters.csv and import_summary.csv.

    Returns
    -------
    RecordSet
        The records to screen.
    """
    read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8"}
    all_records = pd.read_csv(
        records, usecols=lambda c: c in ("record_id", "source_file", "update"), **read
    )
    unique_frame = pd.read_csv(unique, **read)
    cluster_frame = pd.read_csv(clusters, **read)
    summary_frame = pd.read_csv(summary, **read)
    kind_of_file = dict(zip(summary_frame["file"], summary_frame["kind"], strict=True))
    rep_of_cluster = dict(
        zip(unique_frame["cluster_id"], unique_frame["record_id"], strict=True)
    )
    representative = {
        rid: rep_of_cluster[cid]
        for cid, rid in zip(
            cluster_frame["cluster_id"], cluster_frame["record_id"], strict=True
        )
    }
    kind_of = {
        rid: kind_of_file.get(source, "database")
        for rid, source in zip(
            all_records["record_id"], all_records["source_file"], strict=True
        )
    }
    rounds = (
        all_records["update"]
        if "update" in all_records.columns
        else pd.Series([""] * len(all_records))
    )
    update = {
        rid: int(float(u)) if str(u).strip() else 0
        for rid, u in zip(all_records["record_id"], rounds, strict=True)
    }
    column = prisma_column(
        list(unique_frame["record_id"]), representative, kind_of, update
    )
    identified: dict[str, list[tuple[str, int]]] = {}
    per_source: dict[tuple[str, str], int] = {}
    for row in summary_frame.itertuples(index=False):
        key = (str(row.kind), str(row.database))
        per_source[key] = per_source.get(key, 0) + int(row.n_parsed)
    for (kind, name), n in per_source.items():
        identified.setdefault(kind, []).append((name, n))
    return RecordSet(
        unique=unique_frame,
        representative=representative,
        column=column,
        identified=identified,
        n_imported=len(all_records),
        kind=kind_of,
        update=update,
    )


def prisma_column(
    unique_ids: list[str],
    representative: Mapping[str, str],
    kind: Mapping[str, str],
    update: Mapping[str, int],
) -> dict[str, str]:
    """Assign each unique record (duplicate cluster) to its PRISMA 2020 column.

    A cluster is screened in the databases-and-registers column when a record
    of its *first* search round came from a database or register, and goes
    straight to retrieval in the other-methods column otherwise. Only the
    first round counts, so a cluster never changes column when a later
    round's search finds it again: an other-methods cluster already retrieved
    and assessed is not sent back to title/abstract screening because a
    database found it in an update (that database record is a duplicate
    removed in the update's databases column).

    Parameters
    ----------
    unique_ids : list of str
        The unique records' ids (unique.csv's ``record_id``).
    representative : mapping
        Every imported record_id -> its unique record's id.
    kind : mapping
        Every imported record_id -> its search's manifest kind.
    update : mapping
        Every imported record_id -> its search round.

    Returns
    -------
    dict
        Unique record_id -> ``databases_registers`` or ``other_methods``.
    """
    first: dict[str, int] = {}
    for rid, rep in representative.items():
        first[rep] = min(first.get(rep, update.get(rid, 0)), update.get(rid, 0))
    database: set[str] = set()
    for rid, rep in representative.items():
        if update.get(rid, 0) == first[rep] and kind.get(rid, "database") in DBR_KINDS:
            database.add(rep)
    return {
        rid: DBR if rid in database or rid not in first else OTHER for rid in unique_ids
    }
