"""A review folder owns its config, results and history; commands never mix reviews."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from evsynth.cli import main
from evsynth.errors import EvsynthError
from evsynth.project.review import (
    IDENTITY_FILE,
    check_results,
    find_review,
    review_identity,
    workflow_snakefile,
    write_identity,
)
from evsynth.project.template import init_example, init_review
from evsynth.project.update import apply_round
from tests.conftest import REPO, evsynth, tree

EXAMPLE_SEARCHES = REPO / "data/searches"


def _fill(review: Path, files: list[str], reviewers: list[str]) -> None:
    """Put some of the example's exports, with their manifest rows, in a review."""
    for name in files:
        shutil.copy(EXAMPLE_SEARCHES / name, review / "searches" / name)
    with (EXAMPLE_SEARCHES / "searches.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["file"] in files]
    manifest = review / "searches/searches.csv"
    header = manifest.read_text(encoding="utf-8").splitlines()[0].split(",")
    with manifest.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writerows(rows)
    config = review / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[reviewer_1, reviewer_2]", "[" + ", ".join(reviewers) + "]"),
        encoding="utf-8",
    )


def _reset(review: Path) -> None:
    shutil.rmtree(review / "results", ignore_errors=True)
    shutil.rmtree(review / ".snakemake", ignore_errors=True)


# --- finding the review -------------------------------------------------------------


def test_find_review_by_folder_by_input_folder_and_from_inside(tmp_path, monkeypatch):
    init_review(tmp_path / "mine", title="Mine")
    review = find_review(tmp_path / "mine")
    assert review.root == tmp_path / "mine"
    assert review.config_file == tmp_path / "mine/config.yaml"
    # the repository's layout: config/config.yaml, inputs in review_dir
    (tmp_path / "repo/config").mkdir(parents=True)
    (tmp_path / "repo/data").mkdir()
    (tmp_path / "repo/config/config.yaml").write_text(
        "review_dir: data\n", encoding="utf-8"
    )
    assert find_review(tmp_path / "repo").config_file.name == "config.yaml"
    # the input folder stands for its review
    by_data = find_review(tmp_path / "repo/data")
    assert by_data.root.resolve() == (tmp_path / "repo").resolve()
    # another folder inside a review is not a review
    (tmp_path / "repo/other").mkdir()
    with pytest.raises(EvsynthError, match="lies inside the review"):
        find_review(tmp_path / "repo/other")
    # with no folder named: the review of the current directory, or above it
    monkeypatch.chdir(tmp_path / "mine/screening")
    here = find_review()
    assert here.root.resolve() == (tmp_path / "mine").resolve()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EvsynthError, match="no review here"):
        find_review()


def test_find_review_refuses_two_configs_and_missing_folders(tmp_path):
    init_review(tmp_path / "both")
    (tmp_path / "both/config").mkdir()
    shutil.copy(tmp_path / "both/config.yaml", tmp_path / "both/config/config.yaml")
    with pytest.raises(EvsynthError, match=r"has both config\.yaml"):
        find_review(tmp_path / "both")
    with pytest.raises(EvsynthError, match="review folder not found"):
        find_review(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvsynthError, match="not a review folder"):
        find_review(tmp_path / "empty")


def test_init_gives_each_review_its_own_id(tmp_path):
    init_review(tmp_path / "a", title="Mentoring for care leavers")
    init_review(tmp_path / "b", title="Mentoring for care leavers")
    ids = []
    for name in ("a", "b"):
        lines = (tmp_path / name / "config.yaml").read_text(encoding="utf-8")
        line = next(x for x in lines.splitlines() if x.startswith("review_id:"))
        ids.append(line.split(":", 1)[1].strip())
    assert ids[0] != ids[1]
    assert all(i.startswith("mentoring-for-care-leavers-") for i in ids)
    assert evsynth("validate", str(tmp_path / "a")).returncode == 0


# --- the guard against mixing ---------------------------------------------------------


def test_results_of_another_review_stop_every_command(tmp_path):
    for name in ("a", "b"):
        init_review(tmp_path / name, title=f"Review {name.upper()}")
    a = find_review(tmp_path / "a")
    import yaml

    config_a = yaml.safe_load(a.config_file.read_text(encoding="utf-8"))
    write_identity(
        tmp_path / "b/results" / IDENTITY_FILE,
        review_identity(a.root, config_a, a.config_file),
    )
    for command in (
        ["run", str(tmp_path / "b"), "--", "--dry-run"],
        ["validate", str(tmp_path / "b")],
        ["status", str(tmp_path / "b")],
        ["changes", str(tmp_path / "b")],
        ["report", str(tmp_path / "b")],
    ):
        proc = evsynth(*command)
        assert proc.returncode == 2, (command, proc.stderr)
        assert "written by another review: 'Review A'" in proc.stderr, command
        assert str((tmp_path / "a").resolve()) in proc.stderr
        assert "mv " in proc.stderr  # what to do
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "b/.snakemake").exists()
    # review A itself accepts them
    check_results(a.root, config_a, a.config_file, tmp_path / "b/results")


