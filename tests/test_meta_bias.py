"""Small-study-effect tests and sensitivity analyses against metafor 3.8.1.

References:

* ``../shared/validation/metafor/*.json``, the ``bias*`` keys (make_refs.R):
  ``regtest``, ``ranktest``, ``trimfill``, ``leave1out``, ``fsn``, ``cumul``.
* ``tests/data/metafor/bias_extra_<dataset>.json`` (benchmarks/metafor_bias_refs.R):
  ``influence()`` and every column of the other functions, for the REML (z and
  Knapp-Hartung), DL and EE models, the R0/Q0 trim-and-fill estimators and the
  other side, on the shared datasets and on dat.raudenbush1985 (ties among the
  variances), dat.normand1999 (k = 9, k0 = 0) and dat.hart1999 (k = 6, tau^2 = 0,
  two studies with the same year); influence() of a meta-regression on dat.bcg.

Tolerance: 1e-6 relative or 1e-8 absolute throughout. metafor stops its Fisher
scoring for REML once a step is below 1e-5 while :mod:`evsynth.meta.rma` solves
the likelihood equation exactly, but on these datasets the two agree to 4e-8
relative (the largest difference, a DFFITS of the dat.bcg meta-regression), so
no tolerance had to be loosened.
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
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from tests.conftest import REPO, SHARED

with warnings.catch_warnings():
    # PyMARE 0.0.13 leaves effectsize/expressions.json open when it is imported
    # (json.load(open(path))); under filterwarnings = error that ResourceWarning
    # would surface as an unraisable-exception error in whichever test runs first.
    warnings.simplefilter("ignore", ResourceWarning)
    from evsynth.meta import bias, sensitivity
    from evsynth.meta.rma import rma

LOCAL = REPO / "tests" / "data" / "metafor"
RTOL = 1e-6  # relative, as the brief asks
ATOL = 1e-8  # absolute, for values near zero

EXTRA_DATASETS = (
    "dat.bcg",
    "dat.bangertdrowns2004",
    "dat.hackshaw1998",
    "dat.konstantopoulos2011",
    "dat.raudenbush1985",
    "dat.normand1999",
    "dat.hart1999",
)
MODELS = ("REML_z", "REML_knha", "DL_z", "EE_z")


# --------------------------------------------------------------------------- #
# comparison helper
# --------------------------------------------------------------------------- #


def _close(got: Any, expected: Any, where: str) -> float:
    """Assert ``got`` equals metafor's ``expected``; return the max relative error.

    ``None`` in the reference is R's NA and must be NaN (or None) here.
    """
    exp = np.atleast_1d(
        np.asarray([np.nan if e is None else e for e in np.atleast_1d(expected)], float)
    )
    got_arr = np.atleast_1d(
        np.asarray([np.nan if g is None else g for g in np.atleast_1d(got)], float)
    )
    assert got_arr.shape == exp.shape, f"{where}: shape {got_arr.shape} vs {exp.shape}"
    nan_exp, nan_got = np.isnan(exp), np.isnan(got_arr)
    assert np.array_equal(nan_exp, nan_got), f"{where}: NA pattern {got_arr} vs {exp}"
    e, g = exp[~nan_exp], got_arr[~nan_exp]
    err = np.abs(g - e)
    ok = err <= np.maximum(RTOL * np.abs(e), ATOL)
    assert ok.all(), f"{where}: {g[~ok]} vs metafor {e[~ok]}"
    rel = err / np.maximum(np.abs(e), ATOL / RTOL)
    return float(rel.max()) if rel.size else 0.0


def _compare(ours: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
    for name, expected in theirs.items():
        if isinstance(expected, str) or (
            isinstance(expected, list) and expected and isinstance(expected[0], str)
        ):
            assert ours[name] == expected, f"{where}.{name}"
        elif isinstance(expected, dict):
            _compare(ours[name], expected, f"{where}.{name}")
        elif isinstance(expected, list) and expected and isinstance(expected[0], bool):
            assert list(ours[name]) == expected, f"{where}.{name}"
        else:
            _close(ours[name], expected, f"{where}.{name}")


def _trimfill_dict(tf: bias.TrimFill) -> dict[str, Any]:
    return {
        "k0": tf.k0,
        "side": tf.side,
        "se_k0": tf.se_k0,
        "p_k0": tf.p_k0,
        "estimate": tf.estimate,
        "se": tf.se,
        "zval": tf.zval,
        "pval": tf.pval,
        "ci_lb": tf.ci_lb,
        "ci_ub": tf.ci_ub,
        "tau2": tf.tau2,
        "Q": tf.Q,
        "Q_p": tf.Q_p,
        "yi": tf.yi.tolist(),
        "vi": tf.vi.tolist(),
        "filled": tf.filled.tolist(),
    }


# --------------------------------------------------------------------------- #
# shared references (make_refs.R)
# --------------------------------------------------------------------------- #


def _shared_cases() -> list[Any]:
    folder = SHARED / "validation" / "metafor"
    cases = []
    for path in sorted(folder.glob("*.json")):
        ref = json.loads(path.read_text())
        cases.extend(
            pytest.param(path.name, key, id=f"{path.stem}:{key}")
            for key in ref
            if key.startswith("bias")
        )
    # without the shared folder one case remains, and the fixture skips it
    return cases or [pytest.param("", "", id="shared-folder-missing")]


def _labels(data: pd.DataFrame) -> list[str]:
    """Study labels as make_refs.R builds them (study_id, study, or author + year)."""
    if "study_id" in data:
        return data["study_id"].astype(str).tolist()
    if "study" in data:
        return data["study"].astype(str).tolist()
    return (data["author"].astype(str) + " " + data["year"].astype(str)).tolist()


@pytest.mark.shared
@pytest.mark.parametrize(("name", "key"), _shared_cases())
def test_shared_bias_against_metafor(shared: Path, name: str, key: str):
    path = shared / "validation" / "metafor" / name
    ref = json.loads(path.read_text())
    data = pd.read_csv(path.with_suffix(".csv"))
    expected = ref[key]
    if key == "bias":
        yi, vi = data["yi"].to_numpy(float), data["vi"].to_numpy(float)
    else:  # bias_<MEASURE>: the file's escalc effects
        eff = ref[f"effects_{key.removeprefix('bias_')}"]
        yi, vi = np.asarray(eff["yi"], float), np.asarray(eff["vi"], float)

    _compare(bias.egger_test(yi, vi, model="rma"), expected["egger_rma"], "egger_rma")
    _compare(bias.egger_test(yi, vi, model="lm"), expected["egger_lm"], "egger_lm")
    _compare(bias.rank_test(yi, vi), expected["begg"], "begg")
    _compare(
        _trimfill_dict(bias.trim_and_fill(yi, vi)), expected["trimfill"], "trimfill"
    )
    labels = _labels(data)
    _compare(
        sensitivity.leave_one_out(yi, vi, labels=labels),
        expected["leave1out"],
        "leave1out",
    )
    assert bias.failsafe_n(yi, vi) == expected["failsafe_rosenthal"]
    if "cumulative" in expected:
        out = sensitivity.cumulative(yi, vi, data["year"].tolist(), order_by="year")
        _compare(out, expected["cumulative"], "cumulative")


def test_shared_cases_cover_every_dataset():
    if not (SHARED / "validation" / "metafor").is_dir():
        pytest.skip("shared folder not found")
    ids = {c.id for c in _shared_cases()}
    assert {
        "dat.bcg:bias_RR",
        "dat.bangertdrowns2004:bias",
        "dat.hackshaw1998:bias",
        "dat.konstantopoulos2011:bias",
    } <= ids


# --------------------------------------------------------------------------- #
# local references (benchmarks/metafor_bias_refs.R)
# --------------------------------------------------------------------------- #


def _local(dataset: str) -> dict[str, Any]:
    return json.loads((LOCAL / f"bias_extra_{dataset}.json").read_text())


def test_local_references_present():
    for dataset in EXTRA_DATASETS:
        ref = _local(dataset)
        assert ref["metafor_version"] == "3.8.1"
        assert set(MODELS) <= set(ref["models"])
        assert {"egger_lm", "failsafe_rosenthal", "trimfill_variants"} <= set(ref)
    assert "influence_mods" in _local("dat.bcg")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dataset", EXTRA_DATASETS)
def test_extra_against_metafor(dataset: str, model: str):
    ref = _local(dataset)
    yi, vi, order = ref["yi"], ref["vi"], ref["order"]
    method, test = model.split("_")
    expected = ref["models"][model]

    egger = bias.egger_test(yi, vi, model="rma", method=method, test=test)
    _compare(egger, expected["egger_rma"], "egger_rma")
    _compare(bias.rank_test(yi, vi, method=method), expected["begg"], "begg")
    tf = bias.trim_and_fill(yi, vi, method=method, test=test)
    _compare(_trimfill_dict(tf), expected["trimfill"], "trimfill")
    l1o = sensitivity.leave_one_out(yi, vi, method=method, test=test)
    _compare(l1o, expected["leave1out"], "leave1out")
    cum = sensitivity.cumulative(yi, vi, order, method=method, test=test)
    _compare(cum, expected["cumulative"], "cumulative")
    inf = sensitivity.influence(yi, vi, method=method, test=test)
    _compare(inf, expected["influence"], "influence")


@pytest.mark.parametrize("dataset", EXTRA_DATASETS)
def test_extra_model_free_against_metafor(dataset: str):
    ref = _local(dataset)
    yi, vi = ref["yi"], ref["vi"]
    _compare(bias.egger_test(yi, vi, model="lm"), ref["egger_lm"], "egger_lm")
    assert bias.failsafe_n(yi, vi) == ref["failsafe_rosenthal"]
    variants = ref["trimfill_variants"]
    _compare(
        _trimfill_dict(bias.trim_and_fill(yi, vi, estimator="R0")), variants["R0"], "R0"
    )
    _compare(
        _trimfill_dict(bias.trim_and_fill(yi, vi, estimator="Q0")), variants["Q0"], "Q0"
    )
    other = variants["other_side"]["side"]
    _compare(
        _trimfill_dict(bias.trim_and_fill(yi, vi, side=other)),
        variants["other_side"],
        "other_side",
    )


def test_influence_meta_regression_against_metafor():
    """influence(rma(yi, vi, mods = cbind(ablat, year))) on dat.bcg (metafor's help)."""
    ref = _local("dat.bcg")
    expected = dict(ref["influence_mods"])
    mods = pd.DataFrame(expected.pop("mods"))
    out = sensitivity.influence(ref["yi"], ref["vi"], mods=mods)
    assert list(out["dfbetas"]) == ["intrcpt", "ablat", "year"]
    _compare(out, expected, "influence_mods")
    # metafor's documented values: study 4 flagged, Cook's D 7.3179, hat 0.8082
    assert out["inf"][3] and sum(out["inf"]) == 1
    assert out["cooks_d"][3] == pytest.approx(7.3179, abs=5e-5)
    assert out["hat"][3] == pytest.approx(0.8082, abs=5e-5)


# --------------------------------------------------------------------------- #
# documented metafor values (dat.bcg, metafor's help pages)
# --------------------------------------------------------------------------- #


def test_documented_bcg_values():
    ref = _local("dat.bcg")
    yi, vi = ref["yi"], ref["vi"]
    tf = bias.trim_and_fill(yi, vi)
    assert (tf.k0, tf.side) == (1, "right")
    assert tf.estimate == pytest.approx(-0.6571, abs=5e-5)
    assert tf.se_k0 == pytest.approx(2.4528, abs=5e-5)
    ee = bias.trim_and_fill(yi, vi, method="EE")
    assert (ee.k0, ee.side) == (4, "right")
    assert ee.estimate == pytest.approx(-0.2910, abs=5e-5)
    r0 = bias.trim_and_fill(yi, vi, method="EE", estimator="R0")
    assert (r0.k0, r0.p_k0) == (4, 0.03125)
    rk = bias.rank_test(yi, vi)
    assert rk["tau"] == pytest.approx(0.0256, abs=5e-5)
    assert rk["p"] == pytest.approx(0.9524, abs=5e-5)
    assert rk["exact"] is True
    assert bias.failsafe_n(yi, vi) == 598


# --------------------------------------------------------------------------- #
# behaviour
# --------------------------------------------------------------------------- #


def test_kendall_matches_scipy():
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(3, 30))
        x = rng.normal(size=n)
        y = 0.5 * x + rng.normal(size=n)
        tau, p, exact = bias._kendall(x, y)
        ref = stats.kendalltau(x, y, method="exact")
        assert exact
        assert tau == pytest.approx(ref.statistic, rel=1e-12)
        assert p == pytest.approx(ref.pvalue, rel=1e-10)
        xt = np.round(x)  # ties: tau-b and the tie-corrected normal approximation
        tau, p, exact = bias._kendall(xt, y)
        if not exact:
            ref = stats.kendalltau(xt, y, method="asymptotic")
            assert tau == pytest.approx(ref.statistic, rel=1e-12)
            assert p == pytest.approx(ref.pvalue, rel=1e-10)


