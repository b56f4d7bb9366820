"""The deduplication entry points: tables in, tables out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evsynth.errors import InputError
from evsynth.io import read_csv_text, write_tables
from evsynth.records import generic_csv
from evsynth.records.dedup.engine import candidate_pairs, cluster, compare_pairs
from evsynth.records.dedup.keys import match_keys
from evsynth.records.dedup.rules import DISTINCT, DUPLICATE, UNCERTAIN, Comparison
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
    pairs : pandas.DataFrame
        Every candidate pair with its similarities, verdict and deciding rule.
    review : pandas.DataFrame
        The uncertain pairs side by side, with empty ``verdict, reviewer, date``
        columns to fill in and copy to ``records/dedup_decisions.csv``.
    summary : pandas.DataFrame
        Per search update: records, duplicates within the update, duplicates of
        earlier records, and new unique records.
    """

    unique: pd.DataFrame
    clusters: pd.DataFrame
    pairs: pd.DataFrame
    review: pd.DataFrame
    summary: pd.DataFrame


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


def _fields(frame: pd.DataFrame) -> list[dict[str, str]]:
    columns = {c: str(c).strip().lower() for c in frame.columns}
    rows = frame.rename(columns=columns).astype(object).where(frame.notna().values, "")
    out = []
    for row in rows.to_dict(orient="records"):
        cells = {k: str(v).strip() for k, v in row.items() if v is not None and v != ""}
        out.append(generic_csv.to_fields(cells).fields)
    return out


def _apply_decisions(
    decisions: pd.DataFrame | None,
    index_of: dict[str, int],
    comparisons: dict[tuple[int, int], Comparison],
    all_keys: list,
    source: str,
) -> None:
    if decisions is None or decisions.empty:
        return
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
        i, j = sorted(ids)
        base = comparisons.get((i, j)) or compare_pairs(all_keys, [(i, j)], 1)[(i, j)]
        base.verdict = DUPLICATE if row["verdict"] == "duplicate" else DISTINCT
        base.rule = "reviewer"
        comparisons[(i, j)] = base


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
    if id_column not in frame.columns:
        raise InputError(
            f"no column {id_column!r}",
            file=source,
            line=1,
            expected="a column of unique record ids (choose it with --id-column)",
        )
    ids = [str(v) for v in frame[id_column]]
    seen: dict[str, int] = {}
    for position, value in enumerate(ids, start=1):
        if value in seen or not value:
            problem = f"repeated (first on row {seen[value]})" if value else "empty"
            raise InputError(
                f"record id {value!r} is {problem}",
                file=source,
                line=position + 1,
                row=position,
                column=id_column,
                expected="one unique id per record",
            )
        seen[value] = position
    updates = (
        [int(float(u or 0)) for u in frame[update_column].fillna(0)]
        if update_column and update_column in frame.columns
        else [0] * len(frame)
    )
    fields = _fields(frame)
    all_keys = [match_keys(f, u) for f, u in zip(fields, updates, strict=True)]
    pairs = candidate_pairs(all_keys)
    log.info("%d records, %d candidate pairs", len(all_keys), len(pairs))
    comparisons = compare_pairs(all_keys, pairs, len(pairs))
    index_of = {value: i for i, value in enumerate(ids)}
    _apply_decisions(decisions, index_of, comparisons, all_keys, decisions_source)
    clustering = cluster(len(all_keys), comparisons, updates)
    return _tables(frame, ids, id_column, fields, updates, comparisons, clustering)


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


def _completeness(fields: dict[str, str]) -> int:
    return sum(bool(fields.get(k)) for k in BIB_FIELDS)


def _tables(
    frame, ids, id_column, fields, updates, comparisons, clustering
) -> DedupResult:
    groups: dict[int, list[int]] = {}
    for position, label in enumerate(clustering.labels):
        groups.setdefault(label, []).append(position)
    kept_of: dict[int, int] = {}
    chosen: list[tuple[int, list[int], list[int]]] = []
    for label, group in groups.items():
        ordered = sorted(
            group, key=lambda p: (updates[p], -_completeness(fields[p]), p)
        )
        kept_of[label] = ordered[0]
        chosen.append((ordered[0], group, ordered))
    chosen.sort(key=lambda item: item[0])
    # kept column by column: a row dict per cluster would double the memory
    columns: dict[str, list[object]] = {}
    for kept, group, ordered in chosen:
        row: dict[str, object] = {
            id_column: ids[kept],
            "cluster_id": ids[kept],
            "n_records": len(group),
            "merged_ids": "; ".join(ids[p] for p in group),
        }
        for name in BIB_FIELDS:
            row[name] = _most_complete(name, [fields[p].get(name, "") for p in ordered])
        for name in ("doi", "pmid", "accession"):
            # each identifier once, as the first record wrote it; DOIs that
            # differ only in case are one DOI
            seen: dict[str, str] = {}
            for p in group:
                value = fields[p].get(name, "")
                if value:
                    seen.setdefault(value.lower() if name == "doi" else value, value)
            row[f"{name}s"] = "; ".join(seen.values())
        for name, value in row.items():
            columns.setdefault(name, []).append(value)
    unique = pd.DataFrame(columns)
    del columns, chosen
    clusters = pd.DataFrame(
        {
            "cluster_id": [ids[kept_of[label]] for label in clustering.labels],
            "record_id": ids,
        }
    )
    pairs = _pairs_frame(ids, comparisons, clustering)
    review = _review_frame(ids, fields, comparisons)
    summary = _summary(ids, updates, clustering.labels, kept_of)
    return DedupResult(unique, clusters, pairs, review, summary)


