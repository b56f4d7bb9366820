"""GRADE on a published example: azithromycin for acute lower respiratory infections.

Laopaiboon, Panpanich & Swa Mya (2015), Cochrane CD001954: 15 randomised
trials (2,496 participants) of azithromycin against amoxycillin or amoxyclav,
outcome clinical failure. The trial data are metadat's ``dat.laopaiboon2015``
(``tests/data/grade/laopaiboon2015.csv``); the published numbers were typed by
hand into ``laopaiboon2015_published.json`` from the pages its README cites.

What is published, and so what is checked:

- participants (studies) 2,496 (15), and RR 1.09 (0.64 to 1.85), random
  effects (the review's abstract);
- the comparator's risk of clinical failure, 10.3% (press summary of the
  review), the basis of the absolute effects;
- the certainty: the review authors' own summary-of-findings table could not
  be read in any stored copy, so the certainty checked is the GRADE rating of
  this body of evidence published by EBM Guidelines (Duodecim), whose evidence
  summaries use GRADE: level B (moderate), rated down once for study quality
  ("inadequate or unclear allocation concealment in all except three trials").
  Its judgements go in as grade.csv rows, with its words as the reason.

The review pooled with RevMan 5: inverse-variance random effects whose tau2 is
DerSimonian-Laird's, but with the Mantel-Haenszel heterogeneity statistic Q
(40.35 here) where metafor's and evsynth's DL use the inverse-variance Q
(38.44). tau2 is then 0.599 instead of 0.556 and the interval a little wider:
evsynth gives RR 1.09 (0.65 to 1.82) against the published 1.09 (0.64 to
1.85). The point estimate agrees to the published rounding; the bounds agree
within 0.02 on the log scale, which is the tolerance this method difference
forces. A hand computation of RevMan's method (below, numpy only) gives the
published interval exactly, and the summary-of-findings row built from it
prints the published relative effect verbatim.

The published summary-of-findings table's risks per 1,000 could not be read
either; the absolute effects are checked against the published comparator risk
and the GRADE definition (comparator risk times the risk ratio).

Run this file (``python tests/test_grade_published.py``) to print what evsynth
proposes for each domain beside the published judgement; the two are not
asserted to agree.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evsynth.effects import formulas as fm
from evsynth.grade import rules
from evsynth.grade.api import run_grade
from evsynth.meta.analyses import AnalysisSpec, MetaSettings, run_analysis

DATA = Path(__file__).resolve().parent / "data" / "grade"
PUBLISHED = json.loads(
    (DATA / "laopaiboon2015_published.json").read_text(encoding="utf-8")
)
NAME = "clinical_failure"
#: GRADE guidelines 6: an RR under 0.75 or over 1.25 as a rough guide to an
#: appreciable effect; the config gives an RR analysis's MID as ratios of the
#: event, and the rules take them on the analysis's (log) scale.
MID = [0.75, 1.25]
BOUNDS = (math.log(0.75), math.log(1.25))
#: metafor 3.8.1, rma(yi, vi, method="DL") on escalc(measure="RR") of
#: dat.laopaiboon2015: estimate, ci.lb, ci.ub, tau2, I2, QE.
METAFOR_DL = (0.08378634913, -0.43162801431, 0.59920071256, 0.5559418032,
              63.58317859873, 38.44377257899)  # fmt: skip
#: metafor rma.mh(measure="RR")$QE: the Mantel-Haenszel Q RevMan's tau2 uses.
METAFOR_MH_Q = 40.34799009
#: The three trials with adequate allocation concealment: not named on any page
#: read, but the only 3 of the 15 whose pooled RRs (and those of the other 12)
#: give both published sensitivity results (README.md). Used for the printed
#: proposals only.
CONCEALED = ("Ferwerda_2001", "Hoepelman_1998", "Mertens_1992")
#: The judgements of EBM Guidelines (level B: rated down for study quality only).
NOT_RATED_DOWN = (
    "not rated down by EBM Guidelines (level of evidence B; study quality is "
    "the only reason it gives)"
)
JUDGEMENTS = {
    "risk_of_bias": ("serious", PUBLISHED["certainty"]["rated_down"]["risk_of_bias"]),
    "inconsistency": ("no", NOT_RATED_DOWN),
    "indirectness": ("no", NOT_RATED_DOWN),
    "imprecision": ("no", NOT_RATED_DOWN),
    "publication_bias": ("no", NOT_RATED_DOWN),
}


def trials() -> pd.DataFrame:
    """The 15 trials, with evsynth-style study ids (Balmes_1991, ...)."""
    table = pd.read_csv(DATA / "laopaiboon2015.csv")
    table["study_id"] = table["author"] + "_" + table["year"].astype(str)
    return table


def effects_table(table: pd.DataFrame) -> pd.DataFrame:
    """Log risk ratios of clinical failure, azithromycin against the comparator.

    Made by the effects stage's own formula (``rr_2x2``: 1/2 added to every cell
    of a table with a zero cell, as RevMan and metafor do). The sign is kept
    as the review reports it (a ratio above 1: more failures with
    azithromycin), not flipped to "positive is favourable".
    """
    rows = []
    for r in table.itertuples(index=False):
        effect = fm.rr_2x2(r.ai, r.n1i, r.ci, r.n2i)
        rows.append(
            {
                "study_id": r.study_id,
                "outcome": "clinical failure",
                "domain": NAME,
                "timepoint": "day 10 to 14",
                "months": None,
                "measure": "RR",
                "yi": effect.yi,
                "vi": effect.vi,
                "n_t": r.n1i,
                "n_c": r.n2i,
                "events_c": r.ci,
            }
        )
    return pd.DataFrame(rows)


def analysis_report(table: pd.DataFrame) -> dict[str, Any]:
    """The meta stage's report of the analysis, pooled with DerSimonian-Laird."""
    spec = AnalysisSpec(
        NAME, (NAME,), "RR", subgroups=("age",), label="Clinical failure"
    )
    settings = MetaSettings(method="DL", test="z", analyses=(spec,))
    studies = table[["study_id", "year", "age"]]
    result = run_analysis(effects_table(table), studies, spec, settings)
    assert result is not None
    return result.report