def test_rank_test_large_k_uses_normal_approximation():
    rng = np.random.default_rng(3)
    k = bias.EXACT_KENDALL_MAX_K + 1
    vi = rng.uniform(0.01, 0.5, k)
    yi = rng.normal(0, np.sqrt(vi))
    out = bias.rank_test(yi, vi)
    assert out["exact"] is False
    assert 0 <= out["p"] <= 1


def test_rank_test_constant_variances_gives_nan():
    out = bias.rank_test([0.1, 0.3, 0.2, 0.5], [0.04] * 4)
    assert math.isnan(out["tau"]) and math.isnan(out["p"])


def test_egger_lm_equals_classical_regression():
    """Egger et al. (1997): yi/sei on 1/sei; the intercept's t is regtest's slope t."""
    ref = _local("dat.raudenbush1985")
    y, v = np.asarray(ref["yi"]), np.asarray(ref["vi"])
    s = np.sqrt(v)
    X = np.column_stack([np.ones_like(s), 1 / s])
    z = y / s
    beta, *_ = np.linalg.lstsq(X, z, rcond=None)
    resid = z - X @ beta
    cov = resid @ resid / (len(z) - 2) * np.linalg.inv(X.T @ X)
    t_intercept = beta[0] / math.sqrt(cov[0, 0])
    assert bias.egger_test(y, v, model="lm")["t"] == pytest.approx(
        t_intercept, rel=1e-10
    )


