"""evsynth.meta.rma against metafor 3.8.1 (rma.uni, predict, confint).

Reference files: every ``dat.*.json`` in ``../shared/validation/metafor`` (made by
its ``make_refs.R``) and in ``tests/data/metafor`` (made by
``benchmarks/metafor_refs.R``; metafor's output, not ours). Every number of every
``pooled*``, ``metareg*``, ``methods_metareg_*``, ``nointercept_*``,
``confint_REML`` and ``exact`` entry is compared to 1e-6 relative or 1e-8
absolute. No tolerance is loosened: rma() reproduces metafor's iterative
algorithms (Fisher scoring, R's uniroot) step for step, so the agreement is at
the level of rounding: about 1e-11 relative, 6e-8 at worst (dat.li2007 with
``year`` as moderator, where X'WX has a condition number near 1e13).
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evsynth.meta.rma import (
    METHODS,
    RmaFit,
    heterogeneity_ci,
    predict,
    rma,
    summary_dict,
    tau2_ci_qprofile,
)

RTOL = 1e-6
ATOL = 1e-8

HERE = Path(__file__).resolve().parent
LOCAL_DIR = HERE / "data" / "metafor"
# Same rule as the `shared` fixture in conftest.py (needed at collection time to
# parametrise; the tests themselves request the fixture, which skips if missing).
SHARED_DIR = (
    Path(os.environ.get("EVSYNTH_SHARED", HERE.parents[0].parent / "shared"))
    / "validation"
    / "metafor"
)


# --------------------------------------------------------------------------- #
# reference discovery
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Case:
    source: str  # "shared" or "local"
    file: str  # e.g. "dat.bcg.json"
    key: str  # e.g. "pooled_RR"
    sub: str | None = None  # e.g. "REML_knha"

    @property
    def id(self) -> str:
        tail = f"-{self.sub}" if self.sub else ""
        return f"{self.source}:{self.file[:-5]}:{self.key}{tail}"


def _ref_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("dat.*.json")) if folder.is_dir() else []


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _discover() -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {
        "pooled": [],
        "metareg": [],
        "methods": [],
        "confint": [],
        "exact": [],
    }
    for source, folder in (("shared", SHARED_DIR), ("local", LOCAL_DIR)):
        for path in _ref_files(folder):
            ref = _load(path)
            for key, val in ref.items():
                if key.startswith("pooled"):
                    out["pooled"] += [Case(source, path.name, key, sub) for sub in val]
                elif key.startswith("metareg_"):
                    out["metareg"].append(Case(source, path.name, key))
                elif key.startswith(("methods_metareg_", "nointercept_")):
                    out["methods"] += [Case(source, path.name, key, sub) for sub in val]
                elif key == "confint_REML":
                    out["confint"].append(Case(source, path.name, key))
                elif key == "exact":
                    out["exact"].append(Case(source, path.name, key))
    return out


CASES = _discover()


def _params(kind: str) -> list[Any]:
    cases = CASES[kind]
    if not cases:
        return [
            pytest.param(None, marks=pytest.mark.skip(reason=f"no {kind} references"))
        ]
    return [
        pytest.param(
            c, id=c.id, marks=[pytest.mark.shared] if c.source == "shared" else []
        )
        for c in cases
    ]


def _folder(case: Case, request: pytest.FixtureRequest) -> Path:
    if case.source == "shared":
        shared = request.getfixturevalue("shared")
        return shared / "validation" / "metafor"
    return LOCAL_DIR


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _column(rows: list[dict[str, str]], name: str) -> np.ndarray:
    return np.array(
        [float(r[name]) if r[name] not in ("", "NA") else np.nan for r in rows]
    )


def _measures(ref: dict[str, Any]) -> list[str]:
    return [k.split("_", 1)[1] for k in ref if k.startswith("effects_")]


def _effects(
    folder: Path, file: str, measure: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """yi/vi: effects_<MEASURE> of the JSON, or the CSV's yi and vi columns."""
    ref = _load(folder / file)
    if measure:
        eff = ref[f"effects_{measure}"]
        return np.array(eff["yi"], float), np.array(eff["vi"], float)
    rows = _read_csv(folder / (file[:-5] + ".csv"))
    return _column(rows, "yi"), _column(rows, "vi")


