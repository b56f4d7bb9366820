"""A harmful binary outcome through the workflow: effects, meta-analysis, forest, GRADE.

The example review with an analysis of offending (better when lower) as an odds
ratio and as a risk ratio, under the example's ``effects.measure: auto``. The
expected ratios are metafor's (``tests/data/grade/offending_metafor.R``), of
the event as measured: the forest plot and the summary of findings must both
show them, and the risk-ratio analysis must pool the rows given as 2x2 counts
(with ``auto`` they once gave odds ratios only, and it pooled nothing).
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.workflow

#: Constructed offending rows (2x2 counts), appended to the example's effects.
OFFENDING_ROWS = [
    # study, outcome, time point, months, events_t, n_t, events_c, n_c
    ("taussig2010_fhf", "Arrested (official records)", "6m_post", 15, 12, 79, 21, 77),
    ("befriending_atrisk2017", "Police contact", "24m", 24, 18, 140, 29, 138),
    ("schoolmentoring2018", "Caution or conviction", "post", 12, 9, 85, 14, 88),
    ("yim_crct2023", "Arrested (self-report)", "post", 12, 15, 96, 17, 92),
]
#: tests/data/grade/offending_metafor.R: ratio, CI (REML, Knapp-Hartung).
OR_METAFOR = (0.580529, 0.452256, 0.745185)
RR_METAFOR = (0.656871, 0.493218, 0.874824)

ANALYSES = """\
    - name: offending
      label: Offending
      domains: [offending]
      measure: OR
    - name: offending_rr
      label: Offending (risk ratio)
      domains: [offending]
      measure: RR
"""


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> Path:
    """The example with the offending analyses, run up to GRADE."""
    work = tmp_path_factory.mktemp("binary_workflow")
    shutil.copytree(REPO / "data", work / "data")
    with (work / "data/extraction/effects.csv").open("a", encoding="utf-8") as f:
        header = (REPO / "data/extraction/effects.csv").read_text("utf-8")
        columns = header.splitlines()[0].split(",")
        for study, outcome, timepoint, months, a, n1, c, n2 in OFFENDING_ROWS:
            row = dict.fromkeys(columns, "")
            row |= {
                "study_id": study, "outcome": outcome, "domain": "offending",
                "timepoint": timepoint, "months": months, "favourable": "lower",
                "events_t": a, "n_t": n1, "events_c": c, "n_c": n2,
                "source": "constructed", "note": "test_binary_workflow",
            }  # fmt: skip
            csv.DictWriter(f, columns, lineterminator="\n").writerow(row)
    config = (REPO / "config/config.yaml").read_text("utf-8")
    anchor = "      domains: [education]\n"
    assert config.count(anchor) == 1
    assert re.search(r"^\s+measure: auto$", config, flags=re.MULTILINE)
    (work / "config.yaml").write_text(
        config.replace(anchor, anchor + ANALYSES), encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "results/grade/summary_of_findings.csv",
         "results/evsynth_review.json", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(work), "--cores", "2",
         "--configfile", str(work / "config.yaml"), "--config", "review_dir=data"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work


def _report(review: Path, name: str) -> dict:
    return json.loads((review / f"results/meta/{name}.json").read_text("utf-8"))


def _sof(folder: Path) -> dict[str, dict[str, str]]:
    """The rows of ``folder/summary_of_findings.csv``, by analysis."""
    path = folder / "summary_of_findings.csv"
    with path.open(encoding="utf-8") as handle:
        return {row["analysis"]: row for row in csv.DictReader(handle)}


def _svg_texts(path: Path) -> dict[str, str]:
    """The text of each element of a forest plot's SVG, by its id."""
    svg = path.read_text("utf-8")
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'<g id="([^"]+)">\s*<text[^>]*>([^<]*)</text>', svg)
    }


def _shown(measure: str, ratios: tuple[float, float, float]) -> str:
    return "{} {:.2f} ({:.2f} to {:.2f})".format(measure, *ratios)