def test_egger_rma_is_meta_regression_on_sei():
    ref = _local("dat.hackshaw1998")
    y, v = np.asarray(ref["yi"]), np.asarray(ref["vi"])
    fit = rma(y, v, mods=np.sqrt(v))
    out = bias.egger_test(y, v)
    assert out["z"] == fit.zval[1]
    assert out["limit_estimate"] == fit.beta[0]
    assert out["df"] is None
    assert bias.egger_test(y, v, test="knha")["df"] == len(y) - 2


def test_cumulative_order_semantics():
    yi = [0.1, 0.5, 0.3, 0.7, 0.2]
    vi = [0.05, 0.04, 0.06, 0.03, 0.05]
    year = [2001, 1999, 2001, None, 1999]
    out = sensitivity.cumulative(yi, vi, year, labels=list("abcde"), order_by="year")
    # ties keep their input order; missing values come last (R's order())
    assert out["label"] == ["b", "e", "a", "c", "d"]
    assert out["index"] == [1, 4, 0, 2, 3]
    assert out["order_by"] == "year"
    # the first step is the first study alone, the last the full model
    assert out["estimate"][0] == pytest.approx(0.5)
    assert out["se"][0] == pytest.approx(math.sqrt(0.04))
    assert out["tau2"][0] == 0
    full = rma(yi, vi)
    assert out["estimate"][-1] == pytest.approx(full.estimate, rel=1e-12)
    down = sensitivity.cumulative(yi, vi, year, labels=list("abcde"), decreasing=True)
    assert down["label"] == ["a", "c", "b", "e", "d"]


