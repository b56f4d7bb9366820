"""Hostile and malformed configs: one strict YAML reader for every command.

Each refusal exits 2 with a one-line message naming the file, the line, the key
where there is one and what was expected; no traceback, and the review's files
are left as they were. ``validate``, ``status`` and ``run`` give the same
message for the same config.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evsynth.errors import InputError
from evsynth.yamlsafe import MAX_YAML_BYTES, parse_yaml, read_yaml
from tests.hostile.conftest import assert_refused, evsynth, tree

COMMANDS = ("validate", "status", "run")

BILLION_LAUGHS = "".join(
    f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "lol"] * 9) + "]\n"
    for i in range(10)
)


def config_of(review: Path) -> Path:
    return review / "config" / "config.yaml"


def spoil(review: Path, text: str | bytes, *, append: bool = True) -> Path:
    """Append to (or replace) the review's config; return it."""
    path = config_of(review)
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes((path.read_bytes() if append else b"") + data)
    return path


def line_count(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def refused_everywhere(review: Path, *fragments: str) -> str:
    """validate, status and run all refuse the config with the same message."""
    before = tree(review)
    messages = []
    for command in COMMANDS:
        proc = evsynth(command, str(review))
        assert_refused(proc, *fragments)
        line = next(
            x for x in (proc.stdout + proc.stderr).splitlines() if "config.yaml" in x
        )
        messages.append(line.removeprefix("evsynth: error: ").split(" (expected")[0])
    assert len(set(messages)) == 1, messages
    assert tree(review) == before
    return messages[0]


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    two_gb = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_DATA, (two_gb, two_gb))


@pytest.mark.parametrize("command", COMMANDS)
def test_billion_laughs_is_refused_fast_and_small(example, command):
    path = spoil(example, BILLION_LAUGHS)
    first = line_count(path) - 8  # line of lol1, the first alias
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "evsynth.cli", command, str(example)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    assert time.monotonic() - started < 30
    assert_refused(
        proc,
        f"config.yaml, line {first}, column 'lol1/0'",
        f"alias *l0 repeats the anchor &l0 of line {first - 1}",
        "aliases are not allowed",
        "expected plain YAML",
    )


def test_a_single_alias_is_refused_at_its_line(example):
    path = spoil(example, "extra: &x [a, b]\nmore: *x\n")
    n = line_count(path)
    refused_everywhere(
        example,
        f"config.yaml, line {n}, column 'more'",
        f"alias *x repeats the anchor &x of line {n - 1}",
    )


def test_duplicate_top_level_key_names_both_lines(example):
    path = config_of(example)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next(i for i, x in enumerate(lines, 1) if x.startswith("review_dir:"))
    path = spoil(example, "review_dir: elsewhere\n")
    message = refused_everywhere(
        example,
        f"line {line_count(path)}, column 'review_dir'",
        f"key 'review_dir' is given twice, on line {first} and on line "
        f"{line_count(path)}",
        "expected each key once",
    )
    assert "config.yaml" in message


def test_duplicate_nested_key_names_both_lines_and_the_path(example):
    path = config_of(example)
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, x in enumerate(lines) if x.strip().startswith("reviewers:"))
    lines.insert(at + 1, "  reviewers: [amira, someone]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused_everywhere(
        example,
        f"line {at + 2}, column 'screening/reviewers'",
        f"key 'reviewers' is given twice, on line {at + 1} and on line {at + 2}",
    )


def test_tab_indentation_is_refused_with_its_line(example):
    path = spoil(example, "extra:\n\tkey: 1\n")
    refused_everywhere(
        example,
        f"line {line_count(path)}",
        "a tab where YAML needs spaces",
        "indented with spaces",
    )


def test_a_list_instead_of_a_mapping_is_refused(example):
    spoil(example, "- review_dir: data\n- records: {}\n", append=False)
    refused_everywhere(
        example, "config.yaml, line 1", "not a YAML mapping of keys", "review_dir"
    )


def test_a_huge_config_is_refused_before_it_is_read(example):
    spoil(example, b"# " + b"x" * (MAX_YAML_BYTES + 10) + b"\n")
    started = time.monotonic()
    refused_everywhere(example, "config.yaml", "too large", "at most 1,000,000 bytes")
    assert time.monotonic() - started < 60


def test_invalid_utf8_is_refused_with_its_line(example):
    path = spoil(example, b"review_title: caf\xe9 latin-1\n")
    refused_everywhere(
        example,
        f"config.yaml, line {line_count(path)}",
        "not UTF-8 text: byte 0xe9",
        "saved as UTF-8",
    )


def test_a_byte_order_mark_is_accepted(example):
    path = config_of(example)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    proc = evsynth("validate", str(example))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_control_character_is_refused_with_its_line(example):
    path = spoil(example, "review_title: bad \x1b title\n")
    refused_everywhere(
        example,
        f"config.yaml, line {line_count(path)}",
        "control character U+001B",
    )


