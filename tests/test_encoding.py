"""Decoding export files."""

from __future__ import annotations

import pytest

from evsynth.errors import InputError
from evsynth.records.encoding import decode_bytes

TEXT = "TY  - JOUR\nTI  - Bien-être des enfants placés\nER  - \n"


def test_cp1252_is_read_with_a_warning():
    decoded = decode_bytes(TEXT.encode("cp1252"), "old.ris")
    assert decoded.text == TEXT
    assert decoded.encoding == "cp1252"
    assert "Windows-1252" in decoded.warning
    assert "line 2" in decoded.warning


def test_utf8_has_no_warning():
    decoded = decode_bytes(TEXT.encode("utf-8"), "new.ris")
    assert decoded.encoding == "utf-8"
    assert decoded.warning == ""


def test_nfc_normalisation():
    decomposed = "TI  - Bien-e\u0302tre\n"
    assert decode_bytes(decomposed.encode("utf-8"), "x").text == "TI  - Bien-être\n"


def test_undecodable_bytes_name_file_and_line():
    data = b"TY  - JOUR\nTI  - bad \x81 byte\n"
    with pytest.raises(InputError) as info:
        decode_bytes(data, "broken.ris")
    assert info.value.location.file == "broken.ris"
    assert info.value.location.line == 2


def test_binary_file_is_rejected():
    with pytest.raises(InputError, match="NUL"):
        decode_bytes(b"TY  - JOUR\n\x00\x01\x02 binary" + b"a" * 10, "x.ris")