def _moderator_data(
    folder: Path, file: str, rest: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """yi, vi and moderator for ``<prefix>_<rest>``, rows with a missing moderator dropped.

    ``rest`` is ``<column>`` (CSV yi/vi) or ``<MEASURE>_<column>`` (effects_<MEASURE>).
    """
    ref = _load(folder / file)
    measure = None
    for m in _measures(ref):
        if rest.startswith(m + "_"):
            measure, rest = m, rest[len(m) + 1 :]
            break
    y, v = _effects(folder, file, measure)
    x = _column(_read_csv(folder / (file[:-5] + ".csv")), rest)
    keep = ~np.isnan(x)  # metafor drops studies with a missing moderator
    return y[keep], v[keep], x[keep]


# --------------------------------------------------------------------------- #
# comparison helpers
# --------------------------------------------------------------------------- #


def _is_na(x: Any) -> bool:
    return x is None or (isinstance(x, str) and x == "NA")


def assert_close(got: Any, want: Any, what: str) -> float:
    """Assert metafor equality; return the relative error (0 where absolute applies)."""
    if _is_na(want):
        if isinstance(got, float) and math.isnan(got):
            return 0.0
        assert _is_na(got), f"{what}: metafor has NA, got {got!r}"
        return 0.0
    assert not _is_na(got), f"{what}: got None, metafor has {want!r}"
    g = np.atleast_1d(np.asarray(got, dtype=float))
    w = np.atleast_1d(np.asarray(want, dtype=float))
    assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
    diff = np.abs(g - w)
    ok = (diff <= ATOL) | (diff <= RTOL * np.abs(w))
    assert ok.all(), f"{what}: got {g.tolist()}, metafor {w.tolist()}"
    rel = np.where(diff <= ATOL, 0.0, diff / np.where(w == 0, 1.0, np.abs(w)))
    return float(rel.max())


def _pooled_values(fit: RmaFit) -> dict[str, Any]:
    out = summary_dict(fit, predict(fit))
    out["se_tau2"] = fit.se_tau2
    return out


def _reg_values(fit: RmaFit) -> dict[str, Any]:
    return {
        "coef": fit.beta,
        "se": fit.se,
        "pval": fit.pval,
        "tau2": fit.tau2,
        "se_tau2": fit.se_tau2,
        "QM": fit.QM,
        "QMp": fit.QM_p,
        "R2": fit.R2,
        "I2": fit.I2,
        "H2": fit.H2,
        "QE": fit.Q,
        "QEp": fit.Q_p,
    }


# --------------------------------------------------------------------------- #
# reference tests
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("case", _params("pooled"))
def test_pooled_matches_metafor(case: Case, request: pytest.FixtureRequest) -> None:
    folder = _folder(case, request)
    ref = _load(folder / case.file)
    measure = case.key.split("_", 1)[1] if "_" in case.key else None
    y, v = _effects(folder, case.file, measure)
    method, test = case.sub.split("_")
    fit = rma(y, v, method=method, test=test)
    got = _pooled_values(fit)
    for name, want in ref[case.key][case.sub].items():
        assert name in got, f"unknown reference key {name}"
        assert_close(got[name], want, f"{case.id} {name}")


@pytest.mark.parametrize("case", _params("metareg"))
def test_metareg_matches_metafor(case: Case, request: pytest.FixtureRequest) -> None:
    folder = _folder(case, request)
    entry = _load(folder / case.file)[case.key]
    y, v, x = _moderator_data(folder, case.file, case.key[len("metareg_") :])
    fit = rma(y, v, mods=x, method="REML")
    got = _reg_values(fit)
    for name, want in entry.items():
        if name == "knha":
            continue
        assert name in got, f"unknown reference key {name}"
        assert_close(got[name], want, f"{case.id} {name}")
    fk = rma(y, v, mods=x, method="REML", test="knha")
    assert fk.QM_df == (1, fk.k - 2)
    knha = {"coef": fk.beta, "se": fk.se, "pval": fk.pval, "QM": fk.QM, "QMp": fk.QM_p}
    for name, want in entry["knha"].items():
        assert name in knha, f"unknown reference key knha.{name}"
        assert_close(knha[name], want, f"{case.id} knha.{name}")


@pytest.mark.parametrize("case", _params("methods"))
def test_moderator_models_all_methods_match_metafor(
    case: Case, request: pytest.FixtureRequest
) -> None:
    """Every estimator with a moderator, with and without an intercept."""
    folder = _folder(case, request)
    entry = _load(folder / case.file)[case.key][case.sub]
    prefix = (
        "methods_metareg_"
        if case.key.startswith("methods_metareg_")
        else "nointercept_"
    )
    y, v, x = _moderator_data(folder, case.file, case.key[len(prefix) :])
    method, test = case.sub.split("_")
    fit = rma(
        y, v, mods=x, method=method, test=test, intercept=prefix != "nointercept_"
    )
    got = _reg_values(fit)
    for name, want in entry.items():
        assert name in got, f"unknown reference key {name}"
        assert_close(got[name], want, f"{case.id} {name}")


@pytest.mark.parametrize("case", _params("confint"))
def test_qprofile_ci_matches_metafor_confint(
    case: Case, request: pytest.FixtureRequest
) -> None:
    folder = _folder(case, request)
    entry = _load(folder / case.file)[case.key]
    y, v = _effects(folder, case.file, None)
    fit = rma(y, v)
    lo, hi = tau2_ci_qprofile(fit)
    assert_close([fit.tau2, lo, hi], entry["tau2"], f"{case.id} tau2")
    ci = heterogeneity_ci(fit)
    got = {
        "tau2": [ci.tau2, ci.tau2_lb, ci.tau2_ub],
        "tau": [ci.tau, ci.tau_lb, ci.tau_ub],
        "I2": [ci.I2, ci.I2_lb, ci.I2_ub],
        "H2": [ci.H2, ci.H2_lb, ci.H2_ub],
    }
    for name, want in entry.items():
        assert_close(got[name], want, f"{case.id} {name}")


@pytest.mark.parametrize("case", _params("exact"))
def test_exact_solver_matches_metafor_with_tight_controls(
    case: Case, request: pytest.FixtureRequest
) -> None:
    """tau2_solver="exact" = metafor with threshold/tol 1e-14 (an independent check)."""
    folder = _folder(case, request)
    entry = _load(folder / case.file)[case.key]
    y, v = _effects(folder, case.file, None)
    for method in ("REML", "ML", "PM"):
        fit = rma(y, v, method=method, tau2_solver="exact")
        assert_close(fit.tau2, entry[method], f"{case.id} {method}")
    # [estimate, lb, ub]; the estimate is from metafor's default fit, only the bounds
    # were computed with uniroot(tol = 1e-14)
    bounds = tau2_ci_qprofile(rma(y, v), solver="exact")
    assert_close(bounds, entry["confint_REML"][1:], f"{case.id} CI")


def test_reference_files_were_found() -> None:
    assert len(CASES["pooled"]) >= 60, "tests/data/metafor references are missing"
    assert CASES["confint"], "no confint_REML references"


@pytest.mark.shared
def test_shared_reference_files_cover_every_dataset(shared: Path) -> None:
    files = _ref_files(shared / "validation" / "metafor")
    assert files, "no reference JSON in shared/validation/metafor"
    pooled = {c.file for c in CASES["pooled"] if c.source == "shared"}
    assert pooled == {
        p.name for p in files if any(k.startswith("pooled") for k in _load(p))
    }


# --------------------------------------------------------------------------- #
# documented anchors and the solver choice
# --------------------------------------------------------------------------- #

BCG_YI = [
    -0.889311333920205,
    -1.58538865720143,
    -1.34807314829969,
    -1.44155119002131,
    -0.217547322211296,
    -0.786115585818864,
    -1.62089822359839,
    0.0119523335238405,
    -0.469417648738149,
    -1.37134480347278,
    -0.339358828338391,
    0.445913400571379,
    -0.0173139482168798,
]
BCG_VI = [
    0.325584765003961,
    0.194581121398144,
    0.415367965367965,
    0.0200100319022476,
    0.0512101721696309,
    0.00690561845590876,
    0.223017247572315,
    0.00396157929781773,
    0.056434210463249,
    0.0730247936130289,
    0.0124122139715597,
    0.532505845200153,
    0.0714046596839863,
]


def test_bcg_rema_documented_values() -> None:
    """metafor's printed dat.bcg REML output (rma.uni help page)."""
    fit = rma(BCG_YI, BCG_VI)
    assert fit.tau2 == pytest.approx(0.313243325980895, rel=1e-6)
    assert math.isclose(fit.Q, 152.233008082373, rel_tol=1e-9)
    assert fit.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert abs(fit.I2 - 92.22) < 5e-3
    assert fit.se_tau2 == pytest.approx(0.1664, abs=5e-5)
    # Q-based I^2 (PyMARE/statsmodels) would be 92.12: metafor's is tau^2-based
    assert abs(100 * (fit.Q - 12) / fit.Q - 92.12) < 5e-3
    ci = heterogeneity_ci(rma(BCG_YI, BCG_VI, method="DL"))
    assert (ci.tau2_lb, ci.tau2_ub) == pytest.approx((0.1197, 1.1115), abs=5e-5)
    assert (ci.I2_lb, ci.I2_ub) == pytest.approx((81.9177, 97.6781), abs=5e-5)


def test_exact_solver_differs_from_metafor_defaults(
    request: pytest.FixtureRequest,
) -> None:
    """Why tau2_solver="metafor" is the default: metafor stops short of the root."""
    y, v = np.array(BCG_YI), np.array(BCG_VI)
    default, exact = rma(y, v), rma(y, v, tau2_solver="exact")
    # metafor's value
    assert default.tau2 == pytest.approx(0.313243325980895, rel=1e-12)
    assert default.tau2 != exact.tau2
    assert exact.tau2 == pytest.approx(default.tau2, rel=1e-4)


def test_hine_qprofile_upper_bound_is_metafors_uniroot_value() -> None:
    """metafor's uniroot(tol = eps^0.25) stops at 6.1e-5 where the root is 3.2e-5."""
    rows = _read_csv(LOCAL_DIR / "dat.hine1989.csv")
    fit = rma(_column(rows, "yi"), _column(rows, "vi"))
    assert tau2_ci_qprofile(fit)[1] == pytest.approx(6.103515625e-05, rel=1e-12)
    assert tau2_ci_qprofile(fit, solver="exact")[1] == pytest.approx(
        3.16616732272328e-05, rel=1e-6
    )
    assert any("upper bound" in n for n in heterogeneity_ci(fit).notes)
    assert not heterogeneity_ci(fit, solver="exact").notes


@pytest.mark.shared
def test_note_when_metafor_stops_far_from_the_root(shared: Path) -> None:
    """dat.bcg RD: metafor's PM (uniroot, tol 1.2e-4) is 2 % from the exact root."""
    eff = _load(shared / "validation" / "metafor" / "dat.bcg.json")["effects_RD"]
    pm = rma(eff["yi"], eff["vi"], method="PM")
    assert pm.tau2 == pytest.approx(0.00152372, rel=1e-5)  # metafor's value
    assert any("exact root 0.00149419" in n for n in pm.notes)
    exact = rma(eff["yi"], eff["vi"], method="PM", tau2_solver="exact")
    assert not exact.notes
    # the exact root solves Q(tau2) = k - p
    from evsynth.meta.rma import _gen_q

    y = np.array(eff["yi"]) - np.mean(eff["yi"])
    assert _gen_q(
        y, np.array(eff["vi"]), np.ones((13, 1)), exact.tau2
    ) == pytest.approx(12)
    assert not rma(BCG_YI, BCG_VI, method="PM").notes  # RR: within 0.1 %


def test_tiny_scale_exact_solver_keeps_interval_ordered() -> None:
    """On a 1e-6 scale metafor's uniroot tolerance swamps the bounds (lb > ub)."""
    y = [0.003591076200907805, 0.00043563686105204514, 0.0013651441880167816]
    v = [9.572660784330649e-08, 6.163390683395527e-07, 2.2313484210216242e-06]
    fit = rma(y, v, method="DL")
    lo, hi = tau2_ci_qprofile(
        fit
    )  # metafor 3.8.1: 9.927368545288802e-05, 9.505357018502143e-05
    assert (lo, hi) == pytest.approx(
        (9.927368545288802e-05, 9.505357018502143e-05), rel=1e-9
    )
    assert len(heterogeneity_ci(fit).notes) == 2
    elo, ehi = tau2_ci_qprofile(fit, solver="exact")
    assert 0 < elo < fit.tau2 < ehi
    pm = rma(y, v, method="PM")
    assert pm.tau2 == pytest.approx(8.297055377931367e-05, rel=1e-9)  # metafor 3.8.1
    assert pm.notes
    assert rma(y, v, method="PM", tau2_solver="exact").tau2 == pytest.approx(
        2.2796491468585076e-06, rel=1e-6
    )


# --------------------------------------------------------------------------- #
# API behaviour
# --------------------------------------------------------------------------- #


def test_predict_intercept_only_and_pi_variants() -> None:
    fit = rma(BCG_YI, BCG_VI, test="knha")
    p = predict(fit)
    half = p.pi_ub[0] - p.pred[0]
    from scipy import stats

    assert half == pytest.approx(
        stats.t.isf(0.025, 12) * math.sqrt(p.se[0] ** 2 + fit.tau2)
    )
    riley = predict(fit, pi="riley")
    assert riley.pi_df == 11
    assert riley.pi_ub[0] - riley.pred[0] == pytest.approx(
        stats.t.isf(0.025, 11) * math.sqrt(p.se[0] ** 2 + fit.tau2)
    )
    none = predict(fit, pi="none")
    assert none.pi_lb is None and none.pi_ub is None
    ee = predict(rma(BCG_YI, BCG_VI, method="FE"))
    assert ee.pi_lb is None
    assert summary_dict(rma(BCG_YI, BCG_VI, method="EE"))["pi_lb"] is None
    p90 = predict(fit, level=90)
    assert p90.ci_ub[0] - p90.ci_lb[0] < p.ci_ub[0] - p.ci_lb[0]


def test_predict_newmods() -> None:
    ablat = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
    fit = rma(BCG_YI, BCG_VI, mods=ablat)
    p = predict(fit, [10, 30, 50])
    X = np.column_stack([np.ones(3), [10, 30, 50]])
    assert p.pred == pytest.approx(X @ fit.beta)
    assert p.se == pytest.approx(np.sqrt(np.einsum("ij,jk,ik->i", X, fit.vb, X)))
    fitted = predict(fit)
    assert fitted.pred.shape == (13,)
    # metafor 3.8.1: predict(rma(yi, vi, mods = ~ ablat, test = "knha"), newmods = c(10, 30, 50))
    pk = predict(rma(BCG_YI, BCG_VI, mods=ablat, test="knha"), [10, 30, 50])
    metafor = {
        "pred": [-0.0395523149058634, -0.6215855334661602, -1.2036187520264570],
        "se": [0.2127026297361397, 0.1218764394432047, 0.1956465040612130],
        "ci_lb": [-0.5077076464675736, -0.8898337680454612, -1.6342338040889954],
        "pi_lb": [-0.8070529246656939, -1.2862996726771208, -1.9488147628684900],
        "pi_ub": [0.7279482948539671, 0.0431286057448005, -0.4584227411844239],
    }
    for name, want in metafor.items():
        assert_close(getattr(pk, name), want, f"predict knha {name}")
    assert math.isclose(fit.R2, 75.6244783614905, rel_tol=1e-6)
    two = rma(BCG_YI, BCG_VI, mods=np.column_stack([ablat, np.arange(13.0)]))
    assert predict(two, [20, 3]).pred.shape == (1,)
    with pytest.raises(ValueError, match="moderators"):
        predict(two, [1, 2, 3])
    with pytest.raises(ValueError, match="no moderators"):
        predict(rma(BCG_YI, BCG_VI), [1.0])


def test_aliases_sei_level_and_weights() -> None:
    a = rma(BCG_YI, BCG_VI, method="FE")
    b = rma(BCG_YI, sei=np.sqrt(BCG_VI), method="EE", level=0.95)
    assert a.method == b.method == "EE"
    assert a.beta == pytest.approx(b.beta, rel=1e-12)
    assert a.ci_lb == pytest.approx(b.ci_lb, rel=1e-12)
    h = rma(BCG_YI, BCG_VI, test="hksj")
    assert h.test == "knha" and h.dfs == 12
    w = rma(BCG_YI, BCG_VI).weights
    assert w.sum() == pytest.approx(100.0)
    tau2 = rma(BCG_YI, BCG_VI).tau2
    raw = 1 / (np.array(BCG_VI) + tau2)
    assert w == pytest.approx(100 * raw / raw.sum())


def test_k1_and_identical_effects() -> None:
    ee = rma([0.4], [0.04], method="EE")
    assert ee.estimate == 0.4 and ee.se[0] == pytest.approx(0.2)
    assert (ee.Q, ee.Q_df, ee.Q_p, ee.I2, ee.H2) == (0.0, 0, 1.0, 0.0, 1.0)
    for method in METHODS[1:]:
        fit = rma([0.4], [0.04], method=method)
        assert fit.tau2 == 0.0 and fit.se_tau2 is None
        assert any("k = 1" in n for n in fit.notes)
        assert predict(fit).pi_lb[0] == pytest.approx(fit.ci_lb[0])
    for method in METHODS:
        for test in ("z", "knha"):
            fit = rma([0.3] * 5, [0.1, 0.2, 0.05, 0.3, 0.1], method=method, test=test)
            assert fit.tau2 == 0.0
            assert fit.estimate == pytest.approx(0.3)
            assert fit.ci_lb[0] <= fit.estimate <= fit.ci_ub[0]
            if method != "EE":
                tau2_ci_qprofile(fit)


def test_no_intercept_and_ones_column_detection() -> None:
    x = np.arange(13.0)
    ones = rma(BCG_YI, BCG_VI, mods=np.column_stack([x, np.ones(13)]), intercept=False)
    usual = rma(BCG_YI, BCG_VI, mods=x)
    assert ones.int_incl and ones.names[0] == "intrcpt"
    assert ones.beta == pytest.approx(usual.beta, rel=1e-12)
    noint = rma(BCG_YI, BCG_VI, mods=x, intercept=False)
    assert not noint.int_incl and noint.R2 is None and noint.QM_df == (1, None)


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"yi": [], "vi": []}, "k = 0"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.0]}, "positive"),
        ({"yi": [0.1, 0.2], "vi": [0.1, -1.0]}, "positive"),
        ({"yi": [0.1, 0.2], "sei": [0.1, 0.0]}, "positive"),
        ({"yi": [0.1, 0.2, 0.3], "vi": [0.1, 0.2]}, "lengths must match"),
        ({"yi": [0.1, np.nan], "vi": [0.1, 0.2]}, "non-finite"),
        ({"yi": [0.1, 0.2], "vi": [0.1, np.inf]}, "non-finite"),
        (
            {"yi": [0.1, 0.2, 0.3], "vi": [0.1] * 3, "mods": [1, np.nan, 2]},
            "non-finite",
        ),
        (
            {"yi": [0.1, 0.2, 0.3], "vi": [0.1] * 3, "mods": [1, 2]},
            "lengths must match",
        ),
        ({"yi": [0.1], "vi": [0.1], "test": "knha"}, "Knapp-Hartung"),
        (
            {"yi": [0.1, 0.2], "vi": [0.1] * 2, "mods": [1, 2], "test": "knha"},
            "too few",
        ),
        (
            {"yi": [0.1, 0.2], "vi": [0.1] * 2, "mods": [1, 2]},
            "too few studies for REML",
        ),
        (
            {"yi": [0.1, 0.2], "vi": [0.1] * 2, "mods": [1, 2], "method": "DL"},
            "too few",
        ),
        (
            {
                "yi": [0.1, 0.2],
                "vi": [0.1] * 2,
                "mods": [[1, 2], [2, 3]],
                "method": "EE",
            },
            "too few",
        ),
        ({"yi": [0.1, 0.2, 0.3], "vi": [0.1] * 3, "mods": [1, 1, 1]}, "singular"),
        (
            {"yi": [0.1, 0.2, 0.3, 0.4], "vi": [0.1] * 4, "mods": [[1, 2]] * 4},
            "singular",
        ),
        ({"yi": [0.1, 0.2], "vi": [0.1] * 2, "method": "XYZ"}, "unknown method"),
        ({"yi": [0.1, 0.2], "vi": [0.1] * 2, "test": "t"}, "unknown test"),
        ({"yi": [0.1, 0.2]}, "vi"),
        ({"yi": [0.1, 0.2], "vi": [0.1] * 2, "sei": [0.1] * 2}, "not both"),
        ({"yi": [0.1, 0.2], "vi": [0.1] * 2, "level": 120}, "level"),
        ({"yi": [0.1, 0.2], "vi": [0.1] * 2, "tau2_solver": "fast"}, "tau2_solver"),
    ],
)
def test_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rma(**kwargs)


