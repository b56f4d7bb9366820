"""The Snakemake workflow end to end on the example review, and on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.workflow

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def run(workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *SNAKEMAKE,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "1",
            "--configfile",
            str(REPO / "config/config.yaml"),
            "--config",
            f"review_dir={workdir / 'data'}",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def review(tmp_path):
    shutil.copytree(REPO / "data", tmp_path / "data")
    return tmp_path


def test_example_review_end_to_end(review):
    proc = run(review)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = review / "results/records"
    summary = pd.read_csv(results / "import_summary.csv")
    manifest = pd.read_csv(review / "data/searches/searches.csv")
    assert list(summary["file"]) == list(manifest["file"])
    assert list(summary["n_parsed"]) == list(manifest["n_reported"])
    records = pd.read_csv(results / "records.csv", dtype=str)
    assert len(records) == manifest["n_reported"].sum()
    assert records["record_id"].is_unique
    clusters = pd.read_csv(results / "clusters.csv", dtype=str)
    assert list(clusters["record_id"]) == list(records["record_id"])
    unique = pd.read_csv(results / "unique.csv", dtype=str)
    assert set(unique["record_id"]) == set(clusters["cluster_id"])
    dedup = pd.read_csv(results / "dedup_summary.csv")
    assert dedup["n_records"].sum() == len(records)
    screening = review / "results/screening"
    states = pd.read_csv(screening / "screening_summary.csv")
    assert states["n_records"].sum() == len(unique)
    for name in ("prisma.svg", "prisma.png", "prisma.pdf", "prisma_counts.csv"):
        assert (screening / name).stat().st_size > 0
    effects = pd.read_csv(review / "results/effects/effects.csv")
    excluded = pd.read_csv(review / "results/effects/excluded.csv")
    extraction = pd.read_csv(review / "data/extraction/effects.csv")
    assert len(effects) + len(excluded) == len(extraction)
    # studies named by author and year of their main reports (data/searches)
    labels = pd.read_csv(review / "results/studies/labels.csv", dtype=str)
    label = dict(zip(labels["study_id"], labels["label"], strict=True))
    assert label["geenen2013_takecharge"] == "Geenen et al. 2013"
    assert label["taussig2010_fhf"] == "Taussig & Culhane 2010"
    assert label["qual_114"] == "Whitmore 2020"
    assert labels["label"].is_unique
    forest = (review / "results/meta/forest_mental_health.svg").read_text("utf-8")
    assert "Geenen et al. 2013" in forest and "geenen2013" not in forest
    assert "Cluster RCT" in forest and "cluster_RCT" not in forest
    heatmap = review / "results/qualitative/heatmap_themes_by_study.svg"
    assert "Whitmore 2020" in heatmap.read_text("utf-8")
    traffic = (review / "results/rob/traffic_light_rob2.svg").read_text("utf-8")
    assert "Geenen et al. 2013" in traffic
    # three studies: no funnel plot, and the JSON says why
    education = json.loads((review / "results/meta/education.json").read_text("utf-8"))
    assert education["funnel"] == {
        "drawn": False,
        "note": "funnel plot not drawn: 3 studies, fewer than meta.bias_min_k = 10",
    }
    first = (results / "records.csv").read_bytes()
    figure = (screening / "prisma.pdf").read_bytes()
    # same inputs, byte-identical outputs
    assert run(review, "--forceall").returncode == 0
    assert (results / "records.csv").read_bytes() == first
    assert (screening / "prisma.pdf").read_bytes() == figure
    # nothing to do on a second run
    dry = run(review, "--dry-run")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_new_export_reruns_import(review):
    assert run(review).returncode == 0
    searches = review / "data/searches"
    shutil.copy(searches / "medline.nbib", searches / "medline_update.nbib")
    with (searches / "searches.csv").open("a", encoding="utf-8") as handle:
        handle.write("medline_update.nbib,MEDLINE (PubMed),database,2024-06-01,1,,38\n")
    dry = run(review, "--dry-run")
    assert "import_records" in dry.stdout
    assert run(review).returncode == 0
    records = pd.read_csv(review / "results/records/records.csv", dtype=str)
    assert (records["update"] == "1").sum() == 38
    # the update repeats the MEDLINE search: every new record is a duplicate of
    # an earlier one, and the earlier clusters are unchanged
    summary = pd.read_csv(review / "results/records/dedup_summary.csv").set_index(
        "update"
    )
    assert summary.loc[1, "n_duplicates_of_earlier"] == 38
    assert summary.loc[1, "n_unique_new"] == 0


def test_bad_manifest_fails_cleanly_without_outputs(review):
    manifest = review / "data/searches/searches.csv"
    text = manifest.read_text(encoding="utf-8").replace(
        "(Ovid),database,", "(Ovid),journal,", 1
    )
    manifest.write_text(text, encoding="utf-8")
    proc = run(review)
    assert proc.returncode != 0
    log = (review / "results/logs/import_records.log").read_text(encoding="utf-8")
    assert "searches.csv, line 2, row 1, column 'kind': invalid value 'journal'" in log
    assert "Traceback" not in log
    assert not (review / "results/records/records.csv").exists()
    assert not (review / "results/records/import_summary.csv").exists()


def test_bad_config_is_reported(review, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(
        "review_dir: data\nrecords:\n  count_mismatch: ignore\n", encoding="utf-8"
    )
    proc = run(review, "--configfile", str(config))
    assert proc.returncode != 0
    assert "count_mismatch" in proc.stderr


def test_new_decision_reruns_screening_only(review):
    assert run(review).returncode == 0
    log = review / "data/screening/decisions.csv"
    with log.open("a", encoding="utf-8") as handle:
        handle.write(
            "scopus:eid:2-s2.0-99000000006,title_abstract,amira,exclude,,,2023-08-01\n"
        )
    dry = run(review, "--dry-run")
    assert "screening" in dry.stdout
    assert "deduplicate" not in dry.stdout
    assert run(review).returncode == 0


def test_bad_decision_fails_cleanly_without_outputs(review):
    log = review / "data/screening/decisions.csv"
    text = log.read_text(encoding="utf-8").replace(",amira,", ",zoe,", 1)
    log.write_text(text, encoding="utf-8")
    proc = run(review)
    assert proc.returncode != 0
    message = (review / "results/logs/screening.log").read_text(encoding="utf-8")
    assert (
        "decisions.csv, line 2, row 1, column 'reviewer': unknown reviewer 'zoe'"
        in (message)
    )
    assert "`evsynth validate` lists every problem" in message
    assert "Traceback" not in message
    assert not (review / "results/screening/final_decisions.csv").exists()
    assert not (review / "results/screening/prisma.png").exists()