@pytest.mark.parametrize(
    ("name", "measure", "k", "expected"),
    [("offending", "OR", 5, OR_METAFOR), ("offending_rr", "RR", 4, RR_METAFOR)],
)
def test_the_pooled_ratio_is_the_event_s_as_measured(
    review, name, measure, k, expected
):
    report = _report(review, name)
    assert (report["measure"], report["favourable"], report["k"]) == (
        measure,
        "lower",
        k,
    )
    pooled = report["pooled"]
    ratios = [math.exp(pooled[key]) for key in ("estimate", "ci_lb", "ci_ub")]
    assert ratios == pytest.approx(expected, abs=5e-6)


def test_auto_gives_the_risk_ratio_analysis_its_counts(review):
    report = _report(review, "offending_rr")
    # the four studies with counts, not the odds ratio given with its CI
    assert sorted(report["study_ids"]) == sorted(r[0] for r in OFFENDING_ROWS)
    assert [(r["study_id"], r["reason"]) for r in report["left_out"]] == [
        ("geenen2013_takecharge", "measure OR, the analysis pools RR")
    ]
    inputs = review / "results/meta/inputs/offending_rr.csv"
    with inputs.open(encoding="utf-8") as handle:
        rows = {r["study_id"]: r for r in csv.DictReader(handle)}
    for study, _, _, _, a, n1, c, n2 in OFFENDING_ROWS:
        assert rows[study]["measure"] == "RR"
        # turned round in effects.csv (favourable lower): minus the log RR
        assert float(rows[study]["yi"]) == pytest.approx(-math.log(a / n1 / (c / n2)))


@pytest.mark.parametrize(
    ("name", "measure", "expected"),
    [("offending", "OR", OR_METAFOR), ("offending_rr", "RR", RR_METAFOR)],
)
def test_forest_plot_and_summary_of_findings_show_the_same_ratio(
    review, name, measure, expected
):
    sof = _sof(review / "results/grade")[name]
    assert sof["relative_effect"] == _shown(measure, expected)
    texts = _svg_texts(review / f"results/meta/forest_{name}.svg")
    low, high = (f"{v:.2f}" for v in expected[1:])
    assert (
        texts["forest-summary-overall-est"],
        texts["forest-summary-overall-ci_lb"],
        texts["forest-summary-overall-ci_ub"],
    ) == (f"{expected[0]:.2f}", f"[{low},", f"{high}]")
    # below 1 (fewer offences) favours the intervention: on the left
    assert texts["forest-favours-left-line0"] == "Favours intervention"
    assert texts["forest-favours-right-line0"] == "Favours comparison"
    assert sof["statement"].startswith("Mentoring ") and " reduce" in sof["statement"]
    # no note that the forest plot shows another number
    assert "inverse" not in sof["notes"]


def test_a_continuous_analysis_keeps_its_sides(review):
    report = _report(review, "mental_health")
    assert "favourable" not in report
    texts = _svg_texts(review / "results/meta/forest_mental_health.svg")
    assert texts["forest-favours-left-line0"] == "Favours comparison"
    assert texts["forest-favours-right-line0"] == "Favours intervention"


def test_grade_command_prints_the_relative_effect(review, tmp_path):
    from tests.conftest import evsynth

    proc = evsynth("grade", str(review), "--out-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = {line.split(":")[0]: line for line in proc.stdout.splitlines()}
    sof = _sof(tmp_path)
    for name, label, measure, expected in (
        ("offending", "Offending", "OR", OR_METAFOR),
        ("offending_rr", "Offending (risk ratio)", "RR", RR_METAFOR),
    ):
        row = sof[name]
        # participants (studies); relative effect; absolute effect; certainty
        assert lines[label].startswith(
            f"{label}: {row['participants_studies']}; {_shown(measure, expected)}; "
            f"{row['absolute_effect']}; {row['certainty']}. {row['statement']}"
        )
    # a standardised difference has no relative effect: nothing printed for it
    mental = sof["mental_health"]
    assert lines["Mental health"] == (
        f"Mental health: {mental['participants_studies']}; "
        f"{mental['absolute_effect']}; {mental['certainty']}. {mental['statement']}"
    )
