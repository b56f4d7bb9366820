"""Large tagged files are parsed in several processes with the same result."""

from __future__ import annotations

import pytest

from evsynth.records import ris, tagged, wos
from tests import samples


def repeated(text: str, times: int) -> str:
    return "\n".join([text] * times)


@pytest.mark.parametrize(
    ("module", "text"),
    [
        (ris, repeated(samples.ris(junk=True), 30) + "\n" + samples.ris(truncate=True)),
        (wos, repeated(samples.wos(junk=True), 30)),
    ],
)
def test_parallel_equals_serial(monkeypatch, module, text):
    serial = module.parse(text, "x")
    monkeypatch.setattr(tagged, "PARALLEL_MIN_CHARS", 100)
    monkeypatch.setattr(tagged, "_workers", lambda: 3)
    assert len(tagged.split_at_end_tags(text, "ER", 3)) == 3
    parallel = module.parse(text, "x")
    assert [(r.line, r.fields, r.source_ids) for r in parallel.records] == [
        (r.line, r.fields, r.source_ids) for r in serial.records
    ]
    assert parallel.issues == serial.issues
    assert len(serial.issues) >= 30


def test_split_keeps_whole_records():
    text = repeated(samples.ris(), 10)
    pieces = tagged.split_at_end_tags(text, "ER", 4)
    assert "".join(p for p, _ in pieces) == text
    offset = 0
    for piece, before in pieces:
        assert piece.lstrip().startswith("TY  -")
        assert text.count("\n", 0, offset) == before
        offset += len(piece)
