"""Tests for subgroup differences under z and Knapp-Hartung, against metafor.

References: ``tests/data/metafor/subgroups_*.json`` (benchmarks/metafor_subgroup_refs.R,
metafor 3.8.1): dat.bcg by allocation, dat.curtis1998 by functional group,
dat.lehmann2018 by colour form (a subgroup of one study, fitted with ``min_k=1``
and skipped with ``min_k=2``) and dat.raudenbush1985 by setting, each with REML
and DL under z and Knapp-Hartung. Every number is compared to 1e-6 relative
through the Python API, ``evsynth meta --subgroup`` and the workflow's analysis
JSON (``run_one`` and ``write_analysis``, as the workflow's rule calls them).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evsynth.cli import main
from evsynth.meta.analyses import AnalysisSpec, MetaSettings
from evsynth.meta.api import run_one, write_analysis
from evsynth.meta.figures import forest_data
from evsynth.meta.rma import rma
from evsynth.meta.subgroups import describe_tests, subgroup_analysis
from evsynth.report.formatting import scale_of
from evsynth.report.meta_text import _moderator_sentences
from tests.conftest import REPO

LOCAL = REPO / "tests" / "data" / "metafor"
RTOL = 1e-6
ATOL = 1e-8
DATASETS = ("dat.bcg", "dat.curtis1998", "dat.lehmann2018", "dat.raudenbush1985")


def _load(dataset: str) -> tuple[dict[str, Any], pd.DataFrame]:
    ref = json.loads((LOCAL / f"subgroups_{dataset}.json").read_text())
    return ref, pd.read_csv(LOCAL / f"subgroups_{dataset}.csv")


def _cases(min_k: int | None = None) -> list[Any]:
    out = []
    for dataset in DATASETS:
        ref, _ = _load(dataset)
        for key, case in ref["cases"].items():
            if min_k is None or case["min_k"] == min_k:
                out.append(pytest.param(dataset, key, id=f"{dataset}:{key}"))
    return out


def close(ours: Any, theirs: Any, where: str) -> None:
    """Every number of ``theirs`` equals ``ours`` to 1e-6 relative (1e-8 near 0)."""
    if isinstance(theirs, dict):
        for key, value in theirs.items():
            assert key in ours, f"{where}: no key {key!r}"
            close(ours[key], value, f"{where}.{key}")
    elif isinstance(theirs, list):
        assert list(ours) == theirs, where
    elif isinstance(theirs, str):
        assert ours is None if theirs == "NA" else str(ours) == theirs, where
    else:
        assert ours is not None, where
        assert math.isclose(float(ours), theirs, rel_tol=RTOL, abs_tol=ATOL), (
            f"{where}: {ours} vs metafor {theirs}"
        )


def _check(ours: dict[str, Any], case: dict[str, Any], where: str) -> None:
    expected = case["result"]
    assert list(ours["groups"]) == sorted(expected["groups"]), where
    close(ours, expected, where)
    separate, common = ours["between_separate_tau2"], ours["between_common_tau2"]
    assert separate["test"] == "chi2" and separate["inference"] == "z"
    if case["test"] == "knha":
        assert common["test"] == "F" and common["inference"] == "knha"
        assert common["F"] == common["QM"] and common["df1"] == common["df"]
    else:
        assert common["test"] == "chi2" and common["inference"] == "z"
        assert "df2" not in common and "F" not in common


def test_reference_files_cover_the_brief():
    seen = set()
    for dataset in DATASETS:
        ref, data = _load(dataset)
        assert ref["metafor_version"] == "3.8.1"
        assert ref["column"] in data.columns
        for case in ref["cases"].values():
            seen.add((dataset, case["method"], case["test"], case["min_k"]))
    for dataset in DATASETS:
        for method in ("REML", "DL"):
            for test in ("z", "knha"):
                assert (dataset, method, test, 2) in seen
    # the one-study subgroup, fitted (metafor switches it to z) and skipped
    ref, _ = _load("dat.lehmann2018")
    fitted = ref["cases"]["REML_knha_min1"]["result"]
    assert fitted["groups"]["Dot"]["k"] == 1
    assert ref["cases"]["REML_knha_min2"]["result"]["skipped"] == ["Dot"]
    # the numbers: curtis1998 by functional group, Knapp-Hartung
    common = json.loads((LOCAL / "subgroups_dat.curtis1998.json").read_text())["cases"][
        "REML_knha_min2"
    ]["result"]["between_common_tau2"]
    assert (round(common["F"], 3), common["df1"], common["df2"]) == (0.513, 2, 99)
    assert round(common["p"], 3) == 0.600


@pytest.mark.parametrize(("dataset", "key"), _cases())
def test_api_against_metafor(dataset: str, key: str):
    ref, data = _load(dataset)
    case = ref["cases"][key]
    ours = subgroup_analysis(
        data["yi"].to_numpy(float),
        data["vi"].to_numpy(float),
        data[ref["column"]].tolist(),
        method=case["method"],
        test=case["test"],
        min_k=case["min_k"],
    )
    _check(ours, case, f"{dataset}:{key}")


def test_knapp_hartung_ses_are_not_used_by_the_separate_test():
    """raudenbush1985 by setting: KH changes a subgroup's SE, not the Q test."""
    ref, _ = _load("dat.raudenbush1985")
    z = ref["cases"]["REML_z_min2"]["result"]
    knha = ref["cases"]["REML_knha_min2"]["result"]
    changed = [
        g
        for g in z["groups"]
        if not math.isclose(z["groups"][g]["se"], knha["groups"][g]["se"], rel_tol=1e-3)
    ]
    assert changed  # the reference exercises a subgroup whose SE KH changes
    assert knha["between_separate_tau2"] == z["between_separate_tau2"]