def test_cumulative_knha_first_step_uses_z():
    out = sensitivity.cumulative(
        [0.1, 0.5, 0.3], [0.05, 0.04, 0.06], [1, 2, 3], test="knha"
    )
    assert out["ci_lb"][0] == pytest.approx(
        0.1 - stats.norm.isf(0.025) * math.sqrt(0.05)
    )


def test_influence_sums():
    ref = _local("dat.raudenbush1985")
    out = sensitivity.influence(ref["yi"], ref["vi"])
    assert sum(out["hat"]) == pytest.approx(1.0)
    assert sum(out["weight"]) == pytest.approx(100.0)
    assert out["p"] == 1 and out["k"] == len(ref["yi"])
    assert len(out["label"]) == out["k"]


def test_trim_and_fill_filled_studies_are_mirror_images():
    ref = _local("dat.hackshaw1998")
    y, v = np.asarray(ref["yi"]), np.asarray(ref["vi"])
    tf = bias.trim_and_fill(y, v)
    assert tf.k0 == 7 and tf.side == "left"
    assert np.array_equal(tf.yi[: len(y)], y) and np.array_equal(tf.vi[: len(y)], v)
    filled = tf.yi[tf.filled]
    mirrored = np.sort(y)[-tf.k0 :]  # the k0 largest effects, mirrored to the left
    centre = (filled + mirrored) / 2
    assert np.ptp(centre) < 1e-12
    assert np.array_equal(tf.vi[tf.filled], v[np.argsort(y, kind="stable")][-tf.k0 :])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bias.egger_test([0.1, 0.2], [0.1, 0.2]), r"at least 3 studies"),
        (
            lambda: bias.egger_test([0.1, 0.2, 0.3], [0.1] * 3),
            r"same sampling variance",
        ),
        (
            lambda: bias.egger_test([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], model="x"),
            r"model",
        ),
        (lambda: bias.rank_test([0.1, 0.2], [0.1, 0.2]), r"at least 3 studies"),
        (
            lambda: bias.rank_test([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], method="X"),
            r"method",
        ),
        (lambda: bias.trim_and_fill([0.1, 0.2], [0.1, 0.2]), r"at least 3 studies"),
        (lambda: bias.trim_and_fill([0.1, 0.2, 0.3], [0.1] * 3), r"side="),
        (lambda: bias.trim_and_fill([0.1, 0.2, 0.3], [0.1] * 3, estimator="X"), r"L0"),
        (lambda: bias.failsafe_n([], []), r"at least 1 stud"),
        (lambda: bias.failsafe_n([0.1], [0.1], alpha=0.7), r"alpha"),
        (lambda: sensitivity.leave_one_out([0.1], [0.1]), r"at least 2 studies"),
        (lambda: sensitivity.influence([0.1], [0.1]), r"at least 2 studies"),
        (lambda: sensitivity.cumulative([0.1, 0.2], [0.1, 0.2], [1]), r"order has 1"),
        (lambda: sensitivity.leave_one_out([0.1, 0.2], [0.1]), r"lengths must match"),
        (lambda: sensitivity.leave_one_out([0.1, 0.2], [0.1, -0.1]), r"positive"),
        (lambda: bias.egger_test([0.1, np.nan, 0.2], [0.1, 0.1, 0.2]), r"not finite"),
        (
            lambda: sensitivity.leave_one_out([0.1, 0.2], [0.1, 0.2], labels=["a"]),
            r"labels",
        ),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_trim_and_fill_constant_variances_with_side():
    tf = bias.trim_and_fill([0.1, 0.2, 0.9, 0.4], [0.1] * 4, side="left")
    assert tf.k0 >= 0 and tf.side == "left"


