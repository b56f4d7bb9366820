"""Property-based tests: every reader of user files fails only with evsynth's errors.

Random bytes, and random mutations of the example review's real exports and
tables, are fed to every export format's importer, every input table's reader
and the YAML reader. Each either reads the file or raises an
:class:`evsynth.errors.EvsynthError` (a one-line message for the user), never
another exception.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evsynth.errors import EvsynthError
from evsynth.io import read_csv_text
from evsynth.project.tables import TABLES, check_table
from evsynth.records.detect import FORMATS
from evsynth.records.importer import import_file
from evsynth.validation import read_table
from evsynth.yamlsafe import parse_yaml, read_yaml

ROOT = Path(__file__).parents[2]
DATA = ROOT / "data"
EXPORTS = sorted(
    p for p in (DATA / "searches").iterdir() if p.is_file() and p.suffix != ".md"
)
EXPORTS = [p for p in EXPORTS if p.name != "searches.csv"]
TABLE_FILES = {
    "searches": DATA / "searches" / "searches.csv",
    "screening_decisions": DATA / "screening" / "decisions.csv",
    "retrieval": DATA / "screening" / "retrieval.csv",
    "studies": DATA / "studies.csv",
    "effects": DATA / "extraction" / "effects.csv",
    "risk_of_bias": DATA / "extraction" / "risk_of_bias.csv",
    "qual_findings": DATA / "qualitative" / "findings.csv",
    "qual_appraisal": DATA / "qualitative" / "appraisal.csv",
    "qual_cerqual": DATA / "qualitative" / "cerqual.csv",
}
assert {spec.schema for spec in TABLES if spec.template} == set(TABLE_FILES)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Bytes that break parsers: quotes, delimiters, line breaks, control characters,
#: a BOM, invalid UTF-8, markup and tags.
NASTY = [
    b'"',
    b",",
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"\x00",
    b"\x1b",
    b"\x7f",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xe9",
    b"<",
    b"&",
    b"{",
    b"}",
    b"@",
    b"ER  - ",
    b"TY  - ",
    b"PMID- ",
    b"ER",
    b"*a",
    b"&a ",
    b"- ",
    b": ",
]


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """A real file with a few random insertions, deletions and duplications."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "repeat", "cut"]))
        if action == "insert":
            piece = draw(st.sampled_from(NASTY) | st.binary(min_size=1, max_size=8))
            data[at:at] = piece
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        else:
            del data[at:]
    return bytes(data)


def fails_only_with_evsynth_errors(call, *args) -> None:
    try:
        call(*args)
    except EvsynthError as exc:
        assert "\n" not in str(exc).strip() or "Traceback" not in str(exc)


def import_every_way(path: Path) -> None:
    fails_only_with_evsynth_errors(import_file, path)
    for fmt in FORMATS:
        fails_only_with_evsynth_errors(import_file, path, fmt)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_to_every_importer(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "export.txt"
    path.write_bytes(data)
    import_every_way(path)


@pytest.mark.parametrize("export", EXPORTS, ids=lambda p: p.name)
@FUZZ
@given(data=st.data())
def test_mutated_exports_to_every_importer(tmp_path_factory, export, data):
    content = data.draw(mutated(export.read_bytes()))
    path = tmp_path_factory.mktemp("fuzz") / export.name
    path.write_bytes(content)
    import_every_way(path)


@pytest.mark.parametrize("schema", sorted(TABLE_FILES))
@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_mutated_tables_to_every_table_reader(tmp_path_factory, schema, data):
    original = TABLE_FILES[schema].read_bytes()
    content = data.draw(mutated(original) | st.binary(max_size=500))
    path = tmp_path_factory.mktemp("fuzz") / TABLE_FILES[schema].name
    path.write_bytes(content)
    check = check_table(path, schema)  # collects problems, never raises
    assert all(isinstance(e, EvsynthError) for e in check.errors)
    fails_only_with_evsynth_errors(read_table, path, schema)
    fails_only_with_evsynth_errors(read_csv_text, path, "a table")


@FUZZ
@given(data=st.data())
def test_mutated_configs_to_the_yaml_reader(tmp_path_factory, data):
    original = (ROOT / "config" / "config.yaml").read_bytes()
    content = data.draw(mutated(original) | st.binary(max_size=500))
    path = tmp_path_factory.mktemp("fuzz") / "config.yaml"
    path.write_bytes(content)
    fails_only_with_evsynth_errors(read_yaml, path)


@FUZZ
@given(
    text=st.text(
        alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#, \n\t")), max_size=200
    )
)
def test_yaml_like_text_to_the_yaml_reader(text):
    fails_only_with_evsynth_errors(parse_yaml, text, "config.yaml")
