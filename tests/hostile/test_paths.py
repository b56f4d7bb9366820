"""Paths taken from a review's files stay inside the review (issue 17).

A manifest's ``file`` and the config's ``review_dir`` and table paths may come
from someone else: each must lead (after links) inside the folder it belongs
to, or ``evsynth validate`` and ``evsynth run`` refuse it, naming the file, the
line or row, the column and what was expected, before anything is opened and
without writing anything anywhere. The parsed exports in
``results/records/parsed/`` are plain JSON checked against their export, never
pickles.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import pickle
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evsynth.errors import InputError
from evsynth.paths import SAFE_NAME, name_error, path_problem
from evsynth.records.importer import import_searches, parse_export
from tests.conftest import run_snakemake
from tests.hostile.conftest import assert_refused, evsynth, tree

#: The example's manifest and its first export (row 1).
MANIFEST = "data/searches/searches.csv"
FIRST = "psycinfo_ovid.ris"
EXPECTED = "expected a path inside"


def set_first_file(review: Path, name: str) -> None:
    """Put ``name`` in the ``file`` cell of the manifest's first row."""
    path = review / MANIFEST
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[0, "file"] = name
    # every cell quoted, so that a line break stays inside its cell
    table.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)


def edit_config(review: Path, change) -> None:
    """Change the example's config: ``change(settings)`` edits the loaded mapping."""
    path = review / "config/config.yaml"
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(settings)
    path.write_text(
        yaml.safe_dump(settings, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


def assert_refused_untouched(
    folder: Path, review: Path, *fragments: str, run: bool = True
) -> None:
    """validate and run refuse, naming ``fragments``; nothing is written anywhere."""
    before = tree(folder)
    checked = [evsynth("validate", str(review))]
    if run:
        checked.append(evsynth("run", "--cores", "1", str(review)))
    for proc in checked:
        assert_refused(proc, *fragments)
        out = proc.stdout + proc.stderr
        # refused by evsynth itself: snakemake never started
        assert "Building DAG" not in out, out[-2000:]
        assert "Assuming unrestricted shared filesystem" not in out, out[-2000:]
    assert tree(folder) == before  # inputs, outside files: all unchanged
    assert not (review / "results").exists()
    assert not (review / ".snakemake").exists()


# --- the manifest's file column ------------------------------------------------------

MANIFEST_CASES = {
    "up_into_the_review": ("../x.ris", "goes up out of its folder with '..'"),
    "up_out_of_the_review": ("../../../outside.ris", "'..'"),
    "etc_passwd": ("../../../../../../../../etc/passwd", "'..'"),
    "etc_passwd_short": ("../../etc/passwd", "'..'"),
    "down_then_up": ("sub/../../x.ris", "'..'"),
    "absolute_etc_passwd": ("/etc/passwd", "is an absolute path"),
    "backslash_up": ("..\\..\\..\\outside.ris", "'..'"),
    "windows_drive": ("C:/Windows/win.ini", "is an absolute path"),
    "nul_byte": ("psycinfo\x00_ovid.ris", "control character"),
    "newline": ("psycinfo\n_ovid.ris", "control character"),
    "carriage_return": ("psycinfo\r_ovid.ris", "control character"),
}


@pytest.mark.parametrize(
    ("name", "problem"), MANIFEST_CASES.values(), ids=list(MANIFEST_CASES)
)
def test_a_manifest_file_outside_the_searches_folder_is_refused(example, name, problem):
    (example.parent / "outside.ris").write_text("TY  - JOUR\nER  - \n")
    (example / "data/x.ris").write_text("TY  - JOUR\nER  - \n")
    set_first_file(example, name)
    assert_refused_untouched(
        example.parent,
        example,
        "searches.csv",
        "row 1",
        "line 2",
        "column 'file'",
        problem,
        EXPECTED,
        "searches",
    )


def test_an_absolute_path_to_a_real_export_is_refused(example):
    outside = example.parent / "elsewhere" / FIRST
    outside.parent.mkdir()
    shutil.move(example / "data/searches" / FIRST, outside)
    set_first_file(example, str(outside))
    assert_refused_untouched(
        example.parent,
        example,
        "searches.csv",
        "row 1",
        "column 'file'",
        "is an absolute path",
        EXPECTED,
    )
    assert sorted(p.name for p in outside.parent.iterdir()) == [FIRST]


def test_a_link_in_the_searches_folder_leading_outside_is_refused(example):
    outside = example.parent / "elsewhere" / FIRST
    outside.parent.mkdir()
    shutil.move(example / "data/searches" / FIRST, outside)
    (example / "data/searches" / FIRST).symlink_to(outside)
    assert_refused_untouched(
        example.parent,
        example,
        "searches.csv",
        "row 1",
        "column 'file'",
        "leads outside",
        EXPECTED,
    )
    assert sorted(p.name for p in outside.parent.iterdir()) == [FIRST]


def test_an_unlisted_link_to_a_folder_outside_is_refused(example):
    outside = example.parent / "elsewhere"
    outside.mkdir()
    (outside / "more.ris").write_text("TY  - JOUR\nER  - \n")
    (example / "data/searches/more").symlink_to(outside, target_is_directory=True)
    assert_refused_untouched(
        example.parent, example, "searches/more", "leads outside", EXPECTED
    )


# --- the config's paths --------------------------------------------------------------


def copy_inputs_outside(example: Path) -> Path:
    """A copy of the example's inputs outside the review (a lure: never read)."""
    outside = example.parent / "outside_data"
    shutil.copytree(example / "data", outside)
    return outside


CONFIG_CASES = {
    "review_dir_up": ("review_dir", ".."),
    "review_dir_up_deep": ("review_dir", "../../.."),
    "review_dir_absolute": ("review_dir", "{outside}"),
    "manifest_up": ("records/manifest", "../../outside_data/searches/searches.csv"),
    "searches_dir_absolute": ("records/searches_dir", "{outside}/searches"),
    "searches_dir_up": ("records/searches_dir", "../outside_data/searches"),
    "dedup_decisions_up": ("records/dedup_decisions", "../dedup.csv"),
    "decisions_absolute": ("screening/decisions", "{outside}/screening/decisions.csv"),
    "retrieval_up": (
        "screening/retrieval",
        "../../outside_data/screening/retrieval.csv",
    ),
    "studies_absolute": ("screening/studies", "/etc/passwd"),
    "effects_up": ("effects/file", "../../outside_data/extraction/effects.csv"),
    "rob_absolute": ("rob/file", "{outside}/extraction/risk_of_bias.csv"),
    "findings_up": ("qualitative/findings", "../qualitative_elsewhere.csv"),
    "appraisal_nul": ("qualitative/appraisal", "qualitative/appraisal\x00.csv"),
    "cerqual_absolute": ("qualitative/cerqual", "{outside}/qualitative/cerqual.csv"),
}


@pytest.mark.parametrize(
    ("key", "value"), CONFIG_CASES.values(), ids=list(CONFIG_CASES)
)
def test_a_config_path_outside_the_review_is_refused(example, key, value):
    outside = copy_inputs_outside(example)
    value = value.format(outside=outside)

    def change(settings):
        if key == "review_dir":
            settings["review_dir"] = value
        else:
            section, name = key.split("/")
            settings.setdefault(section, {})[name] = value

    edit_config(example, change)
    where = "the review folder" if key == "review_dir" else "review_dir"
    assert_refused_untouched(
        example.parent,
        example,
        "config.yaml",
        "line ",
        f"column '{key}'",
        f"{EXPECTED} {where}",
    )


def test_a_review_dir_linked_outside_is_refused(example):
    outside = copy_inputs_outside(example)
    (example / "linked").symlink_to(outside, target_is_directory=True)
    edit_config(example, lambda settings: settings.update(review_dir="linked"))
    assert_refused_untouched(
        example.parent,
        example,
        "config.yaml",
        "line ",
        "column 'review_dir'",
        "leads outside",
        f"{EXPECTED} the review folder",
    )


def test_a_table_linked_outside_is_refused(example):
    outside = copy_inputs_outside(example)
    table = example / "data/screening/decisions.csv"
    table.unlink()
    table.symlink_to(outside / "screening/decisions.csv")
    assert_refused_untouched(
        example.parent,
        example,
        "config.yaml",
        "column 'screening/decisions'",
        "leads outside",
        f"{EXPECTED} review_dir",
    )


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../../escape", "column 'meta/analyses/0/name'"),
        ("/tmp/escape", "column 'meta/analyses/0/name'"),
        ("main\n", "column 'meta/analyses/0/name'"),  # the schema refuses it
    ],
    ids=["up", "absolute", "final_newline"],
)
def test_an_analysis_name_that_would_leave_results_is_refused(example, name, fragment):
    def change(settings):
        settings["meta"]["analyses"][0]["name"] = name

    edit_config(example, change)
    assert_refused_untouched(example.parent, example, "config.yaml", "line ", fragment)