def test_leave_one_out_two_studies_refits_single_study():
    out = sensitivity.leave_one_out([0.1, 0.5], [0.04, 0.09], test="knha")
    assert out["estimate"] == pytest.approx([0.5, 0.1])
    assert out["tau2"] == [0.0, 0.0]
    assert out["se"] == pytest.approx([0.3, 0.2])


# --------------------------------------------------------------------------- #
# properties
# --------------------------------------------------------------------------- #

_effects = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
_variances = st.floats(0.005, 2.0, allow_nan=False, allow_infinity=False)


@st.composite
def _studies(draw, min_k: int = 3, max_k: int = 12):
    k = draw(st.integers(min_k, max_k))
    yi = draw(st.lists(_effects, min_size=k, max_size=k))
    vi = draw(st.lists(_variances, min_size=k, max_size=k))
    return np.asarray(yi), np.asarray(vi)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_studies(), seed=st.integers(0, 2**32 - 1))
def test_leave_one_out_is_order_invariant(data, seed):
    yi, vi = data
    perm = np.random.default_rng(seed).permutation(yi.size)
    labels = [f"s{i}" for i in range(yi.size)]
    a = sensitivity.leave_one_out(yi, vi, labels=labels)
    b = sensitivity.leave_one_out(yi[perm], vi[perm], labels=[labels[i] for i in perm])
    assert b["label"] == [a["label"][i] for i in perm]
    for key in ("estimate", "se", "tau2", "I2", "Q"):
        expected = np.asarray(a[key])[perm]
        np.testing.assert_allclose(b[key], expected, rtol=1e-7, atol=1e-9, err_msg=key)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_studies(), method=st.sampled_from(["REML", "DL", "EE"]))
