"""Errors that evsynth reports to the user without a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class EvsynthError(Exception):
    """Base class for errors shown to the user as a one-line message."""


@dataclass
class Location:
    """Where in an input file a problem is.

    Parameters
    ----------
    file : str
        Path of the input file as the user named it.
    line : int, optional
        1-based line number in the file.
    row : int, optional
        1-based data row of a table (the header is not counted).
    column : str, optional
        Column, field or tag name.
    """

    file: str
    line: int | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


class InputError(EvsynthError):
    """Bad input: names the file, the line or row, the column and what was expected.

    Parameters
    ----------
    message : str
        What is wrong.
    file : str or Path
        The input file.
    line, row : int, optional
        1-based line number in the file, or 1-based data row of a table.
    column : str, optional
        Column, field or tag.
    expected : str, optional
        What was expected instead.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path,
        line: int | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.location = Location(str(file), line, row, column)
        self.message = message
        self.expected = expected
        text = f"{self.location}: {message}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


def decode_utf8(raw: bytes, file: str | Path, expected: str) -> str:
    """Decode an input file's bytes as UTF-8 (a byte order mark is dropped).

    Parameters
    ----------
    raw : bytes
        The file's contents.
    file : str or Path
        The file, for the message.
    expected : str
        What the file should be ("a config saved as UTF-8").

    Returns
    -------
    str
        The text.

    Raises
    ------
    InputError
        Naming the first byte that cannot be decoded and its line.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text: byte {raw[exc.start]:#04x} cannot be decoded",
            file=file,
            line=raw.count(b"\n", 0, exc.start) + 1,
            expected=expected,
        ) from None
