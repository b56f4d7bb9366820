"""Reading export files whatever their encoding.

Reading export files whatever their encoding: UTF-8 (with or without BOM),
UTF-16 (with or without BOM) and Windows-1252.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from evsynth.errors import InputError


@dataclass
class DecodedText:
    r"""The text of a file, its encoding, and a warning if one is due.

    Attributes
    ----------
    text : str
        Decoded, NFC-normalised text with ``\\n`` line endings and no BOM.
    encoding : str
        ``utf-8``, ``utf-8-sig``, ``utf-16-le``, ``utf-16-be`` or ``cp1252``.
    warning : str
        Non-empty when the encoding was guessed (Windows-1252).
    """

    text: str
    encoding: str
    warning: str = ""


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    half = len(sample) / 2
    if odd_nul > 0.4 * half and even_nul < 0.05 * half:
        return "utf-16-le"
    if even_nul > 0.4 * half and odd_nul < 0.05 * half:
        return "utf-16-be"
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_bytes(data: bytes, name: str) -> DecodedText:
    r"""Decode an export file's bytes.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name, for messages.

    Returns
    -------
    DecodedText
        Text with newlines normalised to ``\\n``.

    Raises
    ------
    InputError
        If the bytes are neither UTF-8, UTF-16 nor Windows-1252.
    """
    warning = ""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith(codecs.BOM_UTF16_LE):
        encoding, data = "utf-16-le", data[2:]
    elif data.startswith(codecs.BOM_UTF16_BE):
        encoding, data = "utf-16-be", data[2:]
    else:
        encoding = _utf16_without_bom(data) or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding.startswith("utf-16"):
            raise InputError(
                f"invalid {encoding.upper()} text at byte {exc.start}",
                file=name,
                expected="a UTF-8, UTF-16 or Windows-1252 text file",
            ) from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc2:
            raise InputError(
                f"not UTF-8 (byte {exc.start}) and not Windows-1252 "
                f"(byte 0x{data[exc2.start]:02x} at offset {exc2.start})",
                file=name,
                line=_line_of(data, exc2.start),
                expected="a UTF-8, UTF-16 or Windows-1252 text file",
            ) from None
        encoding = "cp1252"
        warning = (
            f"not valid UTF-8 (first bad byte on line {_line_of(data, exc.start)}); "
            "read as Windows-1252: check accented characters"
        )
    text = text.lstrip("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise InputError(
            "contains NUL characters",
            file=name,
            line=text.count("\n", 0, text.index("\x00")) + 1,
            expected="a text export, not a binary file",
        )
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return DecodedText(text, encoding, warning)


def read_text(path: str | Path) -> DecodedText:
    """Read an export file and decode it (see :func:`decode_bytes`).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    DecodedText
        The decoded text.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", file=path) from None
    return decode_bytes(data, str(path))
