"""The meta-analysis stage end to end: CLI against metafor's files, the example's analyses."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import yaml

from evsynth.cli import main
from evsynth.effects.api import run_effects, write_effects
from evsynth.effects.compute import EffectSettings
from evsynth.meta.analyses import AnalysisSpec, MetaSettings, combine_within_studies
from evsynth.meta.api import read_inputs, run_meta, write_meta
from tests.conftest import REPO

CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text(encoding="utf-8"))


def close(actual, expected, where=""):
    """Compare nested reference values: 1e-6 relative, 1e-8 absolute near zero."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            close(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            close(a, e, f"{where}[{i}]")
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        assert actual == pytest.approx(expected, rel=1e-6, abs=1e-8), where
    elif expected == "NA":
        assert actual is None, where
    else:
        assert str(actual) == str(expected), where


@pytest.mark.shared
def test_cli_meta_reproduces_metafor_reference_file(shared, tmp_path, capsys):
    folder = shared / "validation/metafor"
    reference = json.loads((folder / "dat.bangertdrowns2004.json").read_text())
    data = pd.read_csv(folder / "dat.bangertdrowns2004.csv")
    data["label"] = data["author"] + " " + data["year"].astype(str)
    source = tmp_path / "bd.csv"
    data.to_csv(source, index=False)
    args = ["meta", str(source), "--json", "--bias", "--year", "year"]
    assert main([*args, "--label", "label"]) == 0
    out = json.loads(capsys.readouterr().out)
    close(out, reference["pooled"]["REML_knha"], "pooled")
    close(out["bias"], reference["bias"], "bias")
    # make_refs.R fits the subgroups with test = "z" (Knapp-Hartung subgroups are
    # checked against benchmarks/metafor_subgroup_refs.R in test_meta_subgroups.py)
    assert (
        main(["meta", str(source), "--json", "--test", "z", "--subgroup", "grade"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    close(out["subgroups"], reference["subgroups_grade"], "subgroups")
    moderated = data.dropna(subset=["length"])
    moderated.to_csv(source, index=False)
    assert (
        main(["meta", str(source), "--json", "--test", "z", "--moderator", "length"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    close(out["metareg"], reference["metareg_length"], "metareg")


@pytest.mark.shared
def test_cli_meta_cluster_reproduces_robust_and_multilevel(shared, tmp_path, capsys):
    folder = shared / "validation/metafor"
    reference = json.loads((folder / "dat.konstantopoulos2011.json").read_text())
    data = pd.read_csv(folder / "dat.konstantopoulos2011.csv")
    source = tmp_path / "k.csv"
    data.to_csv(source, index=False)
    assert (
        main(["meta", str(source), "--json", "--test", "z", "--cluster", "district"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    close(out, reference["pooled"]["REML_z"])
    for key in ("robust_CR1", "robust_CR2"):
        expected = {k: v for k, v in reference[key].items() if k != "cluster"}
        close(out[key], expected, key)
    close(out["multilevel"], reference["multilevel"], "multilevel")


def test_cli_meta_bad_input(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("yi,vi\n0.2,0.01\n0.3,-0.02\n", encoding="utf-8")
    assert main(["meta", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, line 3, row 2, column 'vi'" in err
    path.write_text("yi,vi\n0.2,0.01\n", encoding="utf-8")
    assert main(["meta", str(path), "--subgroup", "design"]) == 2
    assert "no column 'design'" in capsys.readouterr().err


def test_combining_outcomes_within_a_study():
    rows = pd.DataFrame(
        {
            "study_id": ["a", "a", "b"],
            "outcome": ["x", "y", "x"],
            "yi": [0.2, 0.4, 0.1],
            "vi": [0.04, 0.09, 0.05],
            "n_t": [10, 10, 12],
            "n_c": [11, 11, 12],
            "months": [6, 6, 12],
        }
    )
    out = combine_within_studies(rows, rho=0.5).set_index("study_id")
    assert out.loc["a", "yi"] == pytest.approx(0.3)
    # Borenstein et al. (2009) eq. 24.6: (v1 + v2 + 2 rho sqrt(v1 v2)) / 4
    assert out.loc["a", "vi"] == pytest.approx((0.04 + 0.09 + 2 * 0.5 * 0.2 * 0.3) / 4)
    assert out.loc["b", "vi"] == pytest.approx(0.05)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = tmp_path_factory.mktemp("meta")
    effects = run_effects(
        REPO / "data/extraction/effects.csv",
        EffectSettings.from_config(CONFIG["effects"]),
    )
    write_effects(effects, folder / "effects.csv")
    settings = MetaSettings.from_config(CONFIG["meta"])
    table, info = read_inputs(folder / "effects.csv", REPO / "data/studies.csv")
    return folder, table, info, settings, run_meta(table, info, settings)


def test_example_analyses_and_files(example):
    folder, table, _info, settings, results = example
    out = folder / "out"
    written = write_meta(results, out, settings)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["analysis"]) == [a.name for a in settings.analyses]
    mental = summary.set_index("analysis").loc["mental_health"]
    mh_rows = table[(table["domain"] == "mental_health") & (table["measure"] == "SMD")]
    assert mental["k"] == mh_rows["study_id"].nunique()
    assert mental["ci_lb"] < mental["estimate"] < mental["ci_ub"]
    assert mental["pi_lb"] <= mental["ci_lb"]
    report = json.loads((out / "mental_health.json").read_text())
    assert {"pooled", "leave1out", "influence", "bias", "trimfill", "subgroups"} <= set(
        report
    )
    assert "design" in report["subgroups"]
    assert "multilevel" in report  # a study reports two mental-health outcomes
    for path in written:
        assert path.stat().st_size > 0
    again = folder / "again"
    write_meta(results, again, settings)
    for path in written:
        assert path.read_bytes() == (again / path.name).read_bytes(), path.name


def test_analysis_with_too_few_studies_is_reported(example):
    folder, table, info, _settings, _ = example
    lonely = MetaSettings(
        analyses=(AnalysisSpec("offending", ("offending",), "OR"),), min_k=2
    )
    results = run_meta(table, info, lonely)
    assert results[0].report["skipped"] == "1 studies, fewer than min_k = 2"
    write_meta(results, folder / "lonely", lonely)
    summary = pd.read_csv(folder / "lonely/summary.csv")
    assert summary.loc[0, "note"] == "1 studies, fewer than min_k = 2"
    assert math.isnan(summary.loc[0, "estimate"])
    assert (folder / "lonely/forest_offending.png").exists()


def test_rows_on_another_measure_are_listed_not_dropped(example):
    _folder, table, info, _settings, _ = example
    spec = AnalysisSpec("placement", ("placement",), "SMD")
    results = run_meta(table, info, MetaSettings(analyses=(spec,)))
    reasons = [r["reason"] for r in results[0].report["left_out"]]
    placement = table[table["domain"] == "placement"]
    assert len(reasons) == (placement["measure"] != "SMD").sum()
    assert all(r.startswith("measure ") for r in reasons)


def test_risk_of_bias_column_and_sensitivity_without_high_risk(example):
    from evsynth.meta.figures import forest_data
    from evsynth.meta.rma import rma

    _folder, table, info, settings, _ = example
    studies = table[(table["domain"] == "mental_health") & (table["measure"] == "SMD")]
    ids = list(dict.fromkeys(studies["study_id"]))
    rob = dict.fromkeys(ids, "low") | {ids[0]: "high", ids[1]: "high"}
    results = run_meta(table, info, settings, rob)
    mental = next(r for r in results if r.spec.name == "mental_health")
    block = mental.report["sensitivity_without_high_rob"]
    assert block["left_out"] == ids[:2]
    kept = mental.studies[~mental.studies["study_id"].isin(ids[:2])]
    direct = rma(
        kept["yi"].to_numpy(float),
        kept["vi"].to_numpy(float),
        method=settings.method,
        test=settings.test,
    )
    assert block["pooled"]["k"] == len(ids) - 2
    assert block["pooled"]["estimate"] == pytest.approx(direct.estimate, rel=1e-12)
    forest = forest_data(mental, settings)
    assert forest.extra_columns[-1] == "RoB"
    labels = {row.label: row.extra["RoB"] for row in forest.rows}
    assert labels[ids[0]] == "High" and labels[ids[2]] == "Low"


# --- binary analyses: an event that is better when lower, pooled as measured --

#: study, events and participants with the intervention, with the comparator
_COUNTS = [("s1", 18, 150, 30, 150), ("s2", 14, 100, 20, 100), ("s3", 6, 50, 10, 50)]


def _binary_rows(favourable: list[str]) -> pd.DataFrame:
    """Effects of 2x2 counts as the effects stage signs them (log OR, turned round
    where ``favourable`` is lower), the rows of offending."""
    rows = []
    for (study, a, n1, c, n2), fav in zip(_COUNTS, favourable, strict=True):
        yi = math.log(a * (n2 - c) / ((n1 - a) * c))
        vi = 1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)
        flipped = fav == "lower"
        rows.append({"study_id": study, "outcome": "offending", "domain": "offending",
                     "timepoint": "12m", "months": 12, "measure": "OR",
                     "yi": -yi if flipped else yi, "vi": vi, "favourable": fav,
                     "sign_flipped": flipped, "n_t": n1, "n_c": n2})  # fmt: skip
    return pd.DataFrame(rows)


def _by_hand() -> tuple[float, float, float]:
    """Inverse-variance (equal effects, z) log OR of offending as measured."""
    ys = [math.log(a * (n2 - c) / ((n1 - a) * c)) for _, a, n1, c, n2 in _COUNTS]
    ws = [
        1 / (1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)) for _, a, n1, c, n2 in _COUNTS
    ]
    mu = sum(w * y for w, y in zip(ws, ys, strict=True)) / sum(ws)
    half = 1.959963984540054 * math.sqrt(1 / sum(ws))
    return mu, mu - half, mu + half


def test_an_event_better_when_lower_is_pooled_as_measured():
    from evsynth.meta.analyses import run_analysis
    from evsynth.meta.figures import forest_data

    settings = MetaSettings(method="EE", test="z")
    spec = AnalysisSpec("offending", ("offending",), "OR", label="Offending")
    result = run_analysis(_binary_rows(["lower"] * 3), None, spec, settings)
    report = result.report
    assert report["favourable"] == "lower"
    pooled = report["pooled"]
    # the OR of offending (fewer offences: below 1), not its inverse
    mu, low, high = _by_hand()
    assert [pooled["estimate"], pooled["ci_lb"], pooled["ci_ub"]] == pytest.approx(
        [mu, low, high], rel=1e-9
    )
    assert round(math.exp(mu), 2) == 0.58
    assert [s["yi"] for s in report["studies"]] == pytest.approx(
        [math.log(a * (n2 - c) / ((n1 - a) * c)) for _, a, n1, c, n2 in _COUNTS]
    )
    forest = forest_data(result, settings)
    assert forest is not None
    assert forest.overall.estimate == pytest.approx(mu, rel=1e-9)
    assert (forest.left_label, forest.right_label) == (
        "Favours intervention",
        "Favours comparison",
    )


def test_turning_an_event_back_changes_only_signs():
    from evsynth.meta.analyses import run_analysis

    spec = AnalysisSpec("offending", ("offending",), "OR")
    settings = MetaSettings()  # REML, Knapp-Hartung
    turned = run_analysis(_binary_rows(["lower"] * 3), None, spec, settings).report
    # the same rows, as the event is counted: an event better when higher
    kept = run_analysis(_binary_rows(["higher"] * 3), None, spec, settings).report
    assert (turned["favourable"], kept["favourable"]) == ("lower", "higher")
    a, b = turned["pooled"], kept["pooled"]
    for key in ("estimate", "pval", "tau2", "I2", "Q", "se"):
        assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-15), key
    assert (a["ci_lb"], a["ci_ub"]) == pytest.approx((b["ci_lb"], b["ci_ub"]))


def test_events_counted_in_opposite_directions_stay_signed_for_the_intervention():
    from evsynth.meta.analyses import run_analysis
    from evsynth.meta.figures import forest_data

    settings = MetaSettings(method="EE", test="z")
    spec = AnalysisSpec("offending", ("offending",), "OR")
    result = run_analysis(
        _binary_rows(["lower", "lower", "higher"]), None, spec, settings
    )
    assert result.report["favourable"] == "mixed"
    # rows as the effects stage signed them: the first two turned round
    ys = [s["yi"] for s in result.report["studies"]]
    assert ys[0] > 0 and ys[1] > 0 and ys[2] < 0
    forest = forest_data(result, settings)
    assert forest is not None
    assert forest.left_label == "Favours comparison"


def test_continuous_analyses_say_nothing_of_the_event(example):
    _folder, _table, _info, _settings, results = example
    assert all("favourable" not in r.report for r in results)
