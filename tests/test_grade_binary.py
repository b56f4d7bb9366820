"""GRADE for binary outcomes: absolute effects, the event's direction, OIS, ratio MIDs.

Expected values are worked out by hand from the formulas the sources give, never
from evsynth's output:

- absolute effects (Cochrane Handbook 14.1.5; 11.5.5 and 12.5.4.3 of version
  5.1): with the intervention ``ACR * RR``, or ``ACR * OR / (1 - ACR + ACR *
  OR)``, per 1,000, the CI of the relative effect carried through; the
  Handbook's own worked example (OR 0.73, ACR 0.3: 62 fewer per 1,000);
- the optimal information size of a binary outcome (GRADE guidelines 6): R's
  ``power.prop.test`` (per arm, not rounded; the OIS is twice its ceiling),
  run by ``tests/data/grade/ois_binary.R``, whose printed lines are OIS_R;
- GRADE's default thresholds of an appreciable effect of a ratio: RR 0.75 and
  1.25 (GRADE guidelines 6; GRADE Handbook 5.2.2.2);
- pooled log risk and odds ratios of the end-to-end review: inverse-variance
  (equal effects, z) by hand from the 2x2 counts (Cochrane Handbook 10.3).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from evsynth.effects.api import write_analysis_effects
from evsynth.effects.compute import EffectSettings, compute_effects, read_effects
from evsynth.errors import InputError
from evsynth.grade import rules
from evsynth.grade.api import SOF_COLUMNS, run_grade, write_grade
from evsynth.grade.binary import (
    comparator_risk,
    event_direction,
    mid_problems,
    mid_settings,
)
from evsynth.grade.certainty import DomainRating, rate
from evsynth.grade.judgements import Judgement
from evsynth.grade.rules import GradeSettings
from evsynth.grade.sof import (
    absolute_effect,
    effect_size_word,
    plain_language,
    sof_row,
)
from evsynth.meta.analyses import MetaSettings
from evsynth.meta.api import run_one

Z = 1.959963984540054  # qnorm(0.975)

#: tests/data/grade/ois_binary.R: control risk, planned risk, alpha, power,
#: power.prop.test's n per arm, and 2 * ceiling(n).
OIS_R = [
    (0.2, 0.15, 0.05, 0.8, 905.365778, 1812),
    (0.3, 0.225, 0.05, 0.8, 539.084115, 1080),
    (0.1, 0.075, 0.05, 0.8, 2004.209430, 4010),
    (0.5, 0.375, 0.05, 0.8, 246.057476, 494),
    (0.05, 0.0375, 0.05, 0.8, 4201.895968, 8404),
    (0.2, 0.15, 0.05, 0.9, 1211.528937, 2424),
    (0.2, 0.15, 0.01, 0.8, 1347.481528, 2696),
    (0.2, 0.25, 0.05, 0.8, 1093.739046, 2188),
    (0.2, 0.1, 0.05, 0.8, 198.963413, 398),
    (0.2, 1 / 9, 0.05, 0.8, 259.793202, 520),
]


# --- the formulas -------------------------------------------------------------


@pytest.mark.parametrize(("p_c", "p_t", "alpha", "power", "n", "ois"), OIS_R)
def test_binary_ois_equals_r_power_prop_test(p_c, p_t, alpha, power, n, ois):
    assert rules.optimal_information_size_binary(p_c, p_t, alpha, power) == ois
    assert ois == 2 * math.ceil(n)


def test_binary_ois_refuses_risks_it_cannot_plan_for():
    for p_c, p_t in ((0.2, 0.2), (0.0, 0.1), (0.3, 1.0)):
        with pytest.raises(ValueError):
            rules.optimal_information_size_binary(p_c, p_t)


def test_risk_with_a_ratio_follows_the_handbook():
    # RR: ACR x RR; OR: ACR OR / (1 - ACR + ACR OR)
    assert rules.risk_with(0.2, 0.75, "RR") == pytest.approx(0.15)
    assert rules.risk_with(0.6, 2.0, "RR") == 1.0  # a risk stays <= 1
    # Cochrane Handbook 5.1, 12.5.4.3: OR 0.73 with ACR 0.3 gives 62 fewer per
    # 1,000: 0.73 * 0.3 / (0.7 + 0.219) = 0.2383
    risk = rules.risk_with(0.3, 0.73, "OR")
    assert risk == pytest.approx(0.219 / 0.919, rel=1e-12)
    assert round(1000 * (risk - 0.3)) == -62


def test_absolute_effect_per_1000_with_its_ci():
    # ACR 120 per 1,000, RR 1.30 (0.90 to 1.75): 156 (108 to 210) per 1,000;
    # 36 more (from 12 fewer to 90 more)
    text, risks = absolute_effect(0.12, (1.30, 0.90, 1.75), "RR")
    assert [round(1000 * r, 1) for r in risks] == [156.0, 108.0, 210.0]
    assert text == (
        "120 per 1,000 with the comparator; 156 per 1,000 with the intervention "
        "(108 to 210); 36 more per 1,000 (from 12 fewer to 90 more)"
    )
    # the Handbook's OR example: 238 per 1,000, 62 fewer
    text, _ = absolute_effect(0.3, (0.73, 0.73, 0.73), "OR")
    assert "238 per 1,000 with the intervention" in text
    assert "62 fewer per 1,000 (from 62 fewer to 62 fewer)" in text


# --- the thresholds of ratios (GRADE's 0.75 and 1.25) ---------------------------


def test_ratio_thresholds_are_asymmetric_on_the_log_scale():
    assert rules.RATIO_MID == (0.75, 1.25)
    low, high = rules.ratio_bounds((0.75, 1.25))
    assert (low, high) == (math.log(0.75), math.log(1.25))
    assert (round(low, 4), round(high, 4)) == (-0.2877, 0.2231)
    # an event that is better when lower: the analysis's scale is -log RR
    assert rules.ratio_bounds((0.75, 1.25), flipped=True) == (
        -math.log(1.25),
        -math.log(0.75),
    )
    with pytest.raises(ValueError):
        rules.ratio_bounds((1.25, 0.75))


def rr_report(low: float, high: float, *, flipped: bool = False) -> dict:
    """A report whose 95% CI is RR low to high of the event as measured."""
    sign = -1.0 if flipped else 1.0
    bounds = sorted(sign * math.log(v) for v in (low, high))
    return {
        "measure": "RR",
        "k": 3,
        "pooled": {"k": 3, "estimate": sum(bounds) / 2, "ci_lb": bounds[0],
                   "ci_ub": bounds[1]},
    }  # fmt: skip


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize(
    ("ci", "rating"),
    [
        ((0.78, 0.95), "no"),  # inside 0.75: no concern (a symmetric 0.80 would)
        ((0.74, 0.95), "serious"),  # crosses 0.75
        ((1.05, 1.24), "no"),
        ((1.05, 1.26), "serious"),  # crosses 1.25
        ((0.74, 1.26), "very_serious"),  # beyond both
        ((0.76, 1.24), "serious"),  # crosses the null only
    ],
)
def test_imprecision_of_a_ratio_at_grade_s_default_thresholds(ci, rating, flipped):
    settings = GradeSettings(
        mid_bounds=rules.ratio_bounds(rules.RATIO_MID, flipped), flipped=flipped
    )
    got = rules.imprecision(rr_report(*ci, flipped=flipped), None, settings)
    assert got.rating == rating, got
    if rating != "no":
        # the footnote shows the ratio of the event as measured, either way
        assert f"95% CI RR {ci[0]:.2f} to {ci[1]:.2f}" in got.footnote
    if ci == (0.74, 0.95):
        assert "crosses the MID (RR 0.75 and 1.25)" in got.footnote


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize(
    ("pi", "rating"),
    [((0.70, 1.30), "very_serious"), ((0.80, 1.30), "serious"),
     ((0.70, 1.20), "serious")],
)  # fmt: skip
def test_inconsistency_of_a_ratio_at_grade_s_default_thresholds(pi, rating, flipped):
    # I2 80%: serious; very serious only when the prediction interval of the
    # event's RR reaches below 0.75 and above 1.25
    sign = -1.0 if flipped else 1.0
    low, high = sorted(sign * math.log(v) for v in pi)
    report = rr_report(0.9, 1.1, flipped=flipped)
    report["pooled"].update(I2=80.0, pi_lb=low, pi_ub=high, tau2=0.1)
    settings = GradeSettings(
        mid_bounds=rules.ratio_bounds(rules.RATIO_MID, flipped), flipped=flipped
    )
    got = rules.inconsistency(report, settings)
    assert got.rating == rating
    assert f"prediction interval RR {pi[0]:.2f} to {pi[1]:.2f}" in got.footnote


def test_a_symmetric_mid_of_an_smd_is_unchanged():
    settings = GradeSettings(mid=0.2)
    assert settings.bounds == (-0.2, 0.2)
    assert settings.mid_bounds is None
    assert GradeSettings().bounds is None
    with pytest.raises(ValueError):
        GradeSettings(mid_bounds=(0.1, 0.2))


@pytest.mark.parametrize(
    ("rr", "word"),
    [(0.76, "trivial"), (0.75, "important"), (0.74, "important"),
     (1.24, "trivial"), (1.25, "important"), (1.0, "trivial")],
)  # fmt: skip
def test_size_words_of_a_ratio_follow_its_two_thresholds(rr, word):
    bounds = rules.ratio_bounds(rules.RATIO_MID)
    assert effect_size_word(math.log(rr), "RR", None, (0.2, 0.5, 0.8), bounds) == word


def test_ratio_mids_from_the_config():
    # one ratio: it and its inverse; two: as given; none: grade.ratio_mid
    got = mid_settings({"name": "a", "measure": "RR", "mid": 1.25}, "RR", False)
    assert got["mid_bounds"] == pytest.approx((math.log(0.8), math.log(1.25)))
    assert got["ois_ratio"] == pytest.approx(0.8)
    got = mid_settings({"name": "a", "mid": [0.75, 1.25]}, "OR", True)
    assert got["mid_bounds"] == pytest.approx((-math.log(1.25), -math.log(0.75)))
    assert got["ois_ratio"] == 0.75
    got = mid_settings({"name": "a"}, "RR", False, (0.8, 1.2))
    assert got["mid_bounds"] == pytest.approx((math.log(0.8), math.log(1.2)))
    assert got["ois_ratio"] is None  # the OIS then uses grade.ois_rrr
    # other measures: one number on their scale, as before
    assert mid_settings({"name": "a", "mid": 0.2}, "SMD", False) == {"mid": 0.2}
    assert mid_settings({"name": "a"}, "MD", False) == {"mid": None}


def test_ratio_mids_that_do_not_fit_are_refused():
    meta = {
        "analyses": [
            {"name": "a", "measure": "SMD", "mid": [0.75, 1.25]},
            {"name": "b", "measure": "RR", "mid": 1},
            {"name": "c", "measure": "OR", "mid": [1.25, 0.75]},
            {"name": "d", "measure": "RR", "mid": [0.75, 1.25]},
            {"name": "e", "measure": "SMD", "mid": 0.2},
        ]
    }
    problems = mid_problems(meta, "config.yaml")
    assert [p.location.column for p in problems] == [
        "meta/analyses/0/mid",
        "meta/analyses/1/mid",
        "meta/analyses/2/mid",
    ]
    assert "two thresholds are for OR and RR only" in str(problems[0])
    with pytest.raises(InputError, match="not a ratio MID"):
        mid_settings({"name": "b", "measure": "RR", "mid": 1}, "RR", False)


def test_validate_names_the_line_of_a_mid_that_does_not_fit(tmp_path):
    from evsynth.project.configfile import check_config

    path = tmp_path / "config.yaml"
    text = (
        "meta:\n  analyses:\n    - name: anxiety\n      measure: SMD\n"
        "      mid: [0.75, 1.25]\n    - name: offending\n      measure: RR\n"
        "      mid: [1.25, 0.75]\n    - name: stability\n      measure: OR\n"
        "      mid: [0.8, 1.25]\n"
    )
    path.write_text(text, encoding="utf-8")
    _, errors = check_config(path)
    found = {
        e.location.column: e.location.line
        for e in errors
        if (e.location.column or "").startswith("meta/")
    }
    # the SMD's pair by evsynth's own check, the reversed pair by the schema
    assert found == {"meta/analyses/0/mid": 5, "meta/analyses/1/mid": 8}


# --- the binary OIS in the imprecision rule -----------------------------------


def test_imprecision_plans_the_ois_of_a_binary_outcome():
    report = rr_report(0.55, 0.95)  # below 1 and below 0.75: a clear benefit
    # no MID of its own: grade.ois_rrr 25% of a comparator risk of 20%
    settings = GradeSettings(mid_bounds=rules.ratio_bounds(rules.RATIO_MID))
    got = rules.imprecision(report, 1811, settings, comparator_risk=0.2)
    assert got.numbers["ois"] == 1812  # R: 2 x 906
    assert got.numbers["ois_risk_planned"] == pytest.approx(0.15)
    assert got.rating == "serious"  # crosses 0.75; and one short of the OIS
    assert "1,811 participants against an optimal information size of 1,812" in (
        got.footnote
    )
    assert "comparator risk 20.0% against 15.0%" in got.footnote
    # the analysis's own MID: RR 0.5 lowers 20% to 10% (R: 398); OR 0.5 to 1/9
    # (0.2 * 0.5 / (0.8 + 0.1); R: 520)
    mine = GradeSettings(mid_bounds=rules.ratio_bounds((0.5, 2.0)), ois_ratio=0.5)
    assert rules.imprecision(report, 600, mine, 0.2).numbers["ois"] == 398
    odds = {**report, "measure": "OR"}
    assert rules.imprecision(odds, 600, mine, 0.2).numbers["ois"] == 520
    # without a comparator risk (no 2x2 counts): the CI only, as before
    assert rules.imprecision(report, 10, settings).numbers["ois"] is None


# --- footnotes say who decided ------------------------------------------------


def _imprecise() -> rules.Proposal:
    report = {"measure": "SMD", "pooled": {"ci_lb": -0.1, "ci_ub": 0.5}}
    return rules.imprecision(report, 1000, GradeSettings())


def test_a_proposal_no_one_confirmed_says_it_comes_from_the_data():
    rating = DomainRating("imprecision", _imprecise())
    assert rating.footnote() == (
        "Imprecision: serious (proposed from the data: 95% CI -0.10 to 0.50 "
        "crosses the null; 1,000 participants against an optimal information "
        "size of 786 (effect 0.2, alpha 0.05, power 0.8))."
    )
    assert "review team" not in rating.footnote()


def test_a_judgement_says_the_team_decided():
    confirmed = Judgement("mh", "imprecision", "serious", "wide CI", line=2)
    rating = DomainRating("imprecision", _imprecise(), confirmed)
    assert rating.footnote() == "Imprecision: serious (review team: wide CI)."
    overruled = Judgement("mh", "imprecision", "very_serious", "two harms", line=2)
    rating = DomainRating("imprecision", _imprecise(), overruled)
    text = rating.footnote()
    assert text.startswith("Imprecision: very serious (review team: two harms); ")
    assert "; proposed from the data: serious (95% CI -0.10 to 0.50" in text


def test_domains_only_the_team_judges_keep_their_own_words():
    start = rules.starting_level(["a", "b"], {"a": "RCT", "b": "QED"}, {"a": "rob2"})
    assert DomainRating("start", start).footnote() == start.footnote
    waiting = DomainRating("indirectness", rules.indirectness())
    assert waiting.footnote() == "Indirectness: not yet judged by the review team."


# --- the effects stage carries the 2x2 counts -----------------------------------


def test_effects_carry_the_counts_at_the_end(tmp_path):
    path = tmp_path / "effects.csv"
    path.write_text(
        "study_id,outcome,domain,timepoint,favourable,events_t,n_t,events_c,n_c,"
        "mean_t,sd_t,mean_c,sd_c\n"
        "s1,offending,offending,12m,lower,18,150,30,150,,,,\n"
        "s2,anxiety,anxiety,12m,lower,,40,,40,10,2,11,2\n",
        encoding="utf-8",
    )
    effects = compute_effects(read_effects(path), EffectSettings()).effects
    columns = list(effects.columns)
    # the columns before keep their places; the counts come last
    assert columns[-2:] == ["events_t", "events_c"]
    assert columns[columns.index("n_t") : columns.index("n_t") + 2] == ["n_t", "n_c"]
    assert columns[:6] == ["study_id", "outcome", "domain", "timepoint", "months",
                           "comparison"]  # fmt: skip
    offending, anxiety = effects.to_dict(orient="records")
    # turned round (better when lower), but the counts stay as counted
    assert offending["sign_flipped"] and offending["measure"] == "OR"
    assert (offending["events_t"], offending["events_c"]) == (18, 30)
    assert offending["yi"] == pytest.approx(-math.log(18 * 120 / (132 * 30)))
    assert pd.isna(anxiety["events_t"]) and pd.isna(anxiety["events_c"])


def test_direction_and_comparator_risk_of_the_rows_pooled():
    rows = pd.DataFrame(
        {
            "study_id": ["a", "a", "b", "c"],
            "sign_flipped": [True, True, True, True],
            "events_c": [10, 20, 30, None],
            "n_c": [100, 100, 200, 50],
        }
    )
    assert event_direction(rows) == "lower"
    assert event_direction(rows.assign(sign_flipped=[True, False, True, True])) == (
        "mixed"
    )
    assert event_direction(rows.assign(sign_flipped="False")) == "higher"
    assert event_direction(rows.drop(columns="sign_flipped")) is None
    risk = comparator_risk(rows, 3)
    # a: mean risk 0.15 over 100; b: 30/200; c: no counts -> (15 + 30) / 300
    assert (risk.events, risk.total, risk.studies) == (45.0, 300.0, 2)
    assert risk.risk == pytest.approx(0.15)
    assert risk.describe() == (
        "45 events in 300 participants of the comparator groups of 2 of 3 studies"
    )
    assert comparator_risk(rows.drop(columns="events_c"), 3) is None


# --- summary-of-findings rows of binary outcomes ------------------------------


def _certainty(report: dict):
    proposals = rules.propose(
        report,
        designs={"a": "RCT", "b": "RCT"},
        tools={},
        levels={"a": "low", "b": "low"},
        participants=5000,
        settings=GradeSettings(),
    )
    judged = {
        ("x", "indirectness"): Judgement("x", "indirectness", "no", "direct", line=2)
    }
    return rate("x", proposals, judged)


def _report(measure: str, estimate: float, low: float, high: float) -> dict:
    return {
        "analysis": "x",
        "label": "Offending",
        "measure": measure,
        "k": 2,
        "studies": [{"study_id": "a", "weight": 50.0},
                    {"study_id": "b", "weight": 50.0}],
        "pooled": {"k": 2, "estimate": estimate, "ci_lb": low, "ci_ub": high,
                   "I2": 0.0, "pi_lb": low, "pi_ub": high},
    }  # fmt: skip


def test_a_risk_difference_is_shown_for_the_event():
    # favourable = lower: the pooled RD 0.05 (0.02 to 0.08) means 50 fewer
    # events per 1,000 (from 80 fewer to 20 fewer)
    report = _report("RD", 0.05, 0.02, 0.08)
    row = sof_row(report, _certainty(report), participants=5000,
                  intervention="Mentoring", mid=None, smd_sizes=(0.2, 0.5, 0.8),
                  comparator=0.3, direction="lower")  # fmt: skip
    assert row.absolute_effect == (
        "300 per 1,000 with the comparator; 50 fewer per 1,000 (from 80 fewer to "
        "20 fewer)"
    )
    assert row.statement == "Mentoring reduces offending."


def test_a_ratio_pooled_as_measured_is_shown_as_it_is():
    # the meta stage pools offending as measured (favourable lower): RR 0.63
    # (0.44 to 0.92); an older meta stage pooled it turned round: RR 1.58
    # (1.09 to 2.27), which the summary of findings turns back
    measured = _report("RR", math.log(0.63), math.log(0.44), math.log(0.92))
    measured["favourable"] = "lower"
    older = _report("RR", -math.log(0.63), -math.log(0.92), -math.log(0.44))
    rows = []
    for report, turned in ((measured, False), (older, None)):
        rows.append(
            sof_row(report, _certainty(report), participants=5000,
                    intervention="Mentoring", mid=None, smd_sizes=(0.2, 0.5, 0.8),
                    comparator=0.2, direction="lower", turned=turned)
        )  # fmt: skip
    new, old = rows
    assert new.relative_effect == old.relative_effect == "RR 0.63 (0.44 to 0.92)"
    assert new.absolute_effect == old.absolute_effect
    assert new.absolute_effect.endswith(
        "74 fewer per 1,000 (from 112 fewer to 16 fewer)"
    )
    assert new.statement == old.statement == "Mentoring reduces offending."
    # only the older report's forest plot shows another ratio, and says so
    assert not any("inverse" in n for n in new.notes)
    assert any("shows its inverse" in n for n in old.notes)


def test_a_report_of_an_older_meta_stage_is_turned_back(binary_review, tmp_path):
    tmp, graded = binary_review
    report = json.loads((tmp / "offending.json").read_text(encoding="utf-8"))
    # as the meta stage wrote it before it pooled such events as measured
    del report["favourable"]
    pooled = report["pooled"]
    for low, high in (("ci_lb", "ci_ub"), ("pi_lb", "pi_ub")):
        if pooled.get(low) is not None:  # no prediction interval under EE
            pooled[low], pooled[high] = -pooled[high], -pooled[low]
    pooled["estimate"] = -pooled["estimate"]
    for study in report["studies"]:
        study["yi"] = -study["yi"]
    path = tmp_path / "offending.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    config = {"meta": {"analyses": [{"name": "offending", "measure": "RR"}]},
              "grade": {"intervention": "Mentoring"}}  # fmt: skip
    (older,) = run_grade([path], config, inputs_dir=tmp / "inputs").rows
    now = _row(graded, "offending")
    assert older.relative_effect == now.relative_effect == "RR 0.63 (0.44 to 0.92)"
    assert older.absolute_effect == now.absolute_effect
    assert any("shows its inverse" in n for n in older.notes)
    imprecision = _domain(graded, "offending", "imprecision")
    assert "95% CI RR 0.44 to 0.92" in imprecision.footnote()


def test_the_conclusion_of_an_event_better_when_lower():
    # CI of the log RR of offending below 0: fewer offences, a benefit, when
    # lower is better; the same CI of an outcome better when higher is a harm
    report = _report("RR", math.log(0.63), math.log(0.44), math.log(0.92))
    levels = {"a": "high", "b": "low"}
    lower = rules.risk_of_bias(report, levels, GradeSettings(lower_better=True))
    higher = rules.risk_of_bias(report, levels, GradeSettings())
    assert lower.numbers["conclusion"] == "benefit"
    assert higher.numbers["conclusion"] == "harm"


@pytest.mark.parametrize(
    ("certainty", "estimate", "size", "expected"),
    [
        # GRADE guidance 26: the verb follows the certainty, for the event
        ("high", -0.4, "important", "Mentoring reduces offending."),
        ("moderate", -0.4, "important", "Mentoring likely reduces offending."),
        ("low", -0.4, "important", "Mentoring may reduce offending."),
        ("high", 0.4, "important", "Mentoring increases offending."),
        ("moderate", 0.4, "", "Mentoring likely increases offending."),
        ("low", 0.4, "small", "Mentoring may increase offending slightly."),
        ("high", -0.4, "large", "Mentoring results in a large reduction in offending."),
        (
            "low",
            0.4,
            "moderate",
            "Mentoring may result in a moderate increase in offending.",
        ),
        (
            "moderate",
            -0.01,
            "trivial",
            "Mentoring likely results in little to no difference in offending.",
        ),
    ],
)
def test_statements_of_an_event(certainty, estimate, size, expected):
    got = plain_language(
        certainty, "Mentoring", "offending", estimate, size, event=True
    )
    assert got == expected


def test_rows_counted_in_opposite_directions_keep_the_pooled_ratio():
    report = _report("OR", math.log(1.5), math.log(1.1), math.log(2.05))
    row = sof_row(report, _certainty(report), participants=5000,
                  intervention="Mentoring", mid=None, smd_sizes=(0.2, 0.5, 0.8),
                  comparator=0.2, direction="mixed")  # fmt: skip
    assert row.relative_effect.startswith("OR 1.50 (1.10 to 2.05); of the outcome")
    assert row.absolute_effect == ""
    assert row.statement == "Mentoring improves offending."  # favourable coding


# --- end to end: 2x2 counts -> meta inputs -> meta-analysis -> GRADE ----------

#: study, events and participants with the intervention, with the comparator
COUNTS = [("s1", 18, 150, 30, 150), ("s2", 14, 100, 20, 100), ("s3", 6, 50, 10, 50)]


def pooled_by_hand(measure: str) -> tuple[float, float, float]:
    """Inverse-variance (equal effects, z) log RR or log OR of the event."""
    ys, ws = [], []
    for _, a, n1, c, n2 in COUNTS:
        if measure == "RR":
            ys.append(math.log((a / n1) / (c / n2)))
            ws.append(1 / (1 / a - 1 / n1 + 1 / c - 1 / n2))
        else:
            ys.append(math.log(a * (n2 - c) / ((n1 - a) * c)))
            ws.append(1 / (1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)))
    mu = sum(w * y for w, y in zip(ws, ys, strict=True)) / sum(ws)
    half = Z * math.sqrt(1 / sum(ws))
    return mu, mu - half, mu + half


@pytest.fixture(scope="module")
def binary_review(tmp_path_factory):
    """A small binary-outcome review, run through the library stage by stage."""
    tmp = tmp_path_factory.mktemp("binary_review")
    rows = []
    for domain, favourable in (("offending", "lower"), ("stability", "higher")):
        for study, a, n1, c, n2 in COUNTS:
            rows.append({"study_id": study, "outcome": domain, "domain": domain,
                         "timepoint": "12m", "months": 12, "favourable": favourable,
                         "events_t": a, "n_t": n1, "events_c": c, "n_c": n2})  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp / "effects.csv", index=False)
    pd.DataFrame(
        {"study_id": [s for s, *_ in COUNTS], "record_id": ["r1", "r2", "r3"],
         "role": "main", "design": "RCT"}
    ).to_csv(tmp / "studies.csv", index=False)  # fmt: skip
    (tmp / "grade.csv").write_text(
        "analysis,domain,judgement,reason\n"
        + "".join(
            f"{name},risk_of_bias,no,all trials at low risk (constructed)\n"
            f"{name},indirectness,no,the review question's population\n"
            for name in ("offending", "offending_or", "offending_mid", "stability")
        ),
        encoding="utf-8",
    )
    config = {
        "meta": {
            "method": "EE",
            "test": "z",
            "analyses": [
                {"name": "offending", "label": "Offending", "measure": "RR"},
                {"name": "offending_or", "label": "Offending (odds)",
                 "domains": ["offending"], "measure": "OR"},
                {"name": "offending_mid", "label": "Offending (wide MID)",
                 "domains": ["offending"], "measure": "RR", "mid": [0.5, 2.0]},
                {"name": "stability", "label": "Placement stability",
                 "measure": "RR"},
            ],
        },
        "grade": {"intervention": "Mentoring"},
    }  # fmt: skip
    settings = MetaSettings.from_config(config["meta"])
    (tmp / "inputs").mkdir()
    reports = []
    for spec in config["meta"]["analyses"]:
        name = spec["name"]
        write_analysis_effects(
            tmp / "effects.csv",
            EffectSettings(measure=spec["measure"]),
            spec.get("domains", [name]),
            tmp / "inputs" / f"{name}.csv",
            studies=tmp / "studies.csv",
        )
        result = run_one(tmp / "inputs" / f"{name}.csv", tmp / "studies.csv", None,
                         settings, name)  # fmt: skip
        (tmp / f"{name}.json").write_text(json.dumps(result.report), encoding="utf-8")
        reports.append(tmp / f"{name}.json")
    graded = run_grade(
        reports,
        config,
        studies=tmp / "studies.csv",
        judgements=tmp / "grade.csv",
        inputs_dir=tmp / "inputs",
    )
    write_grade(graded, tmp / "grade")
    return tmp, graded


def _row(graded, name):
    return next(r for r in graded.rows if r.analysis == name)


def _domain(graded, name, domain):
    certainty = next(c for c in graded.certainties if c.analysis == name)
    return next(d for d in certainty.domains if d.domain == domain)


def test_the_meta_inputs_carry_the_comparator_counts(binary_review):
    tmp, _ = binary_review
    inputs = pd.read_csv(tmp / "inputs" / "offending.csv")
    assert list(inputs.columns[-2:]) == ["events_t", "events_c"]
    assert inputs["events_c"].tolist() == [30, 20, 10]
    assert inputs["n_c"].tolist() == [150, 100, 50]
    assert inputs["sign_flipped"].tolist() == [True, True, True]


def test_end_to_end_risk_ratio_of_a_harmful_event(binary_review):
    tmp, graded = binary_review
    row = _row(graded, "offending")
    mu, low, high = pooled_by_hand("RR")
    rr = [math.exp(v) for v in (mu, low, high)]
    assert [round(x, 2) for x in rr] == [0.63, 0.44, 0.92]
    # the RR of offending as measured (fewer is better), not its inverse 1.58
    assert row.relative_effect == "RR 0.63 (0.44 to 0.92)"
    # ACR = 60 / 300 = 200 per 1,000; ACR x RR = 126.8 (87.3 to 184.3); the
    # difference -73.2 (from -112.7 to -15.7)
    acr = (30 + 20 + 10) / (150 + 100 + 50)
    risks = [1000 * acr * x for x in rr]
    assert [round(r, 1) for r in risks] == [126.8, 87.3, 184.3]
    assert [round(r - 1000 * acr, 1) for r in risks] == [-73.2, -112.7, -15.7]
    assert row.absolute_effect == (
        "200 per 1,000 with the comparator; 127 per 1,000 with the intervention "
        "(87 to 184); 73 fewer per 1,000 (from 113 fewer to 16 fewer)"
    )
    assert row.comparator_risk == pytest.approx(0.2)
    assert row.participants == 600
    # high, imprecision serious as proposed (below): moderate; fewer offences
    assert row.level == "moderate"
    assert row.statement == "Mentoring likely reduces offending."
    # the meta stage pooled the event as measured, so the forest plot shows the
    # same ratio and no note has to say otherwise
    report = json.loads((tmp / "offending.json").read_text(encoding="utf-8"))
    assert report["favourable"] == "lower"
    assert report["pooled"]["estimate"] == pytest.approx(mu, rel=1e-9)
    assert not any("inverse" in n for n in row.notes)


def test_end_to_end_ois_and_who_decided(binary_review):
    _, graded = binary_review
    imprecision = _domain(graded, "offending", "imprecision")
    # 25% RRR of 20%: 15%; R's power.prop.test(0.2, 0.15): n = 905.4 per arm
    assert imprecision.proposal.numbers["ois"] == 1812
    assert imprecision.proposal.numbers["participants"] == 600
    # 0.44 to 0.92 crosses 0.75, and 600 < 1,812: serious, as the data propose
    assert imprecision.rating == "serious" and imprecision.judgement is None
    note = imprecision.footnote()
    assert note.startswith("Imprecision: serious (proposed from the data: 95% CI RR ")
    assert "0.44 to 0.92 crosses the MID (RR 0.75 and 1.25)" in note
    assert "600 participants against an optimal information size of 1,812" in note
    bias = _domain(graded, "offending", "risk_of_bias")
    assert bias.proposal.rating == "serious"  # not assessed: some concerns
    assert bias.footnote() == (
        "Risk of bias: no (review team: all trials at low risk (constructed)); "
        "proposed from the data: serious (0% of the weight from studies at high "
        "risk of bias and 100% from studies with some concerns or not assessed)."
    )


def test_end_to_end_odds_ratio(binary_review):
    _, graded = binary_review
    row = _row(graded, "offending_or")
    mu, low, high = pooled_by_hand("OR")
    odds = [math.exp(v) for v in (mu, low, high)]
    assert row.relative_effect == "OR {:.2f} ({:.2f} to {:.2f})".format(*odds)
    assert row.relative_effect == "OR 0.58 (0.37 to 0.90)"
    # ACR OR / (1 - ACR + ACR OR) with ACR 0.2: 126.7 (85.2 to 184.3) per 1,000
    risks = [1000 * 0.2 * o / (0.8 + 0.2 * o) for o in odds]
    assert [round(r, 1) for r in risks] == [126.7, 85.2, 184.3]
    assert row.absolute_effect == (
        "200 per 1,000 with the comparator; 127 per 1,000 with the intervention "
        "(85 to 184); 73 fewer per 1,000 (from 115 fewer to 16 fewer)"
    )
    assert _domain(graded, "offending_or", "imprecision").proposal.numbers["ois"] == (
        1812
    )


def test_end_to_end_an_event_that_is_better_when_higher(binary_review):
    _, graded = binary_review
    offending, stability = _row(graded, "offending"), _row(graded, "stability")
    # the same counts: the same ratio and absolute effect of the event...
    assert stability.relative_effect == offending.relative_effect
    assert stability.absolute_effect == offending.absolute_effect
    # ...but fewer stable placements is worse, and the statement says so
    assert stability.statement == "Mentoring likely reduces placement stability."
    assert not any("event as measured" in n for n in stability.notes)
    # the thresholds are those of the event either way: the same imprecision
    assert _domain(graded, "stability", "imprecision").footnote() == (
        _domain(graded, "offending", "imprecision").footnote()
    )


def test_end_to_end_an_analysis_s_own_ratio_mid(binary_review):
    _, graded = binary_review
    row = _row(graded, "offending_mid")
    # RR 0.63 lies inside 0.5 to 2.0: little to no difference at that MID
    assert row.statement == (
        "Mentoring likely results in little to no difference in offending (wide MID)."
    )
    imprecision = _domain(graded, "offending_mid", "imprecision")
    # OIS planned for RR 0.5: 20% against 10% (R: 398); 600 participants suffice
    assert imprecision.proposal.numbers["ois"] == 398
    # 0.44 to 0.92 crosses 0.5: serious
    assert imprecision.rating == "serious"
    assert "crosses the MID (RR 0.50 and 2.00)" in imprecision.footnote()


def test_end_to_end_files(binary_review):
    tmp, _ = binary_review
    sof = pd.read_csv(tmp / "grade" / "summary_of_findings.csv", dtype=str)
    assert list(sof.columns) == SOF_COLUMNS
    assert list(sof.columns[-3:]) == ["comparator_risk", "comparator_basis", "notes"]
    first = sof.iloc[0]
    assert float(first["comparator_risk"]) == pytest.approx(0.2)
    assert first["comparator_basis"] == (
        "60 events in 300 participants of the comparator groups of 3 studies"
    )
    data = json.loads((tmp / "grade" / "certainty.json").read_text(encoding="utf-8"))
    assert data["settings"]["ratio_mid"] == [0.75, 1.25]
    assert data["settings"]["ois_rrr"] == 0.25
    assert data["analyses"][0]["notes"][0].startswith(
        "Offending: the absolute effect applies the relative effect"
    )


def test_an_analysis_the_meta_stage_skipped_is_not_rated(tmp_path, caplog):
    # too few studies: the meta stage writes a report without "pooled"; the
    # GRADE stage leaves it out (it used to refuse the whole run)
    report = {"analysis": "offending", "label": "Offending", "measure": "RR",
              "k": 0, "skipped": "0 studies, fewer than min_k = 2"}  # fmt: skip
    path = tmp_path / "offending.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    (tmp_path / "grade.csv").write_text(
        "analysis,domain,judgement,reason\noffending,indirectness,no,direct\n",
        encoding="utf-8",
    )
    config = {"meta": {"analyses": [{"name": "offending", "measure": "RR"}]}}
    result = run_grade([path], config, judgements=tmp_path / "grade.csv")
    assert result.rows == [] and result.certainties == []
    assert [(j.analysis, j.domain) for j in result.unused] == [
        ("offending", "indirectness")
    ]
    # a file that is no report at all is still refused
    path.write_text(json.dumps({"analysis": "offending"}), encoding="utf-8")
    with pytest.raises(InputError, match="not an analysis report"):
        run_grade([path], config)


def test_the_report_shows_the_notes_on_binary_outcomes(binary_review):
    from evsynth.report.sof import methods_text, read_grade, sof_note, sof_table

    tmp, graded = binary_review
    grade = read_grade(tmp, [r.analysis for r in graded.rows])
    table = sof_table(grade)
    assert table is not None
    notes = table["notes"]
    assert notes == [n for r in graded.rows for n in r.notes]
    assert notes[0].startswith(
        "Offending: the absolute effect applies the relative effect (and its 95% "
        "CI) to an assumed comparator risk of 200 per 1,000: 60 events in 300 "
        "participants of the comparator groups of 3 studies"
    )
    # one note per analysis, on its comparator risk; none on an inverse ratio
    assert [n.split(":")[0] for n in notes] == [r.outcome for r in graded.rows]
    assert not any("inverse" in n for n in notes)
    assert all(n in sof_note(grade) for n in notes)
    assert "Cochrane Handbook section 14.1.5" in methods_text(grade, {})
    # an event that is better when higher was not turned round: one note only
    (note,) = sof_table(read_grade(tmp, ["stability"]))["notes"]
    assert note.startswith("Placement stability: the absolute effect applies")
