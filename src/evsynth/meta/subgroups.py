"""Subgroup analysis with the two usual tests for subgroup differences.

Each subgroup with at least ``min_k`` studies gets its own random-effects model
(:func:`evsynth.meta.rma.rma`, with the analysis's tau^2 estimator and test);
smaller subgroups are listed as skipped. The difference between subgroups is then
tested two ways (references: ``benchmarks/metafor_subgroup_refs.R`` and
``../shared/validation/metafor/make_refs.R``, ``subgroups()``):

* **separate tau^2** (RevMan, R's ``meta``; Borenstein et al. 2009, ch. 19,
  "separate estimates of tau^2"): a fixed-effect Q across the subgroup
  estimates ``m_g`` with their usual (z-based) standard errors ``s_g``, i.e.
  metafor's ``rma(m, sei = s, method = "EE")$QE`` with each ``m_g, s_g`` from
  ``rma(..., test = "z")``::

      Q_between = sum_g (m_g - mbar)^2 / s_g^2,
      mbar = sum_g m_g / s_g^2 / sum_g 1 / s_g^2,   df = G - 1,  chi^2 p

  The z-based SEs are used whatever the analysis's test: a Knapp-Hartung SE
  is ``sqrt(s2w)`` times the z-based one, and shrinks it when a subgroup's Q is
  below ``k - 1``, which would inflate a chi^2 test built on it.

* **common tau^2** (mixed-effects model; Viechtbauer 2010, sec. 3.3): one model
  with a dummy per subgroup, ``rma(yi, vi, mods = ~ factor(g), test = test)``,
  and its omnibus test of the dummies: under ``test="z"`` the Wald chi^2
  ``QM = b' V_b^-1 b`` on ``G - 1`` df; under Knapp-Hartung metafor's F test,
  ``F = QM / (G - 1)`` on ``(G - 1, k - G)`` df; with the pooled residual tau^2.

Both use only the studies of the subgroups that were fitted. As metafor does,
a subgroup of one study is fitted with the z test (with ``min_k=1``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from evsynth.meta.rma import predict, rma, summary_dict

__all__ = ["describe_tests", "group_label", "subgroup_analysis"]


def group_label(value: Any) -> str:
    """Return the label R's ``as.character`` gives a subgroup value.

    Whole numbers lose their decimal point (``4.0`` -> ``"4"``), other numbers
    get 15 significant digits, anything else is ``str(value)``.
    """
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        if math.isfinite(x) and x.is_integer():
            return str(int(x))
        return format(x, ".15g")
    return str(value)


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if value is None:
        return True
    result = pd.isna(value)
    return bool(result) if isinstance(result, bool | np.bool_) else False


def _sort_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def subgroup_analysis(
    yi: ArrayLike,
    vi: ArrayLike,
    groups: ArrayLike | Sequence[Any],
    *,
    method: str = "REML",
    test: str = "z",
    min_k: int = 2,
    level: float = 95.0,
) -> dict[str, Any]:
    """Fit one model per subgroup and test for subgroup differences.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances.
    groups : array_like
        Subgroup of each study; labels are compared as R's ``as.character``
        would (:func:`group_label`).
    method : str
        tau^2 estimator for the subgroup models and the common-tau^2 model.
    test : {"z", "knha"}
        Inference for the subgroup models and the common-tau^2 model.
    min_k : int
        Subgroups with fewer studies are not fitted (listed in ``skipped``).
    level : float
        Confidence level in percent.

    Returns
    -------
    dict
        ``groups``: ``{label: summary}`` in label order (numbers numerically),
        each the keys of :func:`evsynth.meta.rma.summary_dict` (``k, estimate,
        se, ci_lb, ci_ub, pval, zval, tau2, I2, H2, Q, Q_p, pi_lb, pi_ub``)
        under ``test``;
        ``between_separate_tau2``: ``{"Q", "df", "p"}`` (chi^2 on ``df``) with
        ``"test": "chi2"``, ``"inference": "z"`` and ``"subgroups"``: ``{label:
        {"estimate", "se"}}``, the z-based inputs of the test;
        ``between_common_tau2``: ``{"QM", "df", "p", "tau2"}``, ``"inference"``
        (``test``) and ``"test"``:
        ``"chi2"`` under ``test="z"`` (``QM`` is the Wald chi^2 on ``df``), or
        ``"F"`` under ``test="knha"``, where ``QM`` is metafor's F statistic,
        repeated as ``"F"`` with its degrees of freedom ``"df1"`` (= ``df``)
        and ``"df2"`` (``k - G``), and ``p`` is from the F distribution;
        ``test``: the test of the subgroup models (``"z"`` or ``"knha"``);
        ``skipped``: labels of subgroups with fewer than ``min_k`` studies.

    Raises
    ------
    ValueError
        For mismatched lengths, missing subgroup labels, ``min_k < 1``, or
        fewer than 2 subgroups with ``min_k`` or more studies.
    """
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    raw = list(np.asarray(groups, dtype=object).ravel())
    if not (len(y) == len(v) == len(raw)):
        raise ValueError(
            "yi, vi and groups must have the same length, got "
            f"{len(y)}, {len(v)} and {len(raw)}"
        )
    if min_k < 1:
        raise ValueError(f"min_k must be at least 1, got {min_k}")
    if any(_missing(g) for g in raw):
        raise ValueError("groups has missing values; label them or drop those rows")
    labels = np.array([group_label(g) for g in raw], dtype=object)
    order = sorted(set(labels), key=_sort_key)

    fitted: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    z_based: dict[str, dict[str, float]] = {}
    for lab in order:
        sel = labels == lab
        if int(sel.sum()) < min_k:
            skipped.append(lab)
            continue
        # metafor: 'Setting argument test="z" since k=1.'
        group_test = test if int(sel.sum()) > 1 else "z"
        fit = rma(y[sel], v[sel], method=method, test=group_test, level=level)
        fitted[lab] = summary_dict(fit, predict(fit))
        fit_z = fit if fit.test == "z" else rma(y[sel], v[sel], method=method)
        z_based[lab] = {"estimate": float(fit_z.beta[0]), "se": float(fit_z.se[0])}
    if len(fitted) < 2:
        raise ValueError(
            f"a subgroup analysis needs at least 2 subgroups with {min_k} or more "
            f"studies; got {len(fitted)} ({', '.join(order)})"
        )
    est = np.array([g["estimate"] for g in z_based.values()])
    se = np.array([g["se"] for g in z_based.values()])
    if any(s <= 0 or not math.isfinite(s) for s in se):
        raise ValueError("a subgroup estimate has a zero standard error")

    between = rma(est, sei=se, method="EE")
    keep = np.isin(labels, list(fitted))
    kept = list(fitted)
    dummies = np.column_stack([(labels[keep] == lab).astype(float) for lab in kept[1:]])
    common = rma(y[keep], v[keep], mods=dummies, method=method, test=test, level=level)
    qm_df = common.QM_df
    common_test: dict[str, Any] = {
        "QM": float(common.QM) if common.QM is not None else math.nan,
        "df": int(qm_df[0]) if qm_df is not None else len(kept) - 1,
        "p": float(common.QM_p) if common.QM_p is not None else math.nan,
        "tau2": float(common.tau2),
        "test": "chi2",
        "inference": common.test,
    }
    if qm_df is not None and qm_df[1] is not None:
        common_test.update(
            test="F", F=common_test["QM"], df1=common_test["df"], df2=int(qm_df[1])
        )
    return {
        "groups": fitted,
        "between_separate_tau2": {
            "Q": float(between.Q),
            "df": len(fitted) - 1,
            "p": float(between.Q_p),
            "test": "chi2",
            "inference": "z",
            "subgroups": z_based,
        },
        "between_common_tau2": common_test,
        "test": common.test,
        "skipped": skipped,
    }


def _p_text(p: float | None) -> str:
    """``p = 0.31``, ``p = 0.047`` (three decimals below 0.1) or ``p < 0.001``.

    As the report writes p values (``evsynth.report.formatting``).
    """
    if p is None or not math.isfinite(p):
        return "p n/a"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def describe_tests(result: dict[str, Any]) -> list[str]:
    """Name and state the tests for subgroup differences of a result.

    Parameters
    ----------
    result : dict
        A :func:`subgroup_analysis` result (or its JSON).

    Returns
    -------
    list of str
        One phrase per test present, saying which test it is, e.g.
        ``"separate τ², z-based: Q = 2.33, df = 2, p = 0.31"`` and
        ``"common τ², Knapp–Hartung: F(2, 10) = 1.50, p = 0.27"`` (or
        ``"common τ², z: QM = 1.27, df = 2, p = 0.53"``); p values as the
        report writes them.
    """
    out = []
    separate = result.get("between_separate_tau2") or {}
    if _number(separate.get("Q")) is not None:
        out.append(
            f"separate τ², z-based: Q = {float(separate['Q']):.2f}, "
            f"df = {separate['df']}, {_p_text(_number(separate.get('p')))}"
        )
    common = result.get("between_common_tau2") or {}
    if _number(common.get("QM")) is not None:
        p = _p_text(_number(common.get("p")))
        if common.get("test") == "F" or _number(common.get("df2")) is not None:
            df1 = common.get("df1", common.get("df"))
            out.append(
                f"common τ², Knapp–Hartung: F({df1}, {common['df2']}) = "
                f"{float(common['QM']):.2f}, {p}"
            )
        else:
            out.append(
                f"common τ², z: QM = {float(common['QM']):.2f}, "
                f"df = {common['df']}, {p}"
            )
    return out
