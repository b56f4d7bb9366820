"""Compact snapshots of a living review's key results, one per search round.

A living review is updated in rounds: the ``update`` number of the search
manifest (``data/searches/searches.csv``), 0 for the original search. After
each run of the pipeline :func:`take_snapshot` copies the round's key results
into ``<history>/round_<n>/``:

``records.csv``
    record_id, update, cluster_id and kept (True for the unique record that
    stands for its duplicate cluster).
``decisions.csv``
    record_id, stage, status, reason, final_state, prisma_column and study_id
    of the screening (older snapshots lack the last two: they read as empty).
``effects.csv``
    The effect sizes: study_id, outcome, domain, timepoint, comparison,
    measure, yi, vi, ci_lb, ci_ub, input_set and method.
``pooled.csv``
    One row per meta-analysis: analysis, k, studies, estimate, ci_lb, ci_ub,
    pi_lb, pi_ub, tau2, I2 and Q_p.
``prisma.json``
    A copy of ``results/screening/prisma_counts.json`` (cumulative counts).
``certainty.csv``
    The certainty of the evidence (GRADE) of each analysis, compacted from
    ``results/grade/certainty.csv`` to one row per analysis: analysis, label,
    certainty (high, moderate, low, very low), level (4 to 1), provisional
    (yes/no) and, per domain (start, risk_of_bias, inconsistency,
    indirectness, imprecision, publication_bias, large_effect,
    dose_response), the rating that counts (the team's judgement, else the
    proposal). Header only when the GRADE stage has not run. Snapshots
    written before this file existed lack it: they read as "no certainty
    recorded" (:attr:`Snapshot.certainty` is None).
``decision_log.csv``
    The review's decision log (``screening/decisions.csv``) as this run read it,
    one row per row of the log: ``row`` (1-based data row), ``record_id``,
    ``stage``, ``reviewer``, ``decision`` and ``cell_hashes`` (a short SHA-256
    of each of the log's columns record_id, stage, reviewer, decision, reason,
    note, timestamp, stripped, separated by spaces). The log is append-only:
    :func:`check_decision_log` compares the log with the latest snapshot that
    has this file and refuses a rewritten or deleted earlier row. Snapshots
    written before this file existed lack it; they read as before and the
    check starts with the next snapshot.
``meta.json``
    The round, the evsynth version and which results files were snapshotted.

Cells are copied as text, so numbers keep every digit and the same results
always give the same bytes. The files are written all or none. Stages that
have not run yet (no effect sizes or meta-analyses) give empty tables with
their headers.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth import __version__
from evsynth.errors import EvsynthError, InputError
from evsynth.io import frame_to_csv, read_csv_text, write_files

__all__ = [
    "CERTAINTY_COLUMNS",
    "CERTAINTY_DOMAINS",
    "CERTAINTY_LEVELS",
    "DECISION_COLUMNS",
    "DECISION_LOG_COLUMNS",
    "EFFECT_COLUMNS",
    "EFFECT_KEY",
    "LOG_COLUMNS",
    "POOLED_COLUMNS",
    "RECORD_COLUMNS",
    "SNAPSHOT_FILES",
    "SOURCES",
    "HistoryError",
    "Snapshot",
    "accept_log_edits",
    "certainty_table",
    "check_decision_log",
    "current_round",
    "decision_log_edits",
    "decision_log_table",
    "list_rounds",
    "read_snapshot",
    "snapshot_dir",
    "take_snapshot",
]

RECORD_COLUMNS = ["record_id", "update", "cluster_id", "kept"]
DECISION_COLUMNS = [
    "record_id",
    "stage",
    "status",
    "reason",
    "final_state",
    "prisma_column",
    "study_id",
]
#: Decision columns every snapshot has; ``prisma_column`` and ``study_id`` came
#: later and read as empty from older snapshots.
_REQUIRED_DECISION_COLUMNS = DECISION_COLUMNS[:5]
#: The columns that identify one effect size across rounds.
EFFECT_KEY = ["study_id", "outcome", "domain", "timepoint", "comparison"]
EFFECT_COLUMNS = [
    *EFFECT_KEY,
    "measure",
    "yi",
    "vi",
    "ci_lb",
    "ci_ub",
    "input_set",
    "method",
]
POOLED_COLUMNS = [
    "analysis",
    "k",
    "studies",
    "estimate",
    "ci_lb",
    "ci_ub",
    "pi_lb",
    "pi_ub",
    "tau2",
    "I2",
    "Q_p",
]
#: GRADE's certainty levels, lowest first (index + 1 is the level); as
#: :data:`evsynth.grade.rules.LEVELS`, kept here so that reading a snapshot
#: does not import the GRADE rules.
CERTAINTY_LEVELS = ("very low", "low", "moderate", "high")
#: The domains of a GRADE rating, as :data:`evsynth.grade.rules.DOMAINS`.
CERTAINTY_DOMAINS = (
    "start",
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
    "large_effect",
    "dose_response",
)
#: The columns of a snapshot's ``certainty.csv``: one row per analysis.
CERTAINTY_COLUMNS = [
    "analysis",
    "label",
    "certainty",
    "level",
    "provisional",
    *CERTAINTY_DOMAINS,
]
#: The files of one snapshot, in the order they are written.
SNAPSHOT_FILES = (
    "records.csv",
    "decisions.csv",
    "effects.csv",
    "pooled.csv",
    "prisma.json",
    "decision_log.csv",
    "certainty.csv",
    "meta.json",
)
#: Snapshot files that older snapshots lack (read as absent, never required).
OPTIONAL_FILES = frozenset({"decision_log.csv", "certainty.csv"})
#: The columns of the decision log that its snapshot records (hashed).
LOG_COLUMNS = (
    "record_id",
    "stage",
    "reviewer",
    "decision",
    "reason",
    "note",
    "timestamp",
)
#: The columns of a snapshot's ``decision_log.csv``.
DECISION_LOG_COLUMNS = [
    "row",
    "record_id",
    "stage",
    "reviewer",
    "decision",
    "cell_hashes",
]
#: The results files (relative to the results folder) each snapshot file is
#: made from.
SOURCES: dict[str, tuple[str, ...]] = {
    "records.csv": (
        "records/records.csv",
        "records/clusters.csv",
        "records/unique.csv",
    ),
    "decisions.csv": ("screening/final_decisions.csv",),
    "effects.csv": ("effects/effects.csv",),
    "pooled.csv": ("meta/summary.csv",),
    "prisma.json": ("screening/prisma_counts.json",),
    "certainty.csv": ("grade/certainty.csv",),
}

_ROUND_DIR = re.compile(r"^round_(\d+)$")
_RUN_PIPELINE = "run the pipeline first (snakemake --cores 2)"


class HistoryError(EvsynthError):
    """A snapshot or the results it is taken from are missing or inconsistent."""


# --- reading results -------------------------------------------------------------


def _read_text_table(
    path: Path, required: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    """Read a CSV as text; return ``columns`` (missing optional ones empty).

    Raises
    ------
    InputError
        If a column of ``required`` is missing, or the file is missing, empty
        or not readable as CSV (:func:`evsynth.io.read_csv_text`).
    """
    frame = read_csv_text(path, "a CSV header")
    for column in required:
        if column not in frame.columns:
            raise InputError(
                f"missing column {column!r}",
                file=path,
                line=1,
                expected=f"the columns {', '.join(required)}",
            )
    out = pd.DataFrame(
        {c: frame[c] if c in frame.columns else "" for c in columns},
        columns=list(columns),
        index=frame.index,
    )
    return out.reset_index(drop=True)


def _update_number(value: str, path: Path, row: int) -> int:
    text = value.strip()
    if not text:
        return 0
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number >= 0 and number.is_integer()):
        raise InputError(
            f"update {value!r} is not a search round",
            file=path,
            line=row + 1,
            row=row,
            column="update",
            expected="a whole number >= 0 (0 for the original search)",
        )
    return int(number)


def _updates(path: Path) -> list[int]:
    if not path.is_file():
        raise HistoryError(f"{path} not found: {_RUN_PIPELINE}")
    frame = _read_text_table(path, ["record_id", "update"], ["record_id", "update"])
    return [_update_number(v, path, i + 1) for i, v in enumerate(frame["update"])]


def current_round(records_csv: str | Path) -> int:
    """Return the latest search round of the records: the largest ``update``.

    Parameters
    ----------
    records_csv : str or Path
        ``results/records/records.csv``, whose ``update`` column comes from
        the search manifest (0 for the original search, 1 for the first
        update, ...).

    Returns
    -------
    int
        The largest update number; 0 when there are no records.

    Raises
    ------
    HistoryError
        If the file does not exist (the pipeline has not run).
    InputError
        If the ``update`` column is missing or holds something other than a
        whole number >= 0.
    """
    return max(_updates(Path(records_csv)), default=0)


def _check_round(round_no: object) -> int:
    if (
        isinstance(round_no, bool)
        or not isinstance(round_no, numbers.Integral)
        or int(round_no) < 0
    ):
        raise ValueError(f"round_no must be a whole number >= 0, got {round_no!r}")
    return int(round_no)


def _records_table(results: Path, round_no: int) -> pd.DataFrame:
    records_csv, clusters_csv, unique_csv = (
        results / p for p in SOURCES["records.csv"]
    )
    for path in (records_csv, clusters_csv, unique_csv):
        if not path.is_file():
            raise HistoryError(
                f"{path} not found: the records stage has not run; {_RUN_PIPELINE}"
            )
    records = _read_text_table(
        records_csv, ["record_id", "update"], ["record_id", "update"]
    )
    updates = [
        _update_number(v, records_csv, i + 1) for i, v in enumerate(records["update"])
    ]
    latest = max(updates, default=0)
    if round_no < latest:
        raise HistoryError(
            f"cannot snapshot round {round_no}: {records_csv} already holds records "
            f"of update {latest}; snapshot each round right after its run "
            f"(current_round() gives {latest})"
        )
    clusters = _read_text_table(
        clusters_csv, ["cluster_id", "record_id"], ["cluster_id", "record_id"]
    )
    unique = _read_text_table(unique_csv, ["record_id"], ["record_id"])
    cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True))
    missing = [r for r in records["record_id"] if r not in cluster_of]
    if missing:
        raise HistoryError(
            f"{clusters_csv} has no cluster for {len(missing)} record(s) of "
            f"{records_csv} (first: {missing[0]!r}); the records stage's outputs "
            f"disagree: run it again ({_RUN_PIPELINE})"
        )
    kept = set(unique["record_id"])
    return pd.DataFrame(
        {
            "record_id": records["record_id"],
            "update": [str(u) for u in updates],
            "cluster_id": [cluster_of[r] for r in records["record_id"]],
            "kept": [str(r in kept) for r in records["record_id"]],
        },
        columns=RECORD_COLUMNS,
    )


def _optional_table(
    path: Path, required: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return _read_text_table(path, required, columns)


#: The columns of ``results/grade/certainty.csv`` the snapshot reads.
_GRADE_REQUIRED = ["analysis", "domain", "rating", "certainty", "provisional"]
_GRADE_EXPECTED = "results/grade/certainty.csv as the GRADE stage writes it"


def _grade_error(
    path: Path, row: int, column: str, message: str, expected: str
) -> InputError:
    return InputError(
        message, file=path, line=row + 1, row=row, column=column, expected=expected
    )


def certainty_table(path: str | Path) -> pd.DataFrame:
    """Compact the GRADE stage's certainty.csv to one row per analysis.

    Parameters
    ----------
    path : str or Path
        ``results/grade/certainty.csv``: one row per analysis and domain with
        (at least) analysis, domain, rating (the rating that counts),
        certainty and provisional; outcome (the analysis's label) is used
        when present. A missing file gives no rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CERTAINTY_COLUMNS`, every cell text, analyses in the
        order of the file: the label (the outcome, else the analysis name),
        the certainty word, its level (``"4"`` high to ``"1"`` very low),
        provisional as written, and each domain's rating ("" for a domain the
        file does not rate).

    Raises
    ------
    InputError
        If a required column is missing, a certainty is not one of
        :data:`CERTAINTY_LEVELS`, the rows of one analysis disagree on its
        certainty or provisional, a domain is not one of
        :data:`CERTAINTY_DOMAINS`, or an analysis rates a domain twice; the
        message names the file, line, row and column.
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CERTAINTY_COLUMNS})
    frame = _read_text_table(path, _GRADE_REQUIRED, [*_GRADE_REQUIRED, "outcome"])
    rows: dict[str, dict[str, str]] = {}
    rated: set[tuple[str, str]] = set()
    for index, cells in enumerate(frame.to_dict(orient="records")):
        row_no = index + 1
        analysis = cells["analysis"].strip()
        if not analysis:
            raise _grade_error(path, row_no, "analysis", "no analysis", "its name")
        word = " ".join(cells["certainty"].split()).lower()
        if word not in CERTAINTY_LEVELS:
            raise _grade_error(
                path,
                row_no,
                "certainty",
                f"certainty {cells['certainty']!r} is not a GRADE level",
                "one of " + ", ".join(CERTAINTY_LEVELS),
            )
        domain = cells["domain"].strip()
        if domain not in CERTAINTY_DOMAINS:
            raise _grade_error(
                path,
                row_no,
                "domain",
                f"domain {cells['domain']!r} is not a GRADE domain",
                "one of " + ", ".join(CERTAINTY_DOMAINS),
            )
        if (analysis, domain) in rated:
            raise _grade_error(
                path,
                row_no,
                "domain",
                f"analysis {analysis!r} rates {domain} twice",
                "one row per analysis and domain",
            )
        rated.add((analysis, domain))
        provisional = cells["provisional"].strip()
        row = rows.setdefault(
            analysis,
            {
                "analysis": analysis,
                "label": _unguard(cells["outcome"].strip()) or analysis,
                "certainty": word,
                "level": str(CERTAINTY_LEVELS.index(word) + 1),
                "provisional": provisional,
                **dict.fromkeys(CERTAINTY_DOMAINS, ""),
            },
        )
        for column, value in (("certainty", word), ("provisional", provisional)):
            if value != row[column]:
                raise _grade_error(
                    path,
                    row_no,
                    column,
                    f"{column} {value!r} of analysis {analysis!r} differs from "
                    f"{row[column]!r} on its earlier rows",
                    f"one {column} per analysis",
                )
        row[domain] = cells["rating"].strip()
    return pd.DataFrame(list(rows.values()), columns=CERTAINTY_COLUMNS, dtype=object)


def _csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame_to_csv(frame, path)


def _bytes_writer(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def snapshot_dir(history_dir: str | Path, round_no: int) -> Path:
    """Return the folder of a round's snapshot: ``<history_dir>/round_<n>``."""
    return Path(history_dir) / f"round_{_check_round(round_no)}"


def take_snapshot(
    results_dir: str | Path,
    history_dir: str | Path,
    round_no: int,
    decision_log: str | Path | None = None,
) -> list[Path]:
    """Store the key results of one search round in ``history_dir/round_<n>/``.

    Parameters
    ----------
    results_dir : str or Path
        The pipeline's results folder (``results``).
    history_dir : str or Path
        Where the snapshots are kept; created if needed.
    round_no : int
        The search round the results belong to, normally
        ``current_round(results_dir / "records/records.csv")``.
    decision_log : path, optional
        The review's decision log. It is first checked against the latest
        snapshot (:func:`check_decision_log`), then recorded in
        decision_log.csv. Without it decision_log.csv holds its header only.

    Returns
    -------
    list of Path
        The files written: records.csv, decisions.csv, effects.csv,
        pooled.csv, prisma.json, decision_log.csv, certainty.csv and meta.json
        (see the module's docstring). An earlier snapshot of the same round is
        replaced.

    Raises
    ------
    HistoryError
        If the records stage's outputs are missing or disagree, or the records
        already hold a later round than ``round_no``.
    InputError
        If a results table lacks a column the snapshot needs, the GRADE
        stage's certainty.csv does not fit (:func:`certainty_table`), or an
        earlier row of ``decision_log`` was rewritten or deleted (nothing is
        written).
    ValueError
        If ``round_no`` is not a whole number >= 0.

    Notes
    -----
    Screening decisions, PRISMA counts, effect sizes, pooled estimates and
    the certainty of the evidence may be missing (the stage has not run
    yet): the tables are then written with their headers only and
    prisma.json holds ``{}``; meta.json lists them under ``missing``.
    """
    round_no = _check_round(round_no)
    results = Path(results_dir)
    out = snapshot_dir(history_dir, round_no)
    records = _records_table(results, round_no)
    if decision_log is not None:
        check_decision_log(decision_log, history_dir)
        log_table = decision_log_table(decision_log)
    else:
        log_table = pd.DataFrame(columns=DECISION_LOG_COLUMNS)
    decisions = _optional_table(
        results / SOURCES["decisions.csv"][0],
        ["record_id", "final_state"],
        DECISION_COLUMNS,
    )
    effects = _optional_table(
        results / SOURCES["effects.csv"][0], [*EFFECT_KEY, "yi", "vi"], EFFECT_COLUMNS
    )
    pooled = _optional_table(
        results / SOURCES["pooled.csv"][0], ["analysis"], POOLED_COLUMNS
    )
    certainty = certainty_table(results / SOURCES["certainty.csv"][0])
    prisma_path = results / SOURCES["prisma.json"][0]
    prisma = prisma_path.read_bytes() if prisma_path.is_file() else b"{}\n"
    missing = sorted(
        source
        for sources in SOURCES.values()
        for source in sources
        if not (results / source).is_file()
    )
    meta = {
        "round": round_no,
        "evsynth_version": __version__,
        "files": {name: list(sources) for name, sources in SOURCES.items()},
        "missing": missing,
    }
    writers: dict[Path, Callable[[Path], None]] = {
        out / "records.csv": _csv_writer(records),
        out / "decisions.csv": _csv_writer(decisions),
        out / "effects.csv": _csv_writer(effects),
        out / "pooled.csv": _csv_writer(pooled),
        out / "prisma.json": _bytes_writer(prisma),
        out / "decision_log.csv": _csv_writer(log_table),
        out / "certainty.csv": _csv_writer(certainty),
        out / "meta.json": _bytes_writer(_json_bytes(meta)),
    }
    write_files(writers)
    return list(writers)


# --- the append-only decision log -------------------------------------------------


def _cell_hash(value: str) -> str:
    return hashlib.sha256(value.strip().encode("utf-8")).hexdigest()[:16]


def decision_log_table(path: str | Path) -> pd.DataFrame:
    """Return what a snapshot records of a decision log (``decision_log.csv``).

    Parameters
    ----------
    path : path
        The decision log. A missing file gives no rows.

    Returns
    -------
    pandas.DataFrame
        One row per row of the log, columns :data:`DECISION_LOG_COLUMNS`: the
        data row, record_id, stage, reviewer, decision, and a short hash of
        each of :data:`LOG_COLUMNS` (stripped; header names stripped and
        lower-cased, a missing column as empty), so that re-quoting or a
        different line end is no change but any edit of a cell is.
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=DECISION_LOG_COLUMNS)
    frame = read_csv_text(path, "a header line: " + ", ".join(LOG_COLUMNS))
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in LOG_COLUMNS[:4] if c not in frame.columns]
    if missing:  # a misspelt header, not edited rows
        raise InputError(
            "missing required column(s) " + ", ".join(missing),
            file=path,
            line=1,
            expected="a header with " + ", ".join(LOG_COLUMNS[:4]),
        )
    rows = []
    for index, raw in enumerate(frame.to_dict(orient="records")):
        cells = [str(raw.get(c, "")).strip() for c in LOG_COLUMNS]
        rows.append(
            [
                str(index + 1),
                *cells[:4],
                " ".join(_cell_hash(c) for c in cells),
            ]
        )
    return pd.DataFrame(rows, columns=DECISION_LOG_COLUMNS, dtype=object)


def _latest_log_snapshot(history_dir: Path) -> Path | None:
    """Return the decision_log.csv of the highest round that has one (the last run's)."""
    for round_no in reversed(list_rounds(history_dir)):
        path = snapshot_dir(history_dir, round_no) / "decision_log.csv"
        if path.is_file():
            return path
    return None


def check_decision_log(path: str | Path, history_dir: str | Path) -> None:
    """Refuse a decision log whose earlier rows were rewritten or deleted.

    The log is append-only: a later row for the same record, stage and reviewer
    supersedes an earlier one. Every row that the latest snapshot recorded
    (``decision_log.csv`` of the highest round that has one, written by the
    last run) must still be there, unchanged, at the same position; rows after
    them are new. Snapshots without ``decision_log.csv`` (older evsynth) are not
    compared. A deliberate edit is accepted with :func:`accept_log_edits`
    (``evsynth accept-log-edits``), which keeps the reason.

    Parameters
    ----------
    path : path
        The decision log (a missing file has no rows).
    history_dir : path
        ``results/history``.

    Raises
    ------
    InputError
        Naming the log, the line and row, the record, stage and reviewer of the
        earlier row that was rewritten (and the column) or deleted, and saying
        to append a superseding row instead.
    """
    edits = decision_log_edits(path, history_dir)
    if edits:
        raise edits[0]


def decision_log_edits(path: str | Path, history_dir: str | Path) -> list[InputError]:
    """List the earlier rows of the decision log rewritten or deleted since the last run.

    Parameters
    ----------
    path : path
        The decision log (a missing file has no rows).
    history_dir : path
        ``results/history``.

    Returns
    -------
    list of InputError
        One per rewritten row, in the log's order, each naming the line, row,
        record, stage, reviewer and column; a deleted row ends the list (the
        rows after it no longer line up with the snapshot). Empty when rows
        were only appended.
    """
    path, history = Path(path), Path(history_dir)
    recorded_path = _latest_log_snapshot(history)
    if recorded_path is None:
        return []
    recorded = _read_text_table(
        recorded_path, DECISION_LOG_COLUMNS, DECISION_LOG_COLUMNS
    )
    if recorded.empty:
        return []
    current = decision_log_table(path)
    old = recorded["cell_hashes"].tolist()
    new = current["cell_hashes"].tolist()
    if new[: len(old)] == old:
        return []  # rows appended, or nothing changed
    where = f"{recorded_path.parent.as_posix()}/decision_log.csv"
    advice = (
        "the log is append-only: restore the row and append a new row for the "
        "same record, stage and reviewer to supersede it (or, if the edit is "
        "deliberate, record why with evsynth accept-log-edits --reason TEXT)"
    )
    edits = []
    for index, before in enumerate(old):
        after = new[index] if index < len(new) else None
        if after == before:
            continue
        then = recorded.iloc[index]
        what = (
            f"record {_unguard(then['record_id'])!r}, stage {then['stage']}, "
            f"reviewer {_unguard(then['reviewer'])!r}"
        )
        deleted = after is None or (index + 1 < len(old) and after == old[index + 1])
        if deleted:
            edits.append(
                InputError(
                    f"an earlier row of the decision log was deleted since the last "
                    f"run: row {index + 1} ({what}, decision "
                    f"{_unguard(then['decision'])!r}), recorded in {where}",
                    file=path,
                    line=index + 2,
                    row=index + 1,
                    expected=advice,
                )
            )
            break
        changed = [
            column
            for column, a, b in zip(
                LOG_COLUMNS, before.split(), str(after).split(), strict=False
            )
            if a != b
        ]
        column = changed[0] if changed else None
        now = current.iloc[index]
        detail = ""
        if column in ("record_id", "stage", "reviewer", "decision"):
            detail = f": {column} was {_unguard(then[column])!r}, now {now[column]!r}"
        edits.append(
            InputError(
                f"an earlier row of the decision log was changed since the last run "
                f"({what}{detail}; the last run recorded it in {where})",
                file=path,
                line=index + 2,
                row=index + 1,
                column=column,
                expected=advice,
            )
        )
    return edits


#: The columns of a snapshot's ``decision_log_edits.csv``.
LOG_EDIT_COLUMNS = ["row", "record_id", "stage", "reviewer", "column", "edit", "reason"]


def accept_log_edits(
    path: str | Path, history_dir: str | Path, reason: str
) -> tuple[list[InputError], Path | None]:
    """Accept the deliberate edits of earlier decision-log rows, keeping the reason.

    The edits (:func:`decision_log_edits`) are appended to
    ``decision_log_edits.csv`` beside the latest snapshot's ``decision_log.csv``
    (row, record, stage, reviewer, column, what changed, the reason), and that
    snapshot then records the log as it now is, so the next run goes ahead.
    Both files are written all or none.

    Parameters
    ----------
    path : path
        The decision log.
    history_dir : path
        ``results/history``.
    reason : str
        Why the rows were edited (required, not blank).

    Returns
    -------
    (list of InputError, Path or None)
        The edits accepted, and the file they were recorded in (None when
        there was nothing to accept).

    Raises
    ------
    EvsynthError
        If the reason is blank.
    """
    if not reason.strip():
        raise EvsynthError("accept-log-edits needs a reason (--reason TEXT)")
    edits = decision_log_edits(path, history_dir)
    if not edits:
        return [], None
    recorded_path = _latest_log_snapshot(Path(history_dir))
    assert recorded_path is not None  # there are edits, so there is a snapshot
    recorded = _read_text_table(
        recorded_path, DECISION_LOG_COLUMNS, DECISION_LOG_COLUMNS
    )
    current = decision_log_table(path)
    out = recorded_path.parent / "decision_log_edits.csv"
    earlier = (
        _read_text_table(out, LOG_EDIT_COLUMNS, LOG_EDIT_COLUMNS)
        if out.is_file()
        else pd.DataFrame(columns=LOG_EDIT_COLUMNS)
    )
    rows = []
    for edit in edits:
        row = int(edit.location.row or 0)
        then = recorded.iloc[row - 1]  # the row as the last run recorded it
        rows.append(
            {
                "row": str(row),
                "record_id": _unguard(then["record_id"]),
                "stage": str(then["stage"]),
                "reviewer": _unguard(then["reviewer"]),
                "column": edit.location.column or "",
                "edit": edit.message,
                "reason": " ".join(reason.split()),
            }
        )
    table = pd.concat(
        [earlier, pd.DataFrame(rows, columns=LOG_EDIT_COLUMNS)], ignore_index=True
    )
    write_files(
        {
            out: _csv_writer(table),
            recorded_path: _csv_writer(current),
        }
    )
    return edits, out


def _unguard(value: object) -> str:
    """Return a snapshot cell without the apostrophe guarding a formula-like text."""
    text = str(value)
    return text.removeprefix("'")


# --- reading snapshots ------------------------------------------------------------


@dataclass
class Snapshot:
    """One round's snapshot, read back.

    Parameters
    ----------
    round : int
        The search round.
    records, decisions, effects, pooled : pandas.DataFrame
        The tables, every cell as text (empty for a missing value).
    prisma : dict
        The PRISMA counts (empty when screening had not run).
    meta : dict
        The contents of meta.json.
    certainty : pandas.DataFrame or None
        The certainty of the evidence per analysis (columns
        :data:`CERTAINTY_COLUMNS`, text); None when the snapshot records no
        certainty (taken before certainty.csv was part of a snapshot).
    """

    round: int
    records: pd.DataFrame
    decisions: pd.DataFrame
    effects: pd.DataFrame
    pooled: pd.DataFrame
    prisma: dict[str, Any]
    meta: dict[str, Any]
    certainty: pd.DataFrame | None = None


def list_rounds(history_dir: str | Path) -> list[int]:
    """Return the rounds that have a snapshot in ``history_dir``, in order."""
    folder = Path(history_dir)
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _ROUND_DIR.match(child.name)
        if match and child.is_dir() and (child / "meta.json").is_file():
            found.append(int(match.group(1)))
    return sorted(found)


def _no_snapshot(history_dir: Path, round_no: int) -> HistoryError:
    rounds = list_rounds(history_dir)
    have = ", ".join(str(r) for r in rounds) if rounds else "none"
    return HistoryError(
        f"no snapshot of round {round_no} in {history_dir} (rounds found: {have}); "
        "run the pipeline before and after adding the update, taking a snapshot "
        "after each run (take_snapshot(results, history, current_round(records)))"
    )


def read_snapshot(history_dir: str | Path, round_no: int) -> Snapshot:
    """Read the snapshot of one round.

    Raises
    ------
    HistoryError
        If the round has no snapshot, or the snapshot lacks one of its files.
    """
    history = Path(history_dir)
    folder = snapshot_dir(history, round_no)
    if not (folder / "meta.json").is_file():
        raise _no_snapshot(history, round_no)
    for name in SNAPSHOT_FILES:
        if name not in OPTIONAL_FILES and not (folder / name).is_file():
            raise HistoryError(
                f"the snapshot of round {round_no} in {folder} has no {name}; "
                "rerun the pipeline for this round and take the snapshot again"
            )

    def table(name: str, columns: Sequence[str]) -> pd.DataFrame:
        return _read_text_table(folder / name, columns, columns)

    def load(name: str) -> dict[str, Any]:
        path = folder / name
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg}", file=path, line=exc.lineno
            ) from None
        return value if isinstance(value, dict) else {}

    return Snapshot(
        round=int(round_no),
        records=table("records.csv", RECORD_COLUMNS),
        decisions=_read_text_table(
            folder / "decisions.csv", _REQUIRED_DECISION_COLUMNS, DECISION_COLUMNS
        ),
        effects=table("effects.csv", EFFECT_COLUMNS),
        pooled=table("pooled.csv", POOLED_COLUMNS),
        prisma=load("prisma.json"),
        meta=load("meta.json"),
        certainty=(
            table("certainty.csv", CERTAINTY_COLUMNS)
            if (folder / "certainty.csv").is_file()
            else None
        ),
    )