def test_trim_and_fill_properties(data, method):
    yi, vi = data
    assume(np.ptp(vi) > 0)  # the side is chosen by a regression on sqrt(vi)
    tf = bias.trim_and_fill(yi, vi, method=method)
    k = yi.size
    assert tf.k0 >= 0
    assert tf.yi.size == k + tf.k0 and int(tf.filled.sum()) == tf.k0
    assert np.array_equal(tf.yi[:k], yi)
    if tf.k0 == 0:
        return
    filled = tf.yi[tf.filled]
    # each filled study mirrors one of the k0 most extreme studies on the other
    # side about the estimate b of the trimmed data (the same b for all) ...
    extreme = np.sort(yi)[-tf.k0 :] if tf.side == "left" else np.sort(yi)[: tf.k0][::-1]
    centre = (filled + extreme) / 2
    b = float(centre.mean())
    assert np.ptp(centre) <= 1e-9 * max(1.0, abs(b))
    # ... and lies on the missing side of it: L0 never fills more studies than
    # lie beyond b, so the mirrors land on the other side
    sign = -1.0 if tf.side == "left" else 1.0
    assert np.all(sign * (filled - b) >= -1e-12)
    if method == "EE":
        # with equal weights per mirrored pair the filled estimate is b itself,
        # so the filled studies lie on the side of it opposite the observed excess
        assert tf.estimate == pytest.approx(b, rel=1e-9, abs=1e-12)
        assert np.all(sign * (filled - tf.estimate) >= -1e-9)


@settings(max_examples=60, deadline=None)
@given(data=_studies(min_k=1, max_k=20), alpha=st.sampled_from([0.05, 0.01, 0.1]))
def test_failsafe_n_properties(data, alpha):
    yi, vi = data
    n = bias.failsafe_n(yi, vi, alpha=alpha)
    assert isinstance(n, int) and n >= 0
    # Stouffer's z with n extra null studies is no longer significant (one-sided
    # alpha), with n - 1 it still is
    z_sum = abs(float(np.sum(yi / np.sqrt(vi))))
    crit = stats.norm.isf(alpha)
    k = yi.size
    assert z_sum / math.sqrt(k + n) <= crit * (1 + 1e-9)
    if n > 0:
        assert z_sum / math.sqrt(k + n - 1) > crit * (1 - 1e-9)
