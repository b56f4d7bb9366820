"""evsynth init, validate and status (evsynth.project)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evsynth.errors import EvsynthError
from evsynth.project import (
    TABLES,
    add_commands,
    check_config,
    check_table,
    init_review,
    review_status,
    validate_review,
)
from evsynth.validation import load_schema, validate_config
from tests.conftest import REPO

TEMPLATE_FILES = {
    "config.yaml",
    "README.md",
    "searches/README.md",
    "searches/searches.csv",
    "screening/decisions.csv",
    "screening/retrieval.csv",
    "studies.csv",
    "extraction/effects.csv",
    "extraction/risk_of_bias.csv",
    "qualitative/findings.csv",
    "qualitative/appraisal.csv",
    "qualitative/cerqual.csv",
}
TABLE_PATHS = {
    "searches/searches.csv": "searches",
    "screening/decisions.csv": "screening_decisions",
    "screening/retrieval.csv": "retrieval",
    "studies.csv": "studies",
    "extraction/effects.csv": "effects",
    "extraction/risk_of_bias.csv": "risk_of_bias",
    "qualitative/findings.csv": "qual_findings",
    "qualitative/appraisal.csv": "qual_appraisal",
    "qualitative/cerqual.csv": "qual_cerqual",
}


def parser() -> argparse.ArgumentParser:
    out = argparse.ArgumentParser(prog="evsynth")
    add_commands(out.add_subparsers(dest="command", required=True))
    return out


def run(*argv: str) -> int:
    args = parser().parse_args([str(a) for a in argv])
    return args.func(args)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def relative_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def schema_keys(schema: dict, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    keys = set()
    for key, sub in schema.get("properties", {}).items():
        keys.add((*prefix, key))
        if sub.get("type") == "object":
            keys |= schema_keys(sub, (*prefix, key))
    return keys


def config_keys(config: dict, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    keys = set()
    for key, value in config.items():
        keys.add((*prefix, key))
        if isinstance(value, dict):
            keys |= config_keys(value, (*prefix, key))
    return keys


# --- the example review with its results, built with the library ------------------


def build_records(review: Path, config: dict, results: Path) -> None:
    from evsynth.records import import_searches, write_import
    from evsynth.records.dedup import dedup_file

    folder = results / "records"
    section = config["records"]
    result = import_searches(
        review / section["manifest"], review / section["searches_dir"]
    )
    write_import(
        result,
        folder / "records.csv",
        folder / "import_summary.csv",
        folder / "import_issues.csv",
    )
    dedup_file(folder / "records.csv", folder)


def build_screening(review: Path, config: dict, results: Path) -> None:
    from evsynth.screening.api import run_screening, write_screening
    from evsynth.screening.model import Settings

    section = config["screening"]
    settings = Settings.from_config(section)
    result = run_screening(
        results / "records",
        settings,
        review / section["decisions"],
        review / section["retrieval"],
        review / section["studies"],
    )
    write_screening(result, results / "screening", settings)


def build_effects(review: Path, config: dict, results: Path) -> None:
    from evsynth.effects.api import run_effects, write_effects
    from evsynth.effects.compute import EffectSettings

    settings = EffectSettings.from_config(config["effects"])
    result = run_effects(review / config["effects"]["file"], settings)
    write_effects(result, results / "effects" / "effects.csv")


def load_config(path: Path) -> dict:
    return validate_config(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A copy of the example review with the records, screening and effects results."""
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copy(REPO / "config" / "config.yaml", root / "config.yaml")
    config = load_config(root / "config.yaml")
    results = root / "results"
    build_records(root / "data", config, results)
    build_screening(root / "data", config, results)
    build_effects(root / "data", config, results)
    return root


@pytest.fixture
def example(built, tmp_path) -> Path:
    """A private copy of ``built`` (mtimes kept), free to change."""
    root = tmp_path / "example"
    shutil.copytree(built, root)
    return root


def status_of(root: Path) -> dict:
    return review_status(root / "data", root / "config.yaml", root / "results")


# --- independent counts from the CSVs ----------------------------------------------