def test_ci_errors() -> None:
    with pytest.raises(ValueError, match="random-effects"):
        tau2_ci_qprofile(rma(BCG_YI, BCG_VI, method="EE"))
    with pytest.raises(ValueError, match="k > p"):
        tau2_ci_qprofile(rma([0.1], [0.1]))
    with pytest.raises(ValueError, match="pi must be"):
        predict(rma(BCG_YI, BCG_VI), pi="wide")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# properties
# --------------------------------------------------------------------------- #

_effects_st = st.integers(min_value=1, max_value=12).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-5, 5, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(0.01, 5, allow_nan=False), min_size=k, max_size=k),
    )
)
_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _tests_for(k: int) -> list[str]:
    return ["z", "knha"] if k >= 2 else ["z"]


@_settings
@given(
    data=_effects_st, method=st.sampled_from(METHODS), seed=st.integers(0, 2**32 - 1)
)
def test_property_order_invariance(data: Any, method: str, seed: int) -> None:
    y, v = map(np.array, data)
    perm = np.random.default_rng(seed).permutation(len(y))
    for test in _tests_for(len(y)):
        a = rma(y, v, method=method, test=test)
        b = rma(y[perm], v[perm], method=method, test=test)
        assert b.estimate == pytest.approx(a.estimate, rel=1e-7, abs=1e-9)
        assert b.tau2 == pytest.approx(a.tau2, rel=1e-6, abs=1e-9)
        assert b.se[0] == pytest.approx(a.se[0], rel=1e-6, abs=1e-9)


