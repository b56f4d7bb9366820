"""The effect-size stage: input sets, sign, assumptions, bad input, CLI, workflow files."""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest
from scipy.special import gammaln

from evsynth.cli import main
from evsynth.effects.api import run_effects, write_effects
from evsynth.effects.compute import INPUT_SETS, EffectSettings
from evsynth.errors import InputError
from tests.conftest import REPO

EXAMPLE = REPO / "data/extraction/effects.csv"
SETTINGS = EffectSettings()


def exact_j(m: float) -> float:
    """Hedges' exact correction, written out independently of evsynth."""
    return math.exp(gammaln(m / 2) - 0.5 * math.log(m / 2) - gammaln((m - 1) / 2))


@pytest.fixture(scope="module")
def example():
    return run_effects(EXAMPLE, SETTINGS)


def test_example_covers_every_input_set(example):
    used = set(example.effects["input_set"])
    assert used == {s.name for s in INPUT_SETS}
    # and a cluster design with a reported and with an imputed ICC
    clustered = example.effects[example.effects["icc"] != ""]
    assert set(clustered["icc_imputed"]) == {True, False}


def test_every_row_is_accounted_for(example):
    table = pd.read_csv(EXAMPLE, dtype=str)
    rows = sorted([*example.effects["source_row"], *example.excluded["source_row"]])
    assert rows == list(range(1, len(table) + 1))
    assert list(example.excluded["reason"]) == ["no statistics reported"]


def test_means_row_equals_hand_computed_hedges_g(example):
    row = example.effects.query("study_id == 'geenen2015_betterfutures'").iloc[0]
    n_t, n_c, m_t, m_c, s_t, s_c = 33, 34, 96.4, 87.9, 14.2, 15.1
    pooled = math.sqrt(((n_t - 1) * s_t**2 + (n_c - 1) * s_c**2) / (n_t + n_c - 2))
    g = exact_j(n_t + n_c - 2) * (m_t - m_c) / pooled
    assert row["yi"] == pytest.approx(g, rel=1e-12)
    assert row["vi"] == pytest.approx(
        1 / n_t + 1 / n_c + g**2 / (2 * (n_t + n_c)), rel=1e-12
    )
    assert row["ci_lb"] == pytest.approx(g - 1.959963984540054 * math.sqrt(row["vi"]))


def test_lower_is_better_outcomes_are_turned_round(example):
    # problem behaviour: the intervention group's mean fell further (lower is better)
    row = example.effects.query("study_id == 'yim_qed2020'").iloc[0]
    assert row["sign_flipped"]
    change = (57.4 - 62.1) - (59.0 - 60.3)
    pooled = math.sqrt((70 * 10.2**2 + 63 * 10.9**2) / 133)
    assert row["yi"] == pytest.approx(-exact_j(133) * change / pooled, rel=1e-12)
    assert row["yi"] > 0
    assert row["r_prepost"] == 0.62
    assert not row["r_imputed"]


def test_did_without_r_uses_the_configured_r(example):
    row = example.effects.query("study_id == 'therapeutic2019'").iloc[0]
    assert (row["r_prepost"], row["r_imputed"]) == (0.5, True)
    other = run_effects(EXAMPLE, EffectSettings(imputed_r=0.8)).effects
    changed = other.query("study_id == 'therapeutic2019'").iloc[0]
    assert changed["yi"] == pytest.approx(row["yi"])
    assert changed["vi"] < row["vi"]  # 2(1 - r)(1/n_t + 1/n_c) shrinks as r grows


def test_cluster_design_follows_hedges_2007_and_wwc(example):
    row = example.effects.query("study_id == 'kinship_befriending2021'").iloc[0]
    n_t, n_c, m_t, m_c, s_t, s_c = 124, 119, 4.1, 4.6, 2.6, 2.5
    big_n, rho = n_t + n_c, 0.1  # ICC not reported: effects.default_icc
    n = big_n / 24  # 12 + 12 clusters
    assert row["cluster_size"] == pytest.approx(n)
    pooled = math.sqrt(((n_t - 1) * s_t**2 + (n_c - 1) * s_c**2) / (big_n - 2))
    d = (m_t - m_c) / pooled
    # WWC (2022) v5.0 Eq. E.21: degrees of freedom h of a cluster design
    h = ((big_n - 2) - 2 * (n - 1) * rho) ** 2 / (
        (big_n - 2) * (1 - rho) ** 2
        + n * (big_n - 2 * n) * rho**2
        + 2 * (big_n - 2 * n) * rho * (1 - rho)
    )
    gamma = math.sqrt(1 - 2 * (n - 1) * rho / (big_n - 2))  # Hedges (2007)
    g = -exact_j(h) * gamma * d  # lower is better: turned round
    assert row["yi"] == pytest.approx(g, rel=1e-9)
    design_effect = 1 + (n - 1) * rho
    expected_v = big_n / (n_t * n_c) * design_effect + g**2 / (2 * h)
    assert row["vi"] == pytest.approx(expected_v, rel=1e-9)
    assert row["vi"] > 1 / n_t + 1 / n_c  # wider than if individually randomised


