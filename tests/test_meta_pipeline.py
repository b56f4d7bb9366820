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