@_settings
@given(data=_effects_st, method=st.sampled_from(METHODS))
def test_property_tau2_nonnegative_and_ci_contains_estimate(
    data: Any, method: str
) -> None:
    y, v = map(np.array, data)
    for test in _tests_for(len(y)):
        fit = rma(y, v, method=method, test=test)
        assert fit.tau2 >= 0.0 and math.isfinite(fit.tau2)
        assert fit.ci_lb[0] <= fit.estimate <= fit.ci_ub[0]
        assert 0.0 <= fit.I2 <= 100.0
        p = predict(fit)
        if p.pi_lb is not None:
            assert p.pi_lb[0] <= p.ci_lb[0] + 1e-12 and p.pi_ub[0] >= p.ci_ub[0] - 1e-12
        if method != "EE" and fit.k > 1:
            # exact: metafor's uniroot(tol = 1.2e-4) can cross the bounds on tiny scales
            lo, hi = tau2_ci_qprofile(fit, solver="exact")
            assert 0.0 <= lo <= hi


@_settings
@given(
    data=_effects_st,
    method=st.sampled_from(METHODS),
    shift=st.floats(-10, 10, allow_nan=False),
)
def test_property_shift_moves_estimate_only(
    data: Any, method: str, shift: float
) -> None:
    y, v = map(np.array, data)
    a = rma(y, v, method=method)
    b = rma(y + shift, v, method=method)
    assert b.estimate == pytest.approx(a.estimate + shift, rel=1e-9, abs=1e-9)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-6, abs=1e-9)
    assert b.se[0] == pytest.approx(a.se[0], rel=1e-6, abs=1e-9)


@_settings
@given(
    value=st.floats(-5, 5, allow_nan=False),
    v=st.lists(st.floats(0.01, 5, allow_nan=False), min_size=1, max_size=8),
    method=st.sampled_from(METHODS),
)
def test_property_k1_and_identical_effects_do_not_crash(
    value: float, v: list[float], method: str
) -> None:
    y = np.full(len(v), value)
    for test in _tests_for(len(v)):
        fit = rma(y, v, method=method, test=test)
        assert fit.tau2 == 0.0
        assert fit.estimate == pytest.approx(value, abs=1e-12)
        summary_dict(fit)