def test_validate_names_an_emptied_config_not_foreign_results(tmp_path):
    # an emptied config loses the review_id that let the (moved) folder keep its
    # results: the config is the problem to report
    init_review(tmp_path / "a", title="Review A")
    a = find_review(tmp_path / "a")
    import yaml

    config_a = yaml.safe_load(a.config_file.read_text(encoding="utf-8"))
    write_identity(
        tmp_path / "a/results" / IDENTITY_FILE,
        review_identity(tmp_path / "old_place", config_a, a.config_file),
    )
    assert evsynth("validate", str(tmp_path / "a")).returncode == 0
    a.config_file.write_text("", encoding="utf-8")
    proc = evsynth("validate", str(tmp_path / "a"))
    assert proc.returncode == 2, proc.stderr
    assert "another review" not in proc.stdout + proc.stderr
    assert "config.yaml" in proc.stdout and "reviewer" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_identity_by_review_id_survives_a_move_and_folder_decides_without_ids(
    tmp_path,
):
    config = {"review_id": "r-1", "review_title": "T"}
    write_identity(
        tmp_path / "results" / IDENTITY_FILE,
        review_identity(tmp_path / "old_place", config, "config.yaml"),
    )
    check_results(tmp_path, config, tmp_path / "config.yaml")  # moved: same id
    with pytest.raises(EvsynthError, match="review_id r-1"):
        check_results(tmp_path, {"review_id": "r-2", "review_title": "T"}, "c.yaml")
    untitled = {"review_id": "", "review_title": "T"}
    write_identity(
        tmp_path / "results" / IDENTITY_FILE,
        review_identity(tmp_path / "elsewhere", untitled, "config.yaml"),
    )
    with pytest.raises(EvsynthError, match="another review"):
        check_results(tmp_path, untitled, tmp_path / "config.yaml")
    (tmp_path / "results" / IDENTITY_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(EvsynthError, match="cannot read which review"):
        check_results(tmp_path, untitled, tmp_path / "config.yaml")


# --- evsynth run ---------------------------------------------------------------------


def test_run_passes_the_review_folder_and_snakemake_arguments(
    tmp_path, monkeypatch, capsys
):
    init_review(tmp_path / "mine")
    calls: list[list[str]] = []
    monkeypatch.setattr(
        "evsynth.cli.subprocess.call", lambda command: calls.append(command) or 0
    )
    monkeypatch.setattr(
        "evsynth.cli._run_recorded",
        lambda root, command, extra: calls.append([*command, *extra]) or 0,
    )
    assert main(["run", "--cores", "1", str(tmp_path / "mine"), "--", "--dry-run"]) == 0
    command = calls[-1]
    assert command[command.index("--directory") + 1] == str(tmp_path / "mine")
    assert command[command.index("--snakefile") + 1] == str(workflow_snakefile())
    assert command[-1] == "--dry-run"
    # from inside the review, with no folder named; '--' never names the folder
    monkeypatch.chdir(tmp_path / "mine")
    assert main(["run", "--", "--dry-run"]) == 0
    assert calls[-1][calls[-1].index("--directory") + 1] == "."
    # the older option names still work, and must agree
    assert main(["run", "--review-dir", str(tmp_path / "mine")]) == 0
    init_review(tmp_path / "other")
    assert main(["run", "--directory", str(tmp_path), str(tmp_path / "mine")]) == 2
    assert "name the review folder once" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert "no review here" in capsys.readouterr().err


def test_run_stops_on_a_missing_review_dir(tmp_path, capsys):
    init_review(tmp_path / "mine")
    config = tmp_path / "mine/config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("review_dir: .", "review_dir: gone"),
        encoding="utf-8",
    )
    assert main(["run", str(tmp_path / "mine")]) == 2
    err = capsys.readouterr().err
    assert "review_dir 'gone' is not a folder" in err
    assert not (tmp_path / "mine/results").exists()


# --- init --example and the update round -------------------------------------------


def test_init_example_copies_the_example_with_a_new_identity(tmp_path):
    made = init_example(tmp_path / "ex")
    for name in ("config/config.yaml", "data/searches/searches.csv", "README.md"):
        assert (tmp_path / "ex" / name).is_file()
    assert (tmp_path / "ex/data/updates/round_1/apply.py").is_file()
    assert not (tmp_path / "ex/results").exists()
    copied = (tmp_path / "ex/config/config.yaml").read_text(encoding="utf-8")
    original = (REPO / "config/config.yaml").read_text(encoding="utf-8")
    assert "review_id: evsynth-example\n" in original
    assert "review_id: evsynth-example\n" not in copied
    assert (
        copied.replace(
            next(x for x in copied.splitlines() if x.startswith("review_id:")),
            "review_id: evsynth-example",
        )
        == original
    )
    inputs = sorted(
        p.relative_to(REPO) for p in (REPO / "data").rglob("*") if p.is_file()
    )
    assert len(made.created) == len(inputs) + 3  # config, its README, README.md
    with pytest.raises(EvsynthError, match="not empty"):
        init_example(tmp_path / "ex")