@pytest.mark.parametrize(("dataset", "key"), _cases(min_k=2))
def test_cli_against_metafor(dataset: str, key: str, tmp_path: Path, capsys):
    ref, data = _load(dataset)
    case = ref["cases"][key]
    path = tmp_path / "in.csv"
    data.to_csv(path, index=False)
    args = ["meta", str(path), "--subgroup", ref["column"]]
    args += ["--method", case["method"], "--test", case["test"]]
    assert main([*args, "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)["subgroups"]
    _check(ours, case, f"cli {dataset}:{key}")
    # the readable output names both tests, with metafor's numbers
    assert main(args) == 0
    printed = capsys.readouterr().out
    separate = case["result"]["between_separate_tau2"]
    common = case["result"]["between_common_tau2"]
    assert (
        f"test for subgroup differences, separate τ², z-based: "
        f"Q = {separate['Q']:.2f}, df = {separate['df']}, "
    ) in printed
    if case["test"] == "knha":
        expected = (
            f"common τ², Knapp–Hartung: F({common['df1']}, {common['df2']}) = "
            f"{common['F']:.2f}, "
        )
    else:
        expected = f"common τ², z: QM = {common['QM']:.2f}, df = {common['df']}, "
    assert expected in printed


WORKFLOW_CASES = [
    ("dat.bcg", "RR", "REML", "knha"),
    ("dat.bcg", "RR", "DL", "z"),
    ("dat.raudenbush1985", "SMD", "REML", "knha"),
    ("dat.raudenbush1985", "SMD", "DL", "knha"),
    ("dat.raudenbush1985", "SMD", "REML", "z"),
]


@pytest.mark.parametrize(("dataset", "measure", "method", "test"), WORKFLOW_CASES)
def test_workflow_json_against_metafor(
    dataset: str, measure: str, method: str, test: str, tmp_path: Path
):
    ref, data = _load(dataset)
    column = ref["column"]
    case = ref["cases"][f"{method}_{test}_min2"]
    ids = [f"s{i:02d}" for i in range(len(data))]
    effects = pd.DataFrame(
        {
            "study_id": ids,
            "outcome": "outcome",
            "domain": "domain",
            "timepoint": "post",
            "months": 12,
            "measure": measure,
            "yi": [f"{x:.17g}" for x in data["yi"]],
            "vi": [f"{x:.17g}" for x in data["vi"]],
            "n_t": "",
            "n_c": "",
        }
    )
    studies = pd.DataFrame({"study_id": ids, "role": "main", column: data[column]})
    effects.to_csv(tmp_path / "effects.csv", index=False)
    studies.to_csv(tmp_path / "studies.csv", index=False)
    spec = AnalysisSpec("a", ("domain",), measure, subgroups=(column,))
    meta = MetaSettings(method=method, test=test, analyses=(spec,))
    result = run_one(
        tmp_path / "effects.csv", tmp_path / "studies.csv", None, meta, "a"
    )
    if (method, test) == ("REML", "knha"):  # the workflow's default: the file itself
        write_analysis(result, tmp_path / "out", meta)
        report = json.loads((tmp_path / "out" / "a.json").read_text(encoding="utf-8"))
    else:  # the same JSON without drawing the plots again
        report = json.loads(json.dumps(result.report))
    assert report["model"]["test"] == test
    ours = report["subgroups"][column]
    _check(ours, case, f"workflow {dataset}:{method}_{test}")
    # the forest plot prints the same tests, and says which they are
    forest = forest_data(result, meta)
    assert forest is not None
    text = forest.subgroup_test
    separate = case["result"]["between_separate_tau2"]
    common = case["result"]["between_common_tau2"]
    assert text.startswith("Test for subgroup differences")
    assert f"separate τ², z-based: Q = {separate['Q']:.2f}, " in text
    if test == "knha":
        f_text = f"F({common['df1']}, {common['df2']}) = {common['F']:.2f}"
        assert f"common τ², Knapp–Hartung: {f_text}" in text
    else:
        assert f"common τ², z: QM = {common['QM']:.2f}" in text
    # and the report's sentence gives the same statistics
    sentence = " ".join(_moderator_sentences(report, scale_of(measure), test))
    assert f"Q = {separate['Q']:.2f} on {separate['df']} df" in sentence
    assert "z-based standard errors" in sentence
    if test == "knha":
        assert f"common τ²) gave {f_text}, " in sentence
    else:
        assert f"common τ²) gave QM = {common['QM']:.2f} on {common['df']} df" in (
            sentence
        )


def test_describe_tests_formats_and_names():
    result = {
        "between_separate_tau2": {"Q": 2.3349, "df": 2, "p": 0.3111},
        "between_common_tau2": {
            "QM": 1.4983,
            "df": 2,
            "p": 0.2697,
            "test": "F",
            "F": 1.4983,
            "df1": 2,
            "df2": 10,
        },
    }
    assert describe_tests(result) == [
        "separate τ², z-based: Q = 2.33, df = 2, p = 0.31",
        "common τ², Knapp–Hartung: F(2, 10) = 1.50, p = 0.27",
    ]
    result["between_common_tau2"] = {"QM": 1.2690, "df": 2, "p": 0.0004}
    assert describe_tests(result)[1] == "common τ², z: QM = 1.27, df = 2, p < 0.001"
    result["between_common_tau2"]["p"] = 0.0474
    assert describe_tests(result)[1].endswith("p = 0.047")
    assert describe_tests({"skipped": "too few"}) == []


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-2, 2), st.floats(0.01, 1), st.sampled_from(["a", "b", "c"])
        ),
        min_size=6,
        max_size=15,
    )
)
def test_separate_test_is_the_same_under_z_and_knha(rows):
    """Hand formula: Q = sum w_g (m_g - mbar)^2 with w_g = 1/se_g^2 from z fits."""
    y = np.array([r[0] for r in rows])
    v = np.array([r[1] for r in rows])
    g = [r[2] for r in rows]
    labels = sorted({x for x in g if g.count(x) >= 2})
    if len(labels) < 2:
        return
    z = subgroup_analysis(y, v, g, test="z")
    knha = subgroup_analysis(y, v, g, test="knha")
    assert knha["between_separate_tau2"] == z["between_separate_tau2"]
    m, w = [], []
    for lab in labels:
        sel = np.array([x == lab for x in g])
        fit = rma(y[sel], v[sel])
        m.append(float(fit.beta[0]))
        w.append(1 / float(fit.se[0]) ** 2)
    m_arr, w_arr = np.array(m), np.array(w)
    mbar = float(np.sum(w_arr * m_arr) / np.sum(w_arr))
    q = float(np.sum(w_arr * (m_arr - mbar) ** 2))
    assert z["between_separate_tau2"]["Q"] == pytest.approx(q, rel=1e-9, abs=1e-12)
    assert z["between_separate_tau2"]["df"] == len(labels) - 1


def test_one_study_subgroup_under_knapp_hartung_is_fitted_with_z():
    """As metafor: 'Setting argument test="z" since k=1.'"""
    out = subgroup_analysis(
        [0.1, 0.3, 0.2, 0.5],
        [0.04, 0.05, 0.03, 0.02],
        list("aaab"),
        test="knha",
        min_k=1,
    )
    single = out["groups"]["b"]
    assert single["k"] == 1 and single["estimate"] == pytest.approx(0.5)
    assert single["se"] == pytest.approx(math.sqrt(0.02))
    assert single["ci_lb"] == pytest.approx(0.5 - 1.959963984540054 * math.sqrt(0.02))
    assert out["between_common_tau2"]["test"] == "F"
    assert out["between_common_tau2"]["df2"] == 2