def designs(studies: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for study, group in studies.groupby("study_id", sort=False):
        given = [d for d in group["design"] if d]
        out[str(study)] = given[0] if given else ""
    return out


def expected_counts(root: Path) -> dict:
    data, results = root / "data", root / "results"
    studies = designs(read(data / "studies.csv"))
    effects = read(data / "extraction/effects.csv")
    rob = read(data / "extraction/risk_of_bias.csv")
    findings = read(data / "qualitative/findings.csv")
    appraisal = read(data / "qualitative/appraisal.csv")
    cerqual = read(data / "qualitative/cerqual.csv")
    sheets: dict[str, dict[str, int]] = {}
    for path in sorted((results / "screening/sheets").glob("*.csv")):
        for stage in ("title_abstract", "full_text"):
            if path.stem.endswith("_" + stage) and not path.stem.startswith("resolve"):
                person = path.stem[: -len(stage) - 1]
                sheets.setdefault(person, {})[stage] = len(read(path))
    conflicts = read(results / "screening/conflicts.csv")
    states = read(results / "screening/screening_summary.csv")
    state = dict(zip(states["state"], states["n_records"].astype(int), strict=True))
    qualitative = [
        s for s, d in studies.items() if d in ("qualitative", "mixed_methods")
    ]
    effectiveness = [
        s for s, d in studies.items() if d in ("RCT", "cluster_RCT", "QED")
    ]
    themes = set(findings["theme"])
    covered = {
        t.strip() for cell in cerqual["themes"] for t in cell.split(";") if t.strip()
    }
    return {
        "records": {
            "imported": len(read(results / "records/records.csv")),
            "unique": len(read(results / "records/unique.csv")),
            "pairs_to_review": len(read(results / "records/dedup_review.csv")),
        },
        "screening": {
            "to_screen": sheets,
            "conflicts": {
                "title_abstract": int((conflicts["stage"] == "title_abstract").sum()),
                "full_text": int((conflicts["stage"] == "full_text").sum()),
            },
            "awaiting_retrieval": state["awaiting_retrieval"],
            "not_retrieved": state["not_retrieved"],
            "included_reports": state["included"],
        },
        "effects": {
            "studies_without_effects": len(
                [
                    s
                    for s, d in studies.items()
                    if d != "qualitative" and s not in set(effects["study_id"])
                ]
            ),
            "effects": len(read(results / "effects/effects.csv")),
            "rows_excluded": len(read(results / "effects/excluded.csv")),
        },
        "rob": {
            "effectiveness_studies": len(effectiveness),
            "without_judgement": len(
                [s for s in effectiveness if s not in set(rob["study_id"])]
            ),
        },
        "qualitative": {
            "qualitative_studies": len(qualitative),
            "without_findings": len(
                [s for s in qualitative if s not in set(findings["study_id"])]
            ),
            "without_appraisal": len(
                [s for s in qualitative if s not in set(appraisal["study_id"])]
            ),
            "themes": len(themes),
            "themes_in_cerqual": len(themes & covered),
        },
    }


# --- init ----------------------------------------------------------------------------


def test_init_creates_every_file_and_the_new_review_validates(tmp_path, capsys):
    folder = tmp_path / "my_review"
    assert run("init", folder, "--title", "Mentoring: a review") == 0
    assert relative_files(folder) == TEMPLATE_FILES
    out = capsys.readouterr().out
    assert out.count("created ") == len(TEMPLATE_FILES)
    assert f"evsynth validate {folder}" in out
    # every table: the header only, with every column of its schema
    for relative, schema in TABLE_PATHS.items():
        text = (folder / relative).read_text(encoding="utf-8")
        assert text.count("\n") == 1, relative
        header = text.strip().split(",")
        assert sorted(header) == sorted(load_schema(schema)["properties"]), relative
        assert len(header) == len(set(header))
    # the config: every key of the schema written out, and valid
    raw = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    assert config_keys(raw) == schema_keys(load_schema("config"))
    assert raw["review_dir"] == "."
    assert raw["review_title"] == "Mentoring: a review"
    assert "config/README.md" in (folder / "config.yaml").read_text(encoding="utf-8")
    config, errors = check_config(folder / "config.yaml")
    assert errors == []
    assert config is not None
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"evsynth validate {folder}" in readme
    assert f"evsynth run --cores 2 {folder}`" in readme
    assert "--configfile" not in readme
    for relative in TEMPLATE_FILES - {"README.md"}:
        assert relative.split("/")[-1] in readme or relative == "searches/README.md"
    assert "`kind`" in (folder / "searches/README.md").read_text(encoding="utf-8")
    # an empty review is valid
    report = validate_review(folder, results=tmp_path / "no_results")
    assert report.ok, [str(p) for p in report.problems]
    assert len(report.files) == 10
    assert run("validate", folder, "--results", tmp_path / "no_results") == 0
    assert capsys.readouterr().out.strip() == "all 10 files valid"


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    folder = tmp_path / "review"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(EvsynthError, match=r"not empty.*--force"):
        run("init", folder)
    assert relative_files(folder) == {"notes.txt"}
    with pytest.raises(EvsynthError, match="not a folder"):
        init_review(folder / "notes.txt")


def test_init_force_adds_only_the_missing_files(tmp_path, capsys):
    folder = tmp_path / "review"
    (folder / "screening").mkdir(parents=True)
    mine = {
        "config.yaml": "review_dir: .\nreview_title: Mine\n",
        "studies.csv": "study_id,record_id,role\n",
        "screening/decisions.csv": "record_id,stage,reviewer,decision\n",
        "notes.txt": "keep me\n",
    }
    for name, text in mine.items():
        (folder / name).write_text(text, encoding="utf-8")
    result = init_review(folder, force=True)
    assert {p.relative_to(folder).as_posix() for p in result.kept} == (
        set(mine) - {"notes.txt"}
    )
    assert {p.relative_to(folder).as_posix() for p in result.created} == (
        TEMPLATE_FILES - set(mine)
    )
    for name, text in mine.items():
        assert (folder / name).read_text(encoding="utf-8") == text
    assert relative_files(folder) == TEMPLATE_FILES | {"notes.txt"}
    # nothing left to add: a second run creates nothing and changes nothing
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert run("init", folder, "--force") == 0
    assert "created" not in capsys.readouterr().out
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


# --- validate ------------------------------------------------------------------------


def test_validate_passes_on_the_example(built, capsys):
    report = validate_review(built / "data", built / "config.yaml", built / "results")
    assert report.ok, [str(p) for p in report.problems]
    assert len(report.files) == 11  # the config and ten tables (grade.csv too)
    assert not any("not checked" in note for note in report.notes), report.notes
    code = run(
        "validate",
        built / "data",
        "--config",
        built / "config.yaml",
        "--results",
        built / "results",
    )
    assert code == 0
    assert capsys.readouterr().out == "all 11 files valid\n"


def edit(path: Path, row: int, column: str, value: str) -> None:
    table = read(path)
    table.loc[row - 1, column] = value
    table.to_csv(path, index=False)


def test_validate_reports_every_problem_of_every_file(example, capsys):
    data = example / "data"
    manifest = data / "searches/searches.csv"
    effects = data / "extraction/effects.csv"
    rob = data / "extraction/risk_of_bias.csv"
    findings = data / "qualitative/findings.csv"
    # a schema problem in the manifest
    edit(manifest, 2, "kind", "journal")
    # a statistics problem (the effects stage's own check) in the extraction
    row = int(read(effects)["sd_t"].ne("").to_numpy().argmax()) + 1
    edit(effects, row, "sd_t", "-2")
    # a tool rule of risk of bias: overall better than the worst domain
    rob_row = int(read(rob)["tool"].eq("rob2").to_numpy().argmax()) + 1
    edit(rob, rob_row, "overall", "low")
    edit(rob, rob_row, "d1", "high")
    # two schema problems in two rows of the findings
    edit(findings, 3, "kind", "obstacle")
    edit(findings, 10, "perspective", "teacher")
    code = run(
        "validate",
        data,
        "--config",
        example / "config.yaml",
        "--results",
        example / "results",
    )
    assert code == 2
    lines = capsys.readouterr().out.splitlines()
    expected = [
        (manifest, 2, "kind", "'journal' (expected one of database, register"),
        (effects, row, "sd_t", "sd_t must be > 0"),
        (rob, rob_row, "overall", "better than the worst domain (D1 is 'high')"),
        (findings, 3, "kind", "'obstacle' (expected one of barrier"),
        (findings, 10, "perspective", "'teacher' (expected one of young_person"),
    ]
    for path, number, column, what in expected:
        hits = [
            line
            for line in lines
            if line.startswith(f"{path}, line {number + 1}, row {number}, ")
            and f"column '{column}'" in line
            and what in line
        ]
        assert len(hits) == 1, (path, number, column, lines)
    assert lines[-1].startswith("5 problem(s) in 4 file(s) of 11 checked")
    assert len(lines) == 6
    # the risk-of-bias check stops at its first problem and says so
    rob_line = next(line for line in lines if line.startswith(str(rob)))
    assert "more may follow" in rob_line


def test_validate_checks_record_ids_against_the_results(example):
    data = example / "data"
    decisions = data / "screening/decisions.csv"
    edit(decisions, 7, "record_id", "medline_pubmed:pmid:0")
    report = validate_review(data, example / "config.yaml", example / "results")
    expected = (
        f"{decisions}, line 8, row 7, column 'record_id': unknown record "
        "'medline_pubmed:pmid:0' (expected a record_id of "
        "results/records/records.csv) [this check stops at the first problem in "
        "the file; more may follow]"
    )
    assert [str(p) for p in report.problems] == [expected]
    # without results, record ids are not checked, and validate says so
    report = validate_review(data, example / "config.yaml", example / "none")
    assert report.ok
    assert any("record ids were not checked" in note for note in report.notes)


def test_validate_checks_the_study_labels(example):
    data = example / "data"
    studies = data / "studies.csv"
    table = pd.read_csv(studies, dtype=str, keep_default_na=False)
    table["label"] = ""
    # powers2012_mylife (row 4, line 5) named like geenen2013_takecharge, whose
    # main report (Geenen, Powers, Powers ... 2013) gives "Geenen et al. 2013"
    table.loc[table["study_id"] == "powers2012_mylife", "label"] = "Geenen et al. 2013"
    table.to_csv(studies, index=False, lineterminator="\n")
    report = validate_review(data, example / "config.yaml", example / "results")
    expected = (
        f"{studies}, line 5, row 4, column 'label': the label 'Geenen et al. 2013' "
        "of study 'powers2012_mylife' is also the label of study "
        "'geenen2013_takecharge' (expected a label no other study has (give the "
        "other study a label of its own too)) [this check stops at the first "
        "problem in the file; more may follow]"
    )
    assert [str(p) for p in report.problems] == [expected]


def test_validate_reports_every_config_problem_with_its_line(tmp_path):
    init_review(tmp_path / "review")
    path = tmp_path / "review" / "config.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("measure: auto", "measure: SMDX")
    text = text.replace("level: 95", "level: 150")
    text = text.replace("rob:\n", "rob:\n  colour: red\n")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    config, errors = check_config(path)
    assert config is not None
    found = {e.location.column: e.location.line for e in errors}
    assert found == {
        "effects/measure": lines.index("  measure: SMDX") + 1,
        "meta/level": lines.index("  level: 150") + 1,
        "rob/colour": lines.index("  colour: red") + 1,
    }
    report = validate_review(tmp_path / "review", results=tmp_path / "none")
    assert len(report.problems) == 3


def test_check_table_collects_every_problem(tmp_path):
    path = tmp_path / "retrieval.csv"
    path.write_text(
        "record_id,retrieved,note\na,yes,\n,maybe,x\nb,no,\nc,,\n", encoding="utf-8"
    )
    check = check_table(path, "retrieval")
    assert [(e.location.row, e.location.column, e.message) for e in check.errors] == [
        (2, "record_id", "empty cell"),
        (2, "retrieved", "invalid value 'maybe'"),
        (4, "retrieved", "empty cell"),
    ]
    assert [n for n, _ in check.rows] == [1, 3]
    path.write_text("record_id,note\na,\n", encoding="utf-8")
    check = check_table(path, "retrieval")
    assert len(check.errors) == 1
    assert check.errors[0].message == "missing required column(s) retrieved"
    path.write_text("", encoding="utf-8")  # read_table itself fails on this
    assert [e.message for e in check_table(path, "retrieval").errors] == ["empty file"]


# --- status --------------------------------------------------------------------------


def test_status_on_the_example(built, capsys):
    status = status_of(built)
    stages = status["stages"]
    for stage, counts in expected_counts(built).items():
        for key, value in counts.items():
            assert stages[stage]["counts"][key] == value, (stage, key)
    assert set(stages["screening"]["counts"]["to_screen"]) == {"amira", "jonas"}
    assert stages["records"]["status"] == "done"
    assert stages["screening"]["status"] == "done"
    assert stages["effects"]["status"] == "done"
    # no risk-of-bias, qualitative or meta results in this copy
    assert stages["rob"]["status"] == "not run"
    assert stages["qualitative"]["status"] == "not run"
    assert stages["meta"]["status"] == "not run"
    # the example's own numbers, as data/README.md describes them
    assert stages["rob"]["counts"]["effectiveness_studies"] == 18
    assert stages["qualitative"]["counts"]["themes_in_cerqual"] == 13
    args = ["status", built / "data", "--config", built / "config.yaml"]
    args += ["--results", built / "results"]
    assert run(*args, "--json") == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(status))
    assert run(*args) == 0
    text = capsys.readouterr().out
    assert "records imported" in text
    assert "not run yet: rob, qualitative, meta" in text
    imported = stages["records"]["counts"]["imported"]
    assert any(
        line.startswith("records ") and line.rstrip().endswith(f" {imported}")
        for line in text.splitlines()
    )