# --- a planted pickle ----------------------------------------------------------------


class Planted:
    """Unpickling this touches ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_beside_a_manifest_target_is_never_loaded(example):
    folder = example.parent
    marker = folder / "PWNED"
    payload = pickle.dumps(Planted(marker), protocol=5)
    # the export the row names, outside the review, with pickles beside it
    lure = folder / "lure"
    lure.mkdir()
    (lure / "evil.ris").write_text("TY  - JOUR\nTI  - bait\nER  - \n")
    (lure / "evil.ris.pkl").write_bytes(payload)
    (lure / "evil.ris.json").write_bytes(payload)
    name = "../../../lure/evil.ris"
    # and where results/records/parsed/{file}.pkl of this name would lead
    planted = Path(os.path.normpath(example / "results/records/parsed" / f"{name}.pkl"))
    assert not planted.is_relative_to(example / "results")
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_bytes(payload)
    set_first_file(example, name)
    before = tree(folder)
    assert_refused_untouched(
        folder, example, "searches.csv", "row 1", "column 'file'", "'..'", EXPECTED
    )
    # snakemake on its own stops when it reads the workflow: no job is planned
    proc = run_snakemake(example, "--cores", "1")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "column 'file'" in out and "Parsing" not in out, out[-2000:]
    assert not marker.exists()
    assert sorted(p.name for p in lure.iterdir()) == [
        "evil.ris",
        "evil.ris.json",
        "evil.ris.pkl",
    ]
    assert sorted(p.name for p in planted.parent.iterdir()) == [planted.name]
    after = tree(folder)
    written = {k for k in after if not k.startswith("review/.snakemake/")}
    assert {k: after[k] for k in written} == before
    assert not (example / "results").exists()


# --- the parsed exports: plain JSON that belongs to its export ----------------------


@pytest.fixture
def parsed_example(example, tmp_path):
    """The example's searches, each parsed to JSON as the workflow does."""
    searches = example / "data/searches"
    manifest = pd.read_csv(searches / "searches.csv", dtype=str)
    out = tmp_path / "parsed"
    parsed = {}
    for name in manifest["file"]:
        path = out / f"{name}.json"
        parse_export(searches / name, None, name, path)
        parsed[name] = path
    return searches, parsed