def _flag(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _pairs_frame(ids, comparisons, clustering) -> pd.DataFrame:
    rows = []
    for (i, j), c in sorted(comparisons.items()):
        rows.append(
            (
                ids[i],
                ids[j],
                round(c.title, 4),
                "" if c.authors is None else round(c.authors, 4),
                "" if c.year_gap is None else c.year_gap,
                _flag(c.journal),
                _flag(c.volume),
                _flag(c.pages),
                _flag(c.doi),
                _flag(c.pmid),
                c.verdict,
                c.rule,
                "yes"
                if (i, j) in clustering.merged
                else (clustering.blocked.get((i, j), "no")),
            )
        )
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def _review_frame(ids, fields, comparisons) -> pd.DataFrame:
    rows = []
    for (i, j), c in sorted(comparisons.items()):
        if c.verdict != UNCERTAIN:
            continue
        row = {"record_id_a": ids[i], "record_id_b": ids[j], "rule": c.rule}
        row["title_similarity"] = round(c.title, 4)
        for name in REVIEW_FIELDS:
            row[f"{name}_a"] = fields[i].get(name, "")
            row[f"{name}_b"] = fields[j].get(name, "")
        row.update(verdict="", reviewer="", date="")
        rows.append(row)
    columns = ["record_id_a", "record_id_b", "rule", "title_similarity"]
    columns += [f"{n}_{s}" for n in REVIEW_FIELDS for s in ("a", "b")]
    columns += ["verdict", "reviewer", "date"]
    return pd.DataFrame(rows, columns=columns)


def _summary(ids, updates, labels, kept_of) -> pd.DataFrame:
    first_update: dict[int, int] = {}
    for position, label in enumerate(labels):
        first_update[label] = min(
            first_update.get(label, updates[position]), updates[position]
        )
    rows = []
    for stage in sorted(set(updates)):
        members = [p for p, u in enumerate(updates) if u == stage]
        kept = sum(1 for p in members if kept_of[labels[p]] == p)
        of_earlier = sum(1 for p in members if first_update[labels[p]] < stage)
        rows.append(
            {
                "update": stage,
                "n_records": len(members),
                "n_duplicates_within": len(members) - kept - of_earlier,
                "n_duplicates_of_earlier": of_earlier,
                "n_unique_new": kept,
            }
        )
    return pd.DataFrame(rows)


def write_dedup(
    result: DedupResult, out_dir: str | Path, *, review: bool = True
) -> None:
    """Write the deduplication's tables into a folder, all or none.

    ``unique.csv`` and ``clusters.csv``, and with ``review`` also
    ``dedup_pairs.csv``, ``dedup_review.csv`` and ``dedup_summary.csv``.

    Parameters
    ----------
    result : DedupResult
        The deduplication.
    out_dir : str or Path
        Output folder (created if needed).
    review : bool
        Whether to write the review and pairs tables too.
    """
    folder = Path(out_dir)
    tables = {
        folder / "unique.csv": result.unique,
        folder / "clusters.csv": result.clusters,
    }
    if review:
        tables[folder / "dedup_pairs.csv"] = result.pairs
        tables[folder / "dedup_review.csv"] = result.review
        tables[folder / "dedup_summary.csv"] = result.summary
    write_tables(tables)


def dedup_file(
    records: str | Path,
    out_dir: str | Path,
    *,
    id_column: str = "record_id",
    decisions: str | Path | None = None,
) -> DedupResult:
    """Deduplicate a CSV of records and write the result tables into a folder.

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

    Returns
    -------
    DedupResult
        The result that was written.
    """
    path = Path(records)
    frame = read_csv_text(
        path, "a CSV of records with bibliographic columns (title, author, year, ...)"
    )
    verdicts = None
    if decisions is not None and Path(decisions).is_file():
        verdicts = read_decisions(decisions)
    result = deduplicate(
        frame,
        id_column,
        decisions=verdicts,
        decisions_source=str(decisions),
        source=str(path),
    )
    write_dedup(result, out_dir)
    return result
