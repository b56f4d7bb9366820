"""GRADE rules (evsynth.grade.rules): each rule at and around its thresholds.

Expected values come from the rules as the GRADE guidelines state them and
from textbook sample sizes, never from evsynth's output.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsynth.errors import InputError
from evsynth.grade import rules
from evsynth.grade.certainty import rate, symbols
from evsynth.grade.judgements import read_judgements
from evsynth.grade.rules import GradeSettings
from evsynth.grade.sof import effect_size_word, plain_language


def report(
    weights: dict[str, float] | None = None,
    *,
    ci: tuple[float, float] = (0.1, 0.5),
    k: int | None = None,
    i2: float = 0.0,
    pi: tuple[float, float] | None = None,
    measure: str = "SMD",
    without_high: tuple[float, float] | None = None,
    egger_p: float | None = None,
    subgroup_p: float | None = None,
) -> dict:
    weights = weights or {"a": 50.0, "b": 50.0}
    k = len(weights) if k is None else k
    pi = pi or ci
    out = {
        "measure": measure,
        "k": k,
        "studies": [{"study_id": s, "weight": w} for s, w in weights.items()],
        "pooled": {
            "k": k,
            "estimate": sum(ci) / 2,
            "ci_lb": ci[0],
            "ci_ub": ci[1],
            "I2": i2,
            "tau2": 0.01,
            "Q_p": 0.5,
            "pi_lb": pi[0],
            "pi_ub": pi[1],
        },
    }
    if without_high is not None:
        out["sensitivity_without_high_rob"] = {
            "pooled": {"estimate": sum(without_high) / 2, "ci_lb": without_high[0],
                       "ci_ub": without_high[1]}
        }  # fmt: skip
    if egger_p is not None:
        out["bias"] = {"egger_rma": {"p": egger_p}}
        out["trimfill"] = {"k0": 2, "estimate": 0.2}
    if subgroup_p is not None:
        out["subgroups"] = {"design": {"between_separate_tau2": {"p": subgroup_p}}}
    return out


# --- starting level --------------------------------------------------------------


def test_randomised_trials_start_high():
    start = rules.starting_level(["a", "b"], {"a": "RCT", "b": "cluster_RCT"}, {})
    assert (start.rating, start.change) == ("high", 4)


def test_non_randomised_with_robins_i_start_high():
    start = rules.starting_level(
        ["a", "b"], {"a": "RCT", "b": "QED"}, {"a": "rob2", "b": "robins_i"}
    )
    assert (start.rating, start.change) == ("high", 4)
    assert "GRADE guidelines 18" in start.footnote


def test_non_randomised_without_robins_i_start_low():
    start = rules.starting_level(["a", "b"], {"a": "RCT", "b": "QED"}, {"a": "rob2"})
    assert (start.rating, start.change) == ("low", 2)
    assert start.numbers["without_robins_i"] == ["b"]


# --- risk of bias ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "level", "without", "rating"),
    [
        # 24% high, the rest low: below "substantial", whatever the sensitivity says
        (24.0, "high", (-0.1, 0.3), "no"),
        # 25% high and the conclusion changes (the CI now crosses 0): serious
        (25.0, "high", (-0.1, 0.3), "serious"),
        # 25% high, the same conclusion: no
        (25.0, "high", (0.05, 0.3), "no"),
        # 50% high and the conclusion changes: very serious
        (50.0, "high", (-0.1, 0.3), "very_serious"),
        # 50% high, the same conclusion: serious (most of the evidence)
        (50.0, "high", (0.05, 0.3), "serious"),
        # 50% with some concerns: serious (most of the evidence)
        (50.0, "moderate", None, "serious"),
        # 49% unclear, the rest low: no
        (49.0, "unclear", None, "no"),
    ],
)
def test_risk_of_bias_thresholds(share, level, without, rating):
    data = report({"a": share, "b": 100 - share}, without_high=without)
    got = rules.risk_of_bias(data, {"a": level, "b": "low"})
    assert got.rating == rating, got
    assert got.change == {"no": 0, "serious": -1, "very_serious": -2}[rating]
    assert (got.footnote != "") == (rating != "no")


def test_risk_of_bias_counts_unassessed_studies_as_concerns():
    got = rules.risk_of_bias(report({"a": 60.0, "b": 40.0}), {"b": "low"})
    assert got.rating == "serious"
    assert got.numbers["weight_unclear"] == pytest.approx(0.6)


def test_risk_of_bias_when_only_high_risk_studies():
    # nothing left without them: that changes the conclusion
    got = rules.risk_of_bias(report({"a": 100.0}), {"a": "high"})
    assert got.rating == "very_serious"
    assert "no study is left" in got.footnote


# --- inconsistency ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("i2", "pi", "mid", "rating"),
    [
        (49.9, (-0.2, 0.8), None, "no"),  # below the substantial band
        (50.0, (-0.2, 0.8), None, "serious"),  # substantial, PI crosses 0
        (74.9, (0.05, 0.8), None, "no"),  # substantial, PI one side
        (75.0, (0.05, 0.8), None, "serious"),  # considerable
        (75.0, (-0.2, 0.8), None, "very_serious"),  # both directions
        (80.0, (-0.2, 0.8), 0.3, "serious"),  # not beyond -MID
        (80.0, (-0.31, 0.8), 0.3, "very_serious"),  # beyond both MIDs
    ],
)
def test_inconsistency_thresholds(i2, pi, mid, rating):
    got = rules.inconsistency(report(i2=i2, pi=pi), GradeSettings(mid=mid))
    assert got.rating == rating, got


def test_a_subgroup_difference_makes_inconsistency_milder():
    data = report(i2=80.0, pi=(-0.2, 0.8), subgroup_p=0.049)
    got = rules.inconsistency(data, GradeSettings())
    assert got.rating == "serious"
    assert "subgroup differences: design (p = 0.049)" in got.footnote
    data = report(i2=80.0, pi=(-0.2, 0.8), subgroup_p=0.05)
    assert rules.inconsistency(data, GradeSettings()).rating == "very_serious"


def test_inconsistency_of_one_study_is_not_assessable():
    got = rules.inconsistency(report({"a": 100.0}, i2=0.0), GradeSettings())
    assert (got.rating, got.change) == ("not_assessable", 0)


# --- imprecision -------------------------------------------------------------------


def test_optimal_information_size_of_a_small_effect():
    # (1.959964 + 0.841621)^2 * 2 / 0.2^2 = 392.4 -> 393 per arm (textbook value)
    assert rules.optimal_information_size(0.2) == 786
    # 0.5: 62.8 -> 63 per arm; 0.8: 24.5 -> 25 per arm
    assert rules.optimal_information_size(0.5) == 126
    assert rules.optimal_information_size(0.8) == 50
    # power 0.9: (1.959964 + 1.281552)^2 * 2 / 0.25 = 84.1 -> 85 per arm
    assert rules.optimal_information_size(0.5, power=0.9) == 170
    with pytest.raises(ValueError):
        rules.optimal_information_size(0.0)


@pytest.mark.parametrize(
    ("ci", "n", "mid", "rating"),
    [
        ((0.1, 0.5), 786, None, "no"),  # excludes 0, OIS met exactly
        ((0.1, 0.5), 785, None, "serious"),  # one participant short
        ((-0.01, 0.5), 786, None, "serious"),  # crosses the null
        ((-0.01, 0.5), 785, None, "very_serious"),  # crosses and short
        ((0.1, 0.5), 2000, 0.2, "serious"),  # crosses the MID 0.2 (OIS 786)
        ((0.25, 0.5), 2000, 0.2, "no"),  # all above the MID
        ((-0.3, 0.3), 2000, 0.2, "very_serious"),  # beyond -MID and +MID
        ((-0.2, 0.2), 2000, 0.2, "serious"),  # reaches, not beyond, the MIDs
    ],
)
def test_imprecision_thresholds(ci, n, mid, rating):
    got = rules.imprecision(report(ci=ci), n, GradeSettings(mid=mid))
    assert got.rating == rating, got


def test_imprecision_of_other_measures_uses_the_ci_only():
    got = rules.imprecision(report(ci=(0.1, 0.5), measure="OR"), 10, GradeSettings())
    assert got.numbers["ois"] is None
    assert got.rating == "no"


# --- publication bias --------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "p", "rating"),
    [
        (9, 0.01, "not_assessable"),  # fewer than bias_min_k: never "no concern"
        (10, 0.0999, "serious"),
        (10, 0.10, "no"),
    ],
)
def test_publication_bias_thresholds(k, p, rating):
    weights = {f"s{i}": 1.0 for i in range(k)}
    got = rules.publication_bias(report(weights, egger_p=p), GradeSettings())
    assert got.rating == rating
    if rating == "not_assessable":
        assert "9 studies, fewer than the 10 small-study tests need" in got.footnote


# --- judgements only and the whole proposal ---------------------------------------


def test_upgrades_only_for_evidence_starting_low():
    high = rules.starting_level(["a"], {"a": "RCT"}, {})
    low = rules.starting_level(["a"], {"a": "QED"}, {})
    assert rules.upgrade("large_effect", high).rating == "not_applicable"
    assert rules.upgrade("large_effect", low).rating == "not_judged"


def test_propose_gives_every_domain_in_order():
    got = rules.propose(
        report(),
        designs={"a": "RCT", "b": "RCT"},
        tools={},
        levels={"a": "low", "b": "low"},
        participants=1000,
        settings=GradeSettings(),
    )
    assert [p.domain for p in got] == list(rules.DOMAINS)
    assert got[3].rating == "not_judged"  # indirectness


@given(
    low=st.floats(-3, 3),
    width=st.floats(0.001, 3),
    n=st.integers(1, 5000),
    mid=st.one_of(st.none(), st.floats(0.01, 1)),
)
def test_imprecision_is_monotone_in_participants(low, width, n, mid):
    settings = GradeSettings(mid=mid)
    data = report(ci=(low, low + width))
    fewer = rules.imprecision(data, n, settings).change
    more = rules.imprecision(data, n + 1000, settings).change
    assert more >= fewer  # more participants never rate further down
    assert fewer in (0, -1, -2)
    assert math.isfinite(rules.optimal_information_size(mid or 0.2))


# --- the team's judgements (grade.csv) ----------------------------------------------


HEADER = "analysis,domain,judgement,reason,reviewer,date\n"


def write_grade(tmp_path, *rows: str):
    path = tmp_path / "grade.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_judgement_without_a_reason_is_refused(tmp_path):
    path = write_grade(tmp_path, "mh,imprecision,no,,amira,2024-01-01")
    with pytest.raises(InputError) as err:
        read_judgements(path, {"mh"})
    message = str(err.value)
    assert "grade.csv, line 2, row 1, column 'reason'" in message


def test_a_blank_reason_is_refused(tmp_path):
    path = write_grade(tmp_path, 'mh,imprecision,no,"   ",amira,')
    with pytest.raises(InputError, match="column 'reason'"):
        read_judgements(path, {"mh"})


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("other,imprecision,no,why", "analysis", "not an analysis of the config"),
        ("mh,imprecision,up_one,why", "judgement", "only rate down"),
        ("mh,large_effect,serious,why", "judgement", "only rate up"),
        ("mh,precision,no,why", "domain", ""),
        ("mh,imprecision,maybe,why", "judgement", ""),
    ],
)
def test_judgements_that_do_not_fit_are_refused(tmp_path, row, column, fragment):
    path = write_grade(tmp_path, row)
    with pytest.raises(InputError) as err:
        read_judgements(path, {"mh"})
    assert f"line 2, row 1, column '{column}'" in str(err.value)
    assert fragment in str(err.value)


def test_a_domain_judged_twice_names_both_lines(tmp_path):
    path = write_grade(tmp_path, "mh,imprecision,no,a", "mh,imprecision,serious,b")
    with pytest.raises(InputError) as err:
        read_judgements(path, {"mh"})
    assert "line 3" in str(err.value) and "also line 2 (row 1)" in str(err.value)


def _proposals(start="RCT"):
    return rules.propose(
        report(ci=(0.1, 0.5)),
        designs={"a": start, "b": start},
        tools={},
        levels={"a": "low", "b": "low"},
        participants=1000,
        settings=GradeSettings(),
    )


def test_judgements_win_and_overrides_are_kept(tmp_path):
    path = write_grade(
        tmp_path,
        "mh,indirectness,serious,outcomes measured in adults,amira,2024-02-01",
        "mh,imprecision,no,agreed,jonas,",
    )
    judged = read_judgements(path, {"mh"})
    certainty = rate("mh", _proposals(), judged)
    by = {d.domain: d for d in certainty.domains}
    assert by["indirectness"].rating == "serious"
    # indirectness: only the team judges it, so its judgement overrides nothing
    assert not by["indirectness"].overridden
    assert not by["imprecision"].overridden  # the same as proposed
    # high - 1 (indirectness) = moderate, and nothing left to judge
    assert (certainty.level, certainty.label) == (3, "moderate")
    assert not certainty.provisional
    notes = certainty.footnotes()
    assert "Indirectness: serious (review team: outcomes measured in adults)." in notes
    # imprecision: confirmed as proposed, and the footnote says the team decided
    assert "Imprecision: no (review team: agreed)." in notes
    # nothing overridden: no footnote pairs the team's rating with a proposal
    assert not any("review team" in n and "proposed from the data" in n for n in notes)


def test_certainty_stays_between_very_low_and_high(tmp_path):
    rows = [
        f"mh,{d},very_serious,why"
        for d in ("risk_of_bias", "inconsistency", "indirectness", "imprecision")
    ]
    certainty = rate(
        "mh", _proposals(), read_judgements(write_grade(tmp_path, *rows), {"mh"})
    )
    assert (certainty.level, certainty.label) == (1, "very low")
    assert symbols(1) == "⊕◯◯◯" and symbols(4) == "⊕⊕⊕⊕"


def test_rating_up_is_for_evidence_that_starts_low(tmp_path):
    path = write_grade(tmp_path, "mh,large_effect,up_two,RR 6")
    judged = read_judgements(path, {"mh"})
    with pytest.raises(InputError, match="starts high"):
        rate("mh", _proposals("RCT"), judged)
    low = rate("mh", _proposals("QED"), judged)  # low + 2 = high
    assert low.start == 2 and low.label == "high"


# --- plain language (GRADE guidance 26) ------------------------------------------


@pytest.mark.parametrize(
    ("certainty", "estimate", "size", "expected"),
    [
        ("high", 0.3, "small", "Mentoring improves mental health slightly."),
        ("moderate", 0.3, "small", "Mentoring likely improves mental health slightly."),
        ("low", 0.3, "small", "Mentoring may improve mental health slightly."),
        ("low", -0.3, "small", "Mentoring may worsen mental health slightly."),
        (
            "moderate",
            0.9,
            "large",
            "Mentoring likely results in a large improvement in mental health.",
        ),
        (
            "high",
            0.05,
            "trivial",
            "Mentoring results in little to no difference in mental health.",
        ),
        (
            "low",
            0.05,
            "trivial",
            "Mentoring may result in little to no difference in mental health.",
        ),
        (
            "very low",
            0.9,
            "large",
            (
                "The evidence is very uncertain about the effect of mentoring on "
                "mental health."
            ),
        ),
    ],
)
def test_plain_language_statements(certainty, estimate, size, expected):
    got = plain_language(certainty, "Mentoring", "mental health", estimate, size)
    assert got == expected


@pytest.mark.parametrize(
    ("estimate", "mid", "word"),
    [
        (0.19, None, "trivial"),
        (0.2, None, "small"),
        (-0.5, None, "moderate"),
        (0.8, None, "large"),
        (0.25, 0.3, "trivial"),  # below the MID
        (0.3, 0.3, "small"),
    ],
)
def test_effect_size_words(estimate, mid, word):
    assert effect_size_word(estimate, "SMD", mid, (0.2, 0.5, 0.8)) == word


# --- the stage on the example review -------------------------------------------------


@pytest.fixture(scope="module")
def graded():
    from tests.conftest import example_results

    return example_results()


@pytest.mark.workflow
def test_the_example_summary_of_findings_adds_up(graded):
    import pandas as pd

    sof = pd.read_csv(graded / "grade/summary_of_findings.csv", dtype=str)
    domains = pd.read_csv(graded / "grade/certainty.csv", dtype=str)
    assert list(sof["analysis"]) == [
        "mental_health",
        "self_determination",
        "wellbeing",
        "education",
    ]
    levels = ["very low", "low", "moderate", "high"]
    for row in sof.itertuples():
        # the level a reader recomputes: start (4 or 2) + every change, in 1..4
        mine = domains[domains["analysis"] == row.analysis]
        start = mine[mine["domain"] == "start"]["rating"].item()
        total = (4 if start == "high" else 2) + mine["change"].astype(int).sum()
        assert row.level == levels[max(1, min(4, total)) - 1]
        assert row.certainty.startswith("⊕" * levels.index(row.level) + "⊕")
        # participants: per study the largest n_t + n_c of its rows pooled
        inputs = pd.read_csv(graded / f"meta/inputs/{row.analysis}.csv")
        report = pd.read_json(graded / f"meta/{row.analysis}.json", typ="series")
        pooled = {s["study_id"] for s in report["studies"]}
        used = inputs[inputs["study_id"].isin(pooled)]
        per_study = (used["n_t"] + used["n_c"]).groupby(used["study_id"]).max()
        if per_study.notna().all():
            assert int(row.participants) == int(per_study.sum())
        assert row.studies == str(len(pooled))
    # the example's override is kept and shown
    education = domains[
        (domains["analysis"] == "education") & (domains["domain"] == "imprecision")
    ].iloc[0]
    assert (education["proposal"], education["judgement"]) == (
        "serious",
        "very_serious",
    )
    assert education["overridden"] == "yes"
    assert "proposed from the data: serious" in education["footnote"]


@pytest.mark.workflow
def test_grade_command_writes_what_the_workflow_wrote(graded, tmp_path):
    import shutil

    from tests.conftest import REPO, evsynth

    review = tmp_path / "review"  # the example's config, data and results
    shutil.copytree(REPO / "config", review / "config")
    shutil.copytree(graded.parent / "data", review / "data")
    shutil.copytree(graded / "meta", review / "results/meta")
    shutil.copy(graded / "evsynth_review.json", review / "results")
    proc = evsynth("grade", str(review), "--out-dir", str(tmp_path / "grade"))
    assert proc.returncode == 0, proc.stderr
    assert "Mental health:" in proc.stdout
    for name in ("certainty.csv", "certainty.json", "summary_of_findings.csv"):
        assert (tmp_path / "grade" / name).read_bytes() == (
            graded / "grade" / name
        ).read_bytes()


@pytest.mark.workflow
def test_sof_docx_and_xlsx_hold_every_outcome(graded):
    import docx
    import openpyxl

    document = docx.Document(str(graded / "grade/summary_of_findings.docx"))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    book = openpyxl.load_workbook(graded / "grade/summary_of_findings.xlsx")
    values = [str(c.value) for row in book.active.iter_rows() for c in row]
    for outcome in ("Mental health", "Self-determination", "Education"):
        assert outcome in cells and outcome in values
    assert any("Certainty" in v for v in values)