def test_a_parsed_export_is_plain_json_naming_its_export(parsed_example):
    searches, parsed = parsed_example
    document = json.loads(parsed[FIRST].read_text(encoding="ascii"))
    assert document["kind"] == "evsynth parsed export"
    assert document["source"] == FIRST
    assert document["format"] == "ris"
    assert document["sha256"] == (
        hashlib.sha256((searches / FIRST).read_bytes()).hexdigest()
    )
    assert document["records"] and "evsynth" in document
    # the same records as parsing the exports directly
    direct = import_searches(searches / "searches.csv", searches)
    stored = import_searches(searches / "searches.csv", searches, parsed=parsed)
    pd.testing.assert_frame_equal(direct.records, stored.records)
    pd.testing.assert_frame_equal(direct.issues, stored.issues)
    pd.testing.assert_frame_equal(direct.summary, stored.summary)


def refuses(searches: Path, parsed: dict[str, Path], *fragments: str) -> None:
    with pytest.raises(InputError) as caught:
        import_searches(searches / "searches.csv", searches, parsed=parsed)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_a_tampered_parsed_export_is_refused(parsed_example):
    searches, parsed = parsed_example
    path = parsed[FIRST]
    document = json.loads(path.read_text(encoding="ascii"))
    document["records"][0]["fields"]["title"] = "Planted title"
    path.write_text(json.dumps(document), encoding="ascii")
    refuses(searches, parsed, str(path), "not a parsed export evsynth wrote")


def test_a_parsed_export_of_another_export_is_refused(parsed_example):
    searches, parsed = parsed_example
    shutil.copy(parsed["medline.nbib"], parsed[FIRST])
    refuses(searches, parsed, str(parsed[FIRST]), "parsed from 'medline.nbib'")


def test_a_parsed_export_of_an_older_version_is_refused(parsed_example):
    searches, parsed = parsed_example
    with (searches / FIRST).open("a", encoding="utf-8") as handle:
        handle.write("TY  - JOUR\nTI  - Added later\nER  - \n")
    refuses(searches, parsed, str(parsed[FIRST]), "SHA-256 differs")


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"kind": "evsynth parsed export"}', b"[" * 100_000],
    ids=["empty", "text", "list", "no_layout", "deep"],
)
def test_a_malformed_parsed_export_is_refused(parsed_example, content):
    searches, parsed = parsed_example
    parsed[FIRST].write_bytes(content)
    refuses(searches, parsed, str(parsed[FIRST]), "not a parsed export evsynth wrote")


def test_a_pickle_in_place_of_a_parsed_export_is_never_loaded(parsed_example, tmp_path):
    searches, parsed = parsed_example
    marker = tmp_path / "PWNED"
    parsed[FIRST].write_bytes(pickle.dumps(Planted(marker), protocol=5))
    refuses(searches, parsed, str(parsed[FIRST]), "not a parsed export evsynth wrote")
    assert not marker.exists()