def test_binary_rows_are_log_odds_ratios_unless_converted(example):
    row = example.effects.query(
        "outcome == 'Recent mental-health therapy (youth report)'"
    )
    row = row.iloc[0]
    # 42/79 vs 55/77 with therapy, lower is better: OR < 1, turned positive
    log_or = math.log((42 / 37) / (55 / 22))
    assert (row["measure"], row["yi"]) == ("OR", pytest.approx(-log_or, rel=1e-12))
    assert row["vi"] == pytest.approx(1 / 42 + 1 / 37 + 1 / 55 + 1 / 22, rel=1e-12)
    converted = run_effects(EXAMPLE, EffectSettings(binary_to_smd="logistic")).effects
    same = converted.query("outcome == 'Recent mental-health therapy (youth report)'")
    assert same.iloc[0]["measure"] == "SMD"
    assert same.iloc[0]["yi"] == pytest.approx(-log_or * math.sqrt(3) / math.pi)
    assert same.iloc[0]["converted"] == "log OR to SMD (logistic)"


def test_forced_measure_sends_other_rows_to_excluded():
    result = run_effects(EXAMPLE, EffectSettings(measure="MD"))
    md = result.effects.query("study_id == 'geenen2015_betterfutures'").iloc[0]
    assert (md["measure"], md["yi"]) == ("MD", pytest.approx(96.4 - 87.9))
    reasons = set(result.excluded["reason"])
    assert "MD asked for, but a t statistic give SMD" in reasons
    # a row's own measure column still wins (the RR and RD rows)
    assert {"RR", "RD"} <= set(result.effects["measure"])
    total = len(result.effects) + len(result.excluded)
    assert total == len(pd.read_csv(EXAMPLE))


# --- bad input -------------------------------------------------------------------


def edit(tmp_path, index: int, **changes):
    table = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    for column, value in changes.items():
        table.loc[index, column] = value
    path = tmp_path / "effects.csv"
    table.to_csv(path, index=False)
    return path


def row_of(study: str, outcome: str | None = None) -> int:
    table = pd.read_csv(EXAMPLE, dtype=str)
    mask = table["study_id"] == study
    if outcome:
        mask &= table["outcome"] == outcome
    return int(table.index[mask][0])


@pytest.mark.parametrize(
    ("study", "changes", "column", "words"),
    [
        ("geenen2015_betterfutures", {"sd_t": "0"}, "sd_t", "sd_t"),
        ("geenen2015_betterfutures", {"sd_c": "-3"}, "sd_c", "sd_c"),
        ("geenen2015_betterfutures", {"n_t": "1"}, "n_t", "n_t"),
        ("reunification2019", {"events_t": "300"}, "events_t", "events_t"),
        ("crossage2016", {"p": "1.5"}, "p", "p"),
        ("crossage2016", {"p": "0"}, "p", "p"),
        ("taussig2010_fhf", {"adj_diff_lb": "-0.4"}, "adj_diff_lb", "adj_diff"),
        ("geenen2013_takecharge", {"or_lb": "0.6"}, "or_lb", "or"),
        ("geenen2015_betterfutures", {"sd_c": ""}, "sd_c", "needs sd_c"),
        ("yim_crct2023", {"clusters_c": ""}, "clusters_t", "one group only"),
        ("sport2021", {"clusters_t": "", "icc": "0.1"}, "icc", "ICC without"),
    ],
)
def test_bad_statistics_name_file_row_and_column(
    tmp_path, study, changes, column, words
):
    index = row_of(study)
    path = edit(tmp_path, index, **changes)
    with pytest.raises(InputError) as caught:
        run_effects(path, SETTINGS)
    text = str(caught.value)
    assert f"effects.csv, line {index + 2}, row {index + 1}, column '{column}'" in text
    assert words in text


def test_two_sets_that_disagree_stop_the_run(tmp_path):
    index = row_of("geenen2015_betterfutures", "Self-determination (AIR)")
    path = edit(tmp_path, index, t="0.5")  # the means give g = 0.57, t = 0.5 about 0.12
    with pytest.raises(InputError) as caught:
        run_effects(path, SETTINGS)
    assert "means and SDs give SMD 0.5729 but a t statistic give" in str(caught.value)
    assert f"row {index + 1}, column 't'" in str(caught.value)
    agreeing = edit(tmp_path, index, t="2.3433")
    assert len(run_effects(agreeing, SETTINGS).effects) == 30