def test_status_counts_what_is_left_and_sees_stale_results(example, capsys):
    data, results = example / "data", example / "results"
    config = load_config(example / "config.yaml")
    # screening: jonas has not yet screened three records, amira changes her mind
    decisions = read(data / "screening/decisions.csv")
    ta = decisions[decisions["stage"] == "title_abstract"]
    both_out = [
        record
        for record, group in ta.groupby("record_id", sort=False)
        if len(group) == 2
        and set(group["decision"]) == {"exclude"}
        and record
        not in set(decisions.loc[decisions["stage"] == "full_text", "record_id"])
    ]
    dropped = both_out[:3]
    keep = ~(decisions["record_id"].isin(dropped) & (decisions["reviewer"] == "jonas"))
    changed = pd.DataFrame(
        [
            {
                "record_id": both_out[3],
                "stage": "title_abstract",
                "reviewer": "amira",
                "decision": "include",
            }
        ]
    )
    decisions = pd.concat([decisions[keep], changed], ignore_index=True)
    decisions.to_csv(data / "screening/decisions.csv", index=False)
    build_screening(data, config, results)
    # effects, risk of bias, qualitative: a study and a theme left out
    effects = read(data / "extraction/effects.csv")
    effects[effects["study_id"] != "malrc2022"].to_csv(
        data / "extraction/effects.csv", index=False
    )
    rob = read(data / "extraction/risk_of_bias.csv")
    rob[rob["study_id"] != "sport2021"].to_csv(
        data / "extraction/risk_of_bias.csv", index=False
    )
    cerqual = read(data / "qualitative/cerqual.csv")
    cerqual.iloc[1:].to_csv(data / "qualitative/cerqual.csv", index=False)
    # meta: one analysis run, one skipped, two not run yet
    (results / "meta").mkdir()
    pd.DataFrame(
        {
            "analysis": ["mental_health", "education"],
            "k": [13, 1],
            "estimate": ["0.26", ""],
            "note": ["", "fewer than 2 studies (min_k)"],
        }
    ).to_csv(results / "meta/summary.csv", index=False)
    # the effects results are older than the extraction table
    later = (results / "effects/effects.csv").stat().st_mtime + 60
    os.utime(data / "extraction/effects.csv", (later, later))

    status = status_of(example)
    stages = status["stages"]
    for stage, counts in expected_counts(example).items():
        for key, value in counts.items():
            assert stages[stage]["counts"][key] == value, (stage, key)
    screening = stages["screening"]["counts"]
    assert screening["to_screen"]["jonas"]["title_abstract"] == 3
    assert screening["to_screen"]["amira"]["title_abstract"] == 0
    assert screening["conflicts"] == {"title_abstract": 1, "full_text": 0}
    assert stages["screening"]["status"] == "pending"
    assert stages["effects"]["lists"]["studies_without_effects"] == ["malrc2022"]
    assert stages["effects"]["status"] == "stale"
    assert stages["effects"]["stale"] == [str(data / "extraction/effects.csv")]
    assert stages["rob"]["lists"]["without_judgement"] == ["sport2021"]
    first_themes = cerqual["themes"].iloc[0].split(";")
    assert stages["qualitative"]["lists"]["themes_not_in_cerqual"] == [
        t.strip() for t in first_themes
    ]
    meta = stages["meta"]["counts"]
    assert meta == {"configured": 4, "run": 1, "skipped": 1, "not_run": 2}
    assert stages["meta"]["lists"]["not_run"] == ["self_determination", "wellbeing"]

    args = ["status", data, "--config", example / "config.yaml", "--results", results]
    assert run(*args) == 0
    text = capsys.readouterr().out
    assert "to screen: jonas, title/abstract" in text
    assert "stale: effects: " in text
    assert "evsynth run" in text
    assert "still to do: screening, effects, rob, qualitative" in text
    assert [s for s, e in stages.items() if e["to_do"]] == [
        "screening",
        "effects",
        "rob",
        "qualitative",
    ]
    assert "malrc2022" in text