# --- the checks themselves -----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["a.ris", "sub/a b (1).ris", "ünï.csv", "a..b.ris"],
)
def test_safe_names_pass(tmp_path, name):
    assert path_problem(name, tmp_path) is None
    assert name_error(name, tmp_path, file="m.csv", row=1) is None


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../a", "a/../../b", "/a", "a\x00b", "a\nb", ".hidden", "a//b"],
)
def test_unsafe_names_fail(tmp_path, name):
    assert name_error(name, tmp_path, file="m.csv", row=1) is not None
    assert not re.fullmatch(SAFE_NAME, name) or path_problem(name, tmp_path)


def test_a_link_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert path_problem("a", tmp_path) is not None


@pytest.mark.workflow
def test_a_tampered_parsed_export_stops_the_next_run(example):
    proc = evsynth("run", "--cores", "2", str(example))
    assert proc.returncode == 0, proc.stderr[-3000:]
    parsed = example / "results/records/parsed"
    assert sorted(p.suffix for p in parsed.iterdir()) == [".json"] * 6
    records_csv = example / "results/records/records.csv"
    records = records_csv.read_bytes()
    target = parsed / f"{FIRST}.json"
    marker = example.parent / "PWNED"
    target.write_bytes(pickle.dumps(Planted(marker), protocol=5))
    os.utime(target)  # newer than records.csv: the import runs again
    proc = evsynth("run", "--cores", "1", str(example))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]  # the import job refused its input
    assert "Traceback" not in (example / "results/logs/import_records.log").read_text()
    assert str(Path("results/records/parsed") / f"{FIRST}.json") in out
    assert "not a parsed export evsynth wrote" in out
    assert not marker.exists()
    assert not records_csv.exists() or records_csv.read_bytes() == records
    # deleting it makes the next run parse that export again, and only it
    target.unlink()
    proc = evsynth("run", str(example), "--", "--dry-run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"^import_search\s+1\s*$", proc.stdout, flags=re.MULTILINE), (
        proc.stdout[-3000:]
    )


@pytest.mark.parametrize("command", ["status", "report"])
def test_status_and_report_refuse_a_review_dir_outside(example, command):
    copy_inputs_outside(example)
    edit_config(example, lambda settings: settings.update(review_dir="../outside_data"))
    before = tree(example.parent)
    proc = evsynth(command, str(example))
    assert_refused(proc, "config.yaml", "column 'review_dir'", EXPECTED)
    assert tree(example.parent) == before


def test_a_config_path_is_judged_by_where_it_leads(tmp_path):
    (tmp_path / "data").mkdir()
    inside = str(tmp_path / "data")
    assert path_problem(inside, tmp_path, relative=False) is None
    assert path_problem("data/../data", tmp_path, relative=False) is None
    assert path_problem("..", tmp_path, relative=False)
    assert path_problem(str(tmp_path.parent), tmp_path, relative=False)
    assert path_problem("data\x00", tmp_path, relative=False)


@pytest.mark.parametrize("name", ["../x.ris", "/etc/passwd", "a/../../x.ris"])
def test_the_import_refuses_a_manifest_name_outside_with_row_and_column(example, name):
    from evsynth.records.importer import read_manifest

    (example / "data/x.ris").write_text("TY  - JOUR\nER  - \n")
    set_first_file(example, name)
    searches = example / "data/searches"
    with pytest.raises(InputError) as caught:
        import_searches(searches / "searches.csv", searches)
    location = caught.value.location
    assert (location.row, location.line, location.column) == (1, 2, "file")
    # an absolute path breaks the manifest's schema first (its pattern)
    assert "relative to the searches" in str(caught.value) or (
        "a path inside the searches folder" in str(caught.value)
    )
    with pytest.raises(InputError):
        read_manifest(searches / "searches.csv", searches)


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("screening", "screening/decisions"),
        ("screening", "screening/studies"),
        ("qualitative", "qualitative/findings"),
    ],
)
def test_a_stage_command_with_config_checks_its_paths(example, command, key):
    # --config FILE REVIEW_DIR: the config's tables are read inside REVIEW_DIR,
    # and a path of the config leading out of it is refused like everywhere else
    outside = copy_inputs_outside(example)
    lure = outside / "lure.csv"
    lure.write_text("record_id,stage,reviewer,decision\n")
    section, name = key.split("/")
    edit_config(
        example, lambda s: s[section].__setitem__(name, "../outside_data/lure.csv")
    )
    other = example.parent / "elsewhere.yaml"
    shutil.copy(example / "config/config.yaml", other)
    before = tree(example.parent)
    out = example / "results/out"
    records = ["--records-dir", str(example / "results/records")]
    proc = evsynth(
        command, str(example / "data"), "--out-dir", str(out), "--config", str(other),
        *(records if command == "screening" else []),
    )  # fmt: skip
    assert_refused(proc, "elsewhere.yaml", f"column '{key}'", "leads outside")
    assert tree(example.parent) == before
    assert not out.exists()