def test_apply_round_checks_everything_before_writing(tmp_path):
    init_review(tmp_path / "mine")
    package = tmp_path / "package"
    (package / "searches").mkdir(parents=True)
    (package / "searches/new.ris").write_text("TY  - JOUR\nER  - \n", encoding="utf-8")
    (package / "decisions_rows.csv").write_text(
        "record_id,stage,reviewer,decision,reason,note,timestamp\n"
        "x:1,title_abstract,ann,include,,,2024-01-01\n",
        encoding="utf-8",
    )
    (package / "studies_rows.csv").write_text(
        "study_id,record_id,colour\ns1,x:1,blue\n", encoding="utf-8"
    )
    before = tree(tmp_path / "mine")
    review = find_review(tmp_path / "mine")
    with pytest.raises(
        EvsynthError, match=r"studies_rows.csv, line 1, column 'colour'"
    ):
        apply_round(package, review)
    assert tree(tmp_path / "mine") == before  # nothing written
    (package / "studies_rows.csv").write_text(
        "record_id,study_id\nx:1,s1\n", encoding="utf-8"
    )
    done = apply_round(package, review)
    assert done.exports == [tmp_path / "mine/searches/new.ris"]
    studies = (tmp_path / "mine/studies.csv").read_text(encoding="utf-8").splitlines()
    header = studies[0].split(",")
    row = dict(zip(header, next(csv.reader([studies[1]])), strict=True))
    assert (row["study_id"], row["record_id"]) == ("s1", "x:1")  # by column name
    decisions = (tmp_path / "mine/screening/decisions.csv").read_text(encoding="utf-8")
    assert decisions.endswith("x:1,title_abstract,ann,include,,,2024-01-01\n")
    with pytest.raises(EvsynthError, match="applied before"):
        apply_round(package, review)


# --- two reviews, end to end ---------------------------------------------------------


@pytest.mark.workflow
def test_two_reviews_never_mix(tmp_path):
    """Two reviews run in either order give what each gives alone, each in its folder."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert evsynth("init", str(a), "--title", "Review A").returncode == 0
    assert evsynth("init", str(b), "--title", "Review B").returncode == 0
    _fill(a, ["medline.nbib", "psycinfo_ovid.ris"], ["ann", "ben"])
    _fill(b, ["scopus.csv", "wos.txt"], ["cleo", "dev"])

    alone = {}
    for review in (a, b):
        proc = evsynth("run", "--cores", "2", str(review))
        assert proc.returncode == 0, proc.stderr[-3000:]
        alone[review] = tree(review / "results")
        _reset(review)
    # b first, from elsewhere; then a, from inside its folder with no folder named
    assert evsynth("run", "--cores", "2", str(b), cwd=tmp_path).returncode == 0
    proc = evsynth("run", "--cores", "2", cwd=a)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for review, other in ((a, b), (b, a)):
        results = tree(review / "results")
        assert results == alone[review]
        assert (review / ".snakemake").is_dir()
        assert (review / "results/logs/report.log").is_file()
        assert (review / "results/history/round_0/records.csv").is_file()
        identity = json.loads(results[IDENTITY_FILE])
        assert identity["folder"] == review.resolve().as_posix()
        # nothing of the other review: its title, its folder, its exports
        other_title = "Review B" if review == a else "Review A"
        for name, data in results.items():
            if name.endswith((".csv", ".json", ".md", ".html", ".log", ".svg")):
                text = data.decode("utf-8", errors="replace")
                assert other_title not in text, name
                assert str(other.resolve()) not in text, name
    records_a = results_ids(a)
    records_b = results_ids(b)
    assert records_a and records_b
    assert not records_a & records_b
    assert {i.split(":")[0] for i in records_a} <= {
        "medline_pubmed",
        "apa_psycinfo_ovid",
    }
    assert not (tmp_path / "results").exists()
    assert not (tmp_path / ".snakemake").exists()

    # validate, status and changes answer for the review they are given
    for review, reviewers, title in ((a, "ann", "Review A"), (b, "cleo", "Review B")):
        valid = evsynth("validate", str(review))
        assert valid.returncode == 0, valid.stdout + valid.stderr
        assert str(other_folder(review, a, b)) not in valid.stdout
        status = evsynth("status", "--json", str(review))
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        assert data["title"] == title
        assert data["results"] == str(review / "results")
        assert reviewers in json.dumps(data["stages"]["screening"])
        inside = evsynth("status", "--json", cwd=review / "searches")
        assert json.loads(inside.stdout)["title"] == title
        changes = evsynth("changes", str(review))
        assert changes.returncode == 2  # one round only: nothing to compare, said so
        assert "only round 0 to compare" in changes.stderr
        assert "Traceback" not in changes.stderr


def results_ids(review: Path) -> set[str]:
    with (review / "results/records/records.csv").open(encoding="utf-8") as handle:
        return {row["record_id"] for row in csv.DictReader(handle)}


def other_folder(review: Path, a: Path, b: Path) -> Path:
    return b if review == a else a