def revman_random_effects(table: pd.DataFrame) -> tuple[float, float, float]:
    """RevMan 5's random-effects RR, by hand: DL tau2 from the Mantel-Haenszel Q.

    Log RRs and variances with 1/2 added to the cells of a table with a zero
    cell; MH pooled RR ``sum(a n2 / N) / sum(c n1 / N)`` (no correction); Q the
    inverse-variance weighted squared distances from it; tau2 =
    ``(Q - (k - 1)) / (sum w - sum w^2 / sum w)``; then inverse-variance
    pooling with weights ``1 / (v + tau2)``. Returns log RR and its 95% CI.
    """
    a, n1, c, n2 = (table[x].to_numpy(float) for x in ("ai", "n1i", "ci", "n2i"))
    zero = (a == 0) | (c == 0) | (a == n1) | (c == n2)
    ac, cc = a + 0.5 * zero, c + 0.5 * zero
    n1c, n2c = n1 + 1.0 * zero, n2 + 1.0 * zero
    y = np.log(ac / n1c) - np.log(cc / n2c)
    v = 1 / ac - 1 / n1c + 1 / cc - 1 / n2c
    w = 1 / v
    total = n1 + n2
    mh = np.sum(a * n2 / total) / np.sum(c * n1 / total)
    q = float(np.sum(w * (y - np.log(mh)) ** 2))
    assert q == pytest.approx(METAFOR_MH_Q, abs=1e-6)
    tau2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    ws = 1 / (v + tau2)
    mu = float(np.sum(ws * y) / ws.sum())
    half = 1.959963984540054 * math.sqrt(1 / ws.sum())
    return mu, mu - half, mu + half