def test_deep_nesting_is_refused(example):
    spoil(example, "deep: " + "[" * 5000 + "]" * 5000 + "\n")
    refused_everywhere(example, "config.yaml", "nested more than 64 levels deep")


def test_a_second_document_is_refused(example):
    path = spoil(example, "---\nreview_dir: data\n")
    refused_everywhere(
        example, f"line {line_count(path) - 1}", "expected a single document"
    )


def test_python_tags_are_refused(example):
    path = spoil(example, "x: !!python/object/apply:os.system ['true']\n")
    refused_everywhere(
        example,
        f"line {line_count(path)}",
        "could not determine a constructor",
    )


def test_a_stage_command_reads_its_config_strictly(example):
    spoil(example, "review_dir: data\n")
    before = tree(example)
    proc = evsynth(
        "effects",
        "--config",
        str(config_of(example)),
        "--out",
        str(example.parent / "out.csv"),
        str(example / "data" / "extraction" / "effects.csv"),
    )
    assert_refused(proc, "config.yaml", "key 'review_dir' is given twice")
    assert tree(example) == before


def test_schema_errors_keep_their_lines(example):
    path = config_of(example)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("count_mismatch: warn", "count_mismatch: maybe"))
    line = next(
        i
        for i, x in enumerate(path.read_text().splitlines(), 1)
        if "count_mismatch" in x
    )
    proc = evsynth("validate", str(example))
    assert proc.returncode == 2
    assert f"line {line}, column 'records/count_mismatch'" in proc.stdout


@pytest.mark.parametrize(
    ("start", "new", "key"),
    [
        ("review_id:", 'review_id: "evsynth-copy\\n"', "review_id"),
        ("  reviewers:", '  reviewers: [amira, "jonas\\n"]', "reviewers"),
    ],
)
def test_a_trailing_line_break_does_not_pass_a_name_pattern(example, start, new, key):
    # Python's re lets `$` match before a final line break; the schemas' patterns
    # end in `(?!\n)$` so that a name with one is refused, as in ECMA-262
    path = config_of(example)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, x in enumerate(lines, 1) if x.startswith(start))
    lines[line - 1] = new + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    proc = evsynth("validate", str(example))
    assert_refused(proc, f"line {line}", key)


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "pattern" and isinstance(v, str)]
        return found + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


def test_no_schema_pattern_accepts_a_trailing_line_break():
    import re

    import yaml

    folder = Path(__file__).parents[2] / "src/evsynth/schemas"
    samples = ["abc", "a1", "2023-01-01", "2023-01-01T10:00:00Z", "x.ris"]
    checked = 0
    for path in sorted(folder.glob("*.yaml")):
        for pattern in _patterns(yaml.safe_load(path.read_text(encoding="utf-8"))):
            if not pattern.endswith("$"):
                continue  # not anchored at the end ("\\S": some text)
            matching = [s for s in samples if re.search(pattern, s)]
            assert matching, (path.name, pattern)  # the samples exercise it
            for sample in matching:
                assert not re.search(pattern, sample + "\n"), (path.name, pattern)
                checked += 1
    assert checked >= 12


# --- the reader itself ------------------------------------------------------------


def test_parse_yaml_gives_the_line_of_every_key():
    document = parse_yaml("a:\n  b: [1, 2]\nc: x\n", "x.yaml")
    assert document.data == {"a": {"b": [1, 2]}, "c": "x"}
    assert document.lines[("a", "b")] == 2
    assert document.lines[("a", "b", 1)] == 2
    assert document.lines[("c",)] == 3


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("yes: 1\ntrue: 2\n", "given twice, on line 1 and on line 2"),
        ("a: {b: 1, b: 2}\n", "key 'b' is given twice"),
        ("a: " + "1" * 5000 + "\n", "a number too long to read"),
        ("a: &x 1\nb: *x\n", "aliases are not allowed"),
        ("a: [1, 2\nb: 3\n", "line 2"),
        ("a: *nowhere\n", "alias *nowhere"),
    ],
)
def test_parse_yaml_refusals(text, fragment):
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "x.yaml")
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("x.yaml")


def test_read_yaml_of_a_missing_file_and_of_a_folder(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_yaml(tmp_path / "none.yaml")
    with pytest.raises(InputError, match="folder"):
        read_yaml(tmp_path)


def test_an_empty_config_is_an_empty_mapping(example):
    spoil(example, "", append=False)
    proc = evsynth("validate", str(example))
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_the_workflow_rereads_its_config_strictly(example):
    """snakemake run directly (not through evsynth run) refuses a duplicate key."""
    path = spoil(example, "review_dir: data\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(Path(__file__).parents[2] / "Snakefile"),
            "--directory",
            str(example),
            "--cores",
            "1",
            "-n",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=example,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert f"line {line_count(path)}, column 'review_dir'" in out, out[-3000:]
    assert "key 'review_dir' is given twice" in out