def test_status_notes_a_config_changed_after_the_latest_run_only(example):
    screening = example / "results/screening/final_decisions.csv"
    start = screening.stat().st_mtime
    os.utime(example / "config.yaml", (start + 10, start + 10))
    for path in (example / "results").rglob("*"):  # every result before the edit
        os.utime(path, (start, start))
    assert any("changed after" in n for n in status_of(example)["notes"])
    # the run after the edit rewrote only what the change touched
    os.utime(screening, (start + 20, start + 20))
    assert not any("changed after" in n for n in status_of(example)["notes"])


def test_status_sees_a_new_dedup_verdict_against_the_deduplication(example):
    # a verdict reruns the deduplication (unique.csv, clusters.csv), not the import
    folder = example / "results/records"
    start = (folder / "records.csv").stat().st_mtime
    verdicts = example / "data/records/dedup_decisions.csv"
    verdicts.parent.mkdir(exist_ok=True)
    verdicts.write_text("record_id_a,record_id_b,verdict,reviewer\n", encoding="utf-8")
    os.utime(verdicts, (start + 10, start + 10))
    for name in ("unique.csv", "clusters.csv"):
        os.utime(folder / name, (start + 20, start + 20))
    assert status_of(example)["stages"]["records"]["stale"] == []
    os.utime(verdicts, (start + 30, start + 30))
    assert status_of(example)["stages"]["records"]["stale"] == [str(verdicts)]


