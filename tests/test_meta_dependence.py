"""Subgroups, the three-level model and cluster-robust inference against metafor.

References: ``../shared/validation/metafor/*.json`` (make_refs.R, metafor 3.8.1)
and ``tests/data/metafor/dependence_*.json`` (benchmarks/metafor_dependence_refs.R,
metafor 3.8.1 and clubSandwich 0.5.8). Every number of every ``subgroups*``,
``robust_CR1``, ``robust_CR2`` and ``multilevel*`` key is compared.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, SHARED

with warnings.catch_warnings():
    # PyMARE 0.0.13 leaves effectsize/expressions.json open when it is imported
    # (json.load(open(path))); under filterwarnings = error that ResourceWarning
    # would surface as an unraisable-exception error in whichever test runs first.
    warnings.simplefilter("ignore", ResourceWarning)
    from evsynth.meta.dependence import multilevel, robust
    from evsynth.meta.subgroups import subgroup_analysis

LOCAL = REPO / "tests" / "data" / "metafor"
RTOL = 1e-6  # relative, as the brief asks
ATOL = 1e-8  # absolute, for values near zero
KINDS = ("subgroups", "robust_CR1", "robust_CR2", "multilevel")


def _reference_files() -> list[Path]:
    shared = sorted((SHARED / "validation" / "metafor").glob("*.json"))
    return shared + sorted(LOCAL.glob("dependence_*.json"))


def _cases() -> list[Any]:
    cases = []
    for path in _reference_files():
        ref = json.loads(path.read_text())
        for key in ref:
            if key.startswith(KINDS):
                cases.append(pytest.param(path, key, id=f"{path.stem}:{key}"))
    return cases


CASES = _cases()

# keys that must exist, so that a lost reference file fails rather than skips
EXPECTED_LOCAL = {
    "dependence_dat.assink2016": {
        "multilevel",
        "multilevel_ML",
        "multilevel_t",
        "robust_CR1",
        "robust_CR2",
        "subgroups_deltype",
    },
}


def test_local_references_present():
    for stem, keys in EXPECTED_LOCAL.items():
        ref = json.loads((LOCAL / f"{stem}.json").read_text())
        assert keys <= set(ref), stem
        assert ref["metafor_version"] == "3.8.1"


def _load(path: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    ref = json.loads(path.read_text())
    return ref, pd.read_csv(path.with_suffix(".csv"))


def _yi_vi(ref: dict[str, Any], data: pd.DataFrame, measure: str | None):
    if measure is not None and f"effects_{measure}" in ref:
        eff = ref[f"effects_{measure}"]
        return np.asarray(eff["yi"], float), np.asarray(eff["vi"], float)
    return data["yi"].to_numpy(float), data["vi"].to_numpy(float)


def _cluster_column(ref: dict[str, Any], data: pd.DataFrame) -> str:
    """The cluster: make_refs.R's "first id column" (konstantopoulos2011: district).

    make_refs.R clusters the robust fits and nests the multilevel model on
    ``d$district``, the CSV's first column; our files name the column.
    """
    if "cluster_column" in ref:
        return ref["cluster_column"]
    return str(data.columns[0])


def _compare(ours: dict[str, Any], theirs: dict[str, Any], where: str) -> float:
    """Assert every number of ``theirs`` equals ``ours``; return the max rel. error."""
    worst = 0.0
    for name, expected in theirs.items():
        if expected is None or isinstance(expected, str):
            continue  # metafor NA / a description such as "first id column"
        if isinstance(expected, dict):
            worst = max(worst, _compare(ours[name], expected, f"{where}.{name}"))
            continue
        exp = np.atleast_1d(np.asarray(expected, float))
        got = np.atleast_1d(np.asarray(ours[name], float))
        assert got.shape == exp.shape, f"{where}.{name}"
        err = np.abs(got - exp)
        ok = err <= np.maximum(RTOL * np.abs(exp), ATOL)
        assert ok.all(), f"{where}.{name}: {got} vs metafor {exp}"
        rel = err / np.maximum(np.abs(exp), ATOL / RTOL)
        worst = max(worst, float(rel.max()))
    return worst


@pytest.mark.shared
@pytest.mark.parametrize(("path", "key"), CASES)
def test_against_metafor(path: Path, key: str):
    if not path.exists():
        pytest.skip(f"{path} not found")
    ref, data = _load(path)
    expected = ref[key]
    if key.startswith("subgroups"):
        # subgroups_<MEASURE>_<column> or subgroups_<column>
        parts = key.split("_")[1:]
        column = parts[-1]
        measure = parts[0] if len(parts) > 1 else None
        yi, vi = _yi_vi(ref, data, measure)
        ours = subgroup_analysis(yi, vi, data[column].tolist())
        assert set(ours["groups"]) == set(expected["groups"])
        assert ours["skipped"] == []
    elif key.startswith("robust"):
        yi, vi = _yi_vi(ref, data, None)
        column = _cluster_column(ref, data)
        ours = robust(yi, vi, data[column].tolist(), kind=key.split("_")[1])
        expected = dict(expected)
        n_clusters = expected.pop("n_clusters", None)
        assert ours["cluster"] == (n_clusters or data[column].nunique())
    else:  # multilevel, multilevel_ML, multilevel_t
        yi, vi = _yi_vi(ref, data, None)
        column = _cluster_column(ref, data)
        suffix = key.removeprefix("multilevel").lstrip("_")
        kwargs = {"ML": {"method": "ML"}, "t": {"test": "t"}}.get(suffix, {})
        ours = multilevel(yi, vi, data[column].tolist(), **kwargs)
        expected = dict(expected)
        assert ours["n_clusters"] == expected.pop("n_clusters", ours["n_clusters"])
        if "logLik" in expected:
            # metafor's nlminb on log(sigma2) stops a little short of the maximum
            # (assink2016: sigma2 off by 8e-7 relative); ours is never lower
            assert ours["logLik"] >= expected["logLik"] - 1e-12
    _compare(ours, expected, key)


def test_every_reference_kind_is_covered():
    keys = {c.id for c in CASES}
    for kind in ("subgroups", "robust_CR1", "robust_CR2", "multilevel"):
        assert any(f":{kind}" in k for k in keys), kind
    # the shared konstantopoulos2011 keys are among them when the folder exists
    if (SHARED / "validation" / "metafor").is_dir():
        assert "dat.konstantopoulos2011:robust_CR2" in keys
        assert "dat.bcg:subgroups_RR_alloc" in keys


# --- behaviour ---------------------------------------------------------------


def test_cr1_equals_hand_written_sandwich():
    """CR1 comes from PyMARE; check it against the formula written out."""
    from evsynth.meta.rma import rma

    path = LOCAL / "dependence_dat.assink2016.csv"
    d = pd.read_csv(path)
    y, v, cl = d["yi"].to_numpy(), d["vi"].to_numpy(), d["study"].to_numpy()
    fit = rma(y, v)
    w = 1 / (v + fit.tau2)
    b = float(np.sum(w * y) / np.sum(w))
    scores = pd.Series(w * (y - b)).groupby(cl).sum().to_numpy()
    n = len(scores)
    se = math.sqrt(n / (n - 1) * np.sum(scores**2)) / np.sum(w)
    assert robust(y, v, cl, kind="CR1")["se"] == pytest.approx(se, rel=1e-12)


def test_subgroups_skip_small_groups():
    y = [0.1, 0.3, 0.2, 0.5, 0.7, 0.4, 1.0]
    v = [0.04, 0.05, 0.03, 0.02, 0.06, 0.05, 0.1]
    g = ["a", "a", "a", "b", "b", "b", "c"]
    out = subgroup_analysis(y, v, g)
    assert out["skipped"] == ["c"]
    assert set(out["groups"]) == {"a", "b"}
    assert out["between_separate_tau2"]["df"] == 1
    assert out["between_common_tau2"]["df"] == 1


def test_subgroup_labels_as_r():
    y = [0.1, 0.3, 0.2, 0.5, 0.7, 0.4]
    v = [0.04, 0.05, 0.03, 0.02, 0.06, 0.05]
    out = subgroup_analysis(y, v, [1.0, 1.0, 1.0, 10.0, 10.0, 2.5], min_k=1)
    assert list(out["groups"]) == ["1", "2.5", "10"]


def test_subgroup_knha_reports_f_test():
    y = [0.1, 0.3, 0.2, 0.5, 0.7, 0.4]
    v = [0.04, 0.05, 0.03, 0.02, 0.06, 0.05]
    out = subgroup_analysis(y, v, list("aaabbb"), test="knha")
    assert out["between_common_tau2"]["df"] == 1
    assert out["between_common_tau2"]["df2"] == 4


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: robust([0.1, 0.2], [0.1, 0.1], ["a", "a"]), "at least 2 clusters"),
        (lambda: robust([0.1, 0.2], [0.1, 0.1, 0.1], ["a", "b", "c"]), "same length"),
        (lambda: robust([0.1, 0.2], [0.1, 0.1], ["a", None]), "missing"),
        (lambda: robust([0.1, 0.2], [0.1, 0.1], ["a", "b"], kind="CR3"), "kind"),
        (lambda: multilevel([0.1, 0.2, 0.3], [0.1] * 3, [1, 1, 1]), "2 clusters"),
        (lambda: multilevel([0.1, 0.2], [0.1, 0.1], [1, 2, 2]), "same length"),
        (lambda: multilevel([0.1, 0.2, 0.3], [0.1] * 3, [1, 2, 3]), "more than one"),
        (
            lambda: multilevel([0.1, 0.2, 0.3], [0.1] * 3, [1, 1, 2], method="DL"),
            "REML",
        ),
        (lambda: multilevel([0.1, 0.2, 0.3], [0.1, 0, 0.1], [1, 1, 2]), "positive"),
        (
            lambda: subgroup_analysis([0.1, 0.2, 0.3], [0.1] * 3, ["a", "a", "b"]),
            "at least 2 subgroups",
        ),
        (
            lambda: subgroup_analysis([0.1, 0.2, 0.3], [0.1] * 3, ["a", "b"]),
            "same length",
        ),
        (
            lambda: subgroup_analysis([0.1, 0.2], [0.1] * 2, ["a", float("nan")]),
            "missing",
        ),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- properties (hypothesis) -------------------------------------------------


@st.composite
def clustered(draw, min_clusters: int = 2, max_clusters: int = 6):
    """Effects in clusters: at least one cluster with 2+ effects."""
    sizes = draw(
        st.lists(
            st.integers(1, 4), min_size=min_clusters, max_size=max_clusters
        ).filter(lambda s: max(s) > 1)
    )
    cluster = [f"c{j}" for j, n in enumerate(sizes) for _ in range(n)]
    k = len(cluster)
    yi = draw(st.lists(st.floats(-2, 2), min_size=k, max_size=k))
    vi = draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k))
    perm = draw(st.permutations(range(k)))
    return np.array(yi), np.array(vi), np.array(cluster, dtype=object), np.array(perm)


def _close(a: float, b: float, rel: float = 1e-7, abs_: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


PROPS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPS
@given(clustered())
def test_multilevel_row_order_and_nonnegative(data):
    yi, vi, cl, perm = data
    a = multilevel(yi, vi, cl)
    b = multilevel(yi[perm], vi[perm], cl[perm])
    assert min(a["sigma2"]) >= 0 and min(b["sigma2"]) >= 0
    # the maximum is the same; its location only as well as the likelihood
    # pins it down, so sigma2 is compared through the likelihood and estimate
    assert _close(a["logLik"], b["logLik"], rel=1e-10, abs_=1e-10)
    assert _close(a["estimate"], b["estimate"], rel=1e-6, abs_=1e-7)
    assert _close(a["Q"], b["Q"], rel=1e-10)
    assert a["ci_lb"] <= a["estimate"] <= a["ci_ub"]


@PROPS
@given(clustered(), st.sampled_from(["CR1", "CR2"]))
def test_robust_row_order_and_ci(data, kind):
    yi, vi, cl, perm = data
    a = robust(yi, vi, cl, kind=kind)
    b = robust(yi[perm], vi[perm], cl[perm], kind=kind)
    for name in ("estimate", "se", "df", "ci_lb", "ci_ub"):
        assert _close(a[name], b[name], rel=1e-7, abs_=1e-9), name
    assert a["ci_lb"] <= a["estimate"] <= a["ci_ub"]
    assert a["se"] >= 0 and a["df"] > 0
    assert a["cluster"] == len(set(cl))


@PROPS
@given(clustered(min_clusters=2, max_clusters=4))
def test_subgroups_row_order(data):
    yi, vi, cl, perm = data
    if sum(np.unique(cl, return_counts=True)[1] >= 2) < 2:
        return
    a = subgroup_analysis(yi, vi, cl)
    b = subgroup_analysis(yi[perm], vi[perm], cl[perm])
    assert a["skipped"] == b["skipped"]
    assert _close(
        a["between_separate_tau2"]["Q"], b["between_separate_tau2"]["Q"], abs_=1e-8
    )
    assert _close(
        a["between_common_tau2"]["QM"], b["between_common_tau2"]["QM"], abs_=1e-8
    )
