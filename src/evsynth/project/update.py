"""Apply a prepared update round to a review folder, as a review team would.

An update package is a folder holding the round's new search exports in
``searches/`` and, for each input table it adds to, a CSV of the new rows named
after the table (``searches_rows.csv``, ``decisions_rows.csv``, ...; see
:data:`ROWS_FILES`). :func:`apply_round` copies the exports into the review's
searches folder and appends the rows to the tables the review's config names:
tables are only ever appended to, never rewritten, and nothing is written
unless every file can be applied. The example review's update round,
``data/updates/round_1/``, is such a package.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from evsynth.errors import EvsynthError
from evsynth.io import check_csv_file
from evsynth.project.configfile import _load_valid_config
from evsynth.project.review import Review, example_folder

__all__ = ["ROWS_FILES", "AppliedRound", "apply_round"]

#: Rows file of an update package -> (config section, key) of the table it extends.
ROWS_FILES: dict[str, tuple[str, str]] = {
    "searches_rows.csv": ("records", "manifest"),
    "decisions_rows.csv": ("screening", "decisions"),
    "retrieval_rows.csv": ("screening", "retrieval"),
    "studies_rows.csv": ("screening", "studies"),
    "effects_rows.csv": ("effects", "file"),
    "risk_of_bias_rows.csv": ("rob", "file"),
    "findings_rows.csv": ("qualitative", "findings"),
    "appraisal_rows.csv": ("qualitative", "appraisal"),
    "cerqual_rows.csv": ("qualitative", "cerqual"),
}


@dataclass
class AppliedRound:
    """What :func:`apply_round` did.

    Parameters
    ----------
    exports : list of Path
        Search exports copied into the review.
    rows : dict of Path to int
        Rows appended, per table.
    """

    exports: list[Path] = field(default_factory=list)
    rows: dict[Path, int] = field(default_factory=dict)


def _header_and_rows(path: Path) -> tuple[list[str], list[list[str]], str]:
    """Read a CSV as its header, its rows and its text."""
    check_csv_file(path, "a CSV table with a header line", refuse_controls=True)
    try:
        text = path.read_text(encoding="utf-8-sig")
        table = list(csv.reader(io.StringIO(text, newline="")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvsynthError(f"{path}: cannot read the CSV ({exc})") from None
    if not table:
        raise EvsynthError(f"{path}: empty file (expected a header line)")
    return [c.strip() for c in table[0]], table[1:], text


def _plan_rows(rows_file: Path, table: Path) -> tuple[str, int]:
    """Return the text to append to ``table`` and the number of rows in it."""
    header, rows, text = _header_and_rows(rows_file)
    if not table.is_file():
        body = text if text.endswith("\n") else text + "\n"
        return body, len(rows)
    target, _, existing = _header_and_rows(table)
    unknown = [c for c in header if c not in target]
    if unknown:
        raise EvsynthError(
            f"{rows_file}, line 1, column '{unknown[0]}': not a column of {table} "
            f"(expected the columns of {table}: {', '.join(target)})"
        )
    prefix = "" if existing.endswith("\n") or not existing else "\n"
    if header == target:  # the rows as written, line for line
        lines = text.splitlines(keepends=True)[1:]
        body = "".join(lines)
    else:
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        for row in rows:
            values = dict(zip(header, row, strict=False))
            writer.writerow([values.get(c, "") for c in target])
        body = out.getvalue()
    if body and not body.endswith("\n"):
        body += "\n"
    return prefix + body, len(rows)


def apply_round(
    package: str | Path, review: Review, *, allow_repository: bool = False
) -> AppliedRound:
    """Copy an update package's exports into a review and append its rows.

    Parameters
    ----------
    package : str or Path
        The update package (``searches/`` and ``*_rows.csv``; see
        :data:`ROWS_FILES`).
    review : Review
        The review folder to update.
    allow_repository : bool
        Allow the evsynth repository's own example review to be changed
        (refused by default, so that its tracked files stay clean; make a copy
        with ``evsynth init --example DIR`` instead).

    Returns
    -------
    AppliedRound
        The exports copied and the rows appended per table.

    Raises
    ------
    EvsynthError
        If the review is the repository's example (without
        ``allow_repository``), an export of the package is already in the
        review (the round was applied before), or a rows file has a column the
        table lacks. Nothing is written then.
    """
    package = Path(package)
    if not allow_repository:
        try:
            example = example_folder().resolve()
        except EvsynthError:
            example = None
        if example is not None and review.root.resolve() == example:
            raise EvsynthError(
                f"{review.root} is the evsynth repository's own example review: its "
                "files are tracked and would change. Make a copy to update with "
                "`evsynth init --example DIR` and apply the round there"
            )
    config = _load_valid_config(review.config_file)
    data = review.data_dir(config)
    searches = data / config["records"]["searches_dir"]
    exports = sorted(p for p in (package / "searches").glob("*") if p.is_file())
    there = [searches / p.name for p in exports if (searches / p.name).exists()]
    if there:
        raise EvsynthError(
            f"{there[0]} is already in the review: this update round was applied "
            "before (nothing was changed)"
        )
    plans: list[tuple[Path, str, int]] = []
    for name, (section, key) in ROWS_FILES.items():
        rows_file = package / name
        if rows_file.is_file():
            table = data / config[section][key]
            body, count = _plan_rows(rows_file, table)
            plans.append((table, body, count))
    result = AppliedRound()
    searches.mkdir(parents=True, exist_ok=True)
    for export in exports:
        shutil.copyfile(export, searches / export.name)
        result.exports.append(searches / export.name)
    for table, body, count in plans:
        table.parent.mkdir(parents=True, exist_ok=True)
        with table.open("a", encoding="utf-8", newline="") as handle:
            handle.write(body)
        result.rows[table] = count
    return result