def test_status_lists_exports_whose_count_differs(example, capsys):
    # an export read as fewer records than the database reported is only a warning
    # in a log: the status shows it
    data, results = example / "data", example / "results"
    manifest = data / "searches/searches.csv"
    text = manifest.read_text(encoding="utf-8")
    assert text.splitlines()[2].endswith(",38")  # medline.nbib
    manifest.write_text(text.replace(",38\n", ",39\n", 1), encoding="utf-8")
    build_records(data, load_config(example / "config.yaml"), results)
    records = status_of(example)["stages"]["records"]
    assert records["counts"]["count_differs"] == 1
    assert records["lists"]["count_differs"] == ["medline.nbib"]
    args = ["status", data, "--config", example / "config.yaml", "--results", results]
    assert run(*args) == 0
    assert "medline.nbib" in capsys.readouterr().out


def test_status_needs_a_valid_config(tmp_path):
    init_review(tmp_path / "review")
    path = tmp_path / "review" / "config.yaml"
    path.write_text("review_dir: .\nscreening:\n  reviewers: []\n", encoding="utf-8")
    with pytest.raises(EvsynthError, match="evsynth validate"):
        review_status(tmp_path / "review", results=tmp_path / "results")


# --- the commands ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["init", "validate", "status"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: evsynth {command}")
    assert "--config" in out or command == "init"


def test_the_commands_fit_evsynths_parser():
    from evsynth.cli import build_parser

    full = build_parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    if "status" not in sub.choices:  # not wired into cli.py yet
        add_commands(sub)
    args = full.parse_args(["-q", "status", "some/review", "--json"])
    assert (args.directory, args.json, args.results) == ("some/review", True, None)
    args = full.parse_args(["validate"])
    assert (args.directory, args.config) == (None, None)


def test_tables_cover_every_schema():
    schemas = {spec.schema for spec in TABLES}
    shipped = {
        p.name.removesuffix(".schema.yaml")
        for p in (REPO / "src/evsynth/schemas").glob("*.schema.yaml")
    }
    assert schemas == shipped - {"config"}
    for spec in TABLES:
        assert set(spec.columns) == set(load_schema(spec.schema)["properties"])