def write_review(tmp: Path, table: pd.DataFrame, report: dict[str, Any]) -> dict:
    """Write what run_grade reads: the report, inputs, studies.csv, grade.csv."""
    (tmp / "inputs").mkdir()
    (tmp / f"{NAME}.json").write_text(json.dumps(report), encoding="utf-8")
    effects_table(table).to_csv(tmp / "inputs" / f"{NAME}.csv", index=False)
    pd.DataFrame(
        {
            "study_id": table["study_id"],
            "record_id": table["study_id"],
            "role": "main",
            "design": "RCT",
        }
    ).to_csv(tmp / "studies.csv", index=False)
    with (tmp / "grade.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["analysis", "domain", "judgement", "reason", "reviewer"])
        for domain, (judgement, reason) in JUDGEMENTS.items():
            out.writerow([NAME, domain, judgement, reason, "EBM Guidelines"])
    return {
        "meta": {
            "bias_min_k": 10,
            "analyses": [
                {"name": NAME, "measure": "RR", "mid": MID, "label": "Clinical failure"}
            ],
        },
        "grade": {"intervention": "Azithromycin"},
    }


def grade(tmp: Path, report: dict[str, Any]):
    table = trials()
    config = write_review(tmp, table, report)
    return run_grade(
        [tmp / f"{NAME}.json"],
        config,
        studies=tmp / "studies.csv",
        judgements=tmp / "grade.csv",
        inputs_dir=tmp / "inputs",
    )


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return analysis_report(trials())


def ratio(log_values: tuple[float, ...]) -> list[float]:
    return [round(math.exp(v), 2) for v in log_values]


def test_the_data_are_the_review_s():
    table = trials()
    assert len(table) == PUBLISHED["studies"]
    assert int((table["n1i"] + table["n2i"]).sum()) == PUBLISHED["participants"]
    # the published risks of clinical failure, 10.1% and 10.3%
    risk = PUBLISHED["risk_percent"]
    assert (
        round(100 * table["ai"].sum() / table["n1i"].sum(), 1) == risk["intervention"]
    )
    assert round(100 * table["ci"].sum() / table["n2i"].sum(), 1) == risk["comparator"]


def test_evsynth_pools_as_metafor_and_as_the_review_within_its_method(report):
    pooled = report["pooled"]
    estimate, low, high, tau2, i2, q = METAFOR_DL
    assert pooled["estimate"] == pytest.approx(estimate, abs=1e-8)
    assert (pooled["ci_lb"], pooled["ci_ub"]) == pytest.approx((low, high), abs=1e-8)
    assert pooled["tau2"] == pytest.approx(tau2, abs=1e-8)
    assert (pooled["I2"], pooled["Q"]) == pytest.approx((i2, q), abs=1e-6)
    published = PUBLISHED["relative_effect"]
    # the point estimate to the published rounding
    assert round(math.exp(pooled["estimate"]), 2) == published["estimate"]
    # the bounds within the tolerance RevMan's Q forces (0.010 and 0.014 here)
    assert math.log(published["ci_lb"]) == pytest.approx(pooled["ci_lb"], abs=0.02)
    assert math.log(published["ci_ub"]) == pytest.approx(pooled["ci_ub"], abs=0.02)


def test_revman_s_method_gives_the_published_interval():
    published = PUBLISHED["relative_effect"]
    expected = [published[k] for k in ("estimate", "ci_lb", "ci_ub")]
    assert ratio(revman_random_effects(trials())) == expected


def test_summary_of_findings_row_against_the_published_one(report, tmp_path):
    result = grade(tmp_path, report)
    (row,) = result.rows
    assert (row.participants, row.studies) == (2496, 15)
    assert row.participants_studies == "2,496 (15 studies)"
    # evsynth's own pooling, formatted: metafor's DL interval
    assert row.relative_effect == "RR 1.09 (0.65 to 1.82)"
    # comparator risk 114/1108 = 10.3% (published) = 102.9 per 1,000; with the
    # intervention 1000 * 114/1108 * RR (Cochrane Handbook 14.1.5: ACR x RR):
    # 111.9 (66.8 to 187.3); the difference 9.0 (from -36.1 to 84.4)
    acr = 114 / 1108
    risks = [1000 * acr * math.exp(v) for v in METAFOR_DL[:3]]
    assert [round(r, 1) for r in risks] == [111.9, 66.8, 187.3]
    assert [round(r - 1000 * acr, 1) for r in risks] == [9.0, -36.1, 84.4]
    assert row.absolute_effect == (
        "103 per 1,000 with the comparator; 112 per 1,000 with the intervention "
        "(67 to 187); 9 more per 1,000 (from 36 fewer to 84 more)"
    )
    assert row.comparator_risk == pytest.approx(acr, rel=1e-12)
    assert row.comparator_basis == (
        "114 events in 1,108 participants of the comparator groups of 15 studies"
    )
    # moderate (EBM Guidelines level B): one level down, for risk of bias
    assert row.level == PUBLISHED["certainty"]["level"]
    assert row.certainty.startswith("\u2295\u2295\u2295\u25ef Moderate ")
    assert not row.provisional
    notes = dict(row.footnotes)
    risk_note = next(t for t in notes.values() if t.startswith("Risk of bias:"))
    assert "allocation concealment in all except three trials" in risk_note
    # GRADE guidance 26 (Santesso et al. 2020), moderate certainty and an
    # effect below the MID: "likely results in little to no difference"
    assert row.statement == (
        "Azithromycin likely results in little to no difference in clinical failure."
    )


def test_the_published_pooled_numbers_print_as_published(report, tmp_path):
    mu, low, high = revman_random_effects(trials())
    review = {**report, "pooled": {**report["pooled"], "estimate": mu,
                                   "ci_lb": low, "ci_ub": high}}  # fmt: skip
    (row,) = grade(tmp_path, review).rows
    published = PUBLISHED["relative_effect"]
    assert row.relative_effect == (
        f"RR {published['estimate']:.2f} ({published['ci_lb']:.2f} to "
        f"{published['ci_ub']:.2f})"
    )
    # 1000 * 114/1108 * (1.0894, 0.6430, 1.8456) = 112.1, 66.2, 189.9; less
    # 102.9 with the comparator: 9.2, -36.7, 87.0
    assert row.absolute_effect.endswith(
        "112 per 1,000 with the intervention (66 to 190); 9 more per 1,000 (from "
        "37 fewer to 87 more)"
    )


def test_imprecision_follows_grade_6_on_the_published_interval(report):
    # GRADE 6: a CI that includes RR < 0.75 and RR > 1.25 may warrant rating
    # down, whatever the information size; 0.64 to 1.85 includes both
    published = PUBLISHED["relative_effect"]
    pooled = {
        "ci_lb": math.log(published["ci_lb"]),
        "ci_ub": math.log(published["ci_ub"]),
    }
    got = rules.imprecision(
        {"measure": "RR", "pooled": pooled},
        2496,
        rules.GradeSettings(mid_bounds=BOUNDS),
    )
    # below 0.75 and above 1.25: very serious, whatever the information size
    assert got.rating == "very_serious"
    assert "reaches beyond the MID in both directions (RR 0.75 and 1.25)" in (
        got.footnote
    )


def proposals_against_published() -> pd.DataFrame:
    """What evsynth proposes per domain, beside the published judgement."""
    table = trials()
    levels = {s: "low" if s in CONCEALED else "unclear" for s in table["study_id"]}
    report = analysis_report(table)
    proposals = rules.propose(
        report,
        designs=dict.fromkeys(table["study_id"], "RCT"),
        tools={},
        levels=levels,
        participants=int((table["n1i"] + table["n2i"]).sum()),
        settings=rules.GradeSettings(mid_bounds=BOUNDS),
    )
    return pd.DataFrame(
        [
            {
                "domain": p.domain,
                "proposed": p.rating,
                "published": JUDGEMENTS.get(p.domain, ("", ""))[0],
                "why (evsynth)": p.footnote or p.rule,
            }
            for p in proposals
        ]
    )


if __name__ == "__main__":
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(proposals_against_published().to_string(index=False))
