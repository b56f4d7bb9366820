"""Deterministic, atomic and spreadsheet-safe table output."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd

#: Cells starting with one of these are read as formulas by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def guard_formula(value: object) -> object:
    """Neutralise a text cell that a spreadsheet would run as a formula.

    Text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading apostrophe (the OWASP advice for CSV injection). Numbers,
    including negative ones written as text, are left alone.

    Parameters
    ----------
    value : object
        A cell value.

    Returns
    -------
    object
        The value, with an apostrophe in front if it was dangerous text.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _is_number(value)
    ):
        return "'" + value
    return value


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` only if the block succeeds.

    Parameters
    ----------
    path : str or Path
        The final output path. Its folder is created if needed.

    Yields
    ------
    Path
        A temporary file in the same folder; it is renamed to ``path`` on
        success and removed on failure, so no partial output is ever left.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.replace(final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def frame_to_csv(
    frame: pd.DataFrame, path: Path, text_columns: Sequence[str] | None = None
) -> None:
    """Write a table as CSV, text cells guarded against formula injection.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : Path
        Where to write (not atomic: see :func:`write_tables`).
    text_columns : sequence of str, optional
        Columns to guard; by default every column of object or string dtype.
    """
    out = frame.copy()
    if text_columns is None:
        text_columns = [
            c
            for c in out.columns
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c])
        ]
    for column in text_columns:
        values = out[column]
        risky = values.map(
            lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES)
        ).astype(bool)
        if risky.any():
            out.loc[risky, column] = values[risky].map(guard_formula)
    out = out.astype(object).where(out.notna(), None)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(out.columns)
        writer.writerows(out.itertuples(index=False, name=None))


def write_files(writers: Mapping[Path, Callable[[Path], None]]) -> None:
    """Write several files so that either all of them appear or none does.

    Parameters
    ----------
    writers : mapping of Path to callable
        Output path and a function that writes the file's content to the
        temporary path it is given; called in the mapping's order.
    """
    with contextlib.ExitStack() as stack:
        for final, writer in writers.items():
            writer(stack.enter_context(atomic_path(final)))


def write_tables(
    tables: Mapping[Path, pd.DataFrame],
    *,
    text_columns: Sequence[str] | None = None,
) -> None:
    """Write several CSV tables so that either all of them appear or none does.

    Parameters
    ----------
    tables : mapping of Path to pandas.DataFrame
        Output path and table, written in the mapping's order.
    text_columns : sequence of str, optional
        Columns to guard against formula injection; by default every column
        of object or string dtype.
    """
    with contextlib.ExitStack() as stack:
        for final, frame in tables.items():
            tmp = stack.enter_context(atomic_path(final))
            frame_to_csv(frame, tmp, text_columns)