def test_outputs_are_byte_identical(tmp_path, example):
    for name in ("one", "two"):
        write_effects(example, tmp_path / name / "effects.csv")
    for file in ("effects.csv", "effects.xlsx", "excluded.csv"):
        assert (tmp_path / "one" / file).read_bytes() == (
            tmp_path / "two" / file
        ).read_bytes()


def test_cli_effects_measure_and_bad_input(tmp_path, capsys):
    out = tmp_path / "out/effects.csv"
    assert main(["effects", str(EXAMPLE), "--out", str(out), "--measure", "OR2DL"]) == 0
    effects = pd.read_csv(out)
    assert "OR" not in set(effects["measure"])
    assert (tmp_path / "out/effects.xlsx").exists()
    bad = edit(tmp_path, row_of("crossage2016"), p="2")
    status = main(["effects", str(bad), "--out", str(tmp_path / "bad/effects.csv")])
    assert status == 2
    assert "column 'p'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_workflow_copy_of_the_example_runs(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "effects.csv")
    result = run_effects(tmp_path / "effects.csv", EffectSettings.from_config({}))
    assert len(result.effects) == 30


# --- effects.measure auto: a domain's rows give the measure its analyses pool --


def _two_domains(tmp_path):
    """Offending as 2x2 counts and as an odds ratio; anxiety as means."""
    path = tmp_path / "effects.csv"
    path.write_text(
        "study_id,outcome,domain,timepoint,favourable,measure,events_t,n_t,"
        "events_c,n_c,or_,or_lb,or_ub,mean_t,sd_t,mean_c,sd_c\n"
        "s1,offending,offending,12m,lower,,18,150,30,150,,,,,,,\n"
        "s2,offending,offending,12m,lower,OR,14,100,20,100,,,,,,,\n"
        "s3,offending,offending,12m,lower,,,60,,60,0.5,0.25,1.0,,,,\n"
        "s1,anxiety,anxiety,12m,lower,,,40,,40,,,,10,2,11,2\n",
        encoding="utf-8",
    )
    return path


def test_auto_gives_count_rows_the_measure_their_analysis_pools(tmp_path):
    from evsynth.effects.api import write_analysis_effects

    path = _two_domains(tmp_path)
    out = tmp_path / "offending.csv"
    write_analysis_effects(path, EffectSettings(), ["offending"], out, measure="RR")
    rows = pd.read_csv(out).set_index("study_id")
    # counts give the risk ratio (turned round: favourable lower)
    assert rows.loc["s1", "measure"] == "RR"
    assert rows.loc["s1", "yi"] == pytest.approx(-math.log((18 / 150) / (30 / 150)))
    assert rows.loc["s1", "vi"] == pytest.approx(1 / 18 - 1 / 150 + 1 / 30 - 1 / 150)
    # a row's own measure wins; an odds ratio gives no risk ratio (not excluded:
    # the meta stage lists it as left out)
    assert rows.loc["s2", "measure"] == "OR"
    assert rows.loc["s3", "measure"] == "OR"
    # without the analysis's measure, auto gives odds ratios as before
    write_analysis_effects(path, EffectSettings(), ["offending"], out)
    assert set(pd.read_csv(out)["measure"]) == {"OR"}
    # a measure forced in the config wins over the analysis's
    write_analysis_effects(
        path, EffectSettings(measure="RD"), ["offending"], out, measure="RR"
    )
    forced = pd.read_csv(out).set_index("study_id")["measure"]
    assert forced.to_dict() == {"s1": "RD", "s2": "OR"}  # s3's OR gives no RD


def test_auto_follows_the_analyses_of_each_domain(tmp_path):
    path = _two_domains(tmp_path)
    analyses = [
        {"name": "offending", "measure": "RR"},
        {"name": "worry", "domains": ["anxiety"], "measure": "MD"},
    ]
    settings = EffectSettings.from_config({"measure": "auto"}, analyses)
    assert settings.domain_measures == {"anxiety": "MD", "offending": "RR"}
    effects = run_effects(path, settings).effects.set_index(["study_id", "domain"])
    assert effects.loc[("s1", "offending"), "measure"] == "RR"
    # means of an MD analysis: the mean difference, turned round, 11 - 10
    assert effects.loc[("s1", "anxiety"), "measure"] == "MD"
    assert effects.loc[("s1", "anxiety"), "yi"] == pytest.approx(1.0)
    # a domain pooled on two measures gets neither: auto's own choice
    both = [*analyses, {"name": "odds", "domains": ["offending"], "measure": "OR"}]
    settings = EffectSettings.from_config({"measure": "auto"}, both)
    assert settings.domain_measures == {"anxiety": "MD"}
    assert EffectSettings.from_config({}).domain_measures == {}
