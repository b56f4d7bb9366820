"""Fine-grained reruns: after each kind of change, Snakemake's dry run lists exactly the jobs it touches."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO
from tests.conftest import run_snakemake as snakemake

pytestmark = pytest.mark.workflow


def planned(workdir: Path) -> tuple[dict[str, int], str]:
    """The jobs a dry run would run, by rule, and the dry run's text."""
    proc = snakemake(workdir, "--dry-run")
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}, text
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    jobs = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, flags=re.MULTILINE)
    }
    return jobs, text


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    """The example review, run once."""
    workdir = tmp_path_factory.mktemp("done")
    shutil.copytree(REPO / "data", workdir / "data")
    proc = snakemake(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


@pytest.fixture
def review(done, tmp_path) -> Path:
    """A copy of the finished run (file times kept, so nothing is stale)."""
    copy = tmp_path / "review"
    shutil.copytree(done, copy, symlinks=True)
    return copy


def test_nothing_to_do_after_a_run(review):
    assert planned(review)[0] == {}


def test_a_new_decision_reruns_screening_only(review):
    with (review / "data/screening/decisions.csv").open("a", encoding="utf-8") as f:
        f.write(
            "scopus:eid:2-s2.0-99000000006,title_abstract,amira,exclude,,,2023-08-01\n"
        )
    # the round's snapshot and the report read the screening results too
    assert planned(review)[0] == {"screening": 1, "snapshot": 1, "report": 1, "all": 1}


def test_a_corrected_effect_row_reruns_its_analysis_only(review):
    path = review / "data/extraction/effects.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = table.index[table["study_id"] == "sport2021"][0]
    assert table.loc[row, "domain"] == "mental_health"
    table.loc[row, "adj_diff"] = "-2.1"
    table.to_csv(path, index=False, lineterminator="\n")
    jobs, text = planned(review)
    assert jobs == {
        "effects": 1,
        "effects_for_analysis": 1,
        "meta_analysis": 1,
        "meta": 1,
        # the analysis's weights weigh the risk-of-bias summary plots
        "risk_of_bias": 1,
        # its certainty is rated again (GRADE reads every analysis's report)
        "grade": 1,
        "snapshot": 1,
        "report": 1,
        "all": 1,
    }
    assert "Effect sizes for the analysis mental_health" in text
    assert "Meta-analysis mental_health" in text


def test_a_new_export_is_the_only_file_parsed_again(review):
    searches = review / "data/searches"
    shutil.copy(searches / "medline.nbib", searches / "medline_update.nbib")
    with (searches / "searches.csv").open("a", encoding="utf-8") as handle:
        handle.write("medline_update.nbib,MEDLINE (PubMed),database,2024-06-01,1,,38\n")
    jobs, text = planned(review)
    assert jobs == {
        "import_search": 1,
        "import_records": 1,
        "deduplicate": 1,
        "screening": 1,
        # the records may give a main report other authors or another year: the
        # study labels are built again, and with them every figure naming studies
        "study_labels": 1,
        "meta_analysis": 4,
        "meta": 1,
        "risk_of_bias": 1,
        "grade": 1,
        "qualitative": 1,
        # update round 1 begins: its snapshot, the changes since round 0, the report
        "snapshot": 1,
        "changes": 1,
        "report": 1,
        "all": 1,
    }
    assert "Parsing data/searches/medline_update.nbib" in text
